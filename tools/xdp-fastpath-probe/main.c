/* xdp-fastpath-probe — attach the XDP program to an interface and drive its maps from stdin.
 *
 * For namespace tests and for poking at a live fast path without the daemon. It attaches, prints
 * "ready <native|generic>", then reads one command per line and answers "ok", "error: <why>" or,
 * for stats, "<counter> <packets> <bytes>" lines ended by "end":
 *   bind CLIENT LISTEN PEER RELAY CHANNEL [ALLOC_ID]    fastpath__install (+ marks RELAY's port)
 *   unbind CLIENT LISTEN PEER RELAY CHANNEL             fastpath__remove
 *   port PORT alloc|free                                xdp_relay__mark_port
 *   quota ALLOC_ID RATE BURST | noquota ALLOC_ID        token bucket of an allocation
 *   txport IFNAME                                       allow XDP_REDIRECT out of IFNAME
 *   flush                                               forget cached FIB answers
 *   stats                                               summed per-CPU counters
 *   quit                                                detach and exit (so do EOF and SIGTERM)
 * Addresses are 198.18.0.1:3478 or [fd98:18::1]:3478; CHANNEL is 0x4000..0x4FFF.
 *
 * Usage: xdp-fastpath-probe IFNAME --listen PORT --ports MIN-MAX --addr IP [--addr IP]...
 *                           [--mode auto|native|generic] [--no-fib] [--quota] [--slow]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xdp/loader.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_ip(const char *text, struct xt_addr *a, __u16 port)
{
	__u8 ip[16];

	if (inet_pton(AF_INET, text, ip) == 1)
		xt_addr_set_v4(a, ip, port);
	else if (inet_pton(AF_INET6, text, ip) == 1)
		xt_addr_set_v6(a, ip, port);
	else
		return -EINVAL;
	return 0;
}

/* "198.18.0.1:3478" or "[fd98:18::1]:3478". */
static int parse_addr(const char *text, struct xt_addr *a)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port;
	size_t n;

	if (text[0] == '[') {
		const char *end = strchr(text, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		n = (size_t)(end - text - 1);
		text++;
		port = end + 2;
	} else {
		const char *colon = strrchr(text, ':');

		if (!colon)
			return -EINVAL;
		n = (size_t)(colon - text);
		port = colon + 1;
	}
	if (n >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, n);
	host[n] = 0;
	return parse_ip(host, a, (__u16)strtoul(port, NULL, 10));
}

static int parse_binding(char **tok, int ntok, struct fastpath_binding *b)
{
	memset(b, 0, sizeof(*b));
	if (ntok < 6 || parse_addr(tok[1], &b->client) || parse_addr(tok[2], &b->listen) ||
	    parse_addr(tok[3], &b->peer) || parse_addr(tok[4], &b->relay))
		return -EINVAL;
	b->channel = (__u16)strtoul(tok[5], NULL, 0);
	b->alloc_id = ntok > 6 ? (__u32)strtoul(tok[6], NULL, 0) : 0;
	return 0;
}

static void reply(int err)
{
	if (err)
		printf("error: %s\n", xdp_relay__errmsg()[0] ? xdp_relay__errmsg() : strerror(-err));
	else
		printf("ok\n");
	fflush(stdout);
}

