/* turn/auth: long-term keys (against values computed independently with Python's hashlib/hmac),
 * the credential store, coturn-compatible REST credentials with rotation and expiry, stateless
 * nonces, and the RFC 8489 §9.2.4 procedure case by case. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "turn/auth.h"
#include "turn/stun.h"

static const uint8_t nonce_key[AUTH_NONCE_KEY_LEN] = { 7, 7, 7, 1, 2, 3 };
static const uint8_t txid[12] = { 0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 1, 2, 3, 4, 5, 6 };
#define NOW 1700000000ull

static void hex(const char *h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static void client_addr(struct xt_addr *a, uint8_t last, uint16_t port)
{
	uint8_t ip[4] = { 198, 18, 0, last };

	xt_addr_set_v4(a, ip, port);
}

static void test_keys(void)
{
	uint8_t want[32], uh[32];
	struct auth_key k;
	char pw[64];

	/* hashlib.md5(b"alice:example.org:wonderland") */
	CU_ASSERT_EQUAL(auth_longterm_key(STUN_PASSWORD_ALG_MD5, "alice", 5, "example.org", 11,
					  "wonderland", 10, &k), 0);
	hex("72f86f2053703faa0f521ce71cfe6f59", want, 16);
	CU_ASSERT(k.len == 16 && memcmp(k.b, want, 16) == 0);
	/* hashlib.sha256(b"alice:example.org:wonderland") */
	CU_ASSERT_EQUAL(auth_longterm_key(STUN_PASSWORD_ALG_SHA256, "alice", 5, "example.org", 11,
					  "wonderland", 10, &k), 0);
	hex("f0c3ae808cef897043f79de49549776f1f58cb7c5364e03ab40abac620459848", want, 32);
	CU_ASSERT(k.len == 32 && memcmp(k.b, want, 32) == 0);
	CU_ASSERT_EQUAL(auth_longterm_key(3, "a", 1, "r", 1, "p", 1, &k), -EINVAL);

	/* hashlib.sha256("マトリックス:example.org".encode()) (RFC 8489 B.1) */
	auth_userhash("\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9", 18,
		      "example.org", 11, uh);
	hex("4a3cf38fef6992bda952c6780417da0f24819415569e60b205c46e41407f1704", want, 32);
	CU_ASSERT(memcmp(uh, want, 32) == 0);

	/* coturn use-auth-secret: base64(hmac.new(b"north-wind", b"1700000000:alice", sha1)) */
	CU_ASSERT_EQUAL(auth_rest_password((const uint8_t *)"north-wind", 10, "1700000000:alice", 16,
					   pw, sizeof(pw)), 28);
	CU_ASSERT_STRING_EQUAL(pw, "Oko4dt8u/EbTRjRUJWQDFm/zTCc=");
	CU_ASSERT_EQUAL(auth_rest_password((const uint8_t *)"x", 1, "1", 1, pw, 28), -ENOSPC);
	/* and the long-term key a coturn client derives from that pair */
	CU_ASSERT_EQUAL(auth_longterm_key(STUN_PASSWORD_ALG_MD5, "1700000000:alice", 16,
					  "example.org", 11, pw, 28, &k), 0);
	hex("72de66bbf35ce09d74a8826041313f09", want, 16);
	CU_ASSERT(memcmp(k.b, want, 16) == 0);
}

