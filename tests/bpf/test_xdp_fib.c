/* The FIB answers: MACs from bpf_fib_lookup (our interface → the next hop), egress through another
 * interface (tx_ports), a route MTU, unreachable routes and a missing neighbour.
 *
 * Also the attachment itself (modes, busy interface) and a real AF_XDP socket in xsks.
 * The suite builds its own little network in the bpf-tests namespace: veth interfaces xtd0 and
 * xtd1 (peers xtd0p, xtd1p) with forwarding on (bpf_fib_lookup answers FWD_DISABLED otherwise), routes through gateways
 * with permanent neighbour entries. Frames are run with ingress_ifindex = xtd0.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>
#include "tests/bpf/harness.h"

static const __u8 mac_xtd0[6] = { 0x02, 0, 0, 0, 0xd0, 0x00 };
static const __u8 mac_xtd1[6] = { 0x02, 0, 0, 0, 0xd1, 0x00 };
static const __u8 mac_gw0[6] = { 0x02, 0, 0, 0, 0xfe, 0x00 };
static const __u8 mac_gw1[6] = { 0x02, 0, 0, 0, 0xfe, 0x05 };
static const __u8 mac_gw6[6] = { 0x02, 0, 0, 0, 0xfe, 0x06 };

static const __u8 mac_gw0_new[6] = { 0x02, 0, 0, 0, 0xfe, 0xaa };

static int xtd0, xtd1;
static struct fastpath_binding f_v4, f_v6, f_other_if, f_small_mtu, f_unreachable, f_no_neigh;
static struct fastpath_binding f_by_source; /* same peer as f_v4, other relay address */

static const char *const setup[] = {
	"ip link add xtd0 type veth peer name xtd0p",
	"ip link set xtd0 address 02:00:00:00:d0:00 up",
	"ip link set xtd0p up",
	"ip link add xtd1 type veth peer name xtd1p",
	"ip link set xtd1 address 02:00:00:00:d1:00 up",
	"ip link set xtd1p up",
	"ip addr add 198.18.0.1/24 dev xtd0",
	"ip addr add 198.18.5.1/24 dev xtd1",
	"ip -6 addr add fd98:18::1/64 dev xtd0 nodad",
	"ip neigh add 198.18.0.254 lladdr 02:00:00:00:fe:00 dev xtd0 nud permanent",
	"ip neigh add 198.18.5.254 lladdr 02:00:00:00:fe:05 dev xtd1 nud permanent",
	"ip -6 neigh add fd98:18::fe lladdr 02:00:00:00:fe:06 dev xtd0 nud permanent",
	"ip route add 198.18.1.0/24 via 198.18.0.254 dev xtd0",
	"ip route add 198.18.2.0/24 via 198.18.0.254 dev xtd0",
	"ip route add 198.18.3.0/24 via 198.18.5.254 dev xtd1",
	"ip route add 198.18.4.0/24 via 198.18.0.254 dev xtd0 mtu lock 100",
	"ip route add unreachable 198.18.6.0/24",
	"ip route add 198.18.7.0/24 via 198.18.0.253 dev xtd0",
	"ip -6 route add fd98:18::2:0/112 via fd98:18::fe dev xtd0",
	/* Source routing: traffic from 198.18.0.9 leaves through xtd1. */
	"ip rule add from 198.18.0.9 lookup 100",
	"ip route add 198.18.2.0/24 via 198.18.5.254 dev xtd1 table 100",
	"sysctl -qw net.ipv4.conf.xtd0.forwarding=1 net.ipv4.conf.xtd1.forwarding=1",
	"sysctl -qw net.ipv6.conf.xtd0.forwarding=1",
};

