/* app/xsk.c — see xsk.h. */
#include <errno.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "app/log.h"
#include "app/xsk.h"

static int create_socket(struct xsk_port *p, const char *ifname, bool zero_copy)
{
	struct xsk_socket_config cfg = {
		.rx_size = XSK_RING_SIZE,
		.tx_size = XSK_RING_SIZE,
		/* xturnd loads its own XDP program and fills the XSKMAP itself */
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = (zero_copy ? XDP_ZEROCOPY : XDP_COPY) | XDP_USE_NEED_WAKEUP,
	};

	return xsk_socket__create(&p->xsk, ifname, p->queue, p->umem, &p->rx, &p->tx, &cfg);
}

int xsk_port__open(struct xsk_port *p, const char *ifname, unsigned int queue,
		   enum xturn_zero_copy zc, int xsks_map_fd)
{
	struct xsk_umem_config ucfg = {
		.fill_size = XSK_RING_SIZE,
		.comp_size = XSK_RING_SIZE,
		.frame_size = XSK_FRAME_SIZE,
		.frame_headroom = 0,
		.flags = 0,
	};
	size_t size = (size_t)XSK_NUM_FRAMES * XSK_FRAME_SIZE;
	int err;

	memset(p, 0, sizeof(*p));
	p->queue = queue;
	p->area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->area == MAP_FAILED) {
		err = -errno;
		p->area = NULL;
		pr_err("xsk %s queue %u: UMEM of %zu bytes: %s", ifname, queue, size,
		       strerror(-err));
		return err;
	}
	err = xsk_umem__create(&p->umem, p->area, size, &p->fill, &p->comp, &ucfg);
	if (err) {
		pr_err("xsk %s queue %u: creating UMEM: %s", ifname, queue, strerror(-err));
		goto out_unmap;
	}
	err = -EOPNOTSUPP;
	if (zc != XTURN_ZC_OFF) {
		err = create_socket(p, ifname, true);
		p->zero_copy = !err;
		if (err && zc == XTURN_ZC_ON) {
			pr_err("xsk %s queue %u: zero-copy required by xdp.zero_copy but refused: %s",
			       ifname, queue, strerror(-err));
			goto out_umem;
		}
	}
	if (err) {
		err = create_socket(p, ifname, false);
		if (err) {
			pr_err("xsk %s queue %u: creating AF_XDP socket: %s%s", ifname, queue,
			       strerror(-err),
			       err == -EBUSY ? " (another socket holds this queue)" : "");
			goto out_umem;
		}
	}
	p->need_wakeup = true;
	err = xsk_socket__update_xskmap(p->xsk, xsks_map_fd);
	if (err) {
		pr_err("xsk %s queue %u: registering in the XSKMAP: %s", ifname, queue,
		       strerror(-err));
		goto out_socket;
	}
	for (uint32_t i = 0; i < XSK_NUM_FRAMES; i++)
		p->free_frames[p->n_free++] = (uint64_t)i * XSK_FRAME_SIZE;
	xsk_port__service(p);
	pr_info("xsk %s queue %u: AF_XDP socket in %s mode, need_wakeup on, %u frames of %u bytes",
		ifname, queue, p->zero_copy ? "zero-copy" : "copy", XSK_NUM_FRAMES, XSK_FRAME_SIZE);
	return 0;

out_socket:
	xsk_socket__delete(p->xsk);
	p->xsk = NULL;
out_umem:
	xsk_umem__delete(p->umem);
	p->umem = NULL;
out_unmap:
	munmap(p->area, size);
	p->area = NULL;
	return err;
}

void xsk_port__close(struct xsk_port *p)
{
	if (p->xsk)
		xsk_socket__delete(p->xsk);
	if (p->umem)
		xsk_umem__delete(p->umem);
	if (p->area)
		munmap(p->area, (size_t)XSK_NUM_FRAMES * XSK_FRAME_SIZE);
	p->xsk = NULL;
	p->umem = NULL;
	p->area = NULL;
}

void xsk_port__free(struct xsk_port *p, uint64_t addr)
{
	/* The stack can never overflow: it holds at most every frame once. */
	p->free_frames[p->n_free++] = addr & ~(uint64_t)(XSK_FRAME_SIZE - 1);
}

