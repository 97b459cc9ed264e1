/* tests/fuzz/fuzz_turn_server.c — libFuzzer target for the whole sans-IO TURN server (turn/server.h).
 *
 * One input drives one server with a fake clock and a seeded random source. The first byte picks
 * configuration variants; the rest is a sequence of operations (see enum op): raw datagrams from
 * clients and peers, requests the harness builds from fuzz-chosen parts and signs with valid
 * MESSAGE-INTEGRITY(-SHA256) for a fuzz-chosen user (so that the fuzzer reaches allocations,
 * permissions, channels, quotas and expiries, not only the 401 path), ChannelData, Send indications,
 * clock steps and ticks. Nonces, relayed addresses and reservation tokens that the server hands out
 * are learned from its answers and reused by later operations.
 *
 * Checked beyond "no sanitizer report": every call returns 0, -ENOBUFS or -EINVAL; every STUN answer
 * parses and its FINGERPRINT verifies; the gauges never exceed the configured tables; and once the
 * clock runs two days past the last input, every allocation, permission and channel is gone, each
 * ALLOCATION_CREATED has its ALLOCATION_DELETED, each CHANNEL_BOUND its CHANNEL_UNBOUND, and the
 * server's memory stays within a fixed bound of what it was when it was created (pools keep their
 * chunks, but nothing may grow with the number of datagrams).
 */
#include <errno.h>
#include <string.h>
#include "tests/fuzz/fuzz_util.h"
#include "turn/auth.h"
#include "turn/server.h"
#include "turn/stun.h"

#define T0_MS 1700000000000ull
#define N_CLIENTS 6
#define N_PEERS 16
#define MAX_RELAYED 32
#define MAX_OPS 200
#define PORT_MIN 49152
#define PORT_MAX 49159 /* 8 ports: the pool runs dry (508) within a few allocations */
#define MAX_TOTAL 6
#define MAX_PER_USER 3

enum op {
	OP_RAW_CLIENT,	/* client, local, bytes */
	OP_RAW_PEER,	/* relay target, peer, bytes */
	OP_CLOCK,	/* clock step */
	OP_REQUEST,	/* a request built and signed by the harness */
	OP_CHANNELDATA, /* ChannelData from a client */
	OP_SEND,	/* Send indication from a client */
	OP_TICK,	/* tick at now */
	OP_PEER_DATA,	/* a peer datagram to a learned relayed address */
	OP__COUNT
};

struct user {
	const char *name;
	const char *password;
	struct auth_key md5, sha256;
};

/* alice and bob are static users; the two others are TURN REST usernames (one valid for long after
 * T0, one expired); mallory is unknown to the server (her requests are signed all the same). */
static struct user users[] = {
	{ .name = "alice", .password = "wonderland" },
	{ .name = "bob", .password = "builder" },
	{ .name = "1800000000:carol" },
	{ .name = "1600000000:dave" },
	{ .name = "mallory", .password = "x" },
};
#define N_USERS (sizeof(users) / sizeof(users[0]))
static const uint8_t rest_secret[] = "fuzz-secret";

static struct auth_store *store;
static struct turn_cidr allow[2];
static struct xt_addr clients[N_CLIENTS], peers[N_PEERS], locals[4];
static struct xt_addr relay4, relay6;

struct state {
	struct turn_server *s;
	uint64_t now, rnd;
	struct turn_action v[256];
	uint8_t arena[1 << 17];
	struct turn_actions out;
	struct turn_action small_v[TURN_ACTIONS_MIN];
	uint8_t small_arena[TURN_ARENA_MIN];
	struct turn_actions small;
	bool use_small;
	/* learned from answers */
	uint8_t nonce[N_CLIENTS][AUTH_NONCE_MAX];
	size_t nonce_len[N_CLIENTS];
	uint8_t token[8];
	bool have_token;
	struct xt_addr relayed[MAX_RELAYED];
	unsigned int n_relayed;
	/* balance of the map actions */
	long created, deleted, bound, unbound;
	uint64_t txseq;
};

static void rnd_fn(void *ctx, uint8_t *buf, size_t len)
{
	uint64_t *st = ctx;

	for (size_t i = 0; i < len; i++) {
		uint64_t z = (*st += 0x9E3779B97F4A7C15ull);
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
		buf[i] = (uint8_t)(z ^ (z >> 31));
	}
}

static void v4(struct xt_addr *a, uint8_t a0, uint8_t a1, uint8_t a2, uint8_t a3, uint16_t port)
{
	uint8_t ip[4] = { a0, a1, a2, a3 };

	xt_addr_set_v4(a, ip, port);
}

