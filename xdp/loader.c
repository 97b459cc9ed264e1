/* xdp/loader.c — see loader.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include "xdp/loader.h"
#include "xdp/xturn.skel.h"

#define DEFAULT_VERIFIER_LOG "/tmp/xturn-verifier.log"
#define VERIFIER_LOG_SIZE (8u << 20)
#define DEFAULT_MTU 1500
#define DEFAULT_FIB_CACHE_MS 1000

struct xdp_relay {
	struct xturn_bpf *skel;
	int ifindex;
	enum xdp_relay_mode mode;
	__u32 attach_flags;
	__u16 fib_cache_ms; /* of the config last stored */
	__u64 fib_aged_ms;  /* when xdp_relay__age_fib_cache last moved fib_gen on */
	void (*log)(enum xdp_relay_log_level level, const char *msg);
};

static __thread char errmsg[512];

const char *xdp_relay__errmsg(void)
{
	return errmsg;
}

/* Records why the current call fails and returns err (a negative errno). */
__attribute__((format(printf, 2, 3))) static int fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	return err;
}

static void default_log(enum xdp_relay_log_level level, const char *msg)
{
	fprintf(stderr, "xturn: %s: %s\n", level == XDP_RELAY_LOG_WARN ? "warning" : "info", msg);
}

/* ---- open, load ---- */

static int save_log(const char *path, const char *log)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(log), off = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, log + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -errno;
		}
		off += (size_t)n;
	}
	close(fd);
	return 0;
}

struct xdp_relay *xdp_relay__open(const struct xdp_relay_opts *opts)
{
	const struct xdp_relay_opts none = { 0 };
	const char *log_path;
	struct xdp_relay *r;
	char *log_buf;
	int err;

	if (!opts)
		opts = &none;
	log_path = opts->verifier_log ? opts->verifier_log : DEFAULT_VERIFIER_LOG;
	r = calloc(1, sizeof(*r));
	log_buf = calloc(1, VERIFIER_LOG_SIZE);
	if (!r || !log_buf) {
		free(r);
		free(log_buf);
		errno = ENOMEM;
		fail(-ENOMEM, "out of memory");
		return NULL;
	}
	r->log = opts->log ? opts->log : default_log;

	/* With log level 0 libbpf asks for no log first and, on rejection, loads again with level
	 * 1 into this buffer: the cost is paid only when something is wrong. */
	LIBBPF_OPTS(bpf_object_open_opts, oo, .kernel_log_buf = log_buf,
		    .kernel_log_size = VERIFIER_LOG_SIZE);
	r->skel = xturn_bpf__open_opts(&oo);
	if (!r->skel) {
		err = -errno;
		fail(err, "cannot open the XDP object: %s", strerror(-err));
		goto out_free;
	}
	if (opts->max_channels) {
		bpf_map__set_max_entries(r->skel->maps.chan4_by_client, opts->max_channels);
		bpf_map__set_max_entries(r->skel->maps.chan6_by_client, opts->max_channels);
		bpf_map__set_max_entries(r->skel->maps.chan4_by_peer, opts->max_channels);
		bpf_map__set_max_entries(r->skel->maps.chan6_by_peer, opts->max_channels);
	}
	if (opts->max_quotas)
		bpf_map__set_max_entries(r->skel->maps.quota, opts->max_quotas);
	if (opts->max_queues)
		bpf_map__set_max_entries(r->skel->maps.xsks, opts->max_queues);

	err = xturn_bpf__load(r->skel);
	if (err) {
		err = err < 0 ? err : -EINVAL;
		if (err == -EPERM)
			fail(err, "not allowed to load BPF programs (run as root, or with CAP_BPF, "
				  "CAP_NET_ADMIN and CAP_PERFMON)");
		else if (log_buf[0] && save_log(log_path, log_buf) == 0)
			fail(err, "the kernel verifier rejected the XDP program (%s); its log is in %s",
			     strerror(-err), log_path);
		else if (log_buf[0])
			fail(err, "the kernel verifier rejected the XDP program (%s); its log could "
				  "not be saved to %s", strerror(-err), log_path);
		else
			fail(err, "cannot load the XDP program: %s", strerror(-err));
		goto out_destroy;
	}
	free(log_buf);
	return r;

out_destroy:
	xturn_bpf__destroy(r->skel);
out_free:
	free(log_buf);
	free(r);
	errno = -err;
	return NULL;
}

