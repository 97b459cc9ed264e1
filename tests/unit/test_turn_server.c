/* turn/server scenarios, part 1: Binding, authentication (401, 400, 438, 441), Allocate (success,
 * retransmission, 437, 442, 400, 440, 486, 508, dual-stack, EVEN-PORT and reservations, 420) and
 * Refresh. Every answer is parsed with turn/stun.h and checked attribute by attribute, with its
 * MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT verified. */
#include <CUnit/CUnit.h>
#include <string.h>
#include "tests/unit/turn_harness.h"

static struct th T;

#define A_(...)	  ((const uint16_t[]){ __VA_ARGS__, 0 })
#define ACTS(...) ((const uint8_t[]){ __VA_ARGS__, 0 })
#define SEND	  TURN_ACT_SEND
#define CREATED	  TURN_ACT_ALLOCATION_CREATED
#define DELETED	  TURN_ACT_ALLOCATION_DELETED
#define BOUND	  TURN_ACT_CHANNEL_BOUND
#define UNBOUND	  TURN_ACT_CHANNEL_UNBOUND

#define ERR	 STUN_ATTR_ERROR_CODE
#define MI	 STUN_ATTR_MESSAGE_INTEGRITY
#define MI256	 STUN_ATTR_MESSAGE_INTEGRITY_SHA256
#define FP	 STUN_ATTR_FINGERPRINT
#define REALM	 STUN_ATTR_REALM
#define NONCE	 STUN_ATTR_NONCE
#define RELAYED	 STUN_ATTR_XOR_RELAYED_ADDRESS
#define MAPPED	 STUN_ATTR_XOR_MAPPED_ADDRESS
#define LIFETIME STUN_ATTR_LIFETIME

static void v4_only(struct turn_server_config *cfg)
{
	cfg->n_relays = 1;
}

static void small(struct turn_server_config *cfg)
{
	cfg->max_per_user = 2;
	cfg->max_total = 3;
}

static void two_ports(struct turn_server_config *cfg)
{
	cfg->n_relays = 1;
	cfg->relay_port_min = 50000;
	cfg->relay_port_max = 50001;
}

static void with_software(struct turn_server_config *cfg)
{
	cfg->software = "xturn-test";
}

static void v6_only(struct turn_server_config *cfg)
{
	cfg->relays[0] = cfg->relays[1];
	cfg->n_relays = 1;
}

static void nat(struct turn_server_config *cfg)
{
	th_addr4(&cfg->relays[0].advertised, "203.0.113.7", 0);
}

static uint32_t lifetime_of(void)
{
	uint32_t v = 0;
	CU_ASSERT_EQUAL(stun_msg__lifetime(&T.m, &v), 0);
	return v;
}

/* ---- Binding ---- */

static void test_binding(void)
{
	struct th_client c;
	struct stun_builder b;
	struct xt_addr mapped;

	th_setup(&T, NULL);
	th_client(&c, 1);
	th_begin(&T, &c, &b, STUN_METHOD_BINDING);
	CU_ASSERT_EQUAL(th_send_plain(&T, &c, &b), 0);
	th_actions_are(&T, ACTS(SEND));
	CU_ASSERT(th_check(&T, 0, A_(MAPPED), STUN_INTEGRITY_NONE, NULL));
	CU_ASSERT_EQUAL(stun_msg__xor_addr(&T.m, MAPPED, 0, &mapped), 0);
	CU_ASSERT_TRUE(xt_addr_equal(&mapped, &c.addr));
	CU_ASSERT_EQUAL(memcmp(T.m.txid, c.txid, 12), 0);
	/* from the listen address to the client */
	CU_ASSERT_TRUE(xt_addr_equal(&T.out.v[0].send.from, &c.local));
	CU_ASSERT_TRUE(xt_addr_equal(&T.out.v[0].send.to, &c.addr));

	/* FINGERPRINT in the request: FINGERPRINT in the answer */
	th_begin(&T, &c, &b, STUN_METHOD_BINDING);
	stun_builder__add_fingerprint(&b);
	th_send_plain(&T, &c, &b);
	CU_ASSERT(th_check(&T, 0, A_(MAPPED, FP), STUN_INTEGRITY_NONE, NULL));
	th_teardown(&T);
}

