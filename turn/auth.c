/* turn/auth.c — long-term credentials, TURN REST API secrets, stateless nonces, RFC 8489 §9.2.4.
 *
 * Static users sit in two open-addressing tables of indexes (by USERNAME, by USERHASH), rebuilt when
 * they grow; lookups hash once and compare a few bytes. A nonce is
 *   [ "obMatJos2" base64(features, 3 bytes) ] base64( expiry (4, BE) | MAC (14) )
 * with MAC = HMAC-SHA256(key, features | expiry | client family, IP and port) truncated to 112 bits:
 * it binds the expiry, the client's transport address and the advertised features (so stripping the
 * cookie to bid down PASSWORD-ALGORITHMS, RFC 8489 §9.2.1, gives an invalid nonce).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "turn/auth.h"
#include "turn/hmac.h"

#define NONCE_MAC_LEN 14
#define NONCE_RAW_LEN (4 + NONCE_MAC_LEN) /* 18 bytes: 24 base64 characters, no padding */
#define NONCE_B64_LEN 24
#define COOKIE_LEN (sizeof(AUTH_NONCE_COOKIE) - 1 + 4)

/* What 401/438 answers offer, in order of preference; a request must echo it exactly (§9.2.4). */
static const uint16_t offered_algs[] = { STUN_PASSWORD_ALG_SHA256, STUN_PASSWORD_ALG_MD5 };
#define N_OFFERED (sizeof(offered_algs) / sizeof(offered_algs[0]))

/* ---- base64 (RFC 4648 §4, with padding) ---- */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encodes n bytes into out (4 * ceil(n / 3) characters, no NUL); returns the length. */
static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64_alphabet[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
	}
	return o;
}

static int b64_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes n characters (a multiple of 4, no padding) into 3n/4 bytes; -EINVAL on a bad character. */
static int b64_decode_exact(const uint8_t *in, size_t n, uint8_t *out)
{
	for (size_t i = 0, o = 0; i < n; i += 4, o += 3) {
		uint32_t v = 0;

		for (size_t k = 0; k < 4; k++) {
			int d = b64_value(in[i + k]);

			if (d < 0)
				return -EINVAL;
			v = v << 6 | (uint32_t)d;
		}
		out[o] = (uint8_t)(v >> 16);
		out[o + 1] = (uint8_t)(v >> 8);
		out[o + 2] = (uint8_t)v;
	}
	return 0;
}

/* ---- key derivation ---- */

int auth_longterm_key(uint16_t alg, const char *user, size_t user_len, const char *realm,
		      size_t realm_len, const char *password, size_t password_len,
		      struct auth_key *out)
{
	struct xt_hmac_piece p[5] = {
		{ user, user_len }, { ":", 1 }, { realm, realm_len }, { ":", 1 },
		{ password, password_len },
	};
	enum xt_hash h;

	switch (alg) {
	case STUN_PASSWORD_ALG_MD5:
		h = XT_HASH_MD5;
		break;
	case STUN_PASSWORD_ALG_SHA256:
		h = XT_HASH_SHA256;
		break;
	default:
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	if (xt_hash(h, p, 5, out->b))
		return -ENOMEM;
	out->len = (uint8_t)xt_hash_len(h);
	return 0;
}

void auth_userhash(const char *user, size_t user_len, const char *realm, size_t realm_len,
		   uint8_t out[AUTH_USERHASH_LEN])
{
	struct xt_hmac_piece p[3] = { { user, user_len }, { ":", 1 }, { realm, realm_len } };

	if (xt_hash(XT_HASH_SHA256, p, 3, out))
		memset(out, 0, AUTH_USERHASH_LEN);
}

int auth_rest_password(const uint8_t *secret, size_t secret_len, const char *username,
		       size_t username_len, char *out, size_t cap)
{
	struct xt_hmac_piece p = { username, username_len };
	uint8_t mac[20];
	size_t n;

	if (cap < 29)
		return -ENOSPC;
	if (xt_hmac(XT_HASH_SHA1, secret, secret_len, &p, 1, mac))
		return -ENOMEM;
	n = b64_encode(mac, sizeof(mac), out);
	out[n] = '\0';
	return (int)n;
}

/* coturn's `use-auth-secret` username: the expiry as decimal UNIX seconds, then ":user" or nothing. */
int auth_rest_expiry(const char *username, size_t username_len, uint64_t *expiry)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < username_len && username[i] >= '0' && username[i] <= '9'; i++) {
		if (i >= 19) /* more digits than a uint64_t holds safely */
			return -EINVAL;
		v = v * 10 + (uint64_t)(username[i] - '0');
	}
	if (i == 0 || (i < username_len && username[i] != ':'))
		return -EINVAL;
	*expiry = v;
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int auth_parse_hex_key(const char *hex, struct auth_key *out)
{
	size_t n;

	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2;
	n = strlen(hex);
	if (n != 32 && n != 64)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out->b[i] = (uint8_t)(hi << 4 | lo);
	}
	out->len = (uint8_t)(n / 2);
	return 0;
}

