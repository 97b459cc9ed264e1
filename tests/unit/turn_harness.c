/* Test harness for turn/server. See turn_harness.h. */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <string.h>
#include "tests/unit/turn_harness.h"

void th_random(void *ctx, uint8_t *buf, size_t len)
{
	uint64_t *st = ctx;

	/* splitmix64: deterministic, so every run sees the same ports and tokens */
	for (size_t i = 0; i < len; i++) {
		uint64_t z = (*st += 0x9E3779B97F4A7C15ull);
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
		buf[i] = (uint8_t)(z ^ (z >> 31));
	}
}

void th_addr4(struct xt_addr *a, const char *ip, uint16_t port)
{
	uint8_t b[4];
	CU_ASSERT_FATAL(inet_pton(AF_INET, ip, b) == 1);
	xt_addr_set_v4(a, b, port);
}

void th_addr6(struct xt_addr *a, const char *ip, uint16_t port)
{
	uint8_t b[16];
	CU_ASSERT_FATAL(inet_pton(AF_INET6, ip, b) == 1);
	xt_addr_set_v6(a, b, port);
}

void th_setup(struct th *t, th_tweak_fn tweak)
{
	memset(t, 0, sizeof(*t));
	t->auth = auth_store__new("example.org");
	CU_ASSERT_FATAL(t->auth != NULL);
	CU_ASSERT_FATAL(auth_store__add_user(t->auth, "alice", "wonderland") == 0);
	CU_ASSERT_FATAL(auth_store__add_user(t->auth, "bob", "builder") == 0);
	t->cfg.auth = t->auth;
	th_addr4(&t->cfg.relays[0].addr, "198.18.0.10", 0);
	th_addr6(&t->cfg.relays[1].addr, "2001:db8::10", 0);
	t->cfg.n_relays = 2;
	t->cfg.listen_port = TH_LISTEN_PORT;
	t->cfg.relay_port_min = 49152;
	t->cfg.relay_port_max = 65535;
	t->cfg.max_total = 1000;
	t->cfg.deny_default = true;
	if (tweak)
		tweak(&t->cfg);
	t->rnd = 42;
	t->now = TH_T0;
	t->s = turn_server__new(&t->cfg, th_random, &t->rnd);
	CU_ASSERT_FATAL(t->s != NULL);
	turn_actions__init(&t->out, t->v, sizeof(t->v) / sizeof(t->v[0]), t->arena,
			   sizeof(t->arena));
}

void th_teardown(struct th *t)
{
	turn_server__free(t->s);
	auth_store__free(t->auth);
	t->s = NULL;
	t->auth = NULL;
}

static void client_init(struct th_client *c, const char *user, const char *pass)
{
	c->user = user;
	c->pass = pass;
	c->kind = STUN_INTEGRITY_SHA1;
	CU_ASSERT_FATAL(auth_longterm_key(STUN_PASSWORD_ALG_MD5, user, strlen(user), "example.org",
					  11, pass, strlen(pass), &c->key) == 0);
}

void th_client(struct th_client *c, int n)
{
	char ip[32];

	memset(c, 0, sizeof(*c));
	snprintf(ip, sizeof(ip), "198.18.1.%d", n);
	th_addr4(&c->addr, ip, 50000);
	th_addr4(&c->local, "198.18.0.10", TH_LISTEN_PORT);
	client_init(c, "alice", "wonderland");
}

void th_client6(struct th_client *c, int n)
{
	char ip[64];

	memset(c, 0, sizeof(*c));
	snprintf(ip, sizeof(ip), "2001:db8:1::%x", n);
	th_addr6(&c->addr, ip, 50000);
	th_addr6(&c->local, "2001:db8::10", TH_LISTEN_PORT);
	client_init(c, "alice", "wonderland");
}

