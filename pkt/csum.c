/* pkt/csum.c — full Internet checksum computations for user space (RFC 1071, RFC 768). */
#include "pkt/csum.h"

__u32 csum_partial(const void *buf, size_t len, __u32 sum)
{
	const __u8 *p = buf;
	unsigned long long acc = sum;
	size_t i = 0;

	/* Accumulate in 64 bits so that no carry is lost over a jumbo frame; fold once at the end. */
	for (; i + 1 < len; i += 2)
		acc += (unsigned long long)get_be16(p + i);
	if (len & 1)
		acc += (unsigned long long)p[len - 1] << 8;
	while (acc >> 32)
		acc = (acc & 0xFFFFFFFFull) + (acc >> 32);
	/* Keep it below 2^31 so that callers can keep adding words without overflow. */
	acc = (acc & 0xFFFF) + (acc >> 16);
	acc = (acc & 0xFFFF) + (acc >> 16);
	return (__u32)acc;
}

__u16 ipv4_header_csum(const struct pkt_ipv4 *ip)
{
	__u32 sum = csum_partial(ip, sizeof(*ip), 0);

	sum += (__u16)~get_be16(ip->check); /* as if the field were zero */
	return csum_fold(sum);
}

__u32 udp_pseudo_sum(const __u8 *saddr, const __u8 *daddr, unsigned int ip_len, __u16 udp_len)
{
	__u32 sum = 0;

	sum = csum_partial(saddr, ip_len, sum);
	sum = csum_partial(daddr, ip_len, sum);
	sum += PKT_IPPROTO_UDP;
	sum += udp_len; /* IPv6 has a 32-bit length and 24 zero bits; for UDP the upper half is 0 */
	return sum;
}

__u16 udp_segment_csum(const __u8 *saddr, const __u8 *daddr, unsigned int ip_len,
		       const struct pkt_udp *udp, size_t udp_len)
{
	__u32 sum = udp_pseudo_sum(saddr, daddr, ip_len, (__u16)udp_len);

	sum = csum_partial(udp, udp_len, sum);
	sum += (__u16)~get_be16(udp->check); /* as if the field were zero */
	return udp_csum_wire(csum_fold(sum));
}
