/* tools/xturn-replay/main.c — the xturn-replay command line (usage(), tests/replay/README.md).
 *
 * Offline (the default): replay.c runs a capture through xturnd's user-space pipeline.
 * --case / --update-expected: the same, on a test case's files (tests/replay/NAME.*).
 * --live: live.c puts a capture on an interface.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/config.h"
#include "tools/xturn-replay/live.h"
#include "tools/xturn-replay/replay.h"

#define MAX_ARGS      256
#define ARGS_FILE_MAX 4096

/* clang-format off: the help text is laid out as it prints */
static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: xturn-replay -c CONFIG.yaml -r IN.pcap [-w OUT.pcap] [--maps OUT.txt] "
	    "[options]\n"
	    "       xturn-replay --case DIR/NAME [-w OUT.pcap] [--maps OUT.txt] [options]\n"
	    "       xturn-replay --update-expected DIR/NAME [options]\n"
	    "       xturn-replay --live IFACE -r IN.pcap [--pace | --fast] [--dst-mac MAC]\n"
	    "\n"
	    "Feeds every frame of IN.pcap (Ethernet, as it arrives at the relay's NIC) through "
	    "xturnd's\n"
	    "user-space pipeline (parse, TURN core, frame build) with a clock taken from the "
	    "capture,\n"
	    "and writes the frames it would transmit and the kernel map changes it would make. "
	    "The\n"
	    "same input gives byte-identical output.\n"
	    "\n"
	    "  -c, --config FILE         xturnd's configuration (addresses, ports, realm, "
	    "users...)\n"
	    "  -r, --read FILE           the capture to replay (pcap or pcapng, Ethernet)\n"
	    "  -w, --write FILE          frames transmitted, each stamped with the time of the "
	    "input\n"
	    "                            frame (or timer) that caused it\n"
	    "  -m, --maps FILE           map changes, one line each: time, CHANNEL_BOUND/UNBOUND "
	    "or\n"
	    "                            ALLOCATION_CREATED/DELETED, allocation id and addresses\n"
	    "  -s, --seed N              seed of the TURN core's random source (default 1): relay\n"
	    "                            ports, nonce key, transaction ids of Data indications\n"
	    "      --relay-mac MAC       our NIC's MAC (default 02:00:00:00:00:01): source MAC of "
	    "the\n"
	    "                            output; input frames from it are skipped as our own\n"
	    "      --mac IP=MAC          next-hop MAC of IP (repeatable); other MACs are learnt "
	    "from\n"
	    "                            the capture (source MAC of each IP frame, ARP senders)\n"
	    "      --linger SECONDS      run the clock this long past the last frame (timers "
	    "fire)\n"
	    "      --case DIR/NAME       config DIR/NAME.yaml, input DIR/NAME.in.pcap, extra "
	    "options\n"
	    "                            from DIR/NAME.args when it exists (before the command "
	    "line's)\n"
	    "      --update-expected DIR/NAME\n"
	    "                            --case, writing DIR/NAME.expected.pcap and "
	    ".expected.maps\n"
	    "  -q, --quiet               no summary on stderr\n"
	    "      --live IFACE          send the capture's frames on IFACE (packet socket, root)\n"
	    "      --pace | --fast       at the captured pace (default) or back to back\n"
	    "      --dst-mac MAC         live: rewrite every frame's destination MAC\n"
	    "  -h, --help                this text\n");
}

/* clang-format on */

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	int n = 0;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &n) !=
		6 ||
	    s[n])
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static int parse_static_mac(const char *s, struct replay_opts *o)
{
	char ip[64];
	const char *eq = strchr(s, '=');
	struct replay_static_mac *m;

	if (!eq || (size_t)(eq - s) >= sizeof(ip) || o->n_macs == REPLAY_MAX_STATIC_MACS)
		return -EINVAL;
	memcpy(ip, s, (size_t)(eq - s));
	ip[eq - s] = '\0';
	m = &o->macs[o->n_macs];
	if (xturn_parse_ip(ip, &m->ip) || parse_mac(eq + 1, m->mac))
		return -EINVAL;
	o->n_macs++;
	return 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return (errno || !*s || *end || *s == '-') ? -EINVAL : 0;
}

/* The case prefix given by --case or --update-expected, found before option parsing so that the
 * case's .args file can go in front of the command line. */
static const char *find_case(int argc, char **argv, bool *update)
{
	for (int i = 1; i < argc; i++) {
		const char *names[] = { "--case", "--update-expected" };

		for (int k = 0; k < 2; k++) {
			size_t n = strlen(names[k]);

			if (strncmp(argv[i], names[k], n))
				continue;
			*update = k == 1;
			if (argv[i][n] == '=')
				return argv[i] + n + 1;
			if (!argv[i][n] && i + 1 < argc)
				return argv[i + 1];
		}
	}
	return NULL;
}

/* Reads PREFIX.args: whitespace-separated options, '#' comments. No quoting. */
static int read_args_file(const char *path, char *text, size_t cap, char **args, int *n)
{
	FILE *f = fopen(path, "r");
	size_t len;
	char *p;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	len = fread(text, 1, cap - 1, f);
	fclose(f);
	if (len == cap - 1)
		return -EFBIG;
	text[len] = '\0';
	for (p = text; *p;) {
		if (*p == '#') {
			while (*p && *p != '\n')
				*p++ = ' ';
			continue;
		}
		p++;
	}
	for (p = strtok(text, " \t\r\n"); p; p = strtok(NULL, " \t\r\n")) {
		if (*n == MAX_ARGS)
			return -E2BIG;
		args[(*n)++] = p;
	}
	return 0;
}

