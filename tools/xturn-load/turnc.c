/* tools/xturn-load/turnc.c — the TURN client side of xturn-load: one allocation per flow.
 *
 * Plain RFC 8656 over a connected kernel UDP socket: Allocate (challenged once with 401 for REALM and
 * NONCE, RFC 8489 §9.2), CreatePermission and ChannelBind for the flow's peer; at the end (or when a
 * step after the Allocate fails) a Refresh with LIFETIME 0 deletes the allocation, so that the relay
 * does not hold it for its lifetime and a later run on the same client port is not answered 437. Requests are
 * retransmitted a bounded number of times; 438 (stale nonce) is answered with the fresh nonce, a
 * bounded number of times. Codec and keys are turn/'s; this file only sequences them.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "tools/xturn-load/load.h"
#include "turn/stun.h"

#define TURNC_TRIES 5	      /* transmissions of one request */
#define TURNC_RTO_MS 200      /* between them; the relay is on the local segment */
#define TURNC_REAUTH 3	      /* 401/438 rounds per request */
#define TURNC_BUF 2048
#define TURNC_REST_LIFETIME 86400

struct turnc {
	struct flow *f;
	const struct load_opts *o;
	char user[STUN_USERNAME_MAX + 1];
	char password[128];
	char realm[STUN_REALM_MAX + 1];
	uint8_t nonce[STUN_NONCE_MAX];
	size_t nonce_len;
	uint8_t algs[64]; /* PASSWORD-ALGORITHMS value as offered, echoed back (RFC 8489 §9.2.3) */
	size_t algs_len;
	bool have_challenge;
	struct auth_key key;
	enum stun_integrity kind;
	char *err;
	size_t err_len;
};

__attribute__((format(printf, 3, 4))) static int fail(struct turnc *c, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->err_len, fmt, ap);
	va_end(ap);
	return ret;
}

/* Derives the key for the current realm (RFC 8489 §9.2.2 / §18.5.1). */
static int derive_key(struct turnc *c)
{
	uint16_t alg = STUN_PASSWORD_ALG_MD5;

	c->kind = STUN_INTEGRITY_SHA1;
	if (c->o->sha256 && c->algs_len) {
		alg = STUN_PASSWORD_ALG_SHA256;
		c->kind = STUN_INTEGRITY_SHA256;
	}
	return auth_longterm_key(alg, c->user, strlen(c->user), c->realm, strlen(c->realm),
				 c->password, strlen(c->password), &c->key);
}

/* Takes REALM, NONCE and PASSWORD-ALGORITHMS from a 401 or 438. */
static int take_challenge(struct turnc *c, const struct stun_msg *m)
{
	const uint8_t *v;
	size_t len;

	v = stun_msg__attr(m, STUN_ATTR_NONCE, &len);
	if (!v || len > sizeof(c->nonce))
		return -EBADMSG;
	memcpy(c->nonce, v, len);
	c->nonce_len = len;
	v = stun_msg__attr(m, STUN_ATTR_REALM, &len);
	if (v) {
		if (len >= sizeof(c->realm))
			return -EBADMSG;
		memcpy(c->realm, v, len);
		c->realm[len] = 0;
	} else if (!c->realm[0]) {
		return -EBADMSG;
	}
	c->algs_len = 0;
	v = stun_msg__attr(m, STUN_ATTR_PASSWORD_ALGORITHMS, &len);
	if (v && len <= sizeof(c->algs)) {
		memcpy(c->algs, v, len);
		c->algs_len = len;
	}
	c->have_challenge = true;
	return derive_key(c);
}

enum req_kind { REQ_ALLOCATE, REQ_PERMISSION, REQ_CHANNEL_BIND, REQ_DELETE };

