/* tools/xturn-load/xdpio.c — AF_XDP for the load generator: steering program, socket, next hop.
 *
 * The steering program (steer.bpf.c) is attached in native mode when the driver has it, else in
 * generic mode, never over a program someone else attached; the AF_XDP socket is app/xsk.c's. The
 * next hop comes from the kernel's tables over rtnetlink: the route to the destination (interface,
 * gateway) and the gateway's (or the destination's) neighbour entry.
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "app/xsk.h"
#include "tools/xturn-load/load.h"
#include "tools/xturn-load/steer.skel.h"

struct xdpio {
	struct steer_bpf *skel;
	int ifindex;
	__u32 mode; /* XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE, as attached */
	int old_prog_fd; /* --xdp-replace: the program to put back, else -1 */
	struct xsk_port port;
	bool port_open;
};

struct xsk_port *xdpio__port(struct xdpio *x)
{
	return &x->port;
}


/* ---- netlink: route and neighbour ---- */

struct nl_query {
	int family;
	/* route */
	int oif;
	uint8_t gw[16];
	bool has_gw;
	/* neighbour */
	const uint8_t *want_ip;
	unsigned int ip_len;
	uint8_t mac[6];
	bool found;
};

static int route_attr(const struct nlattr *a, void *data)
{
	struct nl_query *q = data;

	switch (mnl_attr_get_type(a)) {
	case RTA_OIF:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			q->oif = (int)mnl_attr_get_u32(a);
		break;
	case RTA_GATEWAY:
		if (mnl_attr_get_payload_len(a) == (q->family == AF_INET ? 4u : 16u)) {
			memcpy(q->gw, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
			q->has_gw = true;
		}
		break;
	}
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWROUTE)
		mnl_attr_parse(nlh, sizeof(struct rtmsg), route_attr, data);
	return MNL_CB_OK;
}

struct neigh_attrs {
	const struct nlattr *dst, *lladdr;
};

static int neigh_attr(const struct nlattr *a, void *data)
{
	struct neigh_attrs *na = data;

	if (mnl_attr_get_type(a) == NDA_DST)
		na->dst = a;
	else if (mnl_attr_get_type(a) == NDA_LLADDR)
		na->lladdr = a;
	return MNL_CB_OK;
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_query *q = data;
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
	struct neigh_attrs na = { 0 };

	if (nlh->nlmsg_type != RTM_NEWNEIGH || nd->ndm_ifindex != q->oif)
		return MNL_CB_OK;
	/* usable entries only: a FAILED or INCOMPLETE one has no address worth sending to */
	if (!(nd->ndm_state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT |
			       NUD_NOARP)))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*nd), neigh_attr, &na);
	if (!na.dst || !na.lladdr || mnl_attr_get_payload_len(na.dst) != q->ip_len ||
	    mnl_attr_get_payload_len(na.lladdr) != 6 ||
	    memcmp(mnl_attr_get_payload(na.dst), q->want_ip, q->ip_len))
		return MNL_CB_OK;
	memcpy(q->mac, mnl_attr_get_payload(na.lladdr), 6);
	q->found = true;
	return MNL_CB_OK;
}

/* Sends one request and runs cb over every answer until the kernel says done (bounded by the
 * kernel's reply, which always ends with NLMSG_DONE or an error for a single request or a dump). */
static int nl_request(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int portid = mnl_socket_get_portid(nl), seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	bool dump = nlh->nlmsg_flags & NLM_F_DUMP;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	/* bounded: the socket has a receive timeout, and a dump has at most this many parts here */
	for (int part = 0; part < 4096; part++) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (ret < 0)
			return -errno;
		/* a dump ends with NLMSG_DONE (MNL_CB_STOP); a single answer is one message */
		if (ret == MNL_CB_STOP || !dump)
			return 0;
	}
	return -EMSGSIZE;
}

int xdpio__next_hop(const struct xt_addr *dst, char *dev, uint8_t mac[6])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nl_query q = { .family = dst->family == XT_AF_INET6 ? AF_INET6 : AF_INET };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct ndmsg *ndm;
	int ret;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	struct timeval tv = { .tv_sec = 1 };

	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	q.ip_len = xt_addr_ip_len(dst);

	/* `ip route get DST` */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = (unsigned int)time(NULL);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)q.family;
	rtm->rtm_dst_len = (unsigned char)(q.ip_len * 8);
	mnl_attr_put(nlh, RTA_DST, q.ip_len, dst->ip);
	ret = nl_request(nl, nlh, route_cb, &q);
	if (ret)
		goto out;
	if (!q.oif || !if_indextoname((unsigned int)q.oif, dev)) {
		ret = -ENETUNREACH;
		goto out;
	}

	/* the neighbour table of that interface */
	q.want_ip = q.has_gw ? q.gw : dst->ip;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = (unsigned int)time(NULL) + 1;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (unsigned char)q.family;
	ret = nl_request(nl, nlh, neigh_cb, &q);
	if (!ret && !q.found)
		ret = -ENOENT;
	if (!ret)
		memcpy(mac, q.mac, 6);
