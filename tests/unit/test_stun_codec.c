/* STUN codec rules beyond the RFC vectors: type encoding, every attribute through builder and
 * accessors, first-occurrence and after-integrity rules, unknown attributes, malformed values,
 * builder bounds, truncated MESSAGE-INTEGRITY-SHA256 (checked against OpenSSL's own HMAC), a mutation
 * run that must never crash, and ChannelData. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "turn/stun.h"

static const uint8_t txid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
static const uint8_t key[] = "0123456789abcdef";

static void v4(struct xt_addr *a, uint8_t a0, uint8_t a1, uint8_t a2, uint8_t a3, uint16_t port)
{
	uint8_t ip[4] = { a0, a1, a2, a3 };

	xt_addr_set_v4(a, ip, port);
}

static void v6(struct xt_addr *a, uint8_t last, uint16_t port)
{
	uint8_t ip[16] = { 0xfd, 0x98, 0, 0x18, [14] = 0xab, [15] = last };

	xt_addr_set_v6(a, ip, port);
}

/* Heap copy of exactly len bytes, parsed; the copy stays alive in *keep for accessors. */
static int parse_exact(const uint8_t *bytes, size_t len, struct stun_msg *m, uint8_t **keep)
{
	*keep = malloc(len ? len : 1);
	memcpy(*keep, bytes, len);
	return stun_parse(*keep, len, m);
}

