/* turn/stun.c — STUN codec: parse, accessors, builder, integrity, fingerprint, ChannelData.
 *
 * The parse path allocates nothing and walks the attributes once. HMACs go through turn/hmac.h, which
 * keeps per-thread digest contexts so that a check costs the hashing and nothing else.
 */
#include <errno.h>
#include <string.h>
#include <zlib.h>
#include <openssl/crypto.h>
#include "turn/hmac.h"
#include "turn/stun.h"

static inline size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

const char *stun_error_reason(int code)
{
	switch (code) {
	case 300: return "Try Alternate";
	case 400: return "Bad Request";
	case 401: return "Unauthenticated";
	case 403: return "Forbidden";
	case 405: return "Mobility Forbidden";
	case 420: return "Unknown Attribute";
	case 437: return "Allocation Mismatch";
	case 438: return "Stale Nonce";
	case 440: return "Address Family not Supported";
	case 441: return "Wrong Credentials";
	case 442: return "Unsupported Transport Protocol";
	case 443: return "Peer Address Family Mismatch";
	case 486: return "Allocation Quota Reached";
	case 500: return "Server Error";
	case 508: return "Insufficient Capacity";
	default: return "";
	}
}

int stun_attr_slot(uint16_t type)
{
	switch (type) {
	case STUN_ATTR_MAPPED_ADDRESS: return STUN_SLOT_MAPPED_ADDRESS;
	case STUN_ATTR_USERNAME: return STUN_SLOT_USERNAME;
	case STUN_ATTR_MESSAGE_INTEGRITY: return STUN_SLOT_MESSAGE_INTEGRITY;
	case STUN_ATTR_ERROR_CODE: return STUN_SLOT_ERROR_CODE;
	case STUN_ATTR_UNKNOWN_ATTRIBUTES: return STUN_SLOT_UNKNOWN_ATTRIBUTES;
	case STUN_ATTR_CHANNEL_NUMBER: return STUN_SLOT_CHANNEL_NUMBER;
	case STUN_ATTR_LIFETIME: return STUN_SLOT_LIFETIME;
	case STUN_ATTR_XOR_PEER_ADDRESS: return STUN_SLOT_XOR_PEER_ADDRESS;
	case STUN_ATTR_DATA: return STUN_SLOT_DATA;
	case STUN_ATTR_REALM: return STUN_SLOT_REALM;
	case STUN_ATTR_NONCE: return STUN_SLOT_NONCE;
	case STUN_ATTR_XOR_RELAYED_ADDRESS: return STUN_SLOT_XOR_RELAYED_ADDRESS;
	case STUN_ATTR_REQUESTED_ADDRESS_FAMILY: return STUN_SLOT_REQUESTED_ADDRESS_FAMILY;
	case STUN_ATTR_EVEN_PORT: return STUN_SLOT_EVEN_PORT;
	case STUN_ATTR_REQUESTED_TRANSPORT: return STUN_SLOT_REQUESTED_TRANSPORT;
	case STUN_ATTR_DONT_FRAGMENT: return STUN_SLOT_DONT_FRAGMENT;
	case STUN_ATTR_MESSAGE_INTEGRITY_SHA256: return STUN_SLOT_MESSAGE_INTEGRITY_SHA256;
	case STUN_ATTR_PASSWORD_ALGORITHM: return STUN_SLOT_PASSWORD_ALGORITHM;
	case STUN_ATTR_USERHASH: return STUN_SLOT_USERHASH;
	case STUN_ATTR_XOR_MAPPED_ADDRESS: return STUN_SLOT_XOR_MAPPED_ADDRESS;
	case STUN_ATTR_RESERVATION_TOKEN: return STUN_SLOT_RESERVATION_TOKEN;
	case STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY: return STUN_SLOT_ADDITIONAL_ADDRESS_FAMILY;
	case STUN_ATTR_ADDRESS_ERROR_CODE: return STUN_SLOT_ADDRESS_ERROR_CODE;
	case STUN_ATTR_PASSWORD_ALGORITHMS: return STUN_SLOT_PASSWORD_ALGORITHMS;
	case STUN_ATTR_ALTERNATE_DOMAIN: return STUN_SLOT_ALTERNATE_DOMAIN;
	case STUN_ATTR_ICMP: return STUN_SLOT_ICMP;
	case STUN_ATTR_SOFTWARE: return STUN_SLOT_SOFTWARE;
	case STUN_ATTR_ALTERNATE_SERVER: return STUN_SLOT_ALTERNATE_SERVER;
	case STUN_ATTR_FINGERPRINT: return STUN_SLOT_FINGERPRINT;
	default: return -1;
	}
}

