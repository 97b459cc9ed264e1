/* Hardening of the TURN core (issue 7): peer-policy bypass attempts, resources that run out and come
 * back on expiry, and floods of unauthenticated or malformed datagrams that must leave no state.
 *
 * Bypasses: every spelling of loopback, unspecified, link-local/metadata, IPv4-mapped/-compatible,
 * NAT64 and the relay's own addresses on ports that are not allocations is refused through
 * CreatePermission and ChannelBind (403, no permission, nothing for the XDP maps) and through Send
 * indications (dropped and counted, nothing sent) — also when the operator's allow list covers the
 * relay's own subnet. Exhaustion: a full relay port range answers 508 and a user over quota 486;
 * both recover when the allocations expire on the clock (not only on Refresh 0). Floods: 20000
 * Allocates without credentials from distinct sources and 20000 malformed datagrams leave the
 * server's memory and tables exactly as they were.
 */
#include <CUnit/CUnit.h>
#include <string.h>
#include "tests/unit/turn_harness.h"

static struct th T;
static struct th_client C;

#define PEER STUN_ATTR_XOR_PEER_ADDRESS

static uint64_t drops(enum turn_drop_reason r)
{
	struct turn_server_stats st;

	turn_server__stats(T.s, &st);
	return st.drops[r];
}

static uint64_t n_permissions(void)
{
	struct turn_server_stats st;

	turn_server__stats(T.s, &st);
	return st.permissions;
}

static int answer_code(void)
{
	int code = -1;
	const uint8_t *reason;
	size_t len;

	if (!T.resp_len)
		return -1;
	if (T.m.cls == STUN_CLASS_SUCCESS)
		return 0;
	stun_msg__error_code(&T.m, &code, &reason, &len);
	return code;
}

static void perm_req(const struct xt_addr *peer)
{
	struct stun_builder b;

	th_begin(&T, &C, &b, STUN_METHOD_CREATE_PERMISSION);
	stun_builder__add_xor_addr(&b, PEER, peer);
	th_send_auth(&T, &C, &b);
}

static void bind_req(uint16_t ch, const struct xt_addr *peer)
{
	struct stun_builder b;

	th_begin(&T, &C, &b, STUN_METHOD_CHANNEL_BIND);
	stun_builder__add_channel_number(&b, ch);
	stun_builder__add_xor_addr(&b, PEER, peer);
	th_send_auth(&T, &C, &b);
}

static void send_ind(const struct xt_addr *peer)
{
	static const uint8_t data[] = "GET /latest/meta-data/ HTTP/1.0\r\n\r\n";
	struct stun_builder b;
	uint8_t txid[12] = { 7, 7, 7 };

	stun_builder__begin(&b, T.req, sizeof(T.req),
			    stun_type(STUN_METHOD_SEND, STUN_CLASS_INDICATION), txid);
	stun_builder__add_xor_addr(&b, PEER, peer);
	stun_builder__add_data(&b, data, sizeof(data) - 1);
	T.req_len = (size_t)stun_builder__finish(&b);
	th_input_client(&T, &C, T.req, T.req_len);
}

