#!/usr/bin/env bash
# test_relay.sh BUILD_DIR — xturnd relaying on a namespace topology (tools/topology.sh), as root.
#
# STUN Binding v4/v6 (coturn's turnutils_stunclient and turnclient.py); Allocate v4, v6 and
# dual-stack; ChannelBind + data both ways against a kernel UDP echo peer (kernel sockets drop bad
# checksums) with the fast path on (the in-kernel counters carry every byte, user space none) and
# off (user space carries it); Send/Data indications; hairpin between two clients; wrong password;
# peers denied by policy; turnutils_uclient against turnutils_peer with < 1 % loss; non-TURN UDP
# and ICMP to the relay host while xturnd runs. Prints "N passed, M failed" last.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
xt_init "${1:?usage: test_relay.sh BUILD_DIR}"

CREDS=(--user test --password test-password)
UCLIENT_PORT=3480

start_echo_peer || check "echo peer started" false
start_relay_host_echo

xt_config "$XT_TMP/fast.yaml" fast_path=true
# Forwarding off on the relay's NIC: the fast path cannot ask the FIB, and xturnd says so.
in_ns "$P-relay" sysctl -qw net.ipv4.conf.all.forwarding=0 net.ipv6.conf.all.forwarding=0
check_start "xturnd starts (fast path on, forwarding off)" "$XT_TMP/fast.yaml"
check "forwarding off: xturnd warns that the FIB cannot answer" \
	grep -q "forwarding is off on xt-relay" "$XT_LOG"
xt_stop
in_ns "$P-relay" sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1
check_start "xturnd starts (fast path on)" "$XT_TMP/fast.yaml"
check "forwarding on: no warning" bash -c "! grep -q 'forwarding is off' '$XT_LOG' || \
	[[ \$(grep -c 'forwarding is off' '$XT_LOG') == 1 ]]"
# The peer is not in the relay's neighbour table yet: the FIB knows the route but not the MAC, so
# the first datagrams go to user space, which resolves the neighbour and holds them meanwhile.
out=$(tc "${CREDS[@]}" --peer "$PEER4:$ECHO_PORT" --count 5 --recv-timeout 0.3 echo)
check "fast path, peer not yet in the neighbour table: all echoed" eq "$(kv received "$out")" 5
out=$(tc "${CREDS[@]}" --server "$RELAY6" --peer "[$PEER6]:$ECHO_PORT" --count 5 --recv-timeout 0.3 echo)
check "fast path v6, neighbours not yet known: all echoed" eq "$(kv received "$out")" 5
check "fast path: unresolved next hops went to user space (user_no_neigh counted)" \
	ge "$(metric 'xturn_xdp_packets_total{counter="user_no_neigh"}')" 1
# From here on every neighbour is known: channel data must stay in the kernel.

# ---- STUN Binding ----
out=$(in_ns "$P-client" timeout 5 turnutils_stunclient "$RELAY4" 2>&1)
check "stunclient v4: reflexive address is the client's" contains "$out" "UDP reflexive addr: $CLIENT4:"
out=$(in_ns "$P-client" timeout 5 turnutils_stunclient "$RELAY6" 2>&1)
check "stunclient v6: reflexive address is the client's" contains "$out" "UDP reflexive addr: fd98:18::10:"
out=$(tc --server "$RELAY4" binding)
check "binding v4 (turnclient)" contains "$(kv mapped "$out")" "^$CLIENT4:[0-9]"
out=$(tc --server "$RELAY6" binding)
check "binding v6 (turnclient)" contains "$(kv mapped "$out")" "^\[fd98:18::10\]:[0-9]"

# ---- Allocate ----
in_range() { [[ $1 =~ :([0-9]+)$ ]] && ((BASH_REMATCH[1] >= 49152 && BASH_REMATCH[1] <= 49999)) ||
	{ echo "$1: port outside 49152-49999"; return 1; }; }
