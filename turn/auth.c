/* turn/auth.c — credentials, REST secrets, nonces. Stub: every entry point answers -ENOSYS for now. */
#include <errno.h>
#include <string.h>
#include "turn/auth.h"

#define U(x) (void)(x)
int auth_longterm_key(uint16_t alg, const char *user, size_t user_len, const char *realm,
		      size_t realm_len, const char *password, size_t password_len,
		      struct auth_key *out)
{
	U(alg), U(user), U(user_len), U(realm), U(realm_len), U(password), U(password_len), U(out);
	return -ENOSYS;
}

void auth_userhash(const char *user, size_t user_len, const char *realm, size_t realm_len,
		   uint8_t out[AUTH_USERHASH_LEN])
{
	U(user), U(user_len), U(realm), U(realm_len);
	memset(out, 0, AUTH_USERHASH_LEN);
}

int auth_rest_password(const uint8_t *secret, size_t secret_len, const char *username,
		       size_t username_len, char *out, size_t cap)
{
	U(secret), U(secret_len), U(username), U(username_len), U(out), U(cap);
	return -ENOSYS;
}

int auth_rest_expiry(const char *username, size_t username_len, uint64_t *expiry)
{
	U(username), U(username_len), U(expiry);
	return -ENOSYS;
}

int auth_parse_hex_key(const char *hex, struct auth_key *out)
{
	U(hex), U(out);
	return -ENOSYS;
}

struct auth_store *auth_store__new(const char *realm)
{
	U(realm);
	errno = ENOSYS;
	return NULL;
}

void auth_store__free(struct auth_store *s)
{
	U(s);
}

int auth_store__add_user(struct auth_store *s, const char *user, const char *password)
{
	U(s), U(user), U(password);
	return -ENOSYS;
}

int auth_store__add_user_key(struct auth_store *s, const char *user, const struct auth_key *key)
{
	U(s), U(user), U(key);
	return -ENOSYS;
}

int auth_store__add_secret(struct auth_store *s, const uint8_t *secret, size_t len)
{
	U(s), U(secret), U(len);
	return -ENOSYS;
}

const char *auth_store__realm(const struct auth_store *s)
{
	U(s);
	return "";
}

size_t auth_store__user_count(const struct auth_store *s)
{
	U(s);
	return 0;
}

size_t auth_store__secret_count(const struct auth_store *s)
{
	U(s);
	return 0;
}

int auth_store__user_key(const struct auth_store *s, const uint8_t *user, size_t user_len,
			 uint16_t alg, struct auth_key *out)
{
	U(s), U(user), U(user_len), U(alg), U(out);
	return -ENOSYS;
}

void auth_nonce_ctx__init(struct auth_nonce_ctx *n, const uint8_t key[AUTH_NONCE_KEY_LEN],
			  uint32_t lifetime, uint32_t features)
{
	memcpy(n->key, key, AUTH_NONCE_KEY_LEN);
	n->lifetime = lifetime;
	n->features = features;
}

int auth_nonce__make(const struct auth_nonce_ctx *n, const struct xt_addr *client, uint64_t now,
		     char *out, size_t cap)
{
	U(n), U(client), U(now), U(out), U(cap);
	return -ENOSYS;
}

enum auth_nonce_verdict auth_nonce__check(const struct auth_nonce_ctx *n, const uint8_t *nonce,
					  size_t len, const struct xt_addr *client, uint64_t now)
{
	U(n), U(nonce), U(len), U(client), U(now);
	return AUTH_NONCE_INVALID;
}

enum auth_status auth__check_request(const struct auth_store *s, const struct auth_nonce_ctx *n,
				     const struct stun_msg *m, const struct xt_addr *client,
				     uint64_t now, struct auth_result *r)
{
	U(s), U(n), U(m), U(client), U(now);
	memset(r, 0, sizeof(*r));
	r->status = AUTH_UNAUTHORIZED;
	r->error_code = 401;
	return r->status;
}

int auth__add_challenge(struct stun_builder *b, const struct auth_store *s,
			const struct auth_nonce_ctx *n, const struct xt_addr *client, uint64_t now)
{
	U(b), U(s), U(n), U(client), U(now);
	return -ENOSYS;
}