/* ---- parse ---- */

/* Where the walk is: RFC 8489 §14.5-14.7 say what a receiver still looks at after each of these. */
enum parse_phase {
	PHASE_ALL,	/* before MESSAGE-INTEGRITY */
	PHASE_AFTER_MI, /* only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT count */
	PHASE_AFTER_MI256, /* only FINGERPRINT counts */
	PHASE_AFTER_FP, /* nothing counts */
};

static void note_unknown(struct stun_msg *m, uint16_t type)
{
	for (unsigned int i = 0; i < m->n_unknown; i++)
		if (m->unknown[i] == type)
			return;
	if (m->n_unknown < STUN_MAX_UNKNOWN)
		m->unknown[m->n_unknown++] = type;
}

int stun_parse(const uint8_t *buf, size_t len, struct stun_msg *m)
{
	enum parse_phase phase = PHASE_ALL;
	size_t pos;

	memset(m, 0, sizeof(*m));
	/* RFC 8489 §6.3: top two bits zero, length a multiple of 4 covering the rest, magic cookie. */
	if (len < STUN_HEADER_LEN || len > STUN_MAX_MSG_LEN || (buf[0] & 0xC0) != 0)
		return -EBADMSG;
	if ((get_be16(buf + 2) & 3) != 0 || (size_t)get_be16(buf + 2) + STUN_HEADER_LEN != len)
		return -EBADMSG;
	if (get_be32(buf + 4) != STUN_MAGIC_COOKIE)
		return -EBADMSG;
	m->buf = buf;
	m->len = (uint16_t)len;
	m->type = get_be16(buf);
	m->method = stun_type_method(m->type);
	m->cls = stun_type_class(m->type);
	memcpy(m->txid, buf + 8, STUN_TXID_LEN);

	for (pos = STUN_HEADER_LEN; pos < len;) {
		uint16_t type, alen;
		size_t next;
		int slot;

		/* len and pos are multiples of 4, so a whole attribute header is always there */
		type = get_be16(buf + pos);
		alen = get_be16(buf + pos + 2);
		next = pos + STUN_ATTR_HEADER_LEN + pad4(alen);
		if (next > len)
			return -EBADMSG;
		struct stun_attr_ref ref = { .off = (uint16_t)(pos + 4), .len = alen };

		switch (phase) {
		case PHASE_ALL:
			break;
		case PHASE_AFTER_MI:
			if (type != STUN_ATTR_MESSAGE_INTEGRITY_SHA256 && type != STUN_ATTR_FINGERPRINT)
				goto skip;
			break;
		case PHASE_AFTER_MI256:
			if (type != STUN_ATTR_FINGERPRINT)
				goto skip;
			break;
		case PHASE_AFTER_FP:
			goto skip;
		}

		slot = stun_attr_slot(type);
		if (slot < 0) {
			if (stun_attr_comprehension_required(type))
				note_unknown(m, type);
			goto skip;
		}
		switch (type) {
		case STUN_ATTR_XOR_PEER_ADDRESS:
			if (m->n_peer < STUN_MAX_PEER_ADDRS)
				m->peer[m->n_peer] = ref;
			if (m->n_peer < UINT16_MAX)
				m->n_peer++;
			break;
		case STUN_ATTR_XOR_RELAYED_ADDRESS:
			if (m->n_relayed < STUN_MAX_RELAYED_ADDRS)
				m->relayed[m->n_relayed] = ref;
			if (m->n_relayed < UINT16_MAX)
				m->n_relayed++;
			break;
		case STUN_ATTR_MESSAGE_INTEGRITY:
			m->mi_off = (uint16_t)pos;
			phase = PHASE_AFTER_MI;
			break;
		case STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
			m->mi256_off = (uint16_t)pos;
			phase = PHASE_AFTER_MI256;
			break;
		case STUN_ATTR_FINGERPRINT:
			m->fp_off = (uint16_t)pos;
			phase = PHASE_AFTER_FP;
			break;
		}
		if (m->attr[slot].off == 0)
			m->attr[slot] = ref;
skip:
		pos = next;
	}
	return 0;
}

