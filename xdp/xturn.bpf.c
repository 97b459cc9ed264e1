/* xdp/xturn.bpf.c — the XDP program: steer relay traffic to AF_XDP, relay bound channels in-kernel.
 *
 * For every frame (DESIGN.md §1):
 *   not UDP to one of our addresses on the listen port or an allocated relay port ..... XDP_PASS
 *   ChannelData to the listen port with a channel in chan4/6_by_client . unwrap, rewrite, XDP_TX
 *   datagram to an allocated relay port from a peer in chan4/6_by_peer .. wrap, rewrite, XDP_TX
 *   everything else to those ports ............. AF_XDP socket of the RX queue (xsks, else PASS)
 * A frame the fast path will not finish (fragments, options, extension headers, VLAN, IPv4 UDP
 * checksum 0, too big, odd padding, no route answer it can use) goes to user space exactly as it
 * arrived: every decision is taken, and every map looked up, before the first byte is written.
 *
 * Must not: hold any address, port or size as a constant (the config map has them), pass a changed
 * frame to the kernel or user space, or leave a UDP checksum stale (it is updated per RFC 1624 from
 * the incoming one, so a datagram that arrived corrupted leaves still detectably corrupted).
 */
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "pkt/addr.h"
#include "pkt/csum.h"
#include "pkt/wire.h"
#include "xdp/bpf_mem.h"
#include "xdp/maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- maps (layouts in xdp/maps.h; sizes are defaults the loader may change before load) ----
 * The channel maps are not preallocated: an element removed or replaced is freed only after every
 * program that may still read it has finished (RCU), so the fast path, which reads the outgoing
 * addresses from the element several times, never sees them change under it; a preallocated map
 * hands a freed element to the next update at once. Memory follows the bindings in use, too. */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xt_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xt_chan4_client_key);
	__type(value, struct xt_chan_client_val);
} chan4_by_client SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xt_chan6_client_key);
	__type(value, struct xt_chan_client_val);
} chan6_by_client SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xt_chan4_peer_key);
	__type(value, struct xt_chan_peer_val);
} chan4_by_peer SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xt_chan6_peer_key);
	__type(value, struct xt_chan_peer_val);
} chan6_by_peer SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} relay_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xt_quota_key);
	__type(value, struct xt_quota);
} quota SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XT_STAT_COUNT);
	__type(key, __u32);
	__type(value, struct xt_stat);
} stats SEC(".maps");

/* ---- verdicts, each counted ---- */

static __always_inline void count(__u32 id, __u64 bytes)
{
	struct xt_stat *s = bpf_map_lookup_elem(&stats, &id);

	if (s) {
		s->packets++;
		s->bytes += bytes;
	}
}

static __always_inline __u64 frame_len(struct xdp_md *ctx)
{
	return ctx->data_end - ctx->data;
}

static __always_inline int pass(struct xdp_md *ctx, __u32 reason)
{
	count(reason, frame_len(ctx));
	return XDP_PASS;
}

static __always_inline int drop(struct xdp_md *ctx, __u32 reason)
{
	count(reason, frame_len(ctx));
	return XDP_DROP;
}

/* To the AF_XDP socket of the receiving queue; with none there, the kernel gets it (XDP_PASS). */
static __always_inline int to_user(struct xdp_md *ctx, __u32 reason)
{
	__u64 len = frame_len(ctx);
	int act;

	count(reason, len);
	act = bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
	count(act == XDP_REDIRECT ? XT_STAT_XSK : XT_STAT_XSK_MISSING, len);
	return act;
}

/* ---- configuration lookups ---- */

static __always_inline int ours_v4(const struct xt_config *cfg, const __u8 *ip)
{
	__u32 a = raw32(ip);

	for (int i = 0; i < XT_MAX_ADDRS_V4; i++) {
		if (i >= cfg->n_v4)
			break;
		if (raw32(cfg->v4[i]) == a)
			return 1;
	}
	return 0;
}

static __always_inline int ours_v6(const struct xt_config *cfg, const __u8 *ip)
{
	for (int i = 0; i < XT_MAX_ADDRS_V6; i++) {
		if (i >= cfg->n_v6)
			break;
		if (ip6_equal(cfg->v6[i], ip))
			return 1;
	}
	return 0;
}

static __always_inline int ours(const struct xt_config *cfg, const struct xt_addr *a)
{
	if (a->family == XT_AF_INET)
		return ours_v4(cfg, a->ip);
	if (a->family == XT_AF_INET6)
		return ours_v6(cfg, a->ip);
	return 0;
}

enum port_class { PORT_OTHER, PORT_FREE, PORT_LISTEN, PORT_RELAY };

static __always_inline enum port_class port_class(const struct xt_config *cfg, __u16 port)
{
	__u32 key = port;
	__u8 *state;

	if (port == get_be16(cfg->listen_port))
		return PORT_LISTEN;
	if (port < get_be16(cfg->port_min) || port > get_be16(cfg->port_max))
		return PORT_OTHER;
	state = bpf_map_lookup_elem(&relay_ports, &key);
	return state && *state == XT_PORT_ALLOCATED ? PORT_RELAY : PORT_FREE;
}

/* ---- the relay plan: everything decided before the frame is touched ---- */

