/* turn/hmac.h — the hashes and HMACs that STUN needs (MD5, SHA-1, SHA-256), over scattered pieces.
 *
 * Internal to turn/: a thin layer over OpenSSL's EVP digests that fetches each algorithm once and
 * keeps one digest context per thread, so an HMAC costs its compression rounds and no allocation.
 * Hashing pieces lets the codec MAC a message with a rewritten length field without copying it.
 */
#ifndef XTURN_TURN_HMAC_H
#define XTURN_TURN_HMAC_H

#include <stddef.h>
#include <stdint.h>

enum xt_hash {
	XT_HASH_MD5,
	XT_HASH_SHA1,
	XT_HASH_SHA256,
};

/* Kept as separate names for the codec's readability. */
#define XT_HMAC_SHA1 XT_HASH_SHA1
#define XT_HMAC_SHA256 XT_HASH_SHA256
#define xt_hmac_alg xt_hash

#define XT_HMAC_MAX 32 /* longest digest (SHA-256) */

struct xt_hmac_piece {
	const void *p;
	size_t len;
};

/* Digest length in bytes: 16, 20, 32. */
size_t xt_hash_len(enum xt_hash h);

/* out = H(pieces...). 0 or -ENOMEM (OpenSSL could not set up the thread's context). */
int xt_hash(enum xt_hash h, const struct xt_hmac_piece *pieces, size_t n, uint8_t *out);

/* out = HMAC-H(key, pieces...) (RFC 2104). On failure out is zeroed and -ENOMEM returned. */
int xt_hmac(enum xt_hash h, const uint8_t *key, size_t key_len, const struct xt_hmac_piece *pieces,
	    size_t n, uint8_t *out);

#endif