static int suite_init(void)
{
	const struct fastpath_binding *all[] = { &f_v4,		 &f_v6,	      &f_other_if,
						 &f_small_mtu,	 &f_unreachable, &f_no_neigh,
						 &f_by_source };

	for (size_t i = 0; i < sizeof(setup) / sizeof(setup[0]); i++)
		if (system(setup[i]) != 0) {
			fprintf(stderr, "xdp_fib: '%s' failed\n", setup[i]);
			return -1;
		}
	xtd0 = (int)if_nametoindex("xtd0");
	xtd1 = (int)if_nametoindex("xtd1");
	if (!xtd0 || !xtd1)
		return -1;
	t_config(T_FLAGS, 1500);
	f_v4 = t_binding("198.18.1.2:41000", "198.18.0.1:3478", "198.18.2.3:51000",
			 "198.18.0.1:49170", 0x4101, 101);
	f_v6 = t_binding("[fd98:18::2:5]:41000", "[fd98:18::1]:3478", "[fd98:18::2:3]:51000",
			 "[fd98:18::1]:49171", 0x4102, 102);
	f_other_if = t_binding("198.18.1.2:41001", "198.18.0.1:3478", "198.18.3.3:51000",
			       "198.18.0.1:49172", 0x4103, 103);
	f_small_mtu = t_binding("198.18.1.2:41002", "198.18.0.1:3478", "198.18.4.3:51000",
				"198.18.0.1:49173", 0x4104, 104);
	f_unreachable = t_binding("198.18.1.2:41003", "198.18.0.1:3478", "198.18.6.3:51000",
				  "198.18.0.1:49174", 0x4105, 105);
	f_no_neigh = t_binding("198.18.1.2:41004", "198.18.0.1:3478", "198.18.7.3:51000",
			       "198.18.0.1:49175", 0x4106, 106);
	f_by_source = t_binding("198.18.1.2:41005", "198.18.0.1:3478", "198.18.2.3:51000",
				"198.18.0.9:49176", 0x4107, 107);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (fastpath__install(t_relay, all[i]) ||
		    xdp_relay__mark_port(t_relay, xt_addr_port(&all[i]->relay), true))
			return -1;
	return 0;
}

static int suite_clean(void)
{
	return system("ip link del xtd0 && ip link del xtd1") == 0 ? 0 : -1;
}

static void run_expect(const struct tframe *in, int verdict, const struct tframe *want,
		       const struct tdelta *d, size_t n)
{
	struct tstats before, after;
	struct tframe out;
	int rc;

	t_stats(&before);
	rc = t_run(in, &out, xtd0);
	t_stats(&after);
	if (rc != verdict)
		printf("\n    verdict %d, want %d", rc, verdict);
	CU_ASSERT_EQUAL(rc, verdict);
	CU_ASSERT(t_frames_equal(&out, want ? want : in));
	if (want)
		CU_ASSERT(t_checksums_ok(&out));
	CU_ASSERT(t_stats_changed_by(&before, &after, d, n));
}

/* Client → peer through the FIB; smac/dmac are what the output must carry. */
static void c2p(const struct fastpath_binding *b, size_t len, int verdict, const __u8 *smac,
		const __u8 *dmac, const struct tdelta *d, size_t n)
{
	__u8 data[1500], payload[1600];
	struct tparams op = { .ttl = 63, .src_mac = smac, .dst_mac = dmac };
	struct tframe in, want;
	size_t plen;

	t_fill(data, len, 77);
	plen = t_channel_data(payload, b->channel, data, len, (4 - len % 4) % 4);
	t_build(&in, &b->client, &b->listen, payload, plen, NULL);
	t_build(&want, &b->relay, &b->peer, data, len, &op);
	run_expect(&in, verdict, smac ? &want : NULL, d, n);
}

static void test_fib_macs_v4(void)
{
	const struct tdelta d[] = { { XT_STAT_RELAY_C2P_V4, 1, 100 } };
	const struct tdelta d2[] = { { XT_STAT_RELAY_P2C_V4, 1, 33 } };
	__u8 data[64], payload[64];
	struct tparams op = { .ttl = 63, .src_mac = mac_xtd0, .dst_mac = mac_gw0 };
	struct tframe in, want;

	c2p(&f_v4, 100, XDP_TX, mac_xtd0, mac_gw0, d, 1);
	t_fill(data, 33, 1);
	t_build(&in, &f_v4.peer, &f_v4.relay, data, 33, NULL);
	t_build(&want, &f_v4.listen, &f_v4.client, payload,
		t_channel_data(payload, f_v4.channel, data, 33, 0), &op);
	run_expect(&in, XDP_TX, &want, d2, 1);
}

static void test_fib_macs_v6(void)
{
	const struct tdelta d[] = { { XT_STAT_RELAY_C2P_V6, 1, 99 } };

	c2p(&f_v6, 99, XDP_TX, mac_xtd0, mac_gw6, d, 1);
}

