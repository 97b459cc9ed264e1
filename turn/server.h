/* turn/server.h — the sans-IO TURN server (RFC 8656 over UDP, RFC 8489 long-term credentials).
 *
 * A turn_server owns allocations, permissions, channels, the relay port pool, timers, quotas and
 * the peer policy. It is driven by three inputs — a datagram from a client on the listen port, a
 * datagram from a peer on an allocation's relay port, and the passing of time — and answers each
 * with actions appended to a caller-provided struct turn_actions: datagrams to send, channel
 * (un)bindings and allocation creations/deletions for the XDP maps, and the time it next wants to
 * be called. It reads no clock, opens no socket, logs nothing, and takes randomness from an
 * injected function: the same inputs give the same actions, byte for byte. No malloc on the packet
 * path (objects come from pools; tables are sized by configuration). One server belongs to one
 * thread.
 */
#ifndef XTURN_TURN_SERVER_H
#define XTURN_TURN_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pkt/addr.h"

struct auth_store;

/* Randomness source: fills buf with len random bytes. Relay ports, reservation tokens, transaction
 * IDs of Data indications, the nonce key and the hash seeds come from it. */
typedef void (*turn_random_fn)(void *ctx, uint8_t *buf, size_t len);

/* Same layout as config/'s struct xturn_cidr (turn/ does not depend on config/). */
struct turn_cidr {
	uint8_t family; /* XT_AF_INET or XT_AF_INET6 */
	uint8_t prefix_len;
	uint8_t ip[16]; /* host bits cleared */
};

#define TURN_MAX_RELAY_ADDRS 16

struct turn_relay_addr {
	struct xt_addr addr;	   /* listen and relay address (port ignored) */
	struct xt_addr advertised; /* 1:1 NAT address put in XOR-RELAYED-ADDRESS; family 0 = addr */
};

struct turn_server_config {
	/* Credentials and realm (auth_store__realm()). Not owned: the caller keeps it alive until
	 * turn_server__free() or until a turn_server__reconfigure() gives another. Required. */
	const struct auth_store *auth;
	uint32_t nonce_lifetime;  /* seconds; 0 = 3600 */
	bool password_algorithms; /* offer PASSWORD-ALGORITHMS (MD5, SHA-256), RFC 8489 §9.2 */
	const char *software;	  /* SOFTWARE attribute in every response; NULL = none (default) */

	struct turn_relay_addr relays[TURN_MAX_RELAY_ADDRS];
	size_t n_relays;
	uint16_t listen_port;			 /* informational: `local` is given per input */
	uint16_t relay_port_min, relay_port_max; /* inclusive; 0/0 = 49152-65535 */

	uint32_t default_lifetime; /* seconds; 0 = 600 (RFC 8656 §3.6); also the floor */
	uint32_t max_lifetime;	   /* seconds; 0 = 3600 */
	uint32_t max_per_user;	   /* allocations per username (486); 0 = unlimited */
	uint32_t max_total; /* allocations in the server (508); 0 = 100000; sizes the tables */
	bool legacy_channels; /* ChannelBind accepts 0x4000-0x7FFF (RFC 5766), not only 0x4FFF */
	/* Per-allocation token bucket on data relayed here (both directions together), bytes/s with
	 * a burst of one second's worth; 0 = unlimited. The XDP fast path keeps its own bucket with
	 * the same rate for what it relays (allocations.bandwidth). */
	uint64_t bandwidth_bps;

	/* Peer policy: deny_default adds the built-in list (turn_policy_default_deny()); allow
	 * punches holes in deny. Evaluated on canonical addresses (IPv4-mapped/compatible, NAT64).
	 */
	bool deny_default;
	const struct turn_cidr *deny, *allow;
	size_t n_deny, n_allow;
};

/* ---- actions ---- */

enum turn_action_type {
	TURN_ACT_SEND = 1,	     /* datagram: from -> to */
	TURN_ACT_CHANNEL_BOUND,	     /* install the fast-path channel maps */
	TURN_ACT_CHANNEL_UNBOUND,    /* remove both */
	TURN_ACT_ALLOCATION_CREATED, /* relay address:port now belongs to alloc_id */
	TURN_ACT_ALLOCATION_DELETED, /* relay address:port is free again */
};