void xdp_relay__destroy(struct xdp_relay *r)
{
	if (!r)
		return;
	xdp_relay__detach(r);
	xturn_bpf__destroy(r->skel);
	free(r);
}

/* ---- attach, detach ---- */

static int attach_error(int err, const char *ifname, const char *mode)
{
	switch (err) {
	case -EPERM:
	case -EACCES:
		return fail(-EPERM, "not allowed to attach XDP to %s (needs CAP_NET_ADMIN)", ifname);
	case -EBUSY:
	case -EEXIST:
		return fail(-EBUSY, "%s already has an XDP program attached in %s mode", ifname,
			    mode);
	case -EOPNOTSUPP:
	case -EINVAL:
		return fail(-EOPNOTSUPP, "%s does not support %s XDP (%s)", ifname, mode,
			    strerror(-err));
	default:
		return fail(err, "cannot attach XDP to %s in %s mode: %s", ifname, mode,
			    strerror(-err));
	}
}

/* True when a process other than the caller's fd `own_fd` holds a file descriptor of program id:
 * the program is in use by a live loader (fdinfo of a BPF program fd says "prog_id:"). */
static bool prog_held(__u32 id, int own_fd)
{
	char path[PATH_MAX], line[128];
	pid_t self = getpid();
	struct dirent *p, *f;
	bool held = false;
	DIR *procs, *fds;

	procs = opendir("/proc");
	if (!procs)
		return true; /* cannot tell: assume alive, never steal */
	while (!held && (p = readdir(procs))) {
		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fdinfo", p->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!held && (f = readdir(fds))) {
			FILE *in;
			unsigned int pid_id;

			if (f->d_name[0] == '.' ||
			    (atoi(p->d_name) == self && atoi(f->d_name) == own_fd))
				continue;
			snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", p->d_name, f->d_name);
			in = fopen(path, "re");
			if (!in)
				continue;
			while (fgets(line, sizeof(line), in))
				if (sscanf(line, "prog_id: %u", &pid_id) == 1) {
					held = pid_id == id;
					break;
				}
			fclose(in);
		}
		closedir(fds);
	}
	closedir(procs);
	return held;
}

/* A file descriptor of the program attached to ifindex in mode (XDP_FLAGS_DRV_MODE/SKB_MODE) when
 * it is an xturn program left behind by an xturnd that could not detach it (kill -9: netlink
 * attachments outlive their process), i.e. named like ours and held by no process; -1 for anybody
 * else's program, a live relay's, or none. */
static int orphan_of_ours(struct xdp_relay *r, int ifindex, __u32 mode)
{
	const char *name = bpf_program__name(r->skel->progs.xturn_xdp);
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info), id = 0;
	int fd;

	if (bpf_xdp_query_id(ifindex, (int)mode, &id) || !id)
		return -1;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -1;
	/* the kernel keeps the first BPF_OBJ_NAME_LEN - 1 bytes of the name */
	if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    strncmp(info.name, name, sizeof(info.name) - 1) || prog_held(info.id, fd)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Attaches in mode, replacing an orphaned xturn program (never anybody else's). */
static int attach_mode(struct xdp_relay *r, int ifindex, int prog_fd, __u32 mode)
{
	int err = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_UPDATE_IF_NOEXIST | mode, NULL);
	int old;

	if (err != -EBUSY && err != -EEXIST)
		return err;
	old = orphan_of_ours(r, ifindex, mode);
	if (old < 0)
		return err;
	{
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = old);

		err = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_REPLACE | mode, &ao);
	}
	close(old);
	if (!err)
		r->log(XDP_RELAY_LOG_WARN, "replaced an xturn XDP program left attached by an xturnd "
					   "that did not exit cleanly");
	return err;
}