/* ---- the store ---- */

struct auth_user {
	char *name;
	size_t name_len;
	struct auth_key md5;	/* len 0: none */
	struct auth_key sha256; /* len 0: none */
	uint8_t userhash[AUTH_USERHASH_LEN];
};

struct auth_secret {
	uint8_t *b;
	size_t len;
};

struct auth_store {
	char *realm;
	size_t realm_len;
	struct auth_user *users;
	size_t n_users, cap_users;
	/* index + 1 into users, 0 = empty; tbl_size is a power of two, at least twice n_users */
	uint32_t *by_name, *by_hash;
	size_t tbl_size;
	struct auth_secret *secrets;
	size_t n_secrets;
};

/* FNV-1a: the keys are configured user names and SHA-256 outputs, not attacker-inserted, so a
 * collision-hard hash buys nothing here. */
static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t hash_of_userhash(const uint8_t *uh)
{
	uint64_t h;

	memcpy(&h, uh, sizeof(h)); /* already uniformly distributed */
	return h;
}

static void tbl_insert(uint32_t *tbl, size_t size, uint64_t h, uint32_t idx1)
{
	size_t mask = size - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask)
		if (!tbl[i]) {
			tbl[i] = idx1;
			return;
		}
}

static int tbl_rebuild(struct auth_store *s, size_t size)
{
	uint32_t *bn = calloc(size, sizeof(*bn)), *bh = calloc(size, sizeof(*bh));

	if (!bn || !bh) {
		free(bn);
		free(bh);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n_users; i++) {
		struct auth_user *u = &s->users[i];

		tbl_insert(bn, size, fnv1a((const uint8_t *)u->name, u->name_len), (uint32_t)i + 1);
		tbl_insert(bh, size, hash_of_userhash(u->userhash), (uint32_t)i + 1);
	}
	free(s->by_name);
	free(s->by_hash);
	s->by_name = bn;
	s->by_hash = bh;
	s->tbl_size = size;
	return 0;
}

static struct auth_user *find_by_name(const struct auth_store *s, const uint8_t *name, size_t len)
{
	size_t mask = s->tbl_size - 1;

	if (!s->tbl_size)
		return NULL;
	for (size_t i = fnv1a(name, len) & mask; s->by_name[i]; i = (i + 1) & mask) {
		struct auth_user *u = &s->users[s->by_name[i] - 1];

		if (u->name_len == len && memcmp(u->name, name, len) == 0)
			return u;
	}
	return NULL;
}

static struct auth_user *find_by_hash(const struct auth_store *s, const uint8_t *uh)
{
	size_t mask = s->tbl_size - 1;

	if (!s->tbl_size)
		return NULL;
	for (size_t i = hash_of_userhash(uh) & mask; s->by_hash[i]; i = (i + 1) & mask) {
		struct auth_user *u = &s->users[s->by_hash[i] - 1];

		if (memcmp(u->userhash, uh, AUTH_USERHASH_LEN) == 0)
			return u;
	}
	return NULL;
}

struct auth_store *auth_store__new(const char *realm)
{
	struct auth_store *s;
	size_t n = strlen(realm);

	if (n == 0 || n > STUN_REALM_MAX) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->realm = strdup(realm);
	if (!s->realm) {
		free(s);
		return NULL;
	}
	s->realm_len = n;
	return s;
}