const uint8_t *stun_msg__attr(const struct stun_msg *m, uint16_t type, size_t *len)
{
	int s = stun_attr_slot(type);

	if (s < 0 || m->attr[s].off == 0)
		return NULL;
	if (len)
		*len = m->attr[s].len;
	return m->buf + m->attr[s].off;
}

/* The value of a known attribute, required to be exactly want bytes long (0: any length). */
static int attr_exact(const struct stun_msg *m, uint16_t type, size_t want, const uint8_t **v,
		      size_t *len)
{
	size_t l;

	*v = stun_msg__attr(m, type, &l);
	if (!*v)
		return -ENOENT;
	if (want && l != want)
		return -EBADMSG;
	if (len)
		*len = l;
	return 0;
}

/* RFC 8489 §14.1-14.2: family byte at 1, port at 2, address at 4; XORed with cookie (and txid). */
static int decode_addr(const struct stun_msg *m, struct stun_attr_ref ref, bool xor,
		       struct xt_addr *out)
{
	const uint8_t *v = m->buf + ref.off;
	uint8_t mask[16];
	uint8_t ip[16];
	unsigned int n;
	uint16_t port;

	if (ref.len < 4)
		return -EBADMSG;
	switch (v[1]) {
	case STUN_FAMILY_IPV4:
		n = 4;
		break;
	case STUN_FAMILY_IPV6:
		n = 16;
		break;
	default:
		return -EAFNOSUPPORT;
	}
	if (ref.len != 4 + n)
		return -EBADMSG;
	put_be32(mask, STUN_MAGIC_COOKIE);
	memcpy(mask + 4, m->txid, STUN_TXID_LEN);
	port = get_be16(v + 2);
	if (xor)
		port ^= (uint16_t)(STUN_MAGIC_COOKIE >> 16);
	for (unsigned int i = 0; i < n; i++)
		ip[i] = xor ? v[4 + i] ^ mask[i] : v[4 + i];
	if (n == 4)
		xt_addr_set_v4(out, ip, port);
	else
		xt_addr_set_v6(out, ip, port);
	return 0;
}

int stun_msg__xor_addr(const struct stun_msg *m, uint16_t type, unsigned int idx,
		       struct xt_addr *out)
{
	struct stun_attr_ref ref;
	int s;

	switch (type) {
	case STUN_ATTR_XOR_PEER_ADDRESS:
		if (idx >= m->n_peer || idx >= STUN_MAX_PEER_ADDRS)
			return -ENOENT;
		ref = m->peer[idx];
		break;
	case STUN_ATTR_XOR_RELAYED_ADDRESS:
		if (idx >= m->n_relayed || idx >= STUN_MAX_RELAYED_ADDRS)
			return -ENOENT;
		ref = m->relayed[idx];
		break;
	case STUN_ATTR_XOR_MAPPED_ADDRESS:
		s = stun_attr_slot(type);
		if (idx != 0 || m->attr[s].off == 0)
			return -ENOENT;
		ref = m->attr[s];
		break;
	default:
		return -EINVAL;
	}
	return decode_addr(m, ref, true, out);
}

int stun_msg__addr(const struct stun_msg *m, uint16_t type, struct xt_addr *out)
{
	int s = stun_attr_slot(type);

	if (type != STUN_ATTR_MAPPED_ADDRESS && type != STUN_ATTR_ALTERNATE_SERVER)
		return -EINVAL;
	if (m->attr[s].off == 0)
		return -ENOENT;
	return decode_addr(m, m->attr[s], false, out);
}

int stun_msg__lifetime(const struct stun_msg *m, uint32_t *seconds)
{
	const uint8_t *v;
	int err = attr_exact(m, STUN_ATTR_LIFETIME, 4, &v, NULL);

	if (!err)
		*seconds = get_be32(v);
	return err;
}