int xdp_relay__attach(struct xdp_relay *r, const char *ifname, enum xdp_relay_mode mode)
{
	int prog_fd = bpf_program__fd(r->skel->progs.xturn_xdp);
	/* Never replace somebody else's program (attach_mode() replaces only our orphans). */
	const __u32 base = XDP_FLAGS_UPDATE_IF_NOEXIST;
	int ifindex, err;

	if (r->ifindex)
		return fail(-EALREADY, "already attached to ifindex %d", r->ifindex);
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return fail(-ENODEV, "no such interface: %s", ifname);

	if (mode != XDP_RELAY_MODE_GENERIC) {
		err = attach_mode(r, ifindex, prog_fd, XDP_FLAGS_DRV_MODE);
		if (!err) {
			r->ifindex = ifindex;
			r->mode = XDP_RELAY_MODE_NATIVE;
			r->attach_flags = base | XDP_FLAGS_DRV_MODE;
			return 0;
		}
		if (mode == XDP_RELAY_MODE_NATIVE || err == -EPERM || err == -EBUSY ||
		    err == -EEXIST)
			return attach_error(err, ifname, "native");
		{
			char msg[256];

			snprintf(msg, sizeof(msg),
				 "native XDP refused on %s (%s); using generic mode, which is slower "
				 "and copies every frame",
				 ifname, strerror(-err));
			r->log(XDP_RELAY_LOG_WARN, msg);
		}
	}
	err = attach_mode(r, ifindex, prog_fd, XDP_FLAGS_SKB_MODE);
	if (err)
		return attach_error(err, ifname, "generic");
	r->ifindex = ifindex;
	r->mode = XDP_RELAY_MODE_GENERIC;
	r->attach_flags = base | XDP_FLAGS_SKB_MODE;
	return 0;
}

int xdp_relay__detach(struct xdp_relay *r)
{
	/* old_prog_fd: only if ours is still the one attached. */
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = bpf_program__fd(r->skel->progs.xturn_xdp));
	int err;

	if (!r->ifindex)
		return 0;
	err = bpf_xdp_detach(r->ifindex, r->attach_flags & ~XDP_FLAGS_UPDATE_IF_NOEXIST, &ao);
	r->ifindex = 0;
	r->mode = XDP_RELAY_MODE_AUTO;
	if (err && err != -ENODEV) /* an interface that is gone took the program with it */
		return fail(err, "cannot detach XDP: %s", strerror(-err));
	return 0;
}

enum xdp_relay_mode xdp_relay__mode(const struct xdp_relay *r)
{
	return r->mode;
}

int xdp_relay__ifindex(const struct xdp_relay *r)
{
	return r->ifindex;
}

/* ---- config ---- */

void xt_config__init(struct xt_config *cfg, __u16 listen_port, __u16 port_min, __u16 port_max,
		     __u16 flags)
{
	memset(cfg, 0, sizeof(*cfg));
	put_be16(cfg->listen_port, listen_port);
	put_be16(cfg->port_min, port_min);
	put_be16(cfg->port_max, port_max);
	put_be16(cfg->flags, flags);
	put_be16(cfg->mtu, DEFAULT_MTU);
	put_be16(cfg->fib_cache_ms, DEFAULT_FIB_CACHE_MS);
}

int xt_config__add_addr(struct xt_config *cfg, const struct xt_addr *addr)
{
	if (addr->family == XT_AF_INET) {
		if (cfg->n_v4 >= XT_MAX_ADDRS_V4)
			return fail(-ENOSPC, "more than %d IPv4 relay addresses", XT_MAX_ADDRS_V4);
		memcpy(cfg->v4[cfg->n_v4++], addr->ip, 4);
		return 0;
	}
	if (addr->family == XT_AF_INET6) {
		if (cfg->n_v6 >= XT_MAX_ADDRS_V6)
			return fail(-ENOSPC, "more than %d IPv6 relay addresses", XT_MAX_ADDRS_V6);
		memcpy(cfg->v6[cfg->n_v6++], addr->ip, 16);
		return 0;
	}
	return fail(-EINVAL, "relay address without a family");
}

/* Stores cfg with the FIB cache generation moved on, so that no answer cached under the old
 * config (or before a route change) is used again. */
