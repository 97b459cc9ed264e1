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
# (local sockets then send finished checksums); GRO on the bridge ends (so XDP_TX frames are received).

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
	# Let ND settle for link-local addresses; the global ones skip DAD.
	sleep 0.2
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
