/* xdp/maps.h — the fast-path maps: the interface between the XDP program and user space
 * (DESIGN.md §1, §3).
 *
 * Keys and values the program and user space both read are fixed layouts built from byte arrays and
 * struct xt_addr (pkt/addr.h): network order, no padding, sizes pinned, so gcc and clang -target bpf
 * agree byte for byte and a hash key compares equal exactly when the addresses do. The exceptions are
 * the counters (struct xt_stat) and the token bucket (struct xt_quota): host-order integers the
 * program updates arithmetically, never put on the wire. This header declares layouts only: the
 * program is xdp/xturn.bpf.c, the user-space side is xdp/loader.h.
 */
#ifndef XTURN_XDP_MAPS_H
#define XTURN_XDP_MAPS_H

#include <linux/bpf.h>
#include "pkt/addr.h"

/* ---- config: BPF_MAP_TYPE_ARRAY, one entry (key 0) ---- */

#define XT_MAX_ADDRS_V4 8
#define XT_MAX_ADDRS_V6 8

#define XT_CFG_FASTPATH (1u << 0) /* relay bound channels in the kernel (else all to user space) */
#define XT_CFG_QUOTA (1u << 1)	  /* consult the quota map on the fast path */
#define XT_CFG_NO_FIB (1u << 2)	  /* skip bpf_fib_lookup: always answer the way the frame came in */

struct xt_config {
	__u8 listen_port[2];	      /* STUN/TURN port on every relay address; 0 = program inert */
	__u8 port_min[2];	      /* relay (allocation) port range, inclusive */
	__u8 port_max[2];
	__u8 flags[2];		      /* XT_CFG_* */
	__u8 mtu[2];		      /* largest IP packet the fast path sends; 0 = only the FIB's */
	__u8 fib_cache_ms[2];	      /* how long a FIB answer is reused; 0 = look up every packet.
				       * User space enforces it (xdp_relay__age_fib_cache): the
				       * program reads no clock for it */
	__u8 fib_gen[4];	      /* FIB answers of another generation are stale: bumped by the
				       * loader on every config store, on request (route or
				       * neighbour change) and as answers age. 32 bits, read in one
				       * aligned load: it never comes back to an old value in
				       * practice (136 years at one bump a second) */
	__u8 n_v4;		      /* valid entries of v4[] */
	__u8 n_v6;		      /* valid entries of v6[] */
	__u8 pad[2];
	__u8 v4[XT_MAX_ADDRS_V4][4];  /* our relay addresses (listen and relay) */
	__u8 v6[XT_MAX_ADDRS_V6][16];
};

_Static_assert(sizeof(struct xt_config) == 20 + 4 * XT_MAX_ADDRS_V4 + 16 * XT_MAX_ADDRS_V6,
	       "xt_config is a fixed layout");
_Static_assert(__builtin_offsetof(struct xt_config, fib_gen) % 4 == 0, "fib_gen is word-aligned");

/* ---- the channel maps: BPF_MAP_TYPE_HASH, one per direction and family ----
 * DESIGN.md §3 keys them by whole struct xt_addr (48 and 44 bytes). Here a key holds only what can
 * vary: the IP addresses of the incoming datagram's family, its source port, and the channel number
 * (client side: the destination port is always the listen port) or the destination port (peer side).
 * A map per family makes the IPv4 keys 12 bytes, which the kernel hashes in one round of jhash2 and
 * compares in one pass; this halves the cost of the lookup on the fast path. The values keep whole
 * addresses: the outgoing family may differ from the incoming one (dual-stack allocations).
 * fastpath__install() (xdp/loader.h) builds both keys of a binding from struct fastpath_binding. */

/* chan4_by_client / chan6_by_client: ChannelData from a client → the datagram to its peer. */
struct xt_chan4_client_key {
	__u8 client[4];	     /* source of the ChannelData message */
	__u8 listen[4];	     /* relay address it was sent to, on the listen port */
	__u8 client_port[2]; /* network order, as every port here */
	__u8 channel[2];     /* channel number, 0x4000..0x7FFF (RFC 8656 §12; legacy RFC 5766) */
};

