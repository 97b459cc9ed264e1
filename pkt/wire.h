/* pkt/wire.h — Ethernet, 802.1Q, IPv4, IPv6 and UDP headers as byte arrays in network order.
 *
 * Layout only: no behaviour, no libc, no host-endian integers. Shared by user space and the XDP
 * program; every struct's size is pinned so that both compilers agree with the wire.
 */
#ifndef XTURN_PKT_WIRE_H
#define XTURN_PKT_WIRE_H

#include "pkt/bytes.h"

#define PKT_ETH_ALEN 6
#define PKT_ETH_P_IPV4 0x0800
#define PKT_ETH_P_IPV6 0x86DD
#define PKT_ETH_P_8021Q 0x8100
#define PKT_ETH_P_8021AD 0x88A8

#define PKT_IPPROTO_UDP 17
#define PKT_IPV4_DF 0x4000 /* in frag_off, host order */
#define PKT_IPV4_MF 0x2000
#define PKT_IPV4_OFFSET_MASK 0x1FFF
#define PKT_IPV6_HDR_HOPOPTS 0
#define PKT_IPV6_HDR_ROUTING 43
#define PKT_IPV6_HDR_FRAGMENT 44
#define PKT_IPV6_HDR_ESP 50
#define PKT_IPV6_HDR_AUTH 51
#define PKT_IPV6_HDR_NONE 59
#define PKT_IPV6_HDR_DSTOPTS 60
#define PKT_IPV6_HDR_MOBILITY 135
#define PKT_IPV6_HDR_HIP 139
#define PKT_IPV6_HDR_SHIM6 140

#define PKT_DEFAULT_TTL 64

struct pkt_eth {
	__u8 dst[PKT_ETH_ALEN];
	__u8 src[PKT_ETH_ALEN];
	__u8 type[2];
};

/* One 802.1Q tag; sits between the MACs and the inner ethertype. */
struct pkt_vlan {
	__u8 tci[2];
	__u8 type[2]; /* ethertype of what follows */
};

struct pkt_ipv4 {
	__u8 ver_ihl; /* version 4 in the high nibble, header length in 32-bit words in the low */
	__u8 tos;
	__u8 tot_len[2];
	__u8 id[2];
	__u8 frag_off[2]; /* flags (DF, MF) and fragment offset */
	__u8 ttl;
	__u8 protocol;
	__u8 check[2];
	__u8 saddr[4];
	__u8 daddr[4];
};

struct pkt_ipv6 {
	__u8 ver_tc_flow[4]; /* version 6, traffic class, flow label */
	__u8 payload_len[2];
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct pkt_udp {
	__u8 source[2];
	__u8 dest[2];
	__u8 len[2];
	__u8 check[2];
};

_Static_assert(sizeof(struct pkt_eth) == 14, "Ethernet header is 14 bytes");
_Static_assert(sizeof(struct pkt_vlan) == 4, "802.1Q tag is 4 bytes");
_Static_assert(sizeof(struct pkt_ipv4) == 20, "IPv4 header without options is 20 bytes");
_Static_assert(sizeof(struct pkt_ipv6) == 40, "IPv6 fixed header is 40 bytes");
_Static_assert(sizeof(struct pkt_udp) == 8, "UDP header is 8 bytes");

PKT_INLINE int pkt_ipv6_is_ext_header(__u8 nexthdr)
{
	switch (nexthdr) {
	case PKT_IPV6_HDR_HOPOPTS:
	case PKT_IPV6_HDR_ROUTING:
	case PKT_IPV6_HDR_FRAGMENT:
	case PKT_IPV6_HDR_ESP:
	case PKT_IPV6_HDR_AUTH:
	case PKT_IPV6_HDR_DSTOPTS:
	case PKT_IPV6_HDR_MOBILITY:
	case PKT_IPV6_HDR_HIP:
	case PKT_IPV6_HDR_SHIM6:
		return 1;
	default:
		return 0;
	}
}

#endif
