/* xdp/loader.h — user space side of the XDP program: load, configure, attach, fill the fast-path
 * maps, read the counters.
 *
 * One struct xdp_relay owns one loaded copy of xdp/xturn.bpf.c (from its libbpf skeleton) and at most
 * one attachment. It attaches with libbpf's bpf_xdp_attach() in native mode, or generic mode when
 * native is refused and the mode allows it; libxdp's multi-program dispatcher is deliberately not
 * used (it cannot load here, and the relay owns its NIC). Functions return 0 or a negative errno; a
 * human-readable reason for the last failure in this thread is in xdp_relay__errmsg(). The loader
 * never logs per packet and logs nothing itself except through opts->log (warnings such as the
 * generic-mode fallback).
 *
 * Must not: decide anything about TURN state. Callers (app/) translate CHANNEL_BOUND / CHANNEL_EXPIRED
 * actions into fastpath__install() / fastpath__remove() and allocations into port marks.
 */
#ifndef XTURN_XDP_LOADER_H
#define XTURN_XDP_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include "xdp/maps.h"

enum xdp_relay_mode {
	XDP_RELAY_MODE_AUTO = 0, /* native; generic with a warning when native is refused */
	XDP_RELAY_MODE_NATIVE,	 /* native or fail (config `xdp: {mode: native}`) */
	XDP_RELAY_MODE_GENERIC,	 /* generic (SKB) mode only */
};

enum xdp_relay_log_level { XDP_RELAY_LOG_WARN, XDP_RELAY_LOG_INFO };

struct xdp_relay_opts {
	const char *verifier_log; /* file for the verifier log of a rejected program;
				   * NULL = /tmp/xturn-verifier.log */
	__u32 max_channels;	  /* entries of each of the four channel maps; 0 = 65536 */
	__u32 max_quotas;	  /* entries of quota; 0 = 65536 */
	__u32 max_queues;	  /* entries of xsks (RX queues); 0 = 64 */
	void (*log)(enum xdp_relay_log_level level, const char *msg); /* NULL = stderr */
};

struct xdp_relay;

/* Opens and loads the program (verifier included) without attaching it; the config starts zeroed,
 * which makes the program pass every frame untouched. NULL + errno on failure, with the reason in
 * xdp_relay__errmsg() (permission, verifier rejection and where its log was saved, ...). */
struct xdp_relay *xdp_relay__open(const struct xdp_relay_opts *opts);

/* Detaches (if attached) and frees everything. NULL is fine. */
void xdp_relay__destroy(struct xdp_relay *r);

/* -ENODEV: no such interface; -EPERM: not allowed; -EBUSY: another XDP program is attached;
 * -EOPNOTSUPP: the mode is not supported by the driver; -EALREADY: this relay is attached. */
int xdp_relay__attach(struct xdp_relay *r, const char *ifname, enum xdp_relay_mode mode);
int xdp_relay__detach(struct xdp_relay *r);
/* The mode actually in use (NATIVE or GENERIC) once attached; AUTO while not attached. */
enum xdp_relay_mode xdp_relay__mode(const struct xdp_relay *r);
int xdp_relay__ifindex(const struct xdp_relay *r); /* 0 while not attached */

const char *xdp_relay__errmsg(void);

/* ---- config ---- */

/* A config with no addresses yet; mtu defaults to 1500, fib_cache_ms to 1000. Flags are XT_CFG_*. */
void xt_config__init(struct xt_config *cfg, __u16 listen_port, __u16 port_min, __u16 port_max,
		     __u16 flags);
/* Adds a relay address (its port is ignored). -ENOSPC when full, -EINVAL for an unset family. */
int xt_config__add_addr(struct xt_config *cfg, const struct xt_addr *addr);
/* Validates (range ordered, listen port outside it, counts within bounds) and stores. */
int xdp_relay__set_config(struct xdp_relay *r, const struct xt_config *cfg);
int xdp_relay__get_config(struct xdp_relay *r, struct xt_config *cfg);
/* Makes the program forget every cached FIB answer (call on routing or neighbour changes: netlink
 * RTM_NEWROUTE/DELROUTE/NEWNEIGH/DELNEIGH). */