static void test_rest_expiry_and_hex(void)
{
	static const struct {
		const char *u;
		int rc;
		uint64_t exp;
	} cases[] = {
		{ "1700000000:alice", 0, 1700000000 }, { "1700000000", 0, 1700000000 },
		{ "0:x", 0, 0 },			{ "1700000000:a:b", 0, 1700000000 },
		{ ":alice", -EINVAL, 0 },		{ "alice:1700000000", -EINVAL, 0 },
		{ "17000x0000:a", -EINVAL, 0 },		{ "", -EINVAL, 0 },
		{ "99999999999999999999:a", -EINVAL, 0 }, { "-1:a", -EINVAL, 0 },
	};
	struct auth_key k;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t e = 12345;
		int rc = auth_rest_expiry(cases[i].u, strlen(cases[i].u), &e);

		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (!rc)
			CU_ASSERT_EQUAL(e, cases[i].exp);
	}
	CU_ASSERT_EQUAL(auth_parse_hex_key("0x72f86f2053703faa0f521ce71cfe6f59", &k), 0);
	CU_ASSERT(k.len == 16 && k.b[0] == 0x72 && k.b[15] == 0x59);
	CU_ASSERT_EQUAL(auth_parse_hex_key("72F86F2053703FAA0F521CE71CFE6F59", &k), 0);
	CU_ASSERT(k.len == 16 && k.b[1] == 0xf8);
	CU_ASSERT_EQUAL(auth_parse_hex_key(
				"f0c3ae808cef897043f79de49549776f1f58cb7c5364e03ab40abac620459848", &k),
			0);
	CU_ASSERT_EQUAL(k.len, 32);
	CU_ASSERT_EQUAL(auth_parse_hex_key("0x72f86f2053703faa0f521ce71cfe6f5", &k), -EINVAL);
	CU_ASSERT_EQUAL(auth_parse_hex_key("0x72f86f2053703faa0f521ce71cfe6f5g", &k), -EINVAL);
	CU_ASSERT_EQUAL(auth_parse_hex_key("", &k), -EINVAL);
}

static void test_store(void)
{
	struct auth_store *s = auth_store__new("example.org");
	struct auth_key k, k2;
	char name[32], pw[32];

	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_STRING_EQUAL(auth_store__realm(s), "example.org");
	/* enough users to grow the tables several times */
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		snprintf(pw, sizeof(pw), "pw%d", i * 7);
		CU_ASSERT_FATAL(auth_store__add_user(s, name, pw) == 0);
	}
	CU_ASSERT_EQUAL(auth_store__user_count(s), 2000);
	CU_ASSERT_EQUAL(auth_store__add_user(s, "user17", "x"), -EEXIST);
	CU_ASSERT_EQUAL(auth_store__add_user(s, "", "x"), -EINVAL);
	CU_ASSERT_EQUAL(auth_store__add_user(s, "z", ""), -EINVAL);
	for (int i = 0; i < 2000; i += 37) {
		snprintf(name, sizeof(name), "user%d", i);
		snprintf(pw, sizeof(pw), "pw%d", i * 7);
		CU_ASSERT_FATAL(auth_store__user_key(s, (const uint8_t *)name, strlen(name),
						     STUN_PASSWORD_ALG_MD5, &k) == 0);
		auth_longterm_key(STUN_PASSWORD_ALG_MD5, name, strlen(name), "example.org", 11, pw,
				  strlen(pw), &k2);
		CU_ASSERT(k.len == 16 && memcmp(k.b, k2.b, 16) == 0);
		CU_ASSERT_EQUAL(auth_store__user_key(s, (const uint8_t *)name, strlen(name),
						     STUN_PASSWORD_ALG_SHA256, &k), 0);
		CU_ASSERT_EQUAL(k.len, 32);
	}
	CU_ASSERT_EQUAL(auth_store__user_key(s, (const uint8_t *)"user2000", 8,
					     STUN_PASSWORD_ALG_MD5, &k), -ENOENT);
	CU_ASSERT_EQUAL(auth_store__user_key(s, (const uint8_t *)"user1", 4, STUN_PASSWORD_ALG_MD5,
					     &k), -ENOENT); /* "user" is a prefix, not a user */

	/* precomputed keys: MD5 only, then a SHA-256 one added; the same length twice is refused */
	auth_parse_hex_key("72f86f2053703faa0f521ce71cfe6f59", &k);
	CU_ASSERT_EQUAL(auth_store__add_user_key(s, "keyed", &k), 0);
	CU_ASSERT_EQUAL(auth_store__add_user_key(s, "keyed", &k), -EEXIST);
	CU_ASSERT_EQUAL(auth_store__user_key(s, (const uint8_t *)"keyed", 5,
					     STUN_PASSWORD_ALG_SHA256, &k2), -ENOKEY);
	CU_ASSERT_EQUAL(auth_store__user_key(s, (const uint8_t *)"keyed", 5, STUN_PASSWORD_ALG_MD5,
					     &k2), 0);
	CU_ASSERT(memcmp(k.b, k2.b, 16) == 0);
	auth_parse_hex_key("f0c3ae808cef897043f79de49549776f1f58cb7c5364e03ab40abac620459848", &k);
	CU_ASSERT_EQUAL(auth_store__add_user_key(s, "keyed", &k), 0);
	CU_ASSERT_EQUAL(auth_store__user_key(s, (const uint8_t *)"keyed", 5,
					     STUN_PASSWORD_ALG_SHA256, &k2), 0);
	k.len = 20;
	CU_ASSERT_EQUAL(auth_store__add_user_key(s, "other", &k), -EINVAL);

	CU_ASSERT_EQUAL(auth_store__add_secret(s, (const uint8_t *)"a", 1), 0);
	CU_ASSERT_EQUAL(auth_store__add_secret(s, (const uint8_t *)"b", 0), -EINVAL);
	CU_ASSERT_EQUAL(auth_store__secret_count(s), 1);
	auth_store__free(s);
	auth_store__free(NULL);

	errno = 0;
	CU_ASSERT(auth_store__new("") == NULL && errno == EINVAL);
}

