/* turn/ building blocks: peer policy (canonical forms, default deny set, allow holes), the relay
 * port pool (random, collision-free, even/pair) and the timer heap (order, re-arm, cancel). */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/turn_harness.h"
#include "turn/policy.h"
#include "turn/ports.h"
#include "turn/timers.h"

static void addr(struct xt_addr *a, const char *ip)
{
	if (strchr(ip, ':'))
		th_addr6(a, ip, 1234);
	else
		th_addr4(a, ip, 1234);
}

static void test_policy_default_deny(void)
{
	static const struct {
		const char *ip;
		bool allowed;
	} cases[] = {
		{ "198.51.100.7", true },
		{ "8.8.8.8", true },
		{ "198.18.5.5", true },
		{ "2001:db8::1", true },
		{ "2a00:1450::1", true },
		{ "127.0.0.1", false },
		{ "127.255.0.9", false },
		{ "0.0.0.0", false },
		{ "0.1.2.3", false },
		{ "10.1.2.3", false },
		{ "172.16.0.1", false },
		{ "172.31.255.255", false },
		{ "172.32.0.1", true },
		{ "192.168.1.1", false },
		{ "100.64.0.1", false },
		{ "100.127.255.255", false },
		{ "100.128.0.1", true },
		{ "169.254.169.254", false },
		{ "224.0.0.1", false },
		{ "239.255.255.255", false },
		{ "255.255.255.255", false },
		{ "::", false },
		{ "::1", false },
		{ "fe80::1", false },
		{ "fc00::1", false },
		{ "fd12:3456::1", false },
		{ "ff02::1", false },
		{ "2002:c000:0201::1", false },
		{ "2001:0:4136:e378::1", false },
		{ "2001:1::1", true },
		/* wrapped IPv4: judged as the IPv4 address they reach */
		{ "::ffff:127.0.0.1", false },
		{ "::ffff:10.0.0.1", false },
		{ "::ffff:8.8.8.8", true },
		{ "::127.0.0.1", false },
		{ "::8.8.8.8", true },
		{ "64:ff9b::a00:1", false },
		{ "64:ff9b::808:808", true },
		{ "64:ff9b::169.254.169.254", false },
	};
	struct turn_policy p;

	CU_ASSERT_FATAL(turn_policy__init(&p, true, NULL, 0, NULL, 0) == 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xt_addr a;
		addr(&a, cases[i].ip);
		if (turn_policy__allows(&p, &a) != cases[i].allowed)
			CU_FAIL(cases[i].ip);
	}
	turn_policy__destroy(&p);
}

static void test_policy_allow_and_extra_deny(void)
{
	struct turn_cidr deny[2], allow[2];
	struct turn_policy p;
	struct xt_addr a;

	CU_ASSERT_FATAL(turn_cidr_parse("198.51.100.0/24", &deny[0]) == 0);
	CU_ASSERT_FATAL(turn_cidr_parse("2001:db8::/32", &deny[1]) == 0);
	CU_ASSERT_FATAL(turn_cidr_parse("10.5.0.0/16", &allow[0]) == 0);
	CU_ASSERT_FATAL(turn_cidr_parse("198.51.100.9", &allow[1]) == 0);
	CU_ASSERT_FATAL(turn_policy__init(&p, true, deny, 2, allow, 2) == 0);
	addr(&a, "198.51.100.8");
	CU_ASSERT_FALSE(turn_policy__allows(&p, &a));
	addr(&a, "198.51.100.9"); /* a /32 hole */
	CU_ASSERT_TRUE(turn_policy__allows(&p, &a));
	addr(&a, "::ffff:198.51.100.9"); /* the hole applies to the canonical form too */
	CU_ASSERT_TRUE(turn_policy__allows(&p, &a));
	addr(&a, "10.5.9.9");
	CU_ASSERT_TRUE(turn_policy__allows(&p, &a));
	addr(&a, "10.6.0.1");
	CU_ASSERT_FALSE(turn_policy__allows(&p, &a));
	addr(&a, "2001:db8:ffff::1");
	CU_ASSERT_FALSE(turn_policy__allows(&p, &a));
	turn_policy__destroy(&p);

	/* default off: only the configured list */
	CU_ASSERT_FATAL(turn_policy__init(&p, false, deny, 1, NULL, 0) == 0);
	addr(&a, "10.0.0.1");
	CU_ASSERT_TRUE(turn_policy__allows(&p, &a));
	addr(&a, "198.51.100.1");
	CU_ASSERT_FALSE(turn_policy__allows(&p, &a));
	turn_policy__destroy(&p);
}