static void test_type_encoding(void)
{
	static const struct {
		uint16_t method;
		uint8_t cls;
		uint16_t type;
	} cases[] = {
		{ STUN_METHOD_BINDING, STUN_CLASS_REQUEST, 0x0001 },
		{ STUN_METHOD_BINDING, STUN_CLASS_SUCCESS, 0x0101 },
		{ STUN_METHOD_BINDING, STUN_CLASS_ERROR, 0x0111 },
		{ STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST, 0x0003 },
		{ STUN_METHOD_ALLOCATE, STUN_CLASS_SUCCESS, 0x0103 },
		{ STUN_METHOD_ALLOCATE, STUN_CLASS_ERROR, 0x0113 },
		{ STUN_METHOD_REFRESH, STUN_CLASS_REQUEST, 0x0004 },
		{ STUN_METHOD_SEND, STUN_CLASS_INDICATION, 0x0016 },
		{ STUN_METHOD_DATA, STUN_CLASS_INDICATION, 0x0017 },
		{ STUN_METHOD_CREATE_PERMISSION, STUN_CLASS_SUCCESS, 0x0108 },
		{ STUN_METHOD_CHANNEL_BIND, STUN_CLASS_ERROR, 0x0119 },
		{ 0xFFF, STUN_CLASS_ERROR, 0x3FFF },
		{ 0x080, STUN_CLASS_REQUEST, 0x0200 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL(stun_type(cases[i].method, cases[i].cls), cases[i].type);
		CU_ASSERT_EQUAL(stun_type_method(cases[i].type), cases[i].method);
		CU_ASSERT_EQUAL(stun_type_class(cases[i].type), cases[i].cls);
	}
	/* every method and class round-trips */
	for (uint16_t mth = 0; mth < 0x1000; mth++)
		for (uint8_t c = 0; c < 4; c++) {
			uint16_t t = stun_type(mth, c);

			CU_ASSERT_FATAL(t < 0x4000 && stun_type_method(t) == mth &&
					stun_type_class(t) == c);
		}
	CU_ASSERT_STRING_EQUAL(stun_error_reason(438), "Stale Nonce");
	CU_ASSERT_STRING_EQUAL(stun_error_reason(508), "Insufficient Capacity");
	CU_ASSERT_STRING_EQUAL(stun_error_reason(499), "");
}

/* Every attribute the builder writes comes back through its accessor. */
static void test_all_attributes_round_trip(void)
{
	static const uint16_t algs[] = { STUN_PASSWORD_ALG_SHA256, STUN_PASSWORD_ALG_MD5 };
	static const uint16_t unk[] = { 0x0024, 0x7777, 0x0003 };
	static const uint8_t token[8] = { 9, 8, 7, 6, 5, 4, 3, 2 };
	static const uint8_t data[5] = { 0xde, 0xad, 0xbe, 0xef, 0x01 };
	struct xt_addr xm, peer[3], relayed[2], mapped, alt, got;
	uint8_t buf[1024], *keep, fam, it, ic;
	const uint8_t *reason, *v;
	struct stun_builder b;
	struct stun_msg m;
	uint16_t u16, list[4];
	uint32_t u32;
	size_t n, len;
	bool r;
	int code, total;

	v4(&xm, 198, 18, 0, 1, 50000);
	v4(&peer[0], 198, 51, 100, 7, 1);
	v6(&peer[1], 2, 65535);
	v4(&peer[2], 203, 0, 113, 9, 0);
	v4(&relayed[0], 198, 18, 0, 2, 49152);
	v6(&relayed[1], 3, 49153);
	v6(&mapped, 4, 3478);
	v4(&alt, 192, 0, 2, 10, 3479);

	stun_builder__begin(&b, buf, sizeof(buf), stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_ERROR),
			    txid);
	stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &xm);
	for (int i = 0; i < 3; i++)
		stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peer[i]);
	stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_RELAYED_ADDRESS, &relayed[0]);
	stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_RELAYED_ADDRESS, &relayed[1]);
	stun_builder__add_addr(&b, STUN_ATTR_MAPPED_ADDRESS, &mapped);
	stun_builder__add_addr(&b, STUN_ATTR_ALTERNATE_SERVER, &alt);
	stun_builder__add_error(&b, 420, NULL);
	stun_builder__add_address_error(&b, STUN_FAMILY_IPV6, 440, "no v6 here");
	stun_builder__add_unknown_attributes(&b, unk, 3);
	stun_builder__add_lifetime(&b, 3600);
	stun_builder__add_channel_number(&b, 0x4abc);
	stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	stun_builder__add_address_family(&b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
	stun_builder__add_address_family(&b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
	stun_builder__add_even_port(&b, true);
	stun_builder__add_reservation_token(&b, token);
	stun_builder__add_password_algorithm(&b, STUN_PASSWORD_ALG_SHA256);
	stun_builder__add_password_algorithms(&b, algs, 2);
	stun_builder__add_icmp(&b, 3, 4, 1400);
	stun_builder__add_flag(&b, STUN_ATTR_DONT_FRAGMENT);
	stun_builder__add_data(&b, data, sizeof(data));
	stun_builder__add_string(&b, STUN_ATTR_SOFTWARE, "xturn");
	stun_builder__add_string(&b, STUN_ATTR_REALM, "example.org");
	total = stun_builder__finish(&b);
	CU_ASSERT_FATAL(total > 0);

	CU_ASSERT_FATAL(parse_exact(buf, (size_t)total, &m, &keep) == 0);
	CU_ASSERT_EQUAL(m.method, STUN_METHOD_ALLOCATE);
	CU_ASSERT_EQUAL(m.cls, STUN_CLASS_ERROR);
	CU_ASSERT(memcmp(m.txid, txid, 12) == 0);
	CU_ASSERT_EQUAL(m.n_unknown, 0);
	CU_ASSERT_EQUAL(stun_msg__xor_addr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, 0, &got), 0);
	CU_ASSERT(xt_addr_equal(&got, &xm));
	CU_ASSERT_EQUAL(m.n_peer, 3);
	for (unsigned int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(stun_msg__xor_addr(&m, STUN_ATTR_XOR_PEER_ADDRESS, i, &got), 0);
		CU_ASSERT(xt_addr_equal(&got, &peer[i]));
	}
	CU_ASSERT_EQUAL(stun_msg__xor_addr(&m, STUN_ATTR_XOR_PEER_ADDRESS, 3, &got), -ENOENT);
	CU_ASSERT_EQUAL(m.n_relayed, 2);
	for (unsigned int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(stun_msg__xor_addr(&m, STUN_ATTR_XOR_RELAYED_ADDRESS, i, &got), 0);
		CU_ASSERT(xt_addr_equal(&got, &relayed[i]));
	}
	CU_ASSERT_EQUAL(stun_msg__xor_addr(&m, STUN_ATTR_LIFETIME, 0, &got), -EINVAL);
	CU_ASSERT_EQUAL(stun_msg__addr(&m, STUN_ATTR_MAPPED_ADDRESS, &got), 0);
	CU_ASSERT(xt_addr_equal(&got, &mapped));
	CU_ASSERT_EQUAL(stun_msg__addr(&m, STUN_ATTR_ALTERNATE_SERVER, &got), 0);
	CU_ASSERT(xt_addr_equal(&got, &alt));
	CU_ASSERT_EQUAL(stun_msg__error_code(&m, &code, &reason, &len), 0);
	CU_ASSERT_EQUAL(code, 420);
	CU_ASSERT(len == 17 && memcmp(reason, "Unknown Attribute", 17) == 0);
	CU_ASSERT_EQUAL(stun_msg__address_error_code(&m, &fam, &code, &reason, &len), 0);
	CU_ASSERT(fam == STUN_FAMILY_IPV6 && code == 440);
	CU_ASSERT(len == 10 && memcmp(reason, "no v6 here", 10) == 0);
	CU_ASSERT_EQUAL(stun_msg__unknown_attributes(&m, list, 4, &n), 0);
	CU_ASSERT(n == 3 && list[0] == 0x0024 && list[1] == 0x7777 && list[2] == 0x0003);
	CU_ASSERT(stun_msg__lifetime(&m, &u32) == 0 && u32 == 3600);
	CU_ASSERT(stun_msg__channel_number(&m, &u16) == 0 && u16 == 0x4abc);
	CU_ASSERT(stun_msg__requested_transport(&m, &fam) == 0 && fam == 17);
	CU_ASSERT(stun_msg__address_family(&m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, &fam) == 0 &&
		  fam == STUN_FAMILY_IPV6);
	CU_ASSERT(stun_msg__address_family(&m, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, &fam) == 0 &&
		  fam == STUN_FAMILY_IPV6);
	CU_ASSERT(stun_msg__even_port(&m, &r) == 0 && r);
	v = stun_msg__attr(&m, STUN_ATTR_RESERVATION_TOKEN, &len);
	CU_ASSERT(v && len == 8 && memcmp(v, token, 8) == 0);
	CU_ASSERT(stun_msg__password_algorithm(&m, &u16) == 0 && u16 == STUN_PASSWORD_ALG_SHA256);
	CU_ASSERT_EQUAL(stun_msg__password_algorithms(&m, list, 4, &n), 0);
	CU_ASSERT(n == 2 && list[0] == algs[0] && list[1] == algs[1]);
	CU_ASSERT(stun_msg__icmp(&m, &it, &ic, &u32) == 0 && it == 3 && ic == 4 && u32 == 1400);
	CU_ASSERT(stun_msg__has(&m, STUN_ATTR_DONT_FRAGMENT));
	v = stun_msg__attr(&m, STUN_ATTR_DATA, &len);
	CU_ASSERT(v && len == 5 && memcmp(v, data, 5) == 0);
	v = stun_msg__attr(&m, STUN_ATTR_SOFTWARE, &len);
	CU_ASSERT(v && len == 5 && memcmp(v, "xturn", 5) == 0);
	CU_ASSERT(!stun_msg__has(&m, STUN_ATTR_USERNAME));
	CU_ASSERT(!stun_msg__has(&m, 0x1234));
	CU_ASSERT_EQUAL(stun_msg__integrity(&m), STUN_INTEGRITY_NONE);
	CU_ASSERT_EQUAL(stun_msg__check_integrity(&m, key, 16), -ENOENT);
	CU_ASSERT_EQUAL(stun_msg__check_fingerprint(&m), -ENOENT);
	/* absent attributes */
	free(keep);
	stun_builder__begin(&b, buf, sizeof(buf), 0x0001, txid);
	total = stun_builder__finish(&b);
	CU_ASSERT_FATAL(total == 20 && parse_exact(buf, 20, &m, &keep) == 0);
	CU_ASSERT_EQUAL(stun_msg__lifetime(&m, &u32), -ENOENT);
	CU_ASSERT_EQUAL(stun_msg__error_code(&m, &code, NULL, NULL), -ENOENT);
	CU_ASSERT_EQUAL(stun_msg__even_port(&m, &r), -ENOENT);
	CU_ASSERT_EQUAL(stun_msg__icmp(&m, &it, &ic, &u32), -ENOENT);
	CU_ASSERT_EQUAL(stun_msg__xor_addr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, 0, &got), -ENOENT);
	CU_ASSERT_EQUAL(stun_msg__addr(&m, STUN_ATTR_MAPPED_ADDRESS, &got), -ENOENT);
	free(keep);
}

