/* turn/auth.h — long-term credentials, TURN REST API shared secrets and stateless nonces.
 *
 * The credential store maps a USERNAME (or USERHASH) to the HMAC key of MESSAGE-INTEGRITY(-SHA256):
 * static users given by password or by precomputed key, and coturn-compatible `use-auth-secret`
 * usernames "<unix-expiry>[:<user>]" checked against each shared secret in order. A store is immutable
 * once built and shared read-only by every worker; a SIGHUP builds a new one and swaps the pointer.
 * Nonces carry their own expiry and an HMAC of it with the client address, so nothing is kept for a
 * client that has not authenticated yet. auth__check_request() is the RFC 8489 §9.2.4 server procedure.
 * No clock: `now` is always an argument, in UNIX seconds (REST usernames carry UNIX times). No
 * randomness of its own: the nonce key is given. Does not decide what a request may do (turn/server).
 */
#ifndef XTURN_TURN_AUTH_H
#define XTURN_TURN_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pkt/addr.h"
#include "turn/stun.h"

#define AUTH_KEY_MAX 32 /* SHA-256; an MD5 key is 16 bytes */
#define AUTH_USERHASH_LEN 32

/* An HMAC key for MESSAGE-INTEGRITY(-SHA256). */
struct auth_key {
	uint8_t len; /* 16 (MD5) or 32 (SHA-256); 0 = none */
	uint8_t b[AUTH_KEY_MAX];
};

/* ---- key derivation (RFC 8489 §9.2.2, §18.5.1) ---- */

/* key = MD5(username ":" realm ":" password) for STUN_PASSWORD_ALG_MD5, SHA-256(...) for
 * STUN_PASSWORD_ALG_SHA256. Inputs are already SASLprep/OpaqueString-processed bytes (xturn does
 * not normalise). Returns 0 or -EINVAL (unknown algorithm). */
int auth_longterm_key(uint16_t alg, const char *user, size_t user_len, const char *realm,
		      size_t realm_len, const char *password, size_t password_len,
		      struct auth_key *out);

/* USERHASH = SHA-256(username ":" realm) (RFC 8489 §14.4). */
void auth_userhash(const char *user, size_t user_len, const char *realm, size_t realm_len,
		   uint8_t out[AUTH_USERHASH_LEN]);

/* TURN REST API (coturn use-auth-secret): password = base64(HMAC-SHA1(secret, username)), written
 * NUL-terminated into out. Returns the length (28) or -ENOSPC (cap < 29). */
int auth_rest_password(const uint8_t *secret, size_t secret_len, const char *username,
		       size_t username_len, char *out, size_t cap);

/* The expiry of a REST username "<unix-expiry>[:<user>]": 0 or -EINVAL (no leading decimal time). */
int auth_rest_expiry(const char *username, size_t username_len, uint64_t *expiry);

/* Parses a key given in configuration as hex ("0x" prefix optional): 32 hex digits give an MD5 key,
 * 64 a SHA-256 key. Returns 0 or -EINVAL. */
int auth_parse_hex_key(const char *hex, struct auth_key *out);

/* ---- the credential store ---- */

struct auth_store;

/* An empty store for realm (copied). NULL + errno (EINVAL: realm empty or too long; ENOMEM). */
struct auth_store *auth_store__new(const char *realm);
void auth_store__free(struct auth_store *s);

/* A static user with a password: both keys (MD5, SHA-256) and the USERHASH are precomputed.
 * Returns 0, -EEXIST (same username), -EINVAL (empty or too long), -ENOMEM. */
int auth_store__add_user(struct auth_store *s, const char *user, const char *password);
/* A static user with a precomputed key (16 bytes: MD5 key, usable only with PASSWORD-ALGORITHM MD5
 * or without negotiation; 32 bytes: SHA-256 key). Calling it twice for the same user with keys of
 * the two lengths gives the user both; the same length twice is -EEXIST. */
int auth_store__add_user_key(struct auth_store *s, const char *user, const struct auth_key *key);
/* A TURN REST API shared secret (copied); secrets are tried in the order added (rotation: put the
 * current one first). Returns 0, -EINVAL (empty), -ENOMEM. */
int auth_store__add_secret(struct auth_store *s, const uint8_t *secret, size_t len);

const char *auth_store__realm(const struct auth_store *s);
size_t auth_store__user_count(const struct auth_store *s);
size_t auth_store__secret_count(const struct auth_store *s);

/* The key of a static user for alg: 0, -ENOENT (no such user), -ENOKEY (no key for alg). */
int auth_store__user_key(const struct auth_store *s, const uint8_t *user, size_t user_len,
			 uint16_t alg, struct auth_key *out);

