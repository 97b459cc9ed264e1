/* turn/server.c — the sans-IO TURN state machine. See server.h for the contract.
 *
 * Objects: an allocation (keyed by its 5-tuple: client address, listen address) owns one relayed
 * address per family (slot 0 IPv4, slot 1 IPv6, RFC 8656 §7.2), a list of permissions (keyed by
 * peer IP, §9) and a list of channels (§12). Global hash tables find permissions and channels by
 * (allocation, key); a per-relay-address array finds the allocation of a relay port. Timers live in
 * one min-heap. Objects come from fixed-size pools, so the packet path never calls malloc.
 *
 * Kernel map actions are eventually consistent and never reordered: a channel whose kernel state
 * must change is queued on the sync queue, a relayed address to give back on the release queue.
 * flush() emits the sync queue first, then the release queue, as room in the output allows; an
 * input is refused with -ENOBUFS while anything is pending, so a later BOUND never overtakes an
 * UNBOUND of the same key, and an ALLOCATION_DELETED always follows the UNBOUNDs of its channels.
 * User space relays correctly whatever the kernel holds, so a pending action only delays the fast
 * path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "turn/auth.h"
#include "turn/policy.h"
#include "turn/ports.h"
#include "turn/server.h"
#include "turn/stun.h"
#include "turn/timers.h"

#define MS		      1000ull
#define PERMISSION_LIFETIME_S 300 /* RFC 8656 §9 */
#define CHANNEL_LIFETIME_S    600 /* RFC 8656 §12 */
#define CHANNEL_COOLDOWN_S    300 /* RFC 8656 §12: no rebinding for 5 minutes after expiry */
#define RESERVATION_S	      30  /* RFC 8656 §7.2: hold the reserved port "about 30 seconds" */

#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

enum { TK_ALLOC = 1, TK_PERM, TK_CHAN, TK_RESV };
enum { SLOT_NONE, SLOT_ACTIVE, SLOT_RELEASING };
enum { CH_BOUND = 1, CH_COOLDOWN, CH_DEAD };

#define AF_ZOMBIE 0x01 /* no relayed address left: out of the 5-tuple table, to be released */
#define AF_QUEUED 0x02 /* on the release queue */
#define AF_FP	  0x04 /* the client uses FINGERPRINT: Data indications carry one too */
#define AF_TOKEN  0x08 /* the Allocate success carried RESERVATION-TOKEN */

struct turn_user {
	struct turn_user *hnext;
	uint32_t nalloc;
	uint16_t len;
	uint8_t name[];
};

struct turn_alloc {
	struct turn_alloc *hnext; /* 5-tuple table */
	struct turn_alloc *rnext; /* release queue */
	struct turn_user *user;
	struct turn_perm *perms;
	struct turn_chan *chans;
	struct turn_timer timer; /* the earliest expiry of an active slot */
	uint64_t expires[2];
	struct xt_addr client, local;
	uint32_t id;
	uint32_t lifetime; /* granted by the Allocate (seconds), to answer its retransmissions */
	uint16_t port[2];
	uint8_t relay[2]; /* index in s->relays */
	uint8_t state[2];
	uint8_t release_mask;
	uint8_t flags;
	uint8_t txid[STUN_TXID_LEN]; /* of the Allocate that made it */
	uint8_t addr_err_family;     /* ADDRESS-ERROR-CODE given for this family (0: none) */
	uint16_t addr_err;
	uint8_t token[8];
	uint16_t nperm, nchan;
	uint64_t quota_tokens;	/* bytes the bucket holds (bandwidth_bps) */
	uint64_t quota_last_ms; /* last refill; 0 = never (the bucket starts full) */
};

struct turn_perm {
	struct turn_perm *hnext;
	struct turn_perm *next, **pprev; /* the allocation's list */
	struct turn_alloc *alloc;
	struct turn_timer timer;
	uint8_t family;
	uint8_t ip[16];
};

struct turn_chan {
	struct turn_chan *hnext_num, *hnext_peer;
	struct turn_chan *next, **pprev; /* the allocation's list */
	struct turn_chan *snext;	 /* sync queue */
	struct turn_alloc *alloc;
	struct turn_timer timer;
	struct xt_addr peer;
	uint16_t num;
	uint8_t state;
	uint8_t installed; /* the kernel maps hold it (a BOUND was emitted, no UNBOUND since) */
	uint8_t queued;
	uint8_t hairpin; /* the peer is another allocation of ours: user space only */
};

struct turn_resv {
	struct turn_resv *hnext;
	struct turn_timer timer;
	uint8_t token[8];
	uint8_t relay;
	uint16_t port;
};

/* Fixed-size objects carved from chunks; freed objects are reused, chunks live until the end. */
struct pool {
	size_t size;
	uint32_t per_chunk;
	void *free;
	void **chunks;
	uint32_t nchunks, chunks_cap;
	size_t bytes;
};

/* Chained hash table of intrusive nodes; the link field's offset is given to each operation. */
struct htab {
	void **b;
	uint32_t mask;
	uint32_t n;
};

struct relay {
	struct xt_addr addr, adv; /* port 0; adv = addr when no 1:1 NAT */
	struct turn_ports ports;
	struct turn_alloc **owner; /* [port - min]: the allocation using the port */
};

struct turn_server {
	const struct auth_store *auth;
	struct auth_nonce_ctx nonce;
	turn_random_fn rnd;
	void *rnd_ctx;
	uint64_t seed[2];
	uint64_t ind_counter; /* Data indication transaction IDs */
	char *software;
	size_t resp_max; /* bytes of arena a STUN answer may need */
	uint32_t default_lifetime, max_lifetime, max_per_user, max_total;
	uint16_t port_min, port_max;
	uint16_t channel_max; /* STUN_CHANNEL_MAX, or STUN_CHANNEL_LEGACY_MAX for RFC 5766 clients */
	uint64_t bandwidth_bps; /* 0 = unlimited */
	uint64_t now_ms;	/* of the input being handled (the quota's clock) */

	struct relay relays[TURN_MAX_RELAY_ADDRS];
	unsigned int n_relays, rr;
	struct turn_policy policy;
	struct turn_timers timers;
	struct htab allocs, perms, chan_num, chan_peer, users, resvs;
	struct pool p_alloc, p_perm, p_chan, p_resv;
	size_t user_bytes;

	struct turn_chan *sync_head, **sync_tail;
	struct turn_alloc *rel_head, **rel_tail;
	uint32_t next_id;
	uint64_t nalloc, nperm, nchan;
	struct turn_server_stats st;
};

/* ---------------------------------------------------------------- pools ---- */

static int pool_init(struct pool *p, size_t size, uint32_t per_chunk)
{
	memset(p, 0, sizeof(*p));
	p->size = (size + 7) & ~(size_t)7;
	p->per_chunk = per_chunk;
	return 0;
}

static void *pool_get(struct pool *p)
{
	void *o;

	if (!p->free) {
		char *c;
		if (p->nchunks == p->chunks_cap) {
			uint32_t cap = p->chunks_cap ? p->chunks_cap * 2 : 16;
			void **v = realloc(p->chunks, cap * sizeof(*v));
			if (!v)
				return NULL;
			p->chunks = v;
			p->chunks_cap = cap;
			p->bytes += (cap - p->nchunks) * sizeof(*v);
		}
		c = malloc(p->size * p->per_chunk);
		if (!c)
			return NULL;
		p->chunks[p->nchunks++] = c;
		p->bytes += p->size * p->per_chunk;
		for (uint32_t i = p->per_chunk; i-- > 0;) {
			*(void **)(c + i * p->size) = p->free;
			p->free = c + i * p->size;
		}
	}
	o = p->free;
	p->free = *(void **)o;
	memset(o, 0, p->size);
	return o;
}

static void pool_put(struct pool *p, void *o)
{
	*(void **)o = p->free;
	p->free = o;
}

static void pool_destroy(struct pool *p)
{
	for (uint32_t i = 0; i < p->nchunks; i++)
		free(p->chunks[i]);
	free(p->chunks);
	memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------------ hashing ---- */

static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9E3779B97F4A7C15ull;
	return h ^ (h >> 29);
}

/* Keyed with the server's random seed: clients choose addresses, not bucket collisions. */
static inline uint64_t hash_addr(uint64_t h, const struct xt_addr *a)
{
	h = mix(h, rd64(a->ip));
	h = mix(h, rd64(a->ip + 8));
	return mix(h, (uint64_t)a->family << 16 | (uint64_t)a->port[0] << 8 | a->port[1]);
}

static inline uint32_t fin(uint64_t h)
{
	h = mix(h, 0x5851F42D4C957F2Dull);
	return (uint32_t)(h ^ (h >> 32));
}

static uint32_t hash_5tuple(const struct turn_server *s, const struct xt_addr *client,
			    const struct xt_addr *local)
{
	return fin(hash_addr(hash_addr(s->seed[0], client), local));
}

static uint32_t hash_perm(const struct turn_server *s, const struct turn_alloc *a, uint8_t family,
			  const uint8_t *ip)
{
	uint64_t h = mix(s->seed[1], (uint64_t)(uintptr_t)a);
	h = mix(h, rd64(ip));
	h = mix(h, rd64(ip + 8));
	return fin(mix(h, family));
}

static uint32_t hash_chan_num(const struct turn_server *s, const struct turn_alloc *a, uint16_t n)
{
	return fin(mix(mix(s->seed[0], (uint64_t)(uintptr_t)a), n));
}