void auth_store__free(struct auth_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_users; i++) {
		OPENSSL_cleanse(&s->users[i].md5, sizeof(s->users[i].md5));
		OPENSSL_cleanse(&s->users[i].sha256, sizeof(s->users[i].sha256));
		free(s->users[i].name);
	}
	for (size_t i = 0; i < s->n_secrets; i++) {
		OPENSSL_cleanse(s->secrets[i].b, s->secrets[i].len);
		free(s->secrets[i].b);
	}
	free(s->users);
	free(s->secrets);
	free(s->by_name);
	free(s->by_hash);
	free(s->realm);
	free(s);
}

/* The user named user, created (with its USERHASH) if new; *created says which. */
static int get_or_add_user(struct auth_store *s, const char *user, struct auth_user **out,
			   bool *created)
{
	size_t n = strlen(user);
	struct auth_user *u;

	if (n == 0 || n > STUN_USERNAME_MAX)
		return -EINVAL;
	u = find_by_name(s, (const uint8_t *)user, n);
	if (u) {
		*out = u;
		*created = false;
		return 0;
	}
	if (s->n_users >= UINT32_MAX - 1)
		return -ENOMEM;
	if (s->n_users == s->cap_users) {
		size_t cap = s->cap_users ? 2 * s->cap_users : 16;
		struct auth_user *nu = realloc(s->users, cap * sizeof(*nu));

		if (!nu)
			return -ENOMEM;
		s->users = nu;
		s->cap_users = cap;
	}
	u = &s->users[s->n_users];
	memset(u, 0, sizeof(*u));
	u->name = strdup(user);
	if (!u->name)
		return -ENOMEM;
	u->name_len = n;
	auth_userhash(user, n, s->realm, s->realm_len, u->userhash);
	s->n_users++;
	if (2 * s->n_users > s->tbl_size) {
		int err = tbl_rebuild(s, s->tbl_size ? 2 * s->tbl_size : 64);

		if (err) {
			s->n_users--;
			free(u->name);
			return err;
		}
	} else {
		tbl_insert(s->by_name, s->tbl_size, fnv1a((const uint8_t *)user, n),
			   (uint32_t)s->n_users);
		tbl_insert(s->by_hash, s->tbl_size, hash_of_userhash(u->userhash),
			   (uint32_t)s->n_users);
	}
	*out = u;
	*created = true;
	return 0;
}

int auth_store__add_user(struct auth_store *s, const char *user, const char *password)
{
	struct auth_user *u;
	bool created;
	size_t ulen = strlen(user), plen = strlen(password);
	int err;

	if (plen == 0)
		return -EINVAL;
	err = get_or_add_user(s, user, &u, &created);
	if (err)
		return err;
	if (!created)
		return -EEXIST;
	err = auth_longterm_key(STUN_PASSWORD_ALG_MD5, user, ulen, s->realm, s->realm_len,
				password, plen, &u->md5);
	if (!err)
		err = auth_longterm_key(STUN_PASSWORD_ALG_SHA256, user, ulen, s->realm,
					s->realm_len, password, plen, &u->sha256);
	return err;
}

int auth_store__add_user_key(struct auth_store *s, const char *user, const struct auth_key *key)
{
	struct auth_key *slot;
	struct auth_user *u;
	bool created;
	int err;

	if (key->len != 16 && key->len != 32)
		return -EINVAL;
	err = get_or_add_user(s, user, &u, &created);
	if (err)
		return err;
	slot = key->len == 16 ? &u->md5 : &u->sha256;
	if (slot->len)
		return -EEXIST;
	*slot = *key;
	return 0;
}

int auth_store__add_secret(struct auth_store *s, const uint8_t *secret, size_t len)
{
	struct auth_secret *ns;
	uint8_t *copy;

	if (len == 0)
		return -EINVAL;
	copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	ns = realloc(s->secrets, (s->n_secrets + 1) * sizeof(*ns));
	if (!ns) {
		free(copy);
		return -ENOMEM;
	}
	memcpy(copy, secret, len);
	s->secrets = ns;
	s->secrets[s->n_secrets].b = copy;
	s->secrets[s->n_secrets].len = len;
	s->n_secrets++;
	return 0;
}