out:
	mnl_socket_close(nl);
	return ret;
}

/* ---- steering program and socket ---- */

/* Attaches prog_fd: over nothing (native, else generic), or in place of the program already there
 * when replace is set (atomically, in that program's mode; it is remembered and put back by
 * detach()). Never over someone else's program otherwise. */
static int attach(struct xdpio *x, int prog_fd, bool replace)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
	int err;

	err = bpf_xdp_query(x->ifindex, 0, &q);
	if (err)
		return err;
	if (q.prog_id) {
		if (!replace || (q.attach_mode != XDP_ATTACHED_DRV &&
				 q.attach_mode != XDP_ATTACHED_SKB))
			return -EBUSY;
		x->old_prog_fd = bpf_prog_get_fd_by_id(q.prog_id);
		if (x->old_prog_fd < 0)
			return -errno;
		x->mode = q.attach_mode == XDP_ATTACHED_DRV ? XDP_FLAGS_DRV_MODE
							      : XDP_FLAGS_SKB_MODE;
		ao.old_prog_fd = x->old_prog_fd;
		err = bpf_xdp_attach(x->ifindex, prog_fd, x->mode | XDP_FLAGS_REPLACE, &ao);
		if (err) {
			close(x->old_prog_fd);
			x->old_prog_fd = -1;
		}
		return err;
	}
	x->mode = XDP_FLAGS_DRV_MODE;
	err = bpf_xdp_attach(x->ifindex, prog_fd, x->mode | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err && err != -EBUSY && err != -EEXIST) {
		x->mode = XDP_FLAGS_SKB_MODE;
		err = bpf_xdp_attach(x->ifindex, prog_fd, x->mode | XDP_FLAGS_UPDATE_IF_NOEXIST,
				     NULL);
	}
	return err;
}

static void detach(struct xdpio *x)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd =
					      bpf_program__fd(x->skel->progs.xturn_load_steer));

	if (x->old_prog_fd >= 0) {
		/* put the replaced program back, atomically: the interface is never without one */
		bpf_xdp_attach(x->ifindex, x->old_prog_fd, x->mode | XDP_FLAGS_REPLACE, &ao);
		close(x->old_prog_fd);
		x->old_prog_fd = -1;
	} else {
		bpf_xdp_detach(x->ifindex, x->mode, &ao);
	}
}

struct xdpio *xdpio__open(const char *dev, const struct xt_addr *ep, unsigned int n_ep,
			  bool replace)
{
	struct xdpio *x = calloc(1, sizeof(*x));
	__u32 one = 1;
	int err;

	if (!x)
		return NULL;
	x->old_prog_fd = -1;
	x->ifindex = (int)if_nametoindex(dev);
	if (!x->ifindex) {
		err = -ENODEV;
		goto out_free;
	}
	x->skel = steer_bpf__open_and_load();
	if (!x->skel) {
		err = -errno;
		goto out_free;
	}
	for (unsigned int i = 0; i < n_ep; i++) {
		err = bpf_map__update_elem(x->skel->maps.targets, &ep[i], sizeof(ep[i]), &one,
					   sizeof(one), BPF_ANY);
		if (err)
			goto out_skel;
	}
	err = attach(x, bpf_program__fd(x->skel->progs.xturn_load_steer), replace);
	if (err)
		goto out_skel;
	err = xsk_port__open(&x->port, dev, 0, XTURN_ZC_AUTO,
			     bpf_map__fd(x->skel->maps.xsks));
	if (err)
		goto out_detach;
	x->port_open = true;
	return x;

out_detach:
	detach(x);
out_skel:
	steer_bpf__destroy(x->skel);
out_free:
	free(x);
	errno = -err;
	return NULL;
}

void xdpio__close(struct xdpio *x)
{
	if (!x)
		return;
	if (x->port_open)
		xsk_port__close(&x->port);
	detach(x);
	steer_bpf__destroy(x->skel);
	free(x);
}
