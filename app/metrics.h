/* app/metrics.h — the HTTP endpoint: Prometheus text at /metrics, liveness at /healthz.
 *
 * Served by libmicrohttpd on its own thread. This module knows HTTP, not xturnd's counters: the
 * daemon renders the exposition text into a metrics_text when asked (app/daemon.c).
 */
#ifndef XTURN_APP_METRICS_H
#define XTURN_APP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include "pkt/addr.h"

struct metrics_text {
	char *buf;
	size_t len, cap;
	bool oom;
};

void metrics_text__printf(struct metrics_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "# HELP name help\n# TYPE name type\n" */
void metrics_text__header(struct metrics_text *t, const char *name, const char *type,
			  const char *help);

/* Renders the whole exposition into t (called on the HTTP thread). */
typedef void (*metrics_render_fn)(void *ctx, struct metrics_text *t);
/* True while the daemon serves traffic. */
typedef bool (*metrics_health_fn)(void *ctx);
/* Renders the human-readable status (/status, xturnctl); user filters allocations (NULL = all). */
typedef void (*metrics_status_fn)(void *ctx, const char *user, struct metrics_text *t);

struct metrics_handlers {
	metrics_render_fn metrics;
	metrics_health_fn health;
	metrics_status_fn status;
	void *ctx;
};

struct metrics_server;

/* Listens on addr (IPv4 or IPv6, with port) and serves /metrics, /healthz and /status[?user=U].
 * NULL + errno on failure (logged). */
struct metrics_server *metrics_server__start(const struct xt_addr *addr,
					     const struct metrics_handlers *handlers);
void metrics_server__stop(struct metrics_server *m);

#endif