static uint32_t hash_chan_peer(const struct turn_server *s, const struct turn_alloc *a,
			       const struct xt_addr *peer)
{
	return fin(hash_addr(mix(s->seed[1], (uint64_t)(uintptr_t)a), peer));
}

static uint32_t hash_bytes(uint64_t seed, const uint8_t *p, size_t len)
{
	uint64_t h = mix(seed, len);
	size_t i = 0;

	for (; i + 8 <= len; i += 8)
		h = mix(h, rd64(p + i));
	if (i < len) {
		uint8_t tail[8] = { 0 };
		memcpy(tail, p + i, len - i);
		h = mix(h, rd64(tail));
	}
	return fin(h);
}

#define NEXT(o, off) (*(void **)((char *)(o) + (off)))

static uint32_t pow2_at_least(uint64_t n)
{
	uint32_t v = 64;
	while (v < n && v < (1u << 30))
		v <<= 1;
	return v;
}

static int ht_init(struct htab *t, uint64_t size)
{
	uint32_t n = pow2_at_least(size);

	t->b = calloc(n, sizeof(*t->b));
	t->mask = n - 1;
	t->n = 0;
	return t->b ? 0 : -ENOMEM;
}

static size_t ht_memory(const struct htab *t)
{
	return t->b ? ((size_t)t->mask + 1) * sizeof(*t->b) : 0;
}

static void ht_insert(struct htab *t, void *o, size_t off, uint32_t h)
{
	void **b = &t->b[h & t->mask];

	NEXT(o, off) = *b;
	*b = o;
	t->n++;
}

static void ht_remove(struct htab *t, void *o, size_t off, uint32_t h)
{
	void **pp = &t->b[h & t->mask];

	while (*pp && *pp != o)
		pp = &NEXT(*pp, off);
	if (*pp) {
		*pp = NEXT(o, off);
		t->n--;
	}
}

/* Doubles the buckets when chains average more than 2; on ENOMEM the table just stays denser. */
static void ht_maybe_grow(struct turn_server *s, struct htab *t, size_t off,
			  uint32_t (*hash)(const struct turn_server *, const void *))
{
	uint32_t n = t->mask + 1, nn = n * 2;
	void **nb;

	if (t->n <= 2 * n || nn > (1u << 30))
		return;
	nb = calloc(nn, sizeof(*nb));
	if (!nb)
		return;
	for (uint32_t i = 0; i < n; i++) {
		void *o = t->b[i];
		while (o) {
			void *next = NEXT(o, off);
			void **b = &nb[hash(s, o) & (nn - 1)];
			NEXT(o, off) = *b;
			*b = o;
			o = next;
		}
	}
	free(t->b);
	t->b = nb;
	t->mask = nn - 1;
}

static uint32_t rehash_perm(const struct turn_server *s, const void *o)
{
	const struct turn_perm *p = o;
	return hash_perm(s, p->alloc, p->family, p->ip);
}

static uint32_t rehash_chan_num(const struct turn_server *s, const void *o)
{
	const struct turn_chan *c = o;
	return hash_chan_num(s, c->alloc, c->num);
}

static uint32_t rehash_chan_peer(const struct turn_server *s, const void *o)
{
	const struct turn_chan *c = o;
	return hash_chan_peer(s, c->alloc, &c->peer);
}

static uint32_t rehash_user(const struct turn_server *s, const void *o)
{
	const struct turn_user *u = o;
	return hash_bytes(s->seed[0], u->name, u->len);
}

static uint32_t rehash_resv(const struct turn_server *s, const void *o)
{
	const struct turn_resv *r = o;
	return hash_bytes(s->seed[1], r->token, 8);
}

/* ------------------------------------------------------------ lookups ---- */

static inline int fam_idx(uint8_t af)
{
	return af == XT_AF_INET6;
}

static struct turn_alloc *alloc_find(const struct turn_server *s, const struct xt_addr *client,
				     const struct xt_addr *local)
{
	struct turn_alloc *a = s->allocs.b[hash_5tuple(s, client, local) & s->allocs.mask];

	for (; a; a = a->hnext)
		if (xt_addr_equal(&a->client, client) && xt_addr_equal(&a->local, local))
			return a;
	return NULL;
}

static struct turn_perm *perm_find(const struct turn_server *s, const struct turn_alloc *a,
				   const struct xt_addr *peer)
{
	struct turn_perm *p = s->perms.b[hash_perm(s, a, peer->family, peer->ip) & s->perms.mask];

	for (; p; p = p->hnext)
		if (p->alloc == a && p->family == peer->family && !memcmp(p->ip, peer->ip, 16))
			return p;
	return NULL;
}

static struct turn_chan *chan_by_num(const struct turn_server *s, const struct turn_alloc *a,
				     uint16_t num)
{
	struct turn_chan *c = s->chan_num.b[hash_chan_num(s, a, num) & s->chan_num.mask];

	for (; c; c = c->hnext_num)
		if (c->alloc == a && c->num == num)
			return c;
	return NULL;
}

static struct turn_chan *chan_by_peer(const struct turn_server *s, const struct turn_alloc *a,
				      const struct xt_addr *peer)
{
	struct turn_chan *c = s->chan_peer.b[hash_chan_peer(s, a, peer) & s->chan_peer.mask];

	for (; c; c = c->hnext_peer)
		if (c->alloc == a && xt_addr_equal(&c->peer, peer))
			return c;
	return NULL;
}

static struct turn_user *user_find(const struct turn_server *s, const uint8_t *name, size_t len)
{
	struct turn_user *u = s->users.b[hash_bytes(s->seed[0], name, len) & s->users.mask];

	for (; u; u = u->hnext)
		if (u->len == len && !memcmp(u->name, name, len))
			return u;
	return NULL;
}

static struct turn_resv *resv_find(const struct turn_server *s, const uint8_t token[8])
{
	struct turn_resv *r = s->resvs.b[hash_bytes(s->seed[1], token, 8) & s->resvs.mask];

	for (; r; r = r->hnext)
		if (!memcmp(r->token, token, 8))
			return r;
	return NULL;
}

static void relay_addr_of(const struct turn_server *s, const struct turn_alloc *a, int f,
			  struct xt_addr *out)
{
	*out = s->relays[a->relay[f]].addr;
	xt_addr_set_port(out, a->port[f]);
}

static void relay_adv_of(const struct turn_server *s, const struct turn_alloc *a, int f,
			 struct xt_addr *out)
{
	*out = s->relays[a->relay[f]].adv;
	xt_addr_set_port(out, a->port[f]);
}

/* The live allocation whose relayed address is peer (one of our addresses, actual or advertised,
 * in canonical form). *own tells whether the address is ours at all. */
static struct turn_alloc *own_target(const struct turn_server *s, const struct xt_addr *peer,
				     bool *own)
{
	struct xt_addr c;

	turn_addr_canonical(peer, &c);
	*own = false;
	for (unsigned int i = 0; i < s->n_relays; i++) {
		const struct relay *r = &s->relays[i];
		uint16_t port = xt_addr_port(&c);
		struct turn_alloc *a;
		int f = fam_idx(r->addr.family);

		if (!xt_addr_ip_equal(&c, &r->addr) && !xt_addr_ip_equal(&c, &r->adv))
			continue;
		*own = true;
		if (port < s->port_min || port > s->port_max)
			continue;
		a = r->owner[port - s->port_min];
		if (a && a->state[f] == SLOT_ACTIVE && a->relay[f] == i && a->port[f] == port)
			return a;
	}
	return NULL;
}

/* ------------------------------------------------------------ actions ---- */

void turn_actions__init(struct turn_actions *out, struct turn_action *v, uint32_t cap,
			uint8_t *arena, uint32_t arena_cap)
{
	out->v = v;
	out->cap = cap;
	out->arena = arena;
	out->arena_cap = arena_cap;
	turn_actions__reset(out);
}

void turn_actions__reset(struct turn_actions *out)
{
	out->n = 0;
	out->arena_len = 0;
	out->wake_at = UINT64_MAX;
}

static inline uint32_t room(const struct turn_actions *out)
{
	return out->cap - out->n;
}

static struct turn_action *act(struct turn_actions *out, uint8_t type)
{
	struct turn_action *x = &out->v[out->n++];

	memset(x, 0, sizeof(*x));
	x->type = type;
	return x;
}

static void emit_send(struct turn_actions *out, const struct xt_addr *from,
		      const struct xt_addr *to, const uint8_t *payload, size_t len)
{
	struct turn_action *x = act(out, TURN_ACT_SEND);

	x->send.from = *from;
	x->send.to = *to;
	x->send.payload = payload;
	x->send.len = (uint32_t)len;
}

static void emit_chan(const struct turn_server *s, struct turn_actions *out,
		      const struct turn_chan *c, uint8_t type)
{
	struct turn_action *x = act(out, type);
	const struct turn_alloc *a = c->alloc;

	x->channel = c->num;
	x->alloc_id = a->id;
	x->chan.client = a->client;
	x->chan.listen = a->local;
	x->chan.peer = c->peer;
	relay_addr_of(s, a, fam_idx(c->peer.family), &x->chan.relay);
}

static void emit_alloc(const struct turn_server *s, struct turn_actions *out,
		       const struct turn_alloc *a, int f, uint8_t type)
{
	struct turn_action *x = act(out, type);

	x->alloc_id = a->id;
	relay_addr_of(s, a, f, &x->alloc.relay);
}

/* ------------------------------------------------- object life cycles ---- */

