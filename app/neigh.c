/* app/neigh.c — see neigh.h. Two libmnl sockets: one subscribed to route and neighbour notifications,
 * one for requests (dumps and NTF_USE). Tables are small (routes of one interface, its neighbours),
 * guarded by a rwlock that the data path takes for reading only. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "app/log.h"
#include "app/neigh.h"

#define MAX_ROUTES 256
#define MAX_NEIGHS 4096
#define MAX_PENDING 64

struct route {
	__u8 family, prefix_len, has_gateway;
	__u8 dst[16], gateway[16];
	__u32 priority;
};

struct neigh {
	__u8 family, valid;
	__u8 ip[16];
	__u8 mac[6];
};

struct neigh_cache {
	int ifindex; /* 0: static cache (no netlink) */
	struct mnl_socket *events, *requests;
	unsigned int seq;
	pthread_rwlock_t lock;
	struct route routes[MAX_ROUTES];
	unsigned int n_routes;
	struct neigh neighs[MAX_NEIGHS]; /* open addressing, linear probe */
	unsigned int n_neighs;
	bool routes_dirty;
	bool changed; /* since the last neigh_cache__take_changed() */
	pthread_mutex_t pending_lock;
	struct xt_addr pending[MAX_PENDING];
	unsigned int n_pending;
	struct neigh_stats stats;
};

static unsigned int neigh_slot(__u8 family, const __u8 *ip)
{
	unsigned int h = 2166136261u ^ family;

	for (int i = 0; i < 16; i++)
		h = (h ^ ip[i]) * 16777619u;
	return h % MAX_NEIGHS;
}

static struct neigh *neigh_find(struct neigh_cache *nc, __u8 family, const __u8 *ip, bool create)
{
	unsigned int i = neigh_slot(family, ip);

	for (unsigned int n = 0; n < MAX_NEIGHS; n++, i = (i + 1) % MAX_NEIGHS) {
		struct neigh *e = &nc->neighs[i];

		if (!e->family) {
			if (!create || nc->n_neighs >= MAX_NEIGHS * 3 / 4)
				return NULL;
			e->family = family;
			memcpy(e->ip, ip, 16);
			nc->n_neighs++;
			return e;
		}
		if (e->family == family && !memcmp(e->ip, ip, 16))
			return e;
	}
	return NULL;
}

static bool prefix_match(const __u8 *a, const __u8 *b, unsigned int plen)
{
	unsigned int full = plen / 8, rest = plen % 8;

	if (memcmp(a, b, full))
		return false;
	return !rest || ((a[full] ^ b[full]) & (__u8)(0xFF << (8 - rest))) == 0;
}

/* Longest prefix, then lowest priority (metric), among this interface's routes. */
static const struct route *route_lookup(struct neigh_cache *nc, const struct xt_addr *dst)
{
	const struct route *best = NULL;

	for (unsigned int i = 0; i < nc->n_routes; i++) {
		const struct route *r = &nc->routes[i];

		if (r->family != dst->family || !prefix_match(r->dst, dst->ip, r->prefix_len))
			continue;
		if (!best || r->prefix_len > best->prefix_len ||
		    (r->prefix_len == best->prefix_len && r->priority < best->priority))
			best = r;
	}
	return best;
}

static void queue_resolution(struct neigh_cache *nc, __u8 family, const __u8 *ip)
{
	pthread_mutex_lock(&nc->pending_lock);
	for (unsigned int i = 0; i < nc->n_pending; i++)
		if (nc->pending[i].family == family && !memcmp(nc->pending[i].ip, ip, 16))
			goto out;
	if (nc->n_pending < MAX_PENDING) {
		xt_addr_zero(&nc->pending[nc->n_pending]);
		nc->pending[nc->n_pending].family = family;
		memcpy(nc->pending[nc->n_pending].ip, ip, 16);
		nc->n_pending++;
	}
out:
	pthread_mutex_unlock(&nc->pending_lock);
}

