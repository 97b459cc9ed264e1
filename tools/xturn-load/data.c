/* tools/xturn-load/data.c — the data plane of xturn-load: send, receive, echo, measure.
 *
 * The client loop sends ChannelData round-robin over the flows, paced to --rate (or as fast as it
 * can, optionally capped to --window packets in flight), and between sends takes in what came back:
 * replies for the flows (sequence and send time read from the payload: loss, reordering, round-trip
 * time) and, with --local-echo, datagrams for the peers, which it sends straight back. Two I/O
 * paths share the loop: an AF_XDP socket (frames built from a per-flow template, echoes turned
 * around in place in UMEM) and kernel UDP sockets (sendmmsg/recvmmsg). The send phase ends at
 * --duration or --count, whichever comes first; a drain of --drain-ms then waits for stragglers.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "app/iface.h"
#include "app/xsk.h"
#include "pkt/build.h"
#include "pkt/csum.h"
#include "pkt/parse.h"
#include "tools/xturn-load/load.h"
#include "turn/stun.h"

#define IO_BATCH 64
#define DGRAM_MAX (LOAD_MAX_SIZE + CHANNELDATA_HEADER_LEN)
#define FRAME_MAX 2048
#define WINDOW_STALL_NS 10000000ull /* in-flight packets unanswered this long are written off */
#define SPIN_NS 20000ull	    /* shorter waits are spun, longer ones slept */

volatile sig_atomic_t load_stop;

struct ctx {
	const struct load_opts *o;
	struct flow *flows;
	unsigned int n;
	struct load_result *r;
	unsigned int cursor; /* next flow to send on */
	/* xdp */
	struct xdpio *x;
	struct xsk_port *port;
	uint8_t **tmpl; /* per flow: the whole frame with seq and time 0 */
	uint32_t tmpl_len;
	uint16_t tmpl_app_off; /* offset of the application payload in the frame */
	uint16_t tmpl_csum_off;
	/* udp */
	int ep;
	int *peer_fds;
	unsigned int n_peer_fds;
	uint8_t (*bufs)[DGRAM_MAX];
	struct mmsghdr msgs[IO_BATCH];
	struct iovec iov[IO_BATCH];
	struct sockaddr_storage from[IO_BATCH];
};

/* ---- payload ---- */