/* The outgoing addresses are not in the plan: they stay in the channel map value that holds them,
 * and the rewrite reads them from there (a copy per packet costs more than the rest of the plan).
 * The plan and the next hop are locals of the one inlined function the fast path is: the compiler
 * keeps most of their fields in registers. */
struct relay_plan {
	__u32 alloc[2];	  /* allocations whose quota the data consumes (ids as in the maps); 0 = none */
	__u16 data_len;	  /* application data bytes (ChannelData length / peer payload) */
	__u16 channel;	  /* channel number of the header written when add_hdr */
	__u8 in_v6;	  /* the incoming frame is IPv6 (else IPv4 without options) */
	__u8 strip_hdr;	  /* the incoming ChannelData header goes (client → peer, hairpin) */
	__u8 add_hdr;	  /* a ChannelData header is written (peer → client, hairpin) */
	__u8 pad;	  /* bytes after the ChannelData data that go (RFC 8656 §12.5) */
	__u8 hops;	  /* relay hops: TTL / hop limit is decremented this often (RFC 8656 §14) */
	__u8 stat;	  /* XT_STAT_RELAY_* */
};

/* Where the relayed frame goes next: the Ethernet addresses in header order, and the interface. */
struct hop_macs {
	__u8 dmac[PKT_ETH_ALEN];
	__u8 smac[PKT_ETH_ALEN];
	__u32 egress;
} __attribute__((aligned(8)));

/* ChannelData's range (RFC 7983: first two bits 01). RFC 8656 §12 binds 0x4000-0x4FFF, RFC 5766
 * clients up to 0x7FFF (allocations.legacy_channels); which numbers are bound is user space's
 * rule, and only bound ones are in the client maps. */
#define CHANNEL_MIN 0x4000
#define CHANNEL_MAX 0x7FFF
#define CHANNEL_HDR_LEN 4

/* No single-buffer XDP frame carries more (a page); also keeps packet offsets verifiable. */
#define MAX_DATA_LEN 0x3FFF

/* Token bucket of one allocation; 1 = within quota. The data path never waits on the lock for long:
 * it guards four words and no helper call. */
static __always_inline int quota_take(__u32 alloc_id, __u64 now, __u64 bytes)
{
	struct xt_quota_key key __attribute__((aligned(8)));
	struct xt_quota *q;
	__u64 elapsed, refill;
	int ok;

	if (alloc_id == 0)
		return 1;
	raw32_store(key.alloc_id, alloc_id);
	q = bpf_map_lookup_elem(&quota, &key);
	if (!q)
		return 1;
	bpf_spin_lock(&q->lock);
	elapsed = now > q->last_ns ? now - q->last_ns : 0;
	/* rate <= XT_QUOTA_MAX_RATE (2^34) keeps (elapsed % 1e9) * rate below 2^64; the whole-seconds
	 * part is bounded by capping elapsed at an hour. */
	if (elapsed > 3600ull * 1000000000ull)
		elapsed = 3600ull * 1000000000ull;
	refill = elapsed / 1000000000ull * q->rate + elapsed % 1000000000ull * q->rate / 1000000000ull;
	q->tokens += refill;
	if (q->tokens > q->burst)
		q->tokens = q->burst;
	q->last_ns = now;
	ok = q->tokens >= bytes;
	if (ok)
		q->tokens -= bytes;
	bpf_spin_unlock(&q->lock);
	return ok;
}

/* Checksum arithmetic on words as they lie in memory ("raw"): the one's-complement sum is
 * independent of byte order (RFC 1071 §2(B)), so fields are added 32 bits at a time straight from
 * the packet and the folded result is stored back the same way. Host-order values (lengths,
 * channel numbers) enter through bpf_htons. A 64-bit accumulator never overflows here. */
static __always_inline __u64 raw_sum_addr(__u64 sum, const struct xt_addr *a)
{
	sum += raw32(a->ip);
	if (a->family == XT_AF_INET6)
		sum += (__u64)raw32(a->ip + 4) + raw32(a->ip + 8) + raw32(a->ip + 12);
	return sum;
}

/* ~(folded sum), as csum_fold does for 32 bits. */
static __always_inline __u16 raw_fold(__u64 sum)
{
	sum = (sum & 0xFFFFFFFF) + (sum >> 32);
	sum = (sum & 0xFFFFFFFF) + (sum >> 32);
	return csum_fold((__u32)sum);
}

/* A byte's weight in a raw 16-bit word: the byte at an even offset of the checksummed data is the
 * word's first byte in memory. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define RAW_BYTE(b, odd) ((odd) ? (__u32)(b) << 8 : (__u32)(b))
#else
#define RAW_BYTE(b, odd) ((odd) ? (__u32)(b) : (__u32)(b) << 8)
#endif

/* ---- the next hop ---- */

/* bpf_fib_lookup costs more than the rest of the fast path together (a route and a neighbour
 * lookup: 100-300 ns measured), so each CPU keeps its recent answers in a small direct-mapped
 * cache: per CPU, so no locks and no torn MAC addresses. An answer is reused for the same source,
 * destination and ingress interface, for packets no longer than the one it was given for, while
 * cfg->fib_gen stays what it was. User space moves fib_gen on when a route or neighbour changes and
 * every fib_cache_ms (xdp_relay__age_fib_cache): the program reads no clock, which would cost the
 * fast path a helper call per packet. Only successful answers are kept. */
#define FIB_CACHE_BITS 10