/* Repeated attributes: the first counts, XOR-PEER-ADDRESS keeps 8 and counts all. */
static void test_repeats(void)
{
	struct stun_builder b;
	struct stun_msg m;
	struct xt_addr a, got;
	uint8_t buf[1024], *keep;
	uint32_t lt;
	int total;

	stun_builder__begin(&b, buf, sizeof(buf), 0x0008, txid);
	stun_builder__add_lifetime(&b, 10);
	stun_builder__add_lifetime(&b, 20);
	for (uint16_t i = 0; i < 10; i++) {
		v4(&a, 198, 51, 100, (uint8_t)i, (uint16_t)(1000 + i));
		stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &a);
	}
	for (uint16_t i = 0; i < 3; i++) {
		v4(&a, 198, 18, 0, (uint8_t)i, 49152);
		stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_RELAYED_ADDRESS, &a);
	}
	total = stun_builder__finish(&b);
	CU_ASSERT_FATAL(parse_exact(buf, (size_t)total, &m, &keep) == 0);
	CU_ASSERT(stun_msg__lifetime(&m, &lt) == 0 && lt == 10);
	CU_ASSERT_EQUAL(m.n_peer, 10);
	CU_ASSERT_EQUAL(m.n_relayed, 3);
	for (unsigned int i = 0; i < STUN_MAX_PEER_ADDRS; i++) {
		v4(&a, 198, 51, 100, (uint8_t)i, (uint16_t)(1000 + i));
		CU_ASSERT(stun_msg__xor_addr(&m, STUN_ATTR_XOR_PEER_ADDRESS, i, &got) == 0 &&
			  xt_addr_equal(&got, &a));
	}
	/* beyond what is kept: counted, not readable */
	CU_ASSERT_EQUAL(stun_msg__xor_addr(&m, STUN_ATTR_XOR_PEER_ADDRESS, 8, &got), -ENOENT);
	CU_ASSERT_EQUAL(stun_msg__xor_addr(&m, STUN_ATTR_XOR_RELAYED_ADDRESS, 2, &got), -ENOENT);
	free(keep);
}

/* RFC 8489 §14.5-14.7: after MI only MI-SHA256 and FINGERPRINT count, after MI-SHA256 only
 * FINGERPRINT, after FINGERPRINT nothing; unknown comprehension-required types are collected only
 * before MI, once each, at most STUN_MAX_UNKNOWN; comprehension-optional ones are ignored. */