static void test_fib_other_interface(void)
{
	const struct tdelta none[] = { { XT_STAT_USER_NO_TX_PORT, 1, 14 + 20 + 8 + 4 + 64 },
				       { XT_STAT_XSK_MISSING, 1, 14 + 20 + 8 + 4 + 64 } };
	const struct tdelta sent[] = { { XT_STAT_RELAY_C2P_V4, 1, 64 },
				       { XT_STAT_TX_REDIRECT, 1, 64 } };

	/* Not a port the relay may use: handed to user space untouched. */
	c2p(&f_other_if, 64, XDP_PASS, NULL, NULL, none, 2);
	CU_ASSERT_EQUAL(xdp_relay__add_tx_port(t_relay, xtd1), 0);
	c2p(&f_other_if, 64, XDP_REDIRECT, mac_xtd1, mac_gw1, sent, 2);
	CU_ASSERT_EQUAL(xdp_relay__remove_tx_port(t_relay, xtd1), 0);
}

static void test_fib_route_mtu(void)
{
	const struct tdelta big[] = { { XT_STAT_USER_MTU, 1, 14 + 20 + 8 + 4 + 100 },
				      { XT_STAT_XSK_MISSING, 1, 14 + 20 + 8 + 4 + 100 } };
	const struct tdelta fits[] = { { XT_STAT_RELAY_C2P_V4, 1, 72 } };

	c2p(&f_small_mtu, 100, XDP_PASS, NULL, NULL, big, 2); /* 128 > 100 */
	c2p(&f_small_mtu, 72, XDP_TX, mac_xtd0, mac_gw0, fits, 1);
	/* The cached answer was for 100 bytes: a bigger packet asks the FIB again. */
	c2p(&f_small_mtu, 100, XDP_PASS, NULL, NULL, big, 2);
	c2p(&f_small_mtu, 72, XDP_TX, mac_xtd0, mac_gw0, fits, 1);
}

/* Answers are cached per CPU, per source as well as destination, and forgotten on
 * xdp_relay__flush_fib_cache() or once xdp_relay__age_fib_cache() sees fib_cache_ms pass. */
static void test_fib_cache(void)
{
	const struct tdelta d[] = { { XT_STAT_RELAY_C2P_V4, 1, 40 } };

	c2p(&f_v4, 40, XDP_TX, mac_xtd0, mac_gw0, d, 1);
	CU_ASSERT_EQUAL_FATAL(system("ip neigh replace 198.18.0.254 lladdr 02:00:00:00:fe:aa "
				     "dev xtd0 nud permanent"),
			      0);
	/* While the answer is cached the old next hop is still used... */
	c2p(&f_v4, 40, XDP_TX, mac_xtd0, mac_gw0, d, 1);
	/* ...until user space says the neighbour changed. */
	CU_ASSERT_EQUAL(xdp_relay__flush_fib_cache(t_relay), 0);
	c2p(&f_v4, 40, XDP_TX, mac_xtd0, mac_gw0_new, d, 1);

	/* The program reads no clock: answers age when user space says fib_cache_ms have passed. */
	CU_ASSERT_EQUAL_FATAL(system("ip neigh replace 198.18.0.254 lladdr 02:00:00:00:fe:00 "
				     "dev xtd0 nud permanent"),
			      0);
	CU_ASSERT_EQUAL(xdp_relay__age_fib_cache(t_relay, 1000000), 0); /* first call: ages */
	c2p(&f_v4, 40, XDP_TX, mac_xtd0, mac_gw0, d, 1);
	CU_ASSERT_EQUAL_FATAL(system("ip neigh replace 198.18.0.254 lladdr 02:00:00:00:fe:aa "
				     "dev xtd0 nud permanent"),
			      0);
	CU_ASSERT_EQUAL(xdp_relay__age_fib_cache(t_relay, 1000000 + 999), 0); /* 999 ms: kept */
	c2p(&f_v4, 40, XDP_TX, mac_xtd0, mac_gw0, d, 1);
	CU_ASSERT_EQUAL(xdp_relay__age_fib_cache(t_relay, 1000000 + 1000), 0); /* 1 s: aged */
	c2p(&f_v4, 40, XDP_TX, mac_xtd0, mac_gw0_new, d, 1);

	/* With the cache off every packet asks the FIB. */
	{
		struct xt_config cfg;

		CU_ASSERT_EQUAL(xdp_relay__get_config(t_relay, &cfg), 0);
		put_be16(cfg.fib_cache_ms, 0);
		CU_ASSERT_EQUAL(xdp_relay__set_config(t_relay, &cfg), 0);
	}
	CU_ASSERT_EQUAL_FATAL(system("ip neigh replace 198.18.0.254 lladdr 02:00:00:00:fe:00 "
				     "dev xtd0 nud permanent"),
			      0);
	c2p(&f_v4, 40, XDP_TX, mac_xtd0, mac_gw0, d, 1);
	t_config(T_FLAGS, 1500);
}