struct turn_action {
	uint8_t type;	    /* enum turn_action_type */
	uint8_t prefix_len; /* SEND: 0 or 4; the datagram is prefix[0..prefix_len) then payload */
	uint8_t prefix[4];  /* SEND: a ChannelData header to put before a peer's payload */
	uint16_t channel;   /* CHANNEL_*: channel number */
	uint32_t alloc_id;  /* CHANNEL_*, ALLOCATION_*: the allocation (never 0) */
	union {
		struct {
			struct xt_addr from, to;
			/* Points into the input datagram given to the call (relayed data: the
			 * daemon may reuse the RX frame in place) or into the actions' arena. */
			const uint8_t *payload;
			uint32_t len;
		} send;
		struct {
			struct xt_addr client; /* the 5-tuple: client and relay listen address */
			struct xt_addr listen;
			struct xt_addr peer;
			struct xt_addr relay; /* relay address with the allocation's port */
		} chan;
		struct {
			struct xt_addr relay; /* relay address with the allocation's port */
		} alloc;
	};
};

/* Capacity a caller must give each call (more is better: expiries are emitted as room allows). */
#define TURN_ACTIONS_MIN 8
#define TURN_ARENA_MIN	 4096 /* an answer with the longest REALM and SOFTWARE fits */

/* The output of each call. Calls append; turn_actions__reset() empties it. wake_at is rewritten by
 * every call: the time (ms) at which turn_server__tick() must next be called; UINT64_MAX = never.
 * wake_at <= now means "call tick again at once" (cleanup actions did not fit). */
struct turn_actions {
	struct turn_action *v;
	uint32_t n, cap;
	uint8_t *arena;
	uint32_t arena_len, arena_cap;
	uint64_t wake_at;
};

void turn_actions__init(struct turn_actions *out, struct turn_action *v, uint32_t cap,
			uint8_t *arena, uint32_t arena_cap);
void turn_actions__reset(struct turn_actions *out);

/* ---- the server ---- */

struct turn_server;

/* NULL + errno: EINVAL (no auth store, no relay address, bad port range, lifetimes or CIDRs),
 * ENOMEM. */
struct turn_server *turn_server__new(const struct turn_server_config *cfg, turn_random_fn rnd,
				     void *rnd_ctx);
void turn_server__free(struct turn_server *s);

/* SIGHUP: takes credentials, nonce lifetime, software, lifetimes, quotas and peer policy from cfg;
 * keeps every allocation, and the nonce key (nonces given stay valid). Relay addresses, port range
 * and max_total (table sizes) cannot change: -EINVAL, nothing changed. Existing permissions are
 * judged again by the new peer policy: those it refuses are removed at once (counted in
 * permissions_revoked), and the next turn_server__tick() takes their channels out of the kernel
 * (CHANNEL_UNBOUND). Returns 0 or -EINVAL. */
int turn_server__reconfigure(struct turn_server *s, const struct turn_server_config *cfg);

/* now_ms is UNIX time in milliseconds (REST API usernames carry UNIX times); it must not go back.
 * Every input returns 0 (handled, dropped or answered: see the stats), -ENOBUFS (out has too little
 * room: nothing was done; flush the actions, reset and call again) or -EINVAL (bad arguments). */

/* A datagram from client to local (one of our addresses, listen port): STUN or ChannelData. */
int turn_server__input_client(struct turn_server *s, uint64_t now_ms, const struct xt_addr *local,
			      const struct xt_addr *client, const uint8_t *data, size_t len,
			      struct turn_actions *out);
/* A datagram from peer to relay (one of our addresses with an allocation's port). */
int turn_server__input_peer(struct turn_server *s, uint64_t now_ms, const struct xt_addr *relay,
			    const struct xt_addr *peer, const uint8_t *data, size_t len,
			    struct turn_actions *out);
/* Expires what is due at now_ms and emits pending cleanup actions. Returns 0 or -EINVAL. */
int turn_server__tick(struct turn_server *s, uint64_t now_ms, struct turn_actions *out);
/* The next time tick wants to run (UINT64_MAX = nothing scheduled). */
uint64_t turn_server__next_wake(const struct turn_server *s, uint64_t now_ms);