static void sync_queue(struct turn_server *s, struct turn_chan *c)
{
	if (c->queued)
		return;
	c->queued = 1;
	c->snext = NULL;
	*s->sync_tail = c;
	s->sync_tail = &c->snext;
}

static bool chan_wanted_in_kernel(const struct turn_server *s, const struct turn_chan *c)
{
	const struct turn_alloc *a = c->alloc;

	return c->state == CH_BOUND && !c->hairpin && !(a->flags & AF_ZOMBIE) &&
	       a->state[fam_idx(c->peer.family)] == SLOT_ACTIVE && perm_find(s, a, &c->peer);
}

/* Queues every channel of a whose peer has this IP (a permission came or went). */
static void sync_peer_ip(struct turn_server *s, struct turn_alloc *a, uint8_t family,
			 const uint8_t *ip)
{
	for (struct turn_chan *c = a->chans; c; c = c->next)
		if (c->peer.family == family && !memcmp(c->peer.ip, ip, 16))
			sync_queue(s, c);
}

static void perm_free(struct turn_server *s, struct turn_perm *p)
{
	struct turn_alloc *a = p->alloc;

	ht_remove(&s->perms, p, offsetof(struct turn_perm, hnext),
		  hash_perm(s, a, p->family, p->ip));
	turn_timers__cancel(&s->timers, &p->timer);
	*p->pprev = p->next;
	if (p->next)
		p->next->pprev = p->pprev;
	a->nperm--;
	s->nperm--;
	sync_peer_ip(s, a, p->family, p->ip);
	pool_put(&s->p_perm, p);
}

/* Installs or refreshes the permission for peer's IP (timer room must be reserved). */
static int perm_install(struct turn_server *s, struct turn_alloc *a, const struct xt_addr *peer,
			uint64_t now)
{
	struct turn_perm *p = perm_find(s, a, peer);

	if (!p) {
		p = pool_get(&s->p_perm);
		if (!p)
			return -ENOMEM;
		p->alloc = a;
		p->family = peer->family;
		memcpy(p->ip, peer->ip, 16);
		turn_timer__init(&p->timer, TK_PERM);
		ht_insert(&s->perms, p, offsetof(struct turn_perm, hnext),
			  hash_perm(s, a, p->family, p->ip));
		ht_maybe_grow(s, &s->perms, offsetof(struct turn_perm, hnext), rehash_perm);
		p->next = a->perms;
		if (p->next)
			p->next->pprev = &p->next;
		p->pprev = &a->perms;
		a->perms = p;
		a->nperm++;
		s->nperm++;
		sync_peer_ip(s, a, p->family, p->ip);
	}
	turn_timers__arm(&s->timers, &p->timer, now + PERMISSION_LIFETIME_S * MS);
	return 0;
}

/* Takes a channel out of every lookup; it is freed now, or by flush() after its UNBOUND. */
static void chan_kill(struct turn_server *s, struct turn_chan *c)
{
	struct turn_alloc *a = c->alloc;

	if (c->state == CH_BOUND)
		s->nchan--;
	ht_remove(&s->chan_num, c, offsetof(struct turn_chan, hnext_num),
		  hash_chan_num(s, a, c->num));
	ht_remove(&s->chan_peer, c, offsetof(struct turn_chan, hnext_peer),
		  hash_chan_peer(s, a, &c->peer));
	turn_timers__cancel(&s->timers, &c->timer);
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	a->nchan--;
	c->state = CH_DEAD;
	if (c->installed)
		sync_queue(s, c);
	else if (!c->queued)
		pool_put(&s->p_chan, c);
}

static void user_put(struct turn_server *s, struct turn_user *u)
{
	if (--u->nalloc)
		return;
	ht_remove(&s->users, u, offsetof(struct turn_user, hnext),
		  hash_bytes(s->seed[0], u->name, u->len));
	s->user_bytes -= sizeof(*u) + u->len;
	free(u);
}

static struct turn_user *user_get(struct turn_server *s, const uint8_t *name, size_t len)
{
	struct turn_user *u = user_find(s, name, len);

	if (u)
		return u;
	u = malloc(sizeof(*u) + len);
	if (!u)
		return NULL;
	u->nalloc = 0;
	u->len = (uint16_t)len;
	memcpy(u->name, name, len);
	ht_insert(&s->users, u, offsetof(struct turn_user, hnext),
		  hash_bytes(s->seed[0], name, len));
	ht_maybe_grow(s, &s->users, offsetof(struct turn_user, hnext), rehash_user);
	s->user_bytes += sizeof(*u) + len;
	return u;
}

static void alloc_rearm(struct turn_server *s, struct turn_alloc *a)
{
	uint64_t e = UINT64_MAX;

	for (int f = 0; f < 2; f++)
		if (a->state[f] == SLOT_ACTIVE && a->expires[f] < e)
			e = a->expires[f];
	if (e == UINT64_MAX)
		turn_timers__cancel(&s->timers, &a->timer);
	else
		turn_timers__arm(&s->timers, &a->timer, e);
}

/* Gives back the relayed address of family slot f: its permissions and channels go at once, the
 * port after the kernel has been told (release queue). The last slot makes the allocation a
 * zombie: out of the 5-tuple table, so that the client may allocate again at once. */
static void slot_release(struct turn_server *s, struct turn_alloc *a, int f)
{
	uint8_t af = f ? XT_AF_INET6 : XT_AF_INET;

	if (a->state[f] != SLOT_ACTIVE)
		return;
	for (struct turn_chan *c = a->chans, *n; c; c = n) {
		n = c->next;
		if (c->peer.family == af)
			chan_kill(s, c);
	}
	for (struct turn_perm *p = a->perms, *n; p; p = n) {
		n = p->next;
		if (p->family == af)
			perm_free(s, p);
	}
	a->state[f] = SLOT_RELEASING;
	a->release_mask |= (uint8_t)(1u << f);
	if (!(a->flags & AF_QUEUED)) {
		a->flags |= AF_QUEUED;
		a->rnext = NULL;
		*s->rel_tail = a;
		s->rel_tail = &a->rnext;
	}
	if (a->state[!f] == SLOT_ACTIVE) {
		alloc_rearm(s, a);
		return;
	}
	a->flags |= AF_ZOMBIE;
	turn_timers__cancel(&s->timers, &a->timer);
	ht_remove(&s->allocs, a, offsetof(struct turn_alloc, hnext),
		  hash_5tuple(s, &a->client, &a->local));
	user_put(s, a->user);
	a->user = NULL;
	s->nalloc--;
}

static void resv_free(struct turn_server *s, struct turn_resv *r, bool give_port_back)
{
	ht_remove(&s->resvs, r, offsetof(struct turn_resv, hnext),
		  hash_bytes(s->seed[1], r->token, 8));
	turn_timers__cancel(&s->timers, &r->timer);
	if (give_port_back)
		turn_ports__put(&s->relays[r->relay].ports, r->port);
	pool_put(&s->p_resv, r);
}

/* Emits pending kernel actions while there is room; see the top of this file for the order. */
static void flush(struct turn_server *s, struct turn_actions *out)
{
	while (s->sync_head && room(out) >= 1) {
		struct turn_chan *c = s->sync_head;
		bool want;

		s->sync_head = c->snext;
		if (!s->sync_head)
			s->sync_tail = &s->sync_head;
		c->queued = 0;
		want = chan_wanted_in_kernel(s, c);
		if (want != !!c->installed) {
			emit_chan(s, out, c,
				  want ? TURN_ACT_CHANNEL_BOUND : TURN_ACT_CHANNEL_UNBOUND);
			c->installed = want;
		}
		if (c->state == CH_DEAD)
			pool_put(&s->p_chan, c);
	}
	if (s->sync_head)
		return;
	while (s->rel_head && room(out) >= 2) {
		struct turn_alloc *a = s->rel_head;

		s->rel_head = a->rnext;
		if (!s->rel_head)
			s->rel_tail = &s->rel_head;
		for (int f = 0; f < 2; f++) {
			struct relay *r = &s->relays[a->relay[f]];
			if (!(a->release_mask & (1u << f)))
				continue;
			emit_alloc(s, out, a, f, TURN_ACT_ALLOCATION_DELETED);
			r->owner[a->port[f] - s->port_min] = NULL;
			turn_ports__put(&r->ports, a->port[f]);
			a->state[f] = SLOT_NONE;
		}
		a->release_mask = 0;
		a->flags &= (uint8_t)~AF_QUEUED;
		if (a->flags & AF_ZOMBIE)
			pool_put(&s->p_alloc, a);
	}
}

static bool pending(const struct turn_server *s)
{
	return s->sync_head || s->rel_head;
}

uint64_t turn_server__next_wake(const struct turn_server *s, uint64_t now_ms)
{
	return pending(s) ? now_ms : turn_timers__next(&s->timers);
}

/* ------------------------------------------------------------ answers ---- */

/* One request being answered. */
struct req {
	struct turn_server *s;
	uint64_t now;
	const struct xt_addr *local, *client;
	const struct stun_msg *m;
	struct turn_actions *out;
	int method; /* enum turn_stat_method */
	bool authed;
	struct auth_result ar;
	struct stun_builder b;
};

static int result_idx(int code)
{
	switch (code) {
	case 0:
		return TURN_R_SUCCESS;
	case 400:
		return TURN_R_400;
	case 401:
		return TURN_R_401;
	case 403:
		return TURN_R_403;
	case 420:
		return TURN_R_420;
	case 437:
		return TURN_R_437;
	case 438:
		return TURN_R_438;
	case 440:
		return TURN_R_440;
	case 441:
		return TURN_R_441;
	case 442:
		return TURN_R_442;
	case 443:
		return TURN_R_443;
	case 486:
		return TURN_R_486;
	case 508:
		return TURN_R_508;
	default:
		return TURN_R_500;
	}
}