int neigh_cache__lookup(struct neigh_cache *nc, const struct xt_addr *dst, __u8 mac[6])
{
	const struct route *r;
	const __u8 *hop;
	struct neigh *e;
	int ret;

	pthread_rwlock_rdlock(&nc->lock);
	r = route_lookup(nc, dst);
	if (!r && !nc->ifindex) { /* static: everything is on-link */
		static const struct route on_link = { 0 };
		r = &on_link;
	}
	if (!r) {
		pthread_rwlock_unlock(&nc->lock);
		__atomic_fetch_add(&nc->stats.unreachable, 1, __ATOMIC_RELAXED);
		return -ENETUNREACH;
	}
	hop = r->has_gateway ? r->gateway : dst->ip;
	e = neigh_find(nc, dst->family, hop, false);
	if (e && e->valid) {
		memcpy(mac, e->mac, 6);
		ret = 0;
	} else {
		ret = -EAGAIN;
	}
	pthread_rwlock_unlock(&nc->lock);
	if (ret == 0) {
		__atomic_fetch_add(&nc->stats.hits, 1, __ATOMIC_RELAXED);
	} else {
		__atomic_fetch_add(&nc->stats.unresolved, 1, __ATOMIC_RELAXED);
		queue_resolution(nc, dst->family, hop);
	}
	return ret;
}

/* ---- netlink parsing ---- */

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type <= RTA_MAX) /* RTA_MAX > NDA_MAX: one table serves both */
		tb[type] = attr;
	return MNL_CB_OK;
}

static __u8 to_xt_family(__u8 af)
{
	return af == AF_INET ? XT_AF_INET : af == AF_INET6 ? XT_AF_INET6 : 0;
}

/* Called with the write lock held. */
static void handle_neigh(struct neigh_cache *nc, const struct nlmsghdr *nlh)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	__u8 family = to_xt_family(ndm->ndm_family), ip[16] = { 0 };
	struct neigh *e;
	bool usable;

	if (!family || ndm->ndm_ifindex != nc->ifindex)
		return;
	mnl_attr_parse(nlh, sizeof(*ndm), attr_cb, tb);
	if (!tb[NDA_DST] || mnl_attr_get_payload_len(tb[NDA_DST]) != (family == XT_AF_INET ? 4 : 16))
		return;
	memcpy(ip, mnl_attr_get_payload(tb[NDA_DST]), mnl_attr_get_payload_len(tb[NDA_DST]));
	usable = nlh->nlmsg_type == RTM_NEWNEIGH &&
		 (ndm->ndm_state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
				    NUD_PERMANENT | NUD_NOARP)) &&
		 tb[NDA_LLADDR] && mnl_attr_get_payload_len(tb[NDA_LLADDR]) == 6;
	e = neigh_find(nc, family, ip, usable);
	if (!e)
		return;
	if (usable) {
		if (!e->valid || memcmp(e->mac, mnl_attr_get_payload(tb[NDA_LLADDR]), 6))
			nc->changed = true;
		memcpy(e->mac, mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
		e->valid = 1;
	} else if (nlh->nlmsg_type == RTM_DELNEIGH || (ndm->ndm_state & NUD_FAILED)) {
		nc->changed |= e->valid;
		e->valid = 0; /* the slot stays: removing would break probe chains */
	}
}