/* ---- statistics and inspection (metrics, xturnctl) ---- */

enum turn_stat_method {
	TURN_M_BINDING,
	TURN_M_ALLOCATE,
	TURN_M_REFRESH,
	TURN_M_CREATE_PERMISSION,
	TURN_M_CHANNEL_BIND,
	TURN_M_OTHER,
	TURN_M__COUNT
};

enum turn_stat_result {
	TURN_R_SUCCESS,
	TURN_R_400,
	TURN_R_401,
	TURN_R_403,
	TURN_R_420,
	TURN_R_437,
	TURN_R_438,
	TURN_R_440,
	TURN_R_441,
	TURN_R_442,
	TURN_R_443,
	TURN_R_486,
	TURN_R_500,
	TURN_R_508,
	TURN_R__COUNT
};

enum turn_drop_reason {
	TURN_DROP_MALFORMED,	   /* not STUN nor ChannelData, bad header, bad attribute */
	TURN_DROP_NOT_REQUEST,	   /* responses, unknown indications from clients */
	TURN_DROP_NO_ALLOCATION,   /* indication/ChannelData/peer datagram without an allocation */
	TURN_DROP_UNKNOWN_CHANNEL, /* ChannelData on a channel not bound */
	TURN_DROP_NO_PERMISSION,   /* Send or peer datagram without a permission */
	TURN_DROP_SELF,		   /* aimed at the relay itself but not at an allocation */
	TURN_DROP_POLICY,	   /* peer refused by the deny list (Send indication) */
	TURN_DROP_FAMILY,	   /* Send to a peer of a family the allocation has no relay for */
	TURN_DROP_TOO_BIG,	   /* Data indication would exceed 65535 or the arena */
	TURN_DROP_QUOTA,	   /* the allocation is over its bandwidth quota */
	TURN_DROP__COUNT
};

struct turn_server_stats {
	uint64_t allocations; /* gauge: live allocations */
	uint64_t permissions; /* gauge */
	uint64_t channels;    /* gauge: bound (not cooling down) */
	uint64_t requests[TURN_M__COUNT][TURN_R__COUNT];
	uint64_t drops[TURN_DROP__COUNT];
	uint64_t to_peer_packets, to_peer_bytes;     /* relayed in user space, client -> peer */
	uint64_t to_client_packets, to_client_bytes; /* relayed in user space, peer -> client */
	uint64_t hairpin_packets;
	uint64_t permissions_revoked; /* by a turn_server__reconfigure() with a stricter peer policy */
	uint64_t memory_bytes; /* bytes held in pools and tables (own accounting) */
};

void turn_server__stats(const struct turn_server *s, struct turn_server_stats *st);
const char *turn_stat_method_name(enum turn_stat_method m);
int turn_stat_result_code(enum turn_stat_result r); /* 0 for success */
const char *turn_drop_reason_name(enum turn_drop_reason r);

struct turn_alloc_info {
	uint32_t id;
	struct xt_addr client, listen;
	struct xt_addr relay[2]; /* [0] IPv4, [1] IPv6; family 0 = none */
	uint64_t expires_ms[2];
	const uint8_t *user; /* valid during the callback only */
	size_t user_len;
	uint32_t n_permissions, n_channels;
};

struct turn_channel_info {
	uint16_t channel;
	bool bound;	/* false: cooling down (RFC 8656 §12: 5 minutes) */
	bool installed; /* in the kernel maps */
	struct xt_addr peer;
	uint64_t expires_ms;
};

/* Calls fn for each live allocation (of user, when user is not NULL) until fn returns non-zero,
 * which is returned. Order is unspecified. */
int turn_server__foreach_allocation(const struct turn_server *s, const uint8_t *user,
				    size_t user_len,
				    int (*fn)(const struct turn_alloc_info *a, void *ctx),
				    void *ctx);
/* Calls fn for each channel of allocation id; -ENOENT if there is no such allocation. */
int turn_server__foreach_channel(const struct turn_server *s, uint32_t alloc_id,
				 int (*fn)(const struct turn_channel_info *c, void *ctx),
				 void *ctx);

#endif