struct fib_cache_entry {
	__u8 src[16];
	__u8 dst[16];
	__u32 ingress;
	__u32 gen;    /* cfg->fib_gen as loaded (compared, never interpreted) */
	__u16 ok_len; /* largest IP packet the answer was given for (its route MTU check) */
	__u8 family;
	__u8 pad;
	struct hop_macs hop;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1 << FIB_CACHE_BITS);
	__type(key, __u32);
	__type(value, struct fib_cache_entry);
} fib_cache SEC(".maps");

enum hop { HOP_FIB, HOP_FALLBACK, HOP_USER_MTU, HOP_USER_ROUTE, HOP_USER_NEIGH };

static __always_inline void hop_copy(struct hop_macs *to, const struct hop_macs *from)
{
	raw64_store(to->dmac, raw64(from->dmac));
	raw32_store(to->dmac + 8, raw32(from->dmac + 8));
	to->egress = from->egress;
}

/* The next hop of a packet from src to dst (l3_len bytes) into *hop on HOP_FIB; HOP_FALLBACK
 * when the FIB cannot answer (forwarding off on the NIC, no route), HOP_USER_* when its answer
 * sends the frame to user space: among them a route whose next hop has no neighbour entry yet.
 * Swapping MACs there would send the frame back to its sender on a shared segment; user space
 * resolves the neighbour and holds the frame meanwhile, and once the entry exists the FIB answers
 * here. */
static __always_inline int next_hop(struct xdp_md *ctx, const struct xt_config *cfg,
				    struct hop_macs *hop, const struct xt_addr *src,
				    const struct xt_addr *dst, __u32 l3_len, __u8 tos)
{
	__u32 gen = raw32(cfg->fib_gen);
	struct bpf_fib_lookup fib = {};
	struct fib_cache_entry *e = NULL;
	int rc;

	if (get_be16(cfg->fib_cache_ms)) {
		__u32 h = raw32(dst->ip) ^ raw32(dst->ip + 12) ^ raw32(src->ip) ^ raw32(src->ip + 12);
		__u32 slot = (h * 0x9E3779B1u) >> (32 - FIB_CACHE_BITS);

		e = bpf_map_lookup_elem(&fib_cache, &slot);
		if (!e)
			return HOP_FALLBACK;
		if (e->gen == gen && e->family == dst->family && e->ingress == ctx->ingress_ifindex &&
		    l3_len <= e->ok_len && ip6_equal(e->dst, dst->ip) && ip6_equal(e->src, src->ip)) {
			hop_copy(hop, &e->hop);
			return HOP_FIB;
		}
	}

	fib.family = dst->family;
	fib.l4_protocol = PKT_IPPROTO_UDP;
	fib.sport = raw16(src->port);
	fib.dport = raw16(dst->port);
	fib.tot_len = (__u16)l3_len; /* the FIB checks it against the route's MTU */
	fib.ifindex = ctx->ingress_ifindex;
	/* fib is naturally aligned on the stack: 32-bit stores are allowed there. */
	if (dst->family == XT_AF_INET6) {
		for (int i = 0; i < 4; i++) {
			fib.ipv6_src[i] = raw32(src->ip + 4 * i);
			fib.ipv6_dst[i] = raw32(dst->ip + 4 * i);
		}
	} else {
		fib.tos = tos;
		fib.ipv4_src = raw32(src->ip);
		fib.ipv4_dst = raw32(dst->ip);
	}
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return HOP_USER_MTU;
	if (rc == BPF_FIB_LKUP_RET_BLACKHOLE || rc == BPF_FIB_LKUP_RET_UNREACHABLE ||
	    rc == BPF_FIB_LKUP_RET_PROHIBIT)
		return HOP_USER_ROUTE;
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return HOP_USER_NEIGH;
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return HOP_FALLBACK;
	mac_copy(hop->dmac, fib.dmac);
	mac_copy(hop->smac, fib.smac);
	hop->egress = fib.ifindex;
	if (e) {
		raw64_store(e->src, raw64(src->ip));
		raw64_store(e->src + 8, raw64(src->ip + 8));
		raw64_store(e->dst, raw64(dst->ip));
		raw64_store(e->dst + 8, raw64(dst->ip + 8));
		e->family = dst->family;
		e->ingress = ctx->ingress_ifindex;
		e->gen = gen;
		e->ok_len = (__u16)l3_len;
		hop_copy(&e->hop, hop);
	}
	return HOP_FIB;
}

/* ---- the rewrite ---- */

/* Performs the plan on a frame that is Ethernet + IPv4 (20 bytes) or IPv6 (40) + UDP, sending it
 * from src to dst (both in the channel map value that holds them), after the last decisions that
 * may still hand the frame on unchanged (MTU, FIB, quota) have been taken here too.
 *
 * Inlined into each direction and family: a BPF-to-BPF call and its return cost ~10 ns each on
 * CPUs whose kernel routes every return through a mitigation thunk (SRSO "Safe RET" on AMD Zen,
 * measured here), more than a tenth of the whole fast path. The verifier processes ~61 000
 * instructions for all copies together (its limit is 1 000 000). */
