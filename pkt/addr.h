/* pkt/addr.h — the one transport address type of xturn (DESIGN.md §3).
 *
 * struct xt_addr is an IP address and UDP port in network order with a family tag: the key and value
 * material of the fast-path maps, the 5-tuple halves of turn/, and the addresses of pkt_parse(). IPv4
 * lives in the first 4 bytes of ip, the rest zero, so two equal addresses are equal byte for byte.
 * Header-only, no libc.
 */
#ifndef XTURN_PKT_ADDR_H
#define XTURN_PKT_ADDR_H

#include "pkt/bytes.h"

/* Same numbers as Linux's AF_INET/AF_INET6, without needing libc's headers in BPF. */
#define XT_AF_INET 2
#define XT_AF_INET6 10

struct xt_addr {
	__u8 family; /* XT_AF_INET or XT_AF_INET6; 0 = unset */
	__u8 pad[3]; /* always zero: addresses are compared and hashed as bytes */
	__u8 ip[16];
	__u8 port[2];
};

_Static_assert(sizeof(struct xt_addr) == 22, "xt_addr is a fixed 22-byte layout");

PKT_INLINE void xt_addr_zero(struct xt_addr *a)
{
	__u8 *p = (__u8 *)a;
	for (unsigned int i = 0; i < sizeof(*a); i++)
		p[i] = 0;
}

/* ip4 and port in network order (byte arrays). */
PKT_INLINE void xt_addr_set_v4(struct xt_addr *a, const __u8 ip4[4], __u16 port)
{
	xt_addr_zero(a);
	a->family = XT_AF_INET;
	pkt_copy(a->ip, ip4, 4);
	put_be16(a->port, port);
}

PKT_INLINE void xt_addr_set_v6(struct xt_addr *a, const __u8 ip6[16], __u16 port)
{
	xt_addr_zero(a);
	a->family = XT_AF_INET6;
	pkt_copy(a->ip, ip6, 16);
	put_be16(a->port, port);
}

PKT_INLINE __u16 xt_addr_port(const struct xt_addr *a)
{
	return get_be16(a->port);
}

PKT_INLINE void xt_addr_set_port(struct xt_addr *a, __u16 port)
{
	put_be16(a->port, port);
}

PKT_INLINE unsigned int xt_addr_ip_len(const struct xt_addr *a)
{
	return a->family == XT_AF_INET ? 4 : 16;
}

/* Address and port equal. */
PKT_INLINE int xt_addr_equal(const struct xt_addr *a, const struct xt_addr *b)
{
	return pkt_bytes_equal((const __u8 *)a, (const __u8 *)b, sizeof(*a));
}

/* Same family and IP, any port (permissions are keyed by IP only: RFC 8656 §9). */
PKT_INLINE int xt_addr_ip_equal(const struct xt_addr *a, const struct xt_addr *b)
{
	return a->family == b->family && pkt_bytes_equal(a->ip, b->ip, 16);
}

#endif