static void begin(struct req *r, int code)
{
	struct turn_actions *out = r->out;

	stun_builder__begin_response(&r->b, out->arena + out->arena_len,
				     out->arena_cap - out->arena_len, r->m,
				     code ? STUN_CLASS_ERROR : STUN_CLASS_SUCCESS);
	if (code)
		stun_builder__add_error(&r->b, code, NULL);
	r->s->st.requests[r->method][result_idx(code)]++;
}

/* SOFTWARE, the integrity the request used (when it authenticated), FINGERPRINT when the request
 * had one (RFC 8489 §7.3.4: a server answers in kind); then the SEND. */
static void finish(struct req *r)
{
	struct turn_actions *out = r->out;
	int n;

	if (r->s->software)
		stun_builder__add_string(&r->b, STUN_ATTR_SOFTWARE, r->s->software);
	if (r->authed)
		stun_builder__add_integrity(&r->b, r->ar.kind, r->ar.key.b, r->ar.key.len);
	if (r->m->fp_off)
		stun_builder__add_fingerprint(&r->b);
	n = stun_builder__finish(&r->b);
	if (n < 0 || room(out) < 1) /* cannot happen: resp_max and room are checked on entry */
		return;
	emit_send(out, r->local, r->client, out->arena + out->arena_len, (size_t)n);
	out->arena_len += (uint32_t)n;
}

static void answer_error(struct req *r, int code)
{
	begin(r, code);
	finish(r);
}

static void answer_challenge(struct req *r, int code)
{
	begin(r, code);
	auth__add_challenge(&r->b, r->s->auth, &r->s->nonce, r->client, r->now / MS);
	finish(r);
}

/* ------------------------------------------------------------ requests ---- */

static bool relay_has_family(const struct turn_server *s, uint8_t af)
{
	for (unsigned int i = 0; i < s->n_relays; i++)
		if (s->relays[i].addr.family == af)
			return true;
	return false;
}

/* Takes a port of family af on one of our relay addresses: the one the client came in on when it
 * has room, else the next in turn. even/pair: EVEN-PORT (and its R bit). Returns 0 with *ri, *port
 * set, or -ENOSPC. */
static int take_port(struct turn_server *s, uint8_t af, const struct xt_addr *local, bool even,
		     bool pair, unsigned int *ri, uint16_t *port)
{
	uint32_t rnd;
	int first = -1;

	s->rnd(s->rnd_ctx, (uint8_t *)&rnd, sizeof(rnd));
	for (unsigned int i = 0; i < s->n_relays; i++)
		if (s->relays[i].addr.family == af && xt_addr_ip_equal(&s->relays[i].addr, local))
			first = (int)i;
	for (unsigned int k = 0; k <= s->n_relays; k++) {
		unsigned int i = k == 0 ? (unsigned int)first : (s->rr + k) % s->n_relays;
		struct relay *r;
		int p;

		if (k == 0 && first < 0)
			continue;
		r = &s->relays[i];
		if (r->addr.family != af)
			continue;
		p = even ? turn_ports__take_even(&r->ports, rnd, pair)
			 : turn_ports__take_random(&r->ports, rnd);
		if (p < 0)
			continue;
		s->rr = i;
		*ri = i;
		*port = (uint16_t)p;
		return 0;
	}
	return -ENOSPC;
}

static bool same_user(const struct turn_alloc *a, const struct auth_result *ar)
{
	return a->user && a->user->len == ar->user_len &&
	       !memcmp(a->user->name, ar->user, ar->user_len);
}

static uint32_t desired_lifetime(const struct turn_server *s, const struct stun_msg *m, bool *zero,
				 int *err)
{
	uint32_t v;
	int rc = stun_msg__lifetime(m, &v);

	*zero = false;
	*err = 0;
	if (rc == -ENOENT)
		return s->default_lifetime;
	if (rc < 0) {
		*err = 400;
		return 0;
	}
	if (v == 0) {
		*zero = true;
		return 0;
	}
	/* RFC 8656 §7.2/§8: min(requested, max), but never below the default */
	if (v > s->max_lifetime)
		v = s->max_lifetime;
	return v > s->default_lifetime ? v : s->default_lifetime;
}

static void answer_allocate_success(struct req *r, struct turn_alloc *a)
{
	struct turn_server *s = r->s;

	begin(r, 0);
	for (int f = 0; f < 2; f++) {
		struct xt_addr adv;
		if (a->state[f] != SLOT_ACTIVE)
			continue;
		relay_adv_of(s, a, f, &adv);
		stun_builder__add_xor_addr(&r->b, STUN_ATTR_XOR_RELAYED_ADDRESS, &adv);
	}
	stun_builder__add_lifetime(&r->b, a->lifetime);
	if (a->flags & AF_TOKEN)
		stun_builder__add_reservation_token(&r->b, a->token);
	if (a->addr_err)
		stun_builder__add_address_error(&r->b, a->addr_err_family, a->addr_err, NULL);
	stun_builder__add_xor_addr(&r->b, STUN_ATTR_XOR_MAPPED_ADDRESS, r->client);
	finish(r);
}

/* RFC 8656 §7.2, in its order. */
static void handle_allocate(struct req *r)
{
	struct turn_server *s = r->s;
	const struct stun_msg *m = r->m;
	struct turn_alloc *a = alloc_find(s, r->client, r->local);
	struct turn_resv *resv = NULL;
	struct turn_user *u;
	uint8_t proto, req_fam = 0, add_fam = 0;
	bool has_token, has_even, has_req, has_add, reserve = false, zero;
	uint32_t lifetime;
	int err, rc;
	bool want[2] = { false, false };
	unsigned int ri[2] = { 0, 0 };
	uint16_t port[2] = { 0, 0 };
	int fail_code = 0, fail_f = 0;
	uint8_t token[8];

	if (a) {
		if (!same_user(a, &r->ar))
			return answer_error(r, 441);
		/* A retransmission gets the same answer (RFC 8656 §7.2: the 5-tuple's own request)
		 */
		if (!memcmp(a->txid, m->txid, STUN_TXID_LEN))
			return answer_allocate_success(r, a);
		return answer_error(r, 437);
	}
	rc = stun_msg__requested_transport(m, &proto);
	if (rc < 0)
		return answer_error(r, 400);
	if (proto != STUN_TRANSPORT_UDP)
		return answer_error(r, 442);
	/* DONT-FRAGMENT is accepted: the transmit path always sets DF. */
	has_token = stun_msg__has(m, STUN_ATTR_RESERVATION_TOKEN);
	has_even = stun_msg__has(m, STUN_ATTR_EVEN_PORT);
	has_req = stun_msg__has(m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY);
	has_add = stun_msg__has(m, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY);
	if (has_token && (has_even || has_req || has_add))
		return answer_error(r, 400);
	if (has_req && has_add)
		return answer_error(r, 400);
	if (has_req && stun_msg__address_family(m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, &req_fam))
		return answer_error(r, 400);
	if (has_add && stun_msg__address_family(m, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, &add_fam))
		return answer_error(r, 400);
	if (has_even && stun_msg__even_port(m, &reserve))
		return answer_error(r, 400);
	if (has_token) {
		size_t len;
		const uint8_t *t = stun_msg__attr(m, STUN_ATTR_RESERVATION_TOKEN, &len);
		if (len != 8)
			return answer_error(r, 400);
		resv = resv_find(s, t);
	}
	if (has_req) {
		uint8_t af = stun_family_to_af(req_fam);
		if (!af || !relay_has_family(s, af))
			return answer_error(r, 440);
		want[fam_idx(af)] = true;
	} else if (has_add) {
		/* ADDITIONAL-ADDRESS-FAMILY asks for IPv6 besides IPv4; IPv4 there is a 400 */
		if (add_fam != STUN_FAMILY_IPV6)
			return answer_error(r, 400);
		if (reserve)
			return answer_error(r, 400);
		want[0] = want[1] = true;
	} else if (!has_token) {
		if (!relay_has_family(s, XT_AF_INET))
			return answer_error(r, 440);
		want[0] = true;
	}
	lifetime = desired_lifetime(s, m, &zero, &err);
	if (err)
		return answer_error(r, err);
	if (zero) /* an Allocate asking for no time at all gets the default (floor) */
		lifetime = s->default_lifetime;
	u = user_find(s, r->ar.user, r->ar.user_len);
	if (s->max_per_user && u && u->nalloc >= s->max_per_user)
		return answer_error(r, 486);
	if (s->nalloc >= s->max_total)
		return answer_error(r, 508);
	if (has_token && !resv)
		return answer_error(r, 508);
	if (turn_timers__reserve(&s->timers, 2))
		return answer_error(r, 508);

	/* Ports: the reserved one, or one per wanted family. Dual-stack: a family that cannot be
	 * had is reported in ADDRESS-ERROR-CODE as long as the other one can (RFC 8656 §7.2). */
	if (resv) {
		int f = fam_idx(s->relays[resv->relay].addr.family);
		ri[f] = resv->relay;
		port[f] = resv->port;
		resv_free(s, resv, false);
	} else {
		for (int f = 0; f < 2; f++) {
			uint8_t af = f ? XT_AF_INET6 : XT_AF_INET;
			int code = 0;

			if (!want[f])
				continue;
			if (!relay_has_family(s, af))
				code = 440;
			else if (take_port(s, af, r->local, has_even, reserve, &ri[f], &port[f]))
				code = 508;
			if (code && fail_code != 508) {
				fail_code = code;
				fail_f = f;
			}
		}
		if (!port[0] && !port[1])
			return answer_error(r, fail_code);
	}
	if (!u)
		u = user_get(s, r->ar.user, r->ar.user_len);
	a = u ? pool_get(&s->p_alloc) : NULL;
	if (!a) {
		for (int f = 0; f < 2; f++) {
			if (!port[f])
				continue;
			turn_ports__put(&s->relays[ri[f]].ports, port[f]);
			if (reserve)
				turn_ports__put(&s->relays[ri[f]].ports, (uint16_t)(port[f] + 1));
		}
		if (u && !u->nalloc) {
			u->nalloc = 1; /* user_put() frees it */
			user_put(s, u);
		}
		return answer_error(r, 508);
	}
	a->user = u;
	u->nalloc++;
	s->nalloc++;
	a->client = *r->client;
	a->local = *r->local;
	a->id = s->next_id++;
	if (!s->next_id)
		s->next_id = 1;
	a->lifetime = lifetime;
	memcpy(a->txid, m->txid, STUN_TXID_LEN);
	if (m->fp_off)
		a->flags |= AF_FP;
	turn_timer__init(&a->timer, TK_ALLOC);
	for (int f = 0; f < 2; f++) {
		if (!port[f])
			continue;
		a->state[f] = SLOT_ACTIVE;
		a->relay[f] = (uint8_t)ri[f];
		a->port[f] = port[f];
		a->expires[f] = r->now + (uint64_t)lifetime * MS;
		s->relays[ri[f]].owner[port[f] - s->port_min] = a;
	}
	if (has_add && fail_code) {
		a->addr_err = (uint16_t)fail_code;
		a->addr_err_family = fail_f ? STUN_FAMILY_IPV6 : STUN_FAMILY_IPV4;
	}
	if (reserve) {
		/* EVEN-PORT R bit: port + 1 stays taken under a token (RFC 8656 §7.2, §14.9) */
		struct turn_resv *rv = pool_get(&s->p_resv);
		int f = a->state[0] == SLOT_ACTIVE ? 0 : 1;

		do
			s->rnd(s->rnd_ctx, token, sizeof(token));
		while (resv_find(s, token));
		if (rv) {
			memcpy(rv->token, token, 8);
			rv->relay = a->relay[f];
			rv->port = (uint16_t)(a->port[f] + 1);
			turn_timer__init(&rv->timer, TK_RESV);
			ht_insert(&s->resvs, rv, offsetof(struct turn_resv, hnext),
				  hash_bytes(s->seed[1], token, 8));
			ht_maybe_grow(s, &s->resvs, offsetof(struct turn_resv, hnext), rehash_resv);
			turn_timers__arm(&s->timers, &rv->timer, r->now + RESERVATION_S * MS);
			memcpy(a->token, token, 8);
			a->flags |= AF_TOKEN;
		} else {
			turn_ports__put(&s->relays[a->relay[f]].ports, (uint16_t)(a->port[f] + 1));
		}
	}
	ht_insert(&s->allocs, a, offsetof(struct turn_alloc, hnext),
		  hash_5tuple(s, &a->client, &a->local));
	alloc_rearm(s, a);
	/* The port map learns of the relay ports before the client does. */
	for (int f = 0; f < 2; f++)
		if (a->state[f] == SLOT_ACTIVE)
			emit_alloc(s, r->out, a, f, TURN_ACT_ALLOCATION_CREATED);
	answer_allocate_success(r, a);
}