static __always_inline int relay(struct xdp_md *ctx, const struct xt_config *cfg,
				 const struct relay_plan *plan, const struct xt_addr *src,
				 const struct xt_addr *dst)
{
	struct hop_macs next;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pkt_eth *eth = data;
	int in_v6 = plan->in_v6;
	int out_v6 = dst->family == XT_AF_INET6;
	__u32 in_ip_len = in_v6 ? sizeof(struct pkt_ipv6) : sizeof(struct pkt_ipv4);
	__u32 out_ip_len = out_v6 ? sizeof(struct pkt_ipv6) : sizeof(struct pkt_ipv4);
	__u32 in_hdr = sizeof(struct pkt_eth) + in_ip_len + sizeof(struct pkt_udp) +
		       (plan->strip_hdr ? CHANNEL_HDR_LEN : 0);
	__u32 out_hdr = sizeof(struct pkt_eth) + out_ip_len + sizeof(struct pkt_udp) +
			(plan->add_hdr ? CHANNEL_HDR_LEN : 0);
	__u32 out_udp_len = out_hdr - sizeof(struct pkt_eth) - out_ip_len + plan->data_len;
	__u32 out_l3_len = out_ip_len + out_udp_len;
	__u32 mtu = get_be16(cfg->mtu);
	__u32 egress = ctx->ingress_ifindex;
	struct pkt_udp *udp;
	__u8 tos, ttl, df = 0;
	__u16 ip_id = 0, check;
	__u64 old_sum, new_sum, sum;
	__u64 data_off;
	int redirect = 0, hop;

	if (src->family != dst->family)
		return to_user(ctx, XT_STAT_USER_NO_CHANNEL); /* the loader never installs this */
	if (plan->data_len > MAX_DATA_LEN || (mtu && out_l3_len > mtu))
		return to_user(ctx, XT_STAT_USER_MTU);
	/* The verifier must see the bound on the register it adds to a packet pointer. */
	data_off = plan->data_len;
	asm volatile("%0 &= %1" : "+r"(data_off) : "i"(MAX_DATA_LEN));

	/* What the new headers take from the old ones, and the old words the UDP checksum loses:
	 * the pseudo-header addresses, then (below) its length, the ports and the length field. */
	if (in_v6) {
		struct pkt_ipv6 *ip6 = (void *)(eth + 1);

		udp = (void *)(ip6 + 1);
		if ((void *)(udp + 1) > data_end)
			return XDP_ABORTED;
		tos = (__u8)(get_be32(ip6->ver_tc_flow) >> 20);
		ttl = ip6->hop_limit;
		df = 1; /* IPv6 is never fragmented on the way: the IPv4 equivalent is DF */
		old_sum = (__u64)raw32(ip6->saddr) + raw32(ip6->saddr + 4) + raw32(ip6->saddr + 8) +
			  raw32(ip6->saddr + 12) + raw32(ip6->daddr) + raw32(ip6->daddr + 4) +
			  raw32(ip6->daddr + 8) + raw32(ip6->daddr + 12);
	} else {
		struct pkt_ipv4 *ip4 = (void *)(eth + 1);

		udp = (void *)(ip4 + 1);
		if ((void *)(udp + 1) > data_end)
			return XDP_ABORTED;
		tos = ip4->tos;
		ttl = ip4->ttl;
		ip_id = get_be16(ip4->id);
		/* RFC 8656 §14: copy DF from the packet that carried the data. */
		df = (get_be16(ip4->frag_off) & PKT_IPV4_DF) != 0;
		old_sum = (__u64)raw32(ip4->saddr) + raw32(ip4->daddr);
	}
	/* The length counts twice (pseudo-header and UDP header); source and destination port are
	 * one 32-bit word. */
	old_sum += 2 * (__u64)raw16(udp->len) + (__u64)raw32(udp->source);
	sum = (__u16)~raw16(udp->check);
	/* RFC 8656 §14 preferred behaviour: discard at 0, else one less per relay hop. */
	if (ttl < plan->hops)
		return drop(ctx, XT_STAT_DROP_TTL);
	ttl -= plan->hops;
	if (!out_v6 && in_v6)
		ip_id = 0; /* DF set: RFC 6864 lets an atomic datagram carry any ID */

	hop = get_be16(cfg->flags) & XT_CFG_NO_FIB ?
		      HOP_FALLBACK :
		      next_hop(ctx, cfg, &next, src, dst, out_l3_len, tos);
	if (hop == HOP_USER_MTU)
		return to_user(ctx, XT_STAT_USER_MTU);
	if (hop == HOP_USER_ROUTE)
		return to_user(ctx, XT_STAT_USER_ROUTE);
	if (hop == HOP_USER_NEIGH)
		return to_user(ctx, XT_STAT_USER_NO_NEIGH);
	if (hop == HOP_FALLBACK) {
		/* Answer the way the frame came in: right for a relay behind one gateway. */
		mac_copy(next.smac, eth->dst);
		mac_copy(next.dmac, eth->src);
		next.egress = ctx->ingress_ifindex;
	} else if (next.egress != ctx->ingress_ifindex) {
		egress = next.egress;
		if (!bpf_map_lookup_elem(&tx_ports, &egress))
			return to_user(ctx, XT_STAT_USER_NO_TX_PORT);
		redirect = 1;
	}

	if (get_be16(cfg->flags) & XT_CFG_QUOTA) {
		__u64 now = bpf_ktime_get_ns();

		if (!quota_take(plan->alloc[0], now, plan->data_len) ||
		    !quota_take(plan->alloc[1], now, plan->data_len))
			return drop(ctx, XT_STAT_DROP_QUOTA);
	}

	/* UDP checksum, RFC 1624 eqn. 3 over many words: take out every word that goes or changes
	 * (pseudo-header addresses and length, ports, length, the ChannelData header, the padding),
	 * put in the new ones. The pseudo-header's protocol word is 17 for both families and stays. */
	if (plan->strip_hdr) {
		__u8 *ch = (void *)(udp + 1);
		__u8 *padp;

		if ((void *)(ch + CHANNEL_HDR_LEN) > data_end)
			return XDP_ABORTED;
		old_sum += raw32(ch);
		/* The padding starts at UDP offset 12 + data length: with an odd length its first
		 * byte is the second half of a word. */
		padp = ch + CHANNEL_HDR_LEN + data_off;
		for (int i = 0; i < 3; i++) {
			if (i >= plan->pad)
				break;
			if ((void *)(padp + i + 1) > data_end)
				return XDP_ABORTED;
			old_sum += RAW_BYTE(padp[i], (data_off + i) & 1);
		}
	}
	new_sum = raw_sum_addr(raw_sum_addr(0, src), dst);
	new_sum += 2 * (__u32)bpf_htons((__u16)out_udp_len) + raw16(src->port) + raw16(dst->port);
	if (plan->add_hdr)
		new_sum += (__u32)bpf_htons(plan->channel) + bpf_htons(plan->data_len);
	sum += raw_fold(old_sum);	   /* minus the old words: ~(folded old sum) */
	sum += (__u16)~raw_fold(new_sum); /* plus the new words: the folded new sum */
	check = raw_fold(sum);
	if (check == 0)
		check = 0xFFFF; /* RFC 768; never 0 over IPv6 (RFC 8200 §8.1) */

	/* Last decision taken: from here on the frame is ours to change. Grow or shrink the front so
	 * that the data stays where it is and the new headers end right before it. */
	if (in_hdr != out_hdr) {
		if (bpf_xdp_adjust_head(ctx, (int)in_hdr - (int)out_hdr)) {
			if (in_hdr < out_hdr)
				return to_user(ctx, XT_STAT_USER_NO_HEADROOM); /* nothing changed */
			return drop(ctx, XT_STAT_DROP_INTERNAL);
		}
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
	}

	/* The new headers are written a word at a time from values in registers, and nothing just
	 * written is read back: a load that spans several narrower stores made just before stalls
	 * the CPU. (On a FIB cache miss the next hop was built with 16-bit stores; that path pays
	 * for a route lookup anyway.) */
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return drop(ctx, XT_STAT_DROP_INTERNAL);
	raw64_store(eth->dst, raw64(next.dmac));
	raw32_store(eth->dst + 8, raw32(next.dmac + 8));

	if (out_v6) {
		struct pkt_ipv6 *ip6 = (void *)(eth + 1);

		udp = (void *)(ip6 + 1);
		if ((void *)(udp + 1) > data_end)
			return drop(ctx, XT_STAT_DROP_INTERNAL);
		raw16_store(eth->type, bpf_htons(PKT_ETH_P_IPV6));
		raw32_store(ip6->ver_tc_flow, bpf_htonl(6u << 28 | (__u32)tos << 20));
		raw32_store(ip6->payload_len, bpf_htonl(out_udp_len << 16 | PKT_IPPROTO_UDP << 8 | ttl));
		raw64_store(ip6->saddr, raw64(src->ip));
		raw64_store(ip6->saddr + 8, raw64(src->ip + 8));
		raw64_store(ip6->daddr, raw64(dst->ip));
		raw64_store(ip6->daddr + 8, raw64(dst->ip + 8));
	} else {
		struct pkt_ipv4 *ip4 = (void *)(eth + 1);
		/* Every field of this header is new: its checksum is computed, not updated. */
		__u32 w0 = bpf_htonl(0x45u << 24 | (__u32)tos << 16 | out_l3_len);
		__u32 w1 = bpf_htonl((__u32)ip_id << 16 | (df ? PKT_IPV4_DF : 0));
		__u32 w2 = bpf_htonl((__u32)ttl << 24 | PKT_IPPROTO_UDP << 16);
		__u32 saddr = raw32(src->ip), daddr = raw32(dst->ip);

		udp = (void *)(ip4 + 1);
		if ((void *)(udp + 1) > data_end)
			return drop(ctx, XT_STAT_DROP_INTERNAL);
		raw16_store(eth->type, bpf_htons(PKT_ETH_P_IPV4));
		raw32_store(ip4, w0);
		raw32_store((__u8 *)ip4 + 4, w1);
		raw32_store((__u8 *)ip4 + 8, w2);
		raw16_store(ip4->check, raw_fold((__u64)w0 + w1 + w2 + saddr + daddr));
		raw32_store(ip4->saddr, saddr);
		raw32_store(ip4->daddr, daddr);
	}
	raw16_store(udp->source, raw16(src->port));
	raw16_store(udp->dest, raw16(dst->port));
	raw16_store(udp->len, bpf_htons((__u16)out_udp_len));
	raw16_store(udp->check, check);
	if (plan->add_hdr) {
		__u8 *ch = (void *)(udp + 1);

		if ((void *)(ch + CHANNEL_HDR_LEN) > data_end)
			return drop(ctx, XT_STAT_DROP_INTERNAL);
		raw32_store(ch, bpf_htonl((__u32)plan->channel << 16 | plan->data_len));
	}

	/* Cut the padding and any Ethernet trailer: the datagram carries exactly the data. */
	{
		__u64 want = out_hdr + plan->data_len;
		__u64 have = (__u64)(data_end - data);

		if (have > want && bpf_xdp_adjust_tail(ctx, (int)want - (int)have))
			return drop(ctx, XT_STAT_DROP_INTERNAL);
	}

	count(plan->stat, plan->data_len);
	if (hop == HOP_FALLBACK)
		count(XT_STAT_FIB_FALLBACK, plan->data_len);
	if (redirect) {
		count(XT_STAT_TX_REDIRECT, plan->data_len);
		return bpf_redirect_map(&tx_ports, egress, 0);
	}
	return XDP_TX;
}

