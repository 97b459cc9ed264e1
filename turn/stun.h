/* turn/stun.h — STUN message codec (RFC 8489) with the TURN attributes (RFC 8656), and ChannelData.
 *
 * stun_parse() checks a datagram and indexes its attributes without copying: struct stun_msg holds
 * offsets into the caller's buffer, which must outlive it. Accessors decode one attribute each.
 * struct stun_builder writes a message into a caller buffer with bounds checks; MESSAGE-INTEGRITY,
 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are computed by the builder and verified on a parsed view.
 * No malloc, no clock, no logging: bad input returns an error code, never a crash.
 * What a message means (which attributes a request needs, which error to answer) is turn/server's job.
 */
#ifndef XTURN_TURN_STUN_H
#define XTURN_TURN_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pkt/addr.h"

#define STUN_HEADER_LEN 20
#define STUN_ATTR_HEADER_LEN 4
#define STUN_TXID_LEN 12
#define STUN_MAGIC_COOKIE 0x2112A442u
#define STUN_FINGERPRINT_XOR 0x5354554Eu /* RFC 8489 §14.7 */
#define STUN_MI_LEN 20			 /* HMAC-SHA1 */
#define STUN_MI_SHA256_LEN 32		 /* full HMAC-SHA256; 16..32 accepted (§14.6) */
#define STUN_MI_SHA256_MIN_LEN 16
#define STUN_MAX_MSG_LEN 65535 /* whole message; longer ones fit in no UDP datagram, refused */

/* RFC 8489 §14.3, RFC 8656 §18: limits on variable-length text attributes, in bytes. */
#define STUN_USERNAME_MAX 513 /* "less than 509 bytes" rounded up to the padded size */
#define STUN_REALM_MAX 763
#define STUN_NONCE_MAX 763
#define STUN_SOFTWARE_MAX 763
#define STUN_REASON_MAX 763

/* ---- methods (12 bits) and classes (2 bits) ---- */
#define STUN_METHOD_BINDING 0x001
#define STUN_METHOD_ALLOCATE 0x003 /* RFC 8656 §17 */
#define STUN_METHOD_REFRESH 0x004
#define STUN_METHOD_SEND 0x006
#define STUN_METHOD_DATA 0x007
#define STUN_METHOD_CREATE_PERMISSION 0x008
#define STUN_METHOD_CHANNEL_BIND 0x009

#define STUN_CLASS_REQUEST 0
#define STUN_CLASS_INDICATION 1
#define STUN_CLASS_SUCCESS 2
#define STUN_CLASS_ERROR 3

/* The message type interleaves method and class bits: M11..M7 C1 M6..M4 C0 M3..M0 (RFC 8489 §5). */
static inline uint16_t stun_type(uint16_t method, uint8_t cls)
{
	return (uint16_t)((method & 0x000F) | (method & 0x0070) << 1 | (method & 0x0F80) << 2 |
			  (cls & 1) << 4 | (cls & 2) << 7);
}

static inline uint16_t stun_type_method(uint16_t type)
{
	return (uint16_t)((type & 0x000F) | (type & 0x00E0) >> 1 | (type & 0x3E00) >> 2);
}

static inline uint8_t stun_type_class(uint16_t type)
{
	return (uint8_t)((type >> 4 & 1) | (type >> 7 & 2));
}

