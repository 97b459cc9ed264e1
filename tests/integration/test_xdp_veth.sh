#!/usr/bin/env bash
# tests/integration/test_xdp_veth.sh BUILD_DIR — the XDP fast path on a real veth pair.
#
# Two namespaces joined by a veth pair: the relay's end runs the XDP program (native mode, through
# build/xdp-fastpath-probe, with no daemon and no AF_XDP socket), the other end holds clients and
# peers as kernel UDP sockets, which drop any datagram with a bad checksum. ChannelData goes out,
# the relayed datagram must arrive byte for byte from the right address, and back; IPv4, IPv6,
# both cross-family allocations and a cross-family hairpin (the receiving veth end carries an XDP_PASS
# program: on this kernel veth delivers XDP_TX frames only then, GRO on is not enough); first with the FIB unable to answer
# (forwarding off: MACs swapped), then with forwarding on and neighbours known (MACs from the
# FIB). Also: UDP to a free relay port still reaches a kernel socket, and so does UDP to an
# allocated port without a channel while no AF_XDP socket is registered.
# Namespaces are named xtC<pid>r / xtC<pid>c and removed on exit; every wait is bounded.
set -uo pipefail

build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../tools/topology.sh" # topo_xdp_pass
probe=$build/xdp-fastpath-probe
udp=$here/xdp_udp.py
P=xtC$$
NSR=${P}r NSC=${P}c VR=${P}a VC=${P}b
passed=0 failed=0 probe_pid=
tmp=$(mktemp -d /tmp/xtC-xdp.XXXXXX)

