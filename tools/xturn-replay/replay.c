/* tools/xturn-replay/replay.c — see replay.h.
 *
 * The loop mirrors one xturnd worker plus its control thread (app/daemon.c): frames land in a
 * UMEM-sized buffer after XDP_PACKET_HEADROOM, with SPARE_FRAMES spare buffers to build answers in;
 * the TURN core's timers run when they are due by the capture's clock; map actions are recorded
 * where the daemon would write them to the kernel; frames whose next hop is unknown wait up to
 * HOLD_MS for a frame of the capture that tells the MAC (an ARP reply, or any frame from that
 * address), as the daemon waits for the kernel's neighbour resolution.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app/neigh.h"
#include "app/pipeline.h"
#include "app/turn_setup.h"
#include "config/config.h"
#include "pkt/bytes.h"
#include "pkt/wire.h"
#include "tools/xturn-replay/replay.h"
#include "turn/server.h"

/* The daemon's numbers (app/daemon.c): what a worker has at hand per frame. */
#define RX_HEADROOM  256 /* XDP_PACKET_HEADROOM (linux/bpf.h clashes with pcap/bpf.h) */
#define SPARE_FRAMES 4
#define HOLD_MAX     64
#define HOLD_MS	     1000
#define TICK_ACTIONS 256
#define TICK_ARENA   (TURN_ARENA_MIN * 4)
#define ETH_P_ARP    0x0806

struct held_frame {
	struct xt_addr to;
	uint64_t deadline_ms;
	uint32_t len;
	uint8_t data[REPLAY_FRAME_SIZE];
};

struct replay {
	const struct replay_opts *o;
	struct replay_summary *st;
	struct xturn_config cfg;
	bool have_cfg, have_setup;
	struct turn_setup setup;
	struct turn_server *server;
	struct neigh_cache *neigh;
	uint64_t rng_state;
	struct pipeline pl;
	pcap_t *in, *dead;
	pcap_dumper_t *out;
	FILE *maps;
	uint64_t clock_ms; /* the time last given to the core: never goes back */
	uint8_t rx[REPLAY_FRAME_SIZE];
	uint8_t spare_mem[SPARE_FRAMES][REPLAY_FRAME_SIZE];
	struct held_frame held[HOLD_MAX];
	unsigned int n_held;
	struct turn_actions tick;
	struct turn_action tick_v[TICK_ACTIONS];
	uint8_t tick_arena[TICK_ARENA];
};

/* splitmix64 (Steele, Lea, Flood 2014): small, seedable, and the same on every platform. */
static void seeded_random(void *ctx, uint8_t *buf, size_t len)
{
	uint64_t *s = ctx;

	while (len) {
		uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		for (int i = 0; i < 8 && len; i++, len--)
			*buf++ = (uint8_t)(z >> (8 * i));
	}
}

static uint64_t tv_ms(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000 + (uint64_t)tv->tv_usec / 1000;
}

static struct timeval ms_tv(uint64_t ms)
{
	return (struct timeval){ .tv_sec = (time_t)(ms / 1000),
				 .tv_usec = (suseconds_t)(ms % 1000) * 1000 };
}

static const char *addr_text(const struct xt_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a->family == XT_AF_INET6) {
		inet_ntop(AF_INET6, a->ip, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, xt_addr_port(a));
	} else {
		if (a->family == XT_AF_INET)
			inet_ntop(AF_INET, a->ip, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, xt_addr_port(a));
	}
	return buf;
}

/* ---- outputs ---- */

static void write_frame(struct replay *r, const struct timeval *ts, const uint8_t *data,
			uint32_t len)
{
	struct pcap_pkthdr h = { .ts = *ts, .caplen = len, .len = len };

	r->st->frames_out++;
	if (r->out)
		pcap_dump((u_char *)r->out, &h, data);
}

/* What app/daemon.c's apply_map_actions() writes to the kernel: channel entries only with the fast
 * path on, relay ports always. One line per change, in the core's order. */