static void v6(struct xt_addr *a, const uint8_t ip[16], uint16_t port)
{
	xt_addr_set_v6(a, ip, port);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t c6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 };
	static const uint8_t r6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };
	static const uint8_t p6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 3, [15] = 1 };
	static const uint8_t lo6[16] = { [15] = 1 };
	static const uint8_t any6[16] = { 0 };
	static const uint8_t mapped_lo[16] = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 };
	static const uint8_t compat_lo[16] = { [12] = 127, 0, 0, 1 };
	static const uint8_t nat64_lo[16] = { 0, 0x64, 0xff, 0x9b, [12] = 127, 0, 0, 1 };

	(void)argc;
	(void)argv;
	store = auth_store__new("example.org");
	FUZZ_ASSERT(store);
	FUZZ_ASSERT(auth_store__add_user(store, "alice", "wonderland") == 0);
	FUZZ_ASSERT(auth_store__add_user(store, "bob", "builder") == 0);
	FUZZ_ASSERT(auth_store__add_secret(store, rest_secret, sizeof(rest_secret) - 1) == 0);
	for (size_t i = 0; i < N_USERS; i++) {
		struct user *u = &users[i];
		char pw[64];
		const char *p = u->password;
		if (!p) {
			FUZZ_ASSERT(auth_rest_password(rest_secret, sizeof(rest_secret) - 1, u->name,
						       strlen(u->name), pw, sizeof(pw)) > 0);
			p = pw;
		}
		FUZZ_ASSERT(auth_longterm_key(STUN_PASSWORD_ALG_MD5, u->name, strlen(u->name),
					      "example.org", 11, p, strlen(p), &u->md5) == 0);
		FUZZ_ASSERT(auth_longterm_key(STUN_PASSWORD_ALG_SHA256, u->name, strlen(u->name),
					      "example.org", 11, p, strlen(p), &u->sha256) == 0);
	}
	allow[0] = (struct turn_cidr){ .family = XT_AF_INET, .prefix_len = 24,
				       .ip = { 198, 18, 3, 0 } };
	allow[1] = (struct turn_cidr){ .family = XT_AF_INET6, .prefix_len = 48,
				       .ip = { 0x20, 0x01, 0x0d, 0xb8, 0, 3 } };
	v4(&relay4, 198, 18, 0, 10, 0);
	v6(&relay6, r6, 0);
	v4(&clients[0], 198, 18, 1, 1, 50000);
	v4(&clients[1], 198, 18, 1, 2, 50000);
	v4(&clients[2], 198, 18, 1, 1, 50001);
	v4(&clients[3], 203, 0, 113, 5, 1024);
	v6(&clients[4], c6, 50000);
	v4(&clients[5], 198, 18, 0, 10, 50000); /* the relay host itself */
	v4(&locals[0], 198, 18, 0, 10, 3478);
	v6(&locals[1], r6, 3478);
	v4(&locals[2], 198, 18, 0, 99, 3478); /* not ours */
	v4(&locals[3], 198, 18, 0, 10, 3479);
	/* peers: allowed ones, then every bypass the policy must refuse */
	v4(&peers[0], 198, 18, 3, 1, 4000);
	v4(&peers[1], 198, 18, 3, 2, 5000);
	v6(&peers[2], p6, 4000);
	v4(&peers[3], 203, 0, 113, 77, 6000); /* public: allowed by default */
	v4(&peers[4], 127, 0, 0, 1, 80);
	v4(&peers[5], 0, 0, 0, 0, 80);
	v6(&peers[6], lo6, 80);
	v6(&peers[7], any6, 80);
	v6(&peers[8], mapped_lo, 80);
	v6(&peers[9], compat_lo, 80);
	v6(&peers[10], nat64_lo, 80);
	v4(&peers[11], 169, 254, 169, 254, 80);
	v4(&peers[12], 198, 18, 0, 10, 9641); /* the relay itself, not an allocation */
	v4(&peers[13], 198, 18, 0, 10, 3478);
	v4(&peers[14], 10, 1, 2, 3, 22);
	v4(&peers[15], 198, 18, 3, 1, 4001);
	return 0;
}