cleanup() {
	exec 3>&- 4<&- 2>/dev/null
	[[ -n $probe_pid ]] && kill "$probe_pid" 2>/dev/null
	wait 2>/dev/null
	ip netns del "$NSR" 2>/dev/null
	ip netns del "$NSC" 2>/dev/null
	rm -rf "$tmp"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

inr() { nsenter --net=/var/run/netns/"$NSR" "$@"; }
inc() { nsenter --net=/var/run/netns/"$NSC" "$@"; }

check() {
	local name=$1
	shift
	if "$@" >"$tmp/check.out" 2>&1; then
		passed=$((passed + 1))
		echo "ok   $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name"
		sed 's/^/     /' "$tmp/check.out"
	fi
}

finish() {
	echo
	echo "$passed passed, $failed failed"
	((failed == 0))
	exit $?
}

# One command to the probe, one line back (bounded).
probe_cmd() {
	local line
	echo "$*" >&3
	read -r -t 5 line <&4 || { echo "probe: no answer to '$*'"; return 1; }
	echo "$line"
	[[ $line == ok ]]
}

# The value of one counter: stat NAME packets|bytes
stat() {
	local name val line
	echo stats >&3
	while read -r -t 5 line <&4; do
		[[ $line == end ]] && break
		set -- $line
		[[ $1 == "$STAT_NAME" ]] && val=$2
	done
	echo "${val:-0}"
}
counter() {
	STAT_NAME=$1 stat
}

if [[ ! -x $probe ]]; then
	check "xdp-fastpath-probe is built" false
	finish
fi

# ---- topology ----
setup() {
	ip netns add "$NSR" && ip netns add "$NSC" &&
		ip link add "$VR" type veth peer name "$VC" &&
		ip link set "$VR" netns "$NSR" && ip link set "$VC" netns "$NSC" &&
		inr ip link set lo up && inc ip link set lo up &&
		inr ip link set "$VR" up && inc ip link set "$VC" up &&
		inr ip addr add 198.18.0.1/24 dev "$VR" &&
		inr ip -6 addr add fd98:18::1/64 dev "$VR" nodad &&
		for a in 2 3 4; do
			inc ip addr add 198.18.0.$a/24 dev "$VC" &&
				inc ip -6 addr add fd98:18::$a/64 dev "$VC" nodad || return 1
		done &&
		inc ethtool -K "$VC" tx off >/dev/null && # finished checksums from the senders
		topo_xdp_pass "$NSC" "$VC" # XDP_TX frames wait in its ring unless an XDP program is there
}
check "namespaces and veth pair" setup || finish

mkfifo "$tmp/in" "$tmp/out"
inr "$probe" "$VR" --mode native --listen 3478 --ports 49152-49999 \
	--addr 198.18.0.1 --addr fd98:18::1 <"$tmp/in" >"$tmp/out" 2>"$tmp/probe.err" &
probe_pid=$!
exec 3>"$tmp/in" 4<"$tmp/out"
read -r -t 10 ready <&4
check "program attached in native mode" test "${ready:-}" = "ready native"
[[ ${ready:-} == ready* ]] || { cat "$tmp/probe.err"; finish; }

B44="198.18.0.2:40000 198.18.0.1:3478 198.18.0.3:50000 198.18.0.1:49152 0x4001 1"
B66="[fd98:18::2]:40000 [fd98:18::1]:3478 [fd98:18::3]:50000 [fd98:18::1]:49153 0x4002 2"
B46="198.18.0.2:40001 198.18.0.1:3478 [fd98:18::3]:50001 [fd98:18::1]:49154 0x4003 3"
B64="[fd98:18::2]:40001 [fd98:18::1]:3478 198.18.0.3:50001 198.18.0.1:49155 0x4004 4"
# Hairpin: an IPv4 client's peer is the relayed address of an IPv6 client's allocation.
H1="198.18.0.2:40002 198.18.0.1:3478 198.18.0.1:49157 198.18.0.1:49156 0x4005 5"
H2="[fd98:18::4]:40003 [fd98:18::1]:3478 198.18.0.1:49156 198.18.0.1:49157 0x4006 6"
for b in "$B44" "$B66" "$B46" "$B64" "$H1" "$H2"; do
	check "install binding ${b##* 0x}" probe_cmd bind $b
done

relay_cases() {
	local phase=$1 b
	for b in "$B44" "$B66" "$B46" "$B64"; do
		set -- $b
		check "$phase: relay $1 <-> $3 (channel $5)" inc python3 "$udp" relay "$1" "$2" "$3" "$4" "$5"
	done
	check "$phase: hairpin 198.18.0.2 <-> [fd98:18::4]" \
		inc python3 "$udp" hairpin 198.18.0.2:40002 198.18.0.1:3478 0x4005 \
		"[fd98:18::4]:40003" "[fd98:18::1]:3478" 0x4006
}

# ---- phase 1: forwarding off in the relay namespace, so the FIB cannot answer ----
fallback0=$(counter fib_fallback)
relay_cases "FIB fallback"
fallback1=$(counter fib_fallback)
check "FIB fallback: counted ($fallback0 -> $fallback1)" test "$fallback1" -gt "$fallback0"

# ---- phase 2: forwarding on, neighbours known: MACs from bpf_fib_lookup ----
mac=$(inc ip -br link show dev "$VC" | awk '{print $3}')
fib_setup() {
	inr sysctl -qw net.ipv4.conf."$VR".forwarding=1 net.ipv6.conf."$VR".forwarding=1 &&
		for a in 2 3 4; do
			inr ip neigh replace 198.18.0.$a lladdr "$mac" dev "$VR" nud permanent &&
				inr ip -6 neigh replace fd98:18::$a lladdr "$mac" dev "$VR" nud permanent ||
				return 1
		done && probe_cmd flush
}
check "forwarding on, permanent neighbours, FIB cache flushed" fib_setup
relay_cases "FIB answers"
fallback2=$(counter fib_fallback)
check "FIB answers: no fallback ($fallback1 -> $fallback2)" test "$fallback2" -eq "$fallback1"

c2p4=$(counter relay_c2p_v4) c2p6=$(counter relay_c2p_v6)
p2c4=$(counter relay_p2c_v4) p2c6=$(counter relay_p2c_v6) hp=$(counter relay_hairpin)
# Per phase: 8 lengths per direction and case; v4 clients in B44 and B46, v6 in B66 and B64.
check "counters: c2p_v4 $c2p4 c2p_v6 $c2p6 p2c_v4 $p2c4 p2c_v6 $p2c6 hairpin $hp" \
	test "$c2p4" -eq 32 -a "$c2p6" -eq 32 -a "$p2c4" -eq 32 -a "$p2c6" -eq 32 -a "$hp" -eq 32

# ---- what the fast path must leave to the kernel ----
free_port_reaches_kernel() {
	inr python3 "$udp" recv 198.18.0.1:49500 >"$tmp/recv.out" &
	local pid=$!
	sleep 0.3
	inc python3 "$udp" send 198.18.0.3:53 198.18.0.1:49500 "a DNS answer" &&
		wait "$pid" && grep -qx "a DNS answer" "$tmp/recv.out"
}
check "UDP to a free relay port reaches a kernel socket" free_port_reaches_kernel
check "counted as pass_port_free" test "$(counter pass_port_free)" -ge 1

no_socket_falls_back() {
	local missing0 missing1
	probe_cmd port 49600 alloc >/dev/null || return 1
	missing0=$(counter xsk_missing)
	inr python3 "$udp" recv "[fd98:18::1]:49600" >"$tmp/recv.out" &
	local pid=$!
	sleep 0.3
	inc python3 "$udp" send "[fd98:18::3]:5000" "[fd98:18::1]:49600" "to user space" &&
		wait "$pid" && grep -qx "to user space" "$tmp/recv.out" || return 1
	missing1=$(counter xsk_missing)
	echo "xsk_missing $missing0 -> $missing1"
	test "$missing1" -gt "$missing0"
}
check "allocated port, no channel, no AF_XDP socket: XDP_PASS to the kernel" no_socket_falls_back

check "unbind removes both entries" probe_cmd unbind $B44
unbound_goes_to_user_space() {
	local user0 user1 relayed0 relayed1
	user0=$(counter user_no_channel)
	relayed0=$(counter relay_c2p_v4)
	inc python3 "$udp" chan 198.18.0.2:40000 198.18.0.1:3478 0x4001 || return 1
	sleep 0.2
	user1=$(counter user_no_channel)
	relayed1=$(counter relay_c2p_v4)
	echo "user_no_channel $user0 -> $user1, relay_c2p_v4 $relayed0 -> $relayed1"
	test "$user1" -eq $((user0 + 1)) -a "$relayed1" -eq "$relayed0"
}
check "after unbind, ChannelData goes to user space" unbound_goes_to_user_space

echo quit >&3
wait "$probe_pid"
rc=$?
probe_pid=
check "probe detached cleanly (exit $rc)" test "$rc" -eq 0
check "no XDP program left on the interface" bash -c "! nsenter --net=/var/run/netns/$NSR ip link show $VR | grep -q xdp"
finish