static int store_config(struct xdp_relay *r, const struct xt_config *cfg)
{
	struct xt_config next = *cfg, old;
	__u32 key = 0;
	int err;

	err = bpf_map__lookup_elem(r->skel->maps.config, &key, sizeof(key), &old, sizeof(old), 0);
	if (err)
		return fail(err, "cannot read the XDP config: %s", strerror(-err));
	put_be32(next.fib_gen, get_be32(old.fib_gen) + 1);
	err = bpf_map__update_elem(r->skel->maps.config, &key, sizeof(key), &next, sizeof(next), 0);
	if (err)
		return fail(err, "cannot store the XDP config: %s", strerror(-err));
	r->fib_cache_ms = get_be16(next.fib_cache_ms);
	return 0;
}

int xdp_relay__set_config(struct xdp_relay *r, const struct xt_config *cfg)
{
	__u16 listen = get_be16(cfg->listen_port), lo = get_be16(cfg->port_min),
	      hi = get_be16(cfg->port_max);

	if (lo > hi || (lo && listen >= lo && listen <= hi))
		return fail(-EINVAL, "relay ports %u-%u must be ordered and exclude listen port %u",
			    lo, hi, listen);
	if (cfg->n_v4 > XT_MAX_ADDRS_V4 || cfg->n_v6 > XT_MAX_ADDRS_V6)
		return fail(-EINVAL, "address counts out of range");
	return store_config(r, cfg);
}

int xdp_relay__flush_fib_cache(struct xdp_relay *r)
{
	struct xt_config cfg;
	int err = xdp_relay__get_config(r, &cfg);

	return err ? err : store_config(r, &cfg);
}

int xdp_relay__age_fib_cache(struct xdp_relay *r, __u64 now_ms)
{
	if (!r->fib_cache_ms || now_ms - r->fib_aged_ms < r->fib_cache_ms)
		return 0;
	r->fib_aged_ms = now_ms;
	return xdp_relay__flush_fib_cache(r);
}

int xdp_relay__get_config(struct xdp_relay *r, struct xt_config *cfg)
{
	__u32 key = 0;
	int err = bpf_map__lookup_elem(r->skel->maps.config, &key, sizeof(key), cfg, sizeof(*cfg),
				       0);

	return err ? fail(err, "cannot read the XDP config: %s", strerror(-err)) : 0;
}

/* ---- fast path ---- */

/* The keys of a binding: its client side (by the client's family) and its peer side. */
struct binding_keys {
	void *client, *peer;
	size_t client_size, peer_size;
	struct bpf_map *client_map, *peer_map;
	union {
		struct xt_chan4_client_key v4;
		struct xt_chan6_client_key v6;
	} ck;
	union {
		struct xt_chan4_peer_key v4;
		struct xt_chan6_peer_key v6;
	} pk;
};

/* Fills a channel key of either side (one layout, xdp/maps.h): the IPs of a and b (same family),
 * then the 2-byte fields fa and fb; returns the key's size. */
static size_t chan_key_fill(void *key, const struct xt_addr *a, const struct xt_addr *b,
			    const __u8 fa[2], const __u8 fb[2])
{
	size_t n = a->family == XT_AF_INET6 ? 16 : 4;
	__u8 *k = key;

	memcpy(k, a->ip, n);
	memcpy(k + n, b->ip, n);
	memcpy(k + 2 * n, fa, 2);
	memcpy(k + 2 * n + 2, fb, 2);
	return 2 * n + 4;
}

static void binding_keys(struct xdp_relay *r, const struct fastpath_binding *b,
			 struct binding_keys *k)
{
	__u8 channel[2];

	memset(k, 0, sizeof(*k));
	put_be16(channel, b->channel);
	k->client = &k->ck;
	k->peer = &k->pk;
	k->client_size = chan_key_fill(k->client, &b->client, &b->listen, b->client.port, channel);
	k->peer_size = chan_key_fill(k->peer, &b->peer, &b->relay, b->peer.port, b->relay.port);
	k->client_map = b->client.family == XT_AF_INET6 ? r->skel->maps.chan6_by_client :
							  r->skel->maps.chan4_by_client;
	k->peer_map = b->peer.family == XT_AF_INET6 ? r->skel->maps.chan6_by_peer :
						      r->skel->maps.chan4_by_peer;
}