static void test_after_integrity_and_unknown(void)
{
	static const uint8_t four[4] = { 0, 0, 0, 1 };
	struct stun_builder b;
	struct stun_msg m;
	uint8_t buf[1024], *keep;
	uint32_t lt;
	int total;

	stun_builder__begin(&b, buf, sizeof(buf), 0x0003, txid);
	stun_builder__add(&b, 0x0024, four, 4);	    /* unknown, required */
	stun_builder__add(&b, 0xC001, four, 4);	    /* unknown, optional: ignored */
	stun_builder__add(&b, 0x0024, four, 4);	    /* repeat: listed once */
	stun_builder__add(&b, 0x0003, four, 4);	    /* CHANGE-REQUEST: unknown here */
	for (uint16_t t = 0x7F00; t < 0x7F0A; t++) /* 10 more: only 6 fit */
		stun_builder__add(&b, t, four, 4);
	stun_builder__add_message_integrity(&b, key, 16);
	stun_builder__add_lifetime(&b, 99);	    /* ignored: after MI */
	stun_builder__add(&b, 0x0025, four, 4);	    /* ignored: not listed as unknown */
	stun_builder__add_message_integrity_sha256(&b, key, 16);
	stun_builder__add_message_integrity(&b, key, 16); /* ignored: after MI-SHA256 */
	stun_builder__add_fingerprint(&b);
	stun_builder__add_lifetime(&b, 77);	    /* ignored: after FINGERPRINT */
	total = stun_builder__finish(&b);
	CU_ASSERT_FATAL(parse_exact(buf, (size_t)total, &m, &keep) == 0);
	CU_ASSERT_EQUAL(m.n_unknown, STUN_MAX_UNKNOWN);
	CU_ASSERT_EQUAL(m.unknown[0], 0x0024);
	CU_ASSERT_EQUAL(m.unknown[1], 0x0003);
	CU_ASSERT_EQUAL(m.unknown[2], 0x7F00);
	CU_ASSERT_EQUAL(m.unknown[7], 0x7F05);
	CU_ASSERT_EQUAL(stun_msg__lifetime(&m, &lt), -ENOENT);
	CU_ASSERT(m.mi_off && m.mi256_off > m.mi_off && m.fp_off > m.mi256_off);
	CU_ASSERT_EQUAL(stun_msg__integrity(&m), STUN_INTEGRITY_SHA256);
	/* both integrity attributes verify: MI over what precedes it, MI-SHA256 over MI too */
	CU_ASSERT_EQUAL(stun_msg__check_integrity_kind(&m, STUN_INTEGRITY_SHA1, key, 16), 0);
	CU_ASSERT_EQUAL(stun_msg__check_integrity_kind(&m, STUN_INTEGRITY_SHA256, key, 16), 0);
	/* FINGERPRINT is not last here: refused rather than checked over a different length */
	CU_ASSERT_EQUAL(stun_msg__check_fingerprint(&m), -EBADMSG);
	free(keep);
}

/* HMAC-SHA256 by OpenSSL's one-shot API: an implementation independent of turn/hmac.c. */
static void ref_hmac256(const uint8_t *msg, size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	HMAC(EVP_sha256(), key, 16, msg, len, out, &n);
}

/* RFC 8489 §14.6: MI-SHA256 may be truncated to 16..32 bytes in steps of 4; the length field hashed
 * covers the truncated attribute. Values are made with OpenSSL's HMAC() directly. */
static void test_mi_sha256_truncation(void)
{
	for (size_t l = 8; l <= 40; l += 2) {
		struct stun_builder b;
		struct stun_msg m;
		uint8_t buf[256], mac[32], *keep;
		uint8_t *v;
		int total, rc;

		stun_builder__begin(&b, buf, sizeof(buf), 0x0001, txid);
		stun_builder__add_string(&b, STUN_ATTR_USERNAME, "alice");
		v = stun_builder__add_reserve(&b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, l);
		CU_ASSERT_FATAL(v != NULL);
		/* the length field already ends at this attribute */
		ref_hmac256(buf, (size_t)(v - 4 - buf), mac);
		memcpy(v, mac, l < 32 ? l : 32);
		total = stun_builder__finish(&b);
		CU_ASSERT_FATAL(parse_exact(buf, (size_t)total, &m, &keep) == 0);
		rc = stun_msg__check_integrity(&m, key, 16);
		if (l >= 16 && l <= 32 && l % 4 == 0) {
			CU_ASSERT_EQUAL(rc, 0);
			keep[v - buf] ^= 0x80;
			CU_ASSERT_EQUAL(stun_msg__check_integrity(&m, key, 16), -EACCES);
		} else {
			CU_ASSERT_EQUAL(rc, -EBADMSG);
		}
		free(keep);
	}
	/* the builder's full-length MI-SHA256 agrees with OpenSSL */
	{
		struct stun_builder b;
		uint8_t buf[256], mac[32];
		int total;

		stun_builder__begin(&b, buf, sizeof(buf), 0x0001, txid);
		stun_builder__add_string(&b, STUN_ATTR_REALM, "example.org");
		stun_builder__add_message_integrity_sha256(&b, key, 16);
		total = stun_builder__finish(&b);
		CU_ASSERT_FATAL(total == 20 + 16 + 36);
		ref_hmac256(buf, 20 + 16, mac);
		CU_ASSERT(memcmp(buf + total - 32, mac, 32) == 0);
	}
	/* MI of a wrong length is malformed, not a mismatch */
	{
		struct stun_builder b;
		struct stun_msg m;
		uint8_t buf[256], zeros[16] = { 0 }, *keep;
		int total;

		stun_builder__begin(&b, buf, sizeof(buf), 0x0001, txid);
		stun_builder__add(&b, STUN_ATTR_MESSAGE_INTEGRITY, zeros, 16);
		total = stun_builder__finish(&b);
		CU_ASSERT_FATAL(parse_exact(buf, (size_t)total, &m, &keep) == 0);
		CU_ASSERT_EQUAL(stun_msg__check_integrity(&m, key, 16), -EBADMSG);
		free(keep);
	}
	/* HMAC keys longer than a block are hashed first (RFC 2104), as OpenSSL does */
	{
		uint8_t long_key[100], buf[256], mac[32];
		struct stun_builder b;
		struct stun_msg m;
		unsigned int n = 32;
		int total;

		for (size_t i = 0; i < sizeof(long_key); i++)
			long_key[i] = (uint8_t)(i * 13);
		stun_builder__begin(&b, buf, sizeof(buf), 0x0001, txid);
		stun_builder__add_message_integrity_sha256(&b, long_key, sizeof(long_key));
		total = stun_builder__finish(&b);
		HMAC(EVP_sha256(), long_key, sizeof(long_key), buf, 20, mac, &n);
		CU_ASSERT(memcmp(buf + 24, mac, 32) == 0);
		CU_ASSERT_FATAL(stun_parse(buf, (size_t)total, &m) == 0);
		CU_ASSERT_EQUAL(stun_msg__check_integrity(&m, long_key, sizeof(long_key)), 0);
	}
}