static void test_nonces(void)
{
	struct auth_nonce_ctx n, n_cookie, n_other;
	struct xt_addr c, c_port, c_ip;
	uint8_t other_key[AUTH_NONCE_KEY_LEN] = { 8 };
	char nonce[AUTH_NONCE_MAX];
	int len;

	client_addr(&c, 1, 50000);
	client_addr(&c_port, 1, 50001);
	client_addr(&c_ip, 2, 50000);
	auth_nonce_ctx__init(&n, nonce_key, 600, 0);
	auth_nonce_ctx__init(&n_cookie, nonce_key, 600, AUTH_FEATURE_PASSWORD_ALGORITHMS);
	auth_nonce_ctx__init(&n_other, other_key, 600, 0);

	len = auth_nonce__make(&n, &c, NOW, nonce, sizeof(nonce));
	CU_ASSERT_FATAL(len == 24 && (size_t)len == strlen(nonce));
	for (int i = 0; i < len; i++) /* qdtext: printable, no quote or backslash */
		CU_ASSERT(nonce[i] > 0x20 && nonce[i] < 0x7f && nonce[i] != '"' && nonce[i] != '\\');
	CU_ASSERT_EQUAL(auth_nonce__check(&n, (uint8_t *)nonce, (size_t)len, &c, NOW), AUTH_NONCE_OK);
	CU_ASSERT_EQUAL(auth_nonce__check(&n, (uint8_t *)nonce, (size_t)len, &c, NOW + 600),
			AUTH_NONCE_OK);
	CU_ASSERT_EQUAL(auth_nonce__check(&n, (uint8_t *)nonce, (size_t)len, &c, NOW + 601),
			AUTH_NONCE_STALE);
	CU_ASSERT_EQUAL(auth_nonce__check(&n, (uint8_t *)nonce, (size_t)len, &c_port, NOW),
			AUTH_NONCE_INVALID);
	CU_ASSERT_EQUAL(auth_nonce__check(&n, (uint8_t *)nonce, (size_t)len, &c_ip, NOW),
			AUTH_NONCE_INVALID);
	/* an expired nonce for another client is invalid, not stale */
	CU_ASSERT_EQUAL(auth_nonce__check(&n, (uint8_t *)nonce, (size_t)len, &c_ip, NOW + 1000),
			AUTH_NONCE_INVALID);
	CU_ASSERT_EQUAL(auth_nonce__check(&n_other, (uint8_t *)nonce, (size_t)len, &c, NOW),
			AUTH_NONCE_INVALID);
	CU_ASSERT_EQUAL(auth_nonce__check(&n, (uint8_t *)nonce, (size_t)len - 1, &c, NOW),
			AUTH_NONCE_INVALID);
	/* every character changed to another base64 character: invalid */
	for (int i = 0; i < len; i++) {
		char t[AUTH_NONCE_MAX];

		memcpy(t, nonce, (size_t)len);
		t[i] = t[i] == 'A' ? 'B' : 'A';
		CU_ASSERT_EQUAL(auth_nonce__check(&n, (uint8_t *)t, (size_t)len, &c, NOW),
				AUTH_NONCE_INVALID);
		t[i] = '"';
		CU_ASSERT_EQUAL(auth_nonce__check(&n, (uint8_t *)t, (size_t)len, &c, NOW),
				AUTH_NONCE_INVALID);
	}
	CU_ASSERT_EQUAL(auth_nonce__make(&n, &c, NOW, nonce, 24), -ENOSPC);

	/* RFC 8489 §9.2: cookie + base64 of the feature set 0x800000 = "gAAA" */
	len = auth_nonce__make(&n_cookie, &c, NOW, nonce, sizeof(nonce));
	CU_ASSERT_FATAL(len == 13 + 24);
	CU_ASSERT(strncmp(nonce, "obMatJos2gAAA", 13) == 0);
	CU_ASSERT_EQUAL(auth_nonce__check(&n_cookie, (uint8_t *)nonce, (size_t)len, &c, NOW),
			AUTH_NONCE_OK);
	/* bid-down: the same nonce with its cookie removed, or checked without features, fails */
	CU_ASSERT_EQUAL(auth_nonce__check(&n_cookie, (uint8_t *)nonce + 13, 24, &c, NOW),
			AUTH_NONCE_INVALID);
	CU_ASSERT_EQUAL(auth_nonce__check(&n, (uint8_t *)nonce + 13, 24, &c, NOW),
			AUTH_NONCE_INVALID);
	nonce[12] = 'B';
	CU_ASSERT_EQUAL(auth_nonce__check(&n_cookie, (uint8_t *)nonce, (size_t)len, &c, NOW),
			AUTH_NONCE_INVALID);
	CU_ASSERT_EQUAL(auth_nonce__make(&n_cookie, &c, NOW, nonce, 37), -ENOSPC);
}

