/* tools/bench/reflector.bpf.c — the bare XDP_TX reflector of `make bench`: the physical limit.
 *
 * Every UDP datagram over IPv4 or IPv6 to a port in [REFLECT_PORT_MIN, REFLECT_PORT_MAX] goes straight
 * back out of the interface it came in on, with MACs, IP addresses and ports swapped. Swapping leaves
 * the IPv4 header checksum and the UDP checksum valid (a one's-complement sum does not depend on the
 * order of its words), so the frame is not otherwise touched: this is the least work any relay on this
 * interface can do per packet. Everything else (ARP, ND) is passed to the kernel.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "pkt/wire.h"

#define REFLECT_PORT_MIN 3478
#define REFLECT_PORT_MAX 3478

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline void swap_bytes(__u8 *a, __u8 *b, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		__u8 t = a[i];

		a[i] = b[i];
		b[i] = t;
	}
}

SEC("xdp")
int xturn_reflector(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct pkt_eth *eth = data;
	struct pkt_udp *udp;
	__u16 type, port;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	type = (__u16)(eth->type[0] << 8 | eth->type[1]);
	if (type == PKT_ETH_P_IPV4) {
		struct pkt_ipv4 *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->ver_ihl != 0x45 ||
		    ip->protocol != PKT_IPPROTO_UDP)
			return XDP_PASS;
		udp = (void *)(ip + 1);
		if ((void *)(udp + 1) > data_end)
			return XDP_PASS;
		port = (__u16)(udp->dest[0] << 8 | udp->dest[1]);
		if (port < REFLECT_PORT_MIN || port > REFLECT_PORT_MAX)
			return XDP_PASS;
		swap_bytes(ip->saddr, ip->daddr, 4);
	} else if (type == PKT_ETH_P_IPV6) {
		struct pkt_ipv6 *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != PKT_IPPROTO_UDP)
			return XDP_PASS;
		udp = (void *)(ip6 + 1);
		if ((void *)(udp + 1) > data_end)
			return XDP_PASS;
		port = (__u16)(udp->dest[0] << 8 | udp->dest[1]);
		if (port < REFLECT_PORT_MIN || port > REFLECT_PORT_MAX)
			return XDP_PASS;
		swap_bytes(ip6->saddr, ip6->daddr, 16);
	} else {
		return XDP_PASS;
	}
	swap_bytes(udp->source, udp->dest, 2);
	swap_bytes(eth->src, eth->dst, PKT_ETH_ALEN);
	return XDP_TX;
}