static void payload_fill(const struct load_opts *o, uint8_t *d, uint32_t flow, uint16_t channel)
{
	/* ChannelData header (RFC 8656 §12.4); --raw sends the same bytes to a plain echo */
	put_be16(d, channel);
	put_be16(d + 2, (uint16_t)o->size);
	d += CHANNELDATA_HEADER_LEN;
	memset(d, 0xA5, o->size);
	put_be32(d + LOAD_OFF_MAGIC, LOAD_MAGIC);
	put_be32(d + LOAD_OFF_FLOW, flow);
	memset(d + LOAD_OFF_SEQ, 0, 16);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* A reply for a flow: ChannelData carrying our payload. */
static void take_reply(struct ctx *c, const uint8_t *d, size_t len, uint64_t now)
{
	struct channeldata cd;
	uint32_t fi;
	uint64_t seq, sent_at;
	struct flow *f;

	if (channeldata_parse(d, len, &cd) || cd.len != c->o->size ||
	    get_be32(cd.data + LOAD_OFF_MAGIC) != LOAD_MAGIC) {
		c->r->bad++;
		return;
	}
	fi = get_be32(cd.data + LOAD_OFF_FLOW);
	seq = get_be64(cd.data + LOAD_OFF_SEQ);
	sent_at = get_be64(cd.data + LOAD_OFF_TIME);
	if (fi >= c->n || seq >= c->flows[fi].next_seq || sent_at > now) {
		c->r->bad++;
		return;
	}
	f = &c->flows[fi];
	if (f->rx_any && seq <= f->rx_highest) {
		f->reordered++;
		c->r->reordered++;
	} else {
		f->rx_highest = seq;
		f->rx_any = true;
	}
	f->rx++;
	c->r->received++;
	hist__add(&c->r->rtt, now - sent_at);
}

static bool is_peer(const struct load_opts *o, const struct xt_addr *a)
{
	for (unsigned int i = 0; i < o->n_peers; i++)
		if (xt_addr_equal(a, &o->peers[i]))
			return true;
	return false;
}

/* ---- AF_XDP path ---- */

static int xdp_setup(struct ctx *c)
{
	const struct load_opts *o = c->o;
	struct xt_addr ep[LOAD_MAX_FLOWS + LOAD_MAX_PEERS];
	unsigned int n_ep = 0;
	char dev[IFNAMSIZ] = "";
	struct pkt_frame_spec spec = { .dont_fragment = true };
	uint8_t payload[DGRAM_MAX];
	int err = 0;

	/* The control plane's packets made the kernel resolve the server; wait briefly if not yet. */
	for (int i = 0; i < 50; i++) {
		err = xdpio__next_hop(&o->server, dev, spec.dst_mac);
		if (err != -ENOENT)
			break;
		usleep(20000);
	}
	if (err) {
		fprintf(stderr, "xturn-load: no next hop towards the server: %s\n", strerror(-err));
		return err;
	}
	if (o->dev && strcmp(o->dev, dev)) {
		fprintf(stderr, "xturn-load: the server is reached through %s, not --dev %s\n", dev,
			o->dev);
		return -EINVAL;
	}
	if (iface_rx_queues(dev) > 1) {
		/* one socket on queue 0 would miss what the NIC spreads over the other queues */
		fprintf(stderr, "xturn-load: %s has %u RX queues; --mode xdp uses one\n", dev,
			iface_rx_queues(dev));
		return -EOPNOTSUPP;
	}
	err = iface_mac(dev, spec.src_mac);
	if (err)
		return err;
	for (unsigned int i = 0; i < c->n; i++)
		ep[n_ep++] = c->flows[i].local;
	if (o->local_echo)
		for (unsigned int i = 0; i < o->n_peers; i++)
			ep[n_ep++] = o->peers[i];
	c->x = xdpio__open(dev, ep, n_ep, o->xdp_replace);
	if (!c->x) {
		err = -errno;
		fprintf(stderr, "xturn-load: AF_XDP on %s: %s%s\n", dev, strerror(errno),
			errno == EBUSY ? " (an XDP program is attached there: see --xdp-replace)"
				       : "");
		return err;
	}
	c->port = xdpio__port(c->x);
	c->tmpl = calloc(c->n, sizeof(*c->tmpl));
	if (!c->tmpl)
		return -ENOMEM;
	for (unsigned int i = 0; i < c->n; i++) {
		struct pkt_view v;
		int len;

		c->tmpl[i] = malloc(FRAME_MAX);
		if (!c->tmpl[i])
			return -ENOMEM;
		spec.src = c->flows[i].local;
		spec.dst = o->server;
		payload_fill(o, payload, i, c->flows[i].channel);
		len = pkt_build_udp(c->tmpl[i], FRAME_MAX, &spec, payload,
				    o->size + CHANNELDATA_HEADER_LEN);
		if (len < 0 || pkt_parse(c->tmpl[i], (size_t)len, &v) != PKT_OK)
			return len < 0 ? len : -EINVAL;
		c->tmpl_len = (uint32_t)len;
		c->tmpl_app_off = (uint16_t)(v.payload_off + CHANNELDATA_HEADER_LEN);
		c->tmpl_csum_off = (uint16_t)(v.l4_off + 6);
	}
	c->r->mode = "xdp";
	return 0;
}

static unsigned int xdp_send(struct ctx *c, unsigned int budget, uint64_t now)
{
	unsigned int done = 0;

	for (; done < budget; done++) {
		struct flow *f = &c->flows[c->cursor];
		struct xsk_frame fr;
		uint8_t *app;
		uint32_t sum;

		if (xsk_port__alloc(c->port, &fr)) {
			c->r->tx_again++;
			break;
		}
		memcpy(fr.data, c->tmpl[c->cursor], c->tmpl_len);
		app = fr.data + c->tmpl_app_off;
		put_be64(app + LOAD_OFF_SEQ, f->next_seq);
		put_be64(app + LOAD_OFF_TIME, now);
		/* RFC 1624: the template's checksum covered zeros where seq and time now are */
		sum = (uint16_t)~get_be16(fr.data + c->tmpl_csum_off);
		sum = csum_partial(app + LOAD_OFF_SEQ, 16, sum);
		put_be16(fr.data + c->tmpl_csum_off, udp_csum_wire(csum_fold(sum)));
		if (xsk_port__tx(c->port, fr.addr, c->tmpl_len)) {
			c->r->tx_again++;
			break;
		}
		f->next_seq++;
		c->cursor = (c->cursor + 1) % c->n;
	}
	xsk_port__flush(c->port);
	return done;
}

/* Turns a peer-bound frame around in place: MACs, addresses and ports swapped, checksums still
 * valid (one's-complement sums do not depend on word order). */
static void xdp_echo(struct ctx *c, struct xsk_frame *fr, const struct pkt_view *v)
{
	uint8_t t[16];
	uint8_t *ip = fr->data + v->l3_off, *udp = fr->data + v->l4_off;
	unsigned int alen = v->family == XT_AF_INET ? 4 : 16;
	unsigned int soff = v->family == XT_AF_INET ? 12 : 8;

	memcpy(t, fr->data, 6);
	memcpy(fr->data, fr->data + 6, 6);
	memcpy(fr->data + 6, t, 6);
	memcpy(t, ip + soff, alen);
	memcpy(ip + soff, ip + soff + alen, alen);
	memcpy(ip + soff + alen, t, alen);
	memcpy(t, udp, 2);
	memcpy(udp, udp + 2, 2);
	memcpy(udp + 2, t, 2);
	if (!xsk_port__tx(c->port, fr->addr, fr->len))
		c->r->echoed++;
}

static unsigned int xdp_poll(struct ctx *c, uint64_t wait_ns)
{
	struct xsk_frame frames[IO_BATCH];
	unsigned int n, echoes = 0;
	uint64_t now;

	xsk_port__service(c->port);
	n = xsk_port__rx(c->port, frames, IO_BATCH);
	if (!n && wait_ns) {
		struct pollfd p = { .fd = xsk_port__fd(c->port), .events = POLLIN };
		struct timespec ts = { .tv_sec = (time_t)(wait_ns / 1000000000u),
				       .tv_nsec = (long)(wait_ns % 1000000000u) };

		ppoll(&p, 1, &ts, NULL);
		n = xsk_port__rx(c->port, frames, IO_BATCH);
	}
	if (!n)
		return 0;
	now = now_ns();
	for (unsigned int i = 0; i < n; i++) {
		struct pkt_view v;

		/* a kernel socket would drop a datagram with a bad checksum: so does this path */
		if (pkt_parse(frames[i].data, frames[i].len, &v) != PKT_OK ||
		    !pkt_verify_checksums(frames[i].data, &v)) {
			c->r->bad++;
		} else if (c->o->local_echo && is_peer(c->o, &v.dst)) {
			xdp_echo(c, &frames[i], &v);
			echoes++;
			continue; /* the frame now belongs to the TX ring */
		} else {
			take_reply(c, frames[i].data + v.payload_off, v.payload_len, now);
		}
		xsk_port__free(c->port, frames[i].addr);
	}
	if (echoes)
		xsk_port__flush(c->port);
	return n;
}

/* ---- kernel UDP path ---- */

static int udp_setup(struct ctx *c)
{
	const struct load_opts *o = c->o;
	struct epoll_event ev = { .events = EPOLLIN };

	c->r->mode = "udp";
	c->bufs = calloc(IO_BATCH, sizeof(*c->bufs));
	c->ep = epoll_create1(EPOLL_CLOEXEC);
	if (!c->bufs || c->ep < 0)
		return -ENOMEM;
	for (unsigned int i = 0; i < IO_BATCH; i++) {
		c->iov[i].iov_base = c->bufs[i];
		c->iov[i].iov_len = DGRAM_MAX;
	}
	/* event data: flow index, or the peer socket index + LOAD_MAX_FLOWS */
	for (unsigned int i = 0; i < c->n; i++) {
		ev.data.u32 = i;
		if (epoll_ctl(c->ep, EPOLL_CTL_ADD, c->flows[i].fd, &ev))
			return -errno;
	}
	if (!o->local_echo)
		return 0;
	c->peer_fds = calloc(o->n_peers, sizeof(int));
	if (!c->peer_fds)
		return -ENOMEM;
	for (unsigned int i = 0; i < o->n_peers; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = addr_to_sockaddr(&o->peers[i], &ss);
		int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), big = 4 << 20;

		if (fd < 0)
			return -errno;
		c->peer_fds[c->n_peer_fds++] = fd;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		if (bind(fd, (struct sockaddr *)&ss, sl)) {
			fprintf(stderr, "xturn-load: --local-echo: binding the peer address: %s\n",
				strerror(errno));
			return -errno;
		}
		ev.data.u32 = LOAD_MAX_FLOWS + i;
		if (epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev))
			return -errno;
	}
	return 0;
}

