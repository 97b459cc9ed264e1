/* bench_turn — turn/server on one core: authenticated Allocates per second, ChannelData per second,
 * and memory per allocation at 100 000 allocations.
 *
 * Allocate: 100 000 distinct 5-tuples, each with its own nonce (fetched by a 401 round before the
 * clock starts), each request carrying USERNAME, REALM, NONCE and MESSAGE-INTEGRITY: the timed part
 * is parse, nonce check, key lookup, HMAC verify, allocation, answer with MESSAGE-INTEGRITY.
 * Memory: mallinfo2() in use (heap and mmapped blocks) after minus before creating the server, over
 * the allocations (it counts the tables and port pools sized for them too). ChannelData: round
 * robin over 10 000 bound channels of those allocations, each datagram to a SEND action. Prints
 * exactly: BENCH turn_allocate_per_s, BENCH turn_channeldata_per_s, BENCH turn_bytes_per_allocation
 * (details on stderr).
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "turn/auth.h"
#include "turn/server.h"
#include "turn/stun.h"

#define N_ALLOC 100000
#define N_CHAN	10000
#define REQ_MAX 160
#define NOW_MS	1700000000000ull

static void rnd(void *ctx, uint8_t *buf, size_t len)
{
	uint64_t *st = ctx;
	for (size_t i = 0; i < len; i++) {
		uint64_t z = (*st += 0x9E3779B97F4A7C15ull);
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
		buf[i] = (uint8_t)(z ^ (z >> 31));
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void client_addr(struct xt_addr *a, uint32_t i)
{
	uint8_t ip[4] = { 198, 18, (uint8_t)(64 + (i >> 16)), (uint8_t)(i >> 8) };
	xt_addr_set_v4(a, ip, (uint16_t)(20000 + (i & 0xFF)));
}

/* Bytes malloc has handed out: small blocks (uordblks) and the big ones it mmaps (hblkhd). */
static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static struct turn_action actv[64];
static uint8_t arena[8192];
static struct turn_actions out;

/* The NONCE of a 401 answer to an unauthenticated Allocate from client. */
static int fetch_nonce(struct turn_server *s, const struct xt_addr *local,
		       const struct xt_addr *client, uint8_t *nonce, size_t *nlen)
{
	uint8_t req[64], txid[12] = { 9, 9, 9 };
	struct stun_builder b;
	struct stun_msg m;
	const uint8_t *v;
	int n;

	stun_builder__begin(&b, req, sizeof(req), stun_type(STUN_METHOD_ALLOCATE, 0), txid);
	stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	n = stun_builder__finish(&b);
	turn_actions__reset(&out);
	if (n < 0 || turn_server__input_client(s, NOW_MS, local, client, req, (size_t)n, &out) ||
	    out.n != 1 || stun_parse(out.v[0].send.payload, out.v[0].send.len, &m))
		return -1;
	v = stun_msg__attr(&m, STUN_ATTR_NONCE, nlen);
	if (!v || *nlen > 64)
		return -1;
	memcpy(nonce, v, *nlen);
	return 0;
}

static int build_auth(uint8_t *buf, uint16_t method, uint32_t i, const uint8_t *nonce, size_t nlen,
		      const struct auth_key *key, uint16_t channel, const struct xt_addr *peer)
{
	struct stun_builder b;
	uint8_t txid[12] = {
		1, 2, 3, 4, (uint8_t)i, (uint8_t)(i >> 8), (uint8_t)(i >> 16), (uint8_t)method
	};

	stun_builder__begin(&b, buf, REQ_MAX, stun_type(method, 0), txid);
	if (method == STUN_METHOD_ALLOCATE) {
		stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	} else {
		stun_builder__add_channel_number(&b, channel);
		stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, peer);
	}
	stun_builder__add_string(&b, STUN_ATTR_USERNAME, "alice");
	stun_builder__add_string(&b, STUN_ATTR_REALM, "example.org");
	stun_builder__add(&b, STUN_ATTR_NONCE, nonce, nlen);
	stun_builder__add_message_integrity(&b, key->b, key->len);
	return stun_builder__finish(&b);
}