static void record_map_actions(struct replay *r, const struct timeval *ts,
			       const struct turn_actions *acts)
{
	char a[64], b[64], c[64], d[64];

	for (uint32_t i = 0; i < acts->n; i++) {
		const struct turn_action *x = &acts->v[i];
		const char *what;

		switch (x->type) {
		case TURN_ACT_CHANNEL_BOUND:
		case TURN_ACT_CHANNEL_UNBOUND:
			if (!r->cfg.xdp.fast_path)
				continue;
			what =
			    x->type == TURN_ACT_CHANNEL_BOUND ? "CHANNEL_BOUND" : "CHANNEL_UNBOUND";
			r->st->map_changes++;
			if (r->maps)
				fprintf(r->maps,
					"%lld.%06ld %s alloc=%u channel=0x%04x client=%s listen=%s "
					"peer=%s relay=%s\n",
					(long long)ts->tv_sec, (long)ts->tv_usec, what, x->alloc_id,
					x->channel, addr_text(&x->chan.client, a, sizeof(a)),
					addr_text(&x->chan.listen, b, sizeof(b)),
					addr_text(&x->chan.peer, c, sizeof(c)),
					addr_text(&x->chan.relay, d, sizeof(d)));
			break;
		case TURN_ACT_ALLOCATION_CREATED:
		case TURN_ACT_ALLOCATION_DELETED:
			what = x->type == TURN_ACT_ALLOCATION_CREATED ? "ALLOCATION_CREATED"
								      : "ALLOCATION_DELETED";
			r->st->map_changes++;
			if (r->maps)
				fprintf(r->maps, "%lld.%06ld %s alloc=%u relay=%s\n",
					(long long)ts->tv_sec, (long)ts->tv_usec, what, x->alloc_id,
					addr_text(&x->alloc.relay, a, sizeof(a)));
			break;
		default:
			break;
		}
	}
}

static void hold(struct replay *r, const struct pl_tx *tx, const uint8_t *frame)
{
	struct held_frame *h;

	r->st->held++;
	if (r->n_held == HOLD_MAX || tx->len > sizeof(h->data)) {
		r->st->held_dropped++;
		return;
	}
	h = &r->held[r->n_held++];
	h->to = tx->to;
	h->deadline_ms = r->clock_ms + HOLD_MS;
	h->len = tx->len;
	memcpy(h->data, frame, tx->len);
}

/* Sends the held frames whose next hop is now known, stamped with the time it became known. */
static void release_held(struct replay *r, const struct timeval *ts)
{
	unsigned int kept = 0;

	for (unsigned int i = 0; i < r->n_held; i++) {
		struct held_frame *h = &r->held[i];

		/* The daemon gives up at the deadline; here the MAC is known only when the next
		 * frame of the capture comes, so the deadline is checked first. */
		if (r->clock_ms > h->deadline_ms)
			r->st->held_dropped++;
		else if (!neigh_cache__lookup(r->neigh, &h->to, h->data))
			write_frame(r, ts, h->data, h->len);
		else if (kept != i)
			r->held[kept++] = *h;
		else
			kept++;
	}
	r->n_held = kept;
}

static void write_tx(struct replay *r, const struct timeval *ts, struct pl_io *io)
{
	for (unsigned int i = 0; i < io->n_tx; i++) {
		const struct pl_tx *tx = &io->tx[i];
		const uint8_t *base = tx->handle == SPARE_FRAMES ? r->rx : r->spare_mem[tx->handle];

		if (tx->unresolved)
			hold(r, tx, base + tx->offset);
		else
			write_frame(r, ts, base + tx->offset, tx->len);
	}
}

static void refill(struct replay *r, struct pl_buf *spare, struct pl_io *io)
{
	for (unsigned int i = 0; i < SPARE_FRAMES; i++)
		spare[i] = (struct pl_buf){ .data = r->spare_mem[i],
					    .cap = REPLAY_FRAME_SIZE,
					    .handle = i };
	io->spare = spare;
	io->n_spare = SPARE_FRAMES;
}

