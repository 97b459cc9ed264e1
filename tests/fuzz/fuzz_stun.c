/* tests/fuzz/fuzz_stun.c — libFuzzer target for the STUN/ChannelData codec (turn/stun.h) and the
 * RFC 8489 §9.2.4 procedure (turn/auth.h).
 *
 * One input is one datagram. It goes through stun_parse() and, when accepted, through every accessor
 * (each known attribute, each XOR-PEER/-RELAYED-ADDRESS occurrence), the integrity and fingerprint
 * checks (with the RFC 5769 keys, so that mutated vectors reach the HMAC comparison), the server's
 * authentication of a request, and a rebuild with the builder that must parse back to the same view.
 * The same bytes also go through channeldata_parse() and channeldata_build(). Beyond "no crash, no
 * sanitizer report", the target asserts the codec's own promises (offsets within the message, the
 * accessors' return codes, a rebuilt message equal to its source) and aborts when one breaks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/fuzz/fuzz_util.h"
#include "turn/auth.h"
#include "turn/stun.h"

static const uint16_t known_types[] = {
	STUN_ATTR_MAPPED_ADDRESS,
	STUN_ATTR_USERNAME,
	STUN_ATTR_MESSAGE_INTEGRITY,
	STUN_ATTR_ERROR_CODE,
	STUN_ATTR_UNKNOWN_ATTRIBUTES,
	STUN_ATTR_CHANNEL_NUMBER,
	STUN_ATTR_LIFETIME,
	STUN_ATTR_XOR_PEER_ADDRESS,
	STUN_ATTR_DATA,
	STUN_ATTR_REALM,
	STUN_ATTR_NONCE,
	STUN_ATTR_XOR_RELAYED_ADDRESS,
	STUN_ATTR_REQUESTED_ADDRESS_FAMILY,
	STUN_ATTR_EVEN_PORT,
	STUN_ATTR_REQUESTED_TRANSPORT,
	STUN_ATTR_DONT_FRAGMENT,
	STUN_ATTR_MESSAGE_INTEGRITY_SHA256,
	STUN_ATTR_PASSWORD_ALGORITHM,
	STUN_ATTR_USERHASH,
	STUN_ATTR_XOR_MAPPED_ADDRESS,
	STUN_ATTR_RESERVATION_TOKEN,
	STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY,
	STUN_ATTR_ADDRESS_ERROR_CODE,
	STUN_ATTR_PASSWORD_ALGORITHMS,
	STUN_ATTR_ALTERNATE_DOMAIN,
	STUN_ATTR_ICMP,
	STUN_ATTR_SOFTWARE,
	STUN_ATTR_ALTERNATE_SERVER,
	STUN_ATTR_FINGERPRINT,
};

static struct auth_store *store;
static struct auth_nonce_ctx nonces;
static struct auth_key key_longterm; /* RFC 5769 §2.4 */
static const char short_term_pw[] = "VOkJxbRl1RmTxUk/WvJxBt"; /* RFC 5769 §2.1-2.3 */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char matrix_user[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82"
					  "\xaf\xe3\x82\xb9";
	uint8_t nk[AUTH_NONCE_KEY_LEN] = { 7 };

	(void)argc;
	(void)argv;
	store = auth_store__new("example.org");
	FUZZ_ASSERT(store);
	FUZZ_ASSERT(auth_store__add_user(store, matrix_user, "TheMatrIX") == 0);
	FUZZ_ASSERT(auth_store__add_user(store, "alice", "wonderland") == 0);
	FUZZ_ASSERT(auth_store__add_secret(store, (const uint8_t *)"s3cret", 6) == 0);
	FUZZ_ASSERT(auth_longterm_key(STUN_PASSWORD_ALG_MD5, matrix_user, strlen(matrix_user),
				      "example.org", 11, "TheMatrIX", 9, &key_longterm) == 0);
	auth_nonce_ctx__init(&nonces, nk, 3600, AUTH_FEATURE_PASSWORD_ALGORITHMS);
	return 0;
}

