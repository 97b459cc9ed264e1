/* app/pipeline.h — one received frame through the user-space path: parse, classify, the TURN core,
 * and the frames it answers with (MACs, addresses, ports, lengths and checksums by pkt/build).
 *
 * The same code serves xturnd's workers (frames in UMEM) and xturn-replay (frames from a pcap): the
 * caller owns the buffers and applies the side effects that are not frames (BPF map updates for
 * CHANNEL_* and ALLOCATION_* actions, left in the turn_actions in their order). The pipeline reads no
 * clock: now is an input.
 */
#ifndef XTURN_APP_PIPELINE_H
#define XTURN_APP_PIPELINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "app/neigh.h"
#include "config/config.h"
#include "pkt/parse.h"
#include "turn/server.h"

#define PIPELINE_MAX_ADDRS 16
#define PIPELINE_MAX_TX 8
#define PIPELINE_MAX_ACTIONS 64
#define PIPELINE_ARENA 8192

enum pipeline_drop {
	PL_DROP_NOT_PARSED,   /* pkt_parse refused it (reason counted in parse_refusals) */
	PL_DROP_NOT_OURS,     /* not to one of our addresses, or not to our ports */
	PL_DROP_BAD_CHECKSUM, /* IPv4 header or UDP checksum wrong */
	PL_DROP_NO_NEIGHBOUR, /* next hop MAC still unknown when the hold time ran out */
	PL_DROP_UNREACHABLE,  /* no route on our interface */
	PL_DROP_NO_BUFFER,    /* no spare frame to build in */
	PL_DROP_TOO_BIG,      /* frame would not fit a buffer */
	PL_DROP_TURN_BUSY,    /* the core had no room for its actions */
	PL_DROP__COUNT
};

struct pipeline_stats {
	uint64_t frames_in, frames_out;
	uint64_t drops[PL_DROP__COUNT];
	uint64_t parse_refusals[PKT_REFUSAL_COUNT];
	uint64_t in_place; /* relayed by rewriting the received frame */
};

struct pipeline_config {
	struct turn_server *server;
	pthread_mutex_t *server_lock; /* shared by every worker; NULL when single-threaded */
	struct neigh_cache *neigh;
	uint8_t our_mac[6];
	uint16_t listen_port, relay_port_min, relay_port_max;
	struct xt_addr addrs[PIPELINE_MAX_ADDRS]; /* ports ignored */
	size_t n_addrs;
	bool verify_checksums;
};

struct pipeline {
	struct pipeline_config cfg;
	struct turn_actions actions;
	struct turn_action action_buf[PIPELINE_MAX_ACTIONS];
	uint8_t arena[PIPELINE_ARENA];
	struct pipeline_stats stats;
};

/* A buffer the pipeline may build a frame in: data[0..cap). handle is the caller's (UMEM address). */
struct pl_buf {
	uint8_t *data;
	uint32_t cap;
	uint64_t handle;
};

/* A frame to transmit: buf.data[offset .. offset+len). An unresolved frame is complete but for its
 * destination MAC (all zero): the next hop towards `to` is being resolved, and the caller holds the
 * frame until neigh_cache__lookup() answers (or drops it, counted), like the kernel's ARP queue. */
struct pl_tx {
	uint64_t handle;
	uint32_t offset, len;
	bool unresolved;
	struct xt_addr to;
};

struct pl_io {
	/* in: the received frame at in.data[in_off .. in_off+in_len); bytes before in_off in the same
	 * buffer are headroom the pipeline may grow the frame into */
	struct pl_buf in;
	uint32_t in_off, in_len;
	bool in_consumed; /* out: the input buffer is now a TX frame; the caller must not free it */
	/* spare buffers, taken from the end (n_spare decreases) */
	struct pl_buf *spare;
	unsigned int n_spare;
	/* out: frames to transmit, in order */
	struct pl_tx tx[PIPELINE_MAX_TX];
	unsigned int n_tx;
};

void pipeline__init(struct pipeline *pl, const struct pipeline_config *cfg);

/* The pipeline config for a loaded xturn configuration (ports, addresses; checksums verified), as
 * both xturnd and xturn-replay run it. */
void pipeline_config__from(struct pipeline_config *pc, const struct xturn_config *cfg,
			   struct turn_server *server, pthread_mutex_t *server_lock,
			   struct neigh_cache *neigh, const uint8_t our_mac[6]);

/* Handles one frame. The turn actions that are not datagrams are left in pl->actions for the caller,
 * who must apply them before transmitting io->tx (a ChannelBind success may only leave once the
 * channel is in the kernel maps). Returns 0 (also for frames dropped and counted). */
int pipeline__input(struct pipeline *pl, uint64_t now_ms, struct pl_io *io);

/* Turns the SEND actions in acts into frames (used for tick output and by pipeline__input). */
void pipeline__emit(struct pipeline *pl, const struct turn_actions *acts, const uint8_t *in_data,
		    uint32_t in_len, bool has_vlan, uint16_t vlan_tci, struct pl_io *io);

const char *pipeline_drop_name(enum pipeline_drop d);

#endif
