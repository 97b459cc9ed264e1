/* app/xsk.h — one AF_XDP socket and its UMEM, for one NIC queue (libxdp's xsk helpers).
 *
 * Owns the frames: each UMEM frame is at any time in exactly one place — the fill ring, the RX ring,
 * a worker's hands, the TX ring, the completion ring, or the free stack. The worker takes RX frames,
 * hands each back either for transmit (rewritten in place) or to the free stack, takes spare frames
 * from the free stack to build new datagrams, and calls xsk_port__service() to recycle completions and
 * keep the fill ring topped up. Single-threaded: one port belongs to one worker.
 */
#ifndef XTURN_APP_XSK_H
#define XTURN_APP_XSK_H

#include <stdbool.h>
#include <stdint.h>
#include <xdp/xsk.h>
#include "config/config.h"

#define XSK_FRAME_SIZE 4096u
#define XSK_NUM_FRAMES 4096u
#define XSK_RING_SIZE 2048u
#define XSK_BATCH 64u
/* Frames kept in the fill ring. Far fewer than the ring holds: the free stack is LIFO, so a small
 * working set of frames keeps cycling and stays in cache (measured: with all 2048 in the fill ring,
 * the first read of every received frame missed the cache). */
#define XSK_FILL_TARGET 512u

struct xsk_port_stats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t tx_ring_full; /* frames dropped because the TX ring had no room */
	uint64_t no_free_frame; /* builds that found no spare frame */
	uint64_t wakeups;	/* sendto/recvfrom kicks for need_wakeup */
	/* from the kernel (XDP_STATISTICS) */
	uint64_t rx_dropped, rx_invalid_descs, tx_invalid_descs, rx_ring_full, rx_fill_ring_empty,
		tx_ring_empty_descs;
};

struct xsk_port {
	unsigned int queue;
	bool zero_copy;
	bool need_wakeup;
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	uint64_t free_frames[XSK_NUM_FRAMES];
	uint32_t n_free;
	uint32_t tx_pending; /* submitted but not yet kicked */
	struct xsk_port_stats stats;
};

/* Creates the UMEM and socket on ifname/queue and inserts it in the XSKMAP xsks_map_fd.
 * zc: ON requires zero-copy, OFF forces copy mode, AUTO tries zero-copy then falls back (logged).
 * Returns 0 or -errno (logged). */
int xsk_port__open(struct xsk_port *p, const char *ifname, unsigned int queue,
		   enum xturn_zero_copy zc, int xsks_map_fd);
void xsk_port__close(struct xsk_port *p);

struct xsk_frame {
	uint64_t addr; /* UMEM offset of the data */
	uint8_t *data;
	uint32_t len;
};

/* Up to max received frames. The caller owns them until it transmits or frees each. */
unsigned int xsk_port__rx(struct xsk_port *p, struct xsk_frame *frames, unsigned int max);

/* The whole UMEM chunk that holds a frame's data: in-place rewrites may grow into its headroom. */
static inline uint8_t *xsk_port__chunk(const struct xsk_port *p, uint64_t addr)
{
	return (uint8_t *)p->area + (addr & ~(uint64_t)(XSK_FRAME_SIZE - 1));
}

/* A spare frame (whole chunk) to build a datagram in: 0, or -EAGAIN when none is free. */
int xsk_port__alloc(struct xsk_port *p, struct xsk_frame *f);
void xsk_port__free(struct xsk_port *p, uint64_t addr);

/* Queues a frame for transmit (data at addr within its chunk, len bytes); -EAGAIN when the TX ring is
 * full (the frame is then freed and counted). */
int xsk_port__tx(struct xsk_port *p, uint64_t addr, uint32_t len);
/* Publishes queued TX descriptors and kicks the kernel when it asks for it. */
void xsk_port__flush(struct xsk_port *p);

/* Recycles completed TX frames and refills the fill ring from the free stack. */
void xsk_port__service(struct xsk_port *p);

int xsk_port__fd(const struct xsk_port *p);
/* Copies counters, including the kernel's XDP_STATISTICS. */
void xsk_port__stats(const struct xsk_port *p, struct xsk_port_stats *out);

#endif