static void test_cidr_parse(void)
{
	struct turn_cidr c;

	CU_ASSERT_EQUAL(turn_cidr_parse("10.0.0.0/8", &c), 0);
	CU_ASSERT_EQUAL(c.family, XT_AF_INET);
	CU_ASSERT_EQUAL(c.prefix_len, 8);
	CU_ASSERT_EQUAL(c.ip[0], 10);
	CU_ASSERT_EQUAL(turn_cidr_parse("fc00::/7", &c), 0);
	CU_ASSERT_EQUAL(c.family, XT_AF_INET6);
	CU_ASSERT_EQUAL(c.prefix_len, 7);
	CU_ASSERT_EQUAL(turn_cidr_parse("::1", &c), 0);
	CU_ASSERT_EQUAL(c.prefix_len, 128);
	CU_ASSERT_EQUAL(turn_cidr_parse("10.0.0.1/8", &c), -EINVAL); /* host bits set */
	CU_ASSERT_EQUAL(turn_cidr_parse("10.0.0.0/33", &c), -EINVAL);
	CU_ASSERT_EQUAL(turn_cidr_parse("10.0.0.0/", &c), -EINVAL);
	CU_ASSERT_EQUAL(turn_cidr_parse("10.0.0.0/-1", &c), -EINVAL);
	CU_ASSERT_EQUAL(turn_cidr_parse("10.0.0.0/8x", &c), -EINVAL);
	CU_ASSERT_EQUAL(turn_cidr_parse("example.org", &c), -EINVAL);
	CU_ASSERT_EQUAL(turn_cidr_parse("", &c), -EINVAL);
}

static void test_canonical(void)
{
	struct xt_addr a, c, want;

	th_addr6(&a, "::ffff:192.0.2.1", 7);
	turn_addr_canonical(&a, &c);
	th_addr4(&want, "192.0.2.1", 7);
	CU_ASSERT_TRUE(xt_addr_equal(&c, &want));
	th_addr6(&a, "64:ff9b::c000:201", 7);
	turn_addr_canonical(&a, &c);
	CU_ASSERT_TRUE(xt_addr_equal(&c, &want));
	th_addr6(&a, "2001:db8::1", 7);
	turn_addr_canonical(&a, &c);
	CU_ASSERT_TRUE(xt_addr_equal(&c, &a));
}

static void test_ports_take_all(void)
{
	struct turn_ports p;
	uint8_t seen[100] = { 0 };
	uint64_t st = 1;

	CU_ASSERT_FATAL(turn_ports__init(&p, 1000, 1099) == 0);
	for (int i = 0; i < 100; i++) {
		uint32_t r;
		int port;
		th_random(&st, (uint8_t *)&r, 4);
		port = turn_ports__take_random(&p, r);
		CU_ASSERT_FATAL(port >= 1000 && port <= 1099);
		CU_ASSERT_EQUAL(seen[port - 1000], 0); /* collision-free */
		seen[port - 1000] = 1;
		CU_ASSERT_FALSE(turn_ports__is_free(&p, (uint16_t)port));
	}
	CU_ASSERT_EQUAL(turn_ports__take_random(&p, 5), -ENOSPC);
	turn_ports__put(&p, 1042);
	CU_ASSERT_TRUE(turn_ports__is_free(&p, 1042));
	CU_ASSERT_EQUAL(turn_ports__take_random(&p, 0xFFFFFFFF), 1042);
	turn_ports__put(&p, 999); /* out of range: ignored */
	turn_ports__put(&p, 1050);
	turn_ports__put(&p, 1050); /* twice: once */
	CU_ASSERT_EQUAL(p.nfree, 1);
	CU_ASSERT_EQUAL(turn_ports__take(&p, 1050), 0);
	CU_ASSERT_EQUAL(turn_ports__take(&p, 1050), -EBUSY);
	CU_ASSERT_EQUAL(turn_ports__take(&p, 2000), -ERANGE);
	turn_ports__destroy(&p);
	CU_ASSERT_EQUAL(turn_ports__init(&p, 10, 9), -EINVAL);
}

/* The first ports picked from a large pool are spread, not sequential. */
static void test_ports_random(void)
{
	struct turn_ports p;
	uint64_t st = 7;
	int prev = -1, sequential = 0;

	CU_ASSERT_FATAL(turn_ports__init(&p, 49152, 65535) == 0);
	for (int i = 0; i < 50; i++) {
		uint32_t r;
		int port;
		th_random(&st, (uint8_t *)&r, 4);
		port = turn_ports__take_random(&p, r);
		sequential += port == prev + 1;
		prev = port;
	}
	CU_ASSERT(sequential < 3);
	turn_ports__destroy(&p);
}