/* ---- the §9.2.4 procedure ---- */

struct fixture {
	struct auth_store *s;
	struct auth_nonce_ctx n;
	struct xt_addr client;
	char nonce[AUTH_NONCE_MAX];
	uint8_t buf[512];
	struct stun_msg m;
	struct auth_result r;
};

static void fixture_init(struct fixture *f, uint32_t features)
{
	memset(f, 0, sizeof(*f));
	f->s = auth_store__new("example.org");
	CU_ASSERT_FATAL(f->s != NULL);
	CU_ASSERT_FATAL(auth_store__add_user(f->s, "alice", "wonderland") == 0);
	CU_ASSERT_FATAL(auth_store__add_user(f->s, "bob", "builder") == 0);
	CU_ASSERT_FATAL(auth_store__add_secret(f->s, (const uint8_t *)"new-secret", 10) == 0);
	CU_ASSERT_FATAL(auth_store__add_secret(f->s, (const uint8_t *)"old-secret", 10) == 0);
	auth_nonce_ctx__init(&f->n, nonce_key, 600, features);
	client_addr(&f->client, 9, 40000);
	CU_ASSERT_FATAL(auth_nonce__make(&f->n, &f->client, NOW, f->nonce, sizeof(f->nonce)) > 0);
}

struct req {
	const char *user;	/* NULL: no USERNAME */
	const char *password;	/* for the key */
	const char *realm;	/* NULL: no REALM */
	const char *nonce;	/* NULL: no NONCE; "" = the fixture's */
	bool userhash;		/* USERHASH instead of USERNAME */
	int pa;			/* PASSWORD-ALGORITHM: 0 none */
	bool pas;		/* PASSWORD-ALGORITHMS as offered */
	uint16_t key_alg;	/* key derivation */
	enum stun_integrity kind;
};

static enum auth_status run(struct fixture *f, const struct req *q, uint64_t now)
{
	static const uint16_t offered[] = { STUN_PASSWORD_ALG_SHA256, STUN_PASSWORD_ALG_MD5 };
	const char *realm = q->realm ? q->realm : "example.org";
	struct stun_builder b;
	struct auth_key k;
	int n;

