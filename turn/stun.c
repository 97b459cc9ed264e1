/* turn/stun.c — STUN codec: parse, accessors, builder, integrity, fingerprint, ChannelData.
 * Stub: the implementation follows; every entry point answers -ENOSYS for now. */
#pragma GCC diagnostic ignored "-Wunused-parameter" /* stub only */
#include <errno.h>
#include "turn/stun.h"

const char *stun_error_reason(int code)
{
	(void)code;
	return "";
}

int stun_attr_slot(uint16_t type)
{
	(void)type;
	return -1;
}

int stun_parse(const uint8_t *buf, size_t len, struct stun_msg *m)
{
	(void)buf, (void)len, (void)m;
	return -ENOSYS;
}

const uint8_t *stun_msg__attr(const struct stun_msg *m, uint16_t type, size_t *len)
{
	(void)m, (void)type, (void)len;
	return NULL;
}

#define STUB(...) { (void)m; return -ENOSYS; }
int stun_msg__xor_addr(const struct stun_msg *m, uint16_t type, unsigned int idx,
		       struct xt_addr *out) STUB()
int stun_msg__addr(const struct stun_msg *m, uint16_t type, struct xt_addr *out) STUB()
int stun_msg__lifetime(const struct stun_msg *m, uint32_t *seconds) STUB()
int stun_msg__channel_number(const struct stun_msg *m, uint16_t *channel) STUB()
int stun_msg__requested_transport(const struct stun_msg *m, uint8_t *protocol) STUB()
int stun_msg__address_family(const struct stun_msg *m, uint16_t type, uint8_t *family) STUB()
int stun_msg__error_code(const struct stun_msg *m, int *code, const uint8_t **reason,
			 size_t *reason_len) STUB()
int stun_msg__address_error_code(const struct stun_msg *m, uint8_t *family, int *code,
				 const uint8_t **reason, size_t *reason_len) STUB()
int stun_msg__even_port(const struct stun_msg *m, bool *reserve) STUB()
int stun_msg__password_algorithm(const struct stun_msg *m, uint16_t *alg) STUB()
int stun_msg__password_algorithms(const struct stun_msg *m, uint16_t *algs, size_t max,
				  size_t *n) STUB()
int stun_msg__unknown_attributes(const struct stun_msg *m, uint16_t *types, size_t max,
				 size_t *n) STUB()
int stun_msg__icmp(const struct stun_msg *m, uint8_t *icmp_type, uint8_t *icmp_code,
		   uint32_t *error_data) STUB()
enum stun_integrity stun_msg__integrity(const struct stun_msg *m)
{
	(void)m;
	return STUN_INTEGRITY_NONE;
}
int stun_msg__check_integrity(const struct stun_msg *m, const uint8_t *key, size_t key_len) STUB()
int stun_msg__check_integrity_kind(const struct stun_msg *m, enum stun_integrity kind,
				   const uint8_t *key, size_t key_len) STUB()
int stun_msg__check_fingerprint(const struct stun_msg *m) STUB()
#undef STUB

#define STUB(...) { (void)b; return -ENOSYS; }
int stun_builder__begin(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
			const uint8_t txid[STUN_TXID_LEN]) STUB()
int stun_builder__begin_response(struct stun_builder *b, uint8_t *buf, size_t cap,
				 const struct stun_msg *req, uint8_t cls) STUB()
int stun_builder__add(struct stun_builder *b, uint16_t type, const void *value, size_t len) STUB()
uint8_t *stun_builder__add_reserve(struct stun_builder *b, uint16_t type, size_t len)
{
	(void)b, (void)type, (void)len;
	return NULL;
}
int stun_builder__add_u32(struct stun_builder *b, uint16_t type, uint32_t value) STUB()
int stun_builder__add_flag(struct stun_builder *b, uint16_t type) STUB()
int stun_builder__add_string(struct stun_builder *b, uint16_t type, const char *s) STUB()
int stun_builder__add_xor_addr(struct stun_builder *b, uint16_t type, const struct xt_addr *a) STUB()
int stun_builder__add_addr(struct stun_builder *b, uint16_t type, const struct xt_addr *a) STUB()
int stun_builder__add_error(struct stun_builder *b, int code, const char *reason) STUB()
int stun_builder__add_address_error(struct stun_builder *b, uint8_t family, int code,
				    const char *reason) STUB()
int stun_builder__add_unknown_attributes(struct stun_builder *b, const uint16_t *types,
					 size_t n) STUB()
int stun_builder__add_lifetime(struct stun_builder *b, uint32_t seconds) STUB()
int stun_builder__add_channel_number(struct stun_builder *b, uint16_t channel) STUB()
int stun_builder__add_requested_transport(struct stun_builder *b, uint8_t protocol) STUB()
int stun_builder__add_address_family(struct stun_builder *b, uint16_t type, uint8_t family) STUB()
int stun_builder__add_even_port(struct stun_builder *b, bool reserve) STUB()
int stun_builder__add_reservation_token(struct stun_builder *b, const uint8_t token[8]) STUB()
int stun_builder__add_password_algorithm(struct stun_builder *b, uint16_t alg) STUB()
int stun_builder__add_password_algorithms(struct stun_builder *b, const uint16_t *algs,
					  size_t n) STUB()
int stun_builder__add_icmp(struct stun_builder *b, uint8_t icmp_type, uint8_t icmp_code,
			   uint32_t error_data) STUB()
int stun_builder__add_data(struct stun_builder *b, const void *data, size_t len) STUB()
int stun_builder__add_message_integrity(struct stun_builder *b, const uint8_t *key,
					size_t key_len) STUB()
int stun_builder__add_message_integrity_sha256(struct stun_builder *b, const uint8_t *key,
					       size_t key_len) STUB()
int stun_builder__add_integrity(struct stun_builder *b, enum stun_integrity kind,
				const uint8_t *key, size_t key_len) STUB()
int stun_builder__add_fingerprint(struct stun_builder *b) STUB()
int stun_builder__finish(struct stun_builder *b) STUB()
#undef STUB

int channeldata_parse(const uint8_t *buf, size_t len, struct channeldata *cd)
{
	(void)buf, (void)len, (void)cd;
	return -ENOSYS;
}

int channeldata_build(uint8_t *buf, size_t cap, uint16_t channel, const uint8_t *data, size_t len,
		      bool pad)
{
	(void)buf, (void)cap, (void)channel, (void)data, (void)len, (void)pad;
	return -ENOSYS;
}