static void binding_values(const struct fastpath_binding *b, struct xt_chan_client_val *cv,
			   struct xt_chan_peer_val *pv)
{
	memset(cv, 0, sizeof(*cv));
	cv->peer = b->peer;
	cv->relay = b->relay;
	put_be32(cv->alloc_id, b->alloc_id);
	memset(pv, 0, sizeof(*pv));
	pv->client = b->client;
	pv->listen = b->listen;
	put_be16(pv->channel, b->channel);
	put_be32(pv->alloc_id, b->alloc_id);
}

static bool addr_valid(const struct xt_addr *a)
{
	static const __u8 zero[16];

	if (a->family == XT_AF_INET)
		return memcmp(a->ip + 4, zero, 12) == 0 && a->pad[0] == 0 && a->pad[1] == 0 &&
		       a->pad[2] == 0;
	return a->family == XT_AF_INET6 && a->pad[0] == 0 && a->pad[1] == 0 && a->pad[2] == 0;
}

/* A full hash map answers E2BIG (preallocated) or ENOMEM: both mean "no room". */
static int map_full(int err)
{
	return err == -E2BIG || err == -ENOMEM ? -ENOSPC : err;
}

int fastpath__install(struct xdp_relay *r, const struct fastpath_binding *b)
{
	struct binding_keys k;
	struct xt_chan_client_val cv;
	struct xt_chan_peer_val pv;
	int err;

	if (!addr_valid(&b->client) || !addr_valid(&b->listen) || !addr_valid(&b->peer) ||
	    !addr_valid(&b->relay) || b->client.family != b->listen.family ||
	    b->peer.family != b->relay.family || b->channel < 0x4000 || b->channel > 0x7FFF)
		return fail(-EINVAL, "malformed channel binding (channel 0x%x)", b->channel);
	binding_keys(r, b, &k);
	binding_values(b, &cv, &pv);
	err = bpf_map__update_elem(k.client_map, k.client, k.client_size, &cv, sizeof(cv), BPF_ANY);
	if (err)
		return fail(map_full(err), "cannot install channel 0x%x (%s): %s", b->channel,
			    bpf_map__name(k.client_map), strerror(-err));
	err = bpf_map__update_elem(k.peer_map, k.peer, k.peer_size, &pv, sizeof(pv), BPF_ANY);
	if (err) {
		bpf_map__delete_elem(k.client_map, k.client, k.client_size, 0);
		return fail(map_full(err), "cannot install channel 0x%x (%s): %s", b->channel,
			    bpf_map__name(k.peer_map), strerror(-err));
	}
	return 0;
}

int fastpath__remove(struct xdp_relay *r, const struct fastpath_binding *b)
{
	struct binding_keys k;
	int e1, e2;

	binding_keys(r, b, &k);
	e1 = bpf_map__delete_elem(k.client_map, k.client, k.client_size, 0);
	e2 = bpf_map__delete_elem(k.peer_map, k.peer, k.peer_size, 0);
	if (e1 == -ENOENT && e2 == -ENOENT)
		return fail(-ENOENT, "channel 0x%x is not installed", b->channel);
	if (e1 && e1 != -ENOENT)
		return fail(e1, "cannot remove channel 0x%x: %s", b->channel, strerror(-e1));
	if (e2 && e2 != -ENOENT)
		return fail(e2, "cannot remove channel 0x%x: %s", b->channel, strerror(-e2));
	return 0;
}

int fastpath__lookup(struct xdp_relay *r, const struct fastpath_binding *b)
{
	struct binding_keys k;
	struct xt_chan_client_val cv;
	struct xt_chan_peer_val pv;

	binding_keys(r, b, &k);
	if (bpf_map__lookup_elem(k.client_map, k.client, k.client_size, &cv, sizeof(cv), 0) ||
	    bpf_map__lookup_elem(k.peer_map, k.peer, k.peer_size, &pv, sizeof(pv), 0))
		return -ENOENT;
	return 0;
}

