/* tools/xturn-replay/replay.h — offline replay: a pcap of frames arriving at the relay's NIC
 * through the daemon's own user-space path (app/pipeline: parse, TURN core, frame build), with a
 * virtual clock taken from the capture's timestamps and a seeded random source.
 *
 * Output: every frame the pipeline would transmit (a pcap, each frame stamped with the time of the
 * input frame that caused it, or of the timer that did) and every kernel map change the daemon
 * would make (a text file, one line each). The same input, config and options give byte-identical
 * outputs: nothing here reads a clock or the system's random source, and no output depends on
 * addresses in memory. It touches no network: next-hop MACs are learnt from the capture itself.
 */
#ifndef XTURN_TOOLS_REPLAY_H
#define XTURN_TOOLS_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include "pkt/addr.h"

#define REPLAY_MAX_STATIC_MACS 64
/* xturnd's UMEM frame (XSK_FRAME_SIZE; checked in frame_size.c, since app/xsk.h brings libbpf's
 * linux/bpf.h, which clashes with pcap/bpf.h). */
#define REPLAY_FRAME_SIZE 4096u

struct replay_static_mac {
	struct xt_addr ip;
	uint8_t mac[6];
};

struct replay_opts {
	const char *config_path; /* xturnd's YAML */
	const char *in_path;	 /* Ethernet pcap (or pcapng) of frames arriving at the NIC */
	const char *out_path;	 /* pcap of the frames the pipeline transmits; NULL = none */
	const char *maps_path;	 /* kernel map changes, one line each; NULL = none */
	uint64_t seed;		 /* of the TURN core's random source */
	uint8_t relay_mac[6];	 /* our NIC's MAC: source of output frames; input frames from it
				  * are our own transmissions in a two-way capture, and skipped */
	uint32_t linger_s;	 /* run the clock this long past the last frame (timers fire) */
	struct replay_static_mac macs[REPLAY_MAX_STATIC_MACS];
	unsigned int n_macs;
	bool quiet; /* no summary on stderr */
};

struct replay_summary {
	uint64_t frames_read;
	uint64_t frames_own;	   /* skipped: sent by relay_mac */
	uint64_t frames_oversize;  /* skipped: larger than a UMEM frame, xturnd never sees them */
	uint64_t frames_truncated; /* captured shorter than on the wire (snaplen) */
	uint64_t frames_out;
	uint64_t map_changes;
	uint64_t held,
	    held_dropped; /* frames that waited for a next-hop MAC; of them, never sent */
	uint64_t timer_rounds;
};

/* Runs one replay. Returns 0, or -errno after printing one line saying why on stderr. */
int replay_run(const struct replay_opts *o, struct replay_summary *sum);

#endif