/* Values of a wrong size or content are -EBADMSG / -EAFNOSUPPORT from the accessor, and the
 * parse refuses attributes that overrun the message. */
static void test_malformed_values(void)
{
	static const struct {
		uint16_t type;
		uint8_t len;
		uint8_t v[24];
		int want;
	} cases[] = {
		{ STUN_ATTR_LIFETIME, 3, { 0 }, -EBADMSG },
		{ STUN_ATTR_LIFETIME, 8, { 0 }, -EBADMSG },
		{ STUN_ATTR_CHANNEL_NUMBER, 2, { 0x40, 0 }, -EBADMSG },
		{ STUN_ATTR_REQUESTED_TRANSPORT, 1, { 17 }, -EBADMSG },
		{ STUN_ATTR_REQUESTED_ADDRESS_FAMILY, 1, { 1 }, -EBADMSG },
		{ STUN_ATTR_EVEN_PORT, 4, { 0x80 }, -EBADMSG },
		{ STUN_ATTR_ICMP, 4, { 0 }, -EBADMSG },
		{ STUN_ATTR_XOR_PEER_ADDRESS, 8, { 0, 3, 0, 0, 1, 2, 3, 4 }, -EAFNOSUPPORT },
		{ STUN_ATTR_XOR_PEER_ADDRESS, 20, { 0, 1 }, -EBADMSG },
		{ STUN_ATTR_XOR_PEER_ADDRESS, 8, { 0, 2 }, -EBADMSG },
		{ STUN_ATTR_XOR_PEER_ADDRESS, 2, { 0, 1 }, -EBADMSG },
		{ STUN_ATTR_ERROR_CODE, 3, { 0, 0, 4 }, -EBADMSG },
		{ STUN_ATTR_ERROR_CODE, 4, { 0, 0, 2, 0 }, -EBADMSG },	/* class 2 */
		{ STUN_ATTR_ERROR_CODE, 4, { 0, 0, 4, 100 }, -EBADMSG }, /* number 100 */
		{ STUN_ATTR_ERROR_CODE, 4, { 0, 0, 7, 0 }, -EBADMSG },	/* class 7 */
		{ STUN_ATTR_PASSWORD_ALGORITHM, 2, { 0, 2 }, -EBADMSG },
		{ STUN_ATTR_PASSWORD_ALGORITHM, 4, { 0, 2, 0, 4 }, -EBADMSG }, /* params overrun */
		{ STUN_ATTR_PASSWORD_ALGORITHMS, 6, { 0, 2, 0, 0, 0, 1 }, -EBADMSG },
		{ STUN_ATTR_PASSWORD_ALGORITHMS, 4, { 0, 2, 0, 8 }, -EBADMSG },
		{ STUN_ATTR_UNKNOWN_ATTRIBUTES, 3, { 0, 1, 0 }, -EBADMSG },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct stun_builder b;
		struct stun_msg m;
		struct xt_addr a;
		uint8_t buf[128], *keep, u8;
		uint16_t u16, list[2];
		uint32_t u32;
		size_t n;
		bool r;
		int rc = 0, code, total;

		stun_builder__begin(&b, buf, sizeof(buf), 0x0001, txid);
		stun_builder__add(&b, cases[i].type, cases[i].v, cases[i].len);
		total = stun_builder__finish(&b);
		CU_ASSERT_FATAL(parse_exact(buf, (size_t)total, &m, &keep) == 0);
		switch (cases[i].type) {
		case STUN_ATTR_LIFETIME: rc = stun_msg__lifetime(&m, &u32); break;
		case STUN_ATTR_CHANNEL_NUMBER: rc = stun_msg__channel_number(&m, &u16); break;
		case STUN_ATTR_REQUESTED_TRANSPORT: rc = stun_msg__requested_transport(&m, &u8); break;
		case STUN_ATTR_REQUESTED_ADDRESS_FAMILY:
			rc = stun_msg__address_family(&m, cases[i].type, &u8);
			break;
		case STUN_ATTR_EVEN_PORT: rc = stun_msg__even_port(&m, &r); break;
		case STUN_ATTR_ICMP: rc = stun_msg__icmp(&m, &u8, &u8, &u32); break;
		case STUN_ATTR_XOR_PEER_ADDRESS:
			rc = stun_msg__xor_addr(&m, cases[i].type, 0, &a);
			break;
		case STUN_ATTR_ERROR_CODE: rc = stun_msg__error_code(&m, &code, NULL, NULL); break;
		case STUN_ATTR_PASSWORD_ALGORITHM: rc = stun_msg__password_algorithm(&m, &u16); break;
		case STUN_ATTR_PASSWORD_ALGORITHMS:
			rc = stun_msg__password_algorithms(&m, list, 2, &n);
			break;
		case STUN_ATTR_UNKNOWN_ATTRIBUTES:
			rc = stun_msg__unknown_attributes(&m, list, 2, &n);
			break;
		}
		CU_ASSERT_EQUAL(rc, cases[i].want);
		if (rc != cases[i].want)
			fprintf(stderr, "case %zu: type 0x%04x got %d\n", i, cases[i].type, rc);
		free(keep);
	}

	/* an attribute whose length runs past the message, and one whose padding does */
	{
		uint8_t buf[28] = { 0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42 };
		struct stun_msg m;

		put_be16(buf + 20, STUN_ATTR_USERNAME);
		put_be16(buf + 22, 5);
		CU_ASSERT_EQUAL(stun_parse(buf, sizeof(buf), &m), -EBADMSG);
		put_be16(buf + 22, 4);
		CU_ASSERT_EQUAL(stun_parse(buf, sizeof(buf), &m), 0);
		put_be16(buf + 22, 0xFFFF);
		CU_ASSERT_EQUAL(stun_parse(buf, sizeof(buf), &m), -EBADMSG);
	}
}