/* The allocation of an authenticated request on an existing 5-tuple: 437 without one, 441 when it
 * belongs to someone else (RFC 8656 §5). */
static struct turn_alloc *request_alloc(struct req *r)
{
	struct turn_alloc *a = alloc_find(r->s, r->client, r->local);

	if (!a) {
		answer_error(r, 437);
		return NULL;
	}
	if (!same_user(a, &r->ar)) {
		answer_error(r, 441);
		return NULL;
	}
	return a;
}

static void handle_refresh(struct req *r)
{
	struct turn_server *s = r->s;
	struct turn_alloc *a = request_alloc(r);
	uint32_t lifetime;
	bool zero;
	int err, only = -1;

	if (!a)
		return;
	if (stun_msg__has(r->m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY)) {
		uint8_t fam, af;
		if (stun_msg__address_family(r->m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, &fam))
			return answer_error(r, 400);
		af = stun_family_to_af(fam);
		/* RFC 8656 §8: refreshing a family the allocation does not have is 443 */
		if (!af || a->state[fam_idx(af)] != SLOT_ACTIVE)
			return answer_error(r, 443);
		only = fam_idx(af);
	}
	lifetime = desired_lifetime(s, r->m, &zero, &err);
	if (err)
		return answer_error(r, err);
	for (int f = 0; f < 2; f++) {
		if (only >= 0 && f != only)
			continue;
		if (zero)
			slot_release(s, a, f);
		else if (a->state[f] == SLOT_ACTIVE)
			a->expires[f] = r->now + (uint64_t)lifetime * MS;
	}
	if (!(a->flags & AF_ZOMBIE))
		alloc_rearm(s, a);
	begin(r, 0);
	stun_builder__add_lifetime(&r->b, lifetime);
	finish(r);
}

/* May a's client talk to peer? 0, or the error code: 443 (no relayed address of the family), 403
 * (the deny list, or our own address that is not another allocation). *hairpin: the peer is one of
 * our allocations. */
static int peer_check(const struct turn_server *s, const struct turn_alloc *a,
		      const struct xt_addr *peer, bool *hairpin)
{
	struct turn_alloc *t;
	bool own;

	*hairpin = false;
	if (peer->family != XT_AF_INET && peer->family != XT_AF_INET6)
		return 400;
	if (a->state[fam_idx(peer->family)] != SLOT_ACTIVE)
		return 443;
	t = own_target(s, peer, &own);
	if (own) {
		if (!t || t == a)
			return 403;
		*hairpin = true;
		return 0;
	}
	return turn_policy__allows(&s->policy, peer) ? 0 : 403;
}

/* RFC 8656 §9.2: every XOR-PEER-ADDRESS is checked before any permission is installed. */
static void handle_create_permission(struct req *r)
{
	struct turn_server *s = r->s;
	struct turn_alloc *a = request_alloc(r);
	struct xt_addr peers[STUN_MAX_PEER_ADDRS];
	unsigned int n;

	if (!a)
		return;
	n = r->m->n_peer;
	if (n == 0 || n > STUN_MAX_PEER_ADDRS)
		return answer_error(r, 400);
	for (unsigned int i = 0; i < n; i++) {
		bool hairpin;
		int code;
		int rc = stun_msg__xor_addr(r->m, STUN_ATTR_XOR_PEER_ADDRESS, i, &peers[i]);

		if (rc < 0)
			return answer_error(r, 400);
		code = peer_check(s, a, &peers[i], &hairpin);
		if (code)
			return answer_error(r, code);
	}
	if (turn_timers__reserve(&s->timers, n))
		return answer_error(r, 508);
	for (unsigned int i = 0; i < n; i++)
		if (perm_install(s, a, &peers[i], r->now))
			return answer_error(r, 508); /* earlier ones stay: they were valid */
	begin(r, 0);
	finish(r);
}

/* RFC 8656 §11.2. */
static void handle_channel_bind(struct req *r)
{
	struct turn_server *s = r->s;
	struct turn_alloc *a = request_alloc(r);
	struct turn_chan *cn, *cp;
	struct xt_addr peer;
	uint16_t num;
	bool hairpin;
	int code, rc;

	if (!a)
		return;
	if (stun_msg__channel_number(r->m, &num) || num < STUN_CHANNEL_MIN || num > s->channel_max)
		return answer_error(r, 400);
	rc = stun_msg__xor_addr(r->m, STUN_ATTR_XOR_PEER_ADDRESS, 0, &peer);
	if (rc < 0)
		return answer_error(r, 400);
	code = peer_check(s, a, &peer, &hairpin);
	if (code)
		return answer_error(r, code);
	/* A number bound (or cooling down) to another peer, or the peer bound to another number */
	cn = chan_by_num(s, a, num);
	cp = chan_by_peer(s, a, &peer);
	if (cn != cp)
		return answer_error(r, 400);
	if (turn_timers__reserve(&s->timers, 2))
		return answer_error(r, 508);
	if (!cn) {
		cn = pool_get(&s->p_chan);
		if (!cn)
			return answer_error(r, 508);
		cn->alloc = a;
		cn->peer = peer;
		cn->num = num;
		cn->hairpin = hairpin;
		turn_timer__init(&cn->timer, TK_CHAN);
		ht_insert(&s->chan_num, cn, offsetof(struct turn_chan, hnext_num),
			  hash_chan_num(s, a, num));
		ht_insert(&s->chan_peer, cn, offsetof(struct turn_chan, hnext_peer),
			  hash_chan_peer(s, a, &peer));
		ht_maybe_grow(s, &s->chan_num, offsetof(struct turn_chan, hnext_num),
			      rehash_chan_num);
		ht_maybe_grow(s, &s->chan_peer, offsetof(struct turn_chan, hnext_peer),
			      rehash_chan_peer);
		cn->next = a->chans;
		if (cn->next)
			cn->next->pprev = &cn->next;
		cn->pprev = &a->chans;
		a->chans = cn;
		a->nchan++;
	}
	if (cn->state != CH_BOUND)
		s->nchan++;
	cn->state = CH_BOUND;
	turn_timers__arm(&s->timers, &cn->timer, r->now + CHANNEL_LIFETIME_S * MS);
	sync_queue(s, cn); /* first in the queue: its BOUND precedes the answer */
	if (perm_install(s, a, &peer,
			 r->now)) /* ChannelBind also installs the permission (§11.2) */
		return answer_error(r, 508);
	flush(s, r->out);
	begin(r, 0);
	finish(r);
}

