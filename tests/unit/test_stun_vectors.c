/* STUN codec conformance: the four RFC 5769 vectors and RFC 8489 Appendix B.1.
 *
 * Each vector is parsed, its attributes decoded, its MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT
 * verified, and it is rebuilt with the builder and compared byte for byte. Then every single-bit
 * corruption of every byte, every truncation, a wrong key and a wrong cookie must fail.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "turn/auth.h"
#include "turn/stun.h"

/* RFC 5769 §2.1: Binding request, short-term credential. Padding bytes are 0x20 in the RFC. */
static const uint8_t rfc5769_request[] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
	0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74,
	0x65, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e,
	0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
	0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20,
	0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e,
	0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5,
	0x7a, 0x3b, 0xcf,
};

/* RFC 5769 §2.2: IPv4 Binding success response, XOR-MAPPED-ADDRESS 192.0.2.1:32853. */
static const uint8_t rfc5769_response_v4[] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
	0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76,
	0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1,
	0x12, 0xa6, 0x43, 0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
	0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00,
	0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 §2.3: IPv6 response, XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
static const uint8_t rfc5769_response_v6[] = {
	0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
	0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76,
	0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01,
	0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
	0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9,
	0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb,
	0x0b, 0x4c,
};

/* RFC 5769 §2.4: request with long-term authentication (no FINGERPRINT; zero padding). */
static const uint8_t rfc5769_longterm[] = {
	0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72,
	0xc0, 0x29, 0xda, 0x41, 0x2e, 0x00, 0x06, 0x00, 0x12, 0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88,
	0xe3, 0x83, 0xaa, 0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00, 0x00,
	0x15, 0x00, 0x1c, 0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36,
	0x4f, 0x4c, 0x33, 0x34, 0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73,
	0x41, 0x00, 0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72,
	0x67, 0x00, 0x00, 0x08, 0x00, 0x14, 0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02,
	0xb8, 0xe0, 0x71, 0x2e, 0x85, 0xc9, 0xa2, 0x8c, 0xa8, 0x96, 0x66,
};

/* RFC 8489 Appendix B.1 as corrected by erratum 6268: long-term request with USERHASH, nonce cookie,
 * PASSWORD-ALGORITHM SHA-256 and MESSAGE-INTEGRITY-SHA256. */
static const uint8_t rfc8489_b1[] = {
	0x00, 0x01, 0x00, 0x90, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72,
	0xc0, 0x29, 0xda, 0x41, 0x2e, 0x00, 0x1e, 0x00, 0x20, 0x4a, 0x3c, 0xf3, 0x8f, 0xef, 0x69,
	0x92, 0xbd, 0xa9, 0x52, 0xc6, 0x78, 0x04, 0x17, 0xda, 0x0f, 0x24, 0x81, 0x94, 0x15, 0x56,
	0x9e, 0x60, 0xb2, 0x05, 0xc4, 0x6e, 0x41, 0x40, 0x7f, 0x17, 0x04, 0x00, 0x15, 0x00, 0x29,
	0x6f, 0x62, 0x4d, 0x61, 0x74, 0x4a, 0x6f, 0x73, 0x32, 0x41, 0x41, 0x41, 0x43, 0x66, 0x2f,
	0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36, 0x4f, 0x4c, 0x33, 0x34, 0x6f,
	0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73, 0x41, 0x00, 0x00, 0x00, 0x00,
	0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67, 0x00,
	0x00, 0x1d, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x20, 0xb5, 0xc7, 0xbf,
	0x00, 0x5b, 0x6c, 0x52, 0xa2, 0x1c, 0x51, 0xc5, 0xe8, 0x92, 0xf8, 0x19, 0x24, 0x13, 0x62,
	0x96, 0xcb, 0x92, 0x7c, 0x43, 0x14, 0x93, 0x09, 0x27, 0x8c, 0xc6, 0x51, 0x8e, 0x65,
};

/* RFC 8489 Appendix B.1 as published: length field 0x9c counts the header, PASSWORD-ALGORITHM is
 * missing and the MESSAGE-INTEGRITY-SHA256 value matches no key (erratum 6268). */
