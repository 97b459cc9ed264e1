/* tests/fuzz/fuzz_pipeline.c — libFuzzer target for one frame's whole user-space path
 * (app/pipeline.h): pkt_parse, classification, checksums, the TURN core, and the frames it answers.
 *
 * One input is a capture: records of [u16 frame length][u16 clock step][frame], the step in ms below
 * 0x8000 and in seconds (low 15 bits) above. The pipeline runs with the configuration, seed (1) and
 * start time of the replay cases (tests/replay/), so the captures of those cases, turned into this
 * format by tests/fuzz/seeds.py, are valid seeds: their nonces and MESSAGE-INTEGRITY verify, and the
 * fuzzer starts from allocations, permissions and channels. Next-hop MACs are learnt from the frames'
 * sources as xturn-replay does. Between frames the core's timers run as the control thread runs them.
 *
 * Checked: every frame the pipeline transmits lies inside its buffer, parses, is addressed from one
 * of our addresses, and carries right checksums (never a zero UDP checksum).
 */
#include <errno.h>
#include <string.h>
#include "app/pipeline.h"
#include "app/turn_setup.h"
#include "config/config.h"
#include "pkt/parse.h"
#include "tests/fuzz/fuzz_util.h"

#define FRAME_SIZE 4096u
#define HEADROOM 256
#define SPARES 4
#define MAX_FRAMES 64
#define T0_MS 1700000000000ull /* tests/replay/gen.py T0 */

static const char config_text[] =
	"interface: xt-replay\n"
	"addresses: [198.18.0.1, \"fd98:18::1\"]\n"
	"listen_port: 3478\n"
	"relay_ports: {min: 49152, max: 49999}\n"
	"realm: replay.xturn\n"
	"auth:\n"
	"  users:\n"
	"    - {username: alice, password: wonderland}\n"
	"  secrets: [replay-secret]\n"
	"  nonce_lifetime: 3600\n"
	"allocations: {default_lifetime: 600, max_lifetime: 3600, max_per_user: 8, max_total: 1000}\n"
	"peers:\n"
	"  deny: [default]\n"
	"  allow: [198.18.0.0/24, \"fd98:18::/64\"]\n"
	"xdp: {fast_path: true}\n"
	"log: {level: error}\n";

static const uint8_t relay_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static struct xturn_config cfg;
static struct turn_setup setup;