int fastpath__set_quota(struct xdp_relay *r, __u32 alloc_id, __u64 rate, __u64 burst)
{
	struct xt_quota_key key;
	struct xt_quota q;
	int err;

	if (!alloc_id || rate > XT_QUOTA_MAX_RATE)
		return fail(-EINVAL, "quota for allocation %u: id 0 or rate above %llu B/s",
			    alloc_id, (unsigned long long)XT_QUOTA_MAX_RATE);
	put_be32(key.alloc_id, alloc_id);
	memset(&q, 0, sizeof(q));
	q.rate = rate;
	q.burst = burst;
	q.tokens = burst;
	err = bpf_map__update_elem(r->skel->maps.quota, &key, sizeof(key), &q, sizeof(q), BPF_ANY);
	if (err)
		return fail(map_full(err), "cannot set quota of allocation %u: %s", alloc_id,
			    strerror(-err));
	return 0;
}

int fastpath__clear_quota(struct xdp_relay *r, __u32 alloc_id)
{
	struct xt_quota_key key;
	int err;

	put_be32(key.alloc_id, alloc_id);
	err = bpf_map__delete_elem(r->skel->maps.quota, &key, sizeof(key), 0);
	return err ? fail(err, "no quota for allocation %u", alloc_id) : 0;
}

/* ---- steering ---- */

int xdp_relay__mark_port(struct xdp_relay *r, __u16 port, bool allocated)
{
	__u32 key = port;
	__u8 v = allocated ? XT_PORT_ALLOCATED : XT_PORT_FREE;
	int err = bpf_map__update_elem(r->skel->maps.relay_ports, &key, sizeof(key), &v, sizeof(v),
				       0);

	return err ? fail(err, "cannot mark relay port %u: %s", port, strerror(-err)) : 0;
}

int xdp_relay__register_xsk(struct xdp_relay *r, __u32 queue, int xsk_fd)
{
	__u32 fd = (__u32)xsk_fd;
	int err = bpf_map__update_elem(r->skel->maps.xsks, &queue, sizeof(queue), &fd, sizeof(fd),
				       0);

	return err ? fail(err, "cannot register the AF_XDP socket of queue %u: %s", queue,
			  strerror(-err))
		   : 0;
}

int xdp_relay__unregister_xsk(struct xdp_relay *r, __u32 queue)
{
	int err = bpf_map__delete_elem(r->skel->maps.xsks, &queue, sizeof(queue), 0);

	return err ? fail(err, "no AF_XDP socket on queue %u", queue) : 0;
}

int xdp_relay__add_tx_port(struct xdp_relay *r, int ifindex)
{
	__u32 key = (__u32)ifindex, val = (__u32)ifindex;
	int err = bpf_map__update_elem(r->skel->maps.tx_ports, &key, sizeof(key), &val,
				       sizeof(val), 0);

	return err ? fail(map_full(err), "cannot add ifindex %d to tx_ports: %s", ifindex,
			  strerror(-err))
		   : 0;
}

int xdp_relay__remove_tx_port(struct xdp_relay *r, int ifindex)
{
	__u32 key = (__u32)ifindex;
	int err = bpf_map__delete_elem(r->skel->maps.tx_ports, &key, sizeof(key), 0);

	return err ? fail(err, "ifindex %d is not in tx_ports", ifindex) : 0;
}

/* ---- counters ---- */