static const uint8_t rfc8489_b1_published[] = {
	0x00, 0x01, 0x00, 0x9c, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72,
	0xc0, 0x29, 0xda, 0x41, 0x2e, 0x00, 0x1e, 0x00, 0x20, 0x4a, 0x3c, 0xf3, 0x8f, 0xef, 0x69,
	0x92, 0xbd, 0xa9, 0x52, 0xc6, 0x78, 0x04, 0x17, 0xda, 0x0f, 0x24, 0x81, 0x94, 0x15, 0x56,
	0x9e, 0x60, 0xb2, 0x05, 0xc4, 0x6e, 0x41, 0x40, 0x7f, 0x17, 0x04, 0x00, 0x15, 0x00, 0x29,
	0x6f, 0x62, 0x4d, 0x61, 0x74, 0x4a, 0x6f, 0x73, 0x32, 0x41, 0x41, 0x41, 0x43, 0x66, 0x2f,
	0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36, 0x4f, 0x4c, 0x33, 0x34, 0x6f,
	0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73, 0x41, 0x00, 0x00, 0x00, 0x00,
	0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67, 0x00,
	0x00, 0x1c, 0x00, 0x20, 0xe4, 0x68, 0x6c, 0x8f, 0x0e, 0xde, 0xb5, 0x90, 0x13, 0xe0, 0x70,
	0x90, 0x01, 0x0a, 0x93, 0xef, 0xcc, 0xbc, 0xcc, 0x54, 0x4c, 0x0a, 0x45, 0xd9, 0xf8, 0x30,
	0xaa, 0x6d, 0x6f, 0x73, 0x5a, 0x01,
};

static const uint8_t txid_5769[12] = { 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
				       0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae };
static const uint8_t txid_longterm[12] = { 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad,
					   0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e };
static const char short_term_pw[] = "VOkJxbRl1RmTxUk/WvJxBt";
/* "マトリックス" (U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9) in UTF-8 */
static const char matrix_user[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
static const char matrix_nonce[] = "f//499k954d6OL34oL9FSTvy64sA";
static const char b1_nonce[] = "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA";

/* Parse from an exact-size heap copy so that AddressSanitizer sees any read past the end. The copy
 * is kept in *copy for the accessors (the view points into it); the caller frees it. */
static int parse_copy(const uint8_t *bytes, size_t len, struct stun_msg *m, uint8_t **copy)
{
	*copy = malloc(len ? len : 1);
	memcpy(*copy, bytes, len);
	return stun_parse(*copy, len, m);
}

static bool attr_is(const struct stun_msg *m, uint16_t type, const void *want, size_t want_len)
{
	size_t len;
	const uint8_t *v = stun_msg__attr(m, type, &len);

	return v && len == want_len && memcmp(v, want, len) == 0;
}

static void matrix_key(struct auth_key *k)
{
	CU_ASSERT_FATAL(auth_longterm_key(STUN_PASSWORD_ALG_MD5, matrix_user, strlen(matrix_user),
					  "example.org", 11, "TheMatrIX", 9, k) == 0);
}

/* Every single-bit flip of a vector must fail: either the parse, or the integrity check (bytes up to
 * the end of the integrity attribute), or the fingerprint check (bytes after it: a flip that turns
 * FINGERPRINT into another type leaves a message whose MESSAGE-INTEGRITY still verifies, which RFC
 * 8489 §14.5 allows, but its FINGERPRINT is then gone). */
static void flip_every_bit(const uint8_t *vec, size_t len, const uint8_t *key, size_t key_len)
{
	uint8_t *buf = malloc(len);
	struct stun_msg m;
	size_t integrity_end, off;
	unsigned int survived = 0, tried = 0;

	CU_ASSERT_FATAL(stun_parse(vec, len, &m) == 0);
	off = m.mi256_off ? m.mi256_off : m.mi_off;
	integrity_end = off + 4 + get_be16(vec + off + 2);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(buf, vec, len);
			buf[i] ^= (uint8_t)(1u << bit);
			tried++;
			if (stun_parse(buf, len, &m) != 0)
				continue;
			if (i < integrity_end && stun_msg__check_integrity(&m, key, key_len) == 0)
				survived++;
			if (i >= integrity_end && stun_msg__check_fingerprint(&m) == 0)
				survived++;
		}
	}
	CU_ASSERT_EQUAL(tried, 8 * len);
	CU_ASSERT_EQUAL(survived, 0);
	free(buf);
}