/* ---- attribute types ---- */
/* comprehension-required (0x0000-0x7FFF): an unknown one in a request is answered 420 */
#define STUN_ATTR_MAPPED_ADDRESS 0x0001
#define STUN_ATTR_USERNAME 0x0006
#define STUN_ATTR_MESSAGE_INTEGRITY 0x0008
#define STUN_ATTR_ERROR_CODE 0x0009
#define STUN_ATTR_UNKNOWN_ATTRIBUTES 0x000A
#define STUN_ATTR_CHANNEL_NUMBER 0x000C	      /* RFC 8656 */
#define STUN_ATTR_LIFETIME 0x000D	      /* RFC 8656 */
#define STUN_ATTR_XOR_PEER_ADDRESS 0x0012     /* RFC 8656, may repeat */
#define STUN_ATTR_DATA 0x0013		      /* RFC 8656 */
#define STUN_ATTR_REALM 0x0014
#define STUN_ATTR_NONCE 0x0015
#define STUN_ATTR_XOR_RELAYED_ADDRESS 0x0016  /* RFC 8656, one or two */
#define STUN_ATTR_REQUESTED_ADDRESS_FAMILY 0x0017 /* RFC 8656 */
#define STUN_ATTR_EVEN_PORT 0x0018	      /* RFC 8656 */
#define STUN_ATTR_REQUESTED_TRANSPORT 0x0019  /* RFC 8656 */
#define STUN_ATTR_DONT_FRAGMENT 0x001A	      /* RFC 8656 */
#define STUN_ATTR_MESSAGE_INTEGRITY_SHA256 0x001C
#define STUN_ATTR_PASSWORD_ALGORITHM 0x001D
#define STUN_ATTR_USERHASH 0x001E
#define STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020
#define STUN_ATTR_RESERVATION_TOKEN 0x0022 /* RFC 8656 */
/* comprehension-optional (0x8000-0xFFFF) */
#define STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY 0x8000 /* RFC 8656 */
#define STUN_ATTR_ADDRESS_ERROR_CODE 0x8001	   /* RFC 8656 */
#define STUN_ATTR_PASSWORD_ALGORITHMS 0x8002
#define STUN_ATTR_ALTERNATE_DOMAIN 0x8003
#define STUN_ATTR_ICMP 0x8004 /* RFC 8656 */
#define STUN_ATTR_SOFTWARE 0x8022
#define STUN_ATTR_ALTERNATE_SERVER 0x8023
#define STUN_ATTR_FINGERPRINT 0x8028

static inline bool stun_attr_comprehension_required(uint16_t type)
{
	return type < 0x8000;
}

/* ---- error codes (RFC 8489 §14.8, RFC 8656 §18) ---- */
#define STUN_ERR_TRY_ALTERNATE 300
#define STUN_ERR_BAD_REQUEST 400
#define STUN_ERR_UNAUTHENTICATED 401
#define STUN_ERR_FORBIDDEN 403
#define STUN_ERR_MOBILITY_FORBIDDEN 405
#define STUN_ERR_UNKNOWN_ATTRIBUTE 420
#define STUN_ERR_ALLOCATION_MISMATCH 437
#define STUN_ERR_STALE_NONCE 438
#define STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED 440
#define STUN_ERR_WRONG_CREDENTIALS 441
#define STUN_ERR_UNSUPPORTED_TRANSPORT 442
#define STUN_ERR_PEER_ADDRESS_FAMILY_MISMATCH 443
#define STUN_ERR_ALLOCATION_QUOTA_REACHED 486
#define STUN_ERR_SERVER_ERROR 500
#define STUN_ERR_INSUFFICIENT_CAPACITY 508

/* The RFC's reason phrase for a code ("Bad Request", ...); "" for a code it does not know. */
const char *stun_error_reason(int code);

/* Address family byte of (XOR-)address attributes and of (REQUESTED|ADDITIONAL)-ADDRESS-FAMILY. */
#define STUN_FAMILY_IPV4 0x01
#define STUN_FAMILY_IPV6 0x02

/* XT_AF_INET/XT_AF_INET6 for STUN_FAMILY_IPV4/IPV6, 0 for anything else; and back (0 if unknown). */
static inline uint8_t stun_family_to_af(uint8_t fam)
{
	return fam == STUN_FAMILY_IPV4 ? XT_AF_INET : fam == STUN_FAMILY_IPV6 ? XT_AF_INET6 : 0;
}

static inline uint8_t stun_af_to_family(uint8_t af)
{
	return af == XT_AF_INET ? STUN_FAMILY_IPV4 : af == XT_AF_INET6 ? STUN_FAMILY_IPV6 : 0;
}

/* REQUESTED-TRANSPORT protocol numbers (RFC 8656 §18: an IANA protocol number). */
#define STUN_TRANSPORT_UDP 17