int stun_msg__channel_number(const struct stun_msg *m, uint16_t *channel)
{
	const uint8_t *v;
	int err = attr_exact(m, STUN_ATTR_CHANNEL_NUMBER, 4, &v, NULL);

	if (!err)
		*channel = get_be16(v);
	return err;
}

int stun_msg__requested_transport(const struct stun_msg *m, uint8_t *protocol)
{
	const uint8_t *v;
	int err = attr_exact(m, STUN_ATTR_REQUESTED_TRANSPORT, 4, &v, NULL);

	if (!err)
		*protocol = v[0];
	return err;
}

int stun_msg__address_family(const struct stun_msg *m, uint16_t type, uint8_t *family)
{
	const uint8_t *v;
	int err;

	if (type != STUN_ATTR_REQUESTED_ADDRESS_FAMILY && type != STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY)
		return -EINVAL;
	err = attr_exact(m, type, 4, &v, NULL);
	if (!err)
		*family = v[0];
	return err;
}

/* Class 3..6 in the low 3 bits of byte 2, number 0..99 in byte 3 (RFC 8489 §14.8). */
static int decode_code(const uint8_t *v, int *code)
{
	int cls = v[2] & 7, num = v[3];

	if (cls < 3 || cls > 6 || num > 99)
		return -EBADMSG;
	*code = cls * 100 + num;
	return 0;
}

int stun_msg__error_code(const struct stun_msg *m, int *code, const uint8_t **reason,
			 size_t *reason_len)
{
	const uint8_t *v;
	size_t l;
	int err = attr_exact(m, STUN_ATTR_ERROR_CODE, 0, &v, &l);

	if (err)
		return err;
	if (l < 4 || decode_code(v, code))
		return -EBADMSG;
	if (reason)
		*reason = v + 4;
	if (reason_len)
		*reason_len = l - 4;
	return 0;
}

int stun_msg__address_error_code(const struct stun_msg *m, uint8_t *family, int *code,
				 const uint8_t **reason, size_t *reason_len)
{
	const uint8_t *v;
	size_t l;
	int err = attr_exact(m, STUN_ATTR_ADDRESS_ERROR_CODE, 0, &v, &l);

	if (err)
		return err;
	if (l < 4 || decode_code(v, code))
		return -EBADMSG;
	*family = v[0];
	if (reason)
		*reason = v + 4;
	if (reason_len)
		*reason_len = l - 4;
	return 0;
}

int stun_msg__even_port(const struct stun_msg *m, bool *reserve)
{
	const uint8_t *v;
	int err = attr_exact(m, STUN_ATTR_EVEN_PORT, 1, &v, NULL);

	if (!err)
		*reserve = (v[0] & 0x80) != 0;
	return err;
}

int stun_msg__password_algorithm(const struct stun_msg *m, uint16_t *alg)
{
	const uint8_t *v;
	size_t l;
	int err = attr_exact(m, STUN_ATTR_PASSWORD_ALGORITHM, 0, &v, &l);

	if (err)
		return err;
	/* algorithm (2), parameters length (2), parameters padded (RFC 8489 §14.12) */
	if (l < 4 || 4 + pad4(get_be16(v + 2)) != l)
		return -EBADMSG;
	*alg = get_be16(v);
	return 0;
}

int stun_msg__password_algorithms(const struct stun_msg *m, uint16_t *algs, size_t max, size_t *n)
{
	const uint8_t *v;
	size_t l, pos, count = 0;
	int err = attr_exact(m, STUN_ATTR_PASSWORD_ALGORITHMS, 0, &v, &l);

	if (err)
		return err;
	for (pos = 0; pos < l;) {
		size_t next;

		if (l - pos < 4)
			return -EBADMSG;
		next = pos + 4 + pad4(get_be16(v + pos + 2));
		if (next > l)
			return -EBADMSG;
		if (count < max)
			algs[count] = get_be16(v + pos);
		count++;
		pos = next;
	}
	*n = count;
	return 0;
}