static void test_ports_even(void)
{
	struct turn_ports p;
	int port;

	CU_ASSERT_FATAL(turn_ports__init(&p, 2000, 2005) == 0);
	port = turn_ports__take_even(&p, 12345, true);
	CU_ASSERT(port == 2000 || port == 2002 || port == 2004);
	CU_ASSERT_FALSE(turn_ports__is_free(&p, (uint16_t)port));
	CU_ASSERT_FALSE(turn_ports__is_free(&p, (uint16_t)(port + 1)));
	/* leave only odd ports and one even port whose successor is taken */
	CU_ASSERT_EQUAL(p.nfree, 4);
	for (int q = 2000; q <= 2004; q += 2)
		if (q != port)
			turn_ports__take(&p, (uint16_t)(q + 1));
	/* two evens remain, neither with a free successor: no pair, but a single even */
	CU_ASSERT_EQUAL(turn_ports__take_even(&p, 1, true), -ENOSPC);
	port = turn_ports__take_even(&p, 1, false);
	CU_ASSERT(port >= 2000 && port % 2 == 0);
	turn_ports__destroy(&p);
}

struct tobj {
	struct turn_timer t;
	uint64_t when;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void test_timers_order(void)
{
	enum { N = 500 };
	static struct tobj o[N];
	static uint64_t want[N];
	struct turn_timers ts;
	uint64_t st = 3, last = 0;
	size_t n_want = 0;

	CU_ASSERT_FATAL(turn_timers__init(&ts, 4) == 0);
	for (int i = 0; i < N; i++) {
		uint64_t r;
		th_random(&st, (uint8_t *)&r, 8);
		turn_timer__init(&o[i].t, 1);
		CU_ASSERT_FATAL(turn_timers__arm(&ts, &o[i].t, r % 100000) == 0);
	}
	/* re-arm a third, cancel a third */
	for (int i = 0; i < N; i += 3) {
		uint64_t r;
		th_random(&st, (uint8_t *)&r, 8);
		turn_timers__arm(&ts, &o[i].t, r % 100000);
		turn_timers__cancel(&ts, &o[i + 1 < N ? i + 1 : i].t);
	}
	for (int i = 0; i < N; i++)
		if (turn_timer__armed(&o[i].t))
			want[n_want++] = o[i].t.expires;
	qsort(want, n_want, sizeof(want[0]), cmp_u64);
	CU_ASSERT_EQUAL(ts.n, n_want);
	CU_ASSERT_EQUAL(turn_timers__next(&ts), want[0]);
	/* nothing before its time */
	CU_ASSERT_PTR_NULL(turn_timers__pop_due(&ts, want[0] - 1));
	for (size_t i = 0; i < n_want; i++) {
		struct turn_timer *t = turn_timers__pop_due(&ts, 100000);
		CU_ASSERT_FATAL(t != NULL);
		CU_ASSERT_EQUAL(t->expires, want[i]);
		CU_ASSERT(t->expires >= last);
		CU_ASSERT_FALSE(turn_timer__armed(t));
		last = t->expires;
	}
	CU_ASSERT_PTR_NULL(turn_timers__pop_due(&ts, UINT64_MAX));
	CU_ASSERT_EQUAL(turn_timers__next(&ts), UINT64_MAX);
	turn_timers__destroy(&ts);
}

int test_turn_parts_register(void)
{
	CU_pSuite s = CU_add_suite("turn_parts", NULL, NULL);

	if (!s)
		return -1;
	return !CU_add_test(s, "policy: default deny set, canonical forms",
			    test_policy_default_deny) ||
	       !CU_add_test(s, "policy: allow punches holes, extra deny",
			    test_policy_allow_and_extra_deny) ||
	       !CU_add_test(s, "policy: CIDR parsing", test_cidr_parse) ||
	       !CU_add_test(s, "policy: canonical addresses", test_canonical) ||
	       !CU_add_test(s, "ports: collision-free until full", test_ports_take_all) ||
	       !CU_add_test(s, "ports: random spread", test_ports_random) ||
	       !CU_add_test(s, "ports: even and pair", test_ports_even) ||
	       !CU_add_test(s, "timers: heap order, re-arm, cancel", test_timers_order);
}
