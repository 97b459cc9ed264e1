/* tools/xturn-load/load.h — the parts of xturn-load, the TURN load generator.
 *
 * turnc.c opens allocations the ordinary way (kernel UDP sockets, STUN from turn/stun.h, keys from
 * turn/auth.h): Allocate with the long-term or REST credential challenge, CreatePermission and
 * ChannelBind towards the peers. data.c then sends ChannelData (or, with --raw, plain datagrams to an
 * echoing target) from those sockets' addresses, paced or as fast as possible, through an AF_XDP
 * socket (xdpio.c) or sendmmsg, and matches what comes back against the sequence numbers and send
 * timestamps it wrote into each payload. hist.c keeps latencies. The echo and sink roles are the peer
 * side. Every loop is bounded by a packet count, a duration or a retry limit; nothing here runs
 * forever, and nothing logs per packet.
 */
#ifndef XTURN_TOOLS_LOAD_H
#define XTURN_TOOLS_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "pkt/addr.h"
#include "turn/auth.h"

/* ---- payload written by the sender, read back by the receiver ---- */

#define LOAD_MAGIC 0x58544c44u /* "XTLD" */
#define LOAD_HDR_LEN 24	      /* magic, flow, seq, send time: the smallest --size */
#define LOAD_MAX_SIZE 1400     /* application payload; fits every MTU-1500 path with headers */

/* Byte offsets inside the application payload (all big-endian, all at even offsets). */
#define LOAD_OFF_MAGIC 0
#define LOAD_OFF_FLOW 4
#define LOAD_OFF_SEQ 8
#define LOAD_OFF_TIME 16

/* ---- latency histogram (log-linear, ~1.6% resolution) ---- */

#define HIST_SUB_BITS 6
#define HIST_BUCKETS ((64 - HIST_SUB_BITS) << HIST_SUB_BITS)

struct hist {
	uint64_t count;
	uint64_t min, max;
	double sum;
	uint64_t b[HIST_BUCKETS];
};

void hist__add(struct hist *h, uint64_t v);
/* The value at quantile q in [0, 1] (the bucket's upper edge), 0 when empty. */
uint64_t hist__quantile(const struct hist *h, double q);

/* ---- options ---- */

enum load_role { ROLE_CLIENT, ROLE_ECHO, ROLE_SINK };
enum load_mode { MODE_AUTO, MODE_XDP, MODE_UDP };

#define LOAD_MAX_PEERS 64
#define LOAD_MAX_FLOWS 4096

struct load_opts {
	enum load_role role;
	enum load_mode mode;
	struct xt_addr server;		/* client: the TURN server (or the --raw echo target) */
	struct xt_addr bind;		/* client: source IP (port 0); unset = chosen by the route */
	struct xt_addr listen;		/* echo/sink: where to listen */
	struct xt_addr peers[LOAD_MAX_PEERS];
	unsigned int n_peers;
	bool local_echo;		/* client: this process also echoes for the peers */
	bool raw;			/* client: no TURN, plain datagrams to server, expect them back */
	const char *user, *password, *secret;
	bool sha256;			/* MESSAGE-INTEGRITY-SHA256 when the server offers it */
	unsigned int allocations;
	unsigned int size;		/* application payload bytes */
	uint64_t rate;			/* packets per second over all flows; 0 = as fast as possible */
	double duration;		/* seconds */
	uint64_t count;			/* packets; 0 = no bound but the duration */
	unsigned int window;		/* max packets in flight; 0 = open loop */
	unsigned int batch;
	unsigned int drain_ms;		/* wait for stragglers after the last send */
	const char *dev;		/* interface for --mode xdp; default: the route's */
	bool xdp_replace;		/* swap out an XDP program found on dev for the run */
	bool json;
	bool quiet;
};

/* ---- one flow: an allocation with its channel towards one peer ---- */

struct turnc;

struct flow {
	int fd;			/* the client's UDP socket (connected to the server) */
	struct xt_addr local;	/* its address: the client 5-tuple half the relay sees */
	struct xt_addr relayed; /* XOR-RELAYED-ADDRESS */
	struct xt_addr mapped;	/* XOR-MAPPED-ADDRESS */
	struct xt_addr peer;
	uint16_t channel;
	struct turnc *turn; /* the allocation's client state (turnc.c); NULL with --raw */
	/* data plane */
	uint64_t next_seq;
	uint64_t rx, rx_highest, reordered;
	bool rx_any;
};

/* turnc.c: opens flow f (socket, Allocate, CreatePermission, ChannelBind). 0 or -errno; on failure
 * err says why (the server's error code and reason, or the step that timed out). */
int turnc__open(const struct load_opts *o, struct flow *f, unsigned int index, char *err,
		size_t err_len);
/* --raw: only the socket, connected to the target. */
int turnc__open_raw(const struct load_opts *o, struct flow *f, char *err, size_t err_len);
/* Deletes the flow's allocation (Refresh with LIFETIME 0), so that a later run reusing the same
 * client port is not answered 437, and closes its socket. 0 or -errno with err saying why. */
int turnc__close(struct flow *f, char *err, size_t err_len);

/* ---- data plane results ---- */

struct load_result {
	const char *mode; /* "xdp" or "udp" */
	uint64_t sent, received, reordered, bad, echoed;
	uint64_t tx_again; /* sends the kernel refused for lack of room (not counted as sent) */
	double seconds;	   /* first send to last send */
	/* AF_XDP socket counters (XDP_STATISTICS): frames the generator itself lost */
	uint64_t xsk_rx_dropped, xsk_rx_ring_full, xsk_fill_empty;
	struct hist rtt;   /* ns */
};

/* data.c */
int data__run_client(const struct load_opts *o, struct flow *flows, unsigned int n,
		     struct load_result *r);
int data__run_peer(const struct load_opts *o, struct load_result *r);

/* ---- AF_XDP (xdpio.c) ---- */

struct xdpio;

/* Attaches the steering program to dev, opens an AF_XDP socket on queue 0 and steers the given
 * local endpoints to it. An XDP program already on dev is an error (EBUSY) unless replace: then it
 * is swapped out for the run and back at close. NULL + errno. */
struct xdpio *xdpio__open(const char *dev, const struct xt_addr *ep, unsigned int n_ep,
			  bool replace);
void xdpio__close(struct xdpio *x);

/* The interface that routes to dst (name into dev[IFNAMSIZ]) and the next hop's MAC, from the
 * kernel's route and neighbour tables (netlink). 0, -ENOENT (no neighbour entry yet), -errno. */
int xdpio__next_hop(const struct xt_addr *dst, char *dev, uint8_t mac[6]);

/* The port of an open xdpio, for data.c's loops (app/xsk.h). */
struct xsk_port *xdpio__port(struct xdpio *x);

/* ---- helpers (main.c) ---- */

uint64_t now_ns(void);
int addr_parse(const char *s, struct xt_addr *a); /* "IP:PORT", "[IPv6]:PORT" or "IP" (port 0) */
void addr_format(const struct xt_addr *a, char *buf, size_t len);
socklen_t addr_to_sockaddr(const struct xt_addr *a, struct sockaddr_storage *ss);
void addr_from_sockaddr(const struct sockaddr_storage *ss, struct xt_addr *a);

#endif