/* ----------------------------------------------------------- relaying ---- */

/* Takes len bytes from a's token bucket; false (counted) when it holds fewer. Refilled at
 * bandwidth_bps from the input's time, up to one second's worth. */
static bool quota_take(struct turn_server *s, struct turn_alloc *a, size_t len)
{
	uint64_t burst = s->bandwidth_bps, elapsed;

	if (!burst)
		return true;
	if (!a->quota_last_ms) {
		a->quota_tokens = burst;
	} else if (s->now_ms > a->quota_last_ms) {
		elapsed = s->now_ms - a->quota_last_ms;
		/* elapsed * rate can exceed 64 bits only after a burst's worth: cap first */
		if (elapsed >= 1000 || a->quota_tokens + elapsed * burst / 1000 > burst)
			a->quota_tokens = burst;
		else
			a->quota_tokens += elapsed * burst / 1000;
	}
	a->quota_last_ms = s->now_ms ? s->now_ms : 1;
	if (a->quota_tokens < len) {
		s->st.drops[TURN_DROP_QUOTA]++;
		return false;
	}
	a->quota_tokens -= len;
	return true;
}

static int deliver_to_client(struct turn_server *s, struct turn_alloc *a,
			     const struct xt_addr *peer, const uint8_t *data, size_t len,
			     struct turn_actions *out);

/* Client data to peer from a's relayed address, or into another of our allocations (hairpin).
 * 0, or -ENOBUFS (nothing done) when a hairpin Data indication does not fit in the arena. */
static int relay_to_peer(struct turn_server *s, struct turn_alloc *a, const struct xt_addr *peer,
			 bool hairpin, const uint8_t *data, size_t len, struct turn_actions *out)
{
	int f = fam_idx(peer->family);
	struct xt_addr from;

	if (!quota_take(s, a, len))
		return 0;
	if (hairpin) {
		bool own;
		struct turn_alloc *t = own_target(s, peer, &own);
		int rc;

		if (!t || t == a) {
			s->st.drops[TURN_DROP_SELF]++;
			return 0;
		}
		/* The target sees the datagram come from a's relayed address as its client knows it
		 */
		relay_adv_of(s, a, f, &from);
		rc = deliver_to_client(s, t, &from, data, len, out);
		if (!rc)
			s->st.hairpin_packets++;
		else if (s->bandwidth_bps) /* nothing done: the input comes again */
			a->quota_tokens += len;
		return rc;
	}
	relay_addr_of(s, a, f, &from);
	emit_send(out, &from, peer, data, len);
	s->st.to_peer_packets++;
	s->st.to_peer_bytes += len;
	return 0;
}

static int handle_send(struct turn_server *s, const struct xt_addr *local,
		       const struct xt_addr *client, const struct stun_msg *m,
		       struct turn_actions *out)
{
	struct turn_alloc *a = alloc_find(s, client, local);
	struct xt_addr peer;
	const uint8_t *data;
	size_t len;
	bool own;

	if (!a) {
		s->st.drops[TURN_DROP_NO_ALLOCATION]++;
		return 0;
	}
	data = stun_msg__attr(m, STUN_ATTR_DATA, &len);
	if (!data || stun_msg__xor_addr(m, STUN_ATTR_XOR_PEER_ADDRESS, 0, &peer)) {
		s->st.drops[TURN_DROP_MALFORMED]++;
		return 0;
	}
	if (a->state[fam_idx(peer.family)] != SLOT_ACTIVE) {
		s->st.drops[TURN_DROP_FAMILY]++;
		return 0;
	}
	if (!perm_find(s, a, &peer)) {
		s->st.drops[TURN_DROP_NO_PERMISSION]++;
		return 0;
	}
	own_target(s, &peer, &own);
	return relay_to_peer(s, a, &peer, own, data, len, out);
}

static int handle_channeldata(struct turn_server *s, const struct xt_addr *local,
			      const struct xt_addr *client, const uint8_t *buf, size_t len,
			      struct turn_actions *out)
{
	struct channeldata cd;
	struct turn_alloc *a;
	struct turn_chan *c;

	if (channeldata_parse(buf, len, &cd)) {
		s->st.drops[TURN_DROP_MALFORMED]++;
		return 0;
	}
	a = alloc_find(s, client, local);
	if (!a) {
		s->st.drops[TURN_DROP_NO_ALLOCATION]++;
		return 0;
	}
	c = chan_by_num(s, a, cd.channel);
	if (!c || c->state != CH_BOUND) {
		s->st.drops[TURN_DROP_UNKNOWN_CHANNEL]++;
		return 0;
	}
	if (!perm_find(s, a, &c->peer)) {
		s->st.drops[TURN_DROP_NO_PERMISSION]++;
		return 0;
	}
	/* cd.len excludes the padding: it is never forwarded (RFC 8656 §12.5) */
	return relay_to_peer(s, a, &c->peer, c->hairpin, cd.data, cd.len, out);
}

/* A peer's datagram to a's client: ChannelData when a channel is bound, a Data indication when only
 * a permission exists, nothing otherwise (RFC 8656 §10.3, §12.6). 0, or -ENOBUFS (nothing done)
 * when the Data indication does not fit in the room left in the arena. */
static int deliver_to_client(struct turn_server *s, struct turn_alloc *a,
			     const struct xt_addr *peer, const uint8_t *data, size_t len,
			     struct turn_actions *out)
{
	struct turn_chan *c;
	struct turn_action *x;

	if (!perm_find(s, a, peer)) {
		s->st.drops[TURN_DROP_NO_PERMISSION]++;
		return 0;
	}
	c = chan_by_peer(s, a, peer);
	if (c && c->state == CH_BOUND) {
		if (len > UINT16_MAX) {
			s->st.drops[TURN_DROP_TOO_BIG]++;
			return 0;
		}
		if (!quota_take(s, a, len))
			return 0;
		x = act(out, TURN_ACT_SEND);
		x->send.from = a->local;
		x->send.to = a->client;
		x->send.payload = data;
		x->send.len = (uint32_t)len;
		x->prefix_len = CHANNELDATA_HEADER_LEN;
		put_be16(x->prefix, c->num);
		put_be16(x->prefix + 2, (uint16_t)len);
	} else {
		struct stun_builder b;
		uint8_t txid[STUN_TXID_LEN];
		uint64_t t0 = mix(s->seed[0], ++s->ind_counter), t1 = mix(s->seed[1], t0);
		size_t need = STUN_HEADER_LEN + 24 + 4 + ((len + 3) & ~(size_t)3) + 8;
		int n;

		if (need > STUN_MAX_MSG_LEN || need > out->arena_cap) {
			s->st.drops[TURN_DROP_TOO_BIG]++;
			return 0;
		}
		if (need > out->arena_cap - out->arena_len)
			return -ENOBUFS;
		if (!quota_take(s, a, len))
			return 0;
		memcpy(txid, &t0, 8);
		memcpy(txid + 8, &t1, 4);
		stun_builder__begin(&b, out->arena + out->arena_len,
				    out->arena_cap - out->arena_len,
				    stun_type(STUN_METHOD_DATA, STUN_CLASS_INDICATION), txid);
		stun_builder__add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, peer);
		stun_builder__add_data(&b, data, len);
		if (a->flags & AF_FP)
			stun_builder__add_fingerprint(&b);
		n = stun_builder__finish(&b);
		if (n < 0) {
			s->st.drops[TURN_DROP_TOO_BIG]++;
			return 0;
		}
		emit_send(out, &a->local, &a->client, out->arena + out->arena_len, (size_t)n);
		out->arena_len += (uint32_t)n;
	}
	s->st.to_client_packets++;
	s->st.to_client_bytes += len;
	return 0;
}

/* -------------------------------------------------------------- inputs ---- */

static int method_idx(uint16_t method)
{
	switch (method) {
	case STUN_METHOD_BINDING:
		return TURN_M_BINDING;
	case STUN_METHOD_ALLOCATE:
		return TURN_M_ALLOCATE;
	case STUN_METHOD_REFRESH:
		return TURN_M_REFRESH;
	case STUN_METHOD_CREATE_PERMISSION:
		return TURN_M_CREATE_PERMISSION;
	case STUN_METHOD_CHANNEL_BIND:
		return TURN_M_CHANNEL_BIND;
	default:
		return TURN_M_OTHER;
	}
}

