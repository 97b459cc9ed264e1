/* config/: defaults, the documented example, and errors that name file, line and key. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "config/config.h"

#define MINIMAL "interface: eth1\naddresses: [198.18.0.1]\nrealm: example.org\n" \
		"auth: {users: [{username: alice, password: wonderland}]}\n"

static int load(const char *text, struct xturn_config *cfg, char *err)
{
	return xturn_config__load_string("test.yaml", text, strlen(text), cfg, err,
					 XTURN_CONFIG_ERR_LEN);
}

static void test_minimal_gets_defaults(void)
{
	struct xturn_config cfg;
	char err[XTURN_CONFIG_ERR_LEN] = "";

	CU_ASSERT_EQUAL_FATAL(load(MINIMAL, &cfg, err), 0);
	CU_ASSERT_STRING_EQUAL(cfg.interface, "eth1");
	CU_ASSERT_EQUAL(cfg.n_addresses, 1);
	CU_ASSERT_EQUAL(cfg.addresses[0].family, XT_AF_INET);
	CU_ASSERT_EQUAL(cfg.addresses[0].ip[0], 198);
	CU_ASSERT_EQUAL(cfg.addresses[0].ip[3], 1);
	CU_ASSERT_EQUAL(cfg.advertised[0].family, 0);
	CU_ASSERT_EQUAL(cfg.listen_port, 3478);
	CU_ASSERT_EQUAL(cfg.relay_port_min, 49152);
	CU_ASSERT_EQUAL(cfg.relay_port_max, 65535);
	CU_ASSERT_STRING_EQUAL(cfg.realm, "example.org");
	CU_ASSERT_PTR_NULL(cfg.software);
	CU_ASSERT_EQUAL(cfg.auth.n_users, 1);
	CU_ASSERT_STRING_EQUAL(cfg.auth.users[0].username, "alice");
	CU_ASSERT_STRING_EQUAL(cfg.auth.users[0].password, "wonderland");
	CU_ASSERT_FALSE(cfg.auth.users[0].has_key);
	CU_ASSERT_EQUAL(cfg.auth.n_secrets, 0);
	CU_ASSERT_EQUAL(cfg.auth.nonce_lifetime, 3600);
	CU_ASSERT_EQUAL(cfg.allocations.default_lifetime, 600);
	CU_ASSERT_EQUAL(cfg.allocations.max_lifetime, 3600);
	CU_ASSERT_EQUAL(cfg.allocations.max_per_user, 64);
	CU_ASSERT_EQUAL(cfg.allocations.max_total, 1000000);
	CU_ASSERT_EQUAL(cfg.allocations.bandwidth_bps, 0);
	CU_ASSERT_FALSE(cfg.allocations.legacy_channels);
	CU_ASSERT_TRUE(cfg.peers.deny_default);
	CU_ASSERT_EQUAL(cfg.peers.n_deny, 0);
	CU_ASSERT_EQUAL(cfg.peers.n_allow, 0);
	CU_ASSERT_EQUAL(cfg.xdp.mode, XTURN_XDP_AUTO);
	CU_ASSERT_EQUAL(cfg.xdp.zero_copy, XTURN_ZC_AUTO);
	CU_ASSERT_TRUE(cfg.xdp.fast_path);
	CU_ASSERT_TRUE(cfg.xdp.all_queues);
	CU_ASSERT_TRUE(cfg.metrics.enabled);
	CU_ASSERT_EQUAL(xt_addr_port(&cfg.metrics.listen), 9641);
	CU_ASSERT_EQUAL(cfg.metrics.listen.ip[0], 127);
	CU_ASSERT_EQUAL(cfg.log.level, XTURN_LOG_INFO);
	CU_ASSERT_EQUAL(cfg.log.format, XTURN_LOG_TEXT);
	CU_ASSERT_STRING_EQUAL(cfg.path, "test.yaml");
	xturn_config__free(&cfg);
}

/* The shipped, documented example loads and means what its comments say. */
static void test_example_file(void)
{
	struct xturn_config cfg;
	char err[XTURN_CONFIG_ERR_LEN] = "";
	int ret = xturn_config__load("config/xturn.yaml", &cfg, err, sizeof(err));

	if (ret)
		fprintf(stderr, "\n  %s\n", err);
	CU_ASSERT_EQUAL_FATAL(ret, 0);
	CU_ASSERT_EQUAL(cfg.n_addresses, 2);
	CU_ASSERT_EQUAL(cfg.addresses[1].family, XT_AF_INET6);
	CU_ASSERT_EQUAL(cfg.addresses[1].ip[0], 0x20);
	CU_ASSERT_EQUAL(cfg.addresses[1].ip[15], 0x10);
	CU_ASSERT_EQUAL(cfg.advertised[0].family, XT_AF_INET);
	CU_ASSERT_EQUAL(cfg.advertised[0].ip[0], 198);
	CU_ASSERT_EQUAL(cfg.advertised[0].ip[3], 7);
	CU_ASSERT_EQUAL(cfg.advertised[1].family, 0);
	CU_ASSERT_EQUAL(cfg.auth.n_users, 2);
	CU_ASSERT_TRUE(cfg.auth.users[1].has_key);
	CU_ASSERT_EQUAL(cfg.auth.users[1].key[0], 0x6b);
	CU_ASSERT_EQUAL(cfg.auth.users[1].key[15], 0xd2);
	CU_ASSERT_EQUAL(cfg.auth.n_secrets, 2);
	CU_ASSERT_STRING_EQUAL(cfg.auth.secrets[0], "current-secret");
	CU_ASSERT_STRING_EQUAL(cfg.auth.secrets[1], "previous-secret");
	CU_ASSERT_TRUE(cfg.peers.deny_default);
	xturn_config__free(&cfg);

	ret = xturn_config__load("config/demo.yaml", &cfg, err, sizeof(err));
	if (ret)
		fprintf(stderr, "\n  %s\n", err);
	CU_ASSERT_EQUAL(ret, 0);
	if (!ret)
		xturn_config__free(&cfg);
}