/* PASSWORD-ALGORITHM values (RFC 8489 §18.5). */
#define STUN_PASSWORD_ALG_MD5 0x0001
#define STUN_PASSWORD_ALG_SHA256 0x0002

/* ---- the parsed view ---- */

/* One attribute's value: off is the value's offset from the start of the message; len excludes
 * padding. off == 0 means absent (no value can start inside the 20-byte header). */
struct stun_attr_ref {
	uint16_t off;
	uint16_t len;
};

/* Index of the known attributes in struct stun_msg.attr[] (first occurrence of each). */
enum stun_slot {
	STUN_SLOT_MAPPED_ADDRESS,
	STUN_SLOT_USERNAME,
	STUN_SLOT_MESSAGE_INTEGRITY,
	STUN_SLOT_ERROR_CODE,
	STUN_SLOT_UNKNOWN_ATTRIBUTES,
	STUN_SLOT_CHANNEL_NUMBER,
	STUN_SLOT_LIFETIME,
	STUN_SLOT_XOR_PEER_ADDRESS,
	STUN_SLOT_DATA,
	STUN_SLOT_REALM,
	STUN_SLOT_NONCE,
	STUN_SLOT_XOR_RELAYED_ADDRESS,
	STUN_SLOT_REQUESTED_ADDRESS_FAMILY,
	STUN_SLOT_EVEN_PORT,
	STUN_SLOT_REQUESTED_TRANSPORT,
	STUN_SLOT_DONT_FRAGMENT,
	STUN_SLOT_MESSAGE_INTEGRITY_SHA256,
	STUN_SLOT_PASSWORD_ALGORITHM,
	STUN_SLOT_USERHASH,
	STUN_SLOT_XOR_MAPPED_ADDRESS,
	STUN_SLOT_RESERVATION_TOKEN,
	STUN_SLOT_ADDITIONAL_ADDRESS_FAMILY,
	STUN_SLOT_ADDRESS_ERROR_CODE,
	STUN_SLOT_PASSWORD_ALGORITHMS,
	STUN_SLOT_ALTERNATE_DOMAIN,
	STUN_SLOT_ICMP,
	STUN_SLOT_SOFTWARE,
	STUN_SLOT_ALTERNATE_SERVER,
	STUN_SLOT_FINGERPRINT,
	STUN_SLOT__COUNT
};

/* The slot of a known attribute type, or -1. */
int stun_attr_slot(uint16_t type);

#define STUN_MAX_PEER_ADDRS 8	/* XOR-PEER-ADDRESS occurrences kept (CreatePermission) */
#define STUN_MAX_RELAYED_ADDRS 2 /* XOR-RELAYED-ADDRESS: IPv4 and IPv6 (RFC 8656 §7.2) */
#define STUN_MAX_UNKNOWN 8	/* distinct unknown comprehension-required types kept for 420 */

struct stun_msg {
	const uint8_t *buf; /* the datagram given to stun_parse() */
	uint16_t len;	    /* whole message: 20 + the header's length field */
	uint16_t type;
	uint16_t method;
	uint8_t cls;
	uint8_t txid[STUN_TXID_LEN];
	struct stun_attr_ref attr[STUN_SLOT__COUNT];
	/* Every XOR-PEER-ADDRESS / XOR-RELAYED-ADDRESS in order; n_* counts all of them, even those
	 * beyond the array (n_peer > STUN_MAX_PEER_ADDRS: more than this server handles). */
	struct stun_attr_ref peer[STUN_MAX_PEER_ADDRS];
	uint16_t n_peer;
	struct stun_attr_ref relayed[STUN_MAX_RELAYED_ADDRS];
	uint16_t n_relayed;
	/* Unknown comprehension-required types that precede MESSAGE-INTEGRITY, distinct, in order;
	 * n_unknown counts up to STUN_MAX_UNKNOWN. */
	uint16_t unknown[STUN_MAX_UNKNOWN];
	uint16_t n_unknown;
	/* Offsets of the attribute headers (not values) of MI, MI-SHA256 and FINGERPRINT; 0 = absent. */
	uint16_t mi_off;
	uint16_t mi256_off;
	uint16_t fp_off;
};

