#!/usr/bin/env bash
# tools/topology.sh — the test topology of DESIGN.md §6, to be sourced:
#
#   source tools/topology.sh
#   topo_up PREFIX        # namespaces PREFIX-br, PREFIX-relay, PREFIX-client, PREFIX-client2, PREFIX-peer
#   topo_down PREFIX      # deletes them (call from a trap)
#   in_ns PREFIX-relay CMD...   # runs CMD in a namespace (nsenter: keeps bpffs visible)
#
# One L2 segment: a Linux bridge in PREFIX-br and a veth pair per host. Inside each host namespace the
# interface is called xt-<role> (xt-relay is the NIC xturnd owns). Addresses:
#   relay   198.18.0.1   fd98:18::1
#   client  198.18.0.10  fd98:18::10
#   client2 198.18.0.11  fd98:18::11
#   peer    198.18.0.20  fd98:18::20
# No default route: nothing leaves the segment. IPv6 DAD off. TX checksum offload off on the host ends
# (local sockets then send finished checksums); GRO on the bridge ends, and an XDP_PASS program on the
# bridge end of the relay: frames that the relay's XDP program sends with XDP_TX land in that end's
# ring, and veth kicks its NAPI only when an XDP program is attached there (veth_xdp_flush()); with
# GRO alone they wait until the next ordinary packet happens to pass that way.

TOPO_HOSTS=(relay client client2 peer)
declare -A TOPO_V4=([relay]=198.18.0.1 [client]=198.18.0.10 [client2]=198.18.0.11 [peer]=198.18.0.20)
declare -A TOPO_V6=([relay]=fd98:18::1 [client]=fd98:18::10 [client2]=fd98:18::11 [peer]=fd98:18::20)

in_ns() {
	local ns=$1
	shift
	nsenter --net="/var/run/netns/$ns" "$@"
}

topo_mount_bpffs() {
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
}

topo_up() {
	local p=$1 host br="$1-br"
	topo_mount_bpffs
	ip netns add "$br" || return 1
	in_ns "$br" ip link add br0 type bridge
	in_ns "$br" ip link set br0 up
	in_ns "$br" ip link set lo up
	for host in "${TOPO_HOSTS[@]}"; do
		local ns="$p-$host"
		ip netns add "$ns" || return 1
		in_ns "$ns" ip link set lo up
		in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
		# veth pair created in the host namespace, bridge end moved to the bridge namespace
		in_ns "$ns" ip link add "xt-$host" type veth peer name "b-$host"
		in_ns "$ns" ip link set "b-$host" netns "$br"
		in_ns "$br" ip link set "b-$host" master br0
		in_ns "$br" ethtool -K "b-$host" gro on >/dev/null 2>&1
		in_ns "$br" ip link set "b-$host" up
		in_ns "$ns" ethtool -K "xt-$host" tx off >/dev/null 2>&1
		in_ns "$ns" ip addr add "${TOPO_V4[$host]}/24" dev "xt-$host"
		in_ns "$ns" ip -6 addr add "${TOPO_V6[$host]}/64" dev "xt-$host" nodad
		in_ns "$ns" ip link set "xt-$host" up
	done
	topo_xdp_pass "$br" b-relay || return 1
	# A deployment step of xturnd (README, Deployment): bpf_fib_lookup answers the fast path only
	# on an interface that forwards (IPv6 checks the namespace-wide flag).
	in_ns "$p-relay" sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1
	# Let ND settle for link-local addresses; the global ones skip DAD.
	sleep 0.2
}

# topo_xdp_pass NS DEV: attaches a program that passes everything to DEV in native mode. The
# object is compiled on the spot with clang (a build dependency) and deleted once attached.
topo_xdp_pass() {
	local ns=$1 dev=$2 dir rc
	dir=$(mktemp -d) || return 1
	printf '%s\n' '#include <linux/bpf.h>' \
		'__attribute__((section("xdp"), used)) int pass(struct xdp_md *c) { return XDP_PASS; }' \
		'char LICENSE[] __attribute__((section("license"), used)) = "GPL";' >"$dir/pass.bpf.c"
	clang -target bpf -O2 -I"/usr/include/$(gcc -dumpmachine)" -c "$dir/pass.bpf.c" \
		-o "$dir/pass.bpf.o" &&
		in_ns "$ns" ip link set dev "$dev" xdpdrv obj "$dir/pass.bpf.o" sec xdp
	rc=$?
	rm -rf "$dir"
	return $rc
}

topo_down() {
	local p=$1 host
	for host in "${TOPO_HOSTS[@]}"; do
		ip netns pids "$p-$host" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$p-$host" 2>/dev/null
	done
	ip netns del "$p-br" 2>/dev/null
	return 0
}