static void test_fib_source_routing(void)
{
	const struct tdelta to_xtd0[] = { { XT_STAT_RELAY_C2P_V4, 1, 40 } };
	const struct tdelta to_xtd1[] = { { XT_STAT_RELAY_C2P_V4, 1, 40 },
					  { XT_STAT_TX_REDIRECT, 1, 40 } };

	CU_ASSERT_EQUAL(xdp_relay__add_tx_port(t_relay, xtd1), 0);
	/* Same peer, different relayed addresses: the cache must not mix them up. */
	for (int i = 0; i < 2; i++) {
		c2p(&f_v4, 40, XDP_TX, mac_xtd0, mac_gw0, to_xtd0, 1);
		c2p(&f_by_source, 40, XDP_REDIRECT, mac_xtd1, mac_gw1, to_xtd1, 2);
	}
	CU_ASSERT_EQUAL(xdp_relay__remove_tx_port(t_relay, xtd1), 0);
}

static void test_fib_unreachable(void)
{
	const struct tdelta d[] = { { XT_STAT_USER_ROUTE, 1, 14 + 20 + 8 + 4 + 40 },
				    { XT_STAT_XSK_MISSING, 1, 14 + 20 + 8 + 4 + 40 } };

	c2p(&f_unreachable, 40, XDP_PASS, NULL, NULL, d, 2);
}

/* A route without a resolved next hop: to user space untouched (it resolves and holds the frame),
 * never back to the sender with swapped MACs. */
static void test_fib_no_neighbour_to_user(void)
{
	const struct tdelta d[] = { { XT_STAT_USER_NO_NEIGH, 1, 14 + 20 + 8 + 4 + 40 },
				    { XT_STAT_XSK_MISSING, 1, 14 + 20 + 8 + 4 + 40 } };

	c2p(&f_no_neigh, 40, XDP_PASS, NULL, NULL, d, 2);
}

/* With the FIB able to answer, the config flag still forces the swap. */
static void test_fib_skipped_by_flag(void)
{
	const struct tdelta d[] = { { XT_STAT_RELAY_C2P_V4, 1, 40 }, { XT_STAT_FIB_FALLBACK, 1, 40 } };

	t_config(T_FLAGS | XT_CFG_NO_FIB, 1500);
	c2p(&f_v4, 40, XDP_TX, t_relay_mac, t_router_mac, d, 2);
	t_config(T_FLAGS, 1500);
}

/* A real AF_XDP socket on xtd0 queue 0, registered in xsks: user-space traffic is now
 * XDP_REDIRECT (counted as xsk), and XDP_PASS again once it is unregistered. */