const char *auth_store__realm(const struct auth_store *s)
{
	return s->realm;
}

size_t auth_store__user_count(const struct auth_store *s)
{
	return s->n_users;
}

size_t auth_store__secret_count(const struct auth_store *s)
{
	return s->n_secrets;
}

static int user_key(const struct auth_user *u, uint16_t alg, struct auth_key *out)
{
	const struct auth_key *k = alg == STUN_PASSWORD_ALG_SHA256 ? &u->sha256
				   : alg == STUN_PASSWORD_ALG_MD5  ? &u->md5
								   : NULL;

	if (!k || !k->len)
		return -ENOKEY;
	*out = *k;
	return 0;
}

int auth_store__user_key(const struct auth_store *s, const uint8_t *user, size_t user_len,
			 uint16_t alg, struct auth_key *out)
{
	const struct auth_user *u = find_by_name(s, user, user_len);

	if (!u)
		return -ENOENT;
	return user_key(u, alg, out);
}

/* ---- nonces ---- */

void auth_nonce_ctx__init(struct auth_nonce_ctx *n, const uint8_t key[AUTH_NONCE_KEY_LEN],
			  uint32_t lifetime, uint32_t features)
{
	memcpy(n->key, key, AUTH_NONCE_KEY_LEN);
	n->lifetime = lifetime;
	n->features = features & 0xFFFFFF;
}

static int nonce_mac(const struct auth_nonce_ctx *n, const uint8_t expiry[4],
		     const struct xt_addr *client, uint8_t out[NONCE_MAC_LEN])
{
	uint8_t feat[3] = { (uint8_t)(n->features >> 16), (uint8_t)(n->features >> 8),
			    (uint8_t)n->features };
	uint8_t mac[32];
	struct xt_hmac_piece p[5] = {
		{ feat, 3 },
		{ expiry, 4 },
		{ &client->family, 1 },
		{ client->ip, 16 },
		{ client->port, 2 },
	};
	int err = xt_hmac(XT_HASH_SHA256, n->key, AUTH_NONCE_KEY_LEN, p, 5, mac);

	memcpy(out, mac, NONCE_MAC_LEN);
	return err;
}

/* "obMatJos2" + 4 base64 characters of the 24-bit feature set (RFC 8489 §9.2). */
static void cookie(uint32_t features, char out[COOKIE_LEN])
{
	uint8_t feat[3] = { (uint8_t)(features >> 16), (uint8_t)(features >> 8),
			    (uint8_t)features };

	memcpy(out, AUTH_NONCE_COOKIE, sizeof(AUTH_NONCE_COOKIE) - 1);
	b64_encode(feat, 3, out + sizeof(AUTH_NONCE_COOKIE) - 1);
}

int auth_nonce__make(const struct auth_nonce_ctx *n, const struct xt_addr *client, uint64_t now,
		     char *out, size_t cap)
{
	uint8_t raw[NONCE_RAW_LEN];
	uint64_t exp = now + n->lifetime;
	size_t pos = 0;

	if (cap < (n->features ? COOKIE_LEN : 0) + NONCE_B64_LEN + 1)
		return -ENOSPC;
	if (exp > UINT32_MAX) /* year 2106: saturate rather than wrap into the past */
		exp = UINT32_MAX;
	put_be32(raw, (uint32_t)exp);
	if (nonce_mac(n, raw, client, raw + 4))
		return -ENOMEM;
	if (n->features) {
		cookie(n->features, out);
		pos = COOKIE_LEN;
	}
	pos += b64_encode(raw, sizeof(raw), out + pos);
	out[pos] = '\0';
	return (int)pos;
}

static bool has_cookie(const uint8_t *nonce, size_t len)
{
	return len >= COOKIE_LEN &&
	       memcmp(nonce, AUTH_NONCE_COOKIE, sizeof(AUTH_NONCE_COOKIE) - 1) == 0;
}

