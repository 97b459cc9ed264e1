/* turn/hmac.c — EVP digests fetched once, one context per thread, HMAC by RFC 2104. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "turn/hmac.h"

#define BLOCK 64 /* MD5, SHA-1 and SHA-256 all have 64-byte blocks */

static EVP_MD *mds[3];
static pthread_once_t mds_once = PTHREAD_ONCE_INIT;
static pthread_key_t ctx_key;
static __thread EVP_MD_CTX *thread_ctx;

static void free_ctx(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

/* Fetching once avoids the per-call provider lookup of EVP_md5() & co (OpenSSL 3 "implicit fetch"). */
static void fetch_mds(void)
{
	mds[XT_HASH_MD5] = EVP_MD_fetch(NULL, "MD5", NULL);
	mds[XT_HASH_SHA1] = EVP_MD_fetch(NULL, "SHA1", NULL);
	mds[XT_HASH_SHA256] = EVP_MD_fetch(NULL, "SHA256", NULL);
	pthread_key_create(&ctx_key, free_ctx);
}

static EVP_MD_CTX *get_ctx(enum xt_hash h, const EVP_MD **md)
{
	pthread_once(&mds_once, fetch_mds);
	*md = mds[h];
	if (!*md)
		return NULL;
	if (!thread_ctx) {
		thread_ctx = EVP_MD_CTX_new();
		if (!thread_ctx)
			return NULL;
		/* the key's destructor frees it when the thread exits */
		pthread_setspecific(ctx_key, thread_ctx);
	}
	return thread_ctx;
}

size_t xt_hash_len(enum xt_hash h)
{
	switch (h) {
	case XT_HASH_MD5:
		return 16;
	case XT_HASH_SHA1:
		return 20;
	case XT_HASH_SHA256:
		return 32;
	}
	return 0;
}

static int digest(EVP_MD_CTX *ctx, const EVP_MD *md, const void *pre, size_t pre_len,
		  const struct xt_hmac_piece *pieces, size_t n, uint8_t *out)
{
	if (!EVP_DigestInit_ex(ctx, md, NULL))
		return -ENOMEM;
	if (pre_len && !EVP_DigestUpdate(ctx, pre, pre_len))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (pieces[i].len && !EVP_DigestUpdate(ctx, pieces[i].p, pieces[i].len))
			return -ENOMEM;
	return EVP_DigestFinal_ex(ctx, out, NULL) ? 0 : -ENOMEM;
}

int xt_hash(enum xt_hash h, const struct xt_hmac_piece *pieces, size_t n, uint8_t *out)
{
	const EVP_MD *md;
	EVP_MD_CTX *ctx = get_ctx(h, &md);

	if (!ctx)
		return -ENOMEM;
	return digest(ctx, md, NULL, 0, pieces, n, out);
}

int xt_hmac(enum xt_hash h, const uint8_t *key, size_t key_len, const struct xt_hmac_piece *pieces,
	    size_t n, uint8_t *out)
{
	uint8_t pad[BLOCK], inner[XT_HMAC_MAX];
	size_t dlen = xt_hash_len(h);
	struct xt_hmac_piece ip = { inner, dlen };
	const EVP_MD *md;
	EVP_MD_CTX *ctx = get_ctx(h, &md);
	int err = -ENOMEM;

	if (!ctx)
		goto out_fail;
	/* RFC 2104: a key longer than the block is hashed first; shorter ones are zero-padded */
	memset(pad, 0, sizeof(pad));
	if (key_len > BLOCK) {
		struct xt_hmac_piece kp = { key, key_len };

		err = digest(ctx, md, NULL, 0, &kp, 1, pad);
		if (err)
			goto out_fail;
	} else if (key_len) {
		memcpy(pad, key, key_len);
	}
	for (int i = 0; i < BLOCK; i++)
		pad[i] ^= 0x36;
	err = digest(ctx, md, pad, BLOCK, pieces, n, inner);
	if (err)
		goto out_fail;
	for (int i = 0; i < BLOCK; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	err = digest(ctx, md, pad, BLOCK, &ip, 1, out);
	OPENSSL_cleanse(pad, sizeof(pad));
	if (err)
		goto out_fail;
	return 0;

out_fail:
	OPENSSL_cleanse(pad, sizeof(pad));
	memset(out, 0, dlen);
	return err;
}