/* Dual-stack allocation for C (so that the family check, 443, never hides the policy). */
static void setup_dual(th_tweak_fn tweak)
{
	struct stun_builder b;

	th_setup(&T, tweak);
	th_client(&C, 1);
	th_login(&T, &C);
	th_begin(&T, &C, &b, STUN_METHOD_ALLOCATE);
	stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	stun_builder__add_address_family(&b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
	CU_ASSERT_FATAL(th_send_auth(&T, &C, &b) == 0);
	CU_ASSERT_FATAL(T.m.cls == STUN_CLASS_SUCCESS && T.m.n_relayed == 2);
}

/* A Send indication needs a permission first: to a peer that can never get one it is dropped as
 * no_permission. The relay's own IPs have permissions when a client talks to another client's
 * allocation (hairpin), so Sends to their other ports are dropped as self. */
struct bypass {
	const char *ip;
	uint16_t port;
	enum turn_drop_reason send_drop; /* how a Send indication to it is counted */
};

/* The list; the relay is 198.18.0.10 / 2001:db8::10 in the harness. */
static const struct bypass bypasses[] = {
	{ "127.0.0.1", 80, TURN_DROP_NO_PERMISSION },
	{ "127.1.2.3", 9641, TURN_DROP_NO_PERMISSION },
	{ "0.0.0.0", 80, TURN_DROP_NO_PERMISSION },
	{ "::", 80, TURN_DROP_NO_PERMISSION },
	{ "::1", 80, TURN_DROP_NO_PERMISSION },
	{ "::ffff:127.0.0.1", 80, TURN_DROP_NO_PERMISSION },
	{ "::127.0.0.1", 80, TURN_DROP_NO_PERMISSION },
	{ "64:ff9b::7f00:1", 80, TURN_DROP_NO_PERMISSION },
	{ "169.254.169.254", 80, TURN_DROP_NO_PERMISSION },
	{ "::ffff:169.254.169.254", 80, TURN_DROP_NO_PERMISSION },
	{ "64:ff9b::a9fe:a9fe", 80, TURN_DROP_NO_PERMISSION },
	{ "fe80::1", 80, TURN_DROP_NO_PERMISSION },
	{ "198.18.0.10", 9641, TURN_DROP_SELF }, /* metrics */
	{ "198.18.0.10", 22, TURN_DROP_SELF },
	{ "198.18.0.10", 3478, TURN_DROP_SELF }, /* the listen port */
	{ "2001:db8::10", 9641, TURN_DROP_SELF },
	{ "2001:db8::10", 22, TURN_DROP_SELF },
	{ "2001:db8::10", 3478, TURN_DROP_SELF },
	/* the relay in IPv6 spellings: refused like the plain ones; permissions are kept per
	 * literal address, so a Send finds none */
	{ "::ffff:198.18.0.10", 22, TURN_DROP_NO_PERMISSION },
	{ "64:ff9b::c612:a", 22, TURN_DROP_NO_PERMISSION },
};

static void parse_peer(struct xt_addr *a, const struct bypass *b)
{
	if (strchr(b->ip, ':'))
		th_addr6(a, b->ip, b->port);
	else
		th_addr4(a, b->ip, b->port);
}

/* The relay's own subnet in the allow list (as tests/integration's configuration has it): the
 * allow list may open private ranges, never the relay's own non-allocation ports. */
static void allow_relay_subnet(struct turn_server_config *cfg)
{
	static struct turn_cidr allow[2];

	allow[0] = (struct turn_cidr){ XT_AF_INET, 24, { 198, 18, 0 } };
	allow[1] = (struct turn_cidr){ XT_AF_INET6, 64, { 0x20, 0x01, 0x0d, 0xb8 } };
	cfg->allow = allow;
	cfg->n_allow = 2;
}

static void check_bypasses(void)
{
	struct th_client c2;
	struct stun_builder b;
	struct xt_addr hairpin[2];

	/* a second client's dual-stack allocation; C's permissions to it open the relay's IPs */
	th_client(&c2, 2);
	th_login(&T, &c2);
	th_begin(&T, &c2, &b, STUN_METHOD_ALLOCATE);
	stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	stun_builder__add_address_family(&b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
	CU_ASSERT_FATAL(th_send_auth(&T, &c2, &b) == 0 && T.m.n_relayed == 2);
	CU_ASSERT_FATAL(stun_msg__xor_addr(&T.m, STUN_ATTR_XOR_RELAYED_ADDRESS, 0, &hairpin[0]) == 0);
	CU_ASSERT_FATAL(stun_msg__xor_addr(&T.m, STUN_ATTR_XOR_RELAYED_ADDRESS, 1, &hairpin[1]) == 0);
	th_permit(&T, &C, &hairpin[0]);
	th_permit(&T, &C, &hairpin[1]);
	CU_ASSERT_FATAL(n_permissions() == 2);
	for (size_t i = 0; i < sizeof(bypasses) / sizeof(bypasses[0]); i++) {
		const struct bypass *b = &bypasses[i];
		uint64_t before = drops(b->send_drop);
		struct xt_addr p;
		char what[96];

		snprintf(what, sizeof(what), "%s port %u", b->ip, b->port);
		parse_peer(&p, b);
		perm_req(&p);
		if (answer_code() != 403 || n_permissions() != 2)
			CU_FAIL(what); /* CreatePermission refused */
		bind_req((uint16_t)(0x4000 + i), &p);
		if (answer_code() != 403 || n_permissions() != 2 ||
		    th_find_action(&T, TURN_ACT_CHANNEL_BOUND, 0) >= 0)
			CU_FAIL(what); /* ChannelBind refused, nothing for the maps */
		send_ind(&p);
		if (T.out.n != 0 || drops(b->send_drop) != before + 1) {
			fprintf(stderr, "\n%s: %u actions, drops self %llu no_permission %llu\n", what,
				T.out.n, (unsigned long long)drops(TURN_DROP_SELF),
				(unsigned long long)drops(TURN_DROP_NO_PERMISSION));
			CU_FAIL(what); /* Send dropped and counted */
		}
	}
}

static void test_bypass_default_policy(void)
{
	setup_dual(NULL);
	check_bypasses();
	th_teardown(&T);
}

static void test_bypass_allow_covers_relay(void)
{
	struct xt_addr p;

	setup_dual(allow_relay_subnet);
	check_bypasses();
	/* the allow list does open the rest of the subnet */
	th_addr4(&p, "198.18.0.20", 4000);
	perm_req(&p);
	CU_ASSERT_EQUAL(answer_code(), 0);
	CU_ASSERT_EQUAL(n_permissions(), 3);
	th_teardown(&T);
}

/* ---- exhaustion, and recovery on expiry ---- */

static void two_ports(struct turn_server_config *cfg)
{
	cfg->n_relays = 1;
	cfg->relay_port_min = 50000;
	cfg->relay_port_max = 50001;
	cfg->default_lifetime = 600;
}

static void quota_two(struct turn_server_config *cfg)
{
	cfg->max_per_user = 2;
	cfg->default_lifetime = 600;
}

static int allocate_code(struct th_client *c)
{
	struct stun_builder b;

	if (!c->nonce_len)
		th_login(&T, c);
	th_begin(&T, c, &b, STUN_METHOD_ALLOCATE);
	stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	th_send_auth(&T, c, &b);
	return answer_code();
}

/* Runs the clock to t and returns how many ALLOCATION_DELETED actions the ticks gave. */
static int expire_until(uint64_t t)
{
	int deleted = 0;

	for (int round = 0; round < 100; round++) {
		uint64_t wake = turn_server__next_wake(T.s, T.now);
		if (wake > t)
			break;
		th_tick(&T, wake > T.now ? wake : T.now);
		for (int i = 0; th_find_action(&T, TURN_ACT_ALLOCATION_DELETED, i) >= 0; i++)
			deleted++;
	}
	T.now = t;
	return deleted;
}

static void test_ports_full_508_then_expiry(void)
{
	struct th_client c[3];

	th_setup(&T, two_ports);
	for (int i = 0; i < 3; i++)
		th_client(&c[i], i + 1);
	CU_ASSERT_EQUAL(allocate_code(&c[0]), 0);
	CU_ASSERT_EQUAL(allocate_code(&c[1]), 0);
	CU_ASSERT_EQUAL(allocate_code(&c[2]), 508);
	/* still full a second before the lifetime ends */
	CU_ASSERT_EQUAL(expire_until(T.now + 599 * 1000), 0);
	CU_ASSERT_EQUAL(allocate_code(&c[2]), 508);
	/* both expire: their ports come back */
	CU_ASSERT_EQUAL(expire_until(T.now + 2 * 1000), 2);
	CU_ASSERT_EQUAL(allocate_code(&c[2]), 0);
	CU_ASSERT_EQUAL(allocate_code(&c[0]), 0);
	CU_ASSERT_EQUAL(allocate_code(&c[1]), 508);
	th_teardown(&T);
}

static void test_quota_486_then_expiry(void)
{
	struct th_client c[3];
	struct turn_server_stats st;

	th_setup(&T, quota_two);
	for (int i = 0; i < 3; i++)
		th_client(&c[i], i + 1);
	CU_ASSERT_EQUAL(allocate_code(&c[0]), 0);
	T.now += 100 * 1000; /* the second one expires later than the first */
	CU_ASSERT_EQUAL(allocate_code(&c[1]), 0);
	CU_ASSERT_EQUAL(allocate_code(&c[2]), 486);
	/* the first expires: one slot of alice's quota is free again, not two */
	CU_ASSERT_EQUAL(expire_until(T.now + 501 * 1000), 1);
	CU_ASSERT_EQUAL(allocate_code(&c[2]), 0);
	CU_ASSERT_EQUAL(allocate_code(&c[0]), 486);
	CU_ASSERT_EQUAL(expire_until(T.now + 601 * 1000), 2);
	turn_server__stats(T.s, &st);
	CU_ASSERT_EQUAL(st.allocations, 0);
	CU_ASSERT_EQUAL(allocate_code(&c[0]), 0);
	CU_ASSERT_EQUAL(allocate_code(&c[1]), 0);
	th_teardown(&T);
}

/* ---- floods leave no state ---- */

static void test_unauthenticated_flood_no_state(void)
{
	struct turn_server_stats before, after;
	struct stun_builder b;
	uint64_t answered = 0;

	th_setup(&T, NULL);
	turn_server__stats(T.s, &before);
	for (int i = 0; i < 20000; i++) {
		struct th_client c;
		th_client(&c, 1);
		/* spoofed sources: 198.18.(i / 250).(i % 250):(1024 + i) */
		c.addr.ip[2] = (uint8_t)(i / 250);
		c.addr.ip[3] = (uint8_t)(i % 250 + 1);
		put_be16(c.addr.port, (uint16_t)(1024 + i));
		th_begin(&T, &c, &b, STUN_METHOD_ALLOCATE);
		stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
		th_send_plain(&T, &c, &b);
		answered += answer_code() == 401;
		T.now += 1;
	}
	turn_server__stats(T.s, &after);
	CU_ASSERT_EQUAL(answered, 20000); /* each one challenged, statelessly */
	CU_ASSERT_EQUAL(after.allocations, 0);
	CU_ASSERT_EQUAL(after.permissions, 0);
	CU_ASSERT_EQUAL(after.memory_bytes, before.memory_bytes);
	CU_ASSERT_EQUAL(after.requests[TURN_M_ALLOCATE][TURN_R_401], 20000);
	CU_ASSERT_EQUAL(turn_server__next_wake(T.s, T.now), UINT64_MAX); /* no timer armed */
	th_teardown(&T);
}

static void test_malformed_flood_no_state(void)
{
	struct turn_server_stats before, after;
	uint8_t d[64];
	uint64_t state = 99;

	setup_dual(NULL);
	turn_server__stats(T.s, &before);
	for (int i = 0; i < 20000; i++) {
		size_t len = 4 + (size_t)i % 60;
		th_random(&state, d, sizeof(d));
		switch (i % 4) {
		case 0: /* STUN header with a bad cookie */
			d[0] = 0;
			d[1] = 1;
			put_be16(d + 2, (uint16_t)(len - 20));
			break;
		case 1: /* attribute length past the end */
			d[0] = 0;
			d[1] = 3;
			put_be16(d + 2, (uint16_t)((len - 20) & ~3u));
			put_be32(d + 4, STUN_MAGIC_COOKIE);
			put_be16(d + 22, 0x0fff);
			break;
		case 2: /* ChannelData length past the end */
			put_be16(d, (uint16_t)(0x4000 + i % 16));
			put_be16(d + 2, (uint16_t)(len + 1));
			break;
		default: /* random bytes, truncated headers */
			len = (size_t)i % 24;
			break;
		}
		if (len < 20 && (i % 4 == 0 || i % 4 == 1))
			len = 20;
		th_input_client(&T, &C, d, len);
		CU_ASSERT_EQUAL_FATAL(T.rc, 0);
		if (T.out.n != 0 && T.resp_len == 0)
			CU_FAIL("a malformed datagram was answered with something not STUN");
	}
	turn_server__stats(T.s, &after);
	CU_ASSERT_EQUAL(after.allocations, 1);
	CU_ASSERT_EQUAL(after.permissions, 0);
	CU_ASSERT_EQUAL(after.memory_bytes, before.memory_bytes);
	CU_ASSERT(after.drops[TURN_DROP_MALFORMED] + after.drops[TURN_DROP_UNKNOWN_CHANNEL] >
		  before.drops[TURN_DROP_MALFORMED] + 10000);
	th_teardown(&T);
}

int test_hardening_register(void)
{
	CU_pSuite s = CU_add_suite("turn hardening", NULL, NULL);

	return !s ||
	       !CU_add_test(s, "peer bypasses refused (default policy)", test_bypass_default_policy) ||
	       !CU_add_test(s, "peer bypasses refused (allow list covers the relay)",
			    test_bypass_allow_covers_relay) ||
	       !CU_add_test(s, "508 port range full, freed on expiry",
			    test_ports_full_508_then_expiry) ||
	       !CU_add_test(s, "486 quota, freed on expiry", test_quota_486_then_expiry) ||
	       !CU_add_test(s, "20k unauthenticated Allocates: no state",
			    test_unauthenticated_flood_no_state) ||
	       !CU_add_test(s, "20k malformed datagrams: no state", test_malformed_flood_no_state);
}
