/* turn/server scenarios, part 2: CreatePermission (all or nothing, 403, 443), ChannelBind (rules,
 * 400s, cool-down, CHANNEL_BOUND before the answer), relaying both ways (Send/Data indications,
 * ChannelData, padding), hairpin between two allocations, the relay host refused, expiry of
 * permissions, channels and allocations with the exact action sequences and wake-up times, and
 * output back-pressure. */
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
#define ERR	  STUN_ATTR_ERROR_CODE
#define MI	  STUN_ATTR_MESSAGE_INTEGRITY
#define PEER	  STUN_ATTR_XOR_PEER_ADDRESS
#define DATA	  STUN_ATTR_DATA

static struct th_client C;
static struct xt_addr RELAYED, REAL_RELAY, P1, P2, P6;

/* Client 1 with an IPv4 allocation; peers 198.51.100.1:4000, 198.51.100.2:5000, [2001:db8:9::1]. */
static void setup_alloc(th_tweak_fn tweak)
{
	th_setup(&T, tweak);
	th_client(&C, 1);
	th_allocate(&T, &C, &RELAYED);
	REAL_RELAY = T.out.v[0].alloc.relay;
	th_addr4(&P1, "198.51.100.1", 4000);
	th_addr4(&P2, "198.51.100.2", 5000);
	th_addr6(&P6, "2001:db8:9::1", 6000);
}

static void send_indication(struct th_client *c, const struct xt_addr *peer, const void *data,
			    size_t len)
{
	struct stun_builder b;
	uint8_t txid[12] = { 1, 2, 3 };

	stun_builder__begin(&b, T.req, sizeof(T.req),
			    stun_type(STUN_METHOD_SEND, STUN_CLASS_INDICATION), txid);
	stun_builder__add_xor_addr(&b, PEER, peer);
	stun_builder__add_data(&b, data, len);
	T.req_len = (size_t)stun_builder__finish(&b);
	th_input_client(&T, c, T.req, T.req_len);
}

static void perm_req(struct th_client *c, const struct xt_addr *peers, int n)
{
	struct stun_builder b;

	th_begin(&T, c, &b, STUN_METHOD_CREATE_PERMISSION);
	for (int i = 0; i < n; i++)
		stun_builder__add_xor_addr(&b, PEER, &peers[i]);
	th_send_auth(&T, c, &b);
}

static void bind_req(struct th_client *c, uint16_t ch, const struct xt_addr *peer)
{
	struct stun_builder b;

	th_begin(&T, c, &b, STUN_METHOD_CHANNEL_BIND);
	stun_builder__add_channel_number(&b, ch);
	stun_builder__add_xor_addr(&b, PEER, peer);
	th_send_auth(&T, c, &b);
}

/* The single SEND of the last call: from, to and exact bytes (prefix + payload). */
static bool sent(const struct xt_addr *from, const struct xt_addr *to, const uint8_t *bytes,
		 size_t len)
{
	const struct turn_action *x;
	uint8_t buf[2048];

	CU_ASSERT_FATAL(T.out.n == 1);
	x = &T.out.v[0];
	CU_ASSERT_FATAL(x->type == SEND);
	CU_ASSERT_FATAL(x->prefix_len + x->send.len <= sizeof(buf));
	memcpy(buf, x->prefix, x->prefix_len);
	memcpy(buf + x->prefix_len, x->send.payload, x->send.len);
	CU_ASSERT(xt_addr_equal(&x->send.from, from));
	CU_ASSERT(xt_addr_equal(&x->send.to, to));
	CU_ASSERT_EQUAL(x->prefix_len + x->send.len, len);
	CU_ASSERT(memcmp(buf, bytes, len) == 0);
	return xt_addr_equal(&x->send.from, from) && xt_addr_equal(&x->send.to, to) &&
	       x->prefix_len + x->send.len == len && memcmp(buf, bytes, len) == 0;
}

static uint64_t drops(enum turn_drop_reason r)
{
	struct turn_server_stats st;
	turn_server__stats(T.s, &st);
	return st.drops[r];
}

/* ---- permissions ---- */