/* ---- timers: the control thread's tick, at the exact time the core asked for ---- */

static void run_timers(struct replay *r, uint64_t upto_ms)
{
	/* Bounded: each round either expires something or moves the clock forward. */
	for (unsigned int round = 0; round < 1000000; round++) {
		uint64_t wake = turn_server__next_wake(r->server, r->clock_ms);
		struct pl_buf spare[SPARE_FRAMES];
		struct pl_io io = { 0 };
		struct timeval ts;

		if (wake == UINT64_MAX || wake > upto_ms)
			return;
		if (wake > r->clock_ms)
			r->clock_ms = wake;
		ts = ms_tv(r->clock_ms);
		turn_actions__reset(&r->tick);
		turn_server__tick(r->server, r->clock_ms, &r->tick);
		r->st->timer_rounds++;
		record_map_actions(r, &ts, &r->tick);
		/* The core sends nothing on expiry today; if it ever does, it goes out like this.
		 */
		refill(r, spare, &io);
		pipeline__emit(&r->pl, &r->tick, NULL, 0, false, 0, &io);
		write_tx(r, &ts, &io);
		if (r->tick.n == 0 && r->tick.wake_at <= r->clock_ms)
			return; /* nothing done and nothing later: do not spin */
	}
}

/* ---- next-hop MACs, learnt from the capture ---- */

static bool is_static(const struct replay *r, const struct xt_addr *ip)
{
	for (unsigned int i = 0; i < r->o->n_macs; i++)
		if (xt_addr_ip_equal(&r->o->macs[i].ip, ip))
			return true;
	return false;
}

static void learn(struct replay *r, const struct xt_addr *ip, const uint8_t *mac)
{
	static const uint8_t zero[16];

	if ((mac[0] & 1) || !memcmp(mac, zero, 6) || !memcmp(ip->ip, zero, 16) || is_static(r, ip))
		return;
	neigh_cache__set(r->neigh, ip, mac);
}

/* The sender of a frame (source IP, or an ARP sender) is reachable at its source MAC. */
static void learn_from_frame(struct replay *r, const uint8_t *p, uint32_t len)
{
	uint32_t l3 = sizeof(struct pkt_eth);
	struct xt_addr ip;
	uint16_t type;

	if (len < l3)
		return;
	type = get_be16(p + 12);
	if ((type == PKT_ETH_P_8021Q || type == PKT_ETH_P_8021AD) && len >= l3 + 4) {
		type = get_be16(p + l3 + 2);
		l3 += 4;
	}
	if (type == PKT_ETH_P_IPV4 && len >= l3 + 20 && (p[l3] >> 4) == 4) {
		xt_addr_set_v4(&ip, p + l3 + 12, 0);
		learn(r, &ip, p + 6);
	} else if (type == PKT_ETH_P_IPV6 && len >= l3 + 40 && (p[l3] >> 4) == 6) {
		xt_addr_set_v6(&ip, p + l3 + 8, 0);
		learn(r, &ip, p + 6);
	} else if (type == ETH_P_ARP && len >= l3 + 28 && get_be16(p + l3) == 1 &&
		   get_be16(p + l3 + 2) == PKT_ETH_P_IPV4 && p[l3 + 4] == 6 && p[l3 + 5] == 4) {
		xt_addr_set_v4(&ip, p + l3 + 14, 0);
		learn(r, &ip, p + l3 + 8);
	}
}

/* ---- one captured frame ---- */