int stun_msg__unknown_attributes(const struct stun_msg *m, uint16_t *types, size_t max, size_t *n)
{
	const uint8_t *v;
	size_t l;
	int err = attr_exact(m, STUN_ATTR_UNKNOWN_ATTRIBUTES, 0, &v, &l);

	if (err)
		return err;
	if (l & 1)
		return -EBADMSG;
	for (size_t i = 0; i < l / 2 && i < max; i++)
		types[i] = get_be16(v + 2 * i);
	*n = l / 2;
	return 0;
}

int stun_msg__icmp(const struct stun_msg *m, uint8_t *icmp_type, uint8_t *icmp_code,
		   uint32_t *error_data)
{
	const uint8_t *v;
	int err = attr_exact(m, STUN_ATTR_ICMP, 8, &v, NULL);

	if (err)
		return err;
	*icmp_type = v[2];
	*icmp_code = v[3];
	*error_data = get_be32(v + 4);
	return 0;
}

/* ---- integrity and fingerprint ---- */

enum stun_integrity stun_msg__integrity(const struct stun_msg *m)
{
	if (m->mi256_off)
		return STUN_INTEGRITY_SHA256;
	if (m->mi_off)
		return STUN_INTEGRITY_SHA1;
	return STUN_INTEGRITY_NONE;
}

/* HMAC over the message up to the attribute at off, with the header's length field rewritten to end
 * at that attribute's end (RFC 8489 §14.5): the bytes are hashed in three pieces, nothing copied. */
static int mac_upto(const uint8_t *buf, size_t off, size_t attr_total, enum xt_hmac_alg alg,
		    const uint8_t *key, size_t key_len, uint8_t *out)
{
	uint8_t len_field[2];
	struct xt_hmac_piece pieces[3] = {
		{ buf, 2 },
		{ len_field, 2 },
		{ buf + 4, off - 4 },
	};

	put_be16(len_field, (uint16_t)(off + attr_total - STUN_HEADER_LEN));
	return xt_hmac(alg, key, key_len, pieces, 3, out);
}

int stun_msg__check_integrity_kind(const struct stun_msg *m, enum stun_integrity kind,
				   const uint8_t *key, size_t key_len)
{
	uint8_t mac[XT_HMAC_MAX];
	size_t off, l;
	int err;

	switch (kind) {
	case STUN_INTEGRITY_SHA1:
		off = m->mi_off;
		if (!off)
			return -ENOENT;
		l = get_be16(m->buf + off + 2);
		if (l != STUN_MI_LEN)
			return -EBADMSG;
		err = mac_upto(m->buf, off, 4 + l, XT_HMAC_SHA1, key, key_len, mac);
		break;
	case STUN_INTEGRITY_SHA256:
		off = m->mi256_off;
		if (!off)
			return -ENOENT;
		/* §14.6: at least 16 bytes, at most 32, a multiple of 4 (truncated HMAC) */
		l = get_be16(m->buf + off + 2);
		if (l < STUN_MI_SHA256_MIN_LEN || l > STUN_MI_SHA256_LEN || (l & 3))
			return -EBADMSG;
		err = mac_upto(m->buf, off, 4 + l, XT_HMAC_SHA256, key, key_len, mac);
		break;
	default:
		return -ENOENT;
	}
	if (err)
		return err;
	return CRYPTO_memcmp(mac, m->buf + off + 4, l) == 0 ? 0 : -EACCES;
}

int stun_msg__check_integrity(const struct stun_msg *m, const uint8_t *key, size_t key_len)
{
	return stun_msg__check_integrity_kind(m, stun_msg__integrity(m), key, key_len);
}

static uint32_t stun_crc(const uint8_t *buf, size_t len)
{
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)len) ^ STUN_FINGERPRINT_XOR;
}

int stun_msg__check_fingerprint(const struct stun_msg *m)
{
	size_t off = m->fp_off;

	if (!off)
		return -ENOENT;
	if (get_be16(m->buf + off + 2) != 4 || off + 8 != m->len)
		return -EBADMSG;
	return stun_crc(m->buf, off) == get_be32(m->buf + off + 4) ? 0 : -EACCES;
}

/* ---- builder ---- */