static void setup(struct state *st, uint8_t flags)
{
	struct turn_server_config cfg = { 0 };

	memset(st, 0, sizeof(*st));
	cfg.auth = store;
	cfg.nonce_lifetime = flags & 1 ? 60 : 0;
	cfg.password_algorithms = flags & 2;
	cfg.software = flags & 4 ? "xturn-fuzz" : NULL;
	cfg.relays[0].addr = relay4;
	cfg.relays[1].addr = relay6;
	cfg.n_relays = 2;
	if (flags & 8) /* 1:1 NAT on the IPv4 relay */
		v4(&cfg.relays[0].advertised, 203, 0, 113, 10, 0);
	cfg.listen_port = 3478;
	cfg.relay_port_min = PORT_MIN;
	cfg.relay_port_max = PORT_MAX;
	cfg.default_lifetime = flags & 16 ? 60 : 0;
	cfg.max_lifetime = flags & 16 ? 120 : 0;
	cfg.max_per_user = MAX_PER_USER;
	cfg.max_total = MAX_TOTAL;
	cfg.legacy_channels = flags & 32;
	cfg.deny_default = !(flags & 64);
	cfg.allow = allow;
	cfg.n_allow = 2;
	st->use_small = flags & 128;
	st->rnd = 1;
	st->now = T0_MS;
	st->s = turn_server__new(&cfg, rnd_fn, &st->rnd);
	FUZZ_ASSERT(st->s);
	turn_actions__init(&st->out, st->v, 256, st->arena, sizeof(st->arena));
	turn_actions__init(&st->small, st->small_v, TURN_ACTIONS_MIN, st->small_arena,
			   sizeof(st->small_arena));
}

static int client_index(const struct xt_addr *a)
{
	for (int i = 0; i < N_CLIENTS; i++)
		if (xt_addr_equal(a, &clients[i]))
			return i;
	return -1;
}

/* Checks the actions of the last call and learns nonces, tokens and relayed addresses. */
static void absorb(struct state *st, const struct turn_actions *out, int rc)
{
	struct turn_server_stats ss;

	FUZZ_ASSERT(rc == 0 || rc == -ENOBUFS || rc == -EINVAL);
	FUZZ_ASSERT(out->n <= out->cap && out->arena_len <= out->arena_cap);
	for (uint32_t i = 0; i < out->n; i++) {
		const struct turn_action *a = &out->v[i];
		switch (a->type) {
		case TURN_ACT_SEND: {
			struct stun_msg m;
			int ci;
			FUZZ_ASSERT(a->prefix_len == 0 || a->prefix_len == 4);
			FUZZ_ASSERT(a->send.len == 0 || a->send.payload);
			FUZZ_ASSERT(a->send.len + a->prefix_len <= 65535);
			FUZZ_ASSERT(a->send.from.family == a->send.to.family);
			ci = client_index(&a->send.to);
			if (a->prefix_len || ci < 0 || !stun_is_stun(a->send.payload, a->send.len))
				break;
			/* Data indications and answers the server built */
			FUZZ_ASSERT(stun_parse(a->send.payload, a->send.len, &m) == 0);
			FUZZ_ASSERT(stun_msg__check_fingerprint(&m) != -EACCES);
			if (m.cls == STUN_CLASS_ERROR || m.cls == STUN_CLASS_SUCCESS) {
				size_t len;
				const uint8_t *p = stun_msg__attr(&m, STUN_ATTR_NONCE, &len);
				if (p && len <= AUTH_NONCE_MAX) {
					memcpy(st->nonce[ci], p, len);
					st->nonce_len[ci] = len;
				}
				p = stun_msg__attr(&m, STUN_ATTR_RESERVATION_TOKEN, &len);
				if (p && len == 8) {
					memcpy(st->token, p, 8);
					st->have_token = true;
				}
			}
			break;
		}
		case TURN_ACT_ALLOCATION_CREATED:
			FUZZ_ASSERT(a->alloc_id != 0);
			FUZZ_ASSERT(get_be16(a->alloc.relay.port) >= PORT_MIN &&
				    get_be16(a->alloc.relay.port) <= PORT_MAX);
			st->created++;
			if (st->n_relayed < MAX_RELAYED)
				st->relayed[st->n_relayed++] = a->alloc.relay;
			break;
		case TURN_ACT_ALLOCATION_DELETED:
			FUZZ_ASSERT(a->alloc_id != 0);
			st->deleted++;
			break;
		case TURN_ACT_CHANNEL_BOUND:
			FUZZ_ASSERT(a->channel >= STUN_CHANNEL_MIN);
			st->bound++;
			break;
		case TURN_ACT_CHANNEL_UNBOUND:
			st->unbound++;
			break;
		default:
			FUZZ_ASSERT(!"unknown action type");
		}
	}
	turn_server__stats(st->s, &ss);
	FUZZ_ASSERT(ss.allocations <= MAX_TOTAL);
	FUZZ_ASSERT((long)ss.allocations <= st->created - st->deleted);
	FUZZ_ASSERT(st->created >= st->deleted && st->bound >= st->unbound);
}