/* The builder never writes past cap and fails stickily with -ENOSPC. */
static void test_builder_bounds(void)
{
	struct xt_addr a;
	int full;

	v6(&a, 9, 4242);
	{
		struct stun_builder b;
		uint8_t buf[512];

		stun_builder__begin(&b, buf, sizeof(buf), 0x0103, txid);
		stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_RELAYED_ADDRESS, &a);
		stun_builder__add_lifetime(&b, 600);
		stun_builder__add_string(&b, STUN_ATTR_SOFTWARE, "abc");
		stun_builder__add_message_integrity(&b, key, 16);
		stun_builder__add_fingerprint(&b);
		full = stun_builder__finish(&b);
		CU_ASSERT_EQUAL(full, 20 + 24 + 8 + 8 + 24 + 8);
	}
	for (int cap = 0; cap <= full; cap++) {
		struct stun_builder b;
		uint8_t buf[600];
		int rc;

		memset(buf, 0xA5, sizeof(buf));
		stun_builder__begin(&b, buf, (size_t)cap, 0x0103, txid);
		stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_RELAYED_ADDRESS, &a);
		stun_builder__add_lifetime(&b, 600);
		stun_builder__add_string(&b, STUN_ATTR_SOFTWARE, "abc");
		stun_builder__add_message_integrity(&b, key, 16);
		stun_builder__add_fingerprint(&b);
		rc = stun_builder__finish(&b);
		CU_ASSERT_EQUAL(rc, cap == full ? full : -ENOSPC);
		for (size_t i = (size_t)cap; i < sizeof(buf); i++)
			if (buf[i] != 0xA5) {
				CU_FAIL("builder wrote past cap");
				break;
			}
	}
	/* invalid values */
	{
		struct stun_builder b;
		struct xt_addr none;
		uint8_t buf[512];

		memset(&none, 0, sizeof(none));
		stun_builder__begin(&b, buf, sizeof(buf), 0x0111, txid);
		CU_ASSERT_EQUAL(stun_builder__add_error(&b, 299, NULL), -EINVAL);
		CU_ASSERT_EQUAL(stun_builder__add_lifetime(&b, 1), -EINVAL); /* sticky */
		CU_ASSERT_EQUAL(stun_builder__finish(&b), -EINVAL);
		stun_builder__begin(&b, buf, sizeof(buf), 0x0111, txid);
		CU_ASSERT_EQUAL(stun_builder__add_error(&b, 700, "x"), -EINVAL);
		stun_builder__begin(&b, buf, sizeof(buf), 0x0111, txid);
		CU_ASSERT_EQUAL(stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &none),
				-EINVAL);
		stun_builder__begin(&b, buf, sizeof(buf), 0x0111, txid);
		CU_ASSERT_EQUAL(stun_builder__add_address_family(&b, STUN_ATTR_LIFETIME, 1), -EINVAL);
		stun_builder__begin(&b, buf, sizeof(buf), 0x0111, txid);
		CU_ASSERT(stun_builder__add_reserve(&b, STUN_ATTR_DATA, 70000) == NULL);
		CU_ASSERT_EQUAL(stun_builder__finish(&b), -EINVAL);
		CU_ASSERT_EQUAL(stun_builder__begin(&b, buf, 19, 0x0001, txid), -ENOSPC);
		CU_ASSERT_EQUAL(stun_builder__finish(&b), -ENOSPC);
	}
	/* the 16-bit length: a message cannot grow past 65535 bytes even with a larger buffer */
	{
		struct stun_builder b;
		uint8_t *big = malloc(70000);

		stun_builder__begin(&b, big, 70000, 0x0016, txid);
		CU_ASSERT_EQUAL(stun_builder__add_reserve(&b, STUN_ATTR_DATA, 65508) != NULL, 1);
		CU_ASSERT_EQUAL(stun_builder__finish(&b), 65532);
		CU_ASSERT_EQUAL(stun_builder__add_flag(&b, STUN_ATTR_DONT_FRAGMENT), -ENOSPC);
		free(big);
	}
	/* begin_response copies method and txid */
	{
		struct stun_builder b;
		struct stun_msg req;
		uint8_t buf[64], rbuf[64];
		int n;

		stun_builder__begin(&b, buf, sizeof(buf), 0x0009, txid);
		n = stun_builder__finish(&b);
		CU_ASSERT_FATAL(stun_parse(buf, (size_t)n, &req) == 0);
		stun_builder__begin_response(&b, rbuf, sizeof(rbuf), &req, STUN_CLASS_ERROR);
		CU_ASSERT_EQUAL(get_be16(rbuf), 0x0119);
		CU_ASSERT(memcmp(rbuf + 8, txid, 12) == 0);
		CU_ASSERT(get_be32(rbuf + 4) == STUN_MAGIC_COOKIE);
	}
}