static inline void builder_set_len(struct stun_builder *b)
{
	put_be16(b->buf + 2, (uint16_t)(b->len - STUN_HEADER_LEN));
}

int stun_builder__begin(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
			const uint8_t txid[STUN_TXID_LEN])
{
	b->buf = buf;
	b->cap = cap > STUN_MAX_MSG_LEN ? STUN_MAX_MSG_LEN : cap;
	b->len = 0;
	b->err = 0;
	b->pad_byte = 0;
	memcpy(b->txid, txid, STUN_TXID_LEN);
	if (b->cap < STUN_HEADER_LEN)
		return b->err = -ENOSPC;
	put_be16(buf, type & 0x3FFF);
	put_be32(buf + 4, STUN_MAGIC_COOKIE);
	memcpy(buf + 8, txid, STUN_TXID_LEN);
	b->len = STUN_HEADER_LEN;
	builder_set_len(b);
	return 0;
}

int stun_builder__begin_response(struct stun_builder *b, uint8_t *buf, size_t cap,
				 const struct stun_msg *req, uint8_t cls)
{
	return stun_builder__begin(b, buf, cap, stun_type(req->method, cls), req->txid);
}

uint8_t *stun_builder__add_reserve(struct stun_builder *b, uint16_t type, size_t len)
{
	uint8_t *v;
	size_t need;

	if (b->err)
		return NULL;
	if (len > UINT16_MAX) {
		b->err = -EINVAL;
		return NULL;
	}
	need = STUN_ATTR_HEADER_LEN + pad4(len);
	if (need > b->cap - b->len) {
		b->err = -ENOSPC;
		return NULL;
	}
	put_be16(b->buf + b->len, type);
	put_be16(b->buf + b->len + 2, (uint16_t)len);
	v = b->buf + b->len + STUN_ATTR_HEADER_LEN;
	memset(v, 0, len);
	memset(v + len, b->pad_byte, pad4(len) - len);
	b->len += need;
	builder_set_len(b);
	return v;
}

int stun_builder__add(struct stun_builder *b, uint16_t type, const void *value, size_t len)
{
	uint8_t *v = stun_builder__add_reserve(b, type, len);

	if (!v)
		return b->err;
	if (len)
		memcpy(v, value, len);
	return 0;
}

int stun_builder__add_u32(struct stun_builder *b, uint16_t type, uint32_t value)
{
	uint8_t *v = stun_builder__add_reserve(b, type, 4);

	if (!v)
		return b->err;
	put_be32(v, value);
	return 0;
}

int stun_builder__add_flag(struct stun_builder *b, uint16_t type)
{
	return stun_builder__add(b, type, NULL, 0);
}

int stun_builder__add_string(struct stun_builder *b, uint16_t type, const char *s)
{
	return stun_builder__add(b, type, s, strlen(s));
}

static int fail(struct stun_builder *b, int err)
{
	if (!b->err)
		b->err = err;
	return b->err;
}

static int add_addr(struct stun_builder *b, uint16_t type, const struct xt_addr *a, bool xor)
{
	unsigned int n = a->family == XT_AF_INET ? 4 : 16;
	uint8_t mask[16];
	uint8_t *v;
	uint16_t port = xt_addr_port(a);

	if (a->family != XT_AF_INET && a->family != XT_AF_INET6)
		return fail(b, -EINVAL);
	v = stun_builder__add_reserve(b, type, 4 + n);
	if (!v)
		return b->err;
	put_be32(mask, STUN_MAGIC_COOKIE);
	memcpy(mask + 4, b->txid, STUN_TXID_LEN);
	v[1] = stun_af_to_family(a->family);
	put_be16(v + 2, xor ? port ^ (uint16_t)(STUN_MAGIC_COOKIE >> 16) : port);
	for (unsigned int i = 0; i < n; i++)
		v[4 + i] = xor ? a->ip[i] ^ mask[i] : a->ip[i];
	return 0;
}

int stun_builder__add_xor_addr(struct stun_builder *b, uint16_t type, const struct xt_addr *a)
{
	return add_addr(b, type, a, true);
}

