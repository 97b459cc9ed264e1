#!/usr/bin/env bash
# test_peer_policy.sh BUILD_DIR — peer-policy bypass attempts against a running xturnd, as root.
#
# The configuration allows the test segment (198.18.0.0/24, fd98:18::/64), which holds the relay's
# own addresses, as an operator who opens an internal range would. Kernel UDP sentinels listen on the
# relay host where a bypass would land: loopback port 80 (127.0.0.1, ::1), 169.254.169.254 port 80
# (a metadata address put on the relay's lo), and the relay's own addresses on port 22. For every
# peer of the issue's list — 127.0.0.1, 0.0.0.0, ::, ::1, ::ffff:127.0.0.1, ::127.0.0.1,
# 64:ff9b::7f00:1, 169.254.169.254, the relay's own addresses on the metrics port 9641, 22 and 3478 —
# CreatePermission and ChannelBind are answered 403; Send indications to them (also with a hairpin
# permission that covers the relay's IP) are dropped and counted; and no sentinel receives anything.
# Prints "N passed, M failed" last.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
# this test's namespaces carry its own prefix (lib.sh's xt_init names them xtD<pid>)
XT_PREFIX=xtG
xt_init "${1:?usage: test_peer_policy.sh BUILD_DIR}"

CFG=$XT_TMP/xturnd.yaml
CREDS=(--user test --password test-password)
PEERS=(127.0.0.1:80 0.0.0.0:80 "[::]:80" "[::1]:80" "[::ffff:127.0.0.1]:80" "[::127.0.0.1]:80"
	"[64:ff9b::7f00:1]:80" 169.254.169.254:80 "$RELAY4:9641" "$RELAY4:22" "$RELAY4:3478"
	"[$RELAY6]:9641" "[$RELAY6]:22" "[$RELAY6]:3478")

xt_config "$CFG"
check_start "xturnd starts (allow list covers the relay's own subnet)" "$CFG"
in_ns "$P-relay" ip addr add 169.254.169.254/32 dev lo
sentinel() { # NAME PORT ADDR...
	local name=$1 port=$2 args=() a
	shift 2
	for a in "$@"; do args+=(--bind "$a"); done
	bg "$P-relay" python3 "$UDP_ECHO" "${args[@]}" --port "$port" --max-seconds 120 \
		>"$XT_TMP/sentinel-$name.log" 2>&1
	SENTINELS+=("$name:$BG_PID")
	wait_for_line "$XT_TMP/sentinel-$name.log" listening 50 || check "sentinel $name started" false
}
SENTINELS=()
sentinel loopback 80 127.0.0.1 ::1
sentinel metadata 80 169.254.169.254
sentinel ssh 22 "$RELAY4" "$RELAY6"

# ---- CreatePermission and ChannelBind: 403 ----
for peer in "${PEERS[@]}"; do
	out=$(tc "${CREDS[@]}" --peer "$peer" permission)
	check "CreatePermission $peer: 403" eq "$(kv code "$out")" 403
	out=$(tc "${CREDS[@]}" --peer "$peer" --mode channel --channel 0x4001 permission)
	check "ChannelBind $peer: 403" eq "$(kv code "$out")" 403
done

# ---- Send indications: dropped and counted, never delivered ----
cat >"$XT_TMP/send.py" <<'EOF'
import sys, time
sys.path.insert(0, sys.argv[1])
from turnclient import TurnClient, parse_hostport
server, peers = sys.argv[2], sys.argv[3:]
v4 = TurnClient((server, 3478), "test", "test-password")
v6 = TurnClient((server, 3478), "test", "test-password")
v4.allocate(family=4)
v6.allocate(family=6)
# a second client whose relayed addresses C may talk to (hairpin): that opens permissions
# for the relay's own IPs, the ports that are not allocations must stay closed all the same
other = TurnClient((server, 3478), "other", "other-password")
r = other.allocate(additional=6)
v4.create_permission(r[0])
v6.create_permission(r[1])
sent = 0
for p in peers:
    addr = parse_hostport(p)
    c = v6 if ":" in addr[0] else v4
    for i in range(5):
        c.send_indication(addr, b"bypass-%d" % i)
        sent += 1
time.sleep(0.5)
print(f"sent={sent}")
EOF
# control: the ssh sentinel does hear what reaches it (one plain datagram, not through TURN)
out=$(tc --peer "$RELAY4:22" --count 1 --recv-timeout 1 udp)
check "control: a plain datagram to $RELAY4:22 reaches the sentinel" eq "$(kv received "$out")" 1
m0=$(metrics)
out=$(in_ns "$P-client" timeout 60 python3 "$XT_TMP/send.py" "$XT_TESTS" "$RELAY4" "${PEERS[@]}" 2>&1)
[[ $out == *sent=* ]] || printf "# %s\n" "$out"
m1=$(metrics)
sent=$(kv sent "$out")
check "Send indications sent (5 to each peer)" eq "$sent" $((5 * ${#PEERS[@]}))
dperm=$(($(metric 'xturn_drops_total{stage="turn",reason="no_permission"}' "$m1") - $(metric 'xturn_drops_total{stage="turn",reason="no_permission"}' "$m0")))
dself=$(($(metric 'xturn_drops_total{stage="turn",reason="self"}' "$m1") - $(metric 'xturn_drops_total{stage="turn",reason="self"}' "$m0")))
xt_log "Send indications: $sent sent; dropped as no_permission $dperm, as self $dself"
check "every Send indication dropped and counted" eq "$((dperm + dself))" "${sent:-x}"
check "the relay's own IPs (hairpin permission): counted as self (30)" eq "$dself" 30
tp=$(($(metric 'xturn_data_relayed_packets_total{path="userspace",direction="to_peer"}' "$m1") - $(metric 'xturn_data_relayed_packets_total{path="userspace",direction="to_peer"}' "$m0")))
check "nothing relayed to a peer" eq "$tp" 0

# ---- the sentinels heard nothing ----
for s in "${SENTINELS[@]}"; do
	kill -TERM "${s#*:}" 2>/dev/null
done
sleep 0.3
for s in "${SENTINELS[@]}"; do
	name=${s%%:*}
	want=0
	[[ $name == ssh ]] && want=1 # the control datagram
	check "sentinel $name received nothing through the relay" \
		eq "$(kv received "$(tail -n 1 "$XT_TMP/sentinel-$name.log")")" "$want"

done
check "xturnd still healthy" in_ns "$P-relay" curl -sf --max-time 2 "http://$XT_METRICS/healthz"
xt_finish