/* ---- the channel maps ---- */

/* Fills a channel key of either side (one layout, xdp/maps.h): addresses a and b of the family,
 * then the 2-byte fields fa and fb, each lying in the packet or in a map value. */
static __always_inline void chan_key_fill(void *key, const __u8 *a, const __u8 *b, const __u8 *fa,
					  const __u8 *fb, int v6)
{
	__u8 *k = key;

	if (v6) {
		raw64_store(k, raw64(a));
		raw64_store(k + 8, raw64(a + 8));
		raw64_store(k + 16, raw64(b));
		raw64_store(k + 24, raw64(b + 8));
		raw16_store(k + 32, raw16(fa));
		raw16_store(k + 34, raw16(fb));
	} else {
		raw32_store(k, raw32(a));
		raw32_store(k + 4, raw32(b));
		raw16_store(k + 8, raw16(fa));
		raw16_store(k + 10, raw16(fb));
	}
}

/* The binding of ChannelData from client_ip:client_port to listen_ip with that channel (the raw
 * 2-byte field). */
static __always_inline struct xt_chan_client_val *client_binding(const __u8 *client_ip,
								 const __u8 *client_port,
								 const __u8 *listen_ip,
								 const __u8 *channel, int v6)
{
	if (v6) {
		struct xt_chan6_client_key k __attribute__((aligned(8)));

		chan_key_fill(&k, client_ip, listen_ip, client_port, channel, 1);
		return bpf_map_lookup_elem(&chan6_by_client, &k);
	} else {
		struct xt_chan4_client_key k __attribute__((aligned(8)));

		chan_key_fill(&k, client_ip, listen_ip, client_port, channel, 0);
		return bpf_map_lookup_elem(&chan4_by_client, &k);
	}
}