static void truncations_fail(const uint8_t *vec, size_t len)
{
	for (size_t n = 0; n < len; n++) {
		struct stun_msg m;
		uint8_t *copy;

		CU_ASSERT_EQUAL(parse_copy(vec, n, &m, &copy), -EBADMSG);
		free(copy);
	}
}

static void test_rfc5769_request(void)
{
	const uint8_t *key = (const uint8_t *)short_term_pw;
	size_t klen = strlen(short_term_pw);
	static const uint8_t prio[4] = { 0x6e, 0x00, 0x01, 0xff };
	static const uint8_t tiebreak[8] = { 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36 };
	struct stun_builder b;
	struct stun_msg m;
	uint8_t out[256], *copy;

	CU_ASSERT_FATAL(parse_copy(rfc5769_request, sizeof(rfc5769_request), &m, &copy) == 0);
	CU_ASSERT_EQUAL(m.method, STUN_METHOD_BINDING);
	CU_ASSERT_EQUAL(m.cls, STUN_CLASS_REQUEST);
	CU_ASSERT(memcmp(m.txid, txid_5769, 12) == 0);
	CU_ASSERT(attr_is(&m, STUN_ATTR_SOFTWARE, "STUN test client", 16));
	CU_ASSERT(attr_is(&m, STUN_ATTR_USERNAME, "evtj:h6vY", 9));
	/* PRIORITY (ICE, 0x0024) is comprehension-required and unknown to a TURN server */
	CU_ASSERT_EQUAL(m.n_unknown, 1);
	CU_ASSERT_EQUAL(m.unknown[0], 0x0024);
	CU_ASSERT_EQUAL(stun_msg__integrity(&m), STUN_INTEGRITY_SHA1);
	CU_ASSERT_EQUAL(stun_msg__check_integrity(&m, key, klen), 0);
	CU_ASSERT_EQUAL(stun_msg__check_fingerprint(&m), 0);
	CU_ASSERT_EQUAL(stun_msg__check_integrity(&m, key, klen - 1), -EACCES);
	CU_ASSERT_EQUAL(stun_msg__check_integrity_kind(&m, STUN_INTEGRITY_SHA256, key, klen), -ENOENT);
	free(copy);

	CU_ASSERT_EQUAL(stun_builder__begin(&b, out, sizeof(out), stun_type(STUN_METHOD_BINDING,
			STUN_CLASS_REQUEST), txid_5769), 0);
	b.pad_byte = 0x20;
	stun_builder__add_string(&b, STUN_ATTR_SOFTWARE, "STUN test client");
	stun_builder__add(&b, 0x0024, prio, 4);
	stun_builder__add(&b, 0x8029, tiebreak, 8);
	stun_builder__add_string(&b, STUN_ATTR_USERNAME, "evtj:h6vY");
	stun_builder__add_message_integrity(&b, key, klen);
	stun_builder__add_fingerprint(&b);
	CU_ASSERT_EQUAL_FATAL(stun_builder__finish(&b), (int)sizeof(rfc5769_request));
	CU_ASSERT(memcmp(out, rfc5769_request, sizeof(rfc5769_request)) == 0);

	flip_every_bit(rfc5769_request, sizeof(rfc5769_request), key, klen);
	truncations_fail(rfc5769_request, sizeof(rfc5769_request));
}