static void test_every_key_set(void)
{
	const char *text = "interface: veth-r\n"
			   "addresses: [198.18.0.1, \"fd98:18::1\"]\n"
			   "listen_port: 3479\n"
			   "relay_ports: {min: 40000, max: 40099}\n"
			   "realm: r\n"
			   "software: xturn\n"
			   "auth:\n"
			   "  secrets: [s1]\n"
			   "  nonce_lifetime: 60\n"
			   "allocations: {default_lifetime: 30, max_lifetime: 60, max_per_user: 2,\n"
			   "              max_total: 10, bandwidth: 125000, legacy_channels: yes}\n"
			   "peers: {deny: [default, 203.0.113.0/24], allow: [\"10.1.2.3/8\"]}\n"
			   "xdp: {mode: native, zero_copy: false, fast_path: no, queues: [0, 3]}\n"
			   "metrics: {listen: \"[::1]:9000\"}\n"
			   "log: {level: debug, format: json}\n";
	struct xturn_config cfg;
	char err[XTURN_CONFIG_ERR_LEN] = "";
	int ret = load(text, &cfg, err);

	if (ret)
		fprintf(stderr, "\n  %s\n", err);
	CU_ASSERT_EQUAL_FATAL(ret, 0);
	CU_ASSERT_EQUAL(cfg.listen_port, 3479);
	CU_ASSERT_EQUAL(cfg.relay_port_min, 40000);
	CU_ASSERT_EQUAL(cfg.relay_port_max, 40099);
	CU_ASSERT_STRING_EQUAL(cfg.software, "xturn");
	CU_ASSERT_EQUAL(cfg.auth.n_users, 0);
	CU_ASSERT_EQUAL(cfg.auth.nonce_lifetime, 60);
	CU_ASSERT_EQUAL(cfg.allocations.default_lifetime, 30);
	CU_ASSERT_EQUAL(cfg.allocations.max_total, 10);
	CU_ASSERT_EQUAL(cfg.allocations.bandwidth_bps, 125000);
	CU_ASSERT_TRUE(cfg.allocations.legacy_channels);
	CU_ASSERT_TRUE(cfg.peers.deny_default);
	CU_ASSERT_EQUAL(cfg.peers.n_deny, 1);
	CU_ASSERT_EQUAL(cfg.peers.deny[0].prefix_len, 24);
	CU_ASSERT_EQUAL(cfg.peers.n_allow, 1);
	/* host bits are cleared */
	CU_ASSERT_EQUAL(cfg.peers.allow[0].ip[0], 10);
	CU_ASSERT_EQUAL(cfg.peers.allow[0].ip[1], 0);
	CU_ASSERT_EQUAL(cfg.peers.allow[0].ip[3], 0);
	CU_ASSERT_EQUAL(cfg.xdp.mode, XTURN_XDP_NATIVE);
	CU_ASSERT_EQUAL(cfg.xdp.zero_copy, XTURN_ZC_OFF);
	CU_ASSERT_FALSE(cfg.xdp.fast_path);
	CU_ASSERT_FALSE(cfg.xdp.all_queues);
	CU_ASSERT_EQUAL(cfg.xdp.n_queues, 2);
	CU_ASSERT_EQUAL(cfg.xdp.queues[1], 3);
	CU_ASSERT_EQUAL(cfg.metrics.listen.family, XT_AF_INET6);
	CU_ASSERT_EQUAL(xt_addr_port(&cfg.metrics.listen), 9000);
	CU_ASSERT_EQUAL(cfg.log.level, XTURN_LOG_DEBUG);
	CU_ASSERT_EQUAL(cfg.log.format, XTURN_LOG_JSON);
	xturn_config__free(&cfg);
}