static void handle_request(struct req *r)
{
	const struct stun_msg *m = r->m;

	if (m->method == STUN_METHOD_BINDING) {
		/* RFC 8489 §6.3.1: no authentication for Binding here; unknown attributes 420 */
		if (m->n_unknown) {
			begin(r, 420);
			stun_builder__add_unknown_attributes(&r->b, m->unknown, m->n_unknown);
			return finish(r);
		}
		begin(r, 0);
		stun_builder__add_xor_addr(&r->b, STUN_ATTR_XOR_MAPPED_ADDRESS, r->client);
		return finish(r);
	}
	if (r->method == TURN_M_OTHER)
		return answer_error(r, 400);
	/* Nothing is kept for a client before this succeeds (the nonce is stateless). */
	switch (auth__check_request(r->s->auth, &r->s->nonce, m, r->client, r->now / MS, &r->ar)) {
	case AUTH_OK:
		break;
	case AUTH_BAD_REQUEST:
		return answer_error(r, 400);
	case AUTH_STALE_NONCE:
		return answer_challenge(r, 438);
	case AUTH_CHALLENGE:
	case AUTH_UNAUTHORIZED:
	default:
		return answer_challenge(r, 401);
	}
	r->authed = true;
	/* RFC 8489 §6.3.1: unknown comprehension-required attributes, after authentication */
	if (m->n_unknown) {
		begin(r, 420);
		stun_builder__add_unknown_attributes(&r->b, m->unknown, m->n_unknown);
		return finish(r);
	}
	switch (m->method) {
	case STUN_METHOD_ALLOCATE:
		return handle_allocate(r);
	case STUN_METHOD_REFRESH:
		return handle_refresh(r);
	case STUN_METHOD_CREATE_PERMISSION:
		return handle_create_permission(r);
	case STUN_METHOD_CHANNEL_BIND:
		return handle_channel_bind(r);
	}
}

static bool addr_ok(const struct xt_addr *a)
{
	return a && (a->family == XT_AF_INET || a->family == XT_AF_INET6);
}

int turn_server__input_client(struct turn_server *s, uint64_t now_ms, const struct xt_addr *local,
			      const struct xt_addr *client, const uint8_t *data, size_t len,
			      struct turn_actions *out)
{
	struct stun_msg m;
	int rc = 0;

	if (!s || !addr_ok(local) || !addr_ok(client) || (!data && len) || !out)
		return -EINVAL;
	s->now_ms = now_ms;
	flush(s, out);
	if (pending(s) || room(out) < 4)
		return -ENOBUFS;
	if (stun_is_channeldata(data, len)) {
		rc = handle_channeldata(s, local, client, data, len, out);
	} else if (!stun_is_stun(data, len) || stun_parse(data, len, &m) ||
		   (m.fp_off && stun_msg__check_fingerprint(&m))) {
		/* RFC 8489 §7.3: not STUN (or a bad FINGERPRINT: not STUN either); no answer */
		s->st.drops[TURN_DROP_MALFORMED]++;
	} else if (m.cls == STUN_CLASS_REQUEST) {
		struct req r = { .s = s,
				 .now = now_ms,
				 .local = local,
				 .client = client,
				 .m = &m,
				 .out = out,
				 .method = method_idx(m.method) };
		if (out->arena_cap - out->arena_len < s->resp_max)
			return -ENOBUFS;
		handle_request(&r);
	} else if (m.cls == STUN_CLASS_INDICATION && m.method == STUN_METHOD_SEND) {
		rc = handle_send(s, local, client, &m, out);
	} else {
		s->st.drops[TURN_DROP_NOT_REQUEST]++;
	}
	flush(s, out);
	out->wake_at = turn_server__next_wake(s, now_ms);
	return rc;
}

int turn_server__input_peer(struct turn_server *s, uint64_t now_ms, const struct xt_addr *relay,
			    const struct xt_addr *peer, const uint8_t *data, size_t len,
			    struct turn_actions *out)
{
	struct turn_alloc *a = NULL;
	uint16_t port;
	int f, rc = 0;

	if (!s || !addr_ok(relay) || !addr_ok(peer) || (!data && len) || !out)
		return -EINVAL;
	s->now_ms = now_ms;
	flush(s, out);
	if (pending(s) || room(out) < 4)
		return -ENOBUFS;
	port = xt_addr_port(relay);
	f = fam_idx(relay->family);
	if (port >= s->port_min && port <= s->port_max) {
		for (unsigned int i = 0; i < s->n_relays; i++) {
			if (!xt_addr_ip_equal(&s->relays[i].addr, relay))
				continue;
			a = s->relays[i].owner[port - s->port_min];
			if (a && (a->state[f] != SLOT_ACTIVE || a->relay[f] != i))
				a = NULL;
			break;
		}
	}
	if (!a)
		s->st.drops[TURN_DROP_NO_ALLOCATION]++;
	else
		rc = deliver_to_client(s, a, peer, data, len, out);
	out->wake_at = turn_server__next_wake(s, now_ms);
	return rc;
}

static void expire(struct turn_server *s, struct turn_timer *t, uint64_t now)
{
	switch (t->kind) {
	case TK_ALLOC: {
		struct turn_alloc *a = container_of(t, struct turn_alloc, timer);
		for (int f = 0; f < 2; f++)
			if (a->state[f] == SLOT_ACTIVE && a->expires[f] <= now)
				slot_release(s, a, f);
		if (!(a->flags & AF_ZOMBIE))
			alloc_rearm(s, a);
		break;
	}
	case TK_PERM:
		perm_free(s, container_of(t, struct turn_perm, timer));
		break;
	case TK_CHAN: {
		struct turn_chan *c = container_of(t, struct turn_chan, timer);
		if (c->state == CH_BOUND) {
			/* Expired: out of the kernel, but number and peer stay taken (§12) */
			c->state = CH_COOLDOWN;
			s->nchan--;
			turn_timers__arm(&s->timers, &c->timer,
					 t->expires + CHANNEL_COOLDOWN_S * MS);
			sync_queue(s, c);
		} else {
			chan_kill(s, c);
		}
		break;
	}
	case TK_RESV:
		resv_free(s, container_of(t, struct turn_resv, timer), true);
		break;
	}
}

int turn_server__tick(struct turn_server *s, uint64_t now_ms, struct turn_actions *out)
{
	struct turn_timer *t;

	if (!s || !out)
		return -EINVAL;
	while ((t = turn_timers__pop_due(&s->timers, now_ms)))
		expire(s, t, now_ms);
	flush(s, out);
	out->wake_at = turn_server__next_wake(s, now_ms);
	return 0;
}

/* ------------------------------------------------------- construction ---- */

static int apply_config(struct turn_server *s, const struct turn_server_config *cfg)
{
	struct turn_policy pol;
	char *sw = NULL;
	size_t realm_len;
	int rc;

	if (!cfg->auth)
		return -EINVAL;
	if (cfg->software && strlen(cfg->software) > 763)
		return -EINVAL;
	rc = turn_policy__init(&pol, cfg->deny_default, cfg->deny, cfg->n_deny, cfg->allow,
			       cfg->n_allow);
	if (rc)
		return rc;
	if (cfg->software && !(sw = strdup(cfg->software))) {
		turn_policy__destroy(&pol);
		return -ENOMEM;
	}
	s->default_lifetime = cfg->default_lifetime ? cfg->default_lifetime : 600;
	s->max_lifetime = cfg->max_lifetime ? cfg->max_lifetime : 3600;
	if (s->max_lifetime < s->default_lifetime)
		s->max_lifetime = s->default_lifetime;
	s->max_per_user = cfg->max_per_user;
	s->channel_max = cfg->legacy_channels ? STUN_CHANNEL_LEGACY_MAX : STUN_CHANNEL_MAX;
	s->bandwidth_bps = cfg->bandwidth_bps;
	s->auth = cfg->auth;
	s->nonce.lifetime = cfg->nonce_lifetime ? cfg->nonce_lifetime : 3600;
	s->nonce.features = cfg->password_algorithms ? AUTH_FEATURE_PASSWORD_ALGORITHMS : 0;
	free(s->software);
	s->software = sw;
	turn_policy__destroy(&s->policy);
	s->policy = pol;
	/* The biggest answer: a 401/438 challenge or an Allocate success, each with SOFTWARE. */
	realm_len = strlen(auth_store__realm(cfg->auth));
	s->resp_max = 20 + 4 + ((realm_len + 3) & ~3u) + 4 + AUTH_NONCE_MAX + 16 + 4 + 4 + 128 +
		      (sw ? 4 + ((strlen(sw) + 3) & ~3u) : 0) + 2 * 24 + 24 + 8 + 12 + 4 + 4 + 128 +
		      4 + 2 * STUN_MAX_UNKNOWN + 36 + 8;
	return 0;
}

static bool relays_valid(const struct turn_server_config *cfg)
{
	if (cfg->n_relays == 0 || cfg->n_relays > TURN_MAX_RELAY_ADDRS)
		return false;
	for (size_t i = 0; i < cfg->n_relays; i++) {
		const struct turn_relay_addr *r = &cfg->relays[i];
		if (!addr_ok(&r->addr))
			return false;
		if (r->advertised.family && r->advertised.family != r->addr.family)
			return false;
	}
	return true;
}