static int build(struct turnc *c, enum req_kind k, uint8_t *buf, size_t cap,
		 const uint8_t txid[STUN_TXID_LEN])
{
	static const uint16_t method[] = { STUN_METHOD_ALLOCATE, STUN_METHOD_CREATE_PERMISSION,
					   STUN_METHOD_CHANNEL_BIND, STUN_METHOD_REFRESH };
	struct stun_builder b;

	stun_builder__begin(&b, buf, cap, stun_type(method[k], STUN_CLASS_REQUEST), txid);
	switch (k) {
	case REQ_ALLOCATE:
		stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
		/* RFC 8656 §7.1: the relayed address's family follows the peers' */
		if (c->f->peer.family == XT_AF_INET6)
			stun_builder__add_address_family(&b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY,
							 STUN_FAMILY_IPV6);
		break;
	case REQ_PERMISSION:
		stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &c->f->peer);
		break;
	case REQ_CHANNEL_BIND:
		stun_builder__add_channel_number(&b, c->f->channel);
		stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &c->f->peer);
		break;
	case REQ_DELETE:
		stun_builder__add_lifetime(&b, 0); /* RFC 8656 §7.2: Refresh to 0 deletes */
		break;
	}
	if (c->have_challenge) {
		stun_builder__add_string(&b, STUN_ATTR_USERNAME, c->user);
		stun_builder__add_string(&b, STUN_ATTR_REALM, c->realm);
		stun_builder__add(&b, STUN_ATTR_NONCE, c->nonce, c->nonce_len);
		if (c->algs_len) {
			stun_builder__add(&b, STUN_ATTR_PASSWORD_ALGORITHMS, c->algs, c->algs_len);
			stun_builder__add_password_algorithm(&b, c->kind == STUN_INTEGRITY_SHA256
									 ? STUN_PASSWORD_ALG_SHA256
									 : STUN_PASSWORD_ALG_MD5);
		}
		stun_builder__add_integrity(&b, c->kind, c->key.b, c->key.len);
	}
	stun_builder__add_fingerprint(&b);
	return stun_builder__finish(&b);
}

static int poll_ms(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms);
}

/* One request until a final answer: 0 with the success response parsed into m (over buf), or
 * -errno with c->err set. */
static int transact(struct turnc *c, enum req_kind k, const char *name, uint8_t *buf,
		    struct stun_msg *m)
{
	uint8_t req[TURNC_BUF], txid[STUN_TXID_LEN];

	for (int round = 0; round <= TURNC_REAUTH; round++) {
		int len, code = 0;
		const uint8_t *reason = NULL;
		size_t reason_len = 0;
		bool answered = false;

		if (getrandom(txid, sizeof(txid), 0) != (ssize_t)sizeof(txid))
			return fail(c, -EIO, "%s: no random bytes", name);
		len = build(c, k, req, sizeof(req), txid);
		if (len < 0)
			return fail(c, len, "%s: building the request failed (%d)", name, len);
		for (int t = 0; t < TURNC_TRIES && !answered; t++) {
			uint64_t deadline;

			if (send(c->f->fd, req, (size_t)len, 0) < 0)
				return fail(c, -errno, "%s: send failed (errno %d)", name, errno);
			deadline = now_ns() + (uint64_t)TURNC_RTO_MS * 1000000u;
			/* bounded: at most until the deadline, whatever arrives */
			while (!answered) {
				uint64_t now = now_ns();
				ssize_t n;

				if (now >= deadline ||
				    poll_ms(c->f->fd, (int)((deadline - now) / 1000000u) + 1) <= 0)
					break;
				n = recv(c->f->fd, buf, TURNC_BUF, MSG_DONTWAIT);
				if (n <= 0 || stun_parse(buf, (size_t)n, m) ||
				    memcmp(m->txid, txid, STUN_TXID_LEN) ||
				    m->cls == STUN_CLASS_REQUEST || m->cls == STUN_CLASS_INDICATION)
					continue;
				answered = true;
			}
		}
		if (!answered)
			return fail(c, -ETIMEDOUT, "%s: no answer from the server", name);
		if (m->cls == STUN_CLASS_SUCCESS) {
			if (c->have_challenge &&
			    stun_msg__check_integrity(m, c->key.b, c->key.len) != 0)
				return fail(c, -EACCES, "%s: answer fails MESSAGE-INTEGRITY",
					    name);
			return 0;
		}
		if (stun_msg__error_code(m, &code, &reason, &reason_len) != 0)
			return fail(c, -EBADMSG, "%s: error answer without ERROR-CODE", name);
		if ((code == STUN_ERR_UNAUTHENTICATED && !c->have_challenge) ||
		    code == STUN_ERR_STALE_NONCE) {
			int err = take_challenge(c, m);

			if (err)
				return fail(c, err, "%s: unusable challenge in error %d", name, code);
			continue;
		}
		return fail(c, -EPROTO, "%s: server answered error %d (%.*s)", name, code,
			    (int)(reason_len < 80 ? reason_len : 80), reason ? (const char *)reason : "");
	}
	return fail(c, -EPROTO, "%s: still challenged after %d rounds", name, TURNC_REAUTH);
}