int xdp_relay__flush_fib_cache(struct xdp_relay *r);
/* The program keeps FIB answers until told otherwise (it reads no clock): call this periodically
 * with a monotonic clock, and it flushes the cache whenever cfg->fib_cache_ms have passed since it
 * last did; an answer lives at most fib_cache_ms plus the calling period (xturnd: 50 ms). Without
 * the calls (no xturnd, e.g. after kill -9 left the program attached) answers stay until the next
 * config store. */
int xdp_relay__age_fib_cache(struct xdp_relay *r, __u64 now_ms);

/* ---- fast path: channel bindings (both map entries), quotas ---- */

struct fastpath_binding {
	struct xt_addr client; /* the client's transport address (as seen by the relay) */
	struct xt_addr listen; /* relay address and listen port the client talks to */
	struct xt_addr peer;   /* the peer transport address bound to the channel */
	struct xt_addr relay;  /* the allocation's relayed transport address */
	__u16 channel;	       /* 0x4000..0x4FFF (RFC 8656), up to 0x7FFF with legacy channels */
	__u32 alloc_id;	       /* quota bucket key; 0 = no quota */
};

/* Installs or refreshes both entries, before the ChannelBind success is sent. -ENOSPC when a map is
 * full (nothing is left installed: the caller relays this channel in user space), -EINVAL for a
 * malformed binding (families of client/listen or peer/relay differ, channel out of range). */
int fastpath__install(struct xdp_relay *r, const struct fastpath_binding *b);
/* Removes both entries (channel expiry, allocation deletion). -ENOENT when neither was there. */
int fastpath__remove(struct xdp_relay *r, const struct fastpath_binding *b);
/* 0 / -ENOENT: whether both entries are installed. */
int fastpath__lookup(struct xdp_relay *r, const struct fastpath_binding *b);

/* Token bucket of an allocation, used when the config has XT_CFG_QUOTA: rate in bytes/s of
 * application data (both directions), burst in bytes; the bucket starts full. Over quota, the fast
 * path drops (see xdp/maps.h). -EINVAL for alloc_id 0 or rate above XT_QUOTA_MAX_RATE. */
int fastpath__set_quota(struct xdp_relay *r, __u32 alloc_id, __u64 rate, __u64 burst);
int fastpath__clear_quota(struct xdp_relay *r, __u32 alloc_id);

/* ---- steering ---- */

/* Relay port allocated (UDP to it goes to user space or a channel) or free (XDP_PASS). */
int xdp_relay__mark_port(struct xdp_relay *r, __u16 port, bool allocated);
/* The AF_XDP socket of an RX queue (created with XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD). */
int xdp_relay__register_xsk(struct xdp_relay *r, __u32 queue, int xsk_fd);
int xdp_relay__unregister_xsk(struct xdp_relay *r, __u32 queue);
/* An interface the fast path may send out of when the FIB says so (XDP_REDIRECT via tx_ports). */
int xdp_relay__add_tx_port(struct xdp_relay *r, int ifindex);
int xdp_relay__remove_tx_port(struct xdp_relay *r, int ifindex);

/* ---- counters and raw access ---- */

/* Per-CPU counters summed: out[XT_STAT_COUNT]. */
int xdp_relay__read_stats(struct xdp_relay *r, struct xt_stat *out);
/* Stable snake_case name of a counter ("relay_c2p_v4", "drop_quota", ...); NULL when out of range. */
const char *xdp_relay__stat_name(unsigned int id);

enum xdp_relay_map {
	XDP_RELAY_MAP_CONFIG,
	XDP_RELAY_MAP_CHAN4_BY_CLIENT,
	XDP_RELAY_MAP_CHAN6_BY_CLIENT,
	XDP_RELAY_MAP_CHAN4_BY_PEER,
	XDP_RELAY_MAP_CHAN6_BY_PEER,
	XDP_RELAY_MAP_RELAY_PORTS,
	XDP_RELAY_MAP_QUOTA,
	XDP_RELAY_MAP_XSKS,
	XDP_RELAY_MAP_TX_PORTS,
	XDP_RELAY_MAP_STATS,
};

int xdp_relay__map_fd(const struct xdp_relay *r, enum xdp_relay_map map);
int xdp_relay__prog_fd(const struct xdp_relay *r);

#endif
