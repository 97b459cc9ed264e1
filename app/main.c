/* app/main.c — xturnd's command line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app/daemon.h"
#include "app/log.h"
#include "app/version.h"
#include "config/config.h"


static void usage(FILE *f)
{
	fprintf(f,
		"usage: xturnd -c FILE [--check-config] [--log-level LEVEL]\n"
		"       xturnd --version | --help\n"
		"\n"
		"STUN/TURN relay (RFC 8489, RFC 8656 over UDP) on XDP and AF_XDP.\n"
		"\n"
		"  -c, --config FILE      the YAML configuration (see README.md, config/xturn.yaml)\n"
		"  -t, --check-config     validate FILE, print a summary and exit (0 when valid)\n"
		"  -l, --log-level LEVEL  error, warn, info or debug; overrides log.level\n"
		"  -V, --version          print the version and exit\n"
		"  -h, --help             this text\n"
		"\n"
		"Signals: SIGHUP reloads credentials, quotas, peer policy and log level;\n"
		"SIGTERM and SIGINT detach the XDP program and exit.\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 't' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const levels[] = { "error", "warn", "info", "debug" };
	const char *path = NULL;
	bool check_only = false;
	int level = -1, opt;
	struct xturn_config cfg;
	char err[XTURN_CONFIG_ERR_LEN];

	while ((opt = getopt_long(argc, argv, "c:tl:Vh", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 't':
			check_only = true;
			break;
		case 'l':
			for (int i = 0; i < 4; i++)
				if (!strcmp(optarg, levels[i]))
					level = i;
			if (level < 0) {
				fprintf(stderr, "xturnd: --log-level: expected error, warn, info or "
						"debug, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'V':
			printf("xturnd %s\n", XTURN_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xturnd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!path) {
		fprintf(stderr, "xturnd: no configuration: give -c FILE\n");
		usage(stderr);
		return 2;
	}
	if (xturn_config__load(path, &cfg, err, sizeof(err))) {
		fprintf(stderr, "xturnd: %s\n", err);
		return 1;
	}
	if (check_only) {
		printf("%s: valid: interface %s, %zu address%s, listen port %u, relay ports %u-%u, "
		       "realm %s, %zu user%s, %zu secret%s\n",
		       path, cfg.interface, cfg.n_addresses, cfg.n_addresses == 1 ? "" : "es",
		       cfg.listen_port, cfg.relay_port_min, cfg.relay_port_max, cfg.realm,
		       cfg.auth.n_users, cfg.auth.n_users == 1 ? "" : "s", cfg.auth.n_secrets,
		       cfg.auth.n_secrets == 1 ? "" : "s");
		xturn_config__free(&cfg);
		return 0;
	}
	if (level >= 0)
		cfg.log.level = (enum xturn_log_level)level;
	log_setup(cfg.log.level, cfg.log.format);
	return daemon_run(&cfg, path);
}