/* Random bytes and mutations of a valid message: parse and every accessor must neither crash nor
 * read past the datagram (AddressSanitizer in `make asan`), and a parsed view's refs stay inside. */
static void test_mutations_never_crash(void)
{
	uint64_t rng = 0x9E3779B97F4A7C15ull;
	uint8_t base[256];
	struct stun_builder b;
	struct xt_addr a;
	int base_len;

	v4(&a, 198, 18, 0, 1, 5000);
	stun_builder__begin(&b, base, sizeof(base), 0x0003, txid);
	stun_builder__add_string(&b, STUN_ATTR_USERNAME, "alice");
	stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &a);
	stun_builder__add_lifetime(&b, 600);
	stun_builder__add_requested_transport(&b, 17);
	stun_builder__add_even_port(&b, false);
	stun_builder__add_message_integrity(&b, key, 16);
	stun_builder__add_fingerprint(&b);
	base_len = stun_builder__finish(&b);
	CU_ASSERT_FATAL(base_len > 0);

	for (int iter = 0; iter < 50000; iter++) {
		uint8_t tmp[256], *buf;
		size_t len;
		struct stun_msg m;
		struct channeldata cd;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		memcpy(tmp, base, (size_t)base_len);
		len = (size_t)base_len;
		if (iter % 4 == 0) { /* random garbage with a plausible header */
			for (size_t i = 0; i < sizeof(tmp); i++) {
				rng = rng * 6364136223846793005ull + 1442695040888963407ull;
				tmp[i] = (uint8_t)(rng >> 56);
			}
			len = 20 + (rng >> 40) % 200;
			tmp[0] &= 0x3f;
			put_be16(tmp + 2, (uint16_t)((len - 20) & ~3u));
			put_be32(tmp + 4, STUN_MAGIC_COOKIE);
			len = 20 + ((len - 20) & ~3u);
		} else { /* a few random byte changes */
			for (int k = 0; k < 1 + iter % 3; k++) {
				rng = rng * 6364136223846793005ull + 1442695040888963407ull;
				tmp[(rng >> 33) % len] = (uint8_t)(rng >> 20);
			}
		}
		buf = malloc(len);
		memcpy(buf, tmp, len);
		if (stun_parse(buf, len, &m) == 0) {
			uint8_t u8, u8b;
			uint16_t u16, list[4];
			uint32_t u32;
			int code;
			bool r;
			size_t n;
			struct xt_addr out;

			for (int s = 0; s < STUN_SLOT__COUNT; s++)
				CU_ASSERT_FATAL(!m.attr[s].off ||
						(size_t)m.attr[s].off + m.attr[s].len <= len);
			for (unsigned int i = 0; i < 10; i++)
				stun_msg__xor_addr(&m, STUN_ATTR_XOR_PEER_ADDRESS, i, &out);
			stun_msg__xor_addr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, 0, &out);
			stun_msg__xor_addr(&m, STUN_ATTR_XOR_RELAYED_ADDRESS, 1, &out);
			stun_msg__addr(&m, STUN_ATTR_MAPPED_ADDRESS, &out);
			stun_msg__lifetime(&m, &u32);
			stun_msg__channel_number(&m, &u16);
			stun_msg__requested_transport(&m, &u8);
			stun_msg__address_family(&m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, &u8);
			stun_msg__error_code(&m, &code, NULL, NULL);
			stun_msg__address_error_code(&m, &u8, &code, NULL, NULL);
			stun_msg__even_port(&m, &r);
			stun_msg__password_algorithm(&m, &u16);
			stun_msg__password_algorithms(&m, list, 4, &n);
			stun_msg__unknown_attributes(&m, list, 4, &n);
			stun_msg__icmp(&m, &u8, &u8b, &u32);
			stun_msg__check_integrity(&m, key, 16);
			stun_msg__check_integrity_kind(&m, STUN_INTEGRITY_SHA256, key, 16);
			stun_msg__check_fingerprint(&m);
		}
		channeldata_parse(buf, len, &cd);
		free(buf);
	}
}