static void check_response(const uint8_t *vec, size_t len, const struct xt_addr *want)
{
	const uint8_t *key = (const uint8_t *)short_term_pw;
	size_t klen = strlen(short_term_pw);
	struct stun_builder b;
	struct xt_addr a;
	struct stun_msg m;
	uint8_t out[256], *copy;

	CU_ASSERT_FATAL(parse_copy(vec, len, &m, &copy) == 0);
	CU_ASSERT_EQUAL(m.method, STUN_METHOD_BINDING);
	CU_ASSERT_EQUAL(m.cls, STUN_CLASS_SUCCESS);
	CU_ASSERT(attr_is(&m, STUN_ATTR_SOFTWARE, "test vector", 11));
	CU_ASSERT_EQUAL(m.n_unknown, 0);
	CU_ASSERT_EQUAL(stun_msg__xor_addr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, 0, &a), 0);
	CU_ASSERT(xt_addr_equal(&a, want));
	CU_ASSERT_EQUAL(stun_msg__xor_addr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, 1, &a), -ENOENT);
	CU_ASSERT_EQUAL(stun_msg__check_integrity(&m, key, klen), 0);
	CU_ASSERT_EQUAL(stun_msg__check_fingerprint(&m), 0);
	free(copy);

	stun_builder__begin(&b, out, sizeof(out), stun_type(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS),
			    txid_5769);
	b.pad_byte = 0x20;
	stun_builder__add_string(&b, STUN_ATTR_SOFTWARE, "test vector");
	stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, want);
	stun_builder__add_message_integrity(&b, key, klen);
	stun_builder__add_fingerprint(&b);
	CU_ASSERT_EQUAL_FATAL(stun_builder__finish(&b), (int)len);
	CU_ASSERT(memcmp(out, vec, len) == 0);

	flip_every_bit(vec, len, key, klen);
	truncations_fail(vec, len);
}

static void test_rfc5769_response_v4(void)
{
	static const uint8_t ip[4] = { 192, 0, 2, 1 };
	struct xt_addr a;

	xt_addr_set_v4(&a, ip, 32853);
	check_response(rfc5769_response_v4, sizeof(rfc5769_response_v4), &a);
}

static void test_rfc5769_response_v6(void)
{
	static const uint8_t ip[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
					0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };
	struct xt_addr a;

	xt_addr_set_v6(&a, ip, 32853);
	check_response(rfc5769_response_v6, sizeof(rfc5769_response_v6), &a);
}

static void test_rfc5769_longterm(void)
{
	/* MD5("マトリックス:example.org:TheMatrIX"), computed independently (Python hashlib) */
	static const uint8_t want_key[16] = { 0xe8, 0xca, 0x7a, 0xd5, 0x9d, 0x5e, 0xb0, 0x51,
					      0x8e, 0x31, 0x29, 0x11, 0xd2, 0xda, 0xb2, 0xa9 };
	struct auth_key key;
	struct stun_builder b;
	struct stun_msg m;
	uint8_t out[256], *copy;

	matrix_key(&key);
	CU_ASSERT_EQUAL(key.len, 16);
	CU_ASSERT(memcmp(key.b, want_key, 16) == 0);

	CU_ASSERT_FATAL(parse_copy(rfc5769_longterm, sizeof(rfc5769_longterm), &m, &copy) == 0);
	CU_ASSERT(memcmp(m.txid, txid_longterm, 12) == 0);
	CU_ASSERT(attr_is(&m, STUN_ATTR_USERNAME, matrix_user, strlen(matrix_user)));
	CU_ASSERT(attr_is(&m, STUN_ATTR_NONCE, matrix_nonce, strlen(matrix_nonce)));
	CU_ASSERT(attr_is(&m, STUN_ATTR_REALM, "example.org", 11));
	CU_ASSERT_EQUAL(stun_msg__check_integrity(&m, key.b, key.len), 0);
	CU_ASSERT_EQUAL(stun_msg__check_fingerprint(&m), -ENOENT);
	key.b[0] ^= 1;
	CU_ASSERT_EQUAL(stun_msg__check_integrity(&m, key.b, key.len), -EACCES);
	key.b[0] ^= 1;
	free(copy);

	stun_builder__begin(&b, out, sizeof(out), stun_type(STUN_METHOD_BINDING, STUN_CLASS_REQUEST),
			    txid_longterm);
	stun_builder__add_string(&b, STUN_ATTR_USERNAME, matrix_user);
	stun_builder__add_string(&b, STUN_ATTR_NONCE, matrix_nonce);
	stun_builder__add_string(&b, STUN_ATTR_REALM, "example.org");
	stun_builder__add_message_integrity(&b, key.b, key.len);
	CU_ASSERT_EQUAL_FATAL(stun_builder__finish(&b), (int)sizeof(rfc5769_longterm));
	CU_ASSERT(memcmp(out, rfc5769_longterm, sizeof(rfc5769_longterm)) == 0);

	flip_every_bit(rfc5769_longterm, sizeof(rfc5769_longterm), key.b, key.len);
	truncations_fail(rfc5769_longterm, sizeof(rfc5769_longterm));
}

