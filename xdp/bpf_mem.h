/* xdp/bpf_mem.h — word-sized access to byte-array fields for the XDP program.
 *
 * The wire structs are byte arrays (pkt/wire.h); comparing or copying an address a byte at a time
 * costs the fast path 16 loads where 2 do. These helpers load and store whole words through
 * may_alias types, so the compiler neither assumes type-based non-aliasing between the byte arrays
 * and the words nor needs memcpy. Raw words are compared and copied only, never interpreted: byte
 * order does not matter here. Unaligned packet access is fine on the JITs xturn targets (x86-64,
 * arm64); the verifier enforces alignment only under BPF_F_STRICT_ALIGNMENT, which we do not set.
 * BPF only; no libc.
 */
#ifndef XTURN_XDP_BPF_MEM_H
#define XTURN_XDP_BPF_MEM_H

#include <linux/types.h>

typedef __u16 __attribute__((may_alias)) xt_raw16;
typedef __u32 __attribute__((may_alias)) xt_raw32;
typedef __u64 __attribute__((may_alias)) xt_raw64;

static __always_inline __u16 raw16(const void *p)
{
	return *(const xt_raw16 *)p;
}

static __always_inline void raw16_store(void *p, __u16 v)
{
	*(xt_raw16 *)p = v;
}

/* 32- and 64-bit access: packet or map memory, where the verifier allows any alignment, or a
 * naturally aligned field on the stack (the lookup keys are built in aligned(8) structs). */
static __always_inline __u32 raw32(const void *p)
{
	return *(const xt_raw32 *)p;
}

static __always_inline void raw32_store(void *p, __u32 v)
{
	*(xt_raw32 *)p = v;
}

static __always_inline __u64 raw64(const void *p)
{
	return *(const xt_raw64 *)p;
}

static __always_inline void raw64_store(void *p, __u64 v)
{
	*(xt_raw64 *)p = v;
}

/* A MAC address as three 16-bit words: every MAC field sits at an even offset of its struct, and
 * the verifier demands natural alignment on the stack, where the next hop is built. */
static __always_inline void mac_copy(void *dst, const void *src)
{
	raw16_store(dst, raw16(src));
	raw16_store((__u8 *)dst + 2, raw16((const __u8 *)src + 2));
	raw16_store((__u8 *)dst + 4, raw16((const __u8 *)src + 4));
}

/* 16-byte addresses in packet or map memory, or 8-aligned on the stack (see raw32). */
static __always_inline int ip6_equal(const void *a, const void *b)
{
	const __u8 *x = a, *y = b;

	return ((raw64(x) ^ raw64(y)) | (raw64(x + 8) ^ raw64(y + 8))) == 0;
}

#endif
