/* pkt/build.h — build Ethernet [+ 802.1Q] + IPv4/IPv6 + UDP frames around a payload.
 *
 * Used by user-space transmit (responses and relayed datagrams written into UMEM frames) and by tests.
 * The frame gets finished checksums: IPv4 header checksum, and a UDP checksum that is never 0.
 */
#ifndef XTURN_PKT_BUILD_H
#define XTURN_PKT_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include "pkt/addr.h"
#include "pkt/wire.h"

struct pkt_frame_spec {
	__u8 src_mac[PKT_ETH_ALEN];
	__u8 dst_mac[PKT_ETH_ALEN];
	struct xt_addr src; /* address and port; src and dst of one family */
	struct xt_addr dst;
	bool has_vlan;
	__u16 vlan_tci;
	__u8 ttl;	    /* IPv4 TTL or IPv6 hop limit; 0 means PKT_DEFAULT_TTL */
	__u8 tos;	    /* IPv4 TOS or IPv6 traffic class */
	bool dont_fragment; /* IPv4 DF (RFC 8656 §14: DONT-FRAGMENT) */
	__u16 ip_id;	    /* IPv4 identification */
};

/* Bytes in front of the payload: Ethernet, optional tag, IP and UDP headers. */
size_t pkt_headers_len(const struct pkt_frame_spec *spec);

/* Writes a whole frame into buf (cap bytes): headers, then payload_len bytes from payload. payload may
 * already sit at buf + pkt_headers_len(spec) (building in place) or anywhere else, overlapping or not.
 * Returns the frame length, -EMSGSIZE when it does not fit in cap or in a UDP datagram, or -EINVAL for
 * mismatched or unset address families. */
int pkt_build_udp(void *buf, size_t cap, const struct pkt_frame_spec *spec, const void *payload,
		  size_t payload_len);

#endif