/* Parses and checks one STUN message that fills the datagram exactly (RFC 8489 §6.3): first two bits
 * 0, length field a multiple of 4 and equal to len - 20, magic cookie, every attribute within the
 * message. Known attributes are indexed at their first occurrence; attributes after
 * MESSAGE-INTEGRITY are ignored except MESSAGE-INTEGRITY-SHA256 and FINGERPRINT, after
 * MESSAGE-INTEGRITY-SHA256 all but FINGERPRINT, after FINGERPRINT all (§14.5-14.7).
 * Returns 0, or -EBADMSG (not a well-formed STUN message). Does not check integrity or fingerprint. */
int stun_parse(const uint8_t *buf, size_t len, struct stun_msg *m);

/* Cheap demultiplexing on the first byte (RFC 7983 §7): 0-3 STUN, 64-79 ChannelData. */
static inline bool stun_is_stun(const uint8_t *buf, size_t len)
{
	return len >= STUN_HEADER_LEN && (buf[0] & 0xC0) == 0;
}

static inline bool stun_is_channeldata(const uint8_t *buf, size_t len)
{
	return len >= 4 && (buf[0] & 0xC0) == 0x40;
}

static inline bool stun_msg__has(const struct stun_msg *m, uint16_t type)
{
	int s = stun_attr_slot(type);
	return s >= 0 && m->attr[s].off != 0;
}

/* Value of the first occurrence of a known attribute type (length in *len), or NULL if absent. */
const uint8_t *stun_msg__attr(const struct stun_msg *m, uint16_t type, size_t *len);

/* ---- accessors: 0, -ENOENT (absent), -EBADMSG (wrong length or contents) ---- */

/* XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS: idx-th occurrence (idx > 0 only for
 * PEER and RELAYED, counted in n_peer / n_relayed). -EAFNOSUPPORT for an unknown family byte. */
int stun_msg__xor_addr(const struct stun_msg *m, uint16_t type, unsigned int idx,
		       struct xt_addr *out);
/* MAPPED-ADDRESS, ALTERNATE-SERVER (not XORed). -EAFNOSUPPORT for an unknown family byte. */
int stun_msg__addr(const struct stun_msg *m, uint16_t type, struct xt_addr *out);
int stun_msg__lifetime(const struct stun_msg *m, uint32_t *seconds);
/* The channel number as sent (the range 0x4000-0x4FFF is the server's check). */
int stun_msg__channel_number(const struct stun_msg *m, uint16_t *channel);
/* The protocol byte of REQUESTED-TRANSPORT (RFU bytes ignored, RFC 8656 §18.8). */
int stun_msg__requested_transport(const struct stun_msg *m, uint8_t *protocol);
/* REQUESTED-ADDRESS-FAMILY or ADDITIONAL-ADDRESS-FAMILY: the raw family byte (STUN_FAMILY_*; any
 * other value is returned as is so that the server can answer 440). */
int stun_msg__address_family(const struct stun_msg *m, uint16_t type, uint8_t *family);
/* ERROR-CODE: code = class * 100 + number; the reason phrase is a view into the message. */
int stun_msg__error_code(const struct stun_msg *m, int *code, const uint8_t **reason,
			 size_t *reason_len);
/* ADDRESS-ERROR-CODE (RFC 8656 §18.13): family byte, code and reason. */
int stun_msg__address_error_code(const struct stun_msg *m, uint8_t *family, int *code,
				 const uint8_t **reason, size_t *reason_len);
/* EVEN-PORT: the R bit (reserve the next port). */
int stun_msg__even_port(const struct stun_msg *m, bool *reserve);
/* PASSWORD-ALGORITHM: the algorithm number (its parameters, none for MD5/SHA-256, are skipped). */
int stun_msg__password_algorithm(const struct stun_msg *m, uint16_t *alg);
/* PASSWORD-ALGORITHMS: up to max algorithm numbers into algs, *n = how many the attribute holds. */
int stun_msg__password_algorithms(const struct stun_msg *m, uint16_t *algs, size_t max,
				  size_t *n);