	stun_builder__begin(&b, f->buf, sizeof(f->buf),
			    stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST), txid);
	stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	if (q->user && q->userhash) {
		uint8_t uh[32];

		auth_userhash(q->user, strlen(q->user), realm, strlen(realm), uh);
		stun_builder__add(&b, STUN_ATTR_USERHASH, uh, 32);
	} else if (q->user) {
		stun_builder__add_string(&b, STUN_ATTR_USERNAME, q->user);
	}
	if (q->realm)
		stun_builder__add_string(&b, STUN_ATTR_REALM, q->realm);
	if (q->nonce)
		stun_builder__add_string(&b, STUN_ATTR_NONCE, q->nonce[0] ? q->nonce : f->nonce);
	if (q->pas)
		stun_builder__add_password_algorithms(&b, offered, 2);
	if (q->pa)
		stun_builder__add_password_algorithm(&b, (uint16_t)q->pa);
	auth_longterm_key(q->key_alg ? q->key_alg : STUN_PASSWORD_ALG_MD5, q->user ? q->user : "",
			  q->user ? strlen(q->user) : 0, realm, strlen(realm), q->password,
			  strlen(q->password), &k);
	stun_builder__add_integrity(&b, q->kind, k.b, k.len);
	stun_builder__add_fingerprint(&b);
	n = stun_builder__finish(&b);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_FATAL(stun_parse(f->buf, (size_t)n, &f->m) == 0);
	return auth__check_request(f->s, &f->n, &f->m, &f->client, now, &f->r);
}

static void test_check_request_md5(void)
{
	struct fixture f;
	struct auth_key k;

	fixture_init(&f, 0);
	/* no integrity: challenge */
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "alice", "wonderland", "example.org", "", .kind = 0 },
			    NOW), AUTH_CHALLENGE);
	CU_ASSERT_EQUAL(f.r.error_code, 401);
	/* integrity but a missing USERNAME, REALM or NONCE: 400 */
	CU_ASSERT_EQUAL(run(&f, &(struct req){ NULL, "wonderland", "example.org", "",
					       .kind = STUN_INTEGRITY_SHA1 }, NOW),
			AUTH_BAD_REQUEST);
	CU_ASSERT_EQUAL(f.r.error_code, 400);
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "alice", "wonderland", NULL, "",
					       .kind = STUN_INTEGRITY_SHA1 }, NOW),
			AUTH_BAD_REQUEST);
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "alice", "wonderland", "example.org", NULL,
					       .kind = STUN_INTEGRITY_SHA1 }, NOW),
			AUTH_BAD_REQUEST);
	/* the good case: MI (SHA-1) with the MD5 key */
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "alice", "wonderland", "example.org", "",
					       .kind = STUN_INTEGRITY_SHA1 }, NOW),
			AUTH_OK);
	CU_ASSERT_EQUAL(f.r.error_code, 0);
	CU_ASSERT_EQUAL(f.r.kind, STUN_INTEGRITY_SHA1);
	CU_ASSERT_EQUAL(f.r.alg, STUN_PASSWORD_ALG_MD5);
	auth_longterm_key(STUN_PASSWORD_ALG_MD5, "alice", 5, "example.org", 11, "wonderland", 10, &k);
	CU_ASSERT(f.r.key.len == 16 && memcmp(f.r.key.b, k.b, 16) == 0);
	CU_ASSERT(f.r.user_len == 5 && memcmp(f.r.user, "alice", 5) == 0);
	/* MI-SHA256 with the MD5 key: answered with MI-SHA256 */
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "bob", "builder", "example.org", "",
					       .kind = STUN_INTEGRITY_SHA256 }, NOW),
			AUTH_OK);
	CU_ASSERT_EQUAL(f.r.kind, STUN_INTEGRITY_SHA256);
	CU_ASSERT(f.r.user_len == 3 && memcmp(f.r.user, "bob", 3) == 0);
	/* wrong password, unknown user, other realm: 401 with nothing authenticated */
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "alice", "Wonderland", "example.org", "",
					       .kind = STUN_INTEGRITY_SHA1 }, NOW),
			AUTH_UNAUTHORIZED);
	CU_ASSERT(f.r.error_code == 401 && f.r.user == NULL && f.r.key.len == 0);
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "carol", "wonderland", "example.org", "",
					       .kind = STUN_INTEGRITY_SHA1 }, NOW),
			AUTH_UNAUTHORIZED);
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "alice", "wonderland", "example.com", "",
					       .kind = STUN_INTEGRITY_SHA1 }, NOW),
			AUTH_UNAUTHORIZED);
	/* stale and foreign nonces: 438 */
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "alice", "wonderland", "example.org", "",
					       .kind = STUN_INTEGRITY_SHA1 }, NOW + 601),
			AUTH_STALE_NONCE);
	CU_ASSERT_EQUAL(f.r.error_code, 438);
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "alice", "wonderland", "example.org",
					       "f//499k954d6OL34oL9FSTvy64sA",
					       .kind = STUN_INTEGRITY_SHA1 }, NOW),
			AUTH_STALE_NONCE);
	/* USERHASH stands for the user; the answer names the user from the store */
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "alice", "wonderland", "example.org", "",
					       .userhash = true, .kind = STUN_INTEGRITY_SHA1 },
			    NOW),
			AUTH_OK);
	CU_ASSERT(f.r.user_len == 5 && memcmp(f.r.user, "alice", 5) == 0);
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "carol", "wonderland", "example.org", "",
					       .userhash = true, .kind = STUN_INTEGRITY_SHA1 },
			    NOW),
			AUTH_UNAUTHORIZED);
	/* without negotiation offered, PASSWORD-ALGORITHM is ignored: the key is MD5 */
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "alice", "wonderland", "example.org", "",
					       .pa = STUN_PASSWORD_ALG_SHA256, .pas = true,
					       .key_alg = STUN_PASSWORD_ALG_SHA256,
					       .kind = STUN_INTEGRITY_SHA1 }, NOW),
			AUTH_UNAUTHORIZED);
	auth_store__free(f.s);
}