static int command(struct xdp_relay *r, char *line)
{
	char *tok[8];
	int n = 0;
	struct fastpath_binding b;

	for (char *t = strtok(line, " \t\r\n"); t && n < 8; t = strtok(NULL, " \t\r\n"))
		tok[n++] = t;
	if (n == 0)
		return 0;
	if (!strcmp(tok[0], "quit"))
		return 1;
	if (!strcmp(tok[0], "bind") || !strcmp(tok[0], "unbind")) {
		int err = parse_binding(tok, n, &b);

		if (err) {
			printf("error: usage: %s CLIENT LISTEN PEER RELAY CHANNEL [ALLOC_ID]\n", tok[0]);
		} else if (tok[0][0] == 'b') {
			err = fastpath__install(r, &b);
			if (!err)
				err = xdp_relay__mark_port(r, xt_addr_port(&b.relay), true);
			reply(err);
		} else {
			reply(fastpath__remove(r, &b));
		}
	} else if (!strcmp(tok[0], "port") && n == 3) {
		reply(xdp_relay__mark_port(r, (__u16)strtoul(tok[1], NULL, 10),
					   !strcmp(tok[2], "alloc")));
	} else if (!strcmp(tok[0], "quota") && n == 4) {
		reply(fastpath__set_quota(r, (__u32)strtoul(tok[1], NULL, 0),
					  strtoull(tok[2], NULL, 0), strtoull(tok[3], NULL, 0)));
	} else if (!strcmp(tok[0], "noquota") && n == 2) {
		reply(fastpath__clear_quota(r, (__u32)strtoul(tok[1], NULL, 0)));
	} else if (!strcmp(tok[0], "txport") && n == 2) {
		int ifindex = (int)if_nametoindex(tok[1]);

		reply(ifindex ? xdp_relay__add_tx_port(r, ifindex) : -ENODEV);
	} else if (!strcmp(tok[0], "flush")) {
		reply(xdp_relay__flush_fib_cache(r));
	} else if (!strcmp(tok[0], "stats")) {
		struct xt_stat s[XT_STAT_COUNT];
		int err = xdp_relay__read_stats(r, s);

		if (err) {
			reply(err);
		} else {
			for (unsigned int i = 0; i < XT_STAT_COUNT; i++)
				printf("%s %llu %llu\n", xdp_relay__stat_name(i),
				       (unsigned long long)s[i].packets,
				       (unsigned long long)s[i].bytes);
			printf("end\n");
			fflush(stdout);
		}
	} else {
		printf("error: unknown command '%s'\n", tok[0]);
		fflush(stdout);
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: xdp-fastpath-probe IFNAME --listen PORT --ports MIN-MAX --addr IP "
			"[--addr IP]... [--mode auto|native|generic] [--no-fib] [--quota] "
			"[--slow]\n");
	return 2;
}

int main(int argc, char **argv)
{
	enum xdp_relay_mode mode = XDP_RELAY_MODE_AUTO;
	__u16 listen = 0, pmin = 0, pmax = 0, flags = XT_CFG_FASTPATH;
	struct xt_addr addrs[XT_MAX_ADDRS_V4 + XT_MAX_ADDRS_V6];
	struct sigaction sa;
	struct xt_config cfg;
	struct xdp_relay *r;
	const char *ifname;
	int naddr = 0, err;
	char line[512];

	if (argc < 2 || argv[1][0] == '-')
		return usage();
	ifname = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(arg, "--no-fib")) {
			flags |= XT_CFG_NO_FIB;
		} else if (!strcmp(arg, "--quota")) {
			flags |= XT_CFG_QUOTA;
		} else if (!strcmp(arg, "--slow")) {
			flags &= (__u16)~XT_CFG_FASTPATH;
		} else if (!val) {
			return usage();
		} else if (!strcmp(arg, "--listen")) {
			listen = (__u16)strtoul(val, NULL, 10);
			i++;
		} else if (!strcmp(arg, "--ports")) {
			if (sscanf(val, "%hu-%hu", &pmin, &pmax) != 2)
				return usage();
			i++;
		} else if (!strcmp(arg, "--addr")) {
			if (naddr == (int)(sizeof(addrs) / sizeof(addrs[0])) ||
			    parse_ip(val, &addrs[naddr++], 0))
				return usage();
			i++;
		} else if (!strcmp(arg, "--mode")) {
			if (!strcmp(val, "native"))
				mode = XDP_RELAY_MODE_NATIVE;
			else if (!strcmp(val, "generic"))
				mode = XDP_RELAY_MODE_GENERIC;
			else if (strcmp(val, "auto"))
				return usage();
			i++;
		} else {
			return usage();
		}
	}
	if (!listen || !naddr)
		return usage();

	r = xdp_relay__open(NULL);
	if (!r) {
		fprintf(stderr, "xdp-fastpath-probe: %s\n", xdp_relay__errmsg());
		return 1;
	}
	xt_config__init(&cfg, listen, pmin, pmax, flags);
	for (int i = 0; i < naddr; i++)
		if (xt_config__add_addr(&cfg, &addrs[i]))
			goto out_err;
	if (xdp_relay__set_config(r, &cfg) || xdp_relay__attach(r, ifname, mode))
		goto out_err;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: a signal ends the read */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("ready %s\n", xdp_relay__mode(r) == XDP_RELAY_MODE_NATIVE ? "native" : "generic");
	fflush(stdout);
	while (!stop && fgets(line, sizeof(line), stdin))
		if (command(r, line))
			break;
	err = xdp_relay__detach(r);
	if (err)
		fprintf(stderr, "xdp-fastpath-probe: %s\n", xdp_relay__errmsg());
	xdp_relay__destroy(r);
	return err ? 1 : 0;

out_err:
	fprintf(stderr, "xdp-fastpath-probe: %s\n", xdp_relay__errmsg());
	xdp_relay__destroy(r);
	return 1;
}