/* Each bad file gives exactly this message: file, line, key, and what is wrong. */
static void test_errors_name_file_line_key(void)
{
	static const struct {
		const char *text, *message;
	} cases[] = {
		{ "", "test.yaml:1: (top level): the file is empty; interface, addresses and realm are required" },
		{ "[1, 2]\n", "test.yaml:1: (top level): expected a mapping, got a list" },
		{ MINIMAL "bogus: 1\n", "test.yaml:5: bogus: unknown key" },
		{ MINIMAL "xdp: {mode: native, turbo: on}\n", "test.yaml:5: xdp.turbo: unknown key" },
		{ MINIMAL "realm: again\n", "test.yaml:5: realm: given twice (first on line 3)" },
		{ "addresses: [198.18.0.1]\nrealm: r\nauth: {secrets: [s]}\n",
		  "test.yaml:1: interface: required key missing" },
		{ "interface: eth1\nrealm: r\nauth: {secrets: [s]}\n",
		  "test.yaml:1: addresses: required key missing" },
		{ "interface: eth1\naddresses: [198.18.0.1]\nauth: {secrets: [s]}\n",
		  "test.yaml:1: realm: required key missing" },
		{ "interface: eth1\naddresses: [198.18.0.1]\nrealm: r\n",
		  "test.yaml:1: auth: no users and no secrets: every Allocate would be refused" },
		{ MINIMAL "listen_port: 70000\n",
		  "test.yaml:5: listen_port: expected an integer from 1 to 65535, got '70000'" },
		{ MINIMAL "listen_port: [1]\n", "test.yaml:5: listen_port: expected a value, got a list" },
		{ MINIMAL "listen_port: -5\n",
		  "test.yaml:5: listen_port: expected an integer from 1 to 65535, got '-5'" },
		{ MINIMAL "relay_ports: {min: 50000, max: 40000}\n",
		  "test.yaml:5: relay_ports: the range 50000-40000 is empty" },
		{ MINIMAL "relay_ports: {min: 3000, max: 4000}\n",
		  "test.yaml:5: relay_ports: the range 3000-4000 holds listen_port 3478" },
		{ MINIMAL "relay_ports: 5\n", "test.yaml:5: relay_ports: expected a mapping, got a scalar" },
		{ "interface: eth1\naddresses: [198.18.0.1, 300.1.1.1]\nrealm: r\n",
		  "test.yaml:2: addresses: '300.1.1.1' is not an IPv4 or IPv6 address" },
		{ "interface: eth1\naddresses: [198.18.0.1, 198.18.0.1]\nrealm: r\n",
		  "test.yaml:2: addresses: '198.18.0.1' is listed twice" },
		{ "interface: eth1\naddresses: []\nrealm: r\n",
		  "test.yaml:2: addresses: at least one relay address is required" },
		{ "interface: this-name-is-far-too-long\n",
		  "test.yaml:1: interface: 'this-name-is-far-too-long' is not an interface name" },
		{ MINIMAL "peers: {deny: [10.0.0.0/33]}\n",
		  "test.yaml:5: peers.deny: '10.0.0.0/33' is not an address or CIDR (or default)" },
		{ MINIMAL "peers:\n  allow:\n    - 10.0.0.0/8\n    - default\n",
		  "test.yaml:8: peers.allow: 'default' is not an address or CIDR" },
		{ MINIMAL "xdp: {mode: turbo}\n",
		  "test.yaml:5: xdp.mode: expected one of auto, native, generic, got 'turbo'" },
		{ MINIMAL "xdp: {fast_path: maybe}\n",
		  "test.yaml:5: xdp.fast_path: expected true or false, got 'maybe'" },
		{ MINIMAL "xdp: {queues: [0, 0]}\n", "test.yaml:5: xdp.queues: queue 0 is listed twice" },
		{ MINIMAL "metrics: {listen: localhost}\n",
		  "test.yaml:5: metrics.listen: expected ADDRESS:PORT, [IPv6]:PORT or off, got 'localhost'" },
		{ MINIMAL "log: {level: loud}\n",
		  "test.yaml:5: log.level: expected one of error, warn, info, debug, got 'loud'" },
		{ MINIMAL "allocations: {default_lifetime: 4000}\n",
		  "test.yaml:5: allocations.default_lifetime: 4000 is above max_lifetime 3600" },
		{ "interface: eth1\naddresses: [198.18.0.1]\nrealm: r\nauth:\n  users:\n    - {username: a}\n",
		  "test.yaml:6: auth.users[0]: give exactly one of password and key" },
		{ "interface: eth1\naddresses: [198.18.0.1]\nrealm: r\nauth:\n  users:\n"
		  "    - {username: a, key: 0x12}\n",
		  "test.yaml:6: auth.users[0].key: expected 0x and 32 hex digits (MD5 of user:realm:password)" },
		{ "interface: eth1\naddresses: [198.18.0.1]\nrealm: r\nauth:\n  users:\n"
		  "    - {username: a, password: x}\n    - {username: a, password: y}\n",
		  "test.yaml:7: auth.users[1]: user 'a' is listed twice" },
		{ "interface: eth1\naddresses: [198.18.0.1]\nrealm: r\nauth:\n  users:\n"
		  "    - {username: a, pasword: x}\n",
		  "test.yaml:6: auth.users[0].pasword: unknown key (username, password or key)" },
		{ MINIMAL "advertised: {198.18.0.9: 203.0.113.1}\n",
		  "test.yaml:5: advertised.198.18.0.9: '198.18.0.9' is not one of addresses" },
		{ MINIMAL "advertised: {198.18.0.1: \"2001:db8::1\"}\n",
		  "test.yaml:5: advertised.198.18.0.1: a 1:1 NAT address must be of the same family" },
		{ MINIMAL "auth: {nonce_lifetime: 0}\n",
		  "test.yaml:5: auth: given twice (first on line 4)" },
		{ "interface: eth1\n  bad indent: [\n", "test.yaml:2: YAML syntax: mapping values are not allowed in this context" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xturn_config cfg;
		char err[XTURN_CONFIG_ERR_LEN] = "";

		memset(&cfg, 0x5A, sizeof(cfg));
		int ret = load(cases[i].text, &cfg, err);

		CU_ASSERT_EQUAL(ret, -EINVAL);
		if (strcmp(err, cases[i].message))
			fprintf(stderr, "\n  case %zu:\n    got  %s\n    want %s\n", i, err,
				cases[i].message);
		CU_ASSERT_STRING_EQUAL(err, cases[i].message);
		/* A failed load leaves the caller's struct alone (a broken reload keeps the old). */
		CU_ASSERT_EQUAL(((unsigned char *)&cfg)[0], 0x5A);
		CU_ASSERT_EQUAL(((unsigned char *)&cfg)[sizeof(cfg) - 1], 0x5A);
		if (ret == 0)
			xturn_config__free(&cfg);
	}
}

static void test_missing_file(void)
{
	struct xturn_config cfg;
	char err[XTURN_CONFIG_ERR_LEN] = "";

	CU_ASSERT_EQUAL(xturn_config__load("/nonexistent/xturn.yaml", &cfg, err, sizeof(err)),
			-ENOENT);
	CU_ASSERT_STRING_EQUAL(err, "/nonexistent/xturn.yaml: cannot open: No such file or directory");
}

static void test_cidr(void)
{
	struct xturn_cidr c;
	struct xt_addr a;

	CU_ASSERT_EQUAL(xturn_parse_cidr("100.64.0.0/10", &c), 0);
	CU_ASSERT_EQUAL(xturn_parse_ip("100.127.255.255", &a), 0);
	CU_ASSERT_TRUE(xturn_cidr_contains(&c, &a));
	CU_ASSERT_EQUAL(xturn_parse_ip("100.128.0.0", &a), 0);
	CU_ASSERT_FALSE(xturn_cidr_contains(&c, &a));
	CU_ASSERT_EQUAL(xturn_parse_cidr("fc00::/7", &c), 0);
	CU_ASSERT_EQUAL(xturn_parse_ip("fdff::1", &a), 0);
	CU_ASSERT_TRUE(xturn_cidr_contains(&c, &a));
	CU_ASSERT_EQUAL(xturn_parse_ip("fe00::1", &a), 0);
	CU_ASSERT_FALSE(xturn_cidr_contains(&c, &a));
	CU_ASSERT_EQUAL(xturn_parse_ip("10.0.0.1", &a), 0);
	CU_ASSERT_FALSE(xturn_cidr_contains(&c, &a)); /* other family */
	CU_ASSERT_EQUAL(xturn_parse_cidr("0.0.0.0/0", &c), 0);
	CU_ASSERT_TRUE(xturn_cidr_contains(&c, &a));
	CU_ASSERT_EQUAL(xturn_parse_cidr("198.18.0.7", &c), 0);
	CU_ASSERT_EQUAL(c.prefix_len, 32);
	CU_ASSERT_EQUAL(xturn_parse_cidr("1.2.3.4/", &c), -EINVAL);
	CU_ASSERT_EQUAL(xturn_parse_cidr("1.2.3.4/-1", &c), -EINVAL);
	CU_ASSERT_EQUAL(xturn_parse_cidr("::/129", &c), -EINVAL);
	CU_ASSERT_EQUAL(xturn_parse_cidr("example.org/8", &c), -EINVAL);
}

int test_config_register(void)
{
	CU_pSuite s = CU_add_suite("config", NULL, NULL);

	if (!s)
		return -1;
	return !CU_add_test(s, "minimal file gets every default", test_minimal_gets_defaults) ||
	       !CU_add_test(s, "documented example and demo load", test_example_file) ||
	       !CU_add_test(s, "every key set", test_every_key_set) ||
	       !CU_add_test(s, "errors name file, line and key", test_errors_name_file_line_key) ||
	       !CU_add_test(s, "missing file", test_missing_file) ||
	       !CU_add_test(s, "CIDR parse and match", test_cidr);
}