static unsigned int udp_send(struct ctx *c, unsigned int budget, uint64_t now)
{
	struct flow *f = &c->flows[c->cursor];
	unsigned int k = budget < IO_BATCH ? budget : IO_BATCH;
	int sent;

	/* one burst per flow: sendmmsg works on one socket */
	for (unsigned int i = 0; i < k; i++) {
		uint8_t *app = c->bufs[i] + CHANNELDATA_HEADER_LEN;

		payload_fill(c->o, c->bufs[i], c->cursor, f->channel);
		put_be64(app + LOAD_OFF_SEQ, f->next_seq + i);
		put_be64(app + LOAD_OFF_TIME, now);
		c->iov[i].iov_len = c->o->size + CHANNELDATA_HEADER_LEN;
		memset(&c->msgs[i].msg_hdr, 0, sizeof(c->msgs[i].msg_hdr));
		c->msgs[i].msg_hdr.msg_iov = &c->iov[i];
		c->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	sent = sendmmsg(f->fd, c->msgs, k, MSG_DONTWAIT);
	for (unsigned int i = 0; i < k; i++)
		c->iov[i].iov_len = DGRAM_MAX;
	if (sent < (int)k)
		c->r->tx_again++;
	if (sent <= 0)
		return 0;
	f->next_seq += (uint64_t)sent;
	c->cursor = (c->cursor + 1) % c->n;
	return (unsigned int)sent;
}

static unsigned int udp_recv_fd(struct ctx *c, int fd, bool peer)
{
	int n;
	uint64_t now;

	for (unsigned int i = 0; i < IO_BATCH; i++) {
		memset(&c->msgs[i].msg_hdr, 0, sizeof(c->msgs[i].msg_hdr));
		c->msgs[i].msg_hdr.msg_iov = &c->iov[i];
		c->msgs[i].msg_hdr.msg_iovlen = 1;
		c->msgs[i].msg_hdr.msg_name = &c->from[i];
		c->msgs[i].msg_hdr.msg_namelen = sizeof(c->from[i]);
	}
	n = recvmmsg(fd, c->msgs, IO_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;
	if (peer) {
		/* echo: the same bytes back to whoever sent them (the relay's allocation port) */
		for (int i = 0; i < n; i++)
			c->iov[i].iov_len = c->msgs[i].msg_len;
		int m = sendmmsg(fd, c->msgs, (unsigned int)n, MSG_DONTWAIT);

		for (int i = 0; i < n; i++)
			c->iov[i].iov_len = DGRAM_MAX;
		if (m > 0)
			c->r->echoed += (uint64_t)m;
		return (unsigned int)n;
	}
	now = now_ns();
	for (int i = 0; i < n; i++)
		take_reply(c, c->bufs[i], c->msgs[i].msg_len, now);
	return (unsigned int)n;
}

static unsigned int udp_poll(struct ctx *c, uint64_t wait_ns)
{
	struct epoll_event ev[64];
	struct timespec ts = { .tv_sec = (time_t)(wait_ns / 1000000000u),
			       .tv_nsec = (long)(wait_ns % 1000000000u) };
	unsigned int got = 0;
	int n = epoll_pwait2(c->ep, ev, 64, &ts, NULL);

	for (int i = 0; i < n; i++) {
		uint32_t id = ev[i].data.u32;

		if (id >= LOAD_MAX_FLOWS)
			got += udp_recv_fd(c, c->peer_fds[id - LOAD_MAX_FLOWS], true);
		else
			got += udp_recv_fd(c, c->flows[id].fd, false);
	}
	return got;
}

/* ---- the client loop ---- */

static unsigned int do_send(struct ctx *c, unsigned int budget, uint64_t now)
{
	return c->x ? xdp_send(c, budget, now) : udp_send(c, budget, now);
}

static unsigned int do_poll(struct ctx *c, uint64_t wait_ns)
{
	return c->x ? xdp_poll(c, wait_ns) : udp_poll(c, wait_ns);
}

int data__run_client(const struct load_opts *o, struct flow *flows, unsigned int n,
		     struct load_result *r)
{
	struct ctx c = { .o = o, .flows = flows, .n = n, .r = r, .ep = -1 };
	uint64_t start, end, now, last_progress, written_off = 0, last_rx = 0, burst;
	int err = -EOPNOTSUPP;

	if (o->mode != MODE_UDP) {
		err = xdp_setup(&c);
		if (err && o->mode == MODE_XDP)
			goto out;
		if (err) {
			fprintf(stderr, "xturn-load: AF_XDP unavailable (%s), using UDP sockets\n",
				strerror(-err));
			xdpio__close(c.x);
			c.x = NULL;
		}
	}
	if (!c.x) {
		err = udp_setup(&c);
		if (err)
			goto out;
	}

	/* bursts of --batch, but at least one a millisecond: low rates send single packets */
	burst = o->rate / 1000 < o->batch ? o->rate / 1000 : o->batch;
	if (!burst)
		burst = 1;
	start = last_progress = now_ns();
	end = start + (uint64_t)(o->duration * 1e9);
	/* bounded: ends at `end` at the latest, or at --count */
	while (!load_stop) {
		uint64_t budget = o->batch, got;

		now = now_ns();
		if (now >= end || (o->count && r->sent >= o->count))
			break;
		if (o->rate) {
			/* paced in bursts of --batch: a burst leaves when its last packet is due, so
			 * the receiver sees batches at any rate, as behind interrupt coalescing */
			uint64_t due = (uint64_t)((double)(now - start) * (double)o->rate / 1e9) + 1;
			uint64_t want = burst;

			if (o->count && o->count - r->sent < want)
				want = o->count - r->sent;
			budget = due >= r->sent + want ? want : 0;
		}
		if (o->count && budget > o->count - r->sent)
			budget = o->count - r->sent;
		if (o->window) {
			uint64_t out = r->sent - r->received - written_off;

			if (r->received != last_rx) {
				last_rx = r->received;
				last_progress = now;
			}
			if (out >= o->window && now - last_progress > WINDOW_STALL_NS) {
				/* nothing came back for a while: those are lost, stop waiting */
				written_off = r->sent - r->received;
				last_progress = now;
				out = 0;
			}
			budget = out >= o->window ? 0 : budget < o->window - out ? budget
										  : o->window - out;
		}
		if (budget)
			r->sent += do_send(&c, (unsigned int)budget, now);
		got = do_poll(&c, 0);
		if (!budget && !got) {
			uint64_t wait = 100000;

			if (o->rate) {
				uint64_t next = start + (uint64_t)((double)(r->sent + burst - 1) *
								   1e9 / (double)o->rate);

				wait = next > now ? next - now : 0;
			}
			if (wait > end - now)
				wait = end - now;
			if (wait > SPIN_NS)
				do_poll(&c, wait - SPIN_NS / 2);
		}
	}
	now = now_ns();
	r->seconds = (double)(now - start) / 1e9;
	/* drain: stragglers until all came back or drain_ms passed */
	end = now + (uint64_t)o->drain_ms * 1000000u;
	while (!load_stop && r->received < r->sent && (now = now_ns()) < end)
		do_poll(&c, end - now < 1000000 ? end - now : 1000000);
	err = 0;
	if (c.x) {
		struct xsk_port_stats st;

		xsk_port__stats(c.port, &st);
		r->xsk_rx_dropped = st.rx_dropped;
		r->xsk_rx_ring_full = st.rx_ring_full;
		r->xsk_fill_empty = st.rx_fill_ring_empty;
	}
out:
	if (c.tmpl) {
		for (unsigned int i = 0; i < n; i++)
			free(c.tmpl[i]);
		free(c.tmpl);
	}
	xdpio__close(c.x);
	for (unsigned int i = 0; i < c.n_peer_fds; i++)
		close(c.peer_fds[i]);
	free(c.peer_fds);
	free(c.bufs);
	if (c.ep >= 0)
		close(c.ep);
	return err;
}

/* ---- echo and sink: the peer side, on a kernel UDP socket ---- */

struct sink_flow {
	uint64_t highest, rx;
	bool any;
};

int data__run_peer(const struct load_opts *o, struct load_result *r)
{
	struct sockaddr_storage ss, from[IO_BATCH];
	struct mmsghdr msgs[IO_BATCH];
	struct iovec iov[IO_BATCH];
	uint8_t(*bufs)[DGRAM_MAX] = calloc(IO_BATCH, sizeof(*bufs));
	struct sink_flow *sf = calloc(LOAD_MAX_FLOWS, sizeof(*sf));
	socklen_t sl = addr_to_sockaddr(&o->listen, &ss);
	uint64_t start, end, first = 0, last = 0;
	int fd = -1, big = 4 << 20, err = 0;

	r->mode = "udp";
	if (!bufs || !sf) {
		err = -ENOMEM;
		goto out;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)),
		       bind(fd, (struct sockaddr *)&ss, sl) < 0)) {
		err = -errno;
		fprintf(stderr, "xturn-load: listening: %s\n", strerror(errno));
		goto out;
	}
	start = now_ns();
	end = start + (uint64_t)(o->duration * 1e9);
	/* bounded by --duration and --count */
	while (!load_stop && (!o->count || r->received < o->count)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = now_ns();
		int n;

		if (now >= end)
			break;
		if (poll(&p, 1, (int)((end - now) / 1000000u < 100 ? (end - now) / 1000000u + 1
								      : 100)) <= 0)
			continue;
		for (unsigned int i = 0; i < IO_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = DGRAM_MAX;
			memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		n = recvmmsg(fd, msgs, IO_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		now = now_ns();
		if (!first)
			first = now;
		last = now;
		r->received += (uint64_t)n;
		if (o->role == ROLE_ECHO) {
			for (int i = 0; i < n; i++)
				iov[i].iov_len = msgs[i].msg_len;
			int m = sendmmsg(fd, msgs, (unsigned int)n, MSG_DONTWAIT);

			if (m > 0)
				r->echoed += (uint64_t)m;
			continue;
		}
		/* sink: the relay delivers the application payload as sent, so the sender's clock
		 * (same host: CLOCK_MONOTONIC is one clock for every namespace) gives one-way delay */
		for (int i = 0; i < n; i++) {
			const uint8_t *d = bufs[i];
			uint32_t fi;
			uint64_t seq, at;

			if (msgs[i].msg_len < LOAD_HDR_LEN || get_be32(d) != LOAD_MAGIC ||
			    (fi = get_be32(d + LOAD_OFF_FLOW)) >= LOAD_MAX_FLOWS) {
				r->bad++;
				continue;
			}
			seq = get_be64(d + LOAD_OFF_SEQ);
			at = get_be64(d + LOAD_OFF_TIME);
			if (sf[fi].any && seq <= sf[fi].highest) {
				r->reordered++;
			} else {
				sf[fi].highest = seq;
				sf[fi].any = true;
			}
			sf[fi].rx++;
			if (at <= now)
				hist__add(&r->rtt, now - at);
		}
	}
	r->seconds = last > first ? (double)(last - first) / 1e9 : 0;
	/* what the senders sent, as far as sequence numbers tell: gaps up to the highest seen */
	for (unsigned int i = 0; i < LOAD_MAX_FLOWS; i++)
		if (sf[i].any)
			r->sent += sf[i].highest + 1 > sf[i].rx ? sf[i].highest + 1 : sf[i].rx;
out:
	if (fd >= 0)
		close(fd);
	free(bufs);
	free(sf);
	return err;
}