enum auth_nonce_verdict auth_nonce__check(const struct auth_nonce_ctx *n, const uint8_t *nonce,
					  size_t len, const struct xt_addr *client, uint64_t now)
{
	uint8_t raw[NONCE_RAW_LEN], mac[NONCE_MAC_LEN];

	if (n->features) {
		char want[COOKIE_LEN];

		cookie(n->features, want);
		if (len < COOKIE_LEN || memcmp(nonce, want, COOKIE_LEN) != 0)
			return AUTH_NONCE_INVALID;
		nonce += COOKIE_LEN;
		len -= COOKIE_LEN;
	}
	if (len != NONCE_B64_LEN || b64_decode_exact(nonce, len, raw))
		return AUTH_NONCE_INVALID;
	if (nonce_mac(n, raw, client, mac) || CRYPTO_memcmp(mac, raw + 4, NONCE_MAC_LEN) != 0)
		return AUTH_NONCE_INVALID;
	return get_be32(raw) < now ? AUTH_NONCE_STALE : AUTH_NONCE_OK;
}

/* ---- RFC 8489 §9.2.4 ---- */

static enum auth_status set(struct auth_result *r, enum auth_status st)
{
	static const int codes[] = {
		[AUTH_OK] = 0,
		[AUTH_CHALLENGE] = STUN_ERR_UNAUTHENTICATED,
		[AUTH_BAD_REQUEST] = STUN_ERR_BAD_REQUEST,
		[AUTH_STALE_NONCE] = STUN_ERR_STALE_NONCE,
		[AUTH_UNAUTHORIZED] = STUN_ERR_UNAUTHENTICATED,
	};

	r->status = st;
	r->error_code = codes[st];
	if (st != AUTH_OK) {
		OPENSSL_cleanse(&r->key, sizeof(r->key));
		r->kind = STUN_INTEGRITY_NONE;
		r->user = NULL;
		r->user_len = 0;
	}
	return st;
}

/* §9.2.4: with a nonce that advertised PASSWORD-ALGORITHMS, either neither attribute (MD5) or both,
 * the list exactly as offered and the choice one of it. 0 and *alg, or -EBADMSG for 400. */
static int negotiated_alg(const struct stun_msg *m, uint16_t *alg)
{
	bool has_list = stun_msg__has(m, STUN_ATTR_PASSWORD_ALGORITHMS);
	bool has_one = stun_msg__has(m, STUN_ATTR_PASSWORD_ALGORITHM);
	uint16_t list[N_OFFERED];
	size_t n;

	if (!has_list && !has_one) {
		*alg = STUN_PASSWORD_ALG_MD5;
		return 0;
	}
	if (!has_list || !has_one)
		return -EBADMSG;
	if (stun_msg__password_algorithms(m, list, N_OFFERED, &n) || n != N_OFFERED ||
	    memcmp(list, offered_algs, sizeof(list)) != 0)
		return -EBADMSG;
	/* the list must also carry no parameters, as offered: 4 bytes per algorithm */
	if (m->attr[STUN_SLOT_PASSWORD_ALGORITHMS].len != 4 * N_OFFERED)
		return -EBADMSG;
	if (stun_msg__password_algorithm(m, alg))
		return -EBADMSG;
	for (size_t i = 0; i < N_OFFERED; i++)
		if (offered_algs[i] == *alg)
			return 0;
	return -EBADMSG;
}

/* Integrity under key: AUTH_OK, or what the failure answers. */
static enum auth_status check_mac(const struct stun_msg *m, enum stun_integrity kind,
				  const struct auth_key *key)
{
	int err = stun_msg__check_integrity_kind(m, kind, key->b, key->len);

	if (err == -EBADMSG)
		return AUTH_BAD_REQUEST;
	return err ? AUTH_UNAUTHORIZED : AUTH_OK;
}