out=$(tc "${CREDS[@]}" --delete allocate)
check "allocate v4: one relayed address on the relay" contains "$(kv relayed "$out")" "^$RELAY4:"
check "allocate v4: relayed port in the configured range" in_range "$(kv relayed "$out")"
check "allocate v4: lifetime 600, response integrity verified" \
	eq "$(kv lifetime "$out") $(kv integrity_ok "$out")" "600 1"
check "allocate v4: refresh, then delete with lifetime 0" \
	eq "$(kv refresh_lifetime "$out") $(kv delete_lifetime "$out")" "600 0"
out=$(tc "${CREDS[@]}" --family 6 allocate)
check "allocate v6 (REQUESTED-ADDRESS-FAMILY)" \
	eq "$(kv relayed_count "$out") $(kv relayed "$out" | cut -d] -f1)" "1 [fd98:18::1"
out=$(tc "${CREDS[@]}" --additional 6 allocate)
check "allocate dual-stack (ADDITIONAL-ADDRESS-FAMILY): two relayed addresses" \
	eq "$(kv relayed_count "$out")" 2
check "dual-stack: one IPv4 and one IPv6 relayed address" \
	eq "$(grep -o 'family=[46]' <<<"$out" | sort | tr '\n' ' ')" "family=4 family=6 "

# ---- channel data, fast path on ----
# echo_case NAME PATH COUNT TURNCLIENT-ARGS...: COUNT datagrams data both ways through the echo peer; the bytes
# the client sent and got back must show up exactly on PATH (ebpf|userspace) and not on the other.
echo_case() {
	local name=$1 path=$2 count=$3 other before after out sent got
	shift 3
	[[ $path == ebpf ]] && other=userspace || other=ebpf
	before=$(metrics)
	out=$(tc "${CREDS[@]}" --count "$count" "$@" echo)
	after=$(metrics)
	sent=$(kv bytes_sent "$out")
	got=$(kv bytes_received "$out")
	check "$name: all $count datagrams echoed intact" \
		eq "sent=$(kv sent "$out") received=$(kv received "$out") mismatched=$(kv mismatched "$out")" \
		"sent=$count received=$count mismatched=0"
	check "$name: $path carried the bytes to the peer" \
		eq $(($(relayed "$path" to_peer "$after") - $(relayed "$path" to_peer "$before"))) "${sent:-x}"
	check "$name: $path carried the bytes back to the client" \
		eq $(($(relayed "$path" to_client "$after") - $(relayed "$path" to_client "$before"))) "${got:-x}"
	check "$name: nothing relayed on $other" \
		eq $(($(relayed "$other" to_peer "$after") + $(relayed "$other" to_client "$after") -
			$(relayed "$other" to_peer "$before") - $(relayed "$other" to_client "$before"))) 0
}
echo_case "channel v4, fast path" ebpf 200 --peer "$PEER4:$ECHO_PORT" --size 100
echo_case "channel v6 client and peer, fast path" ebpf 100 --server "$RELAY6" \
	--peer "[$PEER6]:$ECHO_PORT" --size 500 --channel 0x4FFF
echo_case "channel v4 client to v6 peer, fast path" ebpf 50 --peer "[$PEER6]:$ECHO_PORT" \
	--size 1200 --channel 0x4000
check "fast path: channel entries were installed in the XDP maps" \
	ge "$(metric 'xturn_fastpath_events_total{event="installed"}')" 3
if xt_has_legacy_channels; then
	# allocations.legacy_channels: RFC 5766 channel numbers 0x5000-0x7FFF are accepted too.
	before=$(metrics)
	out=$(tc "${CREDS[@]}" --peer "$PEER4:$ECHO_PORT" --count 20 --channel 0x7FFF echo)
	after=$(metrics)
	check "legacy channel 0x7FFF: all 20 datagrams echoed intact" \
		eq "$(kv received "$out") $(kv mismatched "$out")" "20 0"
	check "legacy channel 0x7FFF: relayed in the kernel" \
		eq $(($(relayed ebpf to_peer "$after") - $(relayed ebpf to_peer "$before"))) 2000
