/* tools/xturnctl — status of a running xturnd, read from its HTTP endpoint (metrics.listen).
 *
 *   xturnctl [-m ADDRESS:PORT | -c CONFIG] status | allocations [-u USER] | metrics | health
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "config/config.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: xturnctl [-m ADDRESS:PORT | -c CONFIG] COMMAND\n"
		   "\n"
		   "Commands:\n"
		   "  status               XDP mode, queues, relay counters, every allocation and channel\n"
		   "  allocations [-u U]   the same, allocations of user U only\n"
		   "  metrics              the Prometheus text\n"
		   "  health               exit 0 when xturnd says it is healthy\n"
		   "\n"
		   "  -m ADDRESS:PORT      xturnd's metrics.listen (default 127.0.0.1:9641)\n"
		   "  -c CONFIG            take metrics.listen from xturnd's configuration file\n");
}

/* GET path; prints the body to stdout. Returns the HTTP status or -errno. */
static int http_get(const struct xt_addr *addr, const char *path)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	char req[1024], buf[65536];
	size_t have = 0;
	int fd, status = -EPROTO;
	char *body;

	if (addr->family == XT_AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, addr->ip, 16);
		memcpy(&s6->sin6_port, addr->port, 2);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, addr->ip, 4);
		memcpy(&s4->sin_port, addr->port, 2);
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: xturnd\r\n\r\n", path);
	if (write(fd, req, strlen(req)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	/* Read the head, then stream the body; every read bounded by a 5 s wait. */
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 5000) <= 0) {
			close(fd);
			return -ETIMEDOUT;
		}
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n < 0) {
			close(fd);
			return -errno;
		}
		have += (size_t)n;
		buf[have] = '\0';
		body = strstr(buf, "\r\n\r\n");
		if (body || n == 0 || have == sizeof(buf) - 1)
			break;
	}
	if (sscanf(buf, "HTTP/%*s %d", &status) != 1) {
		close(fd);
		return -EPROTO;
	}
	if (body) {
		body += 4;
		fwrite(body, 1, have - (size_t)(body - buf), stdout);
		for (;;) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			ssize_t n;

			if (poll(&pfd, 1, 5000) <= 0)
				break;
			n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				break;
			fwrite(buf, 1, (size_t)n, stdout);
		}
	}
	close(fd);
	return status;
}

static void url_encode(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in && o + 4 < cap; in++) {
		unsigned char c = (unsigned char)*in;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

int main(int argc, char **argv)
{
	struct xt_addr addr;
	const char *user = NULL, *command;
	char path[1200], enc[1024];
	int opt, status;

	xturn_parse_host_port("127.0.0.1:9641", &addr);
	while ((opt = getopt(argc, argv, "+m:c:u:h")) != -1) {
		switch (opt) {
		case 'm':
			if (xturn_parse_host_port(optarg, &addr)) {
				fprintf(stderr, "xturnctl: -m: expected ADDRESS:PORT or [IPv6]:PORT, "
						"got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'c': {
			struct xturn_config cfg;
			char err[XTURN_CONFIG_ERR_LEN];

			if (xturn_config__load(optarg, &cfg, err, sizeof(err))) {
				fprintf(stderr, "xturnctl: %s\n", err);
				return 2;
			}
			if (!cfg.metrics.enabled) {
				fprintf(stderr, "xturnctl: %s: metrics.listen is off\n", optarg);
				xturn_config__free(&cfg);
				return 2;
			}
			addr = cfg.metrics.listen;
			xturn_config__free(&cfg);
			break;
		}
		case 'u':
			user = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	command = argv[optind++];
	if (!strcmp(command, "allocations")) {
		while ((opt = getopt(argc, argv, "u:")) != -1)
			if (opt == 'u')
				user = optarg;
			else
				return usage(stderr), 2;
	}
	if (optind < argc) {
		fprintf(stderr, "xturnctl: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!strcmp(command, "status") || !strcmp(command, "allocations")) {
		if (user) {
			url_encode(user, enc, sizeof(enc));
			snprintf(path, sizeof(path), "/status?user=%s", enc);
		} else {
			snprintf(path, sizeof(path), "/status");
		}
	} else if (!strcmp(command, "metrics")) {
		snprintf(path, sizeof(path), "/metrics");
	} else if (!strcmp(command, "health")) {
		snprintf(path, sizeof(path), "/healthz");
	} else {
		fprintf(stderr, "xturnctl: unknown command '%s'\n", command);
		usage(stderr);
		return 2;
	}
	status = http_get(&addr, path);
	if (status < 0) {
		char text[INET6_ADDRSTRLEN];

		inet_ntop(addr.family == XT_AF_INET6 ? AF_INET6 : AF_INET, addr.ip, text, sizeof(text));
		fprintf(stderr, "xturnctl: %s port %u: %s (is xturnd running with metrics on?)\n",
			text, xt_addr_port(&addr), strerror(-status));
		return 1;
	}
	return status == 200 ? 0 : 1;
}