struct turn_server *turn_server__new(const struct turn_server_config *cfg, turn_random_fn rnd,
				     void *rnd_ctx)
{
	struct turn_server *s;
	uint8_t key[AUTH_NONCE_KEY_LEN];
	uint16_t pmin, pmax;
	uint64_t total;
	int rc = -EINVAL;

	if (!cfg || !rnd || !cfg->auth || !relays_valid(cfg)) {
		errno = EINVAL;
		return NULL;
	}
	pmin = cfg->relay_port_min ? cfg->relay_port_min : 49152;
	pmax = cfg->relay_port_max ? cfg->relay_port_max : 65535;
	if (pmin > pmax || (cfg->default_lifetime && cfg->max_lifetime &&
			    cfg->max_lifetime < cfg->default_lifetime)) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	s->rnd = rnd;
	s->rnd_ctx = rnd_ctx;
	rnd(rnd_ctx, (uint8_t *)s->seed, sizeof(s->seed));
	rnd(rnd_ctx, key, sizeof(key));
	auth_nonce_ctx__init(&s->nonce, key, 3600, 0);
	s->port_min = pmin;
	s->port_max = pmax;
	s->max_total = cfg->max_total ? cfg->max_total : 100000;
	s->next_id = 1;
	s->sync_tail = &s->sync_head;
	s->rel_tail = &s->rel_head;
	total = s->max_total;
	rc = apply_config(s, cfg);
	if (rc)
		goto out_free;
	rc = -ENOMEM;
	if (turn_timers__init(&s->timers, 1024) || ht_init(&s->allocs, total) ||
	    ht_init(&s->perms, total / 4) || ht_init(&s->chan_num, total / 4) ||
	    ht_init(&s->chan_peer, total / 4) || ht_init(&s->users, total / 16) ||
	    ht_init(&s->resvs, 64))
		goto out_free;
	pool_init(&s->p_alloc, sizeof(struct turn_alloc), 256);
	pool_init(&s->p_perm, sizeof(struct turn_perm), 256);
	pool_init(&s->p_chan, sizeof(struct turn_chan), 256);
	pool_init(&s->p_resv, sizeof(struct turn_resv), 64);
	for (size_t i = 0; i < cfg->n_relays; i++) {
		struct relay *r = &s->relays[i];
		r->addr = cfg->relays[i].addr;
		xt_addr_set_port(&r->addr, 0);
		r->adv = cfg->relays[i].advertised.family ? cfg->relays[i].advertised : r->addr;
		xt_addr_set_port(&r->adv, 0);
		s->n_relays++;
		rc = turn_ports__init(&r->ports, pmin, pmax);
		if (rc)
			goto out_free;
		rc = -ENOMEM;
		r->owner = calloc((size_t)pmax - pmin + 1, sizeof(*r->owner));
		if (!r->owner)
			goto out_free;
	}
	return s;
out_free:
	turn_server__free(s);
	errno = -rc;
	return NULL;
}

/* After a reload: every permission the new peer policy refuses goes at once, and with it the kernel
 * entries of that peer's channels (queued: the next flush emits CHANNEL_UNBOUND). Such a channel
 * relays nothing without its permission, and refreshing it is refused with 403 like a new bind.
 * Permissions for the relay's own addresses (hairpin) are not the policy's to judge. */
static void perms_recheck(struct turn_server *s)
{
	for (uint32_t b = 0; b <= s->allocs.mask; b++) {
		for (struct turn_alloc *a = s->allocs.b[b]; a; a = a->hnext) {
			for (struct turn_perm *p = a->perms, *n; p; p = n) {
				struct xt_addr peer;
				bool own;

				n = p->next;
				xt_addr_zero(&peer);
				peer.family = p->family;
				memcpy(peer.ip, p->ip, 16);
				own_target(s, &peer, &own);
				if (own || turn_policy__allows(&s->policy, &peer))
					continue;
				perm_free(s, p);
				s->st.permissions_revoked++;
			}
		}
	}
}

int turn_server__reconfigure(struct turn_server *s, const struct turn_server_config *cfg)
{
	uint16_t pmin, pmax;

	if (!s || !cfg || !cfg->auth || !relays_valid(cfg) || cfg->n_relays != s->n_relays)
		return -EINVAL;
	pmin = cfg->relay_port_min ? cfg->relay_port_min : 49152;
	pmax = cfg->relay_port_max ? cfg->relay_port_max : 65535;
	if (pmin != s->port_min || pmax != s->port_max ||
	    (cfg->max_total ? cfg->max_total : 100000) != s->max_total)
		return -EINVAL;
	for (size_t i = 0; i < cfg->n_relays; i++) {
		struct xt_addr a = cfg->relays[i].addr;
		xt_addr_set_port(&a, 0);
		if (!xt_addr_equal(&a, &s->relays[i].addr))
			return -EINVAL;
	}
	if (cfg->default_lifetime && cfg->max_lifetime && cfg->max_lifetime < cfg->default_lifetime)
		return -EINVAL;
	if (apply_config(s, cfg))
		return -EINVAL;
	for (size_t i = 0; i < cfg->n_relays; i++) {
		struct relay *r = &s->relays[i];
		r->adv = cfg->relays[i].advertised.family ? cfg->relays[i].advertised : r->addr;
		xt_addr_set_port(&r->adv, 0);
	}
	perms_recheck(s);
	return 0;
}

void turn_server__free(struct turn_server *s)
{
	if (!s)
		return;
	/* Users are the only objects outside pools. */
	if (s->users.b) {
		for (uint32_t i = 0; i <= s->users.mask; i++) {
			struct turn_user *u = s->users.b[i], *n;
			for (; u; u = n) {
				n = u->hnext;
				free(u);
			}
		}
	}
	for (unsigned int i = 0; i < s->n_relays; i++) {
		turn_ports__destroy(&s->relays[i].ports);
		free(s->relays[i].owner);
	}
	free(s->allocs.b);
	free(s->perms.b);
	free(s->chan_num.b);
	free(s->chan_peer.b);
	free(s->users.b);
	free(s->resvs.b);
	pool_destroy(&s->p_alloc);
	pool_destroy(&s->p_perm);
	pool_destroy(&s->p_chan);
	pool_destroy(&s->p_resv);
	free(s->timers.h);
	turn_policy__destroy(&s->policy);
	free(s->software);
	free(s);
}

/* -------------------------------------------------- stats, inspection ---- */

void turn_server__stats(const struct turn_server *s, struct turn_server_stats *st)
{
	size_t mem = sizeof(*s) + s->user_bytes + turn_timers__memory(&s->timers);

	*st = s->st;
	st->allocations = s->nalloc;
	st->permissions = s->nperm;
	st->channels = s->nchan;
	mem += ht_memory(&s->allocs) + ht_memory(&s->perms) + ht_memory(&s->chan_num) +
	       ht_memory(&s->chan_peer) + ht_memory(&s->users) + ht_memory(&s->resvs);
	mem += s->p_alloc.bytes + s->p_perm.bytes + s->p_chan.bytes + s->p_resv.bytes;
	for (unsigned int i = 0; i < s->n_relays; i++)
		mem += turn_ports__memory(&s->relays[i].ports) +
		       ((size_t)s->port_max - s->port_min + 1) * sizeof(void *);
	st->memory_bytes = mem;
}

const char *turn_stat_method_name(enum turn_stat_method m)
{
	static const char *const names[TURN_M__COUNT] = {
		"binding", "allocate", "refresh", "create_permission", "channel_bind", "other",
	};
	return (unsigned int)m < TURN_M__COUNT ? names[m] : "?";
}

int turn_stat_result_code(enum turn_stat_result r)
{
	static const int codes[TURN_R__COUNT] = { 0,   400, 401, 403, 420, 437, 438,
						  440, 441, 442, 443, 486, 500, 508 };
	return (unsigned int)r < TURN_R__COUNT ? codes[r] : -1;
}

const char *turn_drop_reason_name(enum turn_drop_reason r)
{
	static const char *const names[TURN_DROP__COUNT] = {
		"malformed", "not_request", "no_allocation", "unknown_channel", "no_permission",
		"self",	     "policy",	    "family",	     "too_big",	      "quota",
	};
	return (unsigned int)r < TURN_DROP__COUNT ? names[r] : "?";
}

static void alloc_info(const struct turn_server *s, const struct turn_alloc *a,
		       struct turn_alloc_info *i)
{
	memset(i, 0, sizeof(*i));
	i->id = a->id;
	i->client = a->client;
	i->listen = a->local;
	for (int f = 0; f < 2; f++) {
		if (a->state[f] != SLOT_ACTIVE)
			continue;
		relay_addr_of(s, a, f, &i->relay[f]);
		i->expires_ms[f] = a->expires[f];
	}
	i->user = a->user->name;
	i->user_len = a->user->len;
	i->n_permissions = a->nperm;
	i->n_channels = a->nchan;
}

int turn_server__foreach_allocation(const struct turn_server *s, const uint8_t *user,
				    size_t user_len,
				    int (*fn)(const struct turn_alloc_info *a, void *ctx),
				    void *ctx)
{
	for (uint32_t b = 0; b <= s->allocs.mask; b++) {
		for (const struct turn_alloc *a = s->allocs.b[b]; a; a = a->hnext) {
			struct turn_alloc_info i;
			int rc;

			if (user &&
			    (a->user->len != user_len || memcmp(a->user->name, user, user_len)))
				continue;
			alloc_info(s, a, &i);
			rc = fn(&i, ctx);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int turn_server__foreach_channel(const struct turn_server *s, uint32_t alloc_id,
				 int (*fn)(const struct turn_channel_info *c, void *ctx), void *ctx)
{
	for (uint32_t b = 0; b <= s->allocs.mask; b++) {
		for (const struct turn_alloc *a = s->allocs.b[b]; a; a = a->hnext) {
			if (a->id != alloc_id)
				continue;
			for (const struct turn_chan *c = a->chans; c; c = c->next) {
				struct turn_channel_info i = {
					.channel = c->num,
					.bound = c->state == CH_BOUND,
					.installed = c->installed,
					.peer = c->peer,
					.expires_ms = c->timer.expires,
				};
				int rc = fn(&i, ctx);
				if (rc)
					return rc;
			}
			return 0;
		}
	}
	return -ENOENT;
}