fi

# ---- Send / Data indications (always user space) ----
echo_case "indications v4" userspace 100 --mode indication --peer "$PEER4:$ECHO_PORT"
echo_case "indications v6" userspace 50 --mode indication --server "$RELAY6" \
	--peer "[$PEER6]:$ECHO_PORT" --size 300

# ---- hairpin: two clients, each the other's peer through the relay addresses ----
for mode in channel indication; do
	out=$(tc "${CREDS[@]}" --mode "$mode" --count 30 --netns2 "/var/run/netns/$P-client2" hairpin)
	l12=$(grep direction=1to2 <<<"$out")
	l21=$(grep direction=2to1 <<<"$out")
	check "hairpin ($mode): client 1 -> client 2" \
		eq "$(kv received "$l12") $(kv mismatched "$l12")" "30 0"
	check "hairpin ($mode): client 2 -> client 1" \
		eq "$(kv received "$l21") $(kv mismatched "$l21")" "30 0"
done

# ---- credentials and peer policy ----
allocs=$(metric xturn_allocations_active)
out=$(tc --user test --password wrong-password auth)
check "wrong password: 401, then 401 again" eq "$(kv codes "$out")" "401,401"
check "wrong password: no allocation made" eq "$(metric xturn_allocations_active)" "$allocs"
out=$(tc --user nobody --password x auth)
check "unknown user: 401, then 401 again" eq "$(kv codes "$out")" "401,401"
for peer in 127.0.0.1 "[::1]"; do
	out=$(tc "${CREDS[@]}" --mode indication --peer "$peer:9" permission)
	check "CreatePermission to $peer (default deny list): 403" eq "$(kv code "$out")" 403
done
out=$(tc "${CREDS[@]}" --mode channel --peer "127.0.0.1:9" permission)
check "ChannelBind to 127.0.0.1: 403" eq "$(kv code "$out")" 403
out=$(tc "${CREDS[@]}" --mode indication --peer "[$PEER6]:9" permission)
check "CreatePermission to $PEER6 (allowed by peers.allow): success" eq "$(kv code "$out")" 0

# ---- coturn's client against coturn's peer ----
bg "$P-peer" timeout 120 turnutils_peer -L "$PEER4" -L "$PEER6" -p "$UCLIENT_PORT" \
	>"$XT_TMP/turnutils_peer.log" 2>&1
sleep 0.3
# turnutils_uclient picks channels in 0x4000-0x7FFF (RFC 5766); RFC 8656 allows 0x4000-0x4FFF.
# Without allocations.legacy_channels its ChannelBinds fail, so it relays with Send indications.
if grep -q legacy_channels "$XT_TMP/fast.yaml"; then
	uflags=() how="channels" upath=ebpf
else
	uflags=(-s) how="Send indications (no legacy_channels option yet)" upath=userspace
fi
before=$(metrics)
in_ns "$P-client" timeout 60 turnutils_uclient "${uflags[@]}" -n 100 -m 4 -l 120 -u test \
	-w test-password -e "$PEER4" -r "$UCLIENT_PORT" "$RELAY4" >"$XT_TMP/uclient.log" 2>&1
rc=$?
line=$(grep -m1 "Total lost packets" "$XT_TMP/uclient.log")
xt_log "uclient with $how: ${line#*: : }"
check "turnutils_uclient ($how) exits 0" eq "$rc" 0
loss=$(sed -nE 's/.*Total lost packets [0-9]+ \(([0-9.]+)%\).*/\1/p' <<<"$line")
check "turnutils_uclient: loss < 1 % (got ${loss:-none}%)" \
	awk -v l="${loss:-100}" 'BEGIN { exit !(l < 1) }'