/* TURN REST API: each secret in order gives a password and a key; the first that verifies wins. */
static enum auth_status check_rest(const struct auth_store *s, const struct stun_msg *m,
				   enum stun_integrity kind, const uint8_t *user, size_t ulen,
				   uint64_t now, struct auth_result *r)
{
	uint64_t expiry;
	char pw[32];

	if (!s->n_secrets || auth_rest_expiry((const char *)user, ulen, &expiry) || expiry < now)
		return AUTH_UNAUTHORIZED;
	for (size_t i = 0; i < s->n_secrets; i++) {
		enum auth_status st;
		int n = auth_rest_password(s->secrets[i].b, s->secrets[i].len, (const char *)user,
					   ulen, pw, sizeof(pw));

		if (n < 0 || auth_longterm_key(r->alg, (const char *)user, ulen, s->realm,
					       s->realm_len, pw, (size_t)n, &r->key))
			return AUTH_UNAUTHORIZED;
		st = check_mac(m, kind, &r->key);
		if (st != AUTH_UNAUTHORIZED)
			return st;
	}
	return AUTH_UNAUTHORIZED;
}

enum auth_status auth__check_request(const struct auth_store *s, const struct auth_nonce_ctx *n,
				     const struct stun_msg *m, const struct xt_addr *client,
				     uint64_t now, struct auth_result *r)
{
	const uint8_t *user, *realm, *nonce, *uhash;
	size_t ulen = 0, rlen = 0, nlen = 0, hlen = 0;
	const struct auth_user *u = NULL;
	enum auth_status st;

	memset(r, 0, sizeof(*r));
	r->kind = stun_msg__integrity(m);
	if (r->kind == STUN_INTEGRITY_NONE)
		return set(r, AUTH_CHALLENGE);
	user = stun_msg__attr(m, STUN_ATTR_USERNAME, &ulen);
	uhash = stun_msg__attr(m, STUN_ATTR_USERHASH, &hlen);
	realm = stun_msg__attr(m, STUN_ATTR_REALM, &rlen);
	nonce = stun_msg__attr(m, STUN_ATTR_NONCE, &nlen);
	if ((!user && !uhash) || !realm || !nonce)
		return set(r, AUTH_BAD_REQUEST);

	r->alg = STUN_PASSWORD_ALG_MD5;
	if ((n->features & AUTH_FEATURE_PASSWORD_ALGORITHMS) && has_cookie(nonce, nlen) &&
	    negotiated_alg(m, &r->alg))
		return set(r, AUTH_BAD_REQUEST);

	/* A nonce that is not ours (another key after a restart, another client) is answered like
	 * an expired one: 438 carries a fresh nonce, which clients retry with at once, where a 401
	 * after credentials makes most of them give up. */
	if (auth_nonce__check(n, nonce, nlen, client, now) != AUTH_NONCE_OK)
		return set(r, AUTH_STALE_NONCE);

	if (rlen != s->realm_len || memcmp(realm, s->realm, rlen) != 0)
		return set(r, AUTH_UNAUTHORIZED);

	/* §14.4: USERHASH stands for USERNAME; when both come, USERNAME is used */
	if (user)
		u = find_by_name(s, user, ulen);
	else if (hlen == AUTH_USERHASH_LEN)
		u = find_by_hash(s, uhash);
	if (u) {
		if (user_key(u, r->alg, &r->key))
			return set(r, AUTH_UNAUTHORIZED);
		st = check_mac(m, r->kind, &r->key);
		r->user = (const uint8_t *)u->name;
		r->user_len = u->name_len;
	} else if (user) {
		st = check_rest(s, m, r->kind, user, ulen, now, r);
		r->user = user;
		r->user_len = ulen;
	} else {
		st = AUTH_UNAUTHORIZED;
	}
	return set(r, st);
}

int auth__add_challenge(struct stun_builder *b, const struct auth_store *s,
			const struct auth_nonce_ctx *n, const struct xt_addr *client, uint64_t now)
{
	char nonce[AUTH_NONCE_MAX];

	stun_builder__add(b, STUN_ATTR_REALM, s->realm, s->realm_len);
	if (auth_nonce__make(n, client, now, nonce, sizeof(nonce)) < 0) {
		if (!b->err)
			b->err = -ENOMEM;
		return b->err;
	}
	stun_builder__add_string(b, STUN_ATTR_NONCE, nonce);
	if (n->features & AUTH_FEATURE_PASSWORD_ALGORITHMS)
		stun_builder__add_password_algorithms(b, offered_algs, N_OFFERED);
	return b->err;
}