static const char *const stat_names[XT_STAT_COUNT] = {
	[XT_STAT_RELAY_C2P_V4] = "relay_c2p_v4",
	[XT_STAT_RELAY_C2P_V6] = "relay_c2p_v6",
	[XT_STAT_RELAY_P2C_V4] = "relay_p2c_v4",
	[XT_STAT_RELAY_P2C_V6] = "relay_p2c_v6",
	[XT_STAT_RELAY_HAIRPIN] = "relay_hairpin",
	[XT_STAT_TX_REDIRECT] = "tx_redirect",
	[XT_STAT_FIB_FALLBACK] = "fib_fallback",
	[XT_STAT_XSK] = "xsk",
	[XT_STAT_XSK_MISSING] = "xsk_missing",
	[XT_STAT_PASS_NOT_OURS] = "pass_not_ours",
	[XT_STAT_PASS_PORT_FREE] = "pass_port_free",
	[XT_STAT_USER_STUN] = "user_stun",
	[XT_STAT_USER_NO_CHANNEL] = "user_no_channel",
	[XT_STAT_USER_HAIRPIN] = "user_hairpin",
	[XT_STAT_USER_DISABLED] = "user_disabled",
	[XT_STAT_USER_FRAGMENT] = "user_fragment",
	[XT_STAT_USER_IP_OPTIONS] = "user_ip_options",
	[XT_STAT_USER_IPV6_EXT] = "user_ipv6_ext",
	[XT_STAT_USER_VLAN] = "user_vlan",
	[XT_STAT_USER_ZERO_CSUM] = "user_zero_csum",
	[XT_STAT_USER_BAD_LENGTH] = "user_bad_length",
	[XT_STAT_USER_PADDING] = "user_padding",
	[XT_STAT_USER_MTU] = "user_mtu",
	[XT_STAT_USER_ROUTE] = "user_route",
	[XT_STAT_USER_NO_TX_PORT] = "user_no_tx_port",
	[XT_STAT_USER_NO_HEADROOM] = "user_no_headroom",
	[XT_STAT_USER_NO_NEIGH] = "user_no_neigh",
	[XT_STAT_DROP_CHANNEL_LEN] = "drop_channel_len",
	[XT_STAT_DROP_QUOTA] = "drop_quota",
	[XT_STAT_DROP_TTL] = "drop_ttl",
	[XT_STAT_DROP_IP_CSUM] = "drop_ip_csum",
	[XT_STAT_DROP_INTERNAL] = "drop_internal",
};

const char *xdp_relay__stat_name(unsigned int id)
{
	return id < XT_STAT_COUNT ? stat_names[id] : NULL;
}

int xdp_relay__read_stats(struct xdp_relay *r, struct xt_stat *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xt_stat *percpu;
	int err = 0;

	if (ncpu <= 0)
		return fail(ncpu ? ncpu : -EINVAL, "cannot count CPUs");
	percpu = calloc((size_t)ncpu, sizeof(*percpu));
	if (!percpu)
		return fail(-ENOMEM, "out of memory");
	for (__u32 id = 0; id < XT_STAT_COUNT; id++) {
		err = bpf_map__lookup_elem(r->skel->maps.stats, &id, sizeof(id), percpu,
					   (size_t)ncpu * sizeof(*percpu), 0);
		if (err) {
			fail(err, "cannot read counters: %s", strerror(-err));
			break;
		}
		out[id].packets = 0;
		out[id].bytes = 0;
		for (int c = 0; c < ncpu; c++) {
			out[id].packets += percpu[c].packets;
			out[id].bytes += percpu[c].bytes;
		}
	}
	free(percpu);
	return err;
}

/* ---- raw access ---- */

int xdp_relay__map_fd(const struct xdp_relay *r, enum xdp_relay_map map)
{
	switch (map) {
	case XDP_RELAY_MAP_CONFIG:
		return bpf_map__fd(r->skel->maps.config);
	case XDP_RELAY_MAP_CHAN4_BY_CLIENT:
		return bpf_map__fd(r->skel->maps.chan4_by_client);
	case XDP_RELAY_MAP_CHAN6_BY_CLIENT:
		return bpf_map__fd(r->skel->maps.chan6_by_client);
	case XDP_RELAY_MAP_CHAN4_BY_PEER:
		return bpf_map__fd(r->skel->maps.chan4_by_peer);
	case XDP_RELAY_MAP_CHAN6_BY_PEER:
		return bpf_map__fd(r->skel->maps.chan6_by_peer);
	case XDP_RELAY_MAP_RELAY_PORTS:
		return bpf_map__fd(r->skel->maps.relay_ports);
	case XDP_RELAY_MAP_QUOTA:
		return bpf_map__fd(r->skel->maps.quota);
	case XDP_RELAY_MAP_XSKS:
		return bpf_map__fd(r->skel->maps.xsks);
	case XDP_RELAY_MAP_TX_PORTS:
		return bpf_map__fd(r->skel->maps.tx_ports);
	case XDP_RELAY_MAP_STATS:
		return bpf_map__fd(r->skel->maps.stats);
	}
	return -EINVAL;
}

int xdp_relay__prog_fd(const struct xdp_relay *r)
{
	return bpf_program__fd(r->skel->progs.xturn_xdp);
}