/* UNKNOWN-ATTRIBUTES: up to max types into types, *n = how many the attribute holds. */
int stun_msg__unknown_attributes(const struct stun_msg *m, uint16_t *types, size_t max,
				 size_t *n);
/* ICMP (RFC 8656 §18.14): type, code and the 32-bit error data. */
int stun_msg__icmp(const struct stun_msg *m, uint8_t *icmp_type, uint8_t *icmp_code,
		   uint32_t *error_data);

/* ---- integrity and fingerprint ---- */

enum stun_integrity {
	STUN_INTEGRITY_NONE = 0,
	STUN_INTEGRITY_SHA1 = 1,   /* MESSAGE-INTEGRITY */
	STUN_INTEGRITY_SHA256 = 2, /* MESSAGE-INTEGRITY-SHA256 */
};

/* The integrity a receiver checks (RFC 8489 §9.2.4, §14.6): SHA256 when MI-SHA256 is present (the
 * stronger one wins), else SHA1 when MI is present, else NONE. A response to an authenticated request
 * carries this same kind. */
enum stun_integrity stun_msg__integrity(const struct stun_msg *m);

/* Verifies the integrity attribute of that kind with the HMAC key (a long-term key of
 * turn/auth.h, or a short-term password): the header length is taken as ending at the attribute
 * (§14.5), MI-SHA256 may be truncated to 16..32 bytes in steps of 4 (§14.6).
 * Returns 0, -ENOENT (no integrity attribute), -EBADMSG (attribute of a bad length), -EACCES (no
 * match). The comparison takes constant time. stun_msg__check_integrity() uses stun_msg__integrity(). */
int stun_msg__check_integrity(const struct stun_msg *m, const uint8_t *key, size_t key_len);
int stun_msg__check_integrity_kind(const struct stun_msg *m, enum stun_integrity kind,
				   const uint8_t *key, size_t key_len);

/* FINGERPRINT (§14.7) must be the last attribute: 0, -ENOENT, -EBADMSG (not last), -EACCES (bad). */
int stun_msg__check_fingerprint(const struct stun_msg *m);

/* ---- the builder ---- */

/* Writes one message into buf[cap]. Errors are sticky: after the first failure every add is a no-op
 * returning the same error, and finish returns it, so a caller may chain adds and check once.
 * The header's length field is kept current after each add. */
struct stun_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err; /* 0 or the first -errno */
	uint8_t txid[STUN_TXID_LEN];
	uint8_t pad_byte; /* value of padding bytes: 0 from begin; receivers ignore it (RFC 8489 §14),
			   * RFC 5769's vectors use 0x20, so tests set it to re-encode them exactly */
};

/* Starts a message: 0 or -ENOSPC (cap < 20). */
int stun_builder__begin(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
			const uint8_t txid[STUN_TXID_LEN]);
/* Starts a response of class cls (STUN_CLASS_SUCCESS or _ERROR) to req: same method and txid. */
int stun_builder__begin_response(struct stun_builder *b, uint8_t *buf, size_t cap,
				 const struct stun_msg *req, uint8_t cls);

/* Every add returns 0, -ENOSPC (does not fit in cap or in the 16-bit length) or -EINVAL (value out
 * of range). Values are zero-padded to 4 bytes. */
int stun_builder__add(struct stun_builder *b, uint16_t type, const void *value, size_t len);
/* Reserves a zero-filled value of len bytes and returns where to write it (NULL on error). */
uint8_t *stun_builder__add_reserve(struct stun_builder *b, uint16_t type, size_t len);
int stun_builder__add_u32(struct stun_builder *b, uint16_t type, uint32_t value);
int stun_builder__add_flag(struct stun_builder *b, uint16_t type); /* empty value: DONT-FRAGMENT */
int stun_builder__add_string(struct stun_builder *b, uint16_t type, const char *s);
/* XOR-MAPPED/-PEER/-RELAYED-ADDRESS, XORed with the cookie and the builder's txid (§14.2). */
int stun_builder__add_xor_addr(struct stun_builder *b, uint16_t type, const struct xt_addr *a);
/* MAPPED-ADDRESS, ALTERNATE-SERVER. */
int stun_builder__add_addr(struct stun_builder *b, uint16_t type, const struct xt_addr *a);
/* ERROR-CODE 300..699 with a reason phrase (NULL: stun_error_reason(code)). */
int stun_builder__add_error(struct stun_builder *b, int code, const char *reason);
/* ADDRESS-ERROR-CODE for family (STUN_FAMILY_*), code, reason (NULL: the default phrase). */
int stun_builder__add_address_error(struct stun_builder *b, uint8_t family, int code,
				    const char *reason);