/* Called with the write lock held, during a route dump. */
static void handle_route(struct neigh_cache *nc, const struct nlmsghdr *nlh)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	__u8 family = to_xt_family(rtm->rtm_family);
	unsigned int ip_len = family == XT_AF_INET ? 4 : 16;
	struct route *r;

	if (!family || rtm->rtm_type != RTN_UNICAST || nc->n_routes >= MAX_ROUTES)
		return;
	mnl_attr_parse(nlh, sizeof(*rtm), attr_cb, tb);
	if (!tb[RTA_OIF] || (int)mnl_attr_get_u32(tb[RTA_OIF]) != nc->ifindex)
		return;
	if (tb[RTA_TABLE] && mnl_attr_get_u32(tb[RTA_TABLE]) != RT_TABLE_MAIN)
		return;
	r = &nc->routes[nc->n_routes];
	memset(r, 0, sizeof(*r));
	r->family = family;
	r->prefix_len = rtm->rtm_dst_len;
	if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) == ip_len)
		memcpy(r->dst, mnl_attr_get_payload(tb[RTA_DST]), ip_len);
	if (tb[RTA_GATEWAY] && mnl_attr_get_payload_len(tb[RTA_GATEWAY]) == ip_len) {
		memcpy(r->gateway, mnl_attr_get_payload(tb[RTA_GATEWAY]), ip_len);
		r->has_gateway = 1;
	}
	if (tb[RTA_PRIORITY])
		r->priority = mnl_attr_get_u32(tb[RTA_PRIORITY]);
	nc->n_routes++;
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct neigh_cache *nc = data;

	switch (nlh->nlmsg_type) {
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		handle_neigh(nc, nlh);
		break;
	case RTM_NEWROUTE:
		handle_route(nc, nlh);
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

/* Route notifications only mark the table dirty: it is reloaded whole, outside the callback. */
static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct neigh_cache *nc = data;

	if (nlh->nlmsg_type == RTM_NEWROUTE || nlh->nlmsg_type == RTM_DELROUTE) {
		nc->routes_dirty = true;
		return MNL_CB_OK;
	}
	return msg_cb(nlh, data);
}

