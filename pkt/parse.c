/* pkt/parse.c — see parse.h. Every read is preceded by a check against the caller's length. */
#include "pkt/parse.h"
#include "pkt/csum.h"

static const char *const refusal_names[PKT_REFUSAL_COUNT] = {
	[PKT_OK] = "ok",
	[PKT_TOO_SHORT] = "too_short",
	[PKT_NOT_IP] = "not_ip",
	[PKT_IP_OPTIONS] = "ip_options",
	[PKT_FRAGMENT] = "fragment",
	[PKT_IPV6_EXT_HDR] = "ipv6_ext_hdr",
	[PKT_BAD_LENGTH] = "bad_length",
	[PKT_NOT_UDP] = "not_udp",
};

const char *pkt_refusal_name(enum pkt_refusal refusal)
{
	if ((unsigned int)refusal >= PKT_REFUSAL_COUNT)
		return "unknown";
	return refusal_names[refusal];
}

/* Ethernet and at most one 802.1Q tag; returns the ethertype of the IP header at *l3_off. */
static enum pkt_refusal parse_link(const __u8 *p, size_t len, struct pkt_view *v, __u16 *ethertype)
{
	const struct pkt_eth *eth = (const struct pkt_eth *)p;
	size_t off = sizeof(*eth);
	__u16 type;

	if (len < off)
		return PKT_TOO_SHORT;
	type = get_be16(eth->type);
	if (type == PKT_ETH_P_8021Q) {
		const struct pkt_vlan *vlan = (const struct pkt_vlan *)(p + off);

		if (len < off + sizeof(*vlan))
			return PKT_TOO_SHORT;
		v->has_vlan = true;
		v->vlan_tci = get_be16(vlan->tci);
		type = get_be16(vlan->type);
		off += sizeof(*vlan);
	}
	v->l3_off = (__u16)off;
	*ethertype = type;
	return PKT_OK;
}

static enum pkt_refusal parse_ipv4(const __u8 *p, size_t len, struct pkt_view *v)
{
	const struct pkt_ipv4 *ip = (const struct pkt_ipv4 *)(p + v->l3_off);
	size_t ihl, tot_len;
	__u16 frag;

	if (len < v->l3_off + sizeof(*ip))
		return PKT_TOO_SHORT;
	if (ip->ver_ihl >> 4 != 4)
		return PKT_NOT_IP;
	ihl = (size_t)(ip->ver_ihl & 0x0F) * 4;
	if (ihl < sizeof(*ip))
		return PKT_BAD_LENGTH;
	if (ihl > sizeof(*ip))
		return PKT_IP_OPTIONS;
	tot_len = get_be16(ip->tot_len);
	if (tot_len < ihl || v->l3_off + tot_len > len)
		return PKT_BAD_LENGTH;
	frag = get_be16(ip->frag_off);
	if ((frag & PKT_IPV4_MF) || (frag & PKT_IPV4_OFFSET_MASK))
		return PKT_FRAGMENT;
	if (ip->protocol != PKT_IPPROTO_UDP)
		return PKT_NOT_UDP;
	v->family = XT_AF_INET;
	v->l4_off = (__u16)(v->l3_off + ihl);
	v->ip_end = (__u16)(v->l3_off + tot_len);
	xt_addr_zero(&v->src);
	xt_addr_zero(&v->dst);
	v->src.family = v->dst.family = XT_AF_INET;
	pkt_copy(v->src.ip, ip->saddr, 4);
	pkt_copy(v->dst.ip, ip->daddr, 4);
	return PKT_OK;
}

static enum pkt_refusal parse_ipv6(const __u8 *p, size_t len, struct pkt_view *v)
{
	const struct pkt_ipv6 *ip6 = (const struct pkt_ipv6 *)(p + v->l3_off);
	size_t payload_len;

	if (len < v->l3_off + sizeof(*ip6))
		return PKT_TOO_SHORT;
	if (ip6->ver_tc_flow[0] >> 4 != 6)
		return PKT_NOT_IP;
	payload_len = get_be16(ip6->payload_len);
	if (v->l3_off + sizeof(*ip6) + payload_len > len)
		return PKT_BAD_LENGTH;
	if (pkt_ipv6_is_ext_header(ip6->nexthdr))
		return PKT_IPV6_EXT_HDR;
	if (ip6->nexthdr != PKT_IPPROTO_UDP)
		return PKT_NOT_UDP;
	v->family = XT_AF_INET6;
	v->l4_off = (__u16)(v->l3_off + sizeof(*ip6));
	v->ip_end = (__u16)(v->l4_off + payload_len);
	xt_addr_zero(&v->src);
	xt_addr_zero(&v->dst);
	v->src.family = v->dst.family = XT_AF_INET6;
	pkt_copy(v->src.ip, ip6->saddr, 16);
	pkt_copy(v->dst.ip, ip6->daddr, 16);
	return PKT_OK;
}

static enum pkt_refusal parse_udp(const __u8 *p, struct pkt_view *v)
{
	const struct pkt_udp *udp = (const struct pkt_udp *)(p + v->l4_off);
	size_t udp_len;

	/* ip_end is already within the frame, so checking against it bounds every read. */
	if ((size_t)v->l4_off + sizeof(*udp) > v->ip_end)
		return PKT_BAD_LENGTH;
	udp_len = get_be16(udp->len);
	if (udp_len < sizeof(*udp) || v->l4_off + udp_len > v->ip_end)
		return PKT_BAD_LENGTH;
	v->payload_off = (__u16)(v->l4_off + sizeof(*udp));
	v->payload_len = (__u16)(udp_len - sizeof(*udp));
	pkt_copy(v->src.port, udp->source, 2);
	pkt_copy(v->dst.port, udp->dest, 2);
	return PKT_OK;
}

enum pkt_refusal pkt_parse(const void *frame, size_t len, struct pkt_view *view)
{
	const __u8 *p = frame;
	struct pkt_view v = { 0 };
	enum pkt_refusal r;
	__u16 ethertype;

	if (len > 0xFFFF) /* offsets are 16-bit; no Ethernet frame is this long */
		return PKT_BAD_LENGTH;
	r = parse_link(p, len, &v, &ethertype);
	if (r != PKT_OK)
		return r;
	if (ethertype == PKT_ETH_P_IPV4)
		r = parse_ipv4(p, len, &v);
	else if (ethertype == PKT_ETH_P_IPV6)
		r = parse_ipv6(p, len, &v);
	else
		r = PKT_NOT_IP;
	if (r != PKT_OK)
		return r;
	r = parse_udp(p, &v);
	if (r != PKT_OK)
		return r;
	*view = v;
	return PKT_OK;
}

bool pkt_verify_checksums(const void *frame, const struct pkt_view *v)
{
	const __u8 *p = frame;
	const struct pkt_udp *udp = (const struct pkt_udp *)(p + v->l4_off);
	unsigned int ip_len = v->family == XT_AF_INET ? 4 : 16;
	__u16 udp_len = (__u16)(sizeof(*udp) + v->payload_len);
	__u32 sum;

	/* Receiver's check (RFC 1071 §1): the sum over the data including its checksum is all ones. */
	if (v->family == XT_AF_INET) {
		if (csum_fold(csum_partial(p + v->l3_off, sizeof(struct pkt_ipv4), 0)) != 0)
			return false;
		if (get_be16(udp->check) == 0)
			return true;
	} else if (get_be16(udp->check) == 0) {
		return false;
	}
	sum = udp_pseudo_sum(v->src.ip, v->dst.ip, ip_len, udp_len);
	return csum_fold(csum_partial(udp, udp_len, sum)) == 0;
}