struct xt_chan6_client_key {
	__u8 client[16];
	__u8 listen[16];
	__u8 client_port[2];
	__u8 channel[2];
};

struct xt_chan_client_val {
	struct xt_addr peer;  /* destination of the relayed datagram */
	struct xt_addr relay; /* relayed transport address of the allocation: the datagram's source */
	__u8 alloc_id[4];     /* quota bucket (0 = none) and statistics */
	__u8 pad[2];
};

_Static_assert(sizeof(struct xt_chan4_client_key) == 12, "xt_chan4_client_key is 12 bytes");
_Static_assert(sizeof(struct xt_chan6_client_key) == 36, "xt_chan6_client_key is 36 bytes");
_Static_assert(sizeof(struct xt_chan_client_val) == 50, "xt_chan_client_val is 50 bytes");

/* chan4_by_peer / chan6_by_peer: a peer's datagram to an allocation → ChannelData to its client. */
struct xt_chan4_peer_key {
	__u8 peer[4];	    /* source of the datagram */
	__u8 relay[4];	    /* allocation address it was sent to */
	__u8 peer_port[2];
	__u8 relay_port[2]; /* the allocation's port */
};

struct xt_chan6_peer_key {
	__u8 peer[16];
	__u8 relay[16];
	__u8 peer_port[2];
	__u8 relay_port[2];
};

struct xt_chan_peer_val {
	struct xt_addr client; /* destination of the ChannelData message */
	struct xt_addr listen; /* its source: the relay address and port the client talks to */
	__u8 channel[2];
	__u8 alloc_id[4];
	__u8 pad[2];
};

_Static_assert(sizeof(struct xt_chan4_peer_key) == 12, "xt_chan4_peer_key is 12 bytes");
_Static_assert(sizeof(struct xt_chan6_peer_key) == 36, "xt_chan6_peer_key is 36 bytes");

/* Both sides' keys of a family share one layout, so that one builder fills them all: the two IP
 * addresses (n bytes each) at 0 and n, then the two 2-byte fields at 2n and 2n + 2. */
#define XT_CHAN_KEY_LAYOUT(key, ip_b, field_a, field_b, n)                                          \
	(__builtin_offsetof(struct key, ip_b) == (n) &&                                             \
	 __builtin_offsetof(struct key, field_a) == 2 * (n) &&                                      \
	 __builtin_offsetof(struct key, field_b) == 2 * (n) + 2)
_Static_assert(XT_CHAN_KEY_LAYOUT(xt_chan4_client_key, listen, client_port, channel, 4) &&
		       XT_CHAN_KEY_LAYOUT(xt_chan4_peer_key, relay, peer_port, relay_port, 4) &&
		       XT_CHAN_KEY_LAYOUT(xt_chan6_client_key, listen, client_port, channel, 16) &&
		       XT_CHAN_KEY_LAYOUT(xt_chan6_peer_key, relay, peer_port, relay_port, 16),
	       "the channel keys share one layout");
_Static_assert(sizeof(struct xt_chan_peer_val) == 52, "xt_chan_peer_val is 52 bytes");

/* ---- relay_ports: BPF_MAP_TYPE_ARRAY of 65536 __u8, indexed by port (host order) ----
 * 1 = allocated (UDP to it goes to user space unless a channel takes it), 0 = free (XDP_PASS: the
 * kernel's own sockets, e.g. a DNS resolver's ephemeral port, keep working). */
#define XT_PORT_FREE 0
#define XT_PORT_ALLOCATED 1

/* ---- quota: BPF_MAP_TYPE_HASH, allocation id (__u8[4] as in the channel values) → token bucket.
 * No entry = no limit. Over quota on the fast path = XDP_DROP and XT_STAT_DROP_QUOTA: handing the
 * datagram to user space instead would let it through there, since user space never saw the bytes
 * the kernel relayed. ---- */
#define XT_QUOTA_MAX_RATE (1ull << 34) /* bytes/s; keeps the refill arithmetic within 64 bits */

struct xt_quota_key {
	__u8 alloc_id[4];
};