static void check_ref(const struct stun_msg *m, struct stun_attr_ref r)
{
	if (!r.off)
		return;
	FUZZ_ASSERT(r.off >= STUN_HEADER_LEN + STUN_ATTR_HEADER_LEN);
	FUZZ_ASSERT((size_t)r.off + r.len <= m->len);
}

/* Every accessor on every attribute; results are checked for consistency with presence. */
static void accessors(const struct stun_msg *m)
{
	struct xt_addr a;
	uint32_t u32;
	uint16_t u16, list[16];
	uint8_t u8, u8b;
	bool flag;
	int code, rc;
	const uint8_t *reason;
	size_t n, len;

	for (size_t i = 0; i < sizeof(known_types) / sizeof(known_types[0]); i++) {
		const uint8_t *v = stun_msg__attr(m, known_types[i], &len);
		FUZZ_ASSERT(!v == !stun_msg__has(m, known_types[i]));
		if (v)
			FUZZ_ASSERT(v >= m->buf + STUN_HEADER_LEN && v + len <= m->buf + m->len);
		stun_msg__addr(m, known_types[i], &a);
	}
	for (unsigned int i = 0; i <= STUN_MAX_PEER_ADDRS; i++) {
		rc = stun_msg__xor_addr(m, STUN_ATTR_XOR_PEER_ADDRESS, i, &a);
		if (i >= m->n_peer)
			FUZZ_ASSERT(rc == -ENOENT);
		if (rc == 0)
			FUZZ_ASSERT(a.family == XT_AF_INET || a.family == XT_AF_INET6);
	}
	for (unsigned int i = 0; i <= STUN_MAX_RELAYED_ADDRS; i++)
		stun_msg__xor_addr(m, STUN_ATTR_XOR_RELAYED_ADDRESS, i, &a);
	stun_msg__xor_addr(m, STUN_ATTR_XOR_MAPPED_ADDRESS, 0, &a);
	stun_msg__xor_addr(m, STUN_ATTR_XOR_MAPPED_ADDRESS, 1, &a);
	stun_msg__xor_addr(m, STUN_ATTR_USERNAME, 0, &a); /* not an address: refused, no crash */
	stun_msg__lifetime(m, &u32);
	stun_msg__channel_number(m, &u16);
	stun_msg__requested_transport(m, &u8);
	stun_msg__address_family(m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, &u8);
	stun_msg__address_family(m, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, &u8);
	if (stun_msg__error_code(m, &code, &reason, &len) == 0) {
		FUZZ_ASSERT(code >= 300 && code <= 699);
		FUZZ_ASSERT(reason >= m->buf && reason + len <= m->buf + m->len);
	}
	if (stun_msg__address_error_code(m, &u8, &code, &reason, &len) == 0)
		FUZZ_ASSERT(reason >= m->buf && reason + len <= m->buf + m->len);
	stun_msg__even_port(m, &flag);
	stun_msg__password_algorithm(m, &u16);
	for (size_t max = 0; max <= 16; max += 16) {
		stun_msg__password_algorithms(m, list, max, &n);
		stun_msg__unknown_attributes(m, list, max, &n);
	}
	stun_msg__icmp(m, &u8, &u8b, &u32);
}

static void integrity(const struct stun_msg *m)
{
	static const uint8_t zero_key[32];
	enum stun_integrity kind = stun_msg__integrity(m);
	int rc;

	rc = stun_msg__check_integrity(m, (const uint8_t *)short_term_pw, strlen(short_term_pw));
	FUZZ_ASSERT(rc == 0 || rc == -ENOENT || rc == -EBADMSG || rc == -EACCES);
	FUZZ_ASSERT((rc == -ENOENT) == (kind == STUN_INTEGRITY_NONE));
	stun_msg__check_integrity(m, key_longterm.b, key_longterm.len);
	stun_msg__check_integrity(m, zero_key, 0);
	stun_msg__check_integrity_kind(m, STUN_INTEGRITY_SHA1, zero_key, sizeof(zero_key));
	stun_msg__check_integrity_kind(m, STUN_INTEGRITY_SHA256, zero_key, sizeof(zero_key));
	stun_msg__check_integrity_kind(m, STUN_INTEGRITY_NONE, zero_key, sizeof(zero_key));
	rc = stun_msg__check_fingerprint(m);
	FUZZ_ASSERT(rc == 0 || rc == -ENOENT || rc == -EBADMSG || rc == -EACCES);
	FUZZ_ASSERT((rc == -ENOENT) == (m->fp_off == 0));
}