static void test_check_request_rest(void)
{
	struct fixture f;
	char user[64], pw[32];
	struct auth_key want;

	fixture_init(&f, 0);
	/* signed with the current secret */
	snprintf(user, sizeof(user), "%llu:carol", NOW + 3600);
	auth_rest_password((const uint8_t *)"new-secret", 10, user, strlen(user), pw, sizeof(pw));
	CU_ASSERT_EQUAL(run(&f, &(struct req){ user, pw, "example.org", "",
					       .kind = STUN_INTEGRITY_SHA1 }, NOW),
			AUTH_OK);
	CU_ASSERT(f.r.user_len == strlen(user) && memcmp(f.r.user, user, f.r.user_len) == 0);
	auth_longterm_key(STUN_PASSWORD_ALG_MD5, user, strlen(user), "example.org", 11, pw,
			  strlen(pw), &want);
	CU_ASSERT(memcmp(f.r.key.b, want.b, 16) == 0);
	/* rotation: signed with the previous secret, still accepted */
	auth_rest_password((const uint8_t *)"old-secret", 10, user, strlen(user), pw, sizeof(pw));
	CU_ASSERT_EQUAL(run(&f, &(struct req){ user, pw, "example.org", "",
					       .kind = STUN_INTEGRITY_SHA256 }, NOW),
			AUTH_OK);
	CU_ASSERT_EQUAL(f.r.kind, STUN_INTEGRITY_SHA256);
	/* a secret the server does not have */
	auth_rest_password((const uint8_t *)"gone-secret", 11, user, strlen(user), pw, sizeof(pw));
	CU_ASSERT_EQUAL(run(&f, &(struct req){ user, pw, "example.org", "",
					       .kind = STUN_INTEGRITY_SHA1 }, NOW),
			AUTH_UNAUTHORIZED);
	/* expiry: valid up to and including the second it names, refused after */
	snprintf(user, sizeof(user), "%llu", NOW);
	auth_rest_password((const uint8_t *)"new-secret", 10, user, strlen(user), pw, sizeof(pw));
	CU_ASSERT_EQUAL(run(&f, &(struct req){ user, pw, "example.org", "",
					       .kind = STUN_INTEGRITY_SHA1 }, NOW),
			AUTH_OK);
	CU_ASSERT_EQUAL(run(&f, &(struct req){ user, pw, "example.org", "",
					       .kind = STUN_INTEGRITY_SHA1 }, NOW + 1),
			AUTH_UNAUTHORIZED);
	/* static users are still found first */
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "alice", "wonderland", "example.org", "",
					       .kind = STUN_INTEGRITY_SHA1 }, NOW),
			AUTH_OK);
	/* no secrets: REST usernames are unknown users */
	auth_store__free(f.s);
	f.s = auth_store__new("example.org");
	snprintf(user, sizeof(user), "%llu:carol", NOW + 3600);
	auth_rest_password((const uint8_t *)"new-secret", 10, user, strlen(user), pw, sizeof(pw));
	CU_ASSERT_EQUAL(run(&f, &(struct req){ user, pw, "example.org", "",
					       .kind = STUN_INTEGRITY_SHA1 }, NOW),
			AUTH_UNAUTHORIZED);
	auth_store__free(f.s);
}

