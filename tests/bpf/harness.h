/* tests/bpf/harness.h — shared fixture of the BPF suite: one loaded relay, frame builders that use
 * pkt_build_udp() (independent of the program), BPF_PROG_TEST_RUN, and exact counter checks.
 *
 * The suite runs in a private network namespace (main.c unshares one), so FIB answers depend only
 * on what the tests set up: with nothing set up, bpf_fib_lookup answers FWD_DISABLED and the
 * program takes its fallback (MACs swapped), which is what most cases check.
 */
#ifndef XTURN_TESTS_BPF_HARNESS_H
#define XTURN_TESTS_BPF_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include "pkt/addr.h"
#include "pkt/build.h"
#include "xdp/loader.h"

#define T_LISTEN_PORT 3478
#define T_PORT_MIN 49152
#define T_PORT_MAX 49999
#define T_FLAGS (XT_CFG_FASTPATH)

extern struct xdp_relay *t_relay;
extern const __u8 t_relay_mac[6];  /* our NIC, destination of incoming frames */
extern const __u8 t_router_mac[6]; /* the next hop frames come from */

struct tframe {
	__u8 b[4096];
	size_t len;
};

/* Knobs of a built frame; zero = defaults (router → relay MACs, TTL 64, DF set, no tag). */
struct tparams {
	__u8 tos;
	__u8 ttl;
	__u16 ip_id;
	bool no_df;
	bool vlan;
	const __u8 *src_mac;
	const __u8 *dst_mac;
};

/* "198.18.0.1:3478" or "[fd98:18::1]:3478"; aborts on a typo. */
struct xt_addr t_addr(const char *text);

/* Ethernet + IP + UDP around payload with pkt_build_udp(), finished checksums. */
void t_build(struct tframe *f, const struct xt_addr *src, const struct xt_addr *dst,
	     const void *payload, size_t len, const struct tparams *p);
/* ChannelData header + data + pad bytes (pad bytes are non-zero on purpose: the checksum must
 * account for whatever they hold). */
size_t t_channel_data(__u8 *out, __u16 channel, const __u8 *data, size_t len, size_t pad);
/* Deterministic data bytes. */
void t_fill(__u8 *data, size_t len, unsigned int seed);

/* Runs the frame through the program; out gets the resulting frame. Returns the verdict or -errno.
 * ingress_ifindex 0 means loopback (the test_run default). */
int t_run(const struct tframe *in, struct tframe *out, int ingress_ifindex);

/* Counter snapshots and the exact change a case must cause: every counter not listed must stay. */
struct tstats {
	struct xt_stat s[XT_STAT_COUNT];
};
void t_stats(struct tstats *st);
struct tdelta {
	int id;
	__u64 packets;
	__u64 bytes; /* (__u64)-1: not checked */
};
#define T_ANY_BYTES ((__u64)-1)
bool t_stats_changed_by(const struct tstats *before, const struct tstats *after,
			const struct tdelta *d, size_t n);

/* Both checksums of a frame recomputed from scratch with pkt/csum.c: true when right. */
bool t_checksums_ok(const struct tframe *f);
/* Byte compare, printing the first difference. */
bool t_frames_equal(const struct tframe *got, const struct tframe *want);

void t_config(__u16 flags, __u16 mtu);
struct fastpath_binding t_binding(const char *client, const char *listen, const char *peer,
				  const char *relay, __u16 channel, __u32 alloc_id);

int test_xdp_relay_register(void);
int test_xdp_fib_register(void);

#endif