/* The server's authentication of m as a request from a fixed client, at the RFC 5769 time. */
static void authenticate(const struct stun_msg *m)
{
	static const uint8_t ip[4] = { 192, 0, 2, 1 };
	struct xt_addr client;
	struct auth_result r;
	uint8_t out[1024];
	struct stun_builder b;
	enum auth_status st;

	xt_addr_set_v4(&client, ip, 32853);
	st = auth__check_request(store, &nonces, m, &client, 1700000000, &r);
	FUZZ_ASSERT(st == r.status);
	if (st == AUTH_OK) {
		FUZZ_ASSERT(r.key.len == 16 || r.key.len == 32);
		FUZZ_ASSERT(r.user && r.user_len > 0);
	}
	/* The answer the server would build: it must fit and parse back. */
	if (stun_builder__begin_response(&b, out, sizeof(out), m, STUN_CLASS_ERROR) == 0) {
		stun_builder__add_error(&b, r.error_code ? r.error_code : 400, NULL);
		auth__add_challenge(&b, store, &nonces, &client, 1700000000);
		if (st == AUTH_OK)
			stun_builder__add_integrity(&b, r.kind, r.key.b, r.key.len);
		stun_builder__add_fingerprint(&b);
		int n = stun_builder__finish(&b);
		struct stun_msg back;
		FUZZ_ASSERT(n > 0);
		FUZZ_ASSERT(stun_parse(out, (size_t)n, &back) == 0);
		FUZZ_ASSERT(stun_msg__check_fingerprint(&back) == 0);
		if (st == AUTH_OK)
			FUZZ_ASSERT(stun_msg__check_integrity(&back, r.key.b, r.key.len) == 0);
	}
}

/* Re-encodes every attribute up to (excluding) the first integrity/fingerprint attribute with the
 * builder; the result must parse, with the same type, txid and first-occurrence values. */
static void rebuild(const struct stun_msg *m)
{
	static uint8_t out[STUN_MAX_MSG_LEN + 64];
	size_t off = STUN_HEADER_LEN, end = m->len;
	struct stun_builder b;
	struct stun_msg back;
	int n;

	if (m->mi_off && m->mi_off < end)
		end = m->mi_off;
	if (m->mi256_off && m->mi256_off < end)
		end = m->mi256_off;
	if (m->fp_off && m->fp_off < end)
		end = m->fp_off;
	FUZZ_ASSERT(stun_builder__begin(&b, out, sizeof(out), m->type, m->txid) == 0);
	while (off + STUN_ATTR_HEADER_LEN <= end) {
		uint16_t type = get_be16(m->buf + off), len = get_be16(m->buf + off + 2);
		FUZZ_ASSERT(off + STUN_ATTR_HEADER_LEN + len <= m->len);
		FUZZ_ASSERT(stun_builder__add(&b, type, m->buf + off + 4, len) == 0);
		off += STUN_ATTR_HEADER_LEN + ((len + 3u) & ~3u);
	}
	n = stun_builder__finish(&b);
	FUZZ_ASSERT(n == (int)end);
	FUZZ_ASSERT(stun_parse(out, (size_t)n, &back) == 0);
	FUZZ_ASSERT(back.type == m->type && !memcmp(back.txid, m->txid, STUN_TXID_LEN));
	for (int s = 0; s < STUN_SLOT__COUNT; s++) {
		if (s == STUN_SLOT_MESSAGE_INTEGRITY || s == STUN_SLOT_MESSAGE_INTEGRITY_SHA256 ||
		    s == STUN_SLOT_FINGERPRINT)
			continue;
		FUZZ_ASSERT(back.attr[s].len == m->attr[s].len);
		FUZZ_ASSERT(!back.attr[s].off == !m->attr[s].off);
		if (m->attr[s].off)
			FUZZ_ASSERT(!memcmp(out + back.attr[s].off, m->buf + m->attr[s].off,
					    m->attr[s].len));
	}
	FUZZ_ASSERT(back.n_peer == m->n_peer && back.n_relayed == m->n_relayed);
	/* and with integrity + fingerprint: they must verify */
	stun_builder__begin(&b, out, sizeof(out), m->type, m->txid);
	off = STUN_HEADER_LEN;
	while (off + STUN_ATTR_HEADER_LEN <= end) {
		uint16_t type = get_be16(m->buf + off), len = get_be16(m->buf + off + 2);
		stun_builder__add(&b, type, m->buf + off + 4, len);
		off += STUN_ATTR_HEADER_LEN + ((len + 3u) & ~3u);
	}
	stun_builder__add_message_integrity(&b, key_longterm.b, key_longterm.len);
	stun_builder__add_message_integrity_sha256(&b, key_longterm.b, key_longterm.len);
	stun_builder__add_fingerprint(&b);
	n = stun_builder__finish(&b);
	if (n > 0) { /* -ENOSPC when the source was already near 64 KiB */
		FUZZ_ASSERT(stun_parse(out, (size_t)n, &back) == 0);
		FUZZ_ASSERT(stun_msg__integrity(&back) == STUN_INTEGRITY_SHA256);
		FUZZ_ASSERT(stun_msg__check_integrity_kind(&back, STUN_INTEGRITY_SHA1, key_longterm.b,
							   key_longterm.len) == 0);
		FUZZ_ASSERT(stun_msg__check_integrity(&back, key_longterm.b, key_longterm.len) == 0);
		FUZZ_ASSERT(stun_msg__check_fingerprint(&back) == 0);
	} else {
		FUZZ_ASSERT(n == -ENOSPC);
	}
}