int xsk_port__alloc(struct xsk_port *p, struct xsk_frame *f)
{
	if (!p->n_free) {
		xsk_port__service(p);
		if (!p->n_free) {
			p->stats.no_free_frame++;
			return -EAGAIN;
		}
	}
	f->addr = p->free_frames[--p->n_free];
	f->data = (uint8_t *)p->area + f->addr;
	f->len = XSK_FRAME_SIZE;
	return 0;
}

unsigned int xsk_port__rx(struct xsk_port *p, struct xsk_frame *frames, unsigned int max)
{
	uint32_t idx = 0;
	unsigned int n = xsk_ring_cons__peek(&p->rx, max, &idx);

	for (unsigned int i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&p->rx, idx + i);

		frames[i].addr = d->addr;
		frames[i].data = xsk_umem__get_data(p->area, d->addr);
		frames[i].len = d->len;
		p->stats.rx_bytes += d->len;
	}
	if (n)
		xsk_ring_cons__release(&p->rx, n);
	p->stats.rx_packets += n;
	return n;
}

int xsk_port__tx(struct xsk_port *p, uint64_t addr, uint32_t len)
{
	uint32_t idx;
	struct xdp_desc *d;

	if (xsk_ring_prod__reserve(&p->tx, 1, &idx) != 1) {
		xsk_port__flush(p);
		xsk_port__service(p);
		if (xsk_ring_prod__reserve(&p->tx, 1, &idx) != 1) {
			p->stats.tx_ring_full++;
			xsk_port__free(p, addr);
			return -EAGAIN;
		}
	}
	d = xsk_ring_prod__tx_desc(&p->tx, idx);
	d->addr = addr;
	d->len = len;
	d->options = 0;
	xsk_ring_prod__submit(&p->tx, 1);
	p->tx_pending++;
	p->stats.tx_packets++;
	p->stats.tx_bytes += len;
	return 0;
}

void xsk_port__flush(struct xsk_port *p)
{
	if (!p->tx_pending)
		return;
	p->tx_pending = 0;
	/* In copy mode the kernel transmits only when kicked; with need_wakeup only when it asks. */
	if (!p->need_wakeup || xsk_ring_prod__needs_wakeup(&p->tx)) {
		p->stats.wakeups++;
		sendto(xsk_socket__fd(p->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
	}
}

void xsk_port__service(struct xsk_port *p)
{
	uint32_t idx = 0, n, room;

	n = xsk_ring_cons__peek(&p->comp, XSK_RING_SIZE, &idx);
	for (uint32_t i = 0; i < n; i++)
		xsk_port__free(p, *xsk_ring_cons__comp_addr(&p->comp, idx + i));
	if (n)
		xsk_ring_cons__release(&p->comp, n);

	/* Top the fill ring up to XSK_FILL_TARGET, keeping a reserve in the free stack for
	 * responses. */
	room = xsk_prod_nb_free(&p->fill, XSK_RING_SIZE);
	if (p->n_free <= XSK_BATCH * 2 || XSK_RING_SIZE - room >= XSK_FILL_TARGET)
		return;
	n = p->n_free - XSK_BATCH * 2;
	if (n > XSK_FILL_TARGET - (XSK_RING_SIZE - room))
		n = XSK_FILL_TARGET - (XSK_RING_SIZE - room);
	if (!n || xsk_ring_prod__reserve(&p->fill, n, &idx) != n)
		return;
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&p->fill, idx + i) = p->free_frames[--p->n_free];
	xsk_ring_prod__submit(&p->fill, n);
	if (xsk_ring_prod__needs_wakeup(&p->fill)) {
		p->stats.wakeups++;
		recvfrom(xsk_socket__fd(p->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
	}
}

int xsk_port__fd(const struct xsk_port *p)
{
	return xsk_socket__fd(p->xsk);
}

void xsk_port__stats(const struct xsk_port *p, struct xsk_port_stats *out)
{
	struct xdp_statistics ks = { 0 };
	socklen_t len = sizeof(ks);

	*out = p->stats;
	if (p->xsk && !getsockopt(xsk_socket__fd(p->xsk), SOL_XDP, XDP_STATISTICS, &ks, &len)) {
		out->rx_dropped = ks.rx_dropped;
		out->rx_invalid_descs = ks.rx_invalid_descs;
		out->tx_invalid_descs = ks.tx_invalid_descs;
		out->rx_ring_full = ks.rx_ring_full;
		out->rx_fill_ring_empty = ks.rx_fill_ring_empty_descs;
		out->tx_ring_empty_descs = ks.tx_ring_empty_descs;
	}
}