sends=$(sed -nE 's/.*tot_send_msgs=([0-9]+), tot_recv_msgs=([0-9]+)$/\1 \2/p' "$XT_TMP/uclient.log" | tail -n1)
check "turnutils_uclient: 400 messages sent and received" eq "$sends" "400 400"
after=$(metrics)
# Its channel numbers are random: those above 0x4FFF are relayed in user space (see below).
for dir in to_peer to_client; do
	k=$(($(relayed ebpf $dir "$after") - $(relayed ebpf $dir "$before")))
	u=$(($(relayed userspace $dir "$after") - $(relayed userspace $dir "$before")))
	xt_log "uclient $dir: $k bytes in the kernel, $u in user space"
	check "turnutils_uclient: its 400 x 120 bytes relayed $dir" eq $((k + u)) 48000
done

# ---- the relay host's kernel still gets everything that is not relay UDP ----
for addr in "$RELAY4" "[$RELAY6]"; do
	out=$(tc --peer "$addr:$RELAY_ECHO_PORT" --count 5 --recv-timeout 1 udp)
	check "non-TURN UDP to $addr:$RELAY_ECHO_PORT reaches the relay host" eq "$(kv received "$out")" 5
done
check "ICMP echo to $RELAY4" in_ns "$P-client" ping -c 3 -i 0.2 -W 1 "$RELAY4"
check "ICMPv6 echo to $RELAY6" in_ns "$P-client" ping -6 -c 3 -i 0.2 -W 1 "$RELAY6"
check "xturnd still running" kill -0 "$XT_PID"
xt_stop TERM
check "xturnd exits 0 on SIGTERM (fast path on)" eq "$XT_RC" 0

# ---- fast path off: user space carries the channel data ----
xt_config "$XT_TMP/slow.yaml" fast_path=false
check_start "xturnd starts (fast path off)" "$XT_TMP/slow.yaml"
echo_case "channel v4, fast path off" userspace 200 --peer "$PEER4:$ECHO_PORT" --size 100
echo_case "channel v6, fast path off" userspace 50 --server "$RELAY6" \
	--peer "[$PEER6]:$ECHO_PORT" --size 1000
check "fast path off: nothing installed in the XDP maps" \
	eq "$(metric 'xturn_fastpath_events_total{event="installed"}')" 0
xt_stop TERM
check "xturnd exits 0 on SIGTERM (fast path off)" eq "$XT_RC" 0

# ---- a peer range that is not allowed; RFC 8656 channel numbers only ----
xt_config "$XT_TMP/v4only.yaml" allow='[198.18.0.0/24]' legacy_channels=off
check_start "xturnd starts (ULA peers not allowed)" "$XT_TMP/v4only.yaml"
out=$(tc "${CREDS[@]}" --mode indication --peer "[$PEER6]:9" permission)
check "CreatePermission to $PEER6 (ULA, not allowed): 403" eq "$(kv code "$out")" 403
out=$(tc "${CREDS[@]}" --mode channel --peer "[$PEER6]:9" permission)
check "ChannelBind to $PEER6 (ULA, not allowed): 403" eq "$(kv code "$out")" 403
out=$(tc "${CREDS[@]}" --mode indication --peer "$PEER4:9" permission)
check "CreatePermission to $PEER4 (allowed): success" eq "$(kv code "$out")" 0
out=$(tc "${CREDS[@]}" --mode channel --channel 0x5000 --peer "$PEER4:9" permission)
check "ChannelBind 0x5000 without legacy_channels: 400" eq "$(kv code "$out")" 400
out=$(tc "${CREDS[@]}" --mode channel --channel 0x4FFF --peer "$PEER4:9" permission)
check "ChannelBind 0x4FFF: success" eq "$(kv code "$out")" 0
xt_stop TERM
check "xturnd exits 0 on SIGTERM" eq "$XT_RC" 0

xt_finish