void th_begin(struct th *t, struct th_client *c, struct stun_builder *b, uint16_t method)
{
	uint64_t st = ++t->txseq * 0x1000193ull;

	th_random(&st, c->txid, sizeof(c->txid));
	CU_ASSERT_FATAL(stun_builder__begin(b, t->req, sizeof(t->req),
					    stun_type(method, STUN_CLASS_REQUEST), c->txid) == 0);
}

/* Copies the last SEND to the client (if any) into t->resp and parses it. */
static void grab_answer(struct th *t, const struct th_client *c)
{
	t->resp_len = 0;
	for (uint32_t i = t->out.n; i-- > 0;) {
		const struct turn_action *x = &t->out.v[i];
		if (x->type != TURN_ACT_SEND || !xt_addr_equal(&x->send.to, &c->addr) ||
		    x->prefix_len || x->send.len > sizeof(t->resp))
			continue;
		memcpy(t->resp, x->send.payload, x->send.len);
		t->resp_len = x->send.len;
		if (stun_parse(t->resp, t->resp_len, &t->m) != 0 ||
		    t->m.cls == STUN_CLASS_INDICATION) {
			t->resp_len = 0;
			continue;
		}
		return;
	}
}

int th_input_client(struct th *t, struct th_client *c, const uint8_t *data, size_t len)
{
	turn_actions__reset(&t->out);
	t->rc = turn_server__input_client(t->s, t->now, &c->local, &c->addr, data, len, &t->out);
	grab_answer(t, c);
	return t->rc;
}

int th_input_peer(struct th *t, const struct xt_addr *relay, const struct xt_addr *peer,
		  const uint8_t *data, size_t len)
{
	turn_actions__reset(&t->out);
	t->rc = turn_server__input_peer(t->s, t->now, relay, peer, data, len, &t->out);
	return t->rc;
}

int th_tick(struct th *t, uint64_t now)
{
	t->now = now;
	turn_actions__reset(&t->out);
	t->rc = turn_server__tick(t->s, now, &t->out);
	return t->rc;
}

int th_send_plain(struct th *t, struct th_client *c, struct stun_builder *b)
{
	int n = stun_builder__finish(b);

	CU_ASSERT_FATAL(n > 0);
	t->req_len = (size_t)n;
	return th_input_client(t, c, t->req, t->req_len);
}

int th_send_auth(struct th *t, struct th_client *c, struct stun_builder *b)
{
	stun_builder__add_string(b, STUN_ATTR_USERNAME, c->user);
	stun_builder__add_string(b, STUN_ATTR_REALM, "example.org");
	stun_builder__add(b, STUN_ATTR_NONCE, c->nonce, c->nonce_len);
	stun_builder__add_integrity(b, c->kind, c->key.b, c->key.len);
	if (c->fingerprint)
		stun_builder__add_fingerprint(b);
	return th_send_plain(t, c, b);
}

size_t th_attr_types(const uint8_t *msg, size_t len, uint16_t *types, size_t max)
{
	size_t off = STUN_HEADER_LEN, n = 0;

	while (off + 4 <= len && n < max) {
		uint16_t alen = get_be16(msg + off + 2);
		types[n++] = get_be16(msg + off);
		off += 4 + ((alen + 3u) & ~3u);
	}
	return n;
}