/* The binding that relays a datagram from peer_ip:peer_port to relay_ip:relay_port. */
static __always_inline struct xt_chan_peer_val *peer_binding(const __u8 *peer_ip,
							     const __u8 *peer_port,
							     const __u8 *relay_ip,
							     const __u8 *relay_port, int v6)
{
	if (v6) {
		struct xt_chan6_peer_key k __attribute__((aligned(8)));

		chan_key_fill(&k, peer_ip, relay_ip, peer_port, relay_port, 1);
		return bpf_map_lookup_elem(&chan6_by_peer, &k);
	} else {
		struct xt_chan4_peer_key k __attribute__((aligned(8)));

		chan_key_fill(&k, peer_ip, relay_ip, peer_port, relay_port, 0);
		return bpf_map_lookup_elem(&chan4_by_peer, &k);
	}
}

/* ---- the two directions ---- */

/* ChannelData from a client to the listen port (RFC 8656 §12). saddr and daddr are the incoming
 * IP header's addresses. */
static __always_inline int client_to_peer(struct xdp_md *ctx, const struct xt_config *cfg,
					  struct relay_plan *plan, const __u8 *saddr,
					  const __u8 *daddr, const struct pkt_udp *udp,
					  void *data_end)
{
	const __u8 *payload = (const __u8 *)(udp + 1);
	__u32 plen = get_be16(udp->len) - sizeof(struct pkt_udp);
	struct xt_chan_client_val *v;
	struct xt_chan_peer_val *pv;
	__u16 channel, len;

	if (plen < CHANNEL_HDR_LEN || (void *)(payload + CHANNEL_HDR_LEN) > data_end)
		return to_user(ctx, XT_STAT_USER_STUN);
	channel = get_be16(payload);
	if (channel < CHANNEL_MIN || channel > CHANNEL_MAX)
		return to_user(ctx, XT_STAT_USER_STUN);
	len = get_be16(payload + 2);
	/* RFC 8656 §12.5: a length past the end of the datagram is discarded. */
	if (CHANNEL_HDR_LEN + (__u32)len > plen)
		return drop(ctx, XT_STAT_DROP_CHANNEL_LEN);
	if (plen - CHANNEL_HDR_LEN - len > 3)
		return to_user(ctx, XT_STAT_USER_PADDING);

	v = client_binding(saddr, udp->source, daddr, payload, plan->in_v6);
	if (!v)
		return to_user(ctx, XT_STAT_USER_NO_CHANNEL);

	plan->data_len = len;
	plan->channel = 0;
	plan->strip_hdr = 1;
	plan->add_hdr = 0;
	plan->pad = (__u8)(plen - CHANNEL_HDR_LEN - len);
	plan->hops = 1;
	plan->stat = plan->in_v6 ? XT_STAT_RELAY_C2P_V6 : XT_STAT_RELAY_C2P_V4;
	plan->alloc[0] = raw32(v->alloc_id);
	plan->alloc[1] = 0;
	if (!ours(cfg, &v->peer))
		return relay(ctx, cfg, plan, &v->relay, &v->peer);

	/* Hairpin: the peer is another allocation of ours. Deliver to that allocation's client in
	 * this same pass (once: the result goes to a client, never back into the relay). */
	pv = peer_binding(v->relay.ip, v->relay.port, v->peer.ip, v->peer.port,
			  v->peer.family == XT_AF_INET6);
	if (!pv || ours(cfg, &pv->client))
		return to_user(ctx, XT_STAT_USER_HAIRPIN);
	plan->channel = get_be16(pv->channel);
	plan->add_hdr = 1;
	plan->hops = 2;
	plan->stat = XT_STAT_RELAY_HAIRPIN;
	plan->alloc[1] = raw32(pv->alloc_id);
	return relay(ctx, cfg, plan, &pv->listen, &pv->client);
}

