#!/usr/bin/env bash
# test_faults.sh BUILD_DIR — xturnd under faults, on a namespace topology, as root.
#
# kill -9 under load (a client relaying through a channel and a flood of unauthenticated Allocates):
# non-TURN traffic (UDP to a kernel socket on the relay, ICMP, v4 and v6) still reaches the relay
# host; a new xturnd replaces the program the killed one left attached, and relays (a program that
# is not xturn's is never replaced: xturnd refuses to start). The interface goes down and up while
# xturnd runs: it must survive, and relay again once the link is back (IPv6 addresses, which Linux
# removes from a downed link, are put back as an operator's network configuration would). A SIGHUP
# with a file that does not validate, or with no file at all, keeps the running configuration and
# logs the error. Prints "N passed, M failed" last.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
# this test's namespaces carry its own prefix (lib.sh's xt_init names them xtD<pid>)
XT_PREFIX=xtG
xt_init "${1:?usage: test_faults.sh BUILD_DIR}"

CFG=$XT_TMP/xturnd.yaml
CREDS=(--user test --password test-password)
SPOOF_NET=198.19.0.0/16

start_echo_peer || check "echo peer started" false
start_relay_host_echo

echo_ok() { # LABEL [tc options]: a fresh client, channel echo 20/20
	local label=$1 out
	shift
	out=$(tc "${CREDS[@]}" --peer "$PEER4:$ECHO_PORT" --count 20 --recv-timeout 1 "$@" echo)
	check "$label: channel echo 20/20" eq "$(kv received "$out")" 20
}

xt_config "$CFG"
check_start "xturnd starts" "$CFG"
in_ns "$P-relay" ip route add "$SPOOF_NET" via "$CLIENT4" dev xt-relay
relay_mac=$(in_ns "$P-relay" ip -o link show dev xt-relay | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
echo_ok "before the faults"

# ---- kill -9 under load ----
in_ns "$P-client2" timeout 60 python3 "$TURNCLIENT" --server "$RELAY4" "${CREDS[@]}" \
	--peer "$PEER4:$ECHO_PORT" --count 400 --recv-timeout 0.2 echo >"$XT_TMP/load.out" 2>&1 &
load=$!
XT_BG_PIDS+=("$load")
bg "$P-client" timeout 60 "$XT_BUILD/xturn-flood" -i xt-client --dst-mac "$relay_mac" \
	--dst "$RELAY4:3478" --src-net "$SPOOF_NET" --kind allocate --count 200000 --rate 20000 \
	>"$XT_TMP/flood.out" 2>&1
flood=$BG_PID
sleep 1.5
pid=$XT_PID
kill -9 "$pid"
wait "$pid" 2>/dev/null
XT_PID=
check "kill -9 under load: xturnd is gone" bash -c "! kill -0 $pid 2>/dev/null"
if xdp_attached; then
	xt_log "after kill -9 the XDP program stays attached to xt-relay (netlink attachment)"
else
	xt_log "after kill -9 no XDP program is attached to xt-relay"
fi
non_turn_ok "after kill -9 under load"
kill "$flood" "$load" 2>/dev/null
wait "$flood" "$load" 2>/dev/null
xt_log "load client: $(tr '\n' ' ' <"$XT_TMP/load.out" | cut -c1-200)"

XT_LOG=$XT_TMP/restart.log
xt_start "$CFG" "$XT_LOG" >"$XT_TMP/restart.out" 2>&1
started=$?
check "restart after kill -9: xturnd attaches again" \
	bash -c "grep -iE 'error|attached' '$XT_TMP/restart.out' '$XT_LOG' | head -n 3; exit $started"
if ((started != 0)); then
	xt_log "detaching the orphaned program by hand to go on"
	in_ns "$P-relay" ip link set dev xt-relay xdp off
	check_start "restart after detaching by hand" "$CFG"
fi
check "restarted: XDP program attached" xdp_attached
echo_ok "restarted after kill -9"
non_turn_ok "restarted"

# ---- the interface goes down and up ----
pid=$XT_PID
in_ns "$P-relay" ip link set dev xt-relay down
sleep 2
check "link down 2 s: xturnd still running" kill -0 "$pid"
check "link down: /healthz answers" in_ns "$P-relay" curl -sf --max-time 2 "http://$XT_METRICS/healthz"
in_ns "$P-relay" ip link set dev xt-relay up
# Linux drops IPv6 addresses from a downed link (keep_addr_on_down=0) and the routes that went
# through it; the network configuration puts them back.
in_ns "$P-relay" ip -6 addr replace "$RELAY6/64" dev xt-relay nodad
in_ns "$P-relay" ip route replace "$SPOOF_NET" via "$CLIENT4" dev xt-relay
sleep 1
check "link up: xturnd still running" kill -0 "$pid"
check "link up: XDP program still attached" xdp_attached
ok=0
for ((i = 0; i < 10; i++)); do # bounded: the link and the neighbours settle within seconds
	out=$(tc "${CREDS[@]}" --peer "$PEER4:$ECHO_PORT" --count 20 --recv-timeout 0.5 --timeout 1 echo)
	[[ $(kv received "$out") == 20 ]] && { ok=1; break; }
	sleep 0.5
done
xt_log "link up: relaying again after $i retries"
check "link up: a new client relays again (channel echo 20/20)" eq "$ok" 1
echo_ok "link up, IPv6 relay" --family 6 --peer "[$PEER6]:$ECHO_PORT"
non_turn_ok "link down and up"

# ---- SIGHUP with a file that does not validate, then with no file ----
errors=$(metric 'xturn_config_reloads_total{result="error"}')
cp "$CFG" "$XT_TMP/good.yaml"
sed -i 's/^relay_ports:.*/relay_ports: {min: 49999, max: 49152}/' "$CFG"
sighup error
check "invalid file on SIGHUP: reload error counted" \
	eq "$(metric 'xturn_config_reloads_total{result="error"}')" $((errors + 1))
check "invalid file on SIGHUP: the error is logged with the key" grep -q "relay_ports" "$XT_LOG"
rm -f "$CFG"
sighup error
check "missing file on SIGHUP: reload error counted" \
	eq "$(metric 'xturn_config_reloads_total{result="error"}')" $((errors + 2))
check "after both: xturnd still running" kill -0 "$pid"
echo_ok "after both reload errors, the running configuration serves"
cp "$XT_TMP/good.yaml" "$CFG"
xt_stop TERM
check "final SIGTERM: exit status 0" eq "$XT_RC" 0

# ---- an orphan of ours is replaced, somebody else's program never is ----
topo_xdp_pass "$P-relay" xt-relay
xt_start "$CFG" "$XT_TMP/foreign.log" >"$XT_TMP/foreign.out" 2>&1
rc=$?
check "a foreign XDP program on the interface: xturnd refuses to start" eq "$rc" 1
check "a foreign XDP program: the error says so" grep -q "already has an XDP program" "$XT_TMP/foreign.log"
check "a foreign XDP program: still attached" xdp_attached
in_ns "$P-relay" ip link set dev xt-relay xdp off
xt_finish