/* PASSWORD-ALGORITHMS negotiation (RFC 8489 §9.2.4), offered through the nonce cookie. */
static void test_check_request_negotiation(void)
{
	struct fixture f;
	struct stun_builder b;
	struct stun_msg m;
	uint8_t buf[256];
	uint16_t algs[4];
	size_t n, len;
	const uint8_t *v;
	int total;

	fixture_init(&f, AUTH_FEATURE_PASSWORD_ALGORITHMS);
	CU_ASSERT(strncmp(f.nonce, "obMatJos2gAAA", 13) == 0);
	/* neither attribute: MD5 */
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "alice", "wonderland", "example.org", "",
					       .kind = STUN_INTEGRITY_SHA1 }, NOW),
			AUTH_OK);
	CU_ASSERT_EQUAL(f.r.alg, STUN_PASSWORD_ALG_MD5);
	/* both, SHA-256 chosen: the SHA-256 key */
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "alice", "wonderland", "example.org", "",
					       .pa = STUN_PASSWORD_ALG_SHA256, .pas = true,
					       .key_alg = STUN_PASSWORD_ALG_SHA256,
					       .kind = STUN_INTEGRITY_SHA256 }, NOW),
			AUTH_OK);
	CU_ASSERT(f.r.alg == STUN_PASSWORD_ALG_SHA256 && f.r.key.len == 32);
	/* the same with the MD5 key: the MI does not verify */
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "alice", "wonderland", "example.org", "",
					       .pa = STUN_PASSWORD_ALG_SHA256, .pas = true,
					       .kind = STUN_INTEGRITY_SHA256 }, NOW),
			AUTH_UNAUTHORIZED);
	/* MD5 chosen explicitly */
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "bob", "builder", "example.org", "",
					       .pa = STUN_PASSWORD_ALG_MD5, .pas = true,
					       .kind = STUN_INTEGRITY_SHA1 }, NOW),
			AUTH_OK);
	/* one without the other, or a choice not offered: 400 */
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "alice", "wonderland", "example.org", "",
					       .pa = STUN_PASSWORD_ALG_SHA256,
					       .key_alg = STUN_PASSWORD_ALG_SHA256,
					       .kind = STUN_INTEGRITY_SHA1 }, NOW),
			AUTH_BAD_REQUEST);
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "alice", "wonderland", "example.org", "",
					       .pas = true, .kind = STUN_INTEGRITY_SHA1 }, NOW),
			AUTH_BAD_REQUEST);
	CU_ASSERT_EQUAL(run(&f, &(struct req){ "alice", "wonderland", "example.org", "",
					       .pa = 3, .pas = true, .kind = STUN_INTEGRITY_SHA1 },
			    NOW),
			AUTH_BAD_REQUEST);
	/* a user known only by an MD5 key cannot use SHA-256 */
	{
		struct auth_key k;

		auth_longterm_key(STUN_PASSWORD_ALG_MD5, "dave", 4, "example.org", 11, "pw", 2, &k);
		CU_ASSERT_FATAL(auth_store__add_user_key(f.s, "dave", &k) == 0);
		CU_ASSERT_EQUAL(run(&f, &(struct req){ "dave", "pw", "example.org", "",
						       .kind = STUN_INTEGRITY_SHA1 }, NOW),
				AUTH_OK);
		CU_ASSERT_EQUAL(run(&f, &(struct req){ "dave", "pw", "example.org", "",
						       .pa = STUN_PASSWORD_ALG_SHA256, .pas = true,
						       .key_alg = STUN_PASSWORD_ALG_SHA256,
						       .kind = STUN_INTEGRITY_SHA1 }, NOW),
				AUTH_UNAUTHORIZED);
	}

	/* the challenge: REALM, a nonce good for this client, PASSWORD-ALGORITHMS (SHA-256, MD5) */
	stun_builder__begin(&b, buf, sizeof(buf), stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_ERROR),
			    txid);
	stun_builder__add_error(&b, 401, NULL);
	CU_ASSERT_EQUAL(auth__add_challenge(&b, f.s, &f.n, &f.client, NOW + 5), 0);
	total = stun_builder__finish(&b);
	CU_ASSERT_FATAL(total > 0 && stun_parse(buf, (size_t)total, &m) == 0);
	v = stun_msg__attr(&m, STUN_ATTR_REALM, &len);
	CU_ASSERT(v && len == 11 && memcmp(v, "example.org", 11) == 0);
	v = stun_msg__attr(&m, STUN_ATTR_NONCE, &len);
	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT_EQUAL(auth_nonce__check(&f.n, v, len, &f.client, NOW + 5 + 600), AUTH_NONCE_OK);
	CU_ASSERT_EQUAL(auth_nonce__check(&f.n, v, len, &f.client, NOW + 5 + 601),
			AUTH_NONCE_STALE);
	CU_ASSERT_EQUAL(stun_msg__password_algorithms(&m, algs, 4, &n), 0);
	CU_ASSERT(n == 2 && algs[0] == STUN_PASSWORD_ALG_SHA256 && algs[1] == STUN_PASSWORD_ALG_MD5);
	auth_store__free(f.s);

	/* without the feature, no PASSWORD-ALGORITHMS in the challenge */
	fixture_init(&f, 0);
	stun_builder__begin(&b, buf, sizeof(buf), 0x0113, txid);
	CU_ASSERT_EQUAL(auth__add_challenge(&b, f.s, &f.n, &f.client, NOW), 0);
	total = stun_builder__finish(&b);
	CU_ASSERT_FATAL(stun_parse(buf, (size_t)total, &m) == 0);
	CU_ASSERT(!stun_msg__has(&m, STUN_ATTR_PASSWORD_ALGORITHMS));
	CU_ASSERT(stun_msg__has(&m, STUN_ATTR_NONCE) && stun_msg__has(&m, STUN_ATTR_REALM));
	/* and a challenge that does not fit reports -ENOSPC */
	stun_builder__begin(&b, buf, 40, 0x0113, txid);
	CU_ASSERT_EQUAL(auth__add_challenge(&b, f.s, &f.n, &f.client, NOW), -ENOSPC);
	auth_store__free(f.s);
}

int test_auth_register(void)
{
	CU_pSuite s = CU_add_suite("auth", NULL, NULL);

	if (!s)
		return -1;
	if (!CU_add_test(s, "keys: MD5, SHA-256, USERHASH, coturn REST password",
			 test_keys) ||
	    !CU_add_test(s, "REST username expiry, hex keys", test_rest_expiry_and_hex) ||
	    !CU_add_test(s, "store: 2000 users, keys, duplicates, secrets", test_store) ||
	    !CU_add_test(s, "nonces: fresh, stale, other client, tampered, cookie", test_nonces) ||
	    !CU_add_test(s, "RFC 8489 9.2.4: 400/401/438, MI and MI-SHA256, USERHASH",
			 test_check_request_md5) ||
	    !CU_add_test(s, "REST credentials: rotation, expiry", test_check_request_rest) ||
	    !CU_add_test(s, "PASSWORD-ALGORITHMS negotiation and the challenge",
			 test_check_request_negotiation))
		return -1;
	return 0;
}
