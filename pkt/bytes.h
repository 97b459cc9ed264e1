/* pkt/bytes.h — big-endian byte accessors for wire structs.
 *
 * Every wire field in xturn is a byte array in network order; these are the only way to read or
 * write one. Header-only, no libc: included by user space (gcc) and by BPF programs (clang -target bpf).
 */
#ifndef XTURN_PKT_BYTES_H
#define XTURN_PKT_BYTES_H

#include <linux/types.h>

#define PKT_INLINE static inline __attribute__((always_inline))

PKT_INLINE __u16 get_be16(const __u8 *p)
{
	return (__u16)((__u16)p[0] << 8 | (__u16)p[1]);
}

PKT_INLINE __u32 get_be32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | (__u32)p[3];
}

PKT_INLINE void put_be16(__u8 *p, __u16 v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

PKT_INLINE void put_be32(__u8 *p, __u32 v)
{
	p[0] = (__u8)(v >> 24);
	p[1] = (__u8)(v >> 16);
	p[2] = (__u8)(v >> 8);
	p[3] = (__u8)v;
}

/* Byte copy that needs no libc (BPF has no memcpy; clang turns fixed sizes into moves). */
PKT_INLINE void pkt_copy(__u8 *dst, const __u8 *src, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		dst[i] = src[i];
}

PKT_INLINE int pkt_bytes_equal(const __u8 *a, const __u8 *b, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

#endif