bool th_check(struct th *t, int code, const uint16_t *types, enum stun_integrity kind,
	      const struct auth_key *key)
{
	uint16_t got[64];
	size_t n, want_n = 0;
	bool ok = true;

	CU_ASSERT_FATAL(t->resp_len > 0);
	CU_ASSERT_EQUAL(t->m.cls, code ? STUN_CLASS_ERROR : STUN_CLASS_SUCCESS);
	ok &= t->m.cls == (code ? STUN_CLASS_ERROR : STUN_CLASS_SUCCESS);
	if (code) {
		int got_code = 0;
		const uint8_t *reason;
		size_t rlen;
		CU_ASSERT_EQUAL(stun_msg__error_code(&t->m, &got_code, &reason, &rlen), 0);
		CU_ASSERT_EQUAL(got_code, code);
		ok &= got_code == code;
	}
	n = th_attr_types(t->resp, t->resp_len, got, 64);
	while (types[want_n])
		want_n++;
	CU_ASSERT_EQUAL(n, want_n);
	ok &= n == want_n;
	for (size_t i = 0; i < n && i < want_n; i++) {
		CU_ASSERT_EQUAL(got[i], types[i]);
		ok &= got[i] == types[i];
	}
	CU_ASSERT_EQUAL(stun_msg__integrity(&t->m), kind);
	ok &= stun_msg__integrity(&t->m) == kind;
	if (kind != STUN_INTEGRITY_NONE) {
		int rc = stun_msg__check_integrity_kind(&t->m, kind, key->b, key->len);
		CU_ASSERT_EQUAL(rc, 0);
		ok &= rc == 0;
	}
	if (t->m.fp_off) {
		CU_ASSERT_EQUAL(stun_msg__check_fingerprint(&t->m), 0);
		ok &= stun_msg__check_fingerprint(&t->m) == 0;
	}
	return ok;
}

bool th_actions_are(struct th *t, const uint8_t *want)
{
	uint32_t n = 0;
	bool ok;

	while (want[n])
		n++;
	ok = n == t->out.n;
	for (uint32_t i = 0; ok && i < n; i++)
		ok = t->out.v[i].type == want[i];
	CU_ASSERT(ok);
	return ok;
}

int th_find_action(struct th *t, uint8_t type, int n)
{
	for (uint32_t i = 0; i < t->out.n; i++)
		if (t->out.v[i].type == type && n-- == 0)
			return (int)i;
	return -1;
}

void th_login(struct th *t, struct th_client *c)
{
	struct stun_builder b;
	size_t len;
	const uint8_t *nonce;

	th_begin(t, c, &b, STUN_METHOD_ALLOCATE);
	stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	CU_ASSERT_FATAL(th_send_plain(t, c, &b) == 0);
	CU_ASSERT_FATAL(t->resp_len > 0);
	nonce = stun_msg__attr(&t->m, STUN_ATTR_NONCE, &len);
	CU_ASSERT_FATAL(nonce != NULL && len < sizeof(c->nonce));
	memcpy(c->nonce, nonce, len);
	c->nonce_len = len;
}

void th_allocate(struct th *t, struct th_client *c, struct xt_addr *relayed)
{
	struct stun_builder b;

	if (!c->nonce_len)
		th_login(t, c);
	th_begin(t, c, &b, STUN_METHOD_ALLOCATE);
	stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	CU_ASSERT_FATAL(th_send_auth(t, c, &b) == 0);
	CU_ASSERT_FATAL(t->resp_len > 0);
	CU_ASSERT_FATAL(t->m.cls == STUN_CLASS_SUCCESS);
	if (relayed)
		CU_ASSERT_FATAL(
		    stun_msg__xor_addr(&t->m, STUN_ATTR_XOR_RELAYED_ADDRESS, 0, relayed) == 0);
}

void th_permit(struct th *t, struct th_client *c, const struct xt_addr *peer)
{
	struct stun_builder b;

	th_begin(t, c, &b, STUN_METHOD_CREATE_PERMISSION);
	stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, peer);
	CU_ASSERT_FATAL(th_send_auth(t, c, &b) == 0);
	CU_ASSERT_FATAL(t->resp_len > 0 && t->m.cls == STUN_CLASS_SUCCESS);
}

void th_bind(struct th *t, struct th_client *c, uint16_t channel, const struct xt_addr *peer)
{
	struct stun_builder b;

	th_begin(t, c, &b, STUN_METHOD_CHANNEL_BIND);
	stun_builder__add_channel_number(&b, channel);
	stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, peer);
	CU_ASSERT_FATAL(th_send_auth(t, c, &b) == 0);
	CU_ASSERT_FATAL(t->resp_len > 0 && t->m.cls == STUN_CLASS_SUCCESS);
}