int stun_builder__add_addr(struct stun_builder *b, uint16_t type, const struct xt_addr *a)
{
	return add_addr(b, type, a, false);
}

static int add_code(struct stun_builder *b, uint16_t type, uint8_t first, int code,
		    const char *reason)
{
	size_t rlen;
	uint8_t *v;

	if (code < 300 || code > 699)
		return fail(b, -EINVAL);
	if (!reason)
		reason = stun_error_reason(code);
	rlen = strlen(reason);
	if (rlen > STUN_REASON_MAX)
		return fail(b, -EINVAL);
	v = stun_builder__add_reserve(b, type, 4 + rlen);
	if (!v)
		return b->err;
	v[0] = first;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	memcpy(v + 4, reason, rlen);
	return 0;
}

int stun_builder__add_error(struct stun_builder *b, int code, const char *reason)
{
	return add_code(b, STUN_ATTR_ERROR_CODE, 0, code, reason);
}

int stun_builder__add_address_error(struct stun_builder *b, uint8_t family, int code,
				    const char *reason)
{
	return add_code(b, STUN_ATTR_ADDRESS_ERROR_CODE, family, code, reason);
}

int stun_builder__add_unknown_attributes(struct stun_builder *b, const uint16_t *types, size_t n)
{
	uint8_t *v = stun_builder__add_reserve(b, STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n);

	if (!v)
		return b->err;
	for (size_t i = 0; i < n; i++)
		put_be16(v + 2 * i, types[i]);
	return 0;
}

int stun_builder__add_lifetime(struct stun_builder *b, uint32_t seconds)
{
	return stun_builder__add_u32(b, STUN_ATTR_LIFETIME, seconds);
}

int stun_builder__add_channel_number(struct stun_builder *b, uint16_t channel)
{
	return stun_builder__add_u32(b, STUN_ATTR_CHANNEL_NUMBER, (uint32_t)channel << 16);
}

int stun_builder__add_requested_transport(struct stun_builder *b, uint8_t protocol)
{
	return stun_builder__add_u32(b, STUN_ATTR_REQUESTED_TRANSPORT, (uint32_t)protocol << 24);
}

int stun_builder__add_address_family(struct stun_builder *b, uint16_t type, uint8_t family)
{
	if (type != STUN_ATTR_REQUESTED_ADDRESS_FAMILY && type != STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY)
		return fail(b, -EINVAL);
	return stun_builder__add_u32(b, type, (uint32_t)family << 24);
}

int stun_builder__add_even_port(struct stun_builder *b, bool reserve)
{
	uint8_t v = reserve ? 0x80 : 0;

	return stun_builder__add(b, STUN_ATTR_EVEN_PORT, &v, 1);
}

int stun_builder__add_reservation_token(struct stun_builder *b, const uint8_t token[8])
{
	return stun_builder__add(b, STUN_ATTR_RESERVATION_TOKEN, token, 8);
}

int stun_builder__add_password_algorithm(struct stun_builder *b, uint16_t alg)
{
	return stun_builder__add_u32(b, STUN_ATTR_PASSWORD_ALGORITHM, (uint32_t)alg << 16);
}

int stun_builder__add_password_algorithms(struct stun_builder *b, const uint16_t *algs, size_t n)
{
	uint8_t *v = stun_builder__add_reserve(b, STUN_ATTR_PASSWORD_ALGORITHMS, 4 * n);

	if (!v)
		return b->err;
	for (size_t i = 0; i < n; i++)
		put_be32(v + 4 * i, (uint32_t)algs[i] << 16);
	return 0;
}

/* RFC 8656 §18.13 lays the ICMP type and code out after 16 reserved bits; one byte each, as every
 * implementation reads them (ICMP types and codes are 8-bit). */
int stun_builder__add_icmp(struct stun_builder *b, uint8_t icmp_type, uint8_t icmp_code,
			   uint32_t error_data)
{
	uint8_t *v = stun_builder__add_reserve(b, STUN_ATTR_ICMP, 8);

	if (!v)
		return b->err;
	v[2] = icmp_type;
	v[3] = icmp_code;
	put_be32(v + 4, error_data);
	return 0;
}