static void handle_frame(struct replay *r, const struct pcap_pkthdr *h, const uint8_t *data)
{
	uint64_t t = tv_ms(&h->ts);
	struct pl_buf spare[SPARE_FRAMES];
	struct pl_io io = { 0 };

	r->st->frames_read++;
	if (h->caplen < h->len)
		r->st->frames_truncated++;
	run_timers(r, t);
	if (t > r->clock_ms)
		r->clock_ms = t;
	if (h->caplen >= 12 && !memcmp(data + 6, r->o->relay_mac, 6)) {
		r->st->frames_own++;
		return;
	}
	learn_from_frame(r, data, h->caplen);
	if (r->n_held)
		release_held(r, &h->ts);
	if (h->caplen > REPLAY_FRAME_SIZE - RX_HEADROOM) {
		r->st->frames_oversize++;
		return;
	}
	/* A fresh buffer per frame, so no byte of an earlier frame can leak into an answer. */
	memset(r->rx, 0, sizeof(r->rx));
	memcpy(r->rx + RX_HEADROOM, data, h->caplen);
	io.in = (struct pl_buf){ .data = r->rx, .cap = REPLAY_FRAME_SIZE, .handle = SPARE_FRAMES };
	io.in_off = RX_HEADROOM;
	io.in_len = h->caplen;
	refill(r, spare, &io);
	pipeline__input(&r->pl, r->clock_ms, &io);
	/* As in the daemon: map changes first, then the frames (a ChannelBind success may only
	 * leave once its channel is in the kernel). */
	record_map_actions(r, &h->ts, &r->pl.actions);
	write_tx(r, &h->ts, &io);
}

/* ---- set-up and the run ---- */

static int open_files(struct replay *r)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	const struct replay_opts *o = r->o;

	r->in = pcap_open_offline_with_tstamp_precision(o->in_path, PCAP_TSTAMP_PRECISION_MICRO,
							errbuf);
	if (!r->in) {
		fprintf(stderr, "xturn-replay: %s: %s\n", o->in_path, errbuf);
		return -EINVAL;
	}
	if (pcap_datalink(r->in) != DLT_EN10MB) {
		fprintf(stderr, "xturn-replay: %s: link type %s, want Ethernet (EN10MB)\n",
			o->in_path, pcap_datalink_val_to_name(pcap_datalink(r->in)));
		return -EINVAL;
	}
	if (o->out_path) {
		r->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
							       PCAP_TSTAMP_PRECISION_MICRO);
		if (!r->dead)
			return -ENOMEM;
		r->out = pcap_dump_open(r->dead, o->out_path);
		if (!r->out) {
			fprintf(stderr, "xturn-replay: %s: %s\n", o->out_path,
				pcap_geterr(r->dead));
			return -EIO;
		}
	}
	if (o->maps_path) {
		r->maps = fopen(o->maps_path, "w");
		if (!r->maps) {
			int err = -errno;

			fprintf(stderr, "xturn-replay: %s: %s\n", o->maps_path, strerror(errno));
			return err;
		}
	}
	return 0;
}

static int setup(struct replay *r)
{
	const struct replay_opts *o = r->o;
	char err[XTURN_CONFIG_ERR_LEN];
	struct pipeline_config pc;
	int ret;

	ret = xturn_config__load(o->config_path, &r->cfg, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "xturn-replay: %s\n", err);
		return ret;
	}
	r->have_cfg = true;
	ret = turn_setup__init(&r->setup, &r->cfg);
	if (ret)
		return ret;
	r->have_setup = true;
	r->rng_state = o->seed;
	r->server = turn_server__new(&r->setup.tcfg, seeded_random, &r->rng_state);
	if (!r->server) {
		ret = -errno;
		fprintf(stderr, "xturn-replay: TURN core: %s\n", strerror(errno));
		return ret;
	}
	r->neigh = neigh_cache__new_static();
	if (!r->neigh)
		return -ENOMEM;
	for (unsigned int i = 0; i < o->n_macs; i++) {
		ret = neigh_cache__set(r->neigh, &o->macs[i].ip, o->macs[i].mac);
		if (ret)
			return ret;
	}
	pipeline_config__from(&pc, &r->cfg, r->server, NULL, r->neigh, o->relay_mac);
	pipeline__init(&r->pl, &pc);
	turn_actions__init(&r->tick, r->tick_v, TICK_ACTIONS, r->tick_arena, TICK_ARENA);
	return open_files(r);
}

