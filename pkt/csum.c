/* pkt/csum.c — full Internet checksum computations for user space (RFC 1071, RFC 768). */
#include <string.h>
#include "pkt/csum.h"

/* RFC 1071 §2(B): the one's-complement sum is byte-order independent, so the buffer is summed in
 * native order, 8 bytes a load, and the folded result swapped once at the end. */
__u32 csum_partial(const void *buf, size_t len, __u32 sum)
{
	const __u8 *p = buf;
	unsigned long long acc = 0;
	__u32 folded;

	for (; len >= 8; p += 8, len -= 8) {
		unsigned long long w;

		memcpy(&w, p, 8);
		acc += (w & 0xFFFFFFFFull) + (w >> 32); /* < 2^33 per step: no overflow in 2^31 */
	}
	if (len >= 4) {
		__u32 w;

		memcpy(&w, p, 4);
		acc += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		__u16 w;

		memcpy(&w, p, 2);
		acc += w;
		p += 2;
		len -= 2;
	}
	if (len) { /* the last byte is the high half of a zero-padded word (RFC 1071 §4.1) */
		__u16 w = 0;

		memcpy(&w, p, 1);
		acc += w;
	}
	acc = (acc & 0xFFFFFFFFull) + (acc >> 32);
	acc = (acc & 0xFFFFFFFFull) + (acc >> 32);
	folded = (__u32)((acc & 0xFFFF) + (acc >> 16));
	folded = (folded & 0xFFFF) + (folded >> 16);
	folded = (folded & 0xFFFF) + (folded >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	folded = ((folded & 0xFF) << 8) | (folded >> 8);
#endif
	/* Keep the result small so that callers can go on adding words without overflow. */
	acc = (unsigned long long)sum + folded;
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