static void test_xsk_redirect(void)
{
	const size_t frames = 64, frame_size = 2048;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	struct xsk_umem *umem = NULL;
	struct xsk_socket *xsk = NULL;
	struct xsk_socket_config cfg = {
		.rx_size = 64,
		.tx_size = 64,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	struct fastpath_binding b = f_v4;
	struct tframe in;
	void *area;
	__u8 data[20] = { 0 };

	area = mmap(NULL, frames * frame_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	CU_ASSERT_FATAL(area != MAP_FAILED);
	CU_ASSERT_EQUAL_FATAL(xsk_umem__create(&umem, area, frames * frame_size, &fill, &comp, NULL),
			      0);
	CU_ASSERT_EQUAL_FATAL(xsk_socket__create(&xsk, "xtd0", 0, umem, &rx, &tx, &cfg), 0);
	CU_ASSERT_EQUAL(xdp_relay__register_xsk(t_relay, 0, xsk_socket__fd(xsk)), 0);

	b.peer = t_addr("198.18.2.77:9"); /* no channel: the datagram is user space's */
	t_build(&in, &b.peer, &b.relay, data, sizeof(data), NULL);
	{
		const struct tdelta d[] = { { XT_STAT_USER_NO_CHANNEL, 1, in.len },
					    { XT_STAT_XSK, 1, in.len } };

		run_expect(&in, XDP_REDIRECT, NULL, d, 2);
	}
	CU_ASSERT_EQUAL(xdp_relay__unregister_xsk(t_relay, 0), 0);
	{
		const struct tdelta d[] = { { XT_STAT_USER_NO_CHANNEL, 1, in.len },
					    { XT_STAT_XSK_MISSING, 1, in.len } };

		run_expect(&in, XDP_PASS, NULL, d, 2);
	}
	xsk_socket__delete(xsk);
	xsk_umem__delete(umem);
	munmap(area, frames * frame_size);
}

static char warning[512];

static void capture(enum xdp_relay_log_level level, const char *msg)
{
	if (level == XDP_RELAY_LOG_WARN)
		snprintf(warning, sizeof(warning), "%s", msg);
}

/* Attach modes on lo, which has no native XDP: auto falls back to generic with a warning,
 * native fails, a second program is refused, detach leaves nothing behind. */
static void test_attach_modes(void)
{
	struct xdp_relay_opts o = { .log = capture };
	struct xdp_relay *a = xdp_relay__open(&o), *b = xdp_relay__open(&o);

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(xdp_relay__attach(a, "lo", XDP_RELAY_MODE_NATIVE), -EOPNOTSUPP);
	CU_ASSERT_EQUAL(xdp_relay__ifindex(a), 0);
	warning[0] = 0;
	CU_ASSERT_EQUAL(xdp_relay__attach(a, "lo", XDP_RELAY_MODE_AUTO), 0);
	CU_ASSERT_EQUAL(xdp_relay__mode(a), XDP_RELAY_MODE_GENERIC);
	CU_ASSERT_PTR_NOT_NULL(strstr(warning, "generic"));
	CU_ASSERT_EQUAL(xdp_relay__attach(a, "lo", XDP_RELAY_MODE_AUTO), -EALREADY);
	/* Another xturn program, but a live one (this process holds it): not an orphan to replace. */
	CU_ASSERT_EQUAL(xdp_relay__attach(b, "lo", XDP_RELAY_MODE_GENERIC), -EBUSY);
	CU_ASSERT_PTR_NOT_NULL(strstr(xdp_relay__errmsg(), "already has an XDP program"));
	CU_ASSERT_EQUAL(xdp_relay__detach(a), 0);
	CU_ASSERT_EQUAL(xdp_relay__ifindex(a), 0);
	/* Detached for real: the other one may attach now, and destroy detaches it. */
	CU_ASSERT_EQUAL(xdp_relay__attach(b, "lo", XDP_RELAY_MODE_GENERIC), 0);
	CU_ASSERT_EQUAL(xdp_relay__mode(b), XDP_RELAY_MODE_GENERIC);
	xdp_relay__destroy(b);
	CU_ASSERT_EQUAL(xdp_relay__attach(a, "lo", XDP_RELAY_MODE_GENERIC), 0);
	xdp_relay__destroy(a);

	/* An xturn program whose loader died without detaching (kill -9) is an orphan: the next
	 * relay replaces it, and says so. */
	{
		pid_t child = fork();
		int status = -1;

		if (child == 0) {
			struct xdp_relay *c = xdp_relay__open(NULL);

			_exit(c && xdp_relay__attach(c, "lo", XDP_RELAY_MODE_GENERIC) == 0 ? 0 : 1);
		}
		CU_ASSERT_FATAL(child > 0);
		waitpid(child, &status, 0);
		CU_ASSERT_EQUAL_FATAL(status, 0);
	}
	CU_ASSERT_EQUAL(system("ip link show lo | grep -q xturn_xdp"), 0);
	a = xdp_relay__open(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	warning[0] = 0;
	CU_ASSERT_EQUAL(xdp_relay__attach(a, "lo", XDP_RELAY_MODE_GENERIC), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(warning, "replaced"));
	xdp_relay__destroy(a);
	CU_ASSERT_NOT_EQUAL(system("ip link show lo | grep -q xdp"), 0);
}

#define T(fn) { #fn, fn }
static CU_TestInfo tests[] = {
	T(test_fib_macs_v4),
	T(test_fib_macs_v6),
	T(test_fib_other_interface),
	T(test_fib_route_mtu),
	T(test_fib_cache),
	T(test_fib_source_routing),
	T(test_fib_unreachable),
	T(test_fib_no_neighbour_to_user),
	T(test_fib_skipped_by_flag),
	T(test_xsk_redirect),
	T(test_attach_modes),
	CU_TEST_INFO_NULL,
};

int test_xdp_fib_register(void)
{
	CU_SuiteInfo suites[] = {
		{ "xdp_fib", suite_init, suite_clean, NULL, NULL, tests },
		CU_SUITE_INFO_NULL,
	};

	return CU_register_suites(suites) == CUE_SUCCESS ? 0 : -1;
}
