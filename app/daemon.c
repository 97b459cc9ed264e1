/* app/daemon.c — see daemon.h.
 *
 * Threads: one worker per NIC queue (AF_XDP RX → pipeline → TX), the control thread (main: timers of
 * the TURN core, neighbour notifications, SIGHUP), and libmicrohttpd's thread for /metrics.
 * Allocation state: one turn_server shared by all workers behind one mutex, taken once per frame
 * handed to the core. Channel data of bound channels never reaches user space (the XDP fast path
 * relays it), so the lock guards control traffic and the user-space relaying of unbound data; see
 * ARCHITECTURE.md for why this beats steering here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "app/daemon.h"
#include "app/iface.h"
#include "app/version.h"
#include "app/log.h"
#include "app/metrics.h"
#include "app/neigh.h"
#include "app/pipeline.h"
#include "app/turn_setup.h"
#include "app/xsk.h"
#include "turn/auth.h"
#include "turn/server.h"
#include "xdp/loader.h"

#define MAX_WORKERS XTURN_CONFIG_MAX_QUEUES
#define SPARE_FRAMES 4
#define CONTROL_PERIOD_MS 50
#define HOLD_MAX 64	 /* frames per worker waiting for a next-hop MAC */
#define HOLD_MS 1000	 /* how long they wait (the kernel's ARP queue waits about as long) */

struct daemon;

struct held_frame {
	uint64_t addr;
	uint32_t len;
	struct xt_addr to;
	int64_t deadline_ms;
};

struct worker {
	struct daemon *d;
	pthread_t thread;
	bool started;
	struct xsk_port port;
	struct pipeline pl;
	struct pl_buf spare[SPARE_FRAMES];
	unsigned int n_spare;
	struct held_frame held[HOLD_MAX];
	unsigned int n_held;
};

/* Everything a SIGHUP replaces, kept alive together while the core refers to it. */
struct generation {
	struct xturn_config cfg;
	struct turn_setup setup; /* credentials, peer policy and the core's config, from cfg */
};

struct daemon_stats {
	uint64_t fastpath_installed, fastpath_removed, fastpath_full, fastpath_errors;
	uint64_t reloads, reload_errors;
	uint64_t tick_sends_dropped;
};

struct daemon {
	const char *config_path;
	struct generation *gen;
	int ifindex;
	uint8_t mac[6];
	struct xdp_relay *xdp;
	struct turn_server *server;
	pthread_mutex_t server_lock;
	struct neigh_cache *neigh;
	struct metrics_server *metrics;
	struct worker workers[MAX_WORKERS];
	unsigned int n_workers;
	uint16_t port_refs[65536]; /* allocations per relay port (IPv4 and IPv6 may share one) */
	pthread_mutex_t map_lock;  /* port_refs and stats below */
	struct daemon_stats stats;
	int64_t clock_offset_ms; /* UNIX ms = monotonic ms + offset: never goes back */
	volatile int running;
};

static volatile sig_atomic_t got_stop, got_reload;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_reload = 1;
	else
		got_stop = 1;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t now_ms(const struct daemon *d)
{
	return (uint64_t)(monotonic_ms() + d->clock_offset_ms);
}