static void seeded_random(void *ctx, uint8_t *buf, size_t len)
{
	uint64_t *s = ctx;

	while (len) { /* as xturn-replay's, so that the replay captures' nonces verify */
		uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		for (int i = 0; i < 8 && len; i++, len--)
			*buf++ = (uint8_t)(z >> (8 * i));
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[XTURN_CONFIG_ERR_LEN];

	(void)argc;
	(void)argv;
	if (xturn_config__load_string("fuzz-pipeline.yaml", config_text, sizeof(config_text) - 1,
				      &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	FUZZ_ASSERT(turn_setup__init(&setup, &cfg) == 0);
	return 0;
}

struct run {
	struct turn_server *server;
	struct neigh_cache *neigh;
	struct pipeline pl;
	uint64_t rng, now;
	uint8_t rx[FRAME_SIZE];
	uint8_t spare_mem[SPARES][FRAME_SIZE];
	struct turn_action tick_v[64];
	uint8_t tick_arena[8192];
	struct turn_actions tick;
};

static bool ours(const struct xt_addr *a)
{
	for (size_t i = 0; i < cfg.n_addresses; i++)
		if (a->family == cfg.addresses[i].family &&
		    !memcmp(a->ip, cfg.addresses[i].ip, a->family == XT_AF_INET ? 4 : 16))
			return true;
	return false;
}

static void check_tx(struct run *r, const struct pl_io *io)
{
	FUZZ_ASSERT(io->n_tx <= PIPELINE_MAX_TX);
	for (unsigned int i = 0; i < io->n_tx; i++) {
		const struct pl_tx *tx = &io->tx[i];
		const uint8_t *base = tx->handle == SPARES ? r->rx : r->spare_mem[tx->handle];
		struct pkt_view v;

		FUZZ_ASSERT(tx->handle <= SPARES);
		FUZZ_ASSERT((uint64_t)tx->offset + tx->len <= FRAME_SIZE);
		FUZZ_ASSERT(pkt_parse(base + tx->offset, tx->len, &v) == PKT_OK);
		FUZZ_ASSERT(v.ip_end == tx->len);
		FUZZ_ASSERT(ours(&v.src));
		FUZZ_ASSERT(!memcmp(base + tx->offset + 6, relay_mac, 6));
		FUZZ_ASSERT(pkt_verify_checksums(base + tx->offset, &v));
		FUZZ_ASSERT(get_be16(base + tx->offset + v.l4_off + 6) != 0);
	}
}

static void refill(struct run *r, struct pl_buf *spare, struct pl_io *io)
{
	for (unsigned int i = 0; i < SPARES; i++)
		spare[i] = (struct pl_buf){ .data = r->spare_mem[i], .cap = FRAME_SIZE, .handle = i };
	io->spare = spare;
	io->n_spare = SPARES;
}

static void run_timers(struct run *r)
{
	for (int round = 0; round < 64; round++) {
		uint64_t wake = turn_server__next_wake(r->server, r->now);
		struct pl_buf spare[SPARES];
		struct pl_io io = { 0 };

		if (wake == UINT64_MAX || wake > r->now)
			return;
		turn_actions__reset(&r->tick);
		FUZZ_ASSERT(turn_server__tick(r->server, r->now, &r->tick) == 0);
		refill(r, spare, &io);
		pipeline__emit(&r->pl, &r->tick, NULL, 0, false, 0, &io);
		check_tx(r, &io);
		if (r->tick.n == 0)
			return;
	}
}

/* Learns the source MAC of a frame's source IP, as xturn-replay does. */
static void learn(struct run *r, const uint8_t *frame, size_t len)
{
	struct pkt_view v;

	if (len >= 12 && pkt_parse(frame, len, &v) == PKT_OK)
		neigh_cache__set(r->neigh, &v.src, frame + 6);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run r;
	struct fuzz_reader fr = { data, size };
	struct pipeline_config pc = { 0 };

	r.rng = 1;
	r.now = T0_MS;
	r.server = turn_server__new(&setup.tcfg, seeded_random, &r.rng);
	FUZZ_ASSERT(r.server);
	r.neigh = neigh_cache__new_static();
	FUZZ_ASSERT(r.neigh);
	pc.server = r.server;
	pc.neigh = r.neigh;
	memcpy(pc.our_mac, relay_mac, 6);
	pc.listen_port = cfg.listen_port;
	pc.relay_port_min = cfg.relay_port_min;
	pc.relay_port_max = cfg.relay_port_max;
	pc.verify_checksums = true;
	for (size_t i = 0; i < cfg.n_addresses && i < PIPELINE_MAX_ADDRS; i++)
		pc.addrs[pc.n_addrs++] = cfg.addresses[i];
	pipeline__init(&r.pl, &pc);
	turn_actions__init(&r.tick, r.tick_v, 64, r.tick_arena, sizeof(r.tick_arena));

	for (int n = 0; fr.left >= 4 && n < MAX_FRAMES; n++) {
		size_t want = fr_u16(&fr) % (FRAME_SIZE - HEADROOM);
		uint16_t step = fr_u16(&fr);
		struct pl_buf spare[SPARES];
		struct pl_io io = { 0 };
		const uint8_t *frame;
		size_t len = fr_bytes(&fr, want, &frame);

		r.now += step < 0x8000 ? step : (uint64_t)(step & 0x7FFF) * 1000;
		run_timers(&r);
		learn(&r, frame, len);
		memset(r.rx, 0, sizeof(r.rx));
		memcpy(r.rx + HEADROOM, frame, len);
		io.in = (struct pl_buf){ .data = r.rx, .cap = FRAME_SIZE, .handle = SPARES };
		io.in_off = HEADROOM;
		io.in_len = (uint32_t)len;
		refill(&r, spare, &io);
		FUZZ_ASSERT(pipeline__input(&r.pl, r.now, &io) == 0);
		check_tx(&r, &io);
	}
	if (getenv("FUZZ_DEBUG")) { /* what a seed reaches */
		struct turn_server_stats ss;
		turn_server__stats(r.server, &ss);
		fprintf(stderr, "allocate ok %llu, bind ok %llu, frames out %llu\n",
			(unsigned long long)ss.requests[TURN_M_ALLOCATE][TURN_R_SUCCESS],
			(unsigned long long)ss.requests[TURN_M_CHANNEL_BIND][TURN_R_SUCCESS],
			(unsigned long long)r.pl.stats.frames_out);
	}
	neigh_cache__free(r.neigh);
	turn_server__free(r.server);
	return 0;
}