static int open_socket(const struct load_opts *o, struct flow *f)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, rcv = 4 << 20;

	fd = socket(o->server.family == XT_AF_INET6 ? AF_INET6 : AF_INET,
		    SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a deep queue: in --mode udp every reply of a burst lands here */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &rcv, sizeof(rcv));
	if (o->bind.family) {
		sl = addr_to_sockaddr(&o->bind, &ss);
		if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
			goto out_close;
	}
	sl = addr_to_sockaddr(&o->server, &ss);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0)
		goto out_close;
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		goto out_close;
	addr_from_sockaddr(&ss, &f->local);
	f->fd = fd;
	return 0;

out_close:
	sl = (socklen_t)errno;
	close(fd);
	return -(int)sl;
}

int turnc__open_raw(const struct load_opts *o, struct flow *f, char *err, size_t err_len)
{
	int ret = open_socket(o, f);

	if (ret)
		snprintf(err, err_len, "socket: %s", strerror(-ret));
	return ret;
}

int turnc__open(const struct load_opts *o, struct flow *f, unsigned int index, char *err,
		size_t err_len)
{
	struct turnc *c;
	uint8_t *buf;
	struct stun_msg m;
	int ret;

	f->peer = o->peers[index % o->n_peers];
	/* RFC 8656 §12: 0x4000-0x4FFF; different numbers on different allocations exercise lookups */
	f->channel = (uint16_t)(STUN_CHANNEL_MIN + index % (STUN_CHANNEL_MAX - STUN_CHANNEL_MIN + 1));
	ret = open_socket(o, f);
	if (ret) {
		snprintf(err, err_len, "socket: %s", strerror(-ret));
		return ret;
	}
	c = calloc(1, sizeof(*c));
	buf = malloc(TURNC_BUF);
	if (!c || !buf) {
		ret = -ENOMEM;
		snprintf(err, err_len, "out of memory");
		goto out;
	}
	c->f = f;
	c->o = o;
	c->err = err;
	c->err_len = err_len;
	if (o->secret) {
		/* TURN REST API: "<expiry>:<user>", password base64(HMAC-SHA1(secret, username)) */
		long long expiry = (long long)time(NULL) + TURNC_REST_LIFETIME;

		if (o->user && o->user[0])
			snprintf(c->user, sizeof(c->user), "%lld:%s", expiry, o->user);
		else
			snprintf(c->user, sizeof(c->user), "%lld", expiry);
		ret = auth_rest_password((const uint8_t *)o->secret, strlen(o->secret), c->user,
					 strlen(c->user), c->password, sizeof(c->password));
		if (ret < 0) {
			snprintf(err, err_len, "REST password: %s", strerror(-ret));
			goto out;
		}
	} else {
		snprintf(c->user, sizeof(c->user), "%s", o->user ? o->user : "");
		snprintf(c->password, sizeof(c->password), "%s", o->password ? o->password : "");
	}

	ret = transact(c, REQ_ALLOCATE, "Allocate", buf, &m);
	if (ret)
		goto out;
	if (stun_msg__xor_addr(&m, STUN_ATTR_XOR_RELAYED_ADDRESS, 0, &f->relayed) ||
	    stun_msg__xor_addr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, 0, &f->mapped)) {
		ret = fail(c, -EBADMSG, "Allocate: success without XOR-RELAYED/MAPPED-ADDRESS");
		goto out;
	}
	ret = transact(c, REQ_PERMISSION, "CreatePermission", buf, &m);
	if (!ret)
		ret = transact(c, REQ_CHANNEL_BIND, "ChannelBind", buf, &m);
	if (ret) {
		/* keep the first error; the allocation goes, best effort */
		char ignored[128];

		c->err = ignored;
		c->err_len = sizeof(ignored);
		transact(c, REQ_DELETE, "Refresh (delete)", buf, &m);
	}
out:
	free(buf);
	if (ret) {
		free(c);
		close(f->fd);
		f->fd = -1;
		return ret;
	}
	f->turn = c; /* its credentials and nonce delete the allocation at the end */
	return 0;
}

int turnc__close(struct flow *f, char *err, size_t err_len)
{
	struct turnc *c = f->turn;
	uint8_t *buf = malloc(TURNC_BUF);
	struct stun_msg m;
	int ret = -ENOMEM;

	if (c && buf) {
		c->err = err;
		c->err_len = err_len;
		ret = transact(c, REQ_DELETE, "Refresh (delete)", buf, &m);
	} else if (!c) {
		ret = 0; /* --raw: nothing was allocated */
	} else {
		snprintf(err, err_len, "out of memory");
	}
	free(buf);
	free(c);
	f->turn = NULL;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	return ret;
}