static void random_bytes(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	while (len) {
		ssize_t n = getrandom(buf, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			abort(); /* the kernel's CSPRNG does not fail once initialised */
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* ---- configuration generations ---- */

static void generation_free(struct generation *g)
{
	if (!g)
		return;
	turn_setup__release(&g->setup);
	xturn_config__free(&g->cfg);
	free(g);
}

/* Builds the credential store and the core's config from a loaded file (taken over). */
static struct generation *generation_new(struct xturn_config *cfg)
{
	struct generation *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	if (turn_setup__init(&g->setup, &g->cfg)) {
		generation_free(g);
		return NULL;
	}
	return g;
}

/* ---- side effects of the core's actions on the kernel maps ---- */

static void binding_of(const struct turn_action *a, struct fastpath_binding *b)
{
	b->client = a->chan.client;
	b->listen = a->chan.listen;
	b->peer = a->chan.peer;
	b->relay = a->chan.relay;
	b->channel = a->channel;
	b->alloc_id = a->alloc_id;
}

static void mark_port(struct daemon *d, const struct turn_action *a, bool allocated)
{
	uint16_t port = xt_addr_port(&a->alloc.relay);
	bool change;
	int err = 0;

	pthread_mutex_lock(&d->map_lock);
	if (allocated)
		change = d->port_refs[port]++ == 0;
	else
		change = d->port_refs[port] && --d->port_refs[port] == 0;
	if (change)
		err = xdp_relay__mark_port(d->xdp, port, allocated);
	pthread_mutex_unlock(&d->map_lock);
	if (err)
		pr_warn_ratelimited("marking relay port %u %s: %s", port,
				    allocated ? "allocated" : "free", strerror(-err));
}

/* Applied in order, before the datagrams of the same call leave (DESIGN.md §1). */
static void apply_map_actions(struct daemon *d, const struct turn_actions *acts)
{
	bool fast_path = d->gen->cfg.xdp.fast_path;
	unsigned long long bw = d->gen->cfg.allocations.bandwidth_bps;

	for (uint32_t i = 0; i < acts->n; i++) {
		const struct turn_action *a = &acts->v[i];
		struct fastpath_binding b;
		int err;

		switch (a->type) {
		case TURN_ACT_CHANNEL_BOUND:
			if (!fast_path)
				break;
			binding_of(a, &b);
			err = fastpath__install(d->xdp, &b);
			pthread_mutex_lock(&d->map_lock);
			if (!err)
				d->stats.fastpath_installed++;
			else if (err == -ENOSPC) /* user space relays this channel instead */
				d->stats.fastpath_full++;
			else
				d->stats.fastpath_errors++;
			pthread_mutex_unlock(&d->map_lock);
			break;
		case TURN_ACT_CHANNEL_UNBOUND:
			if (!fast_path)
				break;
			binding_of(a, &b);
			if (!fastpath__remove(d->xdp, &b)) {
				pthread_mutex_lock(&d->map_lock);
				d->stats.fastpath_removed++;
				pthread_mutex_unlock(&d->map_lock);
			}
			break;
		case TURN_ACT_ALLOCATION_CREATED:
			mark_port(d, a, true);
			if (bw && fast_path)
				fastpath__set_quota(d->xdp, a->alloc_id, bw, bw);
			break;
		case TURN_ACT_ALLOCATION_DELETED:
			mark_port(d, a, false);
			if (bw && fast_path)
				fastpath__clear_quota(d->xdp, a->alloc_id);
			break;
		default:
			break;
		}
	}
}

/* ---- workers ---- */

static void top_up_spares(struct worker *w)
{
	while (w->n_spare < SPARE_FRAMES) {
		struct xsk_frame f;

		if (xsk_port__alloc(&w->port, &f))
			return;
		w->spare[w->n_spare++] = (struct pl_buf){ .data = f.data, .cap = XSK_FRAME_SIZE,
							  .handle = f.addr };
	}
}

static void hold_frame(struct worker *w, const struct pl_tx *tx)
{
	if (w->n_held == HOLD_MAX) {
		w->pl.stats.drops[PL_DROP_NO_NEIGHBOUR]++;
		xsk_port__free(&w->port, tx->handle);
		return;
	}
	w->held[w->n_held++] = (struct held_frame){ .addr = tx->handle + tx->offset,
						    .len = tx->len,
						    .to = tx->to,
						    .deadline_ms = monotonic_ms() + HOLD_MS };
}

/* Sends the held frames whose next hop got resolved; drops (counted) those that waited too long. */
static void retry_held(struct worker *w)
{
	int64_t now = monotonic_ms();
	unsigned int kept = 0;

	for (unsigned int i = 0; i < w->n_held; i++) {
		struct held_frame *h = &w->held[i];
		uint8_t *frame = (uint8_t *)w->port.area + h->addr;
		int err = neigh_cache__lookup(w->d->neigh, &h->to, frame);

		if (!err) {
			xsk_port__tx(&w->port, h->addr, h->len);
		} else if (err != -EAGAIN || now > h->deadline_ms) {
			w->pl.stats.drops[PL_DROP_NO_NEIGHBOUR]++;
			xsk_port__free(&w->port, h->addr);
		} else {
			w->held[kept++] = *h;
		}
	}
	w->n_held = kept;
}

static void handle_frame(struct worker *w, const struct xsk_frame *f, uint64_t now)
{
	struct daemon *d = w->d;
	uint64_t chunk = f->addr & ~(uint64_t)(XSK_FRAME_SIZE - 1);
	struct pl_io io = {
		.in = { .data = xsk_port__chunk(&w->port, f->addr), .cap = XSK_FRAME_SIZE,
			.handle = chunk },
		.in_off = (uint32_t)(f->addr - chunk),
		.in_len = f->len,
	};

	top_up_spares(w);
	io.spare = w->spare;
	io.n_spare = w->n_spare;
	pipeline__input(&w->pl, now, &io);
	w->n_spare = io.n_spare; /* the used ones are now TX frames */
	apply_map_actions(d, &w->pl.actions);
	for (unsigned int i = 0; i < io.n_tx; i++) {
		if (io.tx[i].unresolved)
			hold_frame(w, &io.tx[i]);
		else
			xsk_port__tx(&w->port, io.tx[i].handle + io.tx[i].offset, io.tx[i].len);
	}
	if (!io.in_consumed)
		xsk_port__free(&w->port, f->addr);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct xsk_frame frames[XSK_BATCH];
	struct pollfd pfd = { .fd = xsk_port__fd(&w->port), .events = POLLIN };

	while (__atomic_load_n(&w->d->running, __ATOMIC_RELAXED)) {
		unsigned int n = xsk_port__rx(&w->port, frames, XSK_BATCH);
		uint64_t now;

		if (w->n_held)
			retry_held(w);
		if (!n) {
			xsk_port__flush(&w->port);
			xsk_port__service(&w->port);
			/* bounded: shutdown is noticed within 0.1 s, held frames retried every 5 ms */
			poll(&pfd, 1, w->n_held ? 5 : 100);
			continue;
		}
		now = now_ms(w->d);
		for (unsigned int i = 0; i < n; i++)
			handle_frame(w, &frames[i], now);
		xsk_port__flush(&w->port);
		xsk_port__service(&w->port);
	}
	for (unsigned int i = 0; i < w->n_spare; i++)
		xsk_port__free(&w->port, w->spare[i].handle);
	for (unsigned int i = 0; i < w->n_held; i++)
		xsk_port__free(&w->port, w->held[i].addr);
	w->n_spare = w->n_held = 0;
	return NULL;
}

/* ---- interface facts ---- */


/* ---- metrics ---- */

static bool health(void *ctx)
{
	struct daemon *d = ctx;

	return __atomic_load_n(&d->running, __ATOMIC_RELAXED) && xdp_relay__ifindex(d->xdp) > 0;
}

static void render_metrics(void *ctx, struct metrics_text *t);
static void render_status(void *ctx, const char *user, struct metrics_text *t);

/* ---- start-up and shutdown ---- */

static void stop_workers(struct daemon *d)
{
	__atomic_store_n(&d->running, 0, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < d->n_workers; i++)
		if (d->workers[i].started)
			pthread_join(d->workers[i].thread, NULL);
}

static enum xdp_relay_mode relay_mode(enum xturn_xdp_mode m)
{
	return m == XTURN_XDP_NATIVE ? XDP_RELAY_MODE_NATIVE
	       : m == XTURN_XDP_GENERIC ? XDP_RELAY_MODE_GENERIC
					: XDP_RELAY_MODE_AUTO;
}

static void loader_log(enum xdp_relay_log_level level, const char *msg)
{
	if (level == XDP_RELAY_LOG_WARN)
		pr_warn("xdp: %s", msg);
	else
		pr_info("xdp: %s", msg);
}

/* 1 when /proc/sys/net/<family>/conf/<ifname>/forwarding is on, 0 off, -1 unreadable. */
static int forwarding_on(const char *family, const char *ifname)
{
	char path[128];
	int c = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/forwarding", family, ifname);
	f = fopen(path, "r");
	if (f) {
		c = fgetc(f);
		fclose(f);
	}
	return c == '1' ? 1 : c == '0' ? 0 : -1;
}

/* bpf_fib_lookup answers only on an interface that forwards: without it the fast path sends each
 * relayed frame back the way it came (right behind one gateway, wrong on a shared segment). */
static void check_forwarding(const struct xturn_config *cfg)
{
	bool v4 = false, v6 = false;

	for (size_t i = 0; i < cfg->n_addresses; i++) {
		v4 |= cfg->addresses[i].family == XT_AF_INET;
		v6 |= cfg->addresses[i].family == XT_AF_INET6;
	}
	if ((v4 && forwarding_on("ipv4", cfg->interface) == 0) ||
	    (v6 && forwarding_on("ipv6", cfg->interface) == 0))
		pr_warn("xdp: forwarding is off on %s, so the fast path cannot ask the FIB for next "
			"hops and answers the way frames came in; enable net.ipv4.conf.%s.forwarding "
			"(and net.ipv6.conf.%s.forwarding) unless one gateway serves every client and "
			"peer",
			cfg->interface, cfg->interface, cfg->interface);
}

static int setup_xdp(struct daemon *d)
{
	const struct xturn_config *cfg = &d->gen->cfg;
	struct xdp_relay_opts opts = { .max_channels = 0, .log = loader_log };
	const char *test_max = getenv("XTURN_TEST_MAX_CHANNELS");
	struct xt_config xc;
	__u16 flags = 0;
	int err;

	/* Test-only knob (tests/integration/test_exhaustion.sh): tiny fast-path maps, to see them
	 * fill up and user space take over. Not a configuration key: nobody should run with it. */
	if (test_max && *test_max) {
		opts.max_channels = (__u32)strtoul(test_max, NULL, 10);
		pr_warn("XTURN_TEST_MAX_CHANNELS=%u: fast-path maps sized for tests",
			opts.max_channels);
	}
	d->xdp = xdp_relay__open(&opts);
	if (!d->xdp) {
		pr_err("xdp: loading the program: %s", xdp_relay__errmsg());
		return -errno;
	}
	if (cfg->xdp.fast_path)
		flags |= XT_CFG_FASTPATH;
	if (cfg->allocations.bandwidth_bps)
		flags |= XT_CFG_QUOTA;
	xt_config__init(&xc, cfg->listen_port, cfg->relay_port_min, cfg->relay_port_max, flags);
	for (size_t i = 0; i < cfg->n_addresses; i++) {
		err = xt_config__add_addr(&xc, &cfg->addresses[i]);
		if (err) {
			pr_err("%s: addresses: too many for the XDP program (%s)", cfg->path,
			       strerror(-err));
			return err;
		}
	}
	err = xdp_relay__set_config(d->xdp, &xc);
	if (err) {
		pr_err("xdp: config: %s", xdp_relay__errmsg());
		return err;
	}
	err = xdp_relay__attach(d->xdp, cfg->interface, relay_mode(cfg->xdp.mode));
	if (err) {
		pr_err("xdp: attaching to %s: %s", cfg->interface, xdp_relay__errmsg());
		return err;
	}
	if (cfg->xdp.fast_path)
		check_forwarding(cfg);
	pr_info("xdp: attached to %s (ifindex %d) in %s mode, fast path %s", cfg->interface,
		d->ifindex, xdp_relay__mode(d->xdp) == XDP_RELAY_MODE_NATIVE ? "native" : "generic",
		cfg->xdp.fast_path ? "on" : "off");
	return 0;
}

static int setup_workers(struct daemon *d)
{
	const struct xturn_config *cfg = &d->gen->cfg;
	unsigned int queues[MAX_WORKERS], n = 0, available = iface_rx_queues(cfg->interface);
	struct pipeline_config pc;
	int err;

	pipeline_config__from(&pc, cfg, d->server, &d->server_lock, d->neigh, d->mac);
	if (cfg->xdp.all_queues) {
		for (unsigned int q = 0; q < available && n < MAX_WORKERS; q++)
			queues[n++] = q;
	} else {
		for (size_t i = 0; i < cfg->xdp.n_queues; i++) {
			if (cfg->xdp.queues[i] >= available) {
				pr_err("%s: xdp.queues: %s has %u RX queues, no queue %u", cfg->path,
				       cfg->interface, available, cfg->xdp.queues[i]);
				return -EINVAL;
			}
			queues[n++] = cfg->xdp.queues[i];
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		struct worker *w = &d->workers[i];

		w->d = d;
		err = xsk_port__open(&w->port, cfg->interface, queues[i], cfg->xdp.zero_copy,
				     xdp_relay__map_fd(d->xdp, XDP_RELAY_MAP_XSKS));
		if (err)
			return err;
		d->n_workers = i + 1;
		pipeline__init(&w->pl, &pc);
	}
	__atomic_store_n(&d->running, 1, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < d->n_workers; i++) {
		err = pthread_create(&d->workers[i].thread, NULL, worker_main, &d->workers[i]);
		if (err) {
			pr_err("starting worker %u: %s", i, strerror(err));
			return -err;
		}
		d->workers[i].started = true;
	}
	pr_info("%u worker%s started", d->n_workers, d->n_workers == 1 ? "" : "s");
	return 0;
}

static void teardown(struct daemon *d)
{
	stop_workers(d);
	/* Detach first: from here on the NIC is the kernel's alone, TURN traffic included. */
	if (d->xdp)
		xdp_relay__detach(d->xdp);
	metrics_server__stop(d->metrics);
	for (unsigned int i = 0; i < d->n_workers; i++)
		xsk_port__close(&d->workers[i].port);
	xdp_relay__destroy(d->xdp);
	neigh_cache__free(d->neigh);
	turn_server__free(d->server);
	generation_free(d->gen);
	pthread_mutex_destroy(&d->server_lock);
	pthread_mutex_destroy(&d->map_lock);
}

/* ---- control loop ---- */

static void reload(struct daemon *d)
{
	struct xturn_config cfg;
	char err[XTURN_CONFIG_ERR_LEN];
	struct generation *g, *old = d->gen;
	struct turn_server_stats before, after;
	int ret = xturn_config__load(d->config_path, &cfg, err, sizeof(err));

	d->stats.reloads++;
	if (ret) {
		d->stats.reload_errors++;
		pr_err("reload: %s; keeping the running configuration", err);
		return;
	}
	if (strcmp(cfg.interface, old->cfg.interface) || cfg.n_addresses != old->cfg.n_addresses ||
	    memcmp(cfg.addresses, old->cfg.addresses, sizeof(cfg.addresses)) ||
	    cfg.listen_port != old->cfg.listen_port ||
	    cfg.relay_port_min != old->cfg.relay_port_min ||
	    cfg.relay_port_max != old->cfg.relay_port_max ||
	    cfg.allocations.max_total != old->cfg.allocations.max_total ||
	    cfg.xdp.fast_path != old->cfg.xdp.fast_path)
		pr_warn("reload: interface, addresses, ports, allocations.max_total and xdp settings "
			"take effect only on restart");
	g = generation_new(&cfg);
	if (!g) {
		d->stats.reload_errors++;
		xturn_config__free(&cfg);
		pr_err("reload: %s: keeping the running configuration", d->config_path);
		return;
	}
	/* What cannot change is kept from the running generation. */
	g->setup.tcfg.n_relays = old->setup.tcfg.n_relays;
	memcpy(g->setup.tcfg.relays, old->setup.tcfg.relays, sizeof(g->setup.tcfg.relays));
	g->setup.tcfg.relay_port_min = old->setup.tcfg.relay_port_min;
	g->setup.tcfg.relay_port_max = old->setup.tcfg.relay_port_max;
	g->setup.tcfg.max_total = old->setup.tcfg.max_total;
	pthread_mutex_lock(&d->server_lock);
	turn_server__stats(d->server, &before);
	ret = turn_server__reconfigure(d->server, &g->setup.tcfg);
	turn_server__stats(d->server, &after);
	if (!ret)
		d->gen = g;
	pthread_mutex_unlock(&d->server_lock);
	if (ret) {
		d->stats.reload_errors++;
		pr_err("reload: the TURN core refused the new configuration: %s", strerror(-ret));
		generation_free(g);
		return;
	}
	log_set_level(g->cfg.log.level);
	pr_info("reload: %s: %zu users, %zu secrets, log level %s, %llu permission(s) revoked by the "
		"peer policy",
		d->config_path, g->cfg.auth.n_users, g->cfg.auth.n_secrets,
		xturn_log_level_name(g->cfg.log.level),
		(unsigned long long)(after.permissions_revoked - before.permissions_revoked));
	generation_free(old);
}

static void control_tick(struct daemon *d)
{
	static struct turn_action v[256];
	static uint8_t arena[TURN_ARENA_MIN * 4];
	struct turn_actions acts;
	uint64_t now = now_ms(d);

	turn_actions__init(&acts, v, 256, arena, sizeof(arena));
	for (int round = 0; round < 64; round++) {
		turn_actions__reset(&acts);
		pthread_mutex_lock(&d->server_lock);
		turn_server__tick(d->server, now, &acts);
		pthread_mutex_unlock(&d->server_lock);
		apply_map_actions(d, &acts);
		for (uint32_t i = 0; i < acts.n; i++)
			if (acts.v[i].type == TURN_ACT_SEND)
				d->stats.tick_sends_dropped++; /* expiry sends nothing today */
		if (acts.wake_at > now)
			break;
	}
}

static int control_loop(struct daemon *d)
{
	struct pollfd pfd = { .fd = neigh_cache__fd(d->neigh), .events = POLLIN };

	while (!got_stop) {
		poll(&pfd, 1, CONTROL_PERIOD_MS);
		if (got_reload) {
			got_reload = 0;
			reload(d);
		}
		neigh_cache__poll(d->neigh);
		/* The fast path caches FIB answers: a changed route or MAC must not wait them out,
		 * and no answer outlives its lifetime (the program reads no clock for it). */
		if (neigh_cache__take_changed(d->neigh))
			xdp_relay__flush_fib_cache(d->xdp);
		xdp_relay__age_fib_cache(d->xdp, (__u64)monotonic_ms());
		control_tick(d);
	}
	pr_info("stopping: detaching XDP from %s", d->gen->cfg.interface);
	return 0;
}

int daemon_run(struct xturn_config *cfg, const char *config_path)
{
	static struct daemon daemon; /* large (port table, workers): not on the stack */
	struct daemon *d = &daemon;
	struct sigaction sa = { .sa_handler = on_signal };
	int err;

	memset(d, 0, sizeof(*d));
	d->config_path = config_path;
	pthread_mutex_init(&d->server_lock, NULL);
	pthread_mutex_init(&d->map_lock, NULL);
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		d->clock_offset_ms =
			(int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - monotonic_ms();
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	d->gen = generation_new(cfg);
	if (!d->gen)
		goto out_fail;
	d->ifindex = (int)if_nametoindex(d->gen->cfg.interface);
	if (!d->ifindex) {
		pr_err("%s: interface: no such interface '%s'", d->gen->cfg.path,
		       d->gen->cfg.interface);
		goto out_fail;
	}
	err = iface_mac(d->gen->cfg.interface, d->mac);
	if (err) {
		pr_err("interface %s: reading its MAC: %s", d->gen->cfg.interface, strerror(-err));
		goto out_fail;
	}
	d->server = turn_server__new(&d->gen->setup.tcfg, random_bytes, NULL);
	if (!d->server) {
		pr_err("TURN core: %s", strerror(errno));
		goto out_fail;
	}
	d->neigh = neigh_cache__new(d->ifindex);
	if (!d->neigh)
		goto out_fail;
	if (setup_xdp(d) || setup_workers(d))
		goto out_fail;
	if (d->gen->cfg.metrics.enabled) {
		struct metrics_handlers h = { .metrics = render_metrics,
					      .health = health,
					      .status = render_status,
					      .ctx = d };

		d->metrics = metrics_server__start(&d->gen->cfg.metrics.listen, &h);
		if (!d->metrics)
			goto out_fail;
	}
	pr_info("xturnd: serving realm %s on %s port %u, relay ports %u-%u", d->gen->cfg.realm,
		d->gen->cfg.interface, d->gen->cfg.listen_port, d->gen->cfg.relay_port_min,
		d->gen->cfg.relay_port_max);
	control_loop(d);
	teardown(d);
	pr_info("xturnd: stopped");
	return 0;

out_fail:
	teardown(d);
	return 1;
}

/* ---- metrics rendering ---- */

/* One counter family by path (ebpf, userspace) and direction (to_peer, to_client). */
static void relayed_metric(struct metrics_text *t, const char *name, const char *help,
			   uint64_t ebpf_to_peer, uint64_t ebpf_to_client, uint64_t user_to_peer,
			   uint64_t user_to_client)
{
	metrics_text__header(t, name, "counter", help);
	metrics_text__printf(t, "%s{path=\"ebpf\",direction=\"to_peer\"} %llu\n", name,
			     (unsigned long long)ebpf_to_peer);
	metrics_text__printf(t, "%s{path=\"ebpf\",direction=\"to_client\"} %llu\n", name,
			     (unsigned long long)ebpf_to_client);
	metrics_text__printf(t, "%s{path=\"userspace\",direction=\"to_peer\"} %llu\n", name,
			     (unsigned long long)user_to_peer);
	metrics_text__printf(t, "%s{path=\"userspace\",direction=\"to_client\"} %llu\n", name,
			     (unsigned long long)user_to_client);
}

static void render_metrics(void *ctx, struct metrics_text *t)
{
	struct daemon *d = ctx;
	struct turn_server_stats ts;
	struct xt_stat xs[XT_STAT_COUNT] = { 0 };
	struct pipeline_stats ps = { 0 };
	struct neigh_stats ns;
	struct daemon_stats ds;

	pthread_mutex_lock(&d->server_lock);
	turn_server__stats(d->server, &ts);
	pthread_mutex_unlock(&d->server_lock);
	xdp_relay__read_stats(d->xdp, xs);
	neigh_cache__stats(d->neigh, &ns);
	pthread_mutex_lock(&d->map_lock);
	ds = d->stats;
	pthread_mutex_unlock(&d->map_lock);
	for (unsigned int i = 0; i < d->n_workers; i++) {
		const struct pipeline_stats *w = &d->workers[i].pl.stats;

		ps.frames_in += w->frames_in;
		ps.frames_out += w->frames_out;
		ps.in_place += w->in_place;
		for (int r = 0; r < PL_DROP__COUNT; r++)
			ps.drops[r] += w->drops[r];
	}

	metrics_text__header(t, "xturn_allocations_active", "gauge", "Live TURN allocations.");
	metrics_text__printf(t, "xturn_allocations_active %llu\n",
			     (unsigned long long)ts.allocations);
	metrics_text__header(t, "xturn_permissions_active", "gauge", "Live permissions.");
	metrics_text__printf(t, "xturn_permissions_active %llu\n",
			     (unsigned long long)ts.permissions);
	metrics_text__header(t, "xturn_channels_active", "gauge", "Bound channels.");
	metrics_text__printf(t, "xturn_channels_active %llu\n", (unsigned long long)ts.channels);
	metrics_text__header(t, "xturn_permissions_revoked_total", "counter",
			     "Permissions a reloaded peer policy refused and removed.");
	metrics_text__printf(t, "xturn_permissions_revoked_total %llu\n",
			     (unsigned long long)ts.permissions_revoked);

	metrics_text__header(t, "xturn_requests_total", "counter",
			     "STUN/TURN requests answered, by method and result code.");
	for (int m = 0; m < TURN_M__COUNT; m++)
		for (int r = 0; r < TURN_R__COUNT; r++)
			if (ts.requests[m][r])
				metrics_text__printf(
					t, "xturn_requests_total{method=\"%s\",code=\"%d\"} %llu\n",
					turn_stat_method_name((enum turn_stat_method)m),
					turn_stat_result_code((enum turn_stat_result)r),
					(unsigned long long)ts.requests[m][r]);

	relayed_metric(t, "xturn_data_relayed_bytes_total",
		       "Application bytes relayed, by path (ebpf = in the kernel, userspace = AF_XDP) "
		       "and direction.",
		       xs[XT_STAT_RELAY_C2P_V4].bytes + xs[XT_STAT_RELAY_C2P_V6].bytes,
		       xs[XT_STAT_RELAY_P2C_V4].bytes + xs[XT_STAT_RELAY_P2C_V6].bytes,
		       ts.to_peer_bytes, ts.to_client_bytes);
	relayed_metric(t, "xturn_data_relayed_packets_total",
		       "Datagrams relayed, by path and direction.",
		       xs[XT_STAT_RELAY_C2P_V4].packets + xs[XT_STAT_RELAY_C2P_V6].packets,
		       xs[XT_STAT_RELAY_P2C_V4].packets + xs[XT_STAT_RELAY_P2C_V6].packets,
		       ts.to_peer_packets, ts.to_client_packets);
	/* The names the inspiring relay uses, for dashboards built on them. */
	metrics_text__header(t, "data_relayed_ebpf_bytes", "counter", "Bytes relayed in the kernel.");
	metrics_text__printf(t, "data_relayed_ebpf_bytes %llu\n",
			     (unsigned long long)(xs[XT_STAT_RELAY_C2P_V4].bytes +
						  xs[XT_STAT_RELAY_C2P_V6].bytes +
						  xs[XT_STAT_RELAY_P2C_V4].bytes +
						  xs[XT_STAT_RELAY_P2C_V6].bytes));
	metrics_text__header(t, "data_relayed_userspace_bytes", "counter",
			     "Bytes relayed in user space.");
	metrics_text__printf(t, "data_relayed_userspace_bytes %llu\n",
			     (unsigned long long)(ts.to_peer_bytes + ts.to_client_bytes));

	metrics_text__header(t, "xturn_xdp_packets_total", "counter",
			     "XDP program verdicts and events, by counter (see xdp/maps.h).");
	for (unsigned int i = 0; i < XT_STAT_COUNT; i++)
		metrics_text__printf(t, "xturn_xdp_packets_total{counter=\"%s\"} %llu\n",
				     xdp_relay__stat_name(i), (unsigned long long)xs[i].packets);

	metrics_text__header(t, "xturn_drops_total", "counter",
			     "Datagrams dropped in user space, by stage and reason.");
	for (int r = 0; r < TURN_DROP__COUNT; r++)
		metrics_text__printf(t, "xturn_drops_total{stage=\"turn\",reason=\"%s\"} %llu\n",
				     turn_drop_reason_name((enum turn_drop_reason)r),
				     (unsigned long long)ts.drops[r]);
	for (int r = 0; r < PL_DROP__COUNT; r++)
		metrics_text__printf(t, "xturn_drops_total{stage=\"pipeline\",reason=\"%s\"} %llu\n",
				     pipeline_drop_name((enum pipeline_drop)r),
				     (unsigned long long)ps.drops[r]);

	metrics_text__header(t, "xturn_userspace_frames_total", "counter",
			     "Frames through the AF_XDP pipeline.");
	metrics_text__printf(t, "xturn_userspace_frames_total{dir=\"in\"} %llu\n",
			     (unsigned long long)ps.frames_in);
	metrics_text__printf(t, "xturn_userspace_frames_total{dir=\"out\"} %llu\n",
			     (unsigned long long)ps.frames_out);
	metrics_text__printf(t, "xturn_userspace_frames_total{dir=\"rewritten_in_place\"} %llu\n",
			     (unsigned long long)ps.in_place);

	metrics_text__header(t, "xturn_fastpath_events_total", "counter",
			     "Channel bindings installed in / removed from the kernel maps.");
	metrics_text__printf(t, "xturn_fastpath_events_total{event=\"installed\"} %llu\n",
			     (unsigned long long)ds.fastpath_installed);
	metrics_text__printf(t, "xturn_fastpath_events_total{event=\"removed\"} %llu\n",
			     (unsigned long long)ds.fastpath_removed);
	metrics_text__printf(t, "xturn_fastpath_events_total{event=\"map_full\"} %llu\n",
			     (unsigned long long)ds.fastpath_full);
	metrics_text__printf(t, "xturn_fastpath_events_total{event=\"error\"} %llu\n",
			     (unsigned long long)ds.fastpath_errors);

	metrics_text__header(t, "xturn_xsk_packets_total", "counter",
			     "AF_XDP socket counters, per queue.");
	for (unsigned int i = 0; i < d->n_workers; i++) {
		struct xsk_port_stats s;
		unsigned int q = d->workers[i].port.queue;

		xsk_port__stats(&d->workers[i].port, &s);
		metrics_text__printf(t, "xturn_xsk_packets_total{queue=\"%u\",counter=\"rx\"} %llu\n", q,
				     (unsigned long long)s.rx_packets);
		metrics_text__printf(t, "xturn_xsk_packets_total{queue=\"%u\",counter=\"tx\"} %llu\n", q,
				     (unsigned long long)s.tx_packets);
		metrics_text__printf(t, "xturn_xsk_packets_total{queue=\"%u\",counter=\"tx_ring_full\"} %llu\n",
				     q, (unsigned long long)s.tx_ring_full);
		metrics_text__printf(t, "xturn_xsk_packets_total{queue=\"%u\",counter=\"no_free_frame\"} %llu\n",
				     q, (unsigned long long)s.no_free_frame);
		metrics_text__printf(t, "xturn_xsk_packets_total{queue=\"%u\",counter=\"rx_dropped\"} %llu\n",
				     q, (unsigned long long)s.rx_dropped);
		metrics_text__printf(t, "xturn_xsk_packets_total{queue=\"%u\",counter=\"rx_ring_full\"} %llu\n",
				     q, (unsigned long long)s.rx_ring_full);
		metrics_text__printf(t, "xturn_xsk_packets_total{queue=\"%u\",counter=\"fill_ring_empty\"} %llu\n",
				     q, (unsigned long long)s.rx_fill_ring_empty);
	}
	metrics_text__header(t, "xturn_xsk_zero_copy", "gauge", "1 when the queue runs zero-copy.");
	for (unsigned int i = 0; i < d->n_workers; i++)
		metrics_text__printf(t, "xturn_xsk_zero_copy{queue=\"%u\"} %d\n",
				     d->workers[i].port.queue, d->workers[i].port.zero_copy);

	metrics_text__header(t, "xturn_neighbour_lookups_total", "counter",
			     "Next-hop MAC lookups for frames built in user space.");
	metrics_text__printf(t, "xturn_neighbour_lookups_total{result=\"hit\"} %llu\n", ns.hits);
	metrics_text__printf(t, "xturn_neighbour_lookups_total{result=\"unresolved\"} %llu\n",
			     ns.unresolved);
	metrics_text__printf(t, "xturn_neighbour_lookups_total{result=\"unreachable\"} %llu\n",
			     ns.unreachable);
	metrics_text__header(t, "xturn_config_reloads_total", "counter", "SIGHUP reloads.");
	metrics_text__printf(t, "xturn_config_reloads_total{result=\"ok\"} %llu\n",
			     (unsigned long long)(ds.reloads - ds.reload_errors));
	metrics_text__printf(t, "xturn_config_reloads_total{result=\"error\"} %llu\n",
			     (unsigned long long)ds.reload_errors);
	metrics_text__header(t, "xturn_memory_bytes", "gauge", "Bytes held by the TURN core.");
	metrics_text__printf(t, "xturn_memory_bytes %llu\n", (unsigned long long)ts.memory_bytes);
}

/* ---- status (xturnctl) ---- */

static const char *addr_text(const struct xt_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "-";

	if (a->family == XT_AF_INET)
		inet_ntop(AF_INET, a->ip, ip, sizeof(ip));
	else if (a->family == XT_AF_INET6)
		inet_ntop(AF_INET6, a->ip, ip, sizeof(ip));
	snprintf(buf, len, a->family == XT_AF_INET6 ? "[%s]:%u" : "%s:%u", ip, xt_addr_port(a));
	return buf;
}

struct status_walk {
	struct metrics_text *t;
	uint64_t now;
	const struct turn_server *server;
	unsigned int shown;
};

static int status_channel(const struct turn_channel_info *c, void *ctx)
{
	struct status_walk *w = ctx;
	char peer[64];

	metrics_text__printf(w->t, "    channel 0x%04x peer %s %s%s expires in %llds\n", c->channel,
			     addr_text(&c->peer, peer, sizeof(peer)),
			     c->bound ? "bound" : "cooling-down",
			     c->installed ? ", in kernel" : "",
			     (long long)((int64_t)(c->expires_ms - w->now) / 1000));
	return 0;
}

static int status_allocation(const struct turn_alloc_info *a, void *ctx)
{
	struct status_walk *w = ctx;
	char client[64], r4[64], r6[64];

	metrics_text__printf(w->t, "  allocation %u user %.*s client %s", a->id, (int)a->user_len,
			     (const char *)a->user, addr_text(&a->client, client, sizeof(client)));
	if (a->relay[0].family)
		metrics_text__printf(w->t, " relay %s (expires in %llds)",
				     addr_text(&a->relay[0], r4, sizeof(r4)),
				     (long long)((int64_t)(a->expires_ms[0] - w->now) / 1000));
	if (a->relay[1].family)
		metrics_text__printf(w->t, " relay %s (expires in %llds)",
				     addr_text(&a->relay[1], r6, sizeof(r6)),
				     (long long)((int64_t)(a->expires_ms[1] - w->now) / 1000));
	metrics_text__printf(w->t, " permissions %u channels %u\n", a->n_permissions, a->n_channels);
	turn_server__foreach_channel(w->server, a->id, status_channel, w);
	w->shown++;
	return 0;
}

static void render_status(void *ctx, const char *user, struct metrics_text *t)
{
	struct daemon *d = ctx;
	struct status_walk w = { .t = t, .now = now_ms(d), .server = d->server };
	struct turn_server_stats ts;
	struct xt_stat xs[XT_STAT_COUNT] = { 0 };

	metrics_text__printf(t, "xturnd %s on %s (ifindex %d), XDP %s mode, fast path %s\n",
			     XTURN_VERSION, d->gen->cfg.interface, d->ifindex,
			     xdp_relay__mode(d->xdp) == XDP_RELAY_MODE_NATIVE ? "native" : "generic",
			     d->gen->cfg.xdp.fast_path ? "on" : "off");
	for (unsigned int i = 0; i < d->n_workers; i++) {
		struct xsk_port_stats s;

		xsk_port__stats(&d->workers[i].port, &s);
		metrics_text__printf(t,
				     "queue %u: %s, rx %llu tx %llu, rx dropped %llu, tx ring full %llu, "
				     "fill ring empty %llu\n",
				     d->workers[i].port.queue,
				     d->workers[i].port.zero_copy ? "zero-copy" : "copy",
				     (unsigned long long)s.rx_packets, (unsigned long long)s.tx_packets,
				     (unsigned long long)s.rx_dropped, (unsigned long long)s.tx_ring_full,
				     (unsigned long long)s.rx_fill_ring_empty);
	}
	xdp_relay__read_stats(d->xdp, xs);
	metrics_text__printf(t, "relayed in kernel: %llu packets to peers, %llu to clients\n",
			     (unsigned long long)(xs[XT_STAT_RELAY_C2P_V4].packets +
						  xs[XT_STAT_RELAY_C2P_V6].packets),
			     (unsigned long long)(xs[XT_STAT_RELAY_P2C_V4].packets +
						  xs[XT_STAT_RELAY_P2C_V6].packets));
	pthread_mutex_lock(&d->server_lock);
	turn_server__stats(d->server, &ts);
	metrics_text__printf(t, "relayed in user space: %llu packets to peers, %llu to clients\n",
			     (unsigned long long)ts.to_peer_packets,
			     (unsigned long long)ts.to_client_packets);
	metrics_text__printf(t, "allocations %llu, permissions %llu, channels %llu%s%s\n",
			     (unsigned long long)ts.allocations, (unsigned long long)ts.permissions,
			     (unsigned long long)ts.channels, user ? ", of user " : "", user ? user : "");
	turn_server__foreach_allocation(d->server, (const uint8_t *)user, user ? strlen(user) : 0,
					status_allocation, &w);
	pthread_mutex_unlock(&d->server_lock);
}