static struct turn_actions *fresh_out(struct state *st)
{
	struct turn_actions *out = st->use_small ? &st->small : &st->out;

	turn_actions__reset(out);
	return out;
}

static void input_client(struct state *st, const struct xt_addr *local, const struct xt_addr *c,
			 const uint8_t *data, size_t len)
{
	struct turn_actions *out = fresh_out(st);
	uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees reads past the datagram */
	int rc;

	FUZZ_ASSERT(copy);
	memcpy(copy, data, len);
	rc = turn_server__input_client(st->s, st->now, local, c, copy, len, out);
	absorb(st, out, rc);
	free(copy);
}

static void input_peer(struct state *st, const struct xt_addr *relay, const struct xt_addr *p,
		       const uint8_t *data, size_t len)
{
	struct turn_actions *out = fresh_out(st);
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	FUZZ_ASSERT(copy);
	memcpy(copy, data, len);
	rc = turn_server__input_peer(st->s, st->now, relay, p, copy, len, out);
	absorb(st, out, rc);
	free(copy);
}

static void tick(struct state *st, struct turn_actions *out)
{
	int rc;

	turn_actions__reset(out);
	rc = turn_server__tick(st->s, st->now, out);
	absorb(st, out, rc);
}

/* The local address a client's datagram arrives at: mostly the listen address of its family, some
 * times one that is not ours or not the listen port. Always of the client's family, as the pipeline
 * gives it (a 5-tuple from one IP header); a v4 client with a v6 local makes the server answer
 * across families, which no caller can ask for. */
static const struct xt_addr *local_for(int ci, uint8_t sel)
{
	if (clients[ci].family == XT_AF_INET6)
		return &locals[1];
	if (sel < 224)
		return &locals[0];
	return &locals[sel & 2 ? 2 : 3];
}

static const uint16_t methods[] = {
	STUN_METHOD_ALLOCATE,	       STUN_METHOD_ALLOCATE, STUN_METHOD_REFRESH,
	STUN_METHOD_CREATE_PERMISSION, STUN_METHOD_CHANNEL_BIND, STUN_METHOD_CHANNEL_BIND,
	STUN_METHOD_BINDING,	       STUN_METHOD_SEND,
};

static uint16_t pick_channel(struct fuzz_reader *r)
{
	uint8_t c = fr_u8(r);

	if (c < 240)
		return (uint16_t)(STUN_CHANNEL_MIN + (c & 7));
	return fr_u16(r);
}

/* A request (or, with a fuzz-chosen class, an indication/response) with fuzz-chosen attributes,
 * signed for a fuzz-chosen user with the nonce this client was last given. */
