/* app/metrics.c — see metrics.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app/log.h"
#include "app/metrics.h"

struct metrics_server {
	struct MHD_Daemon *mhd;
	struct metrics_handlers h;
};

void metrics_text__printf(struct metrics_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->oom)
		return;
	for (;;) {
		size_t room = t->cap - t->len;

		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if ((size_t)n < room) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap ? t->cap * 2 : 8192;
		while (cap - t->len <= (size_t)n)
			cap *= 2;
		char *grown = realloc(t->buf, cap);
		if (!grown) {
			t->oom = true;
			return;
		}
		t->buf = grown;
		t->cap = cap;
	}
}

void metrics_text__header(struct metrics_text *t, const char *name, const char *type,
			  const char *help)
{
	metrics_text__printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *type,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_ctx)
{
	struct metrics_server *m = cls;

	(void)version;
	(void)upload_data;
	(void)req_ctx;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			     "only GET\n", 9, MHD_RESPMEM_PERSISTENT);
	if (*upload_data_size)
		return MHD_NO;
	if (!strcmp(url, "/metrics") || !strcmp(url, "/status")) {
		struct metrics_text t = { 0 };

		if (url[1] == 'm')
			m->h.metrics(m->h.ctx, &t);
		else
			m->h.status(m->h.ctx,
				    MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "user"),
				    &t);
		if (t.oom) {
			free(t.buf);
			return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
				     "out of memory\n", 14, MHD_RESPMEM_PERSISTENT);
		}
		return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4", t.buf ? t.buf : "",
			     t.len, t.buf ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	}
	if (!strcmp(url, "/healthz")) {
		if (m->h.health(m->h.ctx))
			return reply(conn, MHD_HTTP_OK, "text/plain", "ok\n", 3,
				     MHD_RESPMEM_PERSISTENT);
		return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", "unhealthy\n", 10,
			     MHD_RESPMEM_PERSISTENT);
	}
	return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found: try /metrics, /healthz or /status\n",
		     45, MHD_RESPMEM_PERSISTENT);
}

struct metrics_server *metrics_server__start(const struct xt_addr *addr,
					     const struct metrics_handlers *handlers)
{
	struct metrics_server *m = calloc(1, sizeof(*m));
	struct sockaddr_storage ss = { 0 };
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	char text[INET6_ADDRSTRLEN];

	if (!m)
		return NULL;
	m->h = *handlers;
	if (addr->family == XT_AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, addr->ip, 16);
		memcpy(&s6->sin6_port, addr->port, 2);
		flags |= MHD_USE_IPv6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, addr->ip, 4);
		memcpy(&s4->sin_port, addr->port, 2);
	}
	inet_ntop(addr->family == XT_AF_INET6 ? AF_INET6 : AF_INET, addr->ip, text, sizeof(text));
	m->mhd = MHD_start_daemon(flags, xt_addr_port(addr), NULL, NULL, handle, m,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_CONNECTION_LIMIT, 32u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				  MHD_OPTION_END);
	if (!m->mhd) {
		int err = errno ? errno : EADDRINUSE;

		pr_err("metrics: cannot listen on %s port %u: %s", text, xt_addr_port(addr),
		       strerror(err));
		free(m);
		errno = err;
		return NULL;
	}
	pr_info("metrics: serving /metrics, /healthz and /status on %s port %u", text, xt_addr_port(addr));
	return m;
}

void metrics_server__stop(struct metrics_server *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->mhd);
	free(m);
}