enum {
	OPT_RELAY_MAC = 256,
	OPT_MAC,
	OPT_LINGER,
	OPT_CASE,
	OPT_UPDATE,
	OPT_LIVE,
	OPT_PACE,
	OPT_FAST,
	OPT_DST_MAC,
};

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "read", required_argument, NULL, 'r' },
		{ "write", required_argument, NULL, 'w' },
		{ "maps", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 's' },
		{ "relay-mac", required_argument, NULL, OPT_RELAY_MAC },
		{ "mac", required_argument, NULL, OPT_MAC },
		{ "linger", required_argument, NULL, OPT_LINGER },
		{ "case", required_argument, NULL, OPT_CASE },
		{ "update-expected", required_argument, NULL, OPT_UPDATE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "live", required_argument, NULL, OPT_LIVE },
		{ "pace", no_argument, NULL, OPT_PACE },
		{ "fast", no_argument, NULL, OPT_FAST },
		{ "dst-mac", required_argument, NULL, OPT_DST_MAC },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct replay_opts o = { .seed = 1, .relay_mac = { 0x02, 0, 0, 0, 0, 0x01 } };
	static char args_text[ARGS_FILE_MAX], path[6][4096];
	struct live_opts lo = { 0 };
	struct replay_summary sum;
	char *args[MAX_ARGS + 2];
	char **all;
	const char *case_prefix, *live_if = NULL;
	bool update = false;
	int n_args = 0, n_all, c, li, err;
	uint64_t v;

	case_prefix = find_case(argc, argv, &update);
	if (case_prefix) {
		snprintf(path[0], sizeof(path[0]), "%s.args", case_prefix);
		err = read_args_file(path[0], args_text, sizeof(args_text), args, &n_args);
		if (err) {
			fprintf(stderr, "xturn-replay: %s: %s\n", path[0], strerror(-err));
			return 2;
		}
	}
	all = calloc((size_t)(argc + n_args + 1), sizeof(*all));
	if (!all)
		return 2;
	n_all = 0;
	all[n_all++] = argv[0];
	for (int i = 0; i < n_args; i++)
		all[n_all++] = args[i];
	for (int i = 1; i < argc; i++)
		all[n_all++] = argv[i];

	while ((li = -1, c = getopt_long(n_all, all, "c:r:w:m:s:qh", long_opts, &li)) != -1) {
		switch (c) {
		case 'c':
			o.config_path = optarg;
			break;
		case 'r':
			o.in_path = optarg;
			break;
		case 'w':
			o.out_path = optarg;
			break;
		case 'm':
			o.maps_path = optarg;
			break;
		case 's':
			if (parse_u64(optarg, &o.seed))
				goto bad_value;
			break;
		case OPT_RELAY_MAC:
			if (parse_mac(optarg, o.relay_mac))
				goto bad_value;
			break;
		case OPT_MAC:
			if (parse_static_mac(optarg, &o))
				goto bad_value;
			break;
		case OPT_LINGER:
			if (parse_u64(optarg, &v) || v > 100u * 365 * 86400)
				goto bad_value;
			o.linger_s = (uint32_t)v;
			break;
		case OPT_CASE:
		case OPT_UPDATE:
			break; /* found by find_case() */
		case 'q':
			o.quiet = lo.quiet = true;
			break;
		case OPT_LIVE:
			live_if = optarg;
			break;
		case OPT_PACE:
			lo.fast = false;
			break;
		case OPT_FAST:
			lo.fast = true;
			break;
		case OPT_DST_MAC:
			if (parse_mac(optarg, lo.dst_mac))
				goto bad_value;
			lo.set_dst_mac = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != n_all) {
		fprintf(stderr, "xturn-replay: unexpected argument '%s'\n", all[optind]);
		return 2;
	}

	if (live_if) {
		if (!o.in_path || case_prefix) {
			fprintf(stderr, "xturn-replay: --live needs -r IN.pcap (and no --case)\n");
			return 2;
		}
		lo.ifname = live_if;
		lo.in_path = o.in_path;
		memcpy(lo.skip_src_mac, o.relay_mac, 6);
		return live_run(&lo) ? 1 : 0;
	}

	if (case_prefix) {
		snprintf(path[1], sizeof(path[1]), "%s.yaml", case_prefix);
		snprintf(path[2], sizeof(path[2]), "%s.in.pcap", case_prefix);
		o.config_path = path[1];
		o.in_path = path[2];
		if (update) {
			if (o.out_path || o.maps_path) {
				fprintf(stderr, "xturn-replay: --update-expected writes the case's "
						"expected files; no -w or --maps with it\n");
				return 2;
			}
			snprintf(path[3], sizeof(path[3]), "%s.expected.pcap", case_prefix);
			snprintf(path[4], sizeof(path[4]), "%s.expected.maps", case_prefix);
			o.out_path = path[3];
			o.maps_path = path[4];
		}
	}
	if (!o.config_path || !o.in_path) {
		usage(stderr);
		return 2;
	}
	err = replay_run(&o, &sum);
	free(all);
	return err ? 1 : 0;

bad_value:
	if (li >= 0)
		fprintf(stderr, "xturn-replay: bad value '%s' for --%s\n", optarg,
			long_opts[li].name);
	else
		fprintf(stderr, "xturn-replay: bad value '%s' for -%c\n", optarg, c);
	return 2;
}