static void op_request(struct state *st, struct fuzz_reader *r)
{
	static uint8_t buf[4096];
	uint8_t sel = fr_u8(r), how = fr_u8(r), n_attrs = fr_u8(r) % 8;
	int ci = sel % N_CLIENTS;
	uint16_t method = methods[(sel >> 3) % 8];
	const struct user *u = &users[how % N_USERS];
	uint8_t txid[STUN_TXID_LEN] = { 0 };
	struct stun_builder b;
	uint8_t cls = STUN_CLASS_REQUEST;
	int n;

	if ((how & 0xC0) == 0xC0) /* a few: other classes and raw methods */
		cls = how >> 4 & 3;
	memcpy(txid, &st->txseq, sizeof(st->txseq));
	st->txseq++;
	stun_builder__begin(&b, buf, sizeof(buf), stun_type(method, cls), txid);
	if (method == STUN_METHOD_ALLOCATE && !(how & 8))
		stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	for (int i = 0; i < n_attrs; i++) {
		uint8_t k = fr_u8(r);
		const uint8_t *p;
		size_t len;
		switch (k % 14) {
		case 0:
			stun_builder__add_requested_transport(&b, k & 0x80 ? fr_u8(r) : 17);
			break;
		case 1: {
			static const uint32_t lifetimes[] = { 0, 1, 60, 600, 3600, 86400,
							      0xFFFFFFFF, 300 };
			stun_builder__add_lifetime(&b, k & 0x80 ? fr_u32(r) : lifetimes[k >> 4 & 7]);
			break;
		}
		case 2:
		case 3:
			stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS,
						   &peers[fr_u8(r) % N_PEERS]);
			break;
		case 4:
			stun_builder__add_channel_number(&b, pick_channel(r));
			break;
		case 5:
			stun_builder__add_address_family(&b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY,
							 k & 0x80 ? fr_u8(r) : 1 + (k >> 4 & 1));
			break;
		case 6:
			stun_builder__add_address_family(&b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY,
							 k & 0x80 ? fr_u8(r) : 1 + (k >> 4 & 1));
			break;
		case 7:
			stun_builder__add_even_port(&b, k & 0x10);
			break;
		case 8:
			if (st->have_token && !(k & 0x80)) {
				stun_builder__add_reservation_token(&b, st->token);
			} else {
				uint8_t t[8] = { 0 };
				len = fr_bytes(r, 8, &p);
				memcpy(t, p, len);
				stun_builder__add_reservation_token(&b, t);
			}
			break;
		case 9:
			stun_builder__add_flag(&b, STUN_ATTR_DONT_FRAGMENT);
			break;
		case 10:
			len = fr_bytes(r, fr_u8(r), &p);
			stun_builder__add_data(&b, p, len);
			break;
		case 11:
			stun_builder__add_password_algorithm(&b, k & 0x80 ? fr_u16(r) :
						     k & 0x10 ? STUN_PASSWORD_ALG_SHA256 : STUN_PASSWORD_ALG_MD5);
			break;
		case 12: {
			static const uint16_t algs[] = { STUN_PASSWORD_ALG_SHA256,
							 STUN_PASSWORD_ALG_MD5 };
			stun_builder__add_password_algorithms(&b, algs, 2);
			break;
		}
		default: { /* any attribute, raw */
			uint16_t type = fr_u16(r);
			len = fr_bytes(r, fr_u8(r), &p);
			stun_builder__add(&b, type, p, len);
			break;
		}
		}
	}
	/* credentials: how bits 0..2 pick the user, bit 4 SHA-256, bit 5 no integrity, bit 6 a bad
	 * key, bit 2 of sel FINGERPRINT */
	if (st->nonce_len[ci] && !(how & 0x20)) {
		const struct auth_key *key = how & 0x10 ? &u->sha256 : &u->md5;
		uint8_t bad[32];
		if (how & 0x10) {
			stun_builder__add_password_algorithm(&b, STUN_PASSWORD_ALG_SHA256);
			if (st->nonce_len[ci] >= 13 && !memcmp(st->nonce[ci], AUTH_NONCE_COOKIE, 9)) {
				static const uint16_t algs[] = { STUN_PASSWORD_ALG_SHA256,
								 STUN_PASSWORD_ALG_MD5 };
				stun_builder__add_password_algorithms(&b, algs, 2);
			}
		}
		stun_builder__add_string(&b, STUN_ATTR_USERNAME, u->name);
		stun_builder__add_string(&b, STUN_ATTR_REALM, "example.org");
		stun_builder__add(&b, STUN_ATTR_NONCE, st->nonce[ci], st->nonce_len[ci]);
		if (how & 0x40) {
			memcpy(bad, key->b, key->len);
			bad[0] ^= 1;
			stun_builder__add_integrity(&b, how & 0x10 ? STUN_INTEGRITY_SHA256
								   : STUN_INTEGRITY_SHA1, bad, key->len);
		} else {
			stun_builder__add_integrity(&b, how & 0x10 ? STUN_INTEGRITY_SHA256
								   : STUN_INTEGRITY_SHA1, key->b, key->len);
		}
	}
	if (sel & 4)
		stun_builder__add_fingerprint(&b);
	n = stun_builder__finish(&b);
	if (n > 0)
		input_client(st, local_for(ci, fr_u8(r)), &clients[ci], buf, (size_t)n);
}

static void op_channeldata(struct state *st, struct fuzz_reader *r)
{
	static uint8_t buf[2048];
	uint8_t sel = fr_u8(r);
	int ci = sel % N_CLIENTS;
	uint16_t ch = pick_channel(r);
	const uint8_t *p;
	size_t len = fr_bytes(r, fr_u8(r), &p);
	int n = channeldata_build(buf, sizeof(buf), ch < STUN_CHANNEL_MIN ? STUN_CHANNEL_MIN : ch,
				  p, len, sel & 8);

	if (n < 0)
		return;
	if (sel & 16) /* a length field past the end of the datagram */
		put_be16(buf + 2, (uint16_t)(len + 1 + (sel >> 5)));
	input_client(st, local_for(ci, 0), &clients[ci], buf, (size_t)n);
}