/* Header corruptions named one by one (flip_every_bit covers them too, this says why they fail). */
static void test_rfc5769_bad_headers(void)
{
	uint8_t buf[sizeof(rfc5769_request) + 4];
	struct stun_msg m;

	memcpy(buf, rfc5769_request, sizeof(rfc5769_request));
	buf[4] ^= 0x01; /* magic cookie */
	CU_ASSERT_EQUAL(stun_parse(buf, sizeof(rfc5769_request), &m), -EBADMSG);

	memcpy(buf, rfc5769_request, sizeof(rfc5769_request));
	buf[0] |= 0x80; /* first two bits must be 0 */
	CU_ASSERT_EQUAL(stun_parse(buf, sizeof(rfc5769_request), &m), -EBADMSG);

	memcpy(buf, rfc5769_request, sizeof(rfc5769_request));
	put_be16(buf + 2, 0x5c); /* longer than the datagram */
	CU_ASSERT_EQUAL(stun_parse(buf, sizeof(rfc5769_request), &m), -EBADMSG);
	put_be16(buf + 2, 0x54); /* shorter than the datagram */
	CU_ASSERT_EQUAL(stun_parse(buf, sizeof(rfc5769_request), &m), -EBADMSG);
	put_be16(buf + 2, 0x57); /* not a multiple of 4 */
	CU_ASSERT_EQUAL(stun_parse(buf, sizeof(rfc5769_request), &m), -EBADMSG);

	/* trailing bytes after a complete message: the datagram is not one STUN message */
	memcpy(buf, rfc5769_request, sizeof(rfc5769_request));
	memset(buf + sizeof(rfc5769_request), 0, 4);
	CU_ASSERT_EQUAL(stun_parse(buf, sizeof(buf), &m), -EBADMSG);

	/* a wrong FINGERPRINT value with a right MESSAGE-INTEGRITY */
	memcpy(buf, rfc5769_request, sizeof(rfc5769_request));
	buf[sizeof(rfc5769_request) - 1] ^= 0xff;
	CU_ASSERT_FATAL(stun_parse(buf, sizeof(rfc5769_request), &m) == 0);
	CU_ASSERT_EQUAL(stun_msg__check_integrity(&m, (const uint8_t *)short_term_pw,
						  strlen(short_term_pw)), 0);
	CU_ASSERT_EQUAL(stun_msg__check_fingerprint(&m), -EACCES);
}

/* RFC 8489 B.1 (erratum 6268): USERHASH = SHA-256("マトリックス:example.org"), the nonce cookie
 * "obMatJos2AAAC", PASSWORD-ALGORITHM SHA-256 and MESSAGE-INTEGRITY-SHA256 under the SHA-256 key
 * SHA-256("マトリックス:example.org:TheMatrIX") (§9.2.2): decoded, verified, rebuilt byte for byte.
 * The vector as originally published is refused (bad length) and, length repaired, does not verify.
 * ("AAAC" is the feature set 0x000002, which names no feature as §18.1 numbers bits from the most
 * significant; the nonce is opaque to the client, so nothing checked here depends on it.) */