int main(void)
{
	static struct turn_server_config cfg;
	struct auth_store *auth;
	struct turn_server *s;
	struct auth_key key;
	struct turn_server_stats st;
	struct xt_addr local, peer;
	uint8_t *reqs = malloc((size_t)N_ALLOC * REQ_MAX);
	uint16_t *lens = malloc(N_ALLOC * sizeof(*lens));
	uint8_t(*nonces)[64] = malloc((size_t)N_CHAN * 64);
	size_t *nlens = malloc(N_CHAN * sizeof(*nlens));
	uint8_t ip1[4] = { 198, 18, 0, 10 }, ip2[4] = { 198, 18, 0, 11 },
		pip[4] = { 198, 51, 100, 1 };
	uint64_t seed = 1;
	size_t m0, m1;
	double t0, t1, alloc_rate, cd_rate;
	uint32_t ok = 0;
	uint64_t cd_n = 0;
	uint8_t cd[4 + 100];

	if (!reqs || !lens || !nonces || !nlens)
		return 1;
	turn_actions__init(&out, actv, 64, arena, sizeof(arena));
	auth = auth_store__new("example.org");
	if (!auth || auth_store__add_user(auth, "alice", "wonderland") ||
	    auth_longterm_key(STUN_PASSWORD_ALG_MD5, "alice", 5, "example.org", 11, "wonderland",
			      10, &key))
		return 1;
	cfg.auth = auth;
	xt_addr_set_v4(&cfg.relays[0].addr, ip1, 0);
	xt_addr_set_v4(&cfg.relays[1].addr, ip2, 0);
	cfg.n_relays = 2;
	cfg.relay_port_min = 1024;
	cfg.relay_port_max = 65535;
	cfg.max_total = N_ALLOC;
	cfg.deny_default = true;
	xt_addr_set_v4(&local, ip1, 3478);
	xt_addr_set_v4(&peer, pip, 9000);

	m0 = heap_in_use();
	s = turn_server__new(&cfg, rnd, &seed);
	if (!s)
		return 1;
	/* Untimed: a nonce per client, and its authenticated Allocate. */
	for (uint32_t i = 0; i < N_ALLOC; i++) {
		struct xt_addr c;
		uint8_t nonce[64];
		size_t nlen;
		int n;

		client_addr(&c, i);
		if (fetch_nonce(s, &local, &c, nonce, &nlen))
			return fprintf(stderr, "bench_turn: no nonce\n"), 1;
		if (i < N_CHAN) {
			memcpy(nonces[i], nonce, nlen);
			nlens[i] = nlen;
		}
		n = build_auth(reqs + (size_t)i * REQ_MAX, STUN_METHOD_ALLOCATE, i, nonce, nlen,
			       &key, 0, NULL);
		if (n < 0)
			return 1;
		lens[i] = (uint16_t)n;
	}
	t0 = now_s();
	for (uint32_t i = 0; i < N_ALLOC; i++) {
		struct xt_addr c;

		client_addr(&c, i);
		turn_actions__reset(&out);
		turn_server__input_client(s, NOW_MS, &local, &c, reqs + (size_t)i * REQ_MAX,
					  lens[i], &out);
		ok += out.n == 2 && out.v[1].type == TURN_ACT_SEND;
	}
	t1 = now_s();
	alloc_rate = N_ALLOC / (t1 - t0);
	m1 = heap_in_use();
	turn_server__stats(s, &st);
	if (ok != N_ALLOC || st.allocations != N_ALLOC)
		return fprintf(stderr, "bench_turn: %u of %u allocations\n", ok, N_ALLOC), 1;

	/* Channels on the first N_CHAN allocations (untimed), then ChannelData round robin. */
	for (uint32_t i = 0; i < N_CHAN; i++) {
		struct xt_addr c;
		uint8_t req[REQ_MAX];
		int n = build_auth(req, STUN_METHOD_CHANNEL_BIND, i, nonces[i], nlens[i], &key,
				   0x4000, &peer);

		client_addr(&c, i);
		turn_actions__reset(&out);
		if (n < 0 ||
		    turn_server__input_client(s, NOW_MS, &local, &c, req, (size_t)n, &out) ||
		    out.n != 2 || out.v[0].type != TURN_ACT_CHANNEL_BOUND)
			return fprintf(stderr, "bench_turn: ChannelBind failed\n"), 1;
	}
	memset(cd, 0xAB, sizeof(cd));
	cd[0] = 0x40, cd[1] = 0x00, cd[2] = 0, cd[3] = 100;
	t0 = now_s();
	do {
		for (uint32_t k = 0; k < 1000000; k++) {
			struct xt_addr c;
			uint32_t i = (uint32_t)(cd_n++ % N_CHAN);

			client_addr(&c, i);
			turn_actions__reset(&out);
			turn_server__input_client(s, NOW_MS, &local, &c, cd, sizeof(cd), &out);
			if (out.n != 1)
				return fprintf(stderr, "bench_turn: ChannelData not relayed\n"), 1;
		}
		t1 = now_s();
	} while (t1 - t0 < 1.0);
	cd_rate = (double)cd_n / (t1 - t0);

	fprintf(stderr,
		"bench_turn: %u allocations in %.3f s; memory %zu B in use (%llu B own "
		"accounting); %llu ChannelData\n",
		N_ALLOC, N_ALLOC / alloc_rate, m1 - m0, (unsigned long long)st.memory_bytes,
		(unsigned long long)cd_n);
	printf("BENCH turn_allocate_per_s %.0f 1/s\n", alloc_rate);
	printf("BENCH turn_channeldata_per_s %.0f 1/s\n", cd_rate);
	/* Under AddressSanitizer mallinfo2() says nothing: fall back on the server's own count. */
	printf("BENCH turn_bytes_per_allocation %.0f B\n",
	       (double)(m1 > m0 ? m1 - m0 : st.memory_bytes) / N_ALLOC);
	turn_server__free(s);
	auth_store__free(auth);
	free(reqs);
	free(lens);
	free(nonces);
	free(nlens);
	return 0;
}