struct xt_quota {
	__u64 rate;    /* bytes per second of application data, both directions together */
	__u64 burst;   /* bucket size in bytes */
	__u64 tokens;  /* bytes left; maintained by the program */
	__u64 last_ns; /* bpf_ktime_get_ns() of the last refill; maintained by the program */
	struct bpf_spin_lock lock;
	__u32 pad;
};

/* ---- stats: BPF_MAP_TYPE_PERCPU_ARRAY of struct xt_stat indexed by enum xt_stat_id ----
 * Relay counters count application data bytes (the relayed UDP payload); every other counter counts
 * whole frames as received. A frame handed to user space counts under its reason and then under
 * XT_STAT_XSK or XT_STAT_XSK_MISSING. */
enum xt_stat_id {
	XT_STAT_RELAY_C2P_V4 = 0,  /* client→peer relayed in the kernel, by the client side's family */
	XT_STAT_RELAY_C2P_V6,
	XT_STAT_RELAY_P2C_V4,	   /* peer→client, by the peer side's family */
	XT_STAT_RELAY_P2C_V6,
	XT_STAT_RELAY_HAIRPIN,	   /* client→relay→client in one pass (peer is one of our addresses) */
	XT_STAT_TX_REDIRECT,	   /* relayed frames sent out another interface through tx_ports */
	XT_STAT_FIB_FALLBACK,	   /* FIB could not answer: MACs swapped, sent back out the ingress */
	XT_STAT_XSK,		   /* redirected to the AF_XDP socket of the RX queue */
	XT_STAT_XSK_MISSING,	   /* ... but no socket on that queue: XDP_PASS */
	XT_STAT_PASS_NOT_OURS,	   /* not UDP to one of our addresses on a port of ours: XDP_PASS */
	XT_STAT_PASS_PORT_FREE,	   /* UDP to an unallocated port of the relay range: XDP_PASS */
	XT_STAT_USER_STUN,	   /* to user space: not ChannelData (STUN, reserved channel range) */
	XT_STAT_USER_NO_CHANNEL,   /* to user space: no binding in the channel maps */
	XT_STAT_USER_HAIRPIN,	   /* to user space: the peer is ours but has no channel back */
	XT_STAT_USER_DISABLED,	   /* to user space: fast path off in the config */
	XT_STAT_USER_FRAGMENT,	   /* to user space: IP fragment */
	XT_STAT_USER_IP_OPTIONS,   /* to user space: IPv4 header with options */
	XT_STAT_USER_IPV6_EXT,	   /* to user space: IPv6 extension headers */
	XT_STAT_USER_VLAN,	   /* to user space: 802.1Q/802.1ad tagged */
	XT_STAT_USER_ZERO_CSUM,	   /* to user space: IPv4 UDP checksum 0 (nothing to update) */
	XT_STAT_USER_BAD_LENGTH,   /* to user space: IP/UDP lengths inconsistent */
	XT_STAT_USER_PADDING,	   /* to user space: more than 3 bytes after the ChannelData */
	XT_STAT_USER_MTU,	   /* to user space: the relayed packet would exceed the MTU */
	XT_STAT_USER_ROUTE,	   /* to user space: FIB says blackhole/unreachable/prohibit */
	XT_STAT_USER_NO_TX_PORT,   /* to user space: egress interface not in tx_ports */
	XT_STAT_USER_NO_HEADROOM,  /* to user space: bpf_xdp_adjust_head refused to grow */
	XT_STAT_USER_NO_NEIGH,	   /* to user space: FIB knows the route, not the next hop's MAC yet */
	XT_STAT_DROP_CHANNEL_LEN,  /* dropped: ChannelData length past the end of the datagram */
	XT_STAT_DROP_QUOTA,	   /* dropped: allocation over its bandwidth quota */
	XT_STAT_DROP_TTL,	   /* dropped: TTL / hop limit exhausted (RFC 8656 §14) */
	XT_STAT_DROP_IP_CSUM,	   /* dropped: IPv4 header checksum wrong */
	XT_STAT_DROP_INTERNAL,	   /* dropped: a helper failed after the frame was changed */
	XT_STAT_COUNT
};

struct xt_stat {
	__u64 packets;
	__u64 bytes;
};

#endif