/* A datagram from a peer to an allocation's relayed address (RFC 8656 §11.5 with a channel). */
static __always_inline int peer_to_client(struct xdp_md *ctx, const struct xt_config *cfg,
					  struct relay_plan *plan, const __u8 *saddr,
					  const __u8 *daddr, const struct pkt_udp *udp)
{
	struct xt_chan_peer_val *v;

	v = peer_binding(saddr, udp->source, daddr, udp->dest, plan->in_v6);
	if (!v)
		return to_user(ctx, XT_STAT_USER_NO_CHANNEL);

	plan->data_len = get_be16(udp->len) - sizeof(struct pkt_udp);
	plan->channel = get_be16(v->channel);
	plan->strip_hdr = 0;
	plan->add_hdr = 1;
	plan->pad = 0;
	plan->hops = 1;
	plan->stat = plan->in_v6 ? XT_STAT_RELAY_P2C_V6 : XT_STAT_RELAY_P2C_V4;
	plan->alloc[0] = raw32(v->alloc_id);
	plan->alloc[1] = 0;
	return relay(ctx, cfg, plan, &v->listen, &v->client);
}

/* An untagged frame without IPv4 options, fragmentation or IPv6 extension headers, UDP to our
 * address on the listen port or an allocated relay port. Inlined, like relay(), and once per
 * family, so that each copy is straight-line code for its family. */
static __always_inline int fast(struct xdp_md *ctx, const struct xt_config *cfg, __u32 family,
				__u32 class)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct relay_plan plan;
	const __u8 *saddr, *daddr;
	struct pkt_udp *udp;

	if (family == XT_AF_INET6) {
		struct pkt_ipv6 *ip6 = data + sizeof(struct pkt_eth);
		__u16 payload_len;

		udp = (void *)(ip6 + 1);
		if ((void *)(udp + 1) > data_end)
			return pass(ctx, XT_STAT_PASS_NOT_OURS);
		payload_len = get_be16(ip6->payload_len);
		if (payload_len < sizeof(*udp) || (void *)udp + payload_len > data_end ||
		    get_be16(udp->len) != payload_len)
			return to_user(ctx, XT_STAT_USER_BAD_LENGTH);
		saddr = ip6->saddr;
		daddr = ip6->daddr;
	} else {
		struct pkt_ipv4 *ip = data + sizeof(struct pkt_eth);
		__u16 tot_len;

		udp = (void *)(ip + 1);
		if ((void *)(udp + 1) > data_end)
			return pass(ctx, XT_STAT_PASS_NOT_OURS);
		tot_len = get_be16(ip->tot_len);
		if (tot_len < sizeof(*ip) + sizeof(*udp) || (void *)ip + tot_len > data_end ||
		    get_be16(udp->len) != tot_len - sizeof(*ip))
			return to_user(ctx, XT_STAT_USER_BAD_LENGTH);
		/* The header is rebuilt from its fields: make sure they are the ones that were sent. */
		if (raw_fold((__u64)raw32(ip) + raw32((__u8 *)ip + 4) + raw32((__u8 *)ip + 8) +
			     raw32(ip->saddr) + raw32(ip->daddr)) != 0)
			return drop(ctx, XT_STAT_DROP_IP_CSUM);
		saddr = ip->saddr;
		daddr = ip->daddr;
	}
	/* IPv4: RFC 768 "no checksum", nothing to update. IPv6: invalid (RFC 8200 §8.1), user
	 * space drops it. */
	if (raw16(udp->check) == 0)
		return to_user(ctx, XT_STAT_USER_ZERO_CSUM);
	if (!(get_be16(cfg->flags) & XT_CFG_FASTPATH))
		return to_user(ctx, XT_STAT_USER_DISABLED);
	plan.in_v6 = family == XT_AF_INET6;
	if (class == PORT_LISTEN)
		return client_to_peer(ctx, cfg, &plan, saddr, daddr, udp, data_end);
	return peer_to_client(ctx, cfg, &plan, saddr, daddr, udp);
}