static void test_rfc8489_b1(void)
{
	struct auth_key key;
	uint8_t uh[32], out[256], *copy;
	struct stun_builder b;
	struct stun_msg m;
	uint16_t alg;
	size_t len;
	const uint8_t *v;

	CU_ASSERT_FATAL(parse_copy(rfc8489_b1, sizeof(rfc8489_b1), &m, &copy) == 0);
	CU_ASSERT(memcmp(m.txid, txid_longterm, 12) == 0);
	auth_userhash(matrix_user, strlen(matrix_user), "example.org", 11, uh);
	v = stun_msg__attr(&m, STUN_ATTR_USERHASH, &len);
	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT_EQUAL(len, 32);
	CU_ASSERT(memcmp(v, uh, 32) == 0);
	CU_ASSERT(attr_is(&m, STUN_ATTR_NONCE, b1_nonce, strlen(b1_nonce)));
	CU_ASSERT(attr_is(&m, STUN_ATTR_REALM, "example.org", 11));
	CU_ASSERT_EQUAL(stun_msg__password_algorithm(&m, &alg), 0);
	CU_ASSERT_EQUAL(alg, STUN_PASSWORD_ALG_SHA256);
	CU_ASSERT_EQUAL(stun_msg__integrity(&m), STUN_INTEGRITY_SHA256);
	CU_ASSERT_EQUAL(m.n_unknown, 0);

	CU_ASSERT_FATAL(auth_longterm_key(STUN_PASSWORD_ALG_SHA256, matrix_user, strlen(matrix_user),
					  "example.org", 11, "TheMatrIX", 9, &key) == 0);
	CU_ASSERT_EQUAL(key.len, 32);
	CU_ASSERT_EQUAL(stun_msg__check_integrity(&m, key.b, key.len), 0);
	key.b[31] ^= 1;
	CU_ASSERT_EQUAL(stun_msg__check_integrity(&m, key.b, key.len), -EACCES);
	key.b[31] ^= 1;
	free(copy);

	stun_builder__begin(&b, out, sizeof(out), stun_type(STUN_METHOD_BINDING, STUN_CLASS_REQUEST),
			    txid_longterm);
	stun_builder__add(&b, STUN_ATTR_USERHASH, uh, 32);
	stun_builder__add_string(&b, STUN_ATTR_NONCE, b1_nonce);
	stun_builder__add_string(&b, STUN_ATTR_REALM, "example.org");
	stun_builder__add_password_algorithm(&b, STUN_PASSWORD_ALG_SHA256);
	stun_builder__add_message_integrity_sha256(&b, key.b, key.len);
	CU_ASSERT_EQUAL_FATAL(stun_builder__finish(&b), (int)sizeof(rfc8489_b1));
	CU_ASSERT(memcmp(out, rfc8489_b1, sizeof(rfc8489_b1)) == 0);
	flip_every_bit(rfc8489_b1, sizeof(rfc8489_b1), key.b, key.len);
	truncations_fail(rfc8489_b1, sizeof(rfc8489_b1));

	memcpy(out, rfc8489_b1_published, sizeof(rfc8489_b1_published));
	CU_ASSERT_EQUAL(stun_parse(out, sizeof(rfc8489_b1_published), &m), -EBADMSG);
	put_be16(out + 2, sizeof(rfc8489_b1_published) - STUN_HEADER_LEN);
	CU_ASSERT_FATAL(stun_parse(out, sizeof(rfc8489_b1_published), &m) == 0);
	CU_ASSERT_EQUAL(stun_msg__check_integrity(&m, key.b, key.len), -EACCES);
	matrix_key(&key);
	CU_ASSERT_EQUAL(stun_msg__check_integrity(&m, key.b, key.len), -EACCES);
}

int test_stun_vectors_register(void)
{
	CU_pSuite s = CU_add_suite("stun_vectors", NULL, NULL);

	if (!s)
		return -1;
	if (!CU_add_test(s, "RFC 5769 2.1 request: decode, verify, re-encode, corruptions",
			 test_rfc5769_request) ||
	    !CU_add_test(s, "RFC 5769 2.2 IPv4 response", test_rfc5769_response_v4) ||
	    !CU_add_test(s, "RFC 5769 2.3 IPv6 response", test_rfc5769_response_v6) ||
	    !CU_add_test(s, "RFC 5769 2.4 long-term request (SASLprep'd TheMatrIX)",
			 test_rfc5769_longterm) ||
	    !CU_add_test(s, "bad cookie, bits, lengths, trailing bytes, fingerprint",
			 test_rfc5769_bad_headers) ||
	    !CU_add_test(s, "RFC 8489 B.1 (erratum 6268) USERHASH, cookie, SHA-256", test_rfc8489_b1))
		return -1;
	return 0;
}
