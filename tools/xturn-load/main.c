/* tools/xturn-load/main.c — xturn-load's command line, set-up and summary (see load.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include "app/log.h"
#include "tools/xturn-load/load.h"

extern volatile sig_atomic_t load_stop;

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int addr_parse(const char *s, struct xt_addr *a)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port = NULL;
	uint8_t ip[16];
	size_t hl;
	long p = 0;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || (close[1] && close[1] != ':'))
			return -EINVAL;
		hl = (size_t)(close - s - 1);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hl);
		host[hl] = 0;
		if (close[1] == ':')
			port = close + 2;
	} else {
		const char *colon = strchr(s, ':');

		/* one colon: IPv4:port; more: a bare IPv6 address */
		if (colon && strchr(colon + 1, ':'))
			colon = NULL;
		hl = colon ? (size_t)(colon - s) : strlen(s);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hl);
		host[hl] = 0;
		if (colon)
			port = colon + 1;
	}
	if (port) {
		char *end;

		p = strtol(port, &end, 10);
		if (!*port || *end || p < 0 || p > 65535)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, host, ip) == 1)
		xt_addr_set_v4(a, ip, (uint16_t)p);
	else if (inet_pton(AF_INET6, host, ip) == 1)
		xt_addr_set_v6(a, ip, (uint16_t)p);
	else
		return -EINVAL;
	return 0;
}

void addr_format(const struct xt_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(a->family == XT_AF_INET6 ? AF_INET6 : AF_INET, a->ip, ip, sizeof(ip));
	snprintf(buf, len, a->family == XT_AF_INET6 ? "[%s]:%u" : "%s:%u", ip, xt_addr_port(a));
}

socklen_t addr_to_sockaddr(const struct xt_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == XT_AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->ip, 16);
		memcpy(&s6->sin6_port, a->port, 2);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	memcpy(&s4->sin_addr, a->ip, 4);
	memcpy(&s4->sin_port, a->port, 2);
	return sizeof(*s4);
}

void addr_from_sockaddr(const struct sockaddr_storage *ss, struct xt_addr *a)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		xt_addr_set_v6(a, (const uint8_t *)&s6->sin6_addr, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		xt_addr_set_v4(a, (const uint8_t *)&s4->sin_addr, ntohs(s4->sin_port));
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xturn-load --server ADDR:PORT (--user U --password P | --secret S [--user U])\n"
		"                  --peer ADDR:PORT [--peer ...] [--local-echo] [options]\n"
		"       xturn-load --raw --server ADDR:PORT [options]\n"
		"       xturn-load --role echo|sink --listen ADDR:PORT [--duration S] [--count N]\n"
		"\n"
		"TURN load generator: opens N allocations (RFC 8656 over UDP), binds a channel per\n"
		"allocation to a peer, sends ChannelData with a sequence number and send time in each\n"
		"payload, and measures what comes back (the peer echoes): received, loss, reordering,\n"
		"round-trip time p50/p99/p999.\n"
		"\n"
		"client:\n"
		"  -s, --server ADDR:PORT   the TURN server (or, with --raw, any UDP echo / reflector)\n"
		"  -u, --user U             long-term user; with --secret, the REST user part\n"
		"  -p, --password P         long-term password\n"
		"      --secret S           TURN REST API shared secret: username \"<expiry>:<user>\",\n"
		"                           password base64(HMAC-SHA1(S, username))\n"
		"      --sha256             PASSWORD-ALGORITHM SHA-256 and MESSAGE-INTEGRITY-SHA256\n"
		"                           when the server offers them (default: MD5, MI)\n"
		"      --peer ADDR:PORT     a peer; allocation i binds to peer i mod #peers (up to %d)\n"
		"      --local-echo         this process is also the echo for the peers (their addresses\n"
		"                           must be local); otherwise run --role echo there\n"
		"      --raw                no TURN: send the same datagrams to --server, expect them back\n"
		"  -b, --bind IP            client source address (default: from the route)\n"
		"  -n, --allocations N      allocations (flows), default 1, at most %d\n"
		"  -l, --size BYTES         application payload per packet, %d..%d, default 100\n"
		"  -r, --rate PPS           packets per second over all flows; 0 = as fast as possible\n"
		"                           (default 1000)\n"
		"  -w, --window N           with any rate: at most N packets in flight (0: open loop)\n"
		"  -d, --duration S         send phase in seconds (default 5; at most 240: allocations\n"
		"                           are not refreshed, and permissions last 300 s, RFC 8656 §9)\n"
		"  -c, --count N            stop sending after N packets (default: no bound)\n"
		"      --drain-ms MS        wait for late replies after the last send (default 200)\n"
		"  -m, --mode MODE          xdp (AF_XDP socket), udp (sendmmsg/recvmmsg) or auto\n"
		"                           (default: xdp when possible)\n"
		"      --dev IF             check that the server is reached through IF (xdp mode)\n"
		"      --xdp-replace        xdp mode: if IF already runs an XDP program, swap it out\n"
		"                           for the run and put it back at exit (default: refuse).\n"
		"                           On veth, XDP_TX frames reach the peer end only while that\n"
		"                           end runs an XDP program: keep a pass-through one there\n"
		"                           (build/tools/xturn-load/steer.bpf.o steers nothing by\n"
		"                           itself) and use this, also for --mode udp behind XDP_TX\n"
		"      --batch N            packets per send burst, 1..%d (default 32); with --rate,\n"
		"                           bursts of min(N, rate/1000) leave when their last packet\n"
		"                           is due\n"
		"peer side:\n"
		"      --role echo|sink     echo each datagram to its sender, or count and time them\n"
		"                           (--duration up to 3600 s, default 5)\n"
		"      --listen ADDR:PORT\n"
		"output:\n"
		"  -j, --json               one JSON object on stdout instead of the text summary\n"
		"  -q, --quiet              no progress on stderr\n"
		"Exit status: 0 when the run completed (whatever the loss), 1 on set-up failure,\n"
		"2 on bad usage.\n",
		LOAD_MAX_PEERS, LOAD_MAX_FLOWS, LOAD_HDR_LEN, LOAD_MAX_SIZE, 1024);
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || !*s || *end || v > max || s[0] == '-')
		return false;
	*out = v;
	return true;
}