static int dump(struct neigh_cache *nc, int type, __u8 af)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned int seq = ++nc->seq, portid = mnl_socket_get_portid(nc->requests);
	ssize_t n;
	int ret;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	if (type == RTM_GETROUTE) {
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = af;
	} else {
		struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
		ndm->ndm_family = af;
	}
	if (mnl_socket_sendto(nc->requests, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nc->requests, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, msg_cb, nc);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

static int reload_routes(struct neigh_cache *nc)
{
	int ret;

	pthread_rwlock_wrlock(&nc->lock);
	nc->n_routes = 0;
	ret = dump(nc, RTM_GETROUTE, AF_INET);
	if (!ret)
		ret = dump(nc, RTM_GETROUTE, AF_INET6);
	nc->stats.routes = nc->n_routes;
	nc->routes_dirty = false;
	nc->changed = true;
	pthread_rwlock_unlock(&nc->lock);
	return ret;
}

/* RTM_NEWNEIGH with NTF_USE makes the kernel resolve the address as if a packet were waiting. */
static int request_resolution(struct neigh_cache *nc, const struct xt_addr *hop)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;

	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
	nlh->nlmsg_seq = ++nc->seq;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = hop->family == XT_AF_INET ? AF_INET : AF_INET6;
	ndm->ndm_ifindex = nc->ifindex;
	ndm->ndm_state = NUD_NONE;
	ndm->ndm_flags = NTF_USE;
	mnl_attr_put(nlh, NDA_DST, xt_addr_ip_len(hop), hop->ip);
	if (mnl_socket_sendto(nc->requests, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	nc->stats.resolutions_requested++;
	return 0;
}

int neigh_cache__poll(struct neigh_cache *nc)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct xt_addr pending[MAX_PENDING];
	unsigned int n_pending;
	int ret = 0;

	if (!nc->ifindex) {
		nc->n_pending = 0;
		return 0;
	}

	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(nc->events), buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) { /* notifications lost: reload everything */
				nc->routes_dirty = true;
				pthread_rwlock_wrlock(&nc->lock);
				dump(nc, RTM_GETNEIGH, AF_UNSPEC);
				pthread_rwlock_unlock(&nc->lock);
				continue;
			}
			return -errno;
		}
		pthread_rwlock_wrlock(&nc->lock);
		mnl_cb_run(buf, (size_t)n, 0, 0, event_cb, nc);
		nc->stats.neighbours = nc->n_neighs;
		pthread_rwlock_unlock(&nc->lock);
	}
	if (nc->routes_dirty)
		ret = reload_routes(nc);

	pthread_mutex_lock(&nc->pending_lock);
	n_pending = nc->n_pending;
	memcpy(pending, nc->pending, n_pending * sizeof(pending[0]));
	nc->n_pending = 0;
	pthread_mutex_unlock(&nc->pending_lock);
	for (unsigned int i = 0; i < n_pending; i++) {
		int err = request_resolution(nc, &pending[i]);
		if (err && !ret)
			ret = err;
	}
	/* Drain acknowledgements and errors of our requests; nothing waits on them. */
	while (recv(mnl_socket_get_fd(nc->requests), buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	return ret;
}

bool neigh_cache__take_changed(struct neigh_cache *nc)
{
	bool changed;

	pthread_rwlock_wrlock(&nc->lock);
	changed = nc->changed;
	nc->changed = false;
	pthread_rwlock_unlock(&nc->lock);
	return changed;
}

int neigh_cache__fd(const struct neigh_cache *nc)
{
	return nc->events ? mnl_socket_get_fd(nc->events) : -1;
}

struct neigh_cache *neigh_cache__new_static(void)
{
	struct neigh_cache *nc = calloc(1, sizeof(*nc));

	if (!nc)
		return NULL;
	pthread_rwlock_init(&nc->lock, NULL);
	pthread_mutex_init(&nc->pending_lock, NULL);
	return nc;
}

int neigh_cache__set(struct neigh_cache *nc, const struct xt_addr *ip, const __u8 mac[6])
{
	struct neigh *e;

	pthread_rwlock_wrlock(&nc->lock);
	e = neigh_find(nc, ip->family, ip->ip, true);
	if (e) {
		memcpy(e->mac, mac, 6);
		e->valid = 1;
		nc->stats.neighbours = nc->n_neighs;
	}
	pthread_rwlock_unlock(&nc->lock);
	return e ? 0 : -ENOSPC;
}

void neigh_cache__stats(struct neigh_cache *nc, struct neigh_stats *out)
{
	out->hits = __atomic_load_n(&nc->stats.hits, __ATOMIC_RELAXED);
	out->unresolved = __atomic_load_n(&nc->stats.unresolved, __ATOMIC_RELAXED);
	out->unreachable = __atomic_load_n(&nc->stats.unreachable, __ATOMIC_RELAXED);
	out->resolutions_requested = nc->stats.resolutions_requested;
	out->routes = nc->stats.routes;
	out->neighbours = nc->stats.neighbours;
}

struct neigh_cache *neigh_cache__new(int ifindex)
{
	struct neigh_cache *nc = calloc(1, sizeof(*nc));
	unsigned int groups = RTMGRP_NEIGH | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
	int err;

	if (!nc)
		return NULL;
	nc->ifindex = ifindex;
	nc->seq = (unsigned int)time(NULL);
	pthread_rwlock_init(&nc->lock, NULL);
	pthread_mutex_init(&nc->pending_lock, NULL);
	nc->events = mnl_socket_open(NETLINK_ROUTE);
	nc->requests = mnl_socket_open(NETLINK_ROUTE);
	if (!nc->events || !nc->requests)
		goto out_errno;
	if (mnl_socket_bind(nc->events, groups, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_bind(nc->requests, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out_errno;
	err = reload_routes(nc);
	if (!err) {
		pthread_rwlock_wrlock(&nc->lock);
		err = dump(nc, RTM_GETNEIGH, AF_UNSPEC);
		nc->stats.neighbours = nc->n_neighs;
		pthread_rwlock_unlock(&nc->lock);
	}
	if (err) {
		errno = -err;
		goto out_errno;
	}
	return nc;

out_errno:
	err = errno;
	pr_err("neighbour cache: netlink: %s", strerror(err));
	neigh_cache__free(nc);
	errno = err;
	return NULL;
}

void neigh_cache__free(struct neigh_cache *nc)
{
	if (!nc)
		return;
	if (nc->events)
		mnl_socket_close(nc->events);
	if (nc->requests)
		mnl_socket_close(nc->requests);
	pthread_rwlock_destroy(&nc->lock);
	pthread_mutex_destroy(&nc->pending_lock);
	free(nc);
}