static void channeldata(const uint8_t *data, size_t size)
{
	static uint8_t out[65536 + 8];
	struct channeldata cd;
	int n;

	if (channeldata_parse(data, size, &cd) != 0)
		return;
	FUZZ_ASSERT(cd.channel >= STUN_CHANNEL_MIN && cd.channel <= STUN_CHANNEL_LEGACY_MAX);
	FUZZ_ASSERT(cd.data == data + CHANNELDATA_HEADER_LEN);
	FUZZ_ASSERT((size_t)cd.len + CHANNELDATA_HEADER_LEN <= size);
	FUZZ_ASSERT(size - CHANNELDATA_HEADER_LEN - cd.len <= 3);
	n = channeldata_build(out, sizeof(out), cd.channel, cd.data, cd.len, size & 1);
	FUZZ_ASSERT(n >= CHANNELDATA_HEADER_LEN + cd.len);
	FUZZ_ASSERT(!memcmp(out + CHANNELDATA_HEADER_LEN, cd.data, cd.len));
	FUZZ_ASSERT(channeldata_parse(out, (size_t)n, &cd) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_msg m;
	uint8_t *copy;

	/* An exact-size heap copy: ASan sees any read past the datagram. */
	copy = malloc(size ? size : 1);
	FUZZ_ASSERT(copy);
	memcpy(copy, data, size);
	channeldata(copy, size);
	stun_is_stun(copy, size);
	if (stun_parse(copy, size, &m) == 0) {
		FUZZ_ASSERT(m.len == size && m.buf == copy);
		FUZZ_ASSERT(m.method == stun_type_method(m.type) && m.cls == stun_type_class(m.type));
		for (int s = 0; s < STUN_SLOT__COUNT; s++)
			check_ref(&m, m.attr[s]);
		for (unsigned int i = 0; i < m.n_peer && i < STUN_MAX_PEER_ADDRS; i++)
			check_ref(&m, m.peer[i]);
		for (unsigned int i = 0; i < m.n_relayed && i < STUN_MAX_RELAYED_ADDRS; i++)
			check_ref(&m, m.relayed[i]);
		FUZZ_ASSERT(m.n_unknown <= STUN_MAX_UNKNOWN);
		accessors(&m);
		integrity(&m);
		authenticate(&m);
		rebuild(&m);
	}
	free(copy);
	return 0;
}