/* ---- stateless nonces ---- */

/* RFC 8489 §9.2: a nonce that starts with this cookie carries a 24-bit security feature set in 4
 * base64 characters; bit 0 (the most significant, §18.1) says PASSWORD-ALGORITHMS is offered. */
#define AUTH_NONCE_COOKIE "obMatJos2"
#define AUTH_FEATURE_PASSWORD_ALGORITHMS 0x800000u
#define AUTH_FEATURE_USERNAME_ANONYMITY 0x400000u
#define AUTH_NONCE_KEY_LEN 32
#define AUTH_NONCE_MAX 64 /* longest nonce made, with the NUL: cookie (13) + 36 */

struct auth_nonce_ctx {
	uint8_t key[AUTH_NONCE_KEY_LEN]; /* server secret from the injected random source */
	uint32_t lifetime;		 /* seconds a nonce stays fresh */
	uint32_t features;		 /* AUTH_FEATURE_*; 0: no cookie, plain MD5 */
};

/* features: AUTH_FEATURE_PASSWORD_ALGORITHMS to negotiate MD5/SHA-256 (RFC 8489), 0 for RFC 5389
 * behaviour. USERHASH is accepted either way. */
void auth_nonce_ctx__init(struct auth_nonce_ctx *n, const uint8_t key[AUTH_NONCE_KEY_LEN],
			  uint32_t lifetime, uint32_t features);

/* A fresh nonce for client at now, printable, NUL-terminated; returns its length or -ENOSPC. */
int auth_nonce__make(const struct auth_nonce_ctx *n, const struct xt_addr *client, uint64_t now,
		     char *out, size_t cap);

enum auth_nonce_verdict {
	AUTH_NONCE_OK = 0,
	AUTH_NONCE_STALE,   /* ours, for this client, expired: answer 438 with a fresh one */
	AUTH_NONCE_INVALID, /* not made by this key for this client (or malformed) */
};

/* Checks a nonce for client at now (the client's IP and port are both bound). */
enum auth_nonce_verdict auth_nonce__check(const struct auth_nonce_ctx *n, const uint8_t *nonce,
					  size_t len, const struct xt_addr *client, uint64_t now);

/* ---- the server procedure (RFC 8489 §9.2.4) ---- */

enum auth_status {
	AUTH_OK = 0,
	AUTH_CHALLENGE,	  /* 401 without integrity: no MI/MI-SHA256 in the request; send challenge */
	AUTH_BAD_REQUEST, /* 400: integrity but USERNAME/USERHASH, REALM or NONCE missing, or a bad
			   * PASSWORD-ALGORITHM(S) negotiation; answered without challenge attrs */
	AUTH_STALE_NONCE, /* 438: send challenge (fresh NONCE, REALM) */
	AUTH_UNAUTHORIZED, /* 401: unknown user, expired REST username, wrong realm or integrity
			    * mismatch; send challenge, no MESSAGE-INTEGRITY in the answer */
};

struct auth_result {
	enum auth_status status;
	int error_code;		   /* 0, 400, 401 or 438 */
	enum stun_integrity kind;  /* the integrity the answer must carry (AUTH_OK only) */
	uint16_t alg;		   /* STUN_PASSWORD_ALG_* used for the key */
	struct auth_key key;	   /* the HMAC key for the answer's integrity (AUTH_OK only) */
	/* The authenticated username (AUTH_OK only), for quotas and allocation ownership (441). It
	 * points into the request (USERNAME) or into the store (USERHASH lookups): copy it if it must
	 * outlive either. REST usernames are the whole "<expiry>:<user>" string, as coturn does. */
	const uint8_t *user;
	size_t user_len;
};

/* Authenticates request m from client at now with store s and nonce context n, following RFC 8489
 * §9.2.4 (long-term credentials) in its order: integrity present, USERNAME/USERHASH+REALM+NONCE
 * present, password algorithm negotiation, nonce freshness, user known, integrity (MI-SHA256 when
 * present, else MI). Returns r->status (also stored in r). Never fails otherwise. */
enum auth_status auth__check_request(const struct auth_store *s, const struct auth_nonce_ctx *n,
				     const struct stun_msg *m, const struct xt_addr *client,
				     uint64_t now, struct auth_result *r);

/* Adds the challenge of a 401 or 438 answer: REALM, a fresh NONCE for client, and
 * PASSWORD-ALGORITHMS (SHA-256, MD5) when n offers them. Returns 0 or the builder's error. */
int auth__add_challenge(struct stun_builder *b, const struct auth_store *s,
			const struct auth_nonce_ctx *n, const struct xt_addr *client, uint64_t now);

#endif