static __always_inline int classify_v4(struct xdp_md *ctx, const struct xt_config *cfg, __u32 l3,
				       int tagged)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pkt_ipv4 *ip = data + l3;
	struct pkt_udp *udp;
	enum port_class class;
	__u32 ihl;
	__u16 frag;

	if ((void *)(ip + 1) > data_end || ip->ver_ihl >> 4 != 4 || !ours_v4(cfg, ip->daddr) ||
	    ip->protocol != PKT_IPPROTO_UDP)
		return pass(ctx, XT_STAT_PASS_NOT_OURS);
	ihl = (ip->ver_ihl & 0xF) * 4;
	frag = get_be16(ip->frag_off);
	if (frag & PKT_IPV4_OFFSET_MASK)
		return to_user(ctx, XT_STAT_USER_FRAGMENT); /* no UDP header in it to look at */
	if (ihl < sizeof(*ip))
		return pass(ctx, XT_STAT_PASS_NOT_OURS);
	udp = (void *)ip + ihl;
	if ((void *)(udp + 1) > data_end)
		return pass(ctx, XT_STAT_PASS_NOT_OURS);
	class = port_class(cfg, get_be16(udp->dest));
	if (class == PORT_OTHER)
		return pass(ctx, XT_STAT_PASS_NOT_OURS);
	if (class == PORT_FREE)
		return pass(ctx, XT_STAT_PASS_PORT_FREE);
	if (tagged)
		return to_user(ctx, XT_STAT_USER_VLAN);
	if (ihl != sizeof(*ip))
		return to_user(ctx, XT_STAT_USER_IP_OPTIONS);
	if (frag & PKT_IPV4_MF)
		return to_user(ctx, XT_STAT_USER_FRAGMENT);
	return fast(ctx, cfg, XT_AF_INET, class);
}

static __always_inline int classify_v6(struct xdp_md *ctx, const struct xt_config *cfg, __u32 l3,
				       int tagged)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pkt_ipv6 *ip6 = data + l3;
	__u8 *next = (void *)(ip6 + 1);
	struct pkt_udp *udp;
	enum port_class class;
	__u8 nexthdr;
	int ext = 0, fragment = 0;

	if ((void *)(ip6 + 1) > data_end || ip6->ver_tc_flow[0] >> 4 != 6 ||
	    !ours_v6(cfg, ip6->daddr))
		return pass(ctx, XT_STAT_PASS_NOT_OURS);
	nexthdr = ip6->nexthdr;
	/* Walk a few extension headers only to learn whether UDP to a port of ours is inside. */
	for (int i = 0; i < 4 && nexthdr != PKT_IPPROTO_UDP; i++) {
		__u32 hlen;

		if (!pkt_ipv6_is_ext_header(nexthdr) || nexthdr == PKT_IPV6_HDR_ESP)
			return pass(ctx, XT_STAT_PASS_NOT_OURS);
		if ((void *)(next + 8) > data_end)
			return pass(ctx, XT_STAT_PASS_NOT_OURS);
		ext = 1;
		if (nexthdr == PKT_IPV6_HDR_FRAGMENT) {
			fragment = 1;
			if (get_be16(next + 2) & 0xFFF8) /* not the first fragment: no UDP header */
				return next[0] == PKT_IPPROTO_UDP ?
					       to_user(ctx, XT_STAT_USER_FRAGMENT) :
					       pass(ctx, XT_STAT_PASS_NOT_OURS);
			hlen = 8;
		} else if (nexthdr == PKT_IPV6_HDR_AUTH) {
			hlen = ((__u32)next[1] + 2) * 4;
		} else {
			hlen = ((__u32)next[1] + 1) * 8;
		}
		nexthdr = next[0];
		next += hlen;
	}
	if (nexthdr != PKT_IPPROTO_UDP)
		return pass(ctx, XT_STAT_PASS_NOT_OURS);
	udp = (void *)next;
	if ((void *)(udp + 1) > data_end)
		return pass(ctx, XT_STAT_PASS_NOT_OURS);
	class = port_class(cfg, get_be16(udp->dest));
	if (class == PORT_OTHER)
		return pass(ctx, XT_STAT_PASS_NOT_OURS);
	if (class == PORT_FREE)
		return pass(ctx, XT_STAT_PASS_PORT_FREE);
	if (tagged)
		return to_user(ctx, XT_STAT_USER_VLAN);
	if (fragment)
		return to_user(ctx, XT_STAT_USER_FRAGMENT);
	if (ext)
		return to_user(ctx, XT_STAT_USER_IPV6_EXT);
	return fast(ctx, cfg, XT_AF_INET6, class);
}

SEC("xdp")
int xturn_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pkt_eth *eth = data;
	const struct xt_config *cfg;
	__u32 zero = 0, l3 = sizeof(*eth);
	int tagged = 0;
	__u16 type;

	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || get_be16(cfg->listen_port) == 0)
		return XDP_PASS; /* not configured yet: a transparent program */
	if ((void *)(eth + 1) > data_end)
		return pass(ctx, XT_STAT_PASS_NOT_OURS);
	type = get_be16(eth->type);
	if (type == PKT_ETH_P_8021Q || type == PKT_ETH_P_8021AD) {
		struct pkt_vlan *tag = (void *)(eth + 1);

		if ((void *)(tag + 1) > data_end)
			return pass(ctx, XT_STAT_PASS_NOT_OURS);
		type = get_be16(tag->type);
		l3 += sizeof(*tag);
		tagged = 1;
	}
	if (type == PKT_ETH_P_IPV4)
		return classify_v4(ctx, cfg, l3, tagged);
	if (type == PKT_ETH_P_IPV6)
		return classify_v6(ctx, cfg, l3, tagged);
	return pass(ctx, XT_STAT_PASS_NOT_OURS);
}