static int finish_outputs(struct replay *r)
{
	int ret = 0;

	if (r->out) {
		if (pcap_dump_flush(r->out) || ferror(pcap_dump_file(r->out))) {
			fprintf(stderr, "xturn-replay: %s: write error\n", r->o->out_path);
			ret = -EIO;
		}
		pcap_dump_close(r->out);
		r->out = NULL;
	}
	if (r->maps) {
		if (ferror(r->maps) | fclose(r->maps)) {
			fprintf(stderr, "xturn-replay: %s: write error\n", r->o->maps_path);
			ret = -EIO;
		}
		r->maps = NULL;
	}
	return ret;
}

static void teardown(struct replay *r)
{
	if (r->out)
		pcap_dump_close(r->out);
	if (r->maps)
		fclose(r->maps);
	if (r->dead)
		pcap_close(r->dead);
	if (r->in)
		pcap_close(r->in);
	neigh_cache__free(r->neigh);
	turn_server__free(r->server);
	if (r->have_setup)
		turn_setup__release(&r->setup);
	if (r->have_cfg)
		xturn_config__free(&r->cfg);
	free(r);
}

static void print_summary(const struct replay *r)
{
	const struct replay_summary *s = r->st;
	const struct pipeline_stats *p = &r->pl.stats;
	struct turn_server_stats ts;
	unsigned int shown = 0;

	turn_server__stats(r->server, &ts);
	fprintf(stderr,
		"xturn-replay: %llu frames read (%llu own, %llu oversize, %llu truncated), "
		"%llu sent, %llu map changes, %llu held (%llu never sent)\n",
		(unsigned long long)s->frames_read, (unsigned long long)s->frames_own,
		(unsigned long long)s->frames_oversize, (unsigned long long)s->frames_truncated,
		(unsigned long long)s->frames_out, (unsigned long long)s->map_changes,
		(unsigned long long)s->held, (unsigned long long)s->held_dropped);
	fprintf(stderr, "xturn-replay: drops:");
	for (int i = 0; i < PL_DROP__COUNT; i++)
		if (p->drops[i] && ++shown)
			fprintf(stderr, " pipeline/%s %llu",
				pipeline_drop_name((enum pipeline_drop)i),
				(unsigned long long)p->drops[i]);
	for (int i = 0; i < TURN_DROP__COUNT; i++)
		if (ts.drops[i] && ++shown)
			fprintf(stderr, " turn/%s %llu",
				turn_drop_reason_name((enum turn_drop_reason)i),
				(unsigned long long)ts.drops[i]);
	if (!shown)
		fprintf(stderr, " none");
	fprintf(stderr,
		"\nxturn-replay: at the end: %llu allocations, %llu permissions, "
		"%llu channels\n",
		(unsigned long long)ts.allocations, (unsigned long long)ts.permissions,
		(unsigned long long)ts.channels);
}

int replay_run(const struct replay_opts *o, struct replay_summary *sum)
{
	struct replay *r = calloc(1, sizeof(*r));
	struct pcap_pkthdr *h;
	const u_char *data;
	int ret;

	if (!r) {
		fprintf(stderr, "xturn-replay: %s\n", strerror(errno));
		return -ENOMEM;
	}
	memset(sum, 0, sizeof(*sum));
	r->o = o;
	r->st = sum;
	ret = setup(r);
	if (ret)
		goto out;
	while ((ret = pcap_next_ex(r->in, &h, &data)) == 1)
		handle_frame(r, h, data);
	if (ret == PCAP_ERROR) {
		fprintf(stderr, "xturn-replay: %s: %s\n", o->in_path, pcap_geterr(r->in));
		ret = -EIO;
		goto out;
	}
	/* The end of the capture: timers due by then (plus the linger) fire; frames still waiting
	 * for a MAC never leave. */
	run_timers(r, r->clock_ms + (uint64_t)o->linger_s * 1000);
	sum->held_dropped += r->n_held;
	r->n_held = 0;
	ret = finish_outputs(r);
	if (!o->quiet)
		print_summary(r);
out:
	teardown(r);
	return ret;
}