int stun_builder__add_unknown_attributes(struct stun_builder *b, const uint16_t *types, size_t n);
int stun_builder__add_lifetime(struct stun_builder *b, uint32_t seconds);
int stun_builder__add_channel_number(struct stun_builder *b, uint16_t channel);
int stun_builder__add_requested_transport(struct stun_builder *b, uint8_t protocol);
/* REQUESTED-ADDRESS-FAMILY or ADDITIONAL-ADDRESS-FAMILY with a STUN_FAMILY_* byte. */
int stun_builder__add_address_family(struct stun_builder *b, uint16_t type, uint8_t family);
int stun_builder__add_even_port(struct stun_builder *b, bool reserve);
int stun_builder__add_reservation_token(struct stun_builder *b, const uint8_t token[8]);
int stun_builder__add_password_algorithm(struct stun_builder *b, uint16_t alg);
/* PASSWORD-ALGORITHMS: each algorithm with empty parameters (MD5, SHA-256). */
int stun_builder__add_password_algorithms(struct stun_builder *b, const uint16_t *algs, size_t n);
int stun_builder__add_icmp(struct stun_builder *b, uint8_t icmp_type, uint8_t icmp_code,
			   uint32_t error_data);
int stun_builder__add_data(struct stun_builder *b, const void *data, size_t len);

/* MESSAGE-INTEGRITY (HMAC-SHA1) / MESSAGE-INTEGRITY-SHA256 (full 32 bytes) over everything so far. */
int stun_builder__add_message_integrity(struct stun_builder *b, const uint8_t *key, size_t key_len);
int stun_builder__add_message_integrity_sha256(struct stun_builder *b, const uint8_t *key,
					       size_t key_len);
/* The integrity attribute of kind (NONE adds nothing): answers carry what the request used. */
int stun_builder__add_integrity(struct stun_builder *b, enum stun_integrity kind,
				const uint8_t *key, size_t key_len);
int stun_builder__add_fingerprint(struct stun_builder *b);

/* The message length (> 0), or the first error. */
int stun_builder__finish(struct stun_builder *b);

/* ---- ChannelData (RFC 8656 §12.4) ---- */

#define CHANNELDATA_HEADER_LEN 4
#define STUN_CHANNEL_MIN 0x4000
#define STUN_CHANNEL_MAX 0x4FFF	       /* RFC 8656 §12 */
#define STUN_CHANNEL_LEGACY_MAX 0x7FFF /* RFC 5766 §11: what older clients (and coturn) use */

struct channeldata {
	uint16_t channel;
	uint16_t len;	     /* the application data length from the header */
	const uint8_t *data; /* view into the datagram, padding excluded */
};

/* Parses a ChannelData datagram: channel 0x4000-0x7FFF (first two bits 01: RFC 7983's ChannelData
 * range; which numbers a client may bind is the server's rule), length <= datagram - 4, and at most
 * 3 trailing bytes after the data (padding, RFC 8656 §12.5: accepted over UDP, never forwarded).
 * Returns 0 or -EBADMSG. */
int channeldata_parse(const uint8_t *buf, size_t len, struct channeldata *cd);

/* Writes header + data into buf (data may already sit at buf + 4: memmove semantics), padded to a
 * multiple of 4 when pad is true (UDP needs no padding, §12.5). Returns the length written, -EINVAL
 * (channel outside 0x4000-0x7FFF, len > 65535) or -ENOSPC. */
int channeldata_build(uint8_t *buf, size_t cap, uint16_t channel, const uint8_t *data, size_t len,
		      bool pad);

#endif