static void test_binding_unknown_attribute_420(void)
{
	struct th_client c;
	struct stun_builder b;
	uint16_t unk[4];
	size_t n = 0;

	th_setup(&T, NULL);
	th_client(&c, 1);
	th_begin(&T, &c, &b, STUN_METHOD_BINDING);
	stun_builder__add_u32(&b, 0x7F01, 1); /* comprehension-required, unknown */
	stun_builder__add_u32(&b, 0xC001, 1); /* comprehension-optional: ignored */
	th_send_plain(&T, &c, &b);
	CU_ASSERT(
	    th_check(&T, 420, A_(ERR, STUN_ATTR_UNKNOWN_ATTRIBUTES), STUN_INTEGRITY_NONE, NULL));
	CU_ASSERT_EQUAL(stun_msg__unknown_attributes(&T.m, unk, 4, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(unk[0], 0x7F01);
	th_teardown(&T);
}

/* ---- authentication ---- */

static void test_challenge_401(void)
{
	struct th_client c;
	struct stun_builder b;
	struct turn_server_stats st;
	size_t len;
	const uint8_t *realm;

	th_setup(&T, NULL);
	th_client(&c, 1);
	th_begin(&T, &c, &b, STUN_METHOD_ALLOCATE);
	stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	th_send_plain(&T, &c, &b);
	th_actions_are(&T, ACTS(SEND));
	CU_ASSERT(th_check(&T, 401, A_(ERR, REALM, NONCE), STUN_INTEGRITY_NONE, NULL));
	realm = stun_msg__attr(&T.m, REALM, &len);
	CU_ASSERT(len == 11 && !memcmp(realm, "example.org", 11));
	/* nothing kept for an unauthenticated client */
	turn_server__stats(T.s, &st);
	CU_ASSERT_EQUAL(st.allocations, 0);
	CU_ASSERT_EQUAL(st.requests[TURN_M_ALLOCATE][TURN_R_401], 1);
	CU_ASSERT_EQUAL(T.out.wake_at, UINT64_MAX);
	th_teardown(&T);
}

static void pwalgs(struct turn_server_config *cfg)
{
	cfg->password_algorithms = true;
}

static void test_challenge_password_algorithms(void)
{
	struct th_client c;
	struct stun_builder b;
	uint16_t algs[4];
	size_t n = 0;

	th_setup(&T, pwalgs);
	th_client(&c, 1);
	th_begin(&T, &c, &b, STUN_METHOD_ALLOCATE);
	stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	stun_builder__add_fingerprint(&b);
	th_send_plain(&T, &c, &b);
	CU_ASSERT(th_check(&T, 401, A_(ERR, REALM, NONCE, STUN_ATTR_PASSWORD_ALGORITHMS, FP),
			   STUN_INTEGRITY_NONE, NULL));
	CU_ASSERT_EQUAL(stun_msg__password_algorithms(&T.m, algs, 4, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	th_teardown(&T);
}

static void test_missing_username_400(void)
{
	struct th_client c;
	struct stun_builder b;

	th_setup(&T, NULL);
	th_client(&c, 1);
	th_login(&T, &c);
	th_begin(&T, &c, &b, STUN_METHOD_ALLOCATE);
	stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	stun_builder__add_string(&b, REALM, "example.org");
	stun_builder__add(&b, NONCE, c.nonce, c.nonce_len);
	stun_builder__add_message_integrity(&b, c.key.b, c.key.len);
	th_send_plain(&T, &c, &b);
	CU_ASSERT(th_check(&T, 400, A_(ERR), STUN_INTEGRITY_NONE, NULL));
	th_teardown(&T);
}

static void test_wrong_password_401(void)
{
	struct th_client c;
	struct stun_builder b;

	th_setup(&T, NULL);
	th_client(&c, 1);
	th_login(&T, &c);
	c.key.b[0] ^= 1;
	th_begin(&T, &c, &b, STUN_METHOD_ALLOCATE);
	stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	th_send_auth(&T, &c, &b);
	CU_ASSERT(th_check(&T, 401, A_(ERR, REALM, NONCE), STUN_INTEGRITY_NONE, NULL));
	th_teardown(&T);
}

static void test_stale_nonce_438(void)
{
	struct th_client c;
	struct stun_builder b;
	size_t len;
	const uint8_t *fresh;

	th_setup(&T, NULL);
	th_client(&c, 1);
	th_login(&T, &c);
	T.now += 3601 * 1000ull; /* nonce lifetime 3600 s */
	th_begin(&T, &c, &b, STUN_METHOD_ALLOCATE);
	stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	th_send_auth(&T, &c, &b);
	CU_ASSERT(th_check(&T, 438, A_(ERR, REALM, NONCE), STUN_INTEGRITY_NONE, NULL));
	fresh = stun_msg__attr(&T.m, NONCE, &len);
	CU_ASSERT_FATAL(fresh != NULL);
	CU_ASSERT(len != c.nonce_len || memcmp(fresh, c.nonce, len) != 0);
	/* the fresh one works */
	memcpy(c.nonce, fresh, len);
	c.nonce_len = len;
	th_allocate(&T, &c, NULL);
	th_teardown(&T);
}

/* ---- Allocate ---- */

static void test_allocate_success(void)
{
	struct th_client c;
	struct xt_addr relayed, mapped;
	const struct turn_action *x;

	th_setup(&T, NULL);
	th_client(&c, 1);
	th_allocate(&T, &c, &relayed);
	CU_ASSERT(th_check(&T, 0, A_(RELAYED, LIFETIME, MAPPED, MI), STUN_INTEGRITY_SHA1, &c.key));
	CU_ASSERT_EQUAL(lifetime_of(), 600);
	CU_ASSERT_EQUAL(relayed.family, XT_AF_INET);
	CU_ASSERT(!memcmp(relayed.ip, (uint8_t[]){ 198, 18, 0, 10 }, 4));
	CU_ASSERT(xt_addr_port(&relayed) >= 49152);
	CU_ASSERT_EQUAL(stun_msg__xor_addr(&T.m, MAPPED, 0, &mapped), 0);
	CU_ASSERT_TRUE(xt_addr_equal(&mapped, &c.addr));
	/* the port map learns of the port before the client does */
	CU_ASSERT_FATAL(th_actions_are(&T, ACTS(CREATED, SEND)));
	x = &T.out.v[0];
	CU_ASSERT_TRUE(xt_addr_equal(&x->alloc.relay, &relayed));
	CU_ASSERT(x->alloc_id != 0);
	/* the allocation expires at 600 s */
	CU_ASSERT_EQUAL(T.out.wake_at, TH_T0 + 600000);
	th_teardown(&T);
}

static void test_allocate_fingerprint_and_software(void)
{
	struct th_client c;

	th_setup(&T, with_software);
	th_client(&c, 1);
	c.fingerprint = true;
	th_allocate(&T, &c, NULL);
	CU_ASSERT(th_check(&T, 0, A_(RELAYED, LIFETIME, MAPPED, STUN_ATTR_SOFTWARE, MI, FP),
			   STUN_INTEGRITY_SHA1, &c.key));
	th_teardown(&T);
}

static void test_allocate_sha256_integrity(void)
{
	struct th_client c;

	th_setup(&T, NULL);
	th_client(&c, 1);
	c.kind = STUN_INTEGRITY_SHA256;
	th_allocate(&T, &c, NULL);
	/* answered in kind: MESSAGE-INTEGRITY-SHA256 */
	CU_ASSERT(
	    th_check(&T, 0, A_(RELAYED, LIFETIME, MAPPED, MI256), STUN_INTEGRITY_SHA256, &c.key));
	th_teardown(&T);
}

static void test_allocate_retransmission(void)
{
	struct th_client c;
	uint8_t first[512];
	size_t first_len;

	th_setup(&T, NULL);
	th_client(&c, 1);
	th_allocate(&T, &c, NULL);
	first_len = T.resp_len;
	memcpy(first, T.resp, first_len);
	T.now += 1500; /* the client's retransmission timer */
	th_input_client(&T, &c, T.req, T.req_len);
	/* same answer, byte for byte; no second allocation */
	th_actions_are(&T, ACTS(SEND));
	CU_ASSERT_EQUAL(T.resp_len, first_len);
	CU_ASSERT(memcmp(T.resp, first, first_len) == 0);
	th_teardown(&T);
}

static void test_allocate_mismatch_437(void)
{
	struct th_client c;

	th_setup(&T, NULL);
	th_client(&c, 1);
	th_allocate(&T, &c, NULL);
	{
		struct stun_builder b;
		th_begin(&T, &c, &b, STUN_METHOD_ALLOCATE);
		stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
		th_send_auth(&T, &c, &b);
		CU_ASSERT(th_check(&T, 437, A_(ERR, MI), STUN_INTEGRITY_SHA1, &c.key));
		th_actions_are(&T, ACTS(SEND));
	}
	th_teardown(&T);
}

static void test_allocate_5tuple_keyed(void)
{
	struct th_client c, c2;
	struct xt_addr r1, r2;
	struct turn_server_stats st;

	th_setup(&T, NULL);
	th_client(&c, 1);
	th_allocate(&T, &c, &r1);
	/* the same client address on another listen address is another 5-tuple */
	c2 = c;
	th_addr4(&c2.local, "198.18.0.11", TH_LISTEN_PORT);
	c2.nonce_len = 0;
	th_allocate(&T, &c2, &r2);
	CU_ASSERT_FALSE(xt_addr_equal(&r1, &r2));
	turn_server__stats(T.s, &st);
	CU_ASSERT_EQUAL(st.allocations, 2);
	th_teardown(&T);
}

static void send_allocate_with(struct th_client *c, void (*add)(struct stun_builder *b))
{
	struct stun_builder b;

	if (!c->nonce_len)
		th_login(&T, c);
	th_begin(&T, c, &b, STUN_METHOD_ALLOCATE);
	add(&b);
	th_send_auth(&T, c, &b);
}

static void add_tcp(struct stun_builder *b)
{
	stun_builder__add_requested_transport(b, 6);
}

static void add_nothing(struct stun_builder *b)
{
	(void)b;
}

static void test_allocate_transport_442_400(void)
{
	struct th_client c;
	struct turn_server_stats st;

	th_setup(&T, NULL);
	th_client(&c, 1);
	send_allocate_with(&c, add_tcp);
	CU_ASSERT(th_check(&T, 442, A_(ERR, MI), STUN_INTEGRITY_SHA1, &c.key));
	send_allocate_with(&c, add_nothing);
	CU_ASSERT(th_check(&T, 400, A_(ERR, MI), STUN_INTEGRITY_SHA1, &c.key));
	turn_server__stats(T.s, &st);
	CU_ASSERT_EQUAL(st.allocations, 0);
	CU_ASSERT_EQUAL(st.requests[TURN_M_ALLOCATE][TURN_R_442], 1);
	CU_ASSERT_EQUAL(st.requests[TURN_M_ALLOCATE][TURN_R_400], 1);
	th_teardown(&T);
}

static void add_udp_unknown(struct stun_builder *b)
{
	stun_builder__add_requested_transport(b, STUN_TRANSPORT_UDP);
	stun_builder__add_u32(b, 0x0042, 7);
}

static void test_allocate_unknown_attribute_420(void)
{
	struct th_client c;
	uint16_t unk[4];
	size_t n = 0;

	th_setup(&T, NULL);
	th_client(&c, 1);
	send_allocate_with(&c, add_udp_unknown);
	CU_ASSERT(th_check(&T, 420, A_(ERR, STUN_ATTR_UNKNOWN_ATTRIBUTES, MI), STUN_INTEGRITY_SHA1,
			   &c.key));
	CU_ASSERT_EQUAL(stun_msg__unknown_attributes(&T.m, unk, 4, &n), 0);
	CU_ASSERT(n == 1 && unk[0] == 0x0042);
	th_teardown(&T);
}

static void add_udp_dontfrag(struct stun_builder *b)
{
	stun_builder__add_requested_transport(b, STUN_TRANSPORT_UDP);
	stun_builder__add_flag(b, STUN_ATTR_DONT_FRAGMENT);
}

static void test_allocate_dont_fragment(void)
{
	struct th_client c;

	th_setup(&T, NULL);
	th_client(&c, 1);
	send_allocate_with(&c, add_udp_dontfrag);
	CU_ASSERT(th_check(&T, 0, A_(RELAYED, LIFETIME, MAPPED, MI), STUN_INTEGRITY_SHA1, &c.key));
	th_teardown(&T);
}

static uint32_t req_lifetime;
static void add_udp_lifetime(struct stun_builder *b)
{
	stun_builder__add_requested_transport(b, STUN_TRANSPORT_UDP);
	stun_builder__add_lifetime(b, req_lifetime);
}

static void test_allocate_lifetimes(void)
{
	static const uint32_t asked[] = { 0, 10, 599, 601, 1800, 3600, 3601, 100000 };
	static const uint32_t given[] = { 600, 600, 600, 601, 1800, 3600, 3600, 3600 };

	th_setup(&T, NULL);
	for (size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++) {
		struct th_client c;
		th_client(&c, (int)i + 1);
		req_lifetime = asked[i];
		send_allocate_with(&c, add_udp_lifetime);
		CU_ASSERT_EQUAL_FATAL(T.m.cls, STUN_CLASS_SUCCESS);
		CU_ASSERT_EQUAL(lifetime_of(), given[i]);
	}
	th_teardown(&T);
}

static void test_allocate_quota_486(void)
{
	struct th_client c[3], bob;

	th_setup(&T, small);
	for (int i = 0; i < 2; i++) {
		th_client(&c[i], i + 1);
		th_allocate(&T, &c[i], NULL);
	}
	th_client(&c[2], 3);
	send_allocate_with(&c[2], add_udp_dontfrag);
	CU_ASSERT(th_check(&T, 486, A_(ERR, MI), STUN_INTEGRITY_SHA1, &c[2].key));
	/* another user still may */
	th_client(&bob, 4);
	bob.user = "bob";
	CU_ASSERT_FATAL(auth_longterm_key(STUN_PASSWORD_ALG_MD5, "bob", 3, "example.org", 11,
					  "builder", 7, &bob.key) == 0);
	th_allocate(&T, &bob, NULL);
	th_teardown(&T);
}

static void test_allocate_total_508(void)
{
	struct th_client c[4];

	th_setup(&T, small);
	for (int i = 0; i < 3; i++) {
		th_client(&c[i], i + 1);
		c[i].user = i == 2 ? "bob" : "alice";
		if (i == 2)
			auth_longterm_key(STUN_PASSWORD_ALG_MD5, "bob", 3, "example.org", 11,
					  "builder", 7, &c[i].key);
		th_allocate(&T, &c[i], NULL);
	}
	th_client(&c[3], 4);
	c[3].user = "bob";
	auth_longterm_key(STUN_PASSWORD_ALG_MD5, "bob", 3, "example.org", 11, "builder", 7,
			  &c[3].key);
	send_allocate_with(&c[3], add_udp_dontfrag);
	CU_ASSERT(th_check(&T, 508, A_(ERR, MI), STUN_INTEGRITY_SHA1, &c[3].key));
	th_teardown(&T);
}

static void test_allocate_ports_508(void)
{
	struct th_client c[3];
	struct xt_addr r0, r1;
	struct stun_builder b;

	th_setup(&T, two_ports);
	th_client(&c[0], 1);
	th_allocate(&T, &c[0], &r0);
	th_client(&c[1], 2);
	th_allocate(&T, &c[1], &r1);
	CU_ASSERT(xt_addr_port(&r0) != xt_addr_port(&r1));
	CU_ASSERT(xt_addr_port(&r0) >= 50000 && xt_addr_port(&r0) <= 50001);
	th_client(&c[2], 3);
	send_allocate_with(&c[2], add_udp_dontfrag);
	CU_ASSERT(th_check(&T, 508, A_(ERR, MI), STUN_INTEGRITY_SHA1, &c[2].key));
	/* a port comes back when an allocation goes */
	th_begin(&T, &c[0], &b, STUN_METHOD_REFRESH);
	stun_builder__add_lifetime(&b, 0);
	th_send_auth(&T, &c[0], &b);
	th_actions_are(&T, ACTS(SEND, DELETED));
	th_allocate(&T, &c[2], &r1);
	CU_ASSERT(xt_addr_equal(&r0, &r1));
	th_teardown(&T);
}

static uint8_t fam_a, fam_b;
static void add_udp_families(struct stun_builder *b)
{
	stun_builder__add_requested_transport(b, STUN_TRANSPORT_UDP);
	if (fam_a)
		stun_builder__add_address_family(b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, fam_a);
	if (fam_b)
		stun_builder__add_address_family(b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, fam_b);
}

static void test_allocate_family_440(void)
{
	struct th_client c;

	th_setup(&T, v4_only);
	th_client(&c, 1);
	fam_a = STUN_FAMILY_IPV6, fam_b = 0;
	send_allocate_with(&c, add_udp_families);
	CU_ASSERT(th_check(&T, 440, A_(ERR, MI), STUN_INTEGRITY_SHA1, &c.key));
	fam_a = 0x07; /* no such family */
	send_allocate_with(&c, add_udp_families);
	CU_ASSERT(th_check(&T, 440, A_(ERR, MI), STUN_INTEGRITY_SHA1, &c.key));
	th_teardown(&T);

	/* IPv6-only relay, no REQUESTED-ADDRESS-FAMILY: IPv4 is the default and not there */
	th_setup(&T, v6_only);
	th_client(&c, 1);
	fam_a = 0, fam_b = 0;
	send_allocate_with(&c, add_udp_families);
	CU_ASSERT(th_check(&T, 440, A_(ERR, MI), STUN_INTEGRITY_SHA1, &c.key));
	fam_a = STUN_FAMILY_IPV6;
	send_allocate_with(&c, add_udp_families);
	CU_ASSERT(th_check(&T, 0, A_(RELAYED, LIFETIME, MAPPED, MI), STUN_INTEGRITY_SHA1, &c.key));
	th_teardown(&T);
}

static void test_allocate_requested_ipv6(void)
{
	struct th_client c;
	struct xt_addr relayed;

	th_setup(&T, NULL);
	th_client(&c, 1);
	fam_a = STUN_FAMILY_IPV6, fam_b = 0;
	send_allocate_with(&c, add_udp_families);
	CU_ASSERT(th_check(&T, 0, A_(RELAYED, LIFETIME, MAPPED, MI), STUN_INTEGRITY_SHA1, &c.key));
	CU_ASSERT_EQUAL(stun_msg__xor_addr(&T.m, RELAYED, 0, &relayed), 0);
	CU_ASSERT_EQUAL(relayed.family, XT_AF_INET6);
	CU_ASSERT(relayed.ip[0] == 0x20 && relayed.ip[1] == 0x01 && relayed.ip[15] == 0x10);
	th_teardown(&T);
}

static void test_allocate_dual_stack(void)
{
	struct th_client c;
	struct xt_addr r4, r6;
	struct stun_builder b;
	uint8_t fam;
	int code;
	const uint8_t *reason;
	size_t rlen;

	th_setup(&T, NULL);
	th_client(&c, 1);
	fam_a = 0, fam_b = STUN_FAMILY_IPV6;
	send_allocate_with(&c, add_udp_families);
	CU_ASSERT(th_check(&T, 0, A_(RELAYED, RELAYED, LIFETIME, MAPPED, MI), STUN_INTEGRITY_SHA1,
			   &c.key));
	CU_ASSERT_EQUAL(T.m.n_relayed, 2);
	CU_ASSERT_EQUAL(stun_msg__xor_addr(&T.m, RELAYED, 0, &r4), 0);
	CU_ASSERT_EQUAL(stun_msg__xor_addr(&T.m, RELAYED, 1, &r6), 0);
	CU_ASSERT_EQUAL(r4.family, XT_AF_INET);
	CU_ASSERT_EQUAL(r6.family, XT_AF_INET6);
	CU_ASSERT_FATAL(th_actions_are(&T, ACTS(CREATED, CREATED, SEND)));
	CU_ASSERT(xt_addr_equal(&T.out.v[0].alloc.relay, &r4));
	CU_ASSERT(xt_addr_equal(&T.out.v[1].alloc.relay, &r6));
	CU_ASSERT_EQUAL(T.out.v[0].alloc_id, T.out.v[1].alloc_id);

	/* Refresh of one family: RFC 8656 §8; deleting IPv6 leaves IPv4 */
	th_begin(&T, &c, &b, STUN_METHOD_REFRESH);
	stun_builder__add_address_family(&b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
	stun_builder__add_lifetime(&b, 0);
	th_send_auth(&T, &c, &b);
	CU_ASSERT(th_check(&T, 0, A_(LIFETIME, MI), STUN_INTEGRITY_SHA1, &c.key));
	CU_ASSERT_FATAL(th_actions_are(&T, ACTS(SEND, DELETED)));
	CU_ASSERT(xt_addr_equal(&T.out.v[1].alloc.relay, &r6));
	/* now IPv6 is gone: refreshing it is 443 */
	th_begin(&T, &c, &b, STUN_METHOD_REFRESH);
	stun_builder__add_address_family(&b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
	th_send_auth(&T, &c, &b);
	CU_ASSERT(th_check(&T, 443, A_(ERR, MI), STUN_INTEGRITY_SHA1, &c.key));
	/* IPv4 is still there */
	th_begin(&T, &c, &b, STUN_METHOD_REFRESH);
	stun_builder__add_address_family(&b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, STUN_FAMILY_IPV4);
	th_send_auth(&T, &c, &b);
	CU_ASSERT(th_check(&T, 0, A_(LIFETIME, MI), STUN_INTEGRITY_SHA1, &c.key));
	th_teardown(&T);

	/* IPv4-only relay asked for both: IPv4 and ADDRESS-ERROR-CODE 440 for IPv6 */
	th_setup(&T, v4_only);
	th_client(&c, 1);
	send_allocate_with(&c, add_udp_families);
	CU_ASSERT(th_check(&T, 0, A_(RELAYED, LIFETIME, STUN_ATTR_ADDRESS_ERROR_CODE, MAPPED, MI),
			   STUN_INTEGRITY_SHA1, &c.key));
	CU_ASSERT_EQUAL(stun_msg__address_error_code(&T.m, &fam, &code, &reason, &rlen), 0);
	CU_ASSERT_EQUAL(fam, STUN_FAMILY_IPV6);
	CU_ASSERT_EQUAL(code, 440);
	th_actions_are(&T, ACTS(CREATED, SEND));
	th_teardown(&T);
}

static void test_allocate_family_400s(void)
{
	struct th_client c;

	th_setup(&T, NULL);
	th_client(&c, 1);
	/* ADDITIONAL-ADDRESS-FAMILY IPv4 */
	fam_a = 0, fam_b = STUN_FAMILY_IPV4;
	send_allocate_with(&c, add_udp_families);
	CU_ASSERT(th_check(&T, 400, A_(ERR, MI), STUN_INTEGRITY_SHA1, &c.key));
	/* both REQUESTED- and ADDITIONAL-ADDRESS-FAMILY */
	fam_a = STUN_FAMILY_IPV4, fam_b = STUN_FAMILY_IPV6;
	send_allocate_with(&c, add_udp_families);
	CU_ASSERT(th_check(&T, 400, A_(ERR, MI), STUN_INTEGRITY_SHA1, &c.key));
	th_teardown(&T);
}

static bool even_r;
static void add_udp_even(struct stun_builder *b)
{
	stun_builder__add_requested_transport(b, STUN_TRANSPORT_UDP);
	stun_builder__add_even_port(b, even_r);
}

static uint8_t tok[8];
static void add_udp_token(struct stun_builder *b)
{
	stun_builder__add_requested_transport(b, STUN_TRANSPORT_UDP);
	stun_builder__add_reservation_token(b, tok);
}

static void add_udp_token_even(struct stun_builder *b)
{
	add_udp_token(b);
	stun_builder__add_even_port(b, false);
}

static void test_allocate_even_port(void)
{
	struct th_client c[4];
	struct xt_addr r0, r1;
	size_t len;
	const uint8_t *t;

	th_setup(&T, NULL);
	for (int i = 0; i < 5; i++) { /* even without R: several times, each even */
		struct th_client x;
		th_client(&x, 10 + i);
		even_r = false;
		send_allocate_with(&x, add_udp_even);
		CU_ASSERT(th_check(&T, 0, A_(RELAYED, LIFETIME, MAPPED, MI), STUN_INTEGRITY_SHA1,
				   &x.key));
		stun_msg__xor_addr(&T.m, RELAYED, 0, &r0);
		CU_ASSERT_EQUAL(xt_addr_port(&r0) % 2, 0);
	}
	/* R bit: a RESERVATION-TOKEN for port + 1 */
	th_client(&c[0], 1);
	even_r = true;
	send_allocate_with(&c[0], add_udp_even);
	CU_ASSERT(th_check(&T, 0, A_(RELAYED, LIFETIME, STUN_ATTR_RESERVATION_TOKEN, MAPPED, MI),
			   STUN_INTEGRITY_SHA1, &c[0].key));
	stun_msg__xor_addr(&T.m, RELAYED, 0, &r0);
	CU_ASSERT_EQUAL(xt_addr_port(&r0) % 2, 0);
	t = stun_msg__attr(&T.m, STUN_ATTR_RESERVATION_TOKEN, &len);
	CU_ASSERT_FATAL(t && len == 8);
	memcpy(tok, t, 8);
	/* the token with EVEN-PORT: 400 */
	th_client(&c[1], 2);
	send_allocate_with(&c[1], add_udp_token_even);
	CU_ASSERT(th_check(&T, 400, A_(ERR, MI), STUN_INTEGRITY_SHA1, &c[1].key));
	/* the token gets port + 1 */
	send_allocate_with(&c[1], add_udp_token);
	CU_ASSERT(
	    th_check(&T, 0, A_(RELAYED, LIFETIME, MAPPED, MI), STUN_INTEGRITY_SHA1, &c[1].key));
	stun_msg__xor_addr(&T.m, RELAYED, 0, &r1);
	CU_ASSERT_EQUAL(xt_addr_port(&r1), xt_addr_port(&r0) + 1);
	th_actions_are(&T, ACTS(CREATED, SEND));
	/* used once: a second use is 508 */
	th_client(&c[2], 3);
	send_allocate_with(&c[2], add_udp_token);
	CU_ASSERT(th_check(&T, 508, A_(ERR, MI), STUN_INTEGRITY_SHA1, &c[2].key));

	/* a reservation lasts 30 s */
	th_client(&c[3], 4);
	send_allocate_with(&c[3], add_udp_even);
	t = stun_msg__attr(&T.m, STUN_ATTR_RESERVATION_TOKEN, &len);
	CU_ASSERT_FATAL(t && len == 8);
	memcpy(tok, t, 8);
	th_tick(&T, T.now + 30000);
	th_client(&c[2], 5);
	send_allocate_with(&c[2], add_udp_token);
	CU_ASSERT(th_check(&T, 508, A_(ERR, MI), STUN_INTEGRITY_SHA1, &c[2].key));
	th_teardown(&T);
}

/* ---- Refresh ---- */

static void test_refresh(void)
{
	struct th_client c;
	struct stun_builder b;

	th_setup(&T, NULL);
	th_client(&c, 1);
	th_allocate(&T, &c, NULL);
	T.now += 100000;
	th_begin(&T, &c, &b, STUN_METHOD_REFRESH);
	stun_builder__add_lifetime(&b, 1200);
	th_send_auth(&T, &c, &b);
	CU_ASSERT(th_check(&T, 0, A_(LIFETIME, MI), STUN_INTEGRITY_SHA1, &c.key));
	CU_ASSERT_EQUAL(lifetime_of(), 1200);
	th_actions_are(&T, ACTS(SEND));
	CU_ASSERT_EQUAL(T.out.wake_at, T.now + 1200000);
	/* not before its time */
	th_tick(&T, T.now + 1199999);
	CU_ASSERT_EQUAL(T.out.n, 0);
	th_tick(&T, T.now + 1);
	th_actions_are(&T, ACTS(DELETED));
	CU_ASSERT_EQUAL(T.out.wake_at, UINT64_MAX);
	/* gone: 437 */
	th_begin(&T, &c, &b, STUN_METHOD_REFRESH);
	th_send_auth(&T, &c, &b);
	CU_ASSERT(th_check(&T, 437, A_(ERR, MI), STUN_INTEGRITY_SHA1, &c.key));
	th_teardown(&T);
}

static void test_refresh_zero_deletes(void)
{
	struct th_client c;
	struct stun_builder b;
	struct xt_addr relayed;
	struct turn_server_stats st;
	uint32_t id;

	th_setup(&T, NULL);
	th_client(&c, 1);
	th_allocate(&T, &c, &relayed);
	id = T.out.v[0].alloc_id;
	th_begin(&T, &c, &b, STUN_METHOD_REFRESH);
	stun_builder__add_lifetime(&b, 0);
	th_send_auth(&T, &c, &b);
	CU_ASSERT(th_check(&T, 0, A_(LIFETIME, MI), STUN_INTEGRITY_SHA1, &c.key));
	CU_ASSERT_EQUAL(lifetime_of(), 0);
	CU_ASSERT_FATAL(th_actions_are(&T, ACTS(SEND, DELETED)));
	CU_ASSERT(xt_addr_equal(&T.out.v[1].alloc.relay, &relayed));
	CU_ASSERT_EQUAL(T.out.v[1].alloc_id, id);
	turn_server__stats(T.s, &st);
	CU_ASSERT_EQUAL(st.allocations, 0);
	/* the 5-tuple is free again */
	th_allocate(&T, &c, NULL);
	th_teardown(&T);
}

static void test_wrong_user_441(void)
{
	struct th_client c, bob;
	struct stun_builder b;

	th_setup(&T, NULL);
	th_client(&c, 1);
	th_allocate(&T, &c, NULL);
	bob = c;
	bob.user = "bob";
	auth_longterm_key(STUN_PASSWORD_ALG_MD5, "bob", 3, "example.org", 11, "builder", 7,
			  &bob.key);
	th_begin(&T, &bob, &b, STUN_METHOD_REFRESH);
	th_send_auth(&T, &bob, &b);
	CU_ASSERT(th_check(&T, 441, A_(ERR, MI), STUN_INTEGRITY_SHA1, &bob.key));
	th_begin(&T, &bob, &b, STUN_METHOD_ALLOCATE);
	stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	th_send_auth(&T, &bob, &b);
	CU_ASSERT(th_check(&T, 441, A_(ERR, MI), STUN_INTEGRITY_SHA1, &bob.key));
	th_teardown(&T);
}

static void test_advertised_address(void)
{
	struct th_client c;
	struct xt_addr relayed;

	th_setup(&T, nat);
	th_client(&c, 1);
	th_allocate(&T, &c, &relayed);
	/* XOR-RELAYED-ADDRESS carries the 1:1 NAT address; the kernel map the real one */
	CU_ASSERT(!memcmp(relayed.ip, (uint8_t[]){ 203, 0, 113, 7 }, 4));
	CU_ASSERT(!memcmp(T.out.v[0].alloc.relay.ip, (uint8_t[]){ 198, 18, 0, 10 }, 4));
	CU_ASSERT_EQUAL(xt_addr_port(&T.out.v[0].alloc.relay), xt_addr_port(&relayed));
	th_teardown(&T);
}

static void test_unknown_method_and_garbage(void)
{
	struct th_client c;
	struct stun_builder b;
	uint8_t junk[200];
	uint64_t st = 99;
	struct turn_server_stats s;

	th_setup(&T, NULL);
	th_client(&c, 1);
	th_begin(&T, &c, &b, 0x0FF);
	th_send_plain(&T, &c, &b);
	CU_ASSERT(th_check(&T, 400, A_(ERR), STUN_INTEGRITY_NONE, NULL));
	/* responses and unknown indications from clients are dropped */
	stun_builder__begin(&b, T.req, sizeof(T.req),
			    stun_type(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS), c.txid);
	th_send_plain(&T, &c, &b);
	CU_ASSERT_EQUAL(T.out.n, 0);
	/* a bad FINGERPRINT is not STUN */
	th_begin(&T, &c, &b, STUN_METHOD_BINDING);
	stun_builder__add_fingerprint(&b);
	T.req_len = (size_t)stun_builder__finish(&b);
	T.req[T.req_len - 1] ^= 1;
	th_input_client(&T, &c, T.req, T.req_len);
	CU_ASSERT_EQUAL(T.out.n, 0);
	/* random bytes, and truncations of a valid request, never crash or answer */
	for (int i = 0; i < 2000; i++) {
		size_t len;
		th_random(&st, junk, sizeof(junk));
		th_random(&st, (uint8_t *)&len, sizeof(len));
		len %= sizeof(junk);
		if (i & 1)
			junk[0] &= 0x3F; /* looks like STUN */
		if (i % 3 == 0) {
			junk[0] = 0x40 | (junk[0] & 0x0F); /* looks like ChannelData */
		}
		th_input_client(&T, &c, junk, len);
		CU_ASSERT_EQUAL(T.rc, 0);
		CU_ASSERT_EQUAL(T.out.n, 0);
	}
	th_begin(&T, &c, &b, STUN_METHOD_ALLOCATE);
	stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	T.req_len = (size_t)stun_builder__finish(&b);
	for (size_t len = 0; len < T.req_len; len++) {
		th_input_client(&T, &c, T.req, len);
		CU_ASSERT_EQUAL(T.out.n, 0);
	}
	turn_server__stats(T.s, &s);
	CU_ASSERT(s.drops[TURN_DROP_MALFORMED] > 1000);
	CU_ASSERT_EQUAL(s.allocations, 0);
	th_teardown(&T);
}

static void test_reconfigure(void)
{
	struct th_client c;
	struct turn_server_config cfg;
	struct turn_server_stats st;

	th_setup(&T, NULL);
	th_client(&c, 1);
	th_allocate(&T, &c, NULL);
	cfg = T.cfg;
	cfg.software = "xturn-2";
	CU_ASSERT_EQUAL(turn_server__reconfigure(T.s, &cfg), 0);
	turn_server__stats(T.s, &st);
	CU_ASSERT_EQUAL(st.allocations, 1); /* kept */
	{
		struct stun_builder b;
		th_begin(&T, &c, &b, STUN_METHOD_REFRESH);
		th_send_auth(&T, &c, &b); /* the nonce made before still works */
		CU_ASSERT(th_check(&T, 0, A_(LIFETIME, STUN_ATTR_SOFTWARE, MI), STUN_INTEGRITY_SHA1,
				   &c.key));
	}
	cfg.relay_port_min = 40000; /* cannot change without dropping allocations */
	CU_ASSERT_EQUAL(turn_server__reconfigure(T.s, &cfg), -EINVAL);
	cfg = T.cfg;
	th_addr4(&cfg.relays[0].addr, "198.18.0.99", 0);
	CU_ASSERT_EQUAL(turn_server__reconfigure(T.s, &cfg), -EINVAL);
	th_teardown(&T);
}

static void test_new_rejects_bad_config(void)
{
	struct turn_server_config cfg;
	struct auth_store *a = auth_store__new("example.org");
	uint64_t st = 1;

	memset(&cfg, 0, sizeof(cfg));
	cfg.auth = a;
	CU_ASSERT_PTR_NULL(turn_server__new(&cfg, th_random, &st)); /* no relay address */
	th_addr4(&cfg.relays[0].addr, "198.18.0.10", 0);
	cfg.n_relays = 1;
	cfg.relay_port_min = 2000;
	cfg.relay_port_max = 1000;
	CU_ASSERT_PTR_NULL(turn_server__new(&cfg, th_random, &st));
	cfg.relay_port_max = 3000;
	cfg.auth = NULL;
	CU_ASSERT_PTR_NULL(turn_server__new(&cfg, th_random, &st));
	cfg.auth = a;
	cfg.default_lifetime = 900;
	cfg.max_lifetime = 600;
	CU_ASSERT_PTR_NULL(turn_server__new(&cfg, th_random, &st));
	auth_store__free(a);
}

int test_turn_server_register(void)
{
	CU_pSuite s = CU_add_suite("turn_server", NULL, NULL);

	if (!s)
		return -1;
	return !CU_add_test(s, "Binding: XOR-MAPPED-ADDRESS, FINGERPRINT in kind", test_binding) ||
	       !CU_add_test(s, "Binding: 420 UNKNOWN-ATTRIBUTES",
			    test_binding_unknown_attribute_420) ||
	       !CU_add_test(s, "401 challenge, no state", test_challenge_401) ||
	       !CU_add_test(s, "401 with PASSWORD-ALGORITHMS",
			    test_challenge_password_algorithms) ||
	       !CU_add_test(s, "400 integrity without USERNAME", test_missing_username_400) ||
	       !CU_add_test(s, "401 wrong password", test_wrong_password_401) ||
	       !CU_add_test(s, "438 stale nonce, fresh NONCE", test_stale_nonce_438) ||
	       !CU_add_test(s, "Allocate success", test_allocate_success) ||
	       !CU_add_test(s, "Allocate FINGERPRINT and SOFTWARE",
			    test_allocate_fingerprint_and_software) ||
	       !CU_add_test(s, "Allocate MI-SHA256 answered in kind",
			    test_allocate_sha256_integrity) ||
	       !CU_add_test(s, "Allocate retransmission: same answer",
			    test_allocate_retransmission) ||
	       !CU_add_test(s, "437 allocation mismatch", test_allocate_mismatch_437) ||
	       !CU_add_test(s, "allocations keyed by 5-tuple", test_allocate_5tuple_keyed) ||
	       !CU_add_test(s, "442 / 400 REQUESTED-TRANSPORT", test_allocate_transport_442_400) ||
	       !CU_add_test(s, "420 in an authenticated request",
			    test_allocate_unknown_attribute_420) ||
	       !CU_add_test(s, "DONT-FRAGMENT accepted", test_allocate_dont_fragment) ||
	       !CU_add_test(s, "lifetimes: floor and maximum", test_allocate_lifetimes) ||
	       !CU_add_test(s, "486 per-user quota", test_allocate_quota_486) ||
	       !CU_add_test(s, "508 total allocations", test_allocate_total_508) ||
	       !CU_add_test(s, "508 no relay port", test_allocate_ports_508) ||
	       !CU_add_test(s, "440 address family", test_allocate_family_440) ||
	       !CU_add_test(s, "REQUESTED-ADDRESS-FAMILY IPv6", test_allocate_requested_ipv6) ||
	       !CU_add_test(s, "dual-stack, family refresh, 443", test_allocate_dual_stack) ||
	       !CU_add_test(s, "400 address family combinations", test_allocate_family_400s) ||
	       !CU_add_test(s, "EVEN-PORT, R bit, RESERVATION-TOKEN", test_allocate_even_port) ||
	       !CU_add_test(s, "Refresh and expiry", test_refresh) ||
	       !CU_add_test(s, "Refresh LIFETIME 0 deletes", test_refresh_zero_deletes) ||
	       !CU_add_test(s, "441 another user's allocation", test_wrong_user_441) ||
	       !CU_add_test(s, "advertised (1:1 NAT) relayed address", test_advertised_address) ||
	       !CU_add_test(s, "unknown method, responses, garbage",
			    test_unknown_method_and_garbage) ||
	       !CU_add_test(s, "reconfigure keeps allocations", test_reconfigure) ||
	       !CU_add_test(s, "bad configurations refused", test_new_rejects_bad_config);
}