int stun_builder__add_data(struct stun_builder *b, const void *data, size_t len)
{
	return stun_builder__add(b, STUN_ATTR_DATA, data, len);
}

static int add_mac(struct stun_builder *b, uint16_t type, enum xt_hmac_alg alg, size_t mac_len,
		   const uint8_t *key, size_t key_len)
{
	uint8_t mac[XT_HMAC_MAX];
	struct xt_hmac_piece piece;
	size_t off = b->len;
	uint8_t *v = stun_builder__add_reserve(b, type, mac_len);

	if (!v)
		return b->err;
	/* the length field already ends at this attribute, which is what §14.5 wants hashed */
	piece.p = b->buf;
	piece.len = off;
	if (xt_hmac(alg, key, key_len, &piece, 1, mac))
		return fail(b, -ENOMEM);
	memcpy(v, mac, mac_len);
	return 0;
}

int stun_builder__add_message_integrity(struct stun_builder *b, const uint8_t *key, size_t key_len)
{
	return add_mac(b, STUN_ATTR_MESSAGE_INTEGRITY, XT_HMAC_SHA1, STUN_MI_LEN, key, key_len);
}

int stun_builder__add_message_integrity_sha256(struct stun_builder *b, const uint8_t *key,
					       size_t key_len)
{
	return add_mac(b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, XT_HMAC_SHA256, STUN_MI_SHA256_LEN,
		       key, key_len);
}

int stun_builder__add_integrity(struct stun_builder *b, enum stun_integrity kind,
				const uint8_t *key, size_t key_len)
{
	switch (kind) {
	case STUN_INTEGRITY_NONE:
		return b->err;
	case STUN_INTEGRITY_SHA1:
		return stun_builder__add_message_integrity(b, key, key_len);
	case STUN_INTEGRITY_SHA256:
		return stun_builder__add_message_integrity_sha256(b, key, key_len);
	}
	return fail(b, -EINVAL);
}

int stun_builder__add_fingerprint(struct stun_builder *b)
{
	size_t off = b->len;
	uint8_t *v = stun_builder__add_reserve(b, STUN_ATTR_FINGERPRINT, 4);

	if (!v)
		return b->err;
	put_be32(v, stun_crc(b->buf, off));
	return 0;
}

int stun_builder__finish(struct stun_builder *b)
{
	return b->err ? b->err : (int)b->len;
}

/* ---- ChannelData ---- */

int channeldata_parse(const uint8_t *buf, size_t len, struct channeldata *cd)
{
	uint16_t ch, dlen;

	if (len < CHANNELDATA_HEADER_LEN)
		return -EBADMSG;
	ch = get_be16(buf);
	dlen = get_be16(buf + 2);
	if (ch < STUN_CHANNEL_MIN || ch > STUN_CHANNEL_LEGACY_MAX)
		return -EBADMSG;
	/* RFC 8656 §12.5: a datagram shorter than the length field says is dropped; the padding to a
	 * 4-byte boundary may be there over UDP, and anything longer than that is not ChannelData */
	if ((size_t)dlen + CHANNELDATA_HEADER_LEN > len || len - CHANNELDATA_HEADER_LEN - dlen > 3)
		return -EBADMSG;
	cd->channel = ch;
	cd->len = dlen;
	cd->data = buf + CHANNELDATA_HEADER_LEN;
	return 0;
}

int channeldata_build(uint8_t *buf, size_t cap, uint16_t channel, const uint8_t *data, size_t len,
		      bool pad)
{
	size_t total;

	if (channel < STUN_CHANNEL_MIN || channel > STUN_CHANNEL_LEGACY_MAX || len > UINT16_MAX)
		return -EINVAL;
	total = CHANNELDATA_HEADER_LEN + (pad ? pad4(len) : len);
	if (total > cap)
		return -ENOSPC;
	if (data != buf + CHANNELDATA_HEADER_LEN)
		memmove(buf + CHANNELDATA_HEADER_LEN, data, len);
	memset(buf + CHANNELDATA_HEADER_LEN + len, 0, total - CHANNELDATA_HEADER_LEN - len);
	put_be16(buf, channel);
	put_be16(buf + 2, (uint16_t)len);
	return (int)total;
}