static void on_signal(int sig)
{
	(void)sig;
	load_stop = 1;
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static void print_summary(const struct load_opts *o, unsigned int flows,
			  const struct load_result *r)
{
	const struct hist *h = &r->rtt;
	bool client = o->role == ROLE_CLIENT;
	uint64_t lost = r->sent > r->received ? r->sent - r->received : 0;
	double loss = r->sent ? 100.0 * (double)lost / (double)r->sent : 0;
	double secs = r->seconds > 0 ? r->seconds : 1e-9;
	const char *lat = client ? "rtt_us" : "one_way_us";
	const char *role = client ? (o->raw ? "client-raw" : "client")
				  : o->role == ROLE_ECHO ? "echo" : "sink";

	if (o->json) {
		printf("{\"role\":\"%s\",\"mode\":\"%s\",\"flows\":%u,\"size\":%u,\"rate\":%llu,"
		       "\"window\":%u,\"seconds\":%.3f,\"sent\":%llu,\"received\":%llu,"
		       "\"lost\":%llu,\"loss_pct\":%.4f,\"reordered\":%llu,\"bad\":%llu,"
		       "\"echoed\":%llu,\"tx_again\":%llu,\"sent_pps\":%.0f,\"received_pps\":%.0f,"
		       "\"xsk\":{\"rx_dropped\":%llu,\"rx_ring_full\":%llu,\"fill_empty\":%llu},"
		       "\"%s\":{\"count\":%llu,\"min\":%.1f,\"mean\":%.1f,\"p50\":%.1f,\"p99\":%.1f,"
		       "\"p999\":%.1f,\"max\":%.1f}}\n",
		       role, r->mode, flows, o->size, (unsigned long long)o->rate, o->window,
		       r->seconds, (unsigned long long)r->sent, (unsigned long long)r->received,
		       (unsigned long long)lost, loss, (unsigned long long)r->reordered,
		       (unsigned long long)r->bad, (unsigned long long)r->echoed,
		       (unsigned long long)r->tx_again, (double)r->sent / secs,
		       (double)r->received / secs, (unsigned long long)r->xsk_rx_dropped,
		       (unsigned long long)r->xsk_rx_ring_full, (unsigned long long)r->xsk_fill_empty,
		       lat, (unsigned long long)h->count,
		       us(h->min), h->count ? h->sum / (double)h->count / 1000.0 : 0,
		       us(hist__quantile(h, 0.5)), us(hist__quantile(h, 0.99)),
		       us(hist__quantile(h, 0.999)), us(h->max));
		fflush(stdout);
		return;
	}
	printf("xturn-load %s: mode %s, %u flow(s), %u-byte payload, %.2f s\n", role, r->mode,
	       flows, o->size, r->seconds);
	if (client || o->role == ROLE_SINK)
		printf("  sent %llu (%.0f pps)  received %llu (%.0f pps)  lost %llu (%.3f%%)  "
		       "reordered %llu  bad %llu\n",
		       (unsigned long long)r->sent, (double)r->sent / secs,
		       (unsigned long long)r->received, (double)r->received / secs,
		       (unsigned long long)lost, loss, (unsigned long long)r->reordered,
		       (unsigned long long)r->bad);
	else
		printf("  received %llu  echoed %llu\n", (unsigned long long)r->received,
		       (unsigned long long)r->echoed);
	if (client && o->local_echo)
		printf("  echoed for the peers %llu\n", (unsigned long long)r->echoed);
	if (r->tx_again)
		printf("  sends refused for lack of room: %llu\n", (unsigned long long)r->tx_again);
	if (r->xsk_rx_dropped || r->xsk_rx_ring_full || r->xsk_fill_empty)
		printf("  lost in this generator's AF_XDP socket: dropped %llu, RX ring full %llu, "
		       "fill ring empty %llu\n",
		       (unsigned long long)r->xsk_rx_dropped, (unsigned long long)r->xsk_rx_ring_full,
		       (unsigned long long)r->xsk_fill_empty);
	if (h->count)
		printf("  %s: min %.1f  p50 %.1f  p99 %.1f  p999 %.1f  max %.1f\n",
		       client ? "round trip us" : "one way us", us(h->min),
		       us(hist__quantile(h, 0.5)), us(hist__quantile(h, 0.99)),
		       us(hist__quantile(h, 0.999)), us(h->max));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	enum {
		OPT_SECRET = 256, OPT_PEER, OPT_LOCAL_ECHO, OPT_RAW, OPT_DRAIN, OPT_DEV, OPT_BATCH,
		OPT_ROLE, OPT_LISTEN, OPT_SHA256, OPT_XDP_REPLACE,
	};
	static const struct option options[] = {
		{ "server", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'p' },
		{ "secret", required_argument, NULL, OPT_SECRET },
		{ "sha256", no_argument, NULL, OPT_SHA256 },
		{ "peer", required_argument, NULL, OPT_PEER },
		{ "local-echo", no_argument, NULL, OPT_LOCAL_ECHO },
		{ "raw", no_argument, NULL, OPT_RAW },
		{ "bind", required_argument, NULL, 'b' },
		{ "allocations", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 'l' },
		{ "rate", required_argument, NULL, 'r' },
		{ "window", required_argument, NULL, 'w' },
		{ "duration", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'c' },
		{ "drain-ms", required_argument, NULL, OPT_DRAIN },
		{ "mode", required_argument, NULL, 'm' },
		{ "dev", required_argument, NULL, OPT_DEV },
		{ "xdp-replace", no_argument, NULL, OPT_XDP_REPLACE },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct load_opts o = {
		.allocations = 1, .size = 100, .rate = 1000, .duration = 5, .batch = 32,
		.drain_ms = 200,
	};
	struct load_result *r = calloc(1, sizeof(*r));
	struct flow *flows = NULL;
	unsigned int opened = 0;
	char err[256];
	uint64_t v;
	int opt, ret = 1;

	if (!r)
		return 1;
	while ((opt = getopt_long(argc, argv, "s:u:p:b:n:l:r:w:d:c:m:jqh", options, NULL)) != -1) {
		bool ok = true;

		switch (opt) {
		case 's':
			ok = !addr_parse(optarg, &o.server) && xt_addr_port(&o.server);
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'p':
			o.password = optarg;
			break;
		case OPT_SECRET:
			o.secret = optarg;
			break;
		case OPT_SHA256:
			o.sha256 = true;
			break;
		case OPT_PEER:
			ok = o.n_peers < LOAD_MAX_PEERS && !addr_parse(optarg, &o.peers[o.n_peers]) &&
			     xt_addr_port(&o.peers[o.n_peers]);
			o.n_peers++;
			break;
		case OPT_LOCAL_ECHO:
			o.local_echo = true;
			break;
		case OPT_RAW:
			o.raw = true;
			break;
		case 'b':
			ok = !addr_parse(optarg, &o.bind);
			xt_addr_set_port(&o.bind, 0);
			break;
		case 'n':
			ok = parse_u64(optarg, LOAD_MAX_FLOWS, &v) && v;
			o.allocations = (unsigned int)v;
			break;
		case 'l':
			ok = parse_u64(optarg, LOAD_MAX_SIZE, &v) && v >= LOAD_HDR_LEN;
			o.size = (unsigned int)v;
			break;
		case 'r':
			ok = parse_u64(optarg, 100000000, &o.rate);
			break;
		case 'w':
			ok = parse_u64(optarg, 1u << 20, &v);
			o.window = (unsigned int)v;
			break;
		case 'd': {
			char *end;

			o.duration = strtod(optarg, &end);
			/* the echo and sink roles hold no allocation: they may run for an hour */
			ok = *optarg && !*end && o.duration > 0 && o.duration <= 3600;
			break;
		}
		case 'c':
			ok = parse_u64(optarg, UINT64_MAX, &o.count);
			break;
		case OPT_DRAIN:
			ok = parse_u64(optarg, 60000, &v);
			o.drain_ms = (unsigned int)v;
			break;
		case 'm':
			ok = true;
			if (!strcmp(optarg, "xdp"))
				o.mode = MODE_XDP;
			else if (!strcmp(optarg, "udp"))
				o.mode = MODE_UDP;
			else if (!strcmp(optarg, "auto"))
				o.mode = MODE_AUTO;
			else
				ok = false;
			break;
		case OPT_DEV:
			o.dev = optarg;
			break;
		case OPT_XDP_REPLACE:
			o.xdp_replace = true;
			break;
		case OPT_BATCH:
			ok = parse_u64(optarg, 1024, &v) && v;
			o.batch = (unsigned int)v;
			break;
		case OPT_ROLE:
			ok = true;
			if (!strcmp(optarg, "echo"))
				o.role = ROLE_ECHO;
			else if (!strcmp(optarg, "sink"))
				o.role = ROLE_SINK;
			else if (!strcmp(optarg, "client"))
				o.role = ROLE_CLIENT;
			else
				ok = false;
			break;
		case OPT_LISTEN:
			ok = !addr_parse(optarg, &o.listen) && xt_addr_port(&o.listen);
			break;
		case 'j':
			o.json = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			usage(stdout);
			free(r);
			return 0;
		default:
			ok = false;
		}
		if (!ok) {
			fprintf(stderr, "xturn-load: bad value for an option (%s); see --help\n",
				optarg ? optarg : argv[optind - 1]);
			free(r);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xturn-load: unexpected argument '%s'; see --help\n", argv[optind]);
		free(r);
		return 2;
	}
	log_setup(o.quiet ? XTURN_LOG_WARN : XTURN_LOG_INFO, XTURN_LOG_TEXT);
	/* no SA_RESTART: a signal must end a blocking wait, not resume it */
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* pacing sleeps of tens of microseconds must not be stretched by the default 50 us slack */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);

	if (o.role != ROLE_CLIENT) {
		if (!o.listen.family) {
			fprintf(stderr, "xturn-load: --role %s needs --listen ADDR:PORT\n",
				o.role == ROLE_ECHO ? "echo" : "sink");
			free(r);
			return 2;
		}
		if (data__run_peer(&o, r) == 0) {
			print_summary(&o, 0, r);
			ret = 0;
		}
		free(r);
		return ret;
	}

	if (!o.raw && o.duration > 240) {
		fprintf(stderr, "xturn-load: --duration above 240 s would outlive the permissions "
				"(300 s), which xturn-load does not refresh\n");
		free(r);
		return 2;
	}
	if (!o.server.family || (!o.raw && (!o.n_peers || (!o.secret && (!o.user || !o.password))))) {
		fprintf(stderr, "xturn-load: needs --server and, unless --raw, --peer and credentials "
				"(--user/--password or --secret); see --help\n");
		free(r);
		return 2;
	}
	if (o.raw)
		o.local_echo = false;
	flows = calloc(o.allocations, sizeof(*flows));
	if (!flows)
		goto out;
	for (unsigned int i = 0; i < o.allocations && !load_stop; i++) {
		int e;

		/* --raw sends the same ChannelData a relay would get; its channel must be valid */
		flows[i].channel = (uint16_t)(0x4000 + i % 0x1000);
		e = o.raw ? turnc__open_raw(&o, &flows[i], err, sizeof(err))
			      : turnc__open(&o, &flows[i], i, err, sizeof(err));

		if (e) {
			fprintf(stderr, "xturn-load: allocation %u: %s\n", i, err);
			goto out;
		}
		opened++;
	}
	if (!o.quiet) {
		char s[64], rl[64];

		addr_format(&o.server, s, sizeof(s));
		if (o.raw)
			snprintf(rl, sizeof(rl), "(raw)");
		else
			addr_format(&flows[0].relayed, rl, sizeof(rl));
		fprintf(stderr, "xturn-load: %u flow(s) open on %s (first relayed address %s)\n",
			opened, s, rl);
	}
	if (data__run_client(&o, flows, opened, r) == 0) {
		print_summary(&o, opened, r);
		ret = 0;
	}
out:
	for (unsigned int i = 0; i < opened; i++)
		if (turnc__close(&flows[i], err, sizeof(err)) && !o.quiet)
			fprintf(stderr, "xturn-load: allocation %u not deleted: %s\n", i, err);
	free(flows);
	free(r);
	return ret;
}