static void test_permission_send_and_data(void)
{
	static const uint8_t hello[] = "hello peer";
	uint8_t want[128];
	struct stun_builder b;
	struct stun_msg m;
	struct xt_addr got;
	const uint8_t *d;
	size_t len;

	setup_alloc(NULL);
	/* before any permission: both directions dropped */
	send_indication(&C, &P1, hello, sizeof(hello));
	CU_ASSERT_EQUAL(T.out.n, 0);
	CU_ASSERT_EQUAL(drops(TURN_DROP_NO_PERMISSION), 1);
	th_input_peer(&T, &REAL_RELAY, &P1, hello, sizeof(hello));
	CU_ASSERT_EQUAL(T.out.n, 0);
	CU_ASSERT_EQUAL(drops(TURN_DROP_NO_PERMISSION), 2);

	perm_req(&C, &P1, 1);
	CU_ASSERT(th_check(&T, 0, A_(MI), STUN_INTEGRITY_SHA1, &C.key));
	th_actions_are(&T, ACTS(SEND)); /* a permission alone touches no kernel map */

	/* Send indication: DATA to the peer from the relayed address (the real one, not NATed) */
	send_indication(&C, &P1, hello, sizeof(hello));
	CU_ASSERT(sent(&REAL_RELAY, &P1, hello, sizeof(hello)));
	/* the payload points into the request: no copy */
	CU_ASSERT(T.out.v[0].send.payload >= T.req && T.out.v[0].send.payload < T.req + T.req_len);

	/* permissions are per IP: another port of the same peer IP passes */
	{
		struct xt_addr p1b = P1;
		xt_addr_set_port(&p1b, 4444);
		th_input_peer(&T, &REAL_RELAY, &p1b, hello, 5);
		CU_ASSERT_FATAL(T.out.n == 1);
	}
	/* peer -> client: Data indication with XOR-PEER-ADDRESS and DATA, nothing else */
	th_input_peer(&T, &REAL_RELAY, &P1, hello, sizeof(hello));
	CU_ASSERT_FATAL(T.out.n == 1 && T.out.v[0].type == SEND);
	CU_ASSERT(xt_addr_equal(&T.out.v[0].send.from, &C.local));
	CU_ASSERT(xt_addr_equal(&T.out.v[0].send.to, &C.addr));
	CU_ASSERT_EQUAL_FATAL(stun_parse(T.out.v[0].send.payload, T.out.v[0].send.len, &m), 0);
	CU_ASSERT_EQUAL(m.cls, STUN_CLASS_INDICATION);
	CU_ASSERT_EQUAL(m.method, STUN_METHOD_DATA);
	{
		uint16_t types[8];
		size_t n = th_attr_types(T.out.v[0].send.payload, T.out.v[0].send.len, types, 8);
		CU_ASSERT(n == 2 && types[0] == PEER && types[1] == DATA);
	}
	CU_ASSERT_EQUAL(stun_msg__xor_addr(&m, PEER, 0, &got), 0);
	CU_ASSERT(xt_addr_equal(&got, &P1));
	d = stun_msg__attr(&m, DATA, &len);
	CU_ASSERT(len == sizeof(hello) && !memcmp(d, hello, len));
	/* rebuild the expected message byte for byte with the same txid */
	stun_builder__begin(&b, want, sizeof(want),
			    stun_type(STUN_METHOD_DATA, STUN_CLASS_INDICATION), m.txid);
	stun_builder__add_xor_addr(&b, PEER, &P1);
	stun_builder__add_data(&b, hello, sizeof(hello));
	CU_ASSERT(sent(&C.local, &C.addr, want, (size_t)stun_builder__finish(&b)));
	/* another peer IP: dropped */
	th_input_peer(&T, &REAL_RELAY, &P2, hello, sizeof(hello));
	CU_ASSERT_EQUAL(T.out.n, 0);
	/* a relay port nobody owns: dropped */
	{
		struct xt_addr other = REAL_RELAY;
		xt_addr_set_port(&other, xt_addr_port(&REAL_RELAY) ^ 1);
		th_input_peer(&T, &other, &P1, hello, sizeof(hello));
		CU_ASSERT_EQUAL(T.out.n, 0);
		CU_ASSERT_EQUAL(drops(TURN_DROP_NO_ALLOCATION), 1);
	}
	th_teardown(&T);
}

