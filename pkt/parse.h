/* pkt/parse.h — bounds-checked parse of an Ethernet frame carrying UDP over IPv4 or IPv6.
 *
 * pkt_parse() reads only the first len bytes it is given and either fills a pkt_view (offsets and the
 * 5-tuple) or says why it refused the frame. It changes nothing and verifies no checksum (that is
 * pkt_verify_checksums()). User space only; the XDP program does its own verifier-friendly parse with
 * the same wire structs.
 */
#ifndef XTURN_PKT_PARSE_H
#define XTURN_PKT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include "pkt/addr.h"
#include "pkt/wire.h"

enum pkt_refusal {
	PKT_OK = 0,
	PKT_TOO_SHORT,	  /* the frame ends inside a header */
	PKT_NOT_IP,	  /* ethertype is not IPv4/IPv6 (after at most one 802.1Q tag), or wrong version */
	PKT_IP_OPTIONS,	  /* IPv4 header longer than 20 bytes */
	PKT_FRAGMENT,	  /* IPv4 MF set or non-zero offset */
	PKT_IPV6_EXT_HDR, /* IPv6 next header is an extension header */
	PKT_BAD_LENGTH,	  /* IP or UDP length fields inconsistent with each other or the frame */
	PKT_NOT_UDP,	  /* transport is not UDP */
	PKT_REFUSAL_COUNT
};

struct pkt_view {
	__u16 l3_off;	   /* IP header */
	__u16 l4_off;	   /* UDP header */
	__u16 payload_off; /* UDP payload */
	__u16 payload_len; /* from the UDP length field */
	__u16 ip_end;	   /* l3_off + IP total length: bytes past it are Ethernet padding */
	__u16 vlan_tci;	   /* valid when has_vlan */
	bool has_vlan;
	__u8 family; /* XT_AF_INET or XT_AF_INET6 */
	struct xt_addr src;
	struct xt_addr dst;
};

enum pkt_refusal pkt_parse(const void *frame, size_t len, struct pkt_view *view);

/* A short stable name for a refusal, for counters and logs ("too_short", "not_udp", ...). */
const char *pkt_refusal_name(enum pkt_refusal refusal);

/* True when a parsed frame's IPv4 header checksum (if IPv4) and UDP checksum are right. An IPv4 UDP
 * checksum of 0 means "none" and is accepted here; callers that need one check for it. */
bool pkt_verify_checksums(const void *frame, const struct pkt_view *view);

#endif
