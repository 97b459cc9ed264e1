/* Proves that the pkt/ headers compile for BPF (clang -target bpf, no libc) and pass the verifier:
 * a tiny XDP program that reads a frame's UDP ports with the wire structs and accessors. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "pkt/addr.h"
#include "pkt/csum.h"
#include "pkt/wire.h"

SEC("xdp")
int pkt_headers_probe(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pkt_eth *eth = data;
	struct pkt_ipv4 *ip;
	struct pkt_udp *udp;
	struct xt_addr a;

	if ((void *)(eth + 1) > data_end || get_be16(eth->type) != PKT_ETH_P_IPV4)
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->protocol != PKT_IPPROTO_UDP)
		return XDP_PASS;
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	xt_addr_set_v4(&a, ip->daddr, get_be16(udp->dest));
	put_be16(udp->check, csum_update16(get_be16(udp->check), get_be16(udp->dest), 3478));
	return xt_addr_port(&a) == 3478 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
