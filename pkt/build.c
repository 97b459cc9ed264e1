/* pkt/build.c — see build.h. */
#include <errno.h>
#include <string.h>
#include "pkt/build.h"
#include "pkt/csum.h"

size_t pkt_headers_len(const struct pkt_frame_spec *spec)
{
	size_t len = sizeof(struct pkt_eth) + sizeof(struct pkt_udp);

	if (spec->has_vlan)
		len += sizeof(struct pkt_vlan);
	len += spec->src.family == XT_AF_INET6 ? sizeof(struct pkt_ipv6) : sizeof(struct pkt_ipv4);
	return len;
}

static __u8 *write_link(__u8 *p, const struct pkt_frame_spec *spec, __u16 ethertype)
{
	struct pkt_eth *eth = (struct pkt_eth *)p;

	memcpy(eth->dst, spec->dst_mac, PKT_ETH_ALEN);
	memcpy(eth->src, spec->src_mac, PKT_ETH_ALEN);
	p += sizeof(*eth);
	if (spec->has_vlan) {
		struct pkt_vlan *vlan = (struct pkt_vlan *)p;

		put_be16(eth->type, PKT_ETH_P_8021Q);
		put_be16(vlan->tci, spec->vlan_tci);
		put_be16(vlan->type, ethertype);
		return p + sizeof(*vlan);
	}
	put_be16(eth->type, ethertype);
	return p;
}

static __u8 *write_ipv4(__u8 *p, const struct pkt_frame_spec *spec, size_t udp_len)
{
	struct pkt_ipv4 *ip = (struct pkt_ipv4 *)p;

	ip->ver_ihl = 0x45;
	ip->tos = spec->tos;
	put_be16(ip->tot_len, (__u16)(sizeof(*ip) + udp_len));
	put_be16(ip->id, spec->ip_id);
	put_be16(ip->frag_off, spec->dont_fragment ? PKT_IPV4_DF : 0);
	ip->ttl = spec->ttl ? spec->ttl : PKT_DEFAULT_TTL;
	ip->protocol = PKT_IPPROTO_UDP;
	memcpy(ip->saddr, spec->src.ip, 4);
	memcpy(ip->daddr, spec->dst.ip, 4);
	put_be16(ip->check, 0);
	put_be16(ip->check, ipv4_header_csum(ip));
	return p + sizeof(*ip);
}

static __u8 *write_ipv6(__u8 *p, const struct pkt_frame_spec *spec, size_t udp_len)
{
	struct pkt_ipv6 *ip6 = (struct pkt_ipv6 *)p;

	put_be32(ip6->ver_tc_flow, 6u << 28 | (__u32)spec->tos << 20);
	put_be16(ip6->payload_len, (__u16)udp_len);
	ip6->nexthdr = PKT_IPPROTO_UDP;
	ip6->hop_limit = spec->ttl ? spec->ttl : PKT_DEFAULT_TTL;
	memcpy(ip6->saddr, spec->src.ip, 16);
	memcpy(ip6->daddr, spec->dst.ip, 16);
	return p + sizeof(*ip6);
}

int pkt_build_udp(void *buf, size_t cap, const struct pkt_frame_spec *spec, const void *payload,
		  size_t payload_len)
{
	size_t hdr_len = pkt_headers_len(spec);
	size_t udp_len = sizeof(struct pkt_udp) + payload_len;
	size_t ip_hdr_len;
	struct pkt_udp *udp;
	__u8 *p = buf;

	if (spec->src.family != spec->dst.family ||
	    (spec->src.family != XT_AF_INET && spec->src.family != XT_AF_INET6))
		return -EINVAL;
	ip_hdr_len = spec->src.family == XT_AF_INET ? sizeof(struct pkt_ipv4) : sizeof(struct pkt_ipv6);
	/* IPv4 total length and the UDP length are both 16-bit fields. */
	if (hdr_len + payload_len > cap || udp_len + ip_hdr_len > 0xFFFF)
		return -EMSGSIZE;
	if (payload_len && p + hdr_len != payload)
		memmove(p + hdr_len, payload, payload_len);

	if (spec->src.family == XT_AF_INET)
		p = write_ipv4(write_link(p, spec, PKT_ETH_P_IPV4), spec, udp_len);
	else
		p = write_ipv6(write_link(p, spec, PKT_ETH_P_IPV6), spec, udp_len);
	udp = (struct pkt_udp *)p;
	memcpy(udp->source, spec->src.port, 2);
	memcpy(udp->dest, spec->dst.port, 2);
	put_be16(udp->len, (__u16)udp_len);
	put_be16(udp->check, 0);
	put_be16(udp->check, udp_segment_csum(spec->src.ip, spec->dst.ip, xt_addr_ip_len(&spec->src),
					      udp, udp_len));
	return (int)(hdr_len + payload_len);
}