static void test_permission_all_or_nothing_403(void)
{
	struct xt_addr peers[3];
	static const uint8_t x[] = "x";

	setup_alloc(NULL);
	peers[0] = P1;
	peers[1] = P2;
	th_addr4(&peers[2], "10.1.2.3", 80); /* RFC 1918: denied */
	perm_req(&C, peers, 3);
	CU_ASSERT(th_check(&T, 403, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	/* none installed */
	th_input_peer(&T, &REAL_RELAY, &P1, x, 1);
	CU_ASSERT_EQUAL(T.out.n, 0);
	/* the two good ones together */
	perm_req(&C, peers, 2);
	CU_ASSERT(th_check(&T, 0, A_(MI), STUN_INTEGRITY_SHA1, &C.key));
	th_input_peer(&T, &REAL_RELAY, &P1, x, 1);
	CU_ASSERT_EQUAL(T.out.n, 1);
	th_input_peer(&T, &REAL_RELAY, &P2, x, 1);
	CU_ASSERT_EQUAL(T.out.n, 1);
	/* an IPv6 peer on an IPv4-only allocation: the family is checked first (443) */
	th_addr6(&peers[0], "::ffff:127.0.0.1", 80);
	perm_req(&C, peers, 1);
	CU_ASSERT(th_check(&T, 443, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	/* no XOR-PEER-ADDRESS: 400 */
	perm_req(&C, peers, 0);
	CU_ASSERT(th_check(&T, 400, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	th_teardown(&T);
}

static void test_permission_canonical_forms_403(void)
{
	struct stun_builder b;
	struct xt_addr p;
	static const char *const denied[] = {
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::10.0.0.1", "64:ff9b::a9fe:a9fe",
		"fe80::1",	    "fd00::1",	       "::1",	     "2002:a00:1::1",
		"2001:0:a00:1::1"
	};

	th_setup(&T, NULL);
	th_client(&C, 1);
	th_login(&T, &C);
	th_begin(&T, &C, &b, STUN_METHOD_ALLOCATE); /* dual-stack */
	stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	stun_builder__add_address_family(&b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
	th_send_auth(&T, &C, &b);
	CU_ASSERT_FATAL(T.m.cls == STUN_CLASS_SUCCESS && T.m.n_relayed == 2);
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		th_addr6(&p, denied[i], 80);
		perm_req(&C, &p, 1);
		if (!th_check(&T, 403, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key))
			CU_FAIL(denied[i]);
	}
	th_addr6(&p, "::ffff:198.51.100.1", 80);
	perm_req(&C, &p, 1);
	CU_ASSERT(th_check(&T, 0, A_(MI), STUN_INTEGRITY_SHA1, &C.key));
	th_addr6(&p, "2001:db8:5::5", 80);
	perm_req(&C, &p, 1);
	CU_ASSERT(th_check(&T, 0, A_(MI), STUN_INTEGRITY_SHA1, &C.key));
	th_teardown(&T);
}

static void allow_10(struct turn_server_config *cfg)
{
	static struct turn_cidr allow;
	allow = (struct turn_cidr){ XT_AF_INET, 8, { 10 } };
	cfg->allow = &allow;
	cfg->n_allow = 1;
}

static void test_permission_allow_list(void)
{
	struct xt_addr p;

	setup_alloc(allow_10);
	th_addr4(&p, "10.9.9.9", 80);
	perm_req(&C, &p, 1);
	CU_ASSERT(th_check(&T, 0, A_(MI), STUN_INTEGRITY_SHA1, &C.key));
	th_addr4(&p, "192.168.0.1", 80);
	perm_req(&C, &p, 1);
	CU_ASSERT(th_check(&T, 403, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	th_teardown(&T);
}

static void test_permission_family_443(void)
{
	static const uint8_t x[] = "x";
	struct turn_server_stats st;

	setup_alloc(NULL);
	perm_req(&C, &P6, 1); /* IPv6 peer, IPv4-only allocation */
	CU_ASSERT(th_check(&T, 443, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	bind_req(&C, 0x4000, &P6);
	CU_ASSERT(th_check(&T, 443, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	send_indication(&C, &P6, x, 1); /* indications are dropped silently */
	CU_ASSERT_EQUAL(T.out.n, 0);
	CU_ASSERT_EQUAL(drops(TURN_DROP_FAMILY), 1);
	turn_server__stats(T.s, &st);
	CU_ASSERT_EQUAL(st.requests[TURN_M_CREATE_PERMISSION][TURN_R_443], 1);
	CU_ASSERT_EQUAL(st.requests[TURN_M_CHANNEL_BIND][TURN_R_443], 1);
	th_teardown(&T);
}

static void test_permission_needs_allocation_437(void)
{
	struct th_client c2;

	th_setup(&T, NULL);
	th_client(&c2, 2);
	th_login(&T, &c2);
	th_addr4(&P1, "198.51.100.1", 4000);
	perm_req(&c2, &P1, 1);
	CU_ASSERT(th_check(&T, 437, A_(ERR, MI), STUN_INTEGRITY_SHA1, &c2.key));
	bind_req(&c2, 0x4000, &P1);
	CU_ASSERT(th_check(&T, 437, A_(ERR, MI), STUN_INTEGRITY_SHA1, &c2.key));
	th_teardown(&T);
}

static void test_permission_expiry(void)
{
	static const uint8_t x[] = "x";

	setup_alloc(NULL);
	th_permit(&T, &C, &P1);
	CU_ASSERT_EQUAL(T.out.wake_at, T.now + 300000);
	th_tick(&T, T.now + 299999);
	th_input_peer(&T, &REAL_RELAY, &P1, x, 1);
	CU_ASSERT_EQUAL(T.out.n, 1); /* still there */
	th_tick(&T, T.now + 1);
	CU_ASSERT_EQUAL(T.out.n, 0); /* no kernel state to clean */
	th_input_peer(&T, &REAL_RELAY, &P1, x, 1);
	CU_ASSERT_EQUAL(T.out.n, 0);
	/* the allocation's expiry is next */
	CU_ASSERT_EQUAL(T.out.wake_at, TH_T0 + 600000);
	th_teardown(&T);
}

/* ---- channels ---- */

static void test_channel_bind(void)
{
	const struct turn_action *x;

	setup_alloc(NULL);
	bind_req(&C, 0x4001, &P1);
	CU_ASSERT(th_check(&T, 0, A_(MI), STUN_INTEGRITY_SHA1, &C.key));
	/* the kernel maps are filled before the client learns the channel */
	CU_ASSERT_FATAL(th_actions_are(&T, ACTS(BOUND, SEND)));
	x = &T.out.v[0];
	CU_ASSERT_EQUAL(x->channel, 0x4001);
	CU_ASSERT(xt_addr_equal(&x->chan.client, &C.addr));
	CU_ASSERT(xt_addr_equal(&x->chan.listen, &C.local));
	CU_ASSERT(xt_addr_equal(&x->chan.peer, &P1));
	CU_ASSERT(xt_addr_equal(&x->chan.relay, &REAL_RELAY));
	CU_ASSERT(x->alloc_id != 0);
	/* refresh: same answer, nothing new for the kernel */
	bind_req(&C, 0x4001, &P1);
	CU_ASSERT(th_check(&T, 0, A_(MI), STUN_INTEGRITY_SHA1, &C.key));
	th_actions_are(&T, ACTS(SEND));
	th_teardown(&T);
}

/* A reload with a stricter peer policy takes the refused permissions away at once, and the kernel
 * entries of their channels on the next tick; the other permissions stay. */
static void test_reload_revokes_denied_permissions(void)
{
	static const uint8_t x[] = "x";
	static struct turn_cidr deny_p1 = { XT_AF_INET, 32, { 198, 51, 100, 1 } };
	struct turn_server_config cfg;
	struct turn_server_stats st;

	setup_alloc(NULL);
	th_bind(&T, &C, 0x4001, &P1);
	th_permit(&T, &C, &P2);
	cfg = T.cfg;
	cfg.deny = &deny_p1;
	cfg.n_deny = 1;
	CU_ASSERT_EQUAL_FATAL(turn_server__reconfigure(T.s, &cfg), 0);
	turn_server__stats(T.s, &st);
	CU_ASSERT_EQUAL(st.permissions_revoked, 1);
	CU_ASSERT_EQUAL(st.permissions, 1);
	th_tick(&T, T.now);
	CU_ASSERT_FATAL(th_actions_are(&T, ACTS(UNBOUND)));
	CU_ASSERT_EQUAL(T.out.v[0].channel, 0x4001);
	CU_ASSERT(xt_addr_equal(&T.out.v[0].chan.peer, &P1));
	/* P1 reaches the client no more, either way; P2 still does */
	th_input_peer(&T, &REAL_RELAY, &P1, x, 1);
	CU_ASSERT_EQUAL(T.out.n, 0);
	th_input_peer(&T, &REAL_RELAY, &P2, x, 1);
	CU_ASSERT_EQUAL(T.out.n, 1);
	/* and the channel cannot be refreshed into a permission again */
	bind_req(&C, 0x4001, &P1);
	CU_ASSERT(th_check(&T, 403, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	th_teardown(&T);
}

static void test_channel_rebinding_400(void)
{
	struct xt_addr p1b;

	setup_alloc(NULL);
	th_bind(&T, &C, 0x4001, &P1);
	bind_req(&C, 0x4001, &P2); /* same number, other peer */
	CU_ASSERT(th_check(&T, 400, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	bind_req(&C, 0x4002, &P1); /* same peer, other number */
	CU_ASSERT(th_check(&T, 400, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	p1b = P1; /* a channel is for a transport address: the same IP, another port is fine */
	xt_addr_set_port(&p1b, 4001);
	bind_req(&C, 0x4002, &p1b);
	CU_ASSERT(th_check(&T, 0, A_(MI), STUN_INTEGRITY_SHA1, &C.key));
	bind_req(&C, 0x3FFF, &P2); /* out of range */
	CU_ASSERT(th_check(&T, 400, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	bind_req(&C, 0x5000, &P2);
	CU_ASSERT(th_check(&T, 400, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	{
		struct stun_builder b; /* no CHANNEL-NUMBER */
		th_begin(&T, &C, &b, STUN_METHOD_CHANNEL_BIND);
		stun_builder__add_xor_addr(&b, PEER, &P2);
		th_send_auth(&T, &C, &b);
		CU_ASSERT(th_check(&T, 400, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	}
	{
		struct xt_addr denied;
		th_addr4(&denied, "192.168.1.1", 9);
		bind_req(&C, 0x4003, &denied);
		CU_ASSERT(th_check(&T, 403, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	}
	th_teardown(&T);
}

static void legacy_channels(struct turn_server_config *cfg)
{
	cfg->legacy_channels = true;
}

/* RFC 5766 clients (coturn's turnutils_uclient among them) bind 0x5000-0x7FFF: refused by default
 * (RFC 8656 §12), served when the operator asks for compatibility. */
static void test_channel_legacy_numbers(void)
{
	static const uint8_t cd[] = { 0x7F, 0xFF, 0x00, 0x03, 'a', 'b', 'c', 0 };

	setup_alloc(NULL);
	bind_req(&C, 0x7FFF, &P1);
	CU_ASSERT(th_check(&T, 400, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	th_teardown(&T);

	setup_alloc(legacy_channels);
	bind_req(&C, 0x8000, &P1); /* not ChannelData's range at all */
	CU_ASSERT(th_check(&T, 400, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	bind_req(&C, 0x7FFF, &P1);
	CU_ASSERT(th_check(&T, 0, A_(MI), STUN_INTEGRITY_SHA1, &C.key));
	CU_ASSERT_FATAL(th_actions_are(&T, ACTS(BOUND, SEND)));
	CU_ASSERT_EQUAL(T.out.v[0].channel, 0x7FFF);
	th_input_client(&T, &C, cd, sizeof(cd)); /* with one byte of padding */
	CU_ASSERT(sent(&REAL_RELAY, &P1, cd + 4, 3));
	th_input_peer(&T, &REAL_RELAY, &P1, cd + 4, 3);
	CU_ASSERT(sent(&C.local, &C.addr, cd, 7));
	th_teardown(&T);
}

static void bandwidth_1000(struct turn_server_config *cfg)
{
	cfg->bandwidth_bps = 1000;
}

/* allocations.bandwidth in user space: one bucket per allocation for both directions, a second's
 * worth of burst, refilled by the input clock; over quota is dropped and counted. */
static void test_bandwidth_quota(void)
{
	static uint8_t cd[4 + 600] = { 0x40, 0x01, 0x02, 0x58 };
	static const uint8_t reply[300] = { 1 };

	setup_alloc(bandwidth_1000);
	th_bind(&T, &C, 0x4001, &P1);
	th_input_client(&T, &C, cd, sizeof(cd)); /* 1000 -> 400 */
	CU_ASSERT(sent(&REAL_RELAY, &P1, cd + 4, 600));
	th_input_peer(&T, &REAL_RELAY, &P1, reply, sizeof(reply)); /* 400 -> 100 */
	CU_ASSERT_EQUAL(T.out.n, 1);
	th_input_client(&T, &C, cd, sizeof(cd));
	CU_ASSERT_EQUAL(T.out.n, 0);
	CU_ASSERT_EQUAL(drops(TURN_DROP_QUOTA), 1);
	th_input_peer(&T, &REAL_RELAY, &P1, reply, sizeof(reply));
	CU_ASSERT_EQUAL(T.out.n, 0);
	CU_ASSERT_EQUAL(drops(TURN_DROP_QUOTA), 2);
	th_tick(&T, T.now + 499); /* 100 + 499 = 599 < 600 */
	th_input_client(&T, &C, cd, sizeof(cd));
	CU_ASSERT_EQUAL(T.out.n, 0);
	th_tick(&T, T.now + 1); /* 600 */
	th_input_client(&T, &C, cd, sizeof(cd));
	CU_ASSERT(sent(&REAL_RELAY, &P1, cd + 4, 600));
	th_tick(&T, T.now + 60000); /* refills to the burst, not beyond */
	th_input_client(&T, &C, cd, sizeof(cd));
	CU_ASSERT_EQUAL(T.out.n, 1);
	th_input_client(&T, &C, cd, sizeof(cd));
	CU_ASSERT_EQUAL(T.out.n, 0);
	CU_ASSERT_EQUAL(drops(TURN_DROP_QUOTA), 4);
	CU_ASSERT_STRING_EQUAL(turn_drop_reason_name(TURN_DROP_QUOTA), "quota");
	th_teardown(&T);
}

static void test_channel_data_both_ways(void)
{
	uint8_t cd[16] = { 0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0 };
	static const uint8_t reply[] = { 'w', 'o', 'r', 'l', 'd', '!' };
	uint8_t want[16] = { 0x40, 0x01, 0x00, 0x06, 'w', 'o', 'r', 'l', 'd', '!' };
	struct turn_server_stats st;

	setup_alloc(NULL);
	th_bind(&T, &C, 0x4001, &P1);
	/* client ChannelData (3 bytes of padding): the peer gets the 5 bytes, not the padding */
	th_input_client(&T, &C, cd, 12);
	CU_ASSERT(sent(&REAL_RELAY, &P1, cd + 4, 5));
	CU_ASSERT(T.out.v[0].send.payload == cd + 4); /* in place */
	/* without padding too */
	th_input_client(&T, &C, cd, 9);
	CU_ASSERT(sent(&REAL_RELAY, &P1, cd + 4, 5));
	/* a length beyond the datagram: dropped */
	cd[3] = 9;
	th_input_client(&T, &C, cd, 12);
	CU_ASSERT_EQUAL(T.out.n, 0);
	/* an unknown channel: dropped */
	cd[1] = 0x02, cd[3] = 5;
	th_input_client(&T, &C, cd, 9);
	CU_ASSERT_EQUAL(T.out.n, 0);
	CU_ASSERT_EQUAL(drops(TURN_DROP_UNKNOWN_CHANNEL), 1);
	/* peer -> client: ChannelData header as prefix, the peer's bytes as payload, unpadded */
	th_input_peer(&T, &REAL_RELAY, &P1, reply, sizeof(reply));
	CU_ASSERT(sent(&C.local, &C.addr, want, 10));
	CU_ASSERT_EQUAL(T.out.v[0].prefix_len, 4);
	CU_ASSERT(T.out.v[0].send.payload == reply);
	/* the same IP from another port has only the permission: Data indication */
	{
		struct xt_addr p1b = P1;
		struct stun_msg m;
		xt_addr_set_port(&p1b, 4001);
		th_input_peer(&T, &REAL_RELAY, &p1b, reply, sizeof(reply));
		CU_ASSERT_FATAL(T.out.n == 1);
		CU_ASSERT_EQUAL(T.out.v[0].prefix_len, 0);
		CU_ASSERT_EQUAL(stun_parse(T.out.v[0].send.payload, T.out.v[0].send.len, &m), 0);
		CU_ASSERT_EQUAL(m.method, STUN_METHOD_DATA);
	}
	turn_server__stats(T.s, &st);
	CU_ASSERT_EQUAL(st.to_peer_packets, 2);
	CU_ASSERT_EQUAL(st.to_peer_bytes, 10);
	CU_ASSERT_EQUAL(st.to_client_packets, 2);
	CU_ASSERT_EQUAL(st.channels, 1);
	th_teardown(&T);
}

/* ChannelBind installs the permission; the permission lasts 300 s, the channel 600 s: when the
 * permission goes, the kernel entries go (data needs both), and come back with a new one. */
static void test_channel_permission_coupling(void)
{
	static const uint8_t x[] = "x";

	setup_alloc(NULL);
	th_bind(&T, &C, 0x4001, &P1);
	send_indication(&C, &P1, x, 1); /* the permission exists */
	CU_ASSERT_EQUAL(T.out.n, 1);
	th_tick(&T, T.now + 299999);
	CU_ASSERT_EQUAL(T.out.n, 0);
	th_tick(&T, T.now + 1);
	CU_ASSERT_FATAL(th_actions_are(&T, ACTS(UNBOUND)));
	CU_ASSERT_EQUAL(T.out.v[0].channel, 0x4001);
	th_input_peer(&T, &REAL_RELAY, &P1, x, 1);
	CU_ASSERT_EQUAL(T.out.n, 0);
	th_permit(&T, &C, &P1);
	/* the permission back: the channel back in the kernel; the queue is flushed in order */
	CU_ASSERT_FATAL(th_actions_are(&T, ACTS(SEND, BOUND)) ||
			th_actions_are(&T, ACTS(BOUND, SEND)));
	th_input_peer(&T, &REAL_RELAY, &P1, x, 1);
	CU_ASSERT_EQUAL(T.out.v[0].prefix_len, 4);
	th_teardown(&T);
}

static void test_channel_expiry_and_cooldown(void)
{
	uint64_t t0;

	setup_alloc(NULL);
	t0 = T.now;
	th_bind(&T, &C, 0x4001, &P1);
	/* keep the permission and the allocation alive, not the channel */
	T.now = t0 + 290000;
	th_permit(&T, &C, &P1);
	{
		struct stun_builder b;
		th_begin(&T, &C, &b, STUN_METHOD_REFRESH);
		stun_builder__add_lifetime(&b, 3600);
		th_send_auth(&T, &C, &b);
	}
	T.now = t0 + 580000;
	th_permit(&T, &C, &P1);
	th_tick(&T, t0 + 599999);
	CU_ASSERT_EQUAL(T.out.n, 0);
	th_tick(&T, t0 + 600000);
	CU_ASSERT_FATAL(th_actions_are(&T, ACTS(UNBOUND)));
	/* cooling down: the number cannot go to another peer, nor the peer to another number */
	bind_req(&C, 0x4001, &P2);
	CU_ASSERT(th_check(&T, 400, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	bind_req(&C, 0x4002, &P1);
	CU_ASSERT(th_check(&T, 400, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	/* ChannelData on it is dropped */
	{
		uint8_t cd[8] = { 0x40, 0x01, 0x00, 0x01, 'z' };
		th_input_client(&T, &C, cd, 5);
		CU_ASSERT_EQUAL(T.out.n, 0);
	}
	/* after 300 s of cool-down, free */
	T.now = t0 + 860000;
	th_permit(&T, &C, &P1);
	th_tick(&T, t0 + 899999);
	bind_req(&C, 0x4001, &P2);
	CU_ASSERT(th_check(&T, 400, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	th_tick(&T, t0 + 900000);
	bind_req(&C, 0x4001, &P2);
	CU_ASSERT(th_check(&T, 0, A_(MI), STUN_INTEGRITY_SHA1, &C.key));
	th_actions_are(&T, ACTS(BOUND, SEND));
	th_teardown(&T);
}

static void test_channel_rebind_same_during_cooldown(void)
{
	uint64_t t0;

	setup_alloc(NULL);
	t0 = T.now;
	th_bind(&T, &C, 0x4001, &P1);
	th_tick(&T, t0 + 300000); /* permission gone */
	th_tick(&T, t0 + 600000); /* channel expired: allocation too (600 s) */
	CU_ASSERT_FATAL(th_actions_are(&T, ACTS(DELETED)));
	th_teardown(&T);

	setup_alloc(NULL);
	t0 = T.now;
	th_bind(&T, &C, 0x4001, &P1);
	T.now = t0 + 500000;
	{
		struct stun_builder b;
		th_begin(&T, &C, &b, STUN_METHOD_REFRESH);
		stun_builder__add_lifetime(&b, 3600);
		th_send_auth(&T, &C, &b);
	}
	th_tick(&T, t0 + 600000);
	/* the same number to the same peer during cool-down: allowed, back in the kernel */
	bind_req(&C, 0x4001, &P1);
	CU_ASSERT(th_check(&T, 0, A_(MI), STUN_INTEGRITY_SHA1, &C.key));
	th_actions_are(&T, ACTS(BOUND, SEND));
	th_teardown(&T);
}

/* Expiry of an allocation: its channels' UNBOUNDs, then its DELETED. */
static void test_allocation_expiry_sequence(void)
{
	uint32_t id;
	struct turn_server_stats st;

	setup_alloc(NULL);
	id = T.out.v[0].alloc_id;
	th_bind(&T, &C, 0x4001, &P1);
	th_bind(&T, &C, 0x4002, &P2);
	CU_ASSERT_EQUAL(T.out.wake_at, TH_T0 + 300000); /* the permissions come first */
	/* keep the permissions up to the end */
	T.now = TH_T0 + 290000;
	th_permit(&T, &C, &P1);
	th_permit(&T, &C, &P2);
	T.now = TH_T0 + 580000;
	th_permit(&T, &C, &P1);
	th_permit(&T, &C, &P2);
	CU_ASSERT_EQUAL(T.out.wake_at, TH_T0 + 600000);
	th_tick(&T, TH_T0 + 599999);
	CU_ASSERT_EQUAL(T.out.n, 0);
	CU_ASSERT_EQUAL(T.out.wake_at, TH_T0 + 600000);
	th_tick(&T, TH_T0 + 600000);
	CU_ASSERT_FATAL(th_actions_are(&T, ACTS(UNBOUND, UNBOUND, DELETED)));
	CU_ASSERT_EQUAL(T.out.v[2].alloc_id, id);
	CU_ASSERT(xt_addr_equal(&T.out.v[2].alloc.relay, &REAL_RELAY));
	CU_ASSERT_EQUAL(T.out.v[0].alloc_id, id);
	CU_ASSERT_EQUAL(T.out.wake_at, UINT64_MAX);
	turn_server__stats(T.s, &st);
	CU_ASSERT_EQUAL(st.allocations, 0);
	CU_ASSERT_EQUAL(st.permissions, 0);
	CU_ASSERT_EQUAL(st.channels, 0);
	th_teardown(&T);
}

static void test_refresh_zero_with_channels(void)
{
	struct stun_builder b;

	setup_alloc(NULL);
	th_bind(&T, &C, 0x4001, &P1);
	th_begin(&T, &C, &b, STUN_METHOD_REFRESH);
	stun_builder__add_lifetime(&b, 0);
	th_send_auth(&T, &C, &b);
	CU_ASSERT_FATAL(th_actions_are(&T, ACTS(SEND, UNBOUND, DELETED)));
	th_teardown(&T);
}

/* Output too small for everything that expires at once: wake_at says "again now" and nothing
 * is lost or reordered. */
static void test_backpressure(void)
{
	struct turn_action small[TURN_ACTIONS_MIN];
	uint8_t arena[TURN_ARENA_MIN];
	struct turn_actions out;
	int unbound = 0, deleted = 0, rounds = 0;
	bool deleted_seen = false, order_ok = true;
	static const uint8_t x[] = "x";

	setup_alloc(NULL);
	T.now = TH_T0;
	for (int i = 0; i < 20; i++) {
		struct xt_addr p = P1;
		xt_addr_set_port(&p, (uint16_t)(7000 + i));
		th_bind(&T, &C, (uint16_t)(0x4000 + i), &p);
	}
	T.now = TH_T0 + 290000;
	th_permit(&T, &C, &P1);
	T.now = TH_T0 + 580000;
	th_permit(&T, &C, &P1);
	turn_actions__init(&out, small, TURN_ACTIONS_MIN, arena, sizeof(arena));
	for (;;) {
		bool again;

		turn_actions__reset(&out);
		CU_ASSERT_EQUAL_FATAL(turn_server__tick(T.s, TH_T0 + 600000, &out), 0);
		rounds++;
		again = out.wake_at <= TH_T0 + 600000;
		for (int pass = 0; pass < 2; pass++) {
			for (uint32_t i = pass ? out.cap - 1 : 0; i < out.n; i++) {
				if (out.v[i].type == UNBOUND) {
					unbound++;
					order_ok &= !deleted_seen;
				} else if (out.v[i].type == DELETED) {
					deleted++;
					deleted_seen = true;
				}
			}
			if (pass || !again)
				break;
			CU_ASSERT_EQUAL(out.n,
					out.cap); /* again, now: because the output is full */
			/* an input meanwhile is refused: the backlog goes first (into the one slot
			 * left, counted by the second pass) */
			out.n = out.cap - 1;
			CU_ASSERT_EQUAL(turn_server__input_peer(T.s, TH_T0 + 600000, &REAL_RELAY,
								&P1, x, 1, &out),
					-ENOBUFS);
		}
		if (!again || rounds > 100)
			break;
	}
	CU_ASSERT_EQUAL(unbound, 20);
	CU_ASSERT_EQUAL(deleted, 1);
	CU_ASSERT(order_ok);
	CU_ASSERT(rounds >= 3);
	th_teardown(&T);
}

/* ---- hairpin and the relay itself ---- */

static void test_hairpin(void)
{
	struct th_client c2;
	struct xt_addr r2, self;
	static const uint8_t hi[] = "hi B";
	struct stun_msg m;
	struct xt_addr from;
	const uint8_t *d;
	size_t len;
	struct turn_server_stats st;

	setup_alloc(NULL);
	th_client(&c2, 2);
	th_allocate(&T, &c2, &r2);
	/* each permits the other's relayed address (both on our own IP) */
	th_permit(&T, &C, &r2);
	th_permit(&T, &c2, &RELAYED);
	/* A -> B's relayed address: delivered internally to B's client, from A's relayed address */
	send_indication(&C, &r2, hi, sizeof(hi));
	CU_ASSERT_FATAL(T.out.n == 1);
	CU_ASSERT(xt_addr_equal(&T.out.v[0].send.to, &c2.addr));
	CU_ASSERT(xt_addr_equal(&T.out.v[0].send.from, &c2.local));
	CU_ASSERT_EQUAL_FATAL(stun_parse(T.out.v[0].send.payload, T.out.v[0].send.len, &m), 0);
	CU_ASSERT_EQUAL(m.method, STUN_METHOD_DATA);
	CU_ASSERT_EQUAL(stun_msg__xor_addr(&m, PEER, 0, &from), 0);
	CU_ASSERT(xt_addr_equal(&from, &RELAYED));
	d = stun_msg__attr(&m, DATA, &len);
	CU_ASSERT(len == sizeof(hi) && !memcmp(d, hi, len));
	/* a hairpin channel stays in user space: no CHANNEL_BOUND for the XDP maps */
	bind_req(&C, 0x4001, &r2);
	CU_ASSERT(th_check(&T, 0, A_(MI), STUN_INTEGRITY_SHA1, &C.key));
	th_actions_are(&T, ACTS(SEND));
	th_bind(&T, &c2, 0x4005, &RELAYED);
	{
		uint8_t cd[8] = { 0x40, 0x01, 0x00, 0x02, 'o', 'k' };
		uint8_t want[8] = { 0x40, 0x05, 0x00, 0x02, 'o', 'k' };
		th_input_client(&T, &C, cd, 6);
		CU_ASSERT(sent(&c2.local, &c2.addr, want, 6));
	}
	/* our own address but not an allocation (the listen port): 403, and dropped as data */
	self = C.local;
	bind_req(&C, 0x4002, &self);
	CU_ASSERT(th_check(&T, 403, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	perm_req(&C, &self, 1);
	CU_ASSERT(th_check(&T, 403, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	/* the permission for our IP exists (made for r2): data to another port of it is dropped */
	send_indication(&C, &self, hi, sizeof(hi));
	CU_ASSERT_EQUAL(T.out.n, 0);
	CU_ASSERT_EQUAL(drops(TURN_DROP_SELF), 1);
	th_addr6(&self, "::ffff:198.18.0.10", 3478);
	perm_req(&C, &self, 1);
	/* IPv6 spelling on an IPv4 allocation: the family is checked first */
	CU_ASSERT(th_check(&T, 443, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	/* a permission to one's own relayed address: 403 */
	perm_req(&C, &RELAYED, 1);
	CU_ASSERT(th_check(&T, 403, A_(ERR, MI), STUN_INTEGRITY_SHA1, &C.key));
	turn_server__stats(T.s, &st);
	CU_ASSERT_EQUAL(st.hairpin_packets, 2);
	th_teardown(&T);
}

static void nat(struct turn_server_config *cfg)
{
	th_addr4(&cfg->relays[0].advertised, "203.0.113.7", 0);
}

/* With a 1:1 NAT, clients know each other by the advertised address: hairpin through it. */
static void test_hairpin_advertised(void)
{
	struct th_client c2;
	struct xt_addr r2;
	static const uint8_t hi[] = "hi";
	struct stun_msg m;
	struct xt_addr from;

	setup_alloc(nat);
	CU_ASSERT(RELAYED.ip[0] == 203);
	th_client(&c2, 2);
	th_allocate(&T, &c2, &r2);
	th_permit(&T, &C, &r2);
	th_permit(&T, &c2, &RELAYED);
	send_indication(&C, &r2, hi, sizeof(hi));
	CU_ASSERT_FATAL(T.out.n == 1);
	CU_ASSERT_EQUAL_FATAL(stun_parse(T.out.v[0].send.payload, T.out.v[0].send.len, &m), 0);
	CU_ASSERT_EQUAL(stun_msg__xor_addr(&m, PEER, 0, &from), 0);
	CU_ASSERT(xt_addr_equal(&from, &RELAYED));
	th_teardown(&T);
}

/* ---- inspection ---- */

static int count_alloc(const struct turn_alloc_info *a, void *ctx)
{
	int *n = ctx;
	CU_ASSERT(a->user_len == 5 && !memcmp(a->user, "alice", 5));
	CU_ASSERT_EQUAL(a->relay[0].family, XT_AF_INET);
	CU_ASSERT_EQUAL(a->n_channels, 1);
	CU_ASSERT_EQUAL(a->n_permissions, 1);
	(*n)++;
	return 0;
}

static int count_chan(const struct turn_channel_info *c, void *ctx)
{
	int *n = ctx;
	CU_ASSERT_EQUAL(c->channel, 0x4001);
	CU_ASSERT(c->bound && c->installed);
	(*n)++;
	return 0;
}

static void test_inspection(void)
{
	int n = 0;
	uint32_t id;

	setup_alloc(NULL);
	id = T.out.v[0].alloc_id;
	th_bind(&T, &C, 0x4001, &P1);
	CU_ASSERT_EQUAL(turn_server__foreach_allocation(T.s, NULL, 0, count_alloc, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	n = 0;
	turn_server__foreach_allocation(T.s, (const uint8_t *)"bob", 3, count_alloc, &n);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(turn_server__foreach_channel(T.s, id, count_chan, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(turn_server__foreach_channel(T.s, id + 100, count_chan, &n), -ENOENT);
	CU_ASSERT_STRING_EQUAL(turn_stat_method_name(TURN_M_CHANNEL_BIND), "channel_bind");
	CU_ASSERT_EQUAL(turn_stat_result_code(TURN_R_508), 508);
	CU_ASSERT_STRING_EQUAL(turn_drop_reason_name(TURN_DROP_SELF), "self");
	th_teardown(&T);
}

int test_turn_relay_register(void)
{
	CU_pSuite s = CU_add_suite("turn_relay", NULL, NULL);

	if (!s)
		return -1;
	return !CU_add_test(s, "bandwidth quota per allocation", test_bandwidth_quota) ||
	       !CU_add_test(s, "channel: RFC 5766 numbers only when configured",
			    test_channel_legacy_numbers) ||
	       !CU_add_test(s, "permission: Send and Data indications",
			    test_permission_send_and_data) ||
	       !CU_add_test(s, "permission: all or nothing, 403",
			    test_permission_all_or_nothing_403) ||
	       !CU_add_test(s, "permission: canonical forms denied",
			    test_permission_canonical_forms_403) ||
	       !CU_add_test(s, "permission: allow list", test_permission_allow_list) ||
	       !CU_add_test(s, "permission: 443 family mismatch", test_permission_family_443) ||
	       !CU_add_test(s, "permission: 437 without allocation",
			    test_permission_needs_allocation_437) ||
	       !CU_add_test(s, "permission: expiry at 300 s", test_permission_expiry) ||
	       !CU_add_test(s, "channel: BOUND before the answer", test_channel_bind) ||
	       !CU_add_test(s, "channel: rebinding rules, 400, 403", test_channel_rebinding_400) ||
	       !CU_add_test(s, "channel: data both ways, padding", test_channel_data_both_ways) ||
	       !CU_add_test(s, "channel: needs its permission", test_channel_permission_coupling) ||
	       !CU_add_test(s, "channel: expiry and cool-down", test_channel_expiry_and_cooldown) ||
	       !CU_add_test(s, "channel: same binding during cool-down",
			    test_channel_rebind_same_during_cooldown) ||
	       !CU_add_test(s, "expiry: UNBOUND then DELETED", test_allocation_expiry_sequence) ||
	       !CU_add_test(s, "Refresh 0 with channels", test_refresh_zero_with_channels) ||
	       !CU_add_test(s, "back-pressure", test_backpressure) ||
	       !CU_add_test(s, "hairpin and the relay itself", test_hairpin) ||
	       !CU_add_test(s, "hairpin through the advertised address", test_hairpin_advertised) ||
	       !CU_add_test(s, "inspection", test_inspection) ||
	       !CU_add_test(s, "reload revokes denied permissions",
			    test_reload_revokes_denied_permissions);
}
