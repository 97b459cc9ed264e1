/* pkt/csum.h — Internet checksums (RFC 1071) and their incremental updates (RFC 1624).
 *
 * The inline part (accumulate, fold, incremental update) needs no libc and is used by the XDP program
 * as well as user space. The full computations over buffers are user space only (pkt/csum.c).
 *
 * Conventions: a "sum" is a 32-bit one's-complement accumulator of 16-bit big-endian words; a
 * "checksum" is the 16-bit value as stored on the wire (host order here). UDP checksums are never sent
 * as 0: a computed 0 is sent as 0xFFFF (RFC 768), and over IPv6 0 is not allowed at all (RFC 8200 §8.1).
 */
#ifndef XTURN_PKT_CSUM_H
#define XTURN_PKT_CSUM_H

#include "pkt/bytes.h"

/* Fold a 32-bit accumulator to 16 bits with end-around carry and complement it: the checksum. */
PKT_INLINE __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xFFFF) + (sum >> 16);
	sum = (sum & 0xFFFF) + (sum >> 16);
	return (__u16)~sum;
}

PKT_INLINE __u32 csum_add16(__u32 sum, __u16 word)
{
	return sum + word;
}

/* Add a big-endian byte run that starts at an even offset of the checksummed data. An odd length is
 * padded with a zero byte, as RFC 1071 does at the end of the data. */
PKT_INLINE __u32 csum_add_bytes(__u32 sum, const __u8 *p, unsigned int len)
{
	unsigned int i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get_be16(p + i);
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	return sum;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word m that became m'. */
PKT_INLINE __u16 csum_update16(__u16 check, __u16 old_word, __u16 new_word)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~old_word;
	sum += new_word;
	return csum_fold(sum);
}

/* Two adjacent 16-bit words (an IPv4 address, a ChannelData header). */
PKT_INLINE __u16 csum_update32(__u16 check, __u32 old_word, __u32 new_word)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~(old_word >> 16);
	sum += (__u16)~(old_word & 0xFFFF);
	sum += new_word >> 16;
	sum += new_word & 0xFFFF;
	return csum_fold(sum);
}

/* A run of len bytes (even, starting at an even offset) that changed from old to new: addresses. */
PKT_INLINE __u16 csum_update_bytes(__u16 check, const __u8 *old_bytes, const __u8 *new_bytes,
				   unsigned int len)
{
	__u32 sum = (__u16)~check;

	for (unsigned int i = 0; i + 1 < len; i += 2) {
		sum += (__u16)~get_be16(old_bytes + i);
		sum += get_be16(new_bytes + i);
	}
	return csum_fold(sum);
}

/* Add words to / remove words from the data a checksum covers (lengths, headers that appear or go). */
PKT_INLINE __u16 csum_add_word(__u16 check, __u16 word)
{
	return csum_update16(check, 0, word);
}

PKT_INLINE __u16 csum_remove_word(__u16 check, __u16 word)
{
	return csum_update16(check, word, 0);
}

/* The value a UDP checksum field carries for a computed checksum (RFC 768: 0 is sent as all ones). */
PKT_INLINE __u16 udp_csum_wire(__u16 check)
{
	return check ? check : 0xFFFF;
}

#ifndef __bpf__
#include <stddef.h>
#include "pkt/addr.h"
#include "pkt/wire.h"

/* Sum of a buffer that starts at an even offset of the checksummed data. */
__u32 csum_partial(const void *buf, size_t len, __u32 sum);

/* The header checksum an IPv4 header (without options) must carry, whatever its check field holds. */
__u16 ipv4_header_csum(const struct pkt_ipv4 *ip);

/* Sum of the UDP pseudo-header (RFC 768 for IPv4, RFC 8200 §8.1 for IPv6). ip_len is 4 or 16. */
__u32 udp_pseudo_sum(const __u8 *saddr, const __u8 *daddr, unsigned int ip_len, __u16 udp_len);

/* The checksum a UDP segment (header + payload, udp_len bytes) must carry between saddr and daddr,
 * whatever its check field holds; never 0 (see udp_csum_wire). */
__u16 udp_segment_csum(const __u8 *saddr, const __u8 *daddr, unsigned int ip_len,
		       const struct pkt_udp *udp, size_t udp_len);

#endif /* !__bpf__ */

#endif