static void test_channeldata(void)
{
	static const uint8_t payload[7] = { 1, 2, 3, 4, 5, 6, 7 };
	struct channeldata cd;
	uint8_t buf[32], *copy;

	/* well-formed, without padding and with 1..3 bytes of it; never a 4th */
	for (size_t extra = 0; extra <= 4; extra++) {
		int n = channeldata_build(buf, sizeof(buf), 0x4001, payload, 7, false);

		CU_ASSERT_FATAL(n == 11);
		memset(buf + 11, 0, extra);
		copy = malloc(11 + extra);
		memcpy(copy, buf, 11 + extra);
		if (extra <= 3) {
			CU_ASSERT_EQUAL(channeldata_parse(copy, 11 + extra, &cd), 0);
			CU_ASSERT(cd.channel == 0x4001 && cd.len == 7 && cd.data == copy + 4);
			CU_ASSERT(memcmp(cd.data, payload, 7) == 0);
		} else {
			CU_ASSERT_EQUAL(channeldata_parse(copy, 11 + extra, &cd), -EBADMSG);
		}
		free(copy);
	}
	/* channel range: 0x4000..0x7FFF (RFC 7983 demultiplexing; binding rules are the server's) */
	{
		static const struct {
			uint16_t ch;
			int ok;
		} chs[] = { { 0x3FFF, 0 }, { 0x4000, 1 }, { 0x4FFF, 1 }, { 0x5000, 1 },
			    { 0x7FFF, 1 }, { 0x8000, 0 }, { 0x0001, 0 }, { 0xFFFF, 0 } };
		for (size_t i = 0; i < sizeof(chs) / sizeof(chs[0]); i++) {
			uint8_t d[8] = { 0 };

			put_be16(d, chs[i].ch);
			put_be16(d + 2, 4);
			CU_ASSERT_EQUAL(channeldata_parse(d, 8, &cd), chs[i].ok ? 0 : -EBADMSG);
			CU_ASSERT_EQUAL(channeldata_build(buf, sizeof(buf), chs[i].ch, d + 4, 4, false),
					chs[i].ok ? 8 : -EINVAL);
		}
	}
	/* length field beyond the datagram; too short for a header; empty data */
	{
		uint8_t d[8] = { 0x40, 0x00, 0x00, 0x04 };

		for (uint16_t l = 4; l >= 1; l--) { /* 0..3 trailing bytes */
			put_be16(d + 2, l);
			CU_ASSERT(channeldata_parse(d, 8, &cd) == 0 && cd.len == l);
		}
		put_be16(d + 2, 0);
		CU_ASSERT_EQUAL(channeldata_parse(d, 4, &cd), 0);
		CU_ASSERT_EQUAL(cd.len, 0);
		CU_ASSERT_EQUAL(channeldata_parse(d, 8, &cd), -EBADMSG); /* 4 bytes of "padding" */
		put_be16(d + 2, 5);
		CU_ASSERT_EQUAL(channeldata_parse(d, 7, &cd), -EBADMSG);
		put_be16(d + 2, 0xFFFF);
		CU_ASSERT_EQUAL(channeldata_parse(d, 8, &cd), -EBADMSG);
		CU_ASSERT_EQUAL(channeldata_parse(d, 3, &cd), -EBADMSG);
		CU_ASSERT_EQUAL(channeldata_parse(d, 0, &cd), -EBADMSG);
	}
	/* build: padded to 4 with zeros, in place, bounds */
	{
		memset(buf, 0xEE, sizeof(buf));
		CU_ASSERT_EQUAL(channeldata_build(buf, sizeof(buf), 0x4ABC, payload, 7, true), 12);
		CU_ASSERT(get_be16(buf) == 0x4ABC && get_be16(buf + 2) == 7 && buf[11] == 0);
		CU_ASSERT_EQUAL(buf[12], 0xEE);
		memcpy(buf + 4, payload, 7);
		CU_ASSERT_EQUAL(channeldata_build(buf, 11, 0x4000, buf + 4, 7, false), 11);
		CU_ASSERT(memcmp(buf + 4, payload, 7) == 0);
		CU_ASSERT_EQUAL(channeldata_build(buf, 11, 0x4000, payload, 7, true), -ENOSPC);
		CU_ASSERT_EQUAL(channeldata_build(buf, 10, 0x4000, payload, 7, false), -ENOSPC);
	}
	CU_ASSERT(stun_is_channeldata((const uint8_t *)"\x40\x00\x00\x00", 4));
	CU_ASSERT(!stun_is_channeldata((const uint8_t *)"\x00\x01\x00\x00", 4));
	CU_ASSERT(!stun_is_stun((const uint8_t *)"\x40\x00\x00\x00", 4));
}

int test_stun_codec_register(void)
{
	CU_pSuite s = CU_add_suite("stun_codec", NULL, NULL);

	if (!s)
		return -1;
	if (!CU_add_test(s, "message type: method/class interleaving", test_type_encoding) ||
	    !CU_add_test(s, "every attribute: builder -> accessor", test_all_attributes_round_trip) ||
	    !CU_add_test(s, "repeated attributes: first counts, peers and relayed listed",
			 test_repeats) ||
	    !CU_add_test(s, "after MI / MI-SHA256 / FINGERPRINT; unknown attributes",
			 test_after_integrity_and_unknown) ||
	    !CU_add_test(s, "MI-SHA256 truncation, lengths, long keys (vs OpenSSL HMAC)",
			 test_mi_sha256_truncation) ||
	    !CU_add_test(s, "malformed attribute values", test_malformed_values) ||
	    !CU_add_test(s, "builder: bounds, sticky errors, 16-bit length, responses",
			 test_builder_bounds) ||
	    !CU_add_test(s, "50000 mutated messages: no crash, refs in bounds",
			 test_mutations_never_crash) ||
	    !CU_add_test(s, "ChannelData: range, length, padding, build", test_channeldata))
		return -1;
	return 0;
}
