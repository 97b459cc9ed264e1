/* tools/xturn-load/steer.bpf.c — xturn-load's XDP program on the generator's interface.
 *
 * Sends to the AF_XDP socket of the RX queue only the UDP datagrams addressed to one of the load
 * generator's own endpoints (its client sockets and the peers it echoes for, listed in `targets`);
 * everything else (ARP, ND, the TURN control plane of other tools, ssh) goes to the kernel untouched.
 * Must not: change a frame, or drop one.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "pkt/addr.h"
#include "pkt/wire.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

/* key: the destination (family, IP, port) of a datagram that belongs to the generator */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xt_addr);
	__type(value, __u32);
} targets SEC(".maps");

SEC("xdp")
int xturn_load_steer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct pkt_eth *eth = data;
	struct pkt_udp *udp;
	struct xt_addr key = {};
	__u16 type;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	type = (__u16)(eth->type[0] << 8 | eth->type[1]);
	if (type == PKT_ETH_P_IPV4) {
		struct pkt_ipv4 *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->ver_ihl != 0x45 ||
		    ip->protocol != PKT_IPPROTO_UDP)
			return XDP_PASS;
		/* fragments go to the kernel: only whole datagrams are ours */
		if ((ip->frag_off[0] & 0x3F) || ip->frag_off[1])
			return XDP_PASS;
		udp = (void *)(ip + 1);
		key.family = XT_AF_INET;
		__builtin_memcpy(key.ip, ip->daddr, 4);
	} else if (type == PKT_ETH_P_IPV6) {
		struct pkt_ipv6 *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != PKT_IPPROTO_UDP)
			return XDP_PASS;
		udp = (void *)(ip6 + 1);
		key.family = XT_AF_INET6;
		__builtin_memcpy(key.ip, ip6->daddr, 16);
	} else {
		return XDP_PASS;
	}
	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	key.port[0] = udp->dest[0];
	key.port[1] = udp->dest[1];
	if (!bpf_map_lookup_elem(&targets, &key))
		return XDP_PASS;
	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
}
