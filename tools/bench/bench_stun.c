/* bench_stun: the codec and credential costs under one authenticated Allocate, on one core.
 *
 * Measures, each for about half a second: parsing an authenticated Allocate request, verifying its
 * MESSAGE-INTEGRITY, the whole RFC 8489 §9.2.4 check (nonce + user lookup + MI), the same with a
 * TURN REST username, building the success answer (XOR-RELAYED/-MAPPED-ADDRESS, LIFETIME, MI,
 * FINGERPRINT), making a nonce, and parsing ChannelData. Prints BENCH stun_<what>_per_s lines.
 * Usage: bench_stun [BUILD_DIR]   (the argument is ignored; run.sh passes it)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "turn/auth.h"
#include "turn/stun.h"

#define NOW 1700000000ull

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile int sink;

/* Runs fn in batches until about 0.5 s have passed; returns calls per second. */
static double rate(int (*fn)(void *), void *arg)
{
	double t0 = now_s(), t;
	unsigned long n = 0;

	do {
		for (int i = 0; i < 1000; i++)
			sink += fn(arg);
		n += 1000;
		t = now_s();
	} while (t - t0 < 0.5);
	return (double)n / (t - t0);
}

struct ctx {
	struct auth_store *store;
	struct auth_nonce_ctx nonce;
	struct xt_addr client, relayed;
	uint8_t req[512], rest_req[512], cd[200];
	size_t req_len, rest_req_len;
	struct stun_msg m;
	struct auth_key key;
};

static int build_request(struct ctx *c, const char *user, const char *pw, uint8_t *buf,
			 size_t *len)
{
	static const uint8_t txid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	char nonce[AUTH_NONCE_MAX];
	struct stun_builder b;
	struct auth_key k;
	int n;

	auth_nonce__make(&c->nonce, &c->client, NOW, nonce, sizeof(nonce));
	auth_longterm_key(STUN_PASSWORD_ALG_MD5, user, strlen(user), "example.org", 11, pw,
			  strlen(pw), &k);
	stun_builder__begin(&b, buf, 512, stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST), txid);
	stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	stun_builder__add_lifetime(&b, 600);
	stun_builder__add_string(&b, STUN_ATTR_USERNAME, user);
	stun_builder__add_string(&b, STUN_ATTR_REALM, "example.org");
	stun_builder__add_string(&b, STUN_ATTR_NONCE, nonce);
	stun_builder__add_message_integrity(&b, k.b, k.len);
	stun_builder__add_fingerprint(&b);
	n = stun_builder__finish(&b);
	if (n < 0)
		return n;
	*len = (size_t)n;
	c->key = k;
	return 0;
}

static int do_parse(void *arg)
{
	struct ctx *c = arg;

	return stun_parse(c->req, c->req_len, &c->m);
}

static int do_mi(void *arg)
{
	struct ctx *c = arg;

	return stun_msg__check_integrity(&c->m, c->key.b, c->key.len);
}

static int do_auth(void *arg)
{
	struct ctx *c = arg;
	struct auth_result r;

	stun_parse(c->req, c->req_len, &c->m);
	return auth__check_request(c->store, &c->nonce, &c->m, &c->client, NOW, &r);
}

static int do_auth_rest(void *arg)
{
	struct ctx *c = arg;
	struct stun_msg m;
	struct auth_result r;

	stun_parse(c->rest_req, c->rest_req_len, &m);
	return auth__check_request(c->store, &c->nonce, &m, &c->client, NOW, &r);
}

static int do_build(void *arg)
{
	struct ctx *c = arg;
	struct stun_builder b;
	uint8_t out[256];

	stun_builder__begin_response(&b, out, sizeof(out), &c->m, STUN_CLASS_SUCCESS);
	stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_RELAYED_ADDRESS, &c->relayed);
	stun_builder__add_lifetime(&b, 600);
	stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &c->client);
	stun_builder__add_message_integrity(&b, c->key.b, c->key.len);
	stun_builder__add_fingerprint(&b);
	return stun_builder__finish(&b);
}

static int do_nonce(void *arg)
{
	struct ctx *c = arg;
	char nonce[AUTH_NONCE_MAX];

	return auth_nonce__make(&c->nonce, &c->client, NOW, nonce, sizeof(nonce));
}

static int do_channeldata(void *arg)
{
	struct ctx *c = arg;
	struct channeldata cd;

	return channeldata_parse(c->cd, 104, &cd);
}

int main(void)
{
	static const uint8_t ip[4] = { 198, 18, 0, 1 }, rip[4] = { 198, 18, 0, 2 };
	static const uint8_t nkey[AUTH_NONCE_KEY_LEN] = { 42 };
	struct ctx c;
	char user[64], name[32], pw[32];

	memset(&c, 0, sizeof(c));
	xt_addr_set_v4(&c.client, ip, 50000);
	xt_addr_set_v4(&c.relayed, rip, 49160);
	auth_nonce_ctx__init(&c.nonce, nkey, 3600, 0);
	c.store = auth_store__new("example.org");
	if (!c.store)
		return 1;
	for (int i = 0; i < 10000; i++) { /* a realistic table, not a single entry */
		snprintf(name, sizeof(name), "user%d", i);
		snprintf(pw, sizeof(pw), "secret%d", i);
		auth_store__add_user(c.store, name, pw);
	}
	auth_store__add_secret(c.store, (const uint8_t *)"rest-secret", 11);
	/* the REST request first: build_request leaves its key in c.key for the static one */
	snprintf(user, sizeof(user), "%llu:carol", NOW + 86400);
	auth_rest_password((const uint8_t *)"rest-secret", 11, user, strlen(user), pw, sizeof(pw));
	if (build_request(&c, user, pw, c.rest_req, &c.rest_req_len) ||
	    build_request(&c, "user4242", "secret4242", c.req, &c.req_len))
		return 1;
	/* sanity: what is measured must succeed */
	if (do_parse(&c) || do_mi(&c) || do_auth(&c) != AUTH_OK || do_auth_rest(&c) != AUTH_OK ||
	    do_build(&c) <= 0) {
		fprintf(stderr, "bench_stun: self-check failed\n");
		return 1;
	}
	channeldata_build(c.cd, sizeof(c.cd), 0x4001, c.cd + 4, 100, false);

	printf("BENCH stun_parse_per_s %.0f 1/s\n", rate(do_parse, &c));
	printf("BENCH stun_check_mi_per_s %.0f 1/s\n", rate(do_mi, &c));
	printf("BENCH stun_auth_static_per_s %.0f 1/s\n", rate(do_auth, &c));
	printf("BENCH stun_auth_rest_per_s %.0f 1/s\n", rate(do_auth_rest, &c));
	printf("BENCH stun_build_allocate_answer_per_s %.0f 1/s\n", rate(do_build, &c));
	printf("BENCH stun_nonce_make_per_s %.0f 1/s\n", rate(do_nonce, &c));
	printf("BENCH stun_channeldata_parse_per_s %.0f 1/s\n", rate(do_channeldata, &c));
	auth_store__free(c.store);
	return 0;
}