static void op_send(struct state *st, struct fuzz_reader *r)
{
	static uint8_t buf[2048];
	uint8_t sel = fr_u8(r);
	int ci = sel % N_CLIENTS;
	uint8_t txid[STUN_TXID_LEN] = { 1 };
	struct stun_builder b;
	const uint8_t *p;
	size_t len;
	int n;

	stun_builder__begin(&b, buf, sizeof(buf), stun_type(STUN_METHOD_SEND, STUN_CLASS_INDICATION),
			    txid);
	stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peers[fr_u8(r) % N_PEERS]);
	len = fr_bytes(r, fr_u8(r), &p);
	if (!(sel & 8))
		stun_builder__add_data(&b, p, len);
	if (sel & 16)
		stun_builder__add_flag(&b, STUN_ATTR_DONT_FRAGMENT);
	n = stun_builder__finish(&b);
	if (n > 0)
		input_client(st, local_for(ci, 0), &clients[ci], buf, (size_t)n);
}

static void op_peer(struct state *st, struct fuzz_reader *r, bool learned)
{
	uint8_t sel = fr_u8(r);
	struct xt_addr relay;
	const uint8_t *p;
	size_t len;

	if (learned && st->n_relayed) {
		relay = st->relayed[sel % st->n_relayed];
	} else {
		relay = sel & 1 ? relay6 : relay4;
		put_be16(relay.port, (uint16_t)(PORT_MIN + (sel >> 1) % 10));
	}
	sel = fr_u8(r);
	len = fr_bytes(r, fr_u16(r) % 1500, &p);
	input_peer(st, &relay, &peers[sel % N_PEERS], p, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct state st;
	struct fuzz_reader r = { data, size };
	struct turn_server_stats ss;
	uint64_t mem0;

	setup(&st, fr_u8(&r));
	turn_server__stats(st.s, &ss);
	mem0 = ss.memory_bytes;
	for (int ops = 0; r.left && ops < MAX_OPS; ops++) {
		uint8_t op = fr_u8(&r);
		switch (op % OP__COUNT) {
		case OP_RAW_CLIENT: {
			uint8_t sel = fr_u8(&r);
			const uint8_t *p;
			size_t len = fr_bytes(&r, fr_u16(&r) % 1500, &p);
			int ci = sel % N_CLIENTS;
			input_client(&st, local_for(ci, fr_u8(&r)), &clients[ci], p, len);
			break;
		}
		case OP_RAW_PEER:
			op_peer(&st, &r, false);
			break;
		case OP_CLOCK: {
			uint16_t step = fr_u16(&r);
			/* below 0x8000: milliseconds; above: seconds (up to 9 hours) */
			st.now += step < 0x8000 ? step : (uint64_t)(step & 0x7FFF) * 1000;
			break;
		}
		case OP_REQUEST:
			op_request(&st, &r);
			break;
		case OP_CHANNELDATA:
			op_channeldata(&st, &r);
			break;
		case OP_SEND:
			op_send(&st, &r);
			break;
		case OP_TICK:
			tick(&st, fresh_out(&st));
			break;
		case OP_PEER_DATA:
			op_peer(&st, &r, true);
			break;
		}
	}

	/* Two days later everything has expired, and everything installed has been removed. */
	st.now += 2 * 86400 * 1000ull;
	for (int i = 0; i < 1000; i++) {
		tick(&st, &st.out);
		if (st.out.n == 0 && st.out.wake_at > st.now)
			break;
	}
	turn_server__stats(st.s, &ss);
	FUZZ_ASSERT(ss.allocations == 0 && ss.permissions == 0 && ss.channels == 0);
	FUZZ_ASSERT(st.created == st.deleted);
	FUZZ_ASSERT(st.bound == st.unbound);
	if (getenv("FUZZ_DEBUG")) /* what a seed reaches */
		fprintf(stderr, "allocations %ld, channels %ld, memory %llu -> %llu\n", st.created,
			st.bound, (unsigned long long)mem0, (unsigned long long)ss.memory_bytes);
	/* Pools keep their chunks (bounded by the tables' sizes); what must not happen is memory
	 * that grows with the number of datagrams (coturn's 18 KB per invalid packet). */
	FUZZ_ASSERT(ss.memory_bytes <= mem0 + 256 * 1024);
	turn_server__free(st.s);
	return 0;
}
