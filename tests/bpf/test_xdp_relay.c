/* The XDP program through BPF_PROG_TEST_RUN: every direction, family, cross-family and hairpin case,
 * padding and odd lengths, and every frame the fast path must leave alone. Each case states the
 * verdict, the whole output frame (built independently with pkt_build_udp) and the exact change of
 * every counter; relayed frames also have their checksums recomputed from scratch.
 *
 * FIB: nothing is routed in the suite's namespace, so bpf_fib_lookup cannot answer and the program
 * swaps the MACs (counted as fib_fallback); test_xdp_fib.c covers the answers.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include "pkt/csum.h"
#include "tests/bpf/harness.h"

/* Fallback MACs: back to where the frame came from. */
static const struct tparams out_macs = { .src_mac = t_relay_mac, .dst_mac = t_router_mac };

/* v4/v6 clients and peers, same-family and cross-family allocations. */
static struct fastpath_binding b_44, b_66, b_46, b_64;
/* Hairpins: h1 <-> h2 (IPv4), h3 (IPv6 client) <-> h4 (IPv4 client), h5 peer without a channel,
 * h6 (IPv6 client) <-> h7 (IPv4 client) through IPv6 relayed addresses (an IPv6 peer-side key built
 * from a map value). */
static struct fastpath_binding h1, h2, h3, h4, h5, h6, h7;

static int suite_init(void)
{
	const struct fastpath_binding *all[] = { &b_44, &b_66, &b_46, &b_64, &h1,
						 &h2,	&h3,   &h4,   &h5,   &h6, &h7 };

	t_config(T_FLAGS, 1500);
	b_44 = t_binding("198.18.1.2:40000", "198.18.0.1:3478", "198.18.2.3:50000",
			 "198.18.0.1:49152", 0x4001, 1);
	b_66 = t_binding("[fd98:18::1:2]:40000", "[fd98:18::1]:3478", "[fd98:18::2:3]:50000",
			 "[fd98:18::1]:49153", 0x4002, 2);
	b_46 = t_binding("198.18.1.2:40001", "198.18.0.9:3478", "[fd98:18::2:3]:50001",
			 "[fd98:18::9]:49154", 0x4003, 3);
	b_64 = t_binding("[fd98:18::1:2]:40001", "[fd98:18::9]:3478", "198.18.2.3:50001",
			 "198.18.0.9:49155", 0x4004, 4);
	h1 = t_binding("198.18.1.2:40002", "198.18.0.1:3478", "198.18.0.1:49157",
		       "198.18.0.1:49156", 0x4005, 5);
	h2 = t_binding("198.18.1.7:40003", "198.18.0.1:3478", "198.18.0.1:49156",
		       "198.18.0.1:49157", 0x4006, 6);
	h3 = t_binding("[fd98:18::1:2]:40004", "[fd98:18::1]:3478", "198.18.0.9:49159",
		       "198.18.0.9:49158", 0x4007, 7);
	h4 = t_binding("198.18.1.7:40005", "198.18.0.9:3478", "198.18.0.9:49158",
		       "198.18.0.9:49159", 0x4008, 8);
	h5 = t_binding("198.18.1.2:40006", "198.18.0.1:3478", "198.18.0.1:49160",
		       "198.18.0.1:49161", 0x4009, 9);
	h6 = t_binding("[fd98:18::1:2]:40007", "[fd98:18::1]:3478", "[fd98:18::1]:49163",
		       "[fd98:18::1]:49162", 0x400A, 10);
	h7 = t_binding("198.18.1.7:40008", "198.18.0.1:3478", "[fd98:18::1]:49162",
		       "[fd98:18::1]:49163", 0x400B, 11);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (fastpath__install(t_relay, all[i]) ||
		    xdp_relay__mark_port(t_relay, xt_addr_port(&all[i]->relay), true))
			return -1;
	/* h5's peer is an allocated port of ours whose allocation has a permission for h5's relayed
	 * address but no channel: chan4_by_peer has no (198.18.0.1:49161 → 198.18.0.1:49160). */
	if (xdp_relay__mark_port(t_relay, 49160, true))
		return -1;
	return 0;
}

/* Runs in; checks the verdict, the whole output (want NULL: the frame must come out as it went
 * in) and the counters. Relayed frames must also carry right checksums, recomputed from scratch. */
static void expect(const struct tframe *in, int verdict, const struct tframe *want,
		   const struct tdelta *d, size_t n)
{
	struct tstats before, after;
	struct tframe out;
	int rc;

	t_stats(&before);
	rc = t_run(in, &out, 0);
	t_stats(&after);
	if (rc != verdict)
		printf("\n    verdict %d, want %d", rc, verdict);
	CU_ASSERT_EQUAL(rc, verdict);
	CU_ASSERT(t_frames_equal(&out, want ? want : in));
	if (verdict == XDP_TX || verdict == XDP_REDIRECT)
		CU_ASSERT(t_checksums_ok(&out));
	CU_ASSERT(t_stats_changed_by(&before, &after, d, n));
}

static int v6(const struct xt_addr *a)
{
	return a->family == XT_AF_INET6;
}

/* The IP fields a relayed packet gets (RFC 8656 §14): TOS/traffic class copied, TTL one less per
 * relay hop, DF copied from IPv4 and set from IPv6, the IPv4 ID kept only from IPv4 to IPv4. */
static struct tparams relayed(const struct tparams *in, int in_v6, int out_v6, int hops)
{
	struct tparams p = out_macs;

	p.tos = in->tos;
	p.ttl = (__u8)((in->ttl ? in->ttl : 64) - hops);
	p.ip_id = !in_v6 && !out_v6 ? in->ip_id : 0;
	p.no_df = in_v6 ? false : in->no_df;
	return p;
}

/* pkt_build_udp() reads TTL 0 as "default": a relayed TTL of 0 is patched in afterwards. */
static void build_out(struct tframe *f, const struct xt_addr *src, const struct xt_addr *dst,
		      const void *payload, size_t len, const struct tparams *p)
{
	t_build(f, src, dst, payload, len, p);
	if (p->ttl == 0 && src->family == XT_AF_INET) {
		struct pkt_ipv4 *ip = (struct pkt_ipv4 *)(f->b + 14);

		ip->ttl = 0;
		put_be16(ip->check, 0);
		put_be16(ip->check, ipv4_header_csum(ip));
	} else if (p->ttl == 0) {
		f->b[14 + 7] = 0;
	}
}

static void check_c2p(const struct fastpath_binding *b, size_t len, size_t pad,
		      const struct tparams *p)
{
	static __u8 data[2048], payload[2048];
	struct tframe in, want;
	struct tparams op = relayed(p, v6(&b->client), v6(&b->peer), 1);
	size_t plen;

	t_fill(data, len, (unsigned int)(len * 4 + pad));
	plen = t_channel_data(payload, b->channel, data, len, pad);
	t_build(&in, &b->client, &b->listen, payload, plen, p);
	build_out(&want, &b->relay, &b->peer, data, len, &op);
	{
		const struct tdelta d[] = {
			{ v6(&b->client) ? XT_STAT_RELAY_C2P_V6 : XT_STAT_RELAY_C2P_V4, 1, len },
			{ XT_STAT_FIB_FALLBACK, 1, len },
		};
		expect(&in, XDP_TX, &want, d, 2);
	}
}

static void check_p2c(const struct fastpath_binding *b, size_t len, const struct tparams *p)
{
	static __u8 data[2048], payload[2048];
	struct tframe in, want;
	struct tparams op = relayed(p, v6(&b->peer), v6(&b->client), 1);
	size_t plen;

	t_fill(data, len, (unsigned int)len + 7);
	plen = t_channel_data(payload, b->channel, data, len, 0);
	t_build(&in, &b->peer, &b->relay, data, len, p);
	build_out(&want, &b->listen, &b->client, payload, plen, &op);
	{
		const struct tdelta d[] = {
			{ v6(&b->peer) ? XT_STAT_RELAY_P2C_V6 : XT_STAT_RELAY_P2C_V4, 1, len },
			{ XT_STAT_FIB_FALLBACK, 1, len },
		};
		expect(&in, XDP_TX, &want, d, 2);
	}
}

/* Client of a sends to a's peer, which is b's relayed address: b's client receives. */
static void check_hairpin(const struct fastpath_binding *a, const struct fastpath_binding *b,
			  size_t len, size_t pad, const struct tparams *p)
{
	static __u8 data[2048], payload[2048], out_payload[2048];
	struct tframe in, want;
	struct tparams op = relayed(p, v6(&a->client), v6(&b->client), 2);
	size_t plen, olen;

	t_fill(data, len, (unsigned int)len + 11);
	plen = t_channel_data(payload, a->channel, data, len, pad);
	olen = t_channel_data(out_payload, b->channel, data, len, 0);
	t_build(&in, &a->client, &a->listen, payload, plen, p);
	build_out(&want, &b->listen, &b->client, out_payload, olen, &op);
	{
		const struct tdelta d[] = { { XT_STAT_RELAY_HAIRPIN, 1, len },
					    { XT_STAT_FIB_FALLBACK, 1, len } };
		expect(&in, XDP_TX, &want, d, 2);
	}
}

/* A frame that must reach user space untouched for the given reason (no AF_XDP socket is
 * registered in this suite: the redirect falls back to XDP_PASS, counted as xsk_missing). */
static void expect_user(const struct tframe *in, int reason)
{
	const struct tdelta d[] = { { reason, 1, in->len }, { XT_STAT_XSK_MISSING, 1, in->len } };

	expect(in, XDP_PASS, NULL, d, 2);
}

static void expect_pass(const struct tframe *in, int reason)
{
	const struct tdelta d[] = { { reason, 1, in->len } };

	expect(in, XDP_PASS, NULL, d, 1);
}

static void expect_drop(const struct tframe *in, int reason)
{
	const struct tdelta d[] = { { reason, 1, in->len } };

	expect(in, XDP_DROP, NULL, d, 1);
}

static void channel_frame(struct tframe *f, const struct fastpath_binding *b, size_t len,
			  size_t pad, const struct tparams *p)
{
	__u8 data[2048], payload[2048];
	size_t plen;

	t_fill(data, len, 3);
	plen = t_channel_data(payload, b->channel, data, len, pad);
	t_build(f, &b->client, &b->listen, payload, plen, p);
}

static void peer_frame(struct tframe *f, const struct fastpath_binding *b, size_t len,
		       const struct tparams *p)
{
	__u8 data[2048];

	t_fill(data, len, 5);
	t_build(f, &b->peer, &b->relay, data, len, p);
}

/* Re-finishes an IPv4 header after a test edited it. */
static void fix_ip4(struct tframe *f, size_t l3)
{
	struct pkt_ipv4 *ip = (struct pkt_ipv4 *)(f->b + l3);

	put_be16(ip->check, 0);
	put_be16(ip->check, ipv4_header_csum(ip));
}

/* ---- relayed ---- */

static const struct tparams typical = { .tos = 0xB9, .ip_id = 0x1234 };

static void test_c2p_v4(void)
{
	check_c2p(&b_44, 100, 0, &typical);
}

static void test_c2p_v6(void)
{
	check_c2p(&b_66, 100, 0, &typical);
}

static void test_c2p_v4_client_v6_peer(void)
{
	check_c2p(&b_46, 100, 0, &typical);
}

static void test_c2p_v6_client_v4_peer(void)
{
	check_c2p(&b_64, 100, 0, &typical);
}

static void test_p2c_v4(void)
{
	check_p2c(&b_44, 100, &typical);
}

static void test_p2c_v6(void)
{
	check_p2c(&b_66, 100, &typical);
}

static void test_p2c_v6_peer_v4_client(void)
{
	check_p2c(&b_46, 100, &typical);
}

static void test_p2c_v4_peer_v6_client(void)
{
	check_p2c(&b_64, 100, &typical);
}

static void test_hairpin_v4(void)
{
	check_hairpin(&h1, &h2, 100, 0, &typical);
	check_hairpin(&h2, &h1, 37, 3, &typical);
}

static void test_hairpin_cross_family(void)
{
	check_hairpin(&h3, &h4, 100, 0, &typical); /* IPv6 client in, IPv4 client out */
	check_hairpin(&h4, &h3, 101, 3, &typical); /* and back */
}

static void test_hairpin_ipv6_relayed(void)
{
	check_hairpin(&h6, &h7, 100, 0, &typical); /* IPv6 client in, IPv4 client out */
	check_hairpin(&h7, &h6, 33, 3, &typical);  /* and back */
}

static void test_hairpin_peer_without_channel(void)
{
	struct tframe f;

	channel_frame(&f, &h5, 50, 2, NULL);
	expect_user(&f, XT_STAT_USER_HAIRPIN);
}

/* Every data length 0..12 with every padding 0..3 (odd lengths put the first padding byte in the
 * low half of a checksum word), both families and both cross-family allocations, and hairpins. */
static void test_padding_and_odd_lengths(void)
{
	const struct fastpath_binding *bs[] = { &b_44, &b_66, &b_46, &b_64 };

	for (size_t i = 0; i < 4; i++)
		for (size_t len = 0; len <= 12; len++)
			for (size_t pad = 0; pad <= 3; pad++)
				check_c2p(bs[i], len, pad, &typical);
	for (size_t len = 0; len <= 9; len++)
		for (size_t pad = 0; pad <= 3; pad++) {
			check_hairpin(&h1, &h2, len, pad, &typical);
			check_hairpin(&h3, &h4, len, pad, &typical);
			check_hairpin(&h4, &h3, len, pad, &typical);
		}
}

static void test_p2c_lengths(void)
{
	const struct fastpath_binding *bs[] = { &b_44, &b_66, &b_46, &b_64 };
	const size_t lens[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 511, 1000, 1401 };

	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++)
			check_p2c(bs[i], lens[j], &typical);
}

/* Ports at the top of the range: their words are the largest a checksum sum meets (a 32-bit
 * intermediate sum of the ports and length overflowed once, for relay ports 65535, 65279, 65023). */
static void test_extreme_ports(void)
{
	static const char *const relays[][2] = { { "198.18.0.1:65535", "[fd98:18::1]:65535" },
						  { "198.18.0.1:65279", "[fd98:18::1]:65279" },
						  { "198.18.0.1:65023", "[fd98:18::1]:65023" } };
	const size_t lens[] = { 0, 1, 100, 1001 };
	struct xt_config cfg;

	CU_ASSERT_EQUAL_FATAL(xdp_relay__get_config(t_relay, &cfg), 0);
	put_be16(cfg.port_max, 65535);
	CU_ASSERT_EQUAL_FATAL(xdp_relay__set_config(t_relay, &cfg), 0);
	for (size_t i = 0; i < 3; i++) {
		struct fastpath_binding bs[] = {
			t_binding("198.18.1.2:65535", "198.18.0.1:3478", "198.18.2.3:65535",
				  relays[i][0], 0x7FFF, 0),
			t_binding("[fd98:18::1:2]:65535", "[fd98:18::1]:3478",
				  "[fd98:18::2:3]:65279", relays[i][1], 0x4FFF, 0),
			t_binding("198.18.1.2:65279", "198.18.0.1:3478", "[fd98:18::2:3]:65535",
				  relays[i][1], 0x4FFE, 0),
			t_binding("[fd98:18::1:2]:65279", "[fd98:18::1]:3478", "198.18.2.3:65279",
				  relays[i][0], 0x4FFD, 0),
		};

		for (size_t k = 0; k < 4; k++) {
			CU_ASSERT_EQUAL_FATAL(fastpath__install(t_relay, &bs[k]), 0);
			CU_ASSERT_EQUAL_FATAL(
				xdp_relay__mark_port(t_relay, xt_addr_port(&bs[k].relay), true), 0);
			for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
				check_c2p(&bs[k], lens[j], lens[j] & 3, &typical);
				check_p2c(&bs[k], lens[j], &typical);
			}
			CU_ASSERT_EQUAL(fastpath__remove(t_relay, &bs[k]), 0);
			CU_ASSERT_EQUAL(
				xdp_relay__mark_port(t_relay, xt_addr_port(&bs[k].relay), false), 0);
		}
	}
	t_config(T_FLAGS, 1500);
}

/* Longest datagrams a 1500-byte MTU carries in each shape. */
static void test_full_size(void)
{
	check_c2p(&b_44, 1500 - 20 - 8 - 4, 0, &typical);
	check_p2c(&b_44, 1500 - 20 - 8 - 4, &typical);
	check_c2p(&b_66, 1500 - 40 - 8 - 4, 0, &typical);
	check_p2c(&b_66, 1500 - 40 - 8 - 4, &typical);
}

static void test_ip_fields(void)
{
	const struct tparams no_df = { .tos = 0x03, .ttl = 200, .ip_id = 0xBEEF, .no_df = true };
	const struct tparams ttl1 = { .ttl = 1, .ip_id = 7 };

	check_c2p(&b_44, 20, 0, &no_df); /* DF and ID copied, ECN bits kept */
	check_p2c(&b_44, 20, &no_df);
	check_p2c(&b_64, 20, &no_df);	 /* into IPv6: traffic class 0x03 */
	check_c2p(&b_64, 20, 0, &no_df); /* from IPv6: DF set, ID 0 */
	check_c2p(&b_44, 20, 0, &ttl1);	 /* TTL 1 leaves with 0 (RFC 8656 §14: discard only 0) */
}

static void test_ttl_exhausted(void)
{
	struct tframe f;

	channel_frame(&f, &b_44, 20, 0, NULL);
	f.b[14 + 8] = 0; /* TTL */
	fix_ip4(&f, 14);
	expect_drop(&f, XT_STAT_DROP_TTL);

	/* A hairpin is two relay hops. */
	channel_frame(&f, &h1, 20, 0, &(struct tparams){ .ttl = 1 });
	expect_drop(&f, XT_STAT_DROP_TTL);

	peer_frame(&f, &b_66, 20, NULL);
	f.b[14 + 7] = 0; /* hop limit */
	expect_drop(&f, XT_STAT_DROP_TTL);
}

/* Short frames are padded to 60 bytes on Ethernet; the relayed frame carries exactly the data. */
static void test_ethernet_trailer(void)
{
	__u8 data[8], payload[16];
	struct tframe in, want;
	struct tparams op = relayed(&typical, 0, 0, 1);
	size_t plen;

	t_fill(data, 1, 1);
	plen = t_channel_data(payload, b_44.channel, data, 1, 3);
	t_build(&in, &b_44.client, &b_44.listen, payload, plen, &typical);
	for (; in.len < 60; in.len++)
		in.b[in.len] = (__u8)(0xE0 + in.len); /* garbage, not zeros */
	t_build(&want, &b_44.relay, &b_44.peer, data, 1, &op);
	{
		const struct tdelta d[] = { { XT_STAT_RELAY_C2P_V4, 1, 1 },
					    { XT_STAT_FIB_FALLBACK, 1, 1 } };
		expect(&in, XDP_TX, &want, d, 2);
	}
}

/* The checksum is updated, never recomputed: damage done on the way stays detectable, and undoing
 * the damage in the output gives exactly the right frame. */
static void test_corruption_stays_detectable(void)
{
	__u8 data[64], payload[80];
	struct tframe in, out, want;
	struct tparams op = relayed(&typical, 0, 1, 1);
	size_t plen;
	int rc;

	t_fill(data, 40, 9);
	plen = t_channel_data(payload, b_46.channel, data, 40, 0);
	t_build(&in, &b_46.client, &b_46.listen, payload, plen, &typical);
	t_build(&want, &b_46.relay, &b_46.peer, data, 40, &op);
	in.b[14 + 20 + 8 + 4 + 17] ^= 0x40; /* data byte 17 */
	rc = t_run(&in, &out, 0);
	CU_ASSERT_EQUAL(rc, XDP_TX);
	CU_ASSERT_FALSE(t_checksums_ok(&out));
	CU_ASSERT_EQUAL_FATAL(out.len, want.len);
	out.b[14 + 40 + 8 + 17] ^= 0x40;
	CU_ASSERT(t_frames_equal(&out, &want));
}

/* Random shapes: direction, families, length, padding and header fields, against pkt_build_udp. */
static void test_random_frames(void)
{
	const struct fastpath_binding *bs[] = { &b_44, &b_66, &b_46, &b_64 };
	unsigned int seed = 12345;

	for (int i = 0; i < 400; i++) {
		struct tparams p = { 0 };
		size_t len, pad;
		int which, dir;

		seed = seed * 1103515245u + 12345u;
		which = (int)(seed >> 16) % 4;
		dir = (int)(seed >> 20) & 1;
		len = (seed >> 8) % 1400;
		pad = (seed >> 4) & 3;
		p.tos = (__u8)(seed >> 24);
		p.ttl = (__u8)(2 + (seed >> 3) % 250);
		p.ip_id = (__u16)(seed >> 12);
		p.no_df = (seed >> 27) & 1;
		if (dir)
			check_p2c(bs[which], len, &p);
		else
			check_c2p(bs[which], len, pad, &p);
	}
}

/* ---- dropped ---- */

static void test_channel_length_past_datagram(void)
{
	struct tframe f;

	channel_frame(&f, &b_44, 100, 0, NULL);
	put_be16(f.b + 14 + 20 + 8 + 2, 101);
	/* The UDP checksum is left stale on purpose: the length check comes first. */
	expect_drop(&f, XT_STAT_DROP_CHANNEL_LEN);
	channel_frame(&f, &b_66, 3, 1, NULL);
	put_be16(f.b + 14 + 40 + 8 + 2, 5);
	expect_drop(&f, XT_STAT_DROP_CHANNEL_LEN);
}

static void test_bad_ipv4_header_checksum(void)
{
	struct tframe f;

	channel_frame(&f, &b_44, 100, 0, NULL);
	f.b[14 + 10] ^= 1;
	expect_drop(&f, XT_STAT_DROP_IP_CSUM);
}

/* ---- to user space, untouched ---- */

static void test_unknown_channel(void)
{
	struct fastpath_binding b = b_44;
	struct tframe f;

	b.channel = 0x4FFF;
	channel_frame(&f, &b, 60, 0, NULL);
	expect_user(&f, XT_STAT_USER_NO_CHANNEL);
	/* Bound channel number, other client port. */
	b = b_44;
	xt_addr_set_port(&b.client, 40999);
	channel_frame(&f, &b, 60, 0, NULL);
	expect_user(&f, XT_STAT_USER_NO_CHANNEL);
}

static void test_not_channel_data(void)
{
	/* A STUN Binding request header (RFC 8489 §5), first bits 10 (neither STUN nor ChannelData,
	 * RFC 7983), a 3-byte datagram. */
	static const __u8 stun[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4,
				       5,    6,	   7,	 8,    9,    10,   11,	 12 };
	static const __u8 reserved[8] = { 0x80, 0x00, 0x00, 0x04, 1, 2, 3, 4 };
	static const __u8 legacy[8] = { 0x50, 0x00, 0x00, 0x04, 1, 2, 3, 4 };
	struct tframe f;

	t_build(&f, &b_44.client, &b_44.listen, stun, sizeof(stun), NULL);
	expect_user(&f, XT_STAT_USER_STUN);
	t_build(&f, &b_66.client, &b_66.listen, reserved, sizeof(reserved), NULL);
	expect_user(&f, XT_STAT_USER_STUN);
	t_build(&f, &b_44.client, &b_44.listen, stun, 3, NULL);
	expect_user(&f, XT_STAT_USER_STUN);
	/* RFC 5766's channel range is ChannelData: unbound here, so user space decides. */
	t_build(&f, &b_66.client, &b_66.listen, legacy, sizeof(legacy), NULL);
	expect_user(&f, XT_STAT_USER_NO_CHANNEL);
}

static void test_padding_longer_than_3(void)
{
	struct tframe f;

	channel_frame(&f, &b_44, 8, 4, NULL);
	expect_user(&f, XT_STAT_USER_PADDING);
}

static void test_allocated_port_without_channel(void)
{
	struct fastpath_binding b = b_44;
	struct tframe f;

	b.peer = t_addr("198.18.2.99:50000");
	peer_frame(&f, &b, 80, NULL);
	expect_user(&f, XT_STAT_USER_NO_CHANNEL);
	/* The bound peer's address from another port: a permission at most, no channel. */
	b.peer = b_44.peer;
	xt_addr_set_port(&b.peer, 50999);
	peer_frame(&f, &b, 80, NULL);
	expect_user(&f, XT_STAT_USER_NO_CHANNEL);
}

static void test_fragments(void)
{
	struct tframe f;

	channel_frame(&f, &b_44, 100, 0, NULL);
	put_be16(f.b + 14 + 6, PKT_IPV4_MF);
	fix_ip4(&f, 14);
	expect_user(&f, XT_STAT_USER_FRAGMENT);
	channel_frame(&f, &b_44, 100, 0, NULL);
	put_be16(f.b + 14 + 6, 185); /* a later fragment: no UDP header in it */
	fix_ip4(&f, 14);
	expect_user(&f, XT_STAT_USER_FRAGMENT);
	peer_frame(&f, &b_44, 100, NULL);
	put_be16(f.b + 14 + 6, PKT_IPV4_MF);
	fix_ip4(&f, 14);
	expect_user(&f, XT_STAT_USER_FRAGMENT);
}

/* Inserts an 8-byte IPv6 extension header of type ext in front of the UDP header. */
static void insert_ipv6_ext(struct tframe *f, __u8 ext, __u16 frag_off)
{
	struct pkt_ipv6 *ip6 = (struct pkt_ipv6 *)(f->b + 14);
	__u8 *h = f->b + 14 + 40;

	memmove(h + 8, h, f->len - 54);
	f->len += 8;
	memset(h, 0, 8);
	h[0] = ip6->nexthdr;
	if (ext == PKT_IPV6_HDR_FRAGMENT) {
		put_be16(h + 2, frag_off);
		put_be32(h + 4, 0xABCD);
	} else {
		h[2] = 1; /* PadN option of 4 bytes */
		h[3] = 4;
	}
	ip6->nexthdr = ext;
	put_be16(ip6->payload_len, (__u16)(get_be16(ip6->payload_len) + 8));
}

static void test_ipv6_extension_headers(void)
{
	struct tframe f;

	channel_frame(&f, &b_66, 100, 0, NULL);
	insert_ipv6_ext(&f, PKT_IPV6_HDR_HOPOPTS, 0);
	expect_user(&f, XT_STAT_USER_IPV6_EXT);
	channel_frame(&f, &b_66, 100, 0, NULL);
	insert_ipv6_ext(&f, PKT_IPV6_HDR_DSTOPTS, 0);
	expect_user(&f, XT_STAT_USER_IPV6_EXT);
	peer_frame(&f, &b_66, 100, NULL);
	insert_ipv6_ext(&f, PKT_IPV6_HDR_FRAGMENT, 1); /* first fragment, M flag */
	expect_user(&f, XT_STAT_USER_FRAGMENT);
	peer_frame(&f, &b_66, 100, NULL);
	insert_ipv6_ext(&f, PKT_IPV6_HDR_FRAGMENT, 64 << 3); /* a later one */
	expect_user(&f, XT_STAT_USER_FRAGMENT);
	/* Extension header in front of UDP to a free port: still the kernel's. */
	{
		struct xt_addr dns = t_addr("[fd98:18::1]:49800");
		struct xt_addr from = t_addr("[fd98:18::53]:53");
		__u8 data[20] = { 0 };

		t_build(&f, &from, &dns, data, sizeof(data), NULL);
		insert_ipv6_ext(&f, PKT_IPV6_HDR_HOPOPTS, 0);
		expect_pass(&f, XT_STAT_PASS_PORT_FREE);
	}
}

static void test_ipv4_options(void)
{
	struct tframe f;
	__u8 *ip;

	channel_frame(&f, &b_44, 100, 0, NULL);
	ip = f.b + 14;
	memmove(ip + 24, ip + 20, f.len - 34);
	f.len += 4;
	memcpy(ip + 20, "\x01\x01\x01\x00", 4); /* NOP NOP NOP EOL */
	ip[0] = 0x46;
	put_be16(ip + 2, (__u16)(get_be16(ip + 2) + 4));
	fix_ip4(&f, 14);
	expect_user(&f, XT_STAT_USER_IP_OPTIONS);
}

static void test_zero_udp_checksum(void)
{
	struct tframe f;

	channel_frame(&f, &b_44, 100, 0, NULL);
	put_be16(f.b + 14 + 20 + 6, 0);
	expect_user(&f, XT_STAT_USER_ZERO_CSUM);
	peer_frame(&f, &b_44, 100, NULL);
	put_be16(f.b + 14 + 20 + 6, 0);
	expect_user(&f, XT_STAT_USER_ZERO_CSUM);
	peer_frame(&f, &b_66, 100, NULL);
	put_be16(f.b + 14 + 40 + 6, 0);
	expect_user(&f, XT_STAT_USER_ZERO_CSUM);
}

static void test_vlan(void)
{
	const struct tparams tag = { .vlan = true };
	struct tframe f;
	__u8 data[30] = { 0 };

	channel_frame(&f, &b_44, 100, 0, &tag);
	expect_user(&f, XT_STAT_USER_VLAN);
	peer_frame(&f, &b_66, 100, &tag);
	expect_user(&f, XT_STAT_USER_VLAN);
	{
		struct xt_addr to = t_addr("198.18.0.1:49700"), from = t_addr("198.18.9.53:53");

		t_build(&f, &from, &to, data, sizeof(data), &tag);
		expect_pass(&f, XT_STAT_PASS_PORT_FREE);
	}
}

static void test_udp_length_mismatch(void)
{
	struct tframe f;

	channel_frame(&f, &b_44, 100, 0, NULL);
	put_be16(f.b + 14 + 20 + 4, (__u16)(get_be16(f.b + 14 + 20 + 4) - 2));
	expect_user(&f, XT_STAT_USER_BAD_LENGTH);
	peer_frame(&f, &b_66, 100, NULL);
	put_be16(f.b + 14 + 4, (__u16)(get_be16(f.b + 14 + 4) + 2)); /* IPv6 payload past frame */
	expect_user(&f, XT_STAT_USER_BAD_LENGTH);
}

static void test_mtu(void)
{
	t_config(T_FLAGS, 100);
	{
		struct tframe f;

		peer_frame(&f, &b_44, 100, NULL); /* 20 + 8 + 4 + 100 > 100 */
		expect_user(&f, XT_STAT_USER_MTU);
		channel_frame(&f, &b_46, 60, 0, NULL); /* 40 + 8 + 60 > 100 */
		expect_user(&f, XT_STAT_USER_MTU);
	}
	check_c2p(&b_44, 72, 0, &typical); /* 20 + 8 + 72 = 100 fits */
	t_config(T_FLAGS, 1500);
}

static void test_fast_path_disabled(void)
{
	struct tframe f;

	t_config(0, 1500);
	channel_frame(&f, &b_44, 100, 0, NULL);
	expect_user(&f, XT_STAT_USER_DISABLED);
	peer_frame(&f, &b_66, 100, NULL);
	expect_user(&f, XT_STAT_USER_DISABLED);
	t_config(T_FLAGS, 1500);
}

static void test_unconfigured_program_is_transparent(void)
{
	struct xt_config cfg;
	struct tframe f;

	memset(&cfg, 0, sizeof(cfg));
	CU_ASSERT_EQUAL(xdp_relay__set_config(t_relay, &cfg), 0);
	channel_frame(&f, &b_44, 100, 0, NULL);
	expect(&f, XDP_PASS, NULL, NULL, 0);
	t_config(T_FLAGS, 1500);
}

static void test_no_fib_flag(void)
{
	t_config(T_FLAGS | XT_CFG_NO_FIB, 1500);
	check_c2p(&b_44, 64, 1, &typical);
	check_p2c(&b_66, 64, &typical);
	t_config(T_FLAGS, 1500);
}

/* Over quota the fast path drops (user space would let it through: it never saw these bytes). */
static void test_quota(void)
{
	struct tframe f;

	t_config(T_FLAGS | XT_CFG_QUOTA, 1500);
	CU_ASSERT_EQUAL(fastpath__set_quota(t_relay, b_44.alloc_id, 0, 150), 0);
	check_c2p(&b_44, 100, 0, &typical); /* 150 - 100 = 50 left */
	peer_frame(&f, &b_44, 100, NULL);
	expect_drop(&f, XT_STAT_DROP_QUOTA);
	check_p2c(&b_44, 50, &typical);	    /* exactly what is left */
	check_p2c(&b_66, 100, &typical);    /* other allocation: no bucket, no limit */
	/* A refilling bucket: 1 GB/s refills 100 bytes in 100 ns, long before the next frame. */
	CU_ASSERT_EQUAL(fastpath__set_quota(t_relay, b_44.alloc_id, 1000000000, 100), 0);
	for (int i = 0; i < 3; i++)
		check_p2c(&b_44, 100, &typical);
	/* A hairpin spends from both allocations. */
	CU_ASSERT_EQUAL(fastpath__set_quota(t_relay, h2.alloc_id, 0, 10), 0);
	channel_frame(&f, &h1, 20, 0, NULL);
	expect_drop(&f, XT_STAT_DROP_QUOTA);
	CU_ASSERT_EQUAL(fastpath__clear_quota(t_relay, h2.alloc_id), 0);
	CU_ASSERT_EQUAL(fastpath__clear_quota(t_relay, b_44.alloc_id), 0);
	t_config(T_FLAGS, 1500);
	check_hairpin(&h1, &h2, 20, 0, &typical);
}

/* ---- passed to the kernel ---- */

static void test_free_port_in_range_passes(void)
{
	struct xt_addr to = t_addr("198.18.0.1:49500"), from = t_addr("198.18.9.53:53");
	struct xt_addr to6 = t_addr("[fd98:18::1]:49999"), from6 = t_addr("[fd98:18::53]:53");
	__u8 answer[48];
	struct tframe f;

	t_fill(answer, sizeof(answer), 2);
	t_build(&f, &from, &to, answer, sizeof(answer), NULL);
	expect_pass(&f, XT_STAT_PASS_PORT_FREE);
	t_build(&f, &from6, &to6, answer, sizeof(answer), NULL);
	expect_pass(&f, XT_STAT_PASS_PORT_FREE);
	/* Allocation ends: the port is the kernel's again. */
	CU_ASSERT_EQUAL(xdp_relay__mark_port(t_relay, 49500, true), 0);
	t_build(&f, &from, &to, answer, sizeof(answer), NULL);
	expect_user(&f, XT_STAT_USER_NO_CHANNEL);
	CU_ASSERT_EQUAL(xdp_relay__mark_port(t_relay, 49500, false), 0);
	expect_pass(&f, XT_STAT_PASS_PORT_FREE);
}

static void test_not_ours_passes(void)
{
	struct fastpath_binding b = b_44;
	struct tframe f;
	__u8 data[40] = { 0 };

	b.listen = t_addr("198.18.0.2:3478"); /* not one of our addresses */
	channel_frame(&f, &b, 40, 0, NULL);
	expect_pass(&f, XT_STAT_PASS_NOT_OURS);
	b.listen = t_addr("[fd98:18::2]:3478");
	b.client = b_66.client;
	channel_frame(&f, &b, 40, 0, NULL);
	expect_pass(&f, XT_STAT_PASS_NOT_OURS);
	/* Ours, but a port outside listen and range (ssh, say, if it were UDP). */
	{
		struct xt_addr to = t_addr("198.18.0.1:22");

		t_build(&f, &b_44.client, &to, data, sizeof(data), NULL);
		expect_pass(&f, XT_STAT_PASS_NOT_OURS);
	}
}

static void test_non_udp_passes(void)
{
	struct tframe f;

	channel_frame(&f, &b_44, 40, 0, NULL);
	f.b[14 + 9] = 1; /* ICMP */
	fix_ip4(&f, 14);
	expect_pass(&f, XT_STAT_PASS_NOT_OURS);
	channel_frame(&f, &b_66, 40, 0, NULL);
	f.b[14 + 6] = 58; /* ICMPv6 */
	expect_pass(&f, XT_STAT_PASS_NOT_OURS);
	channel_frame(&f, &b_44, 40, 0, NULL);
	put_be16(f.b + 12, 0x0806); /* ARP */
	expect_pass(&f, XT_STAT_PASS_NOT_OURS);
}

/* Every truncation of relayable frames: never relayed, never changed, never a crash. */
static void test_truncated_frames(void)
{
	struct tframe full, f, out;

	for (int k = 0; k < 4; k++) {
		if (k == 0)
			channel_frame(&full, &b_44, 30, 2, NULL);
		else if (k == 1)
			channel_frame(&full, &b_66, 30, 2, NULL);
		else if (k == 2)
			peer_frame(&full, &b_44, 30, NULL);
		else
			channel_frame(&full, &b_44, 30, 2, &(struct tparams){ .vlan = true });
		for (size_t len = 14; len < full.len; len++) {
			int rc;

			memcpy(f.b, full.b, len);
			f.len = len;
			rc = t_run(&f, &out, 0);
			CU_ASSERT_EQUAL(rc, XDP_PASS);
			CU_ASSERT(t_frames_equal(&out, &f));
		}
	}
}

/* ---- the loader's map operations ---- */

static void test_loader_bindings(void)
{
	struct fastpath_binding b = b_44;

	b.channel = 0x3FFF;
	CU_ASSERT_EQUAL(fastpath__install(t_relay, &b), -EINVAL);
	b.channel = 0x8000; /* past ChannelData's range; 0x5000-0x7FFF are RFC 5766 clients' */
	CU_ASSERT_EQUAL(fastpath__install(t_relay, &b), -EINVAL);
	b.channel = 0x7FFF;
	b.peer = t_addr("198.18.2.5:1");
	CU_ASSERT_EQUAL(fastpath__install(t_relay, &b), 0);
	CU_ASSERT_EQUAL(fastpath__lookup(t_relay, &b), 0);
	CU_ASSERT_EQUAL(fastpath__remove(t_relay, &b), 0);
	b = b_44;
	b.relay = b_66.relay; /* IPv4 peer, IPv6 relayed address */
	CU_ASSERT_EQUAL(fastpath__install(t_relay, &b), -EINVAL);
	b = b_44;
	b.client.family = 0;
	CU_ASSERT_EQUAL(fastpath__install(t_relay, &b), -EINVAL);

	b = b_44;
	b.channel = 0x4abc;
	b.peer = t_addr("198.18.2.4:1");
	CU_ASSERT_EQUAL(fastpath__lookup(t_relay, &b), -ENOENT);
	CU_ASSERT_EQUAL(fastpath__install(t_relay, &b), 0);
	CU_ASSERT_EQUAL(fastpath__lookup(t_relay, &b), 0);
	CU_ASSERT_EQUAL(fastpath__install(t_relay, &b), 0); /* refresh */
	CU_ASSERT_EQUAL(fastpath__remove(t_relay, &b), 0);
	CU_ASSERT_EQUAL(fastpath__lookup(t_relay, &b), -ENOENT);
	CU_ASSERT_EQUAL(fastpath__remove(t_relay, &b), -ENOENT);
	/* After removal the channel goes to user space again. */
	{
		struct tframe f;

		channel_frame(&f, &b, 10, 0, NULL);
		expect_user(&f, XT_STAT_USER_NO_CHANNEL);
	}
	CU_ASSERT_EQUAL(fastpath__set_quota(t_relay, 0, 1, 1), -EINVAL);
	CU_ASSERT_EQUAL(fastpath__set_quota(t_relay, 1, XT_QUOTA_MAX_RATE + 1, 1), -EINVAL);
	CU_ASSERT_EQUAL(fastpath__clear_quota(t_relay, 12345), -ENOENT);
}

/* A full map: -ENOSPC, and nothing of the failed binding left behind. */
static void test_loader_map_full(void)
{
	struct xdp_relay_opts o = { .max_channels = 2 };
	struct xdp_relay *r = xdp_relay__open(&o);
	struct fastpath_binding b = b_44;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	for (int i = 0; i < 2; i++) {
		b.channel = (__u16)(0x4100 + i);
		xt_addr_set_port(&b.peer, (__u16)(1000 + i));
		CU_ASSERT_EQUAL(fastpath__install(r, &b), 0);
	}
	b.channel = 0x4102;
	xt_addr_set_port(&b.peer, 1002);
	CU_ASSERT_EQUAL(fastpath__install(r, &b), -ENOSPC);
	CU_ASSERT_EQUAL(fastpath__lookup(r, &b), -ENOENT);
	{
		struct xt_chan4_client_key ck;

		memset(&ck, 0, sizeof(ck));
		memcpy(ck.client, b.client.ip, 4);
		memcpy(ck.listen, b.listen.ip, 4);
		memcpy(ck.client_port, b.client.port, 2);
		put_be16(ck.channel, b.channel);
		CU_ASSERT_NOT_EQUAL(
			bpf_map_lookup_elem(xdp_relay__map_fd(r, XDP_RELAY_MAP_CHAN4_BY_CLIENT), &ck,
					    &(struct xt_chan_client_val){ 0 }),
			0);
	}

	/* A binding whose client side fits (chan6_by_client is empty) but whose peer side does not
	 * (chan4_by_peer is full) is refused whole. */
	b = b_64;
	CU_ASSERT_EQUAL(fastpath__install(r, &b), -ENOSPC);
	CU_ASSERT_EQUAL(fastpath__lookup(r, &b), -ENOENT);
	xdp_relay__destroy(r);
	r = xdp_relay__open(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	for (int i = 0; i < 2; i++) {
		b = b_46; /* IPv4 client, IPv6 peer: fills chan4_by_client and chan6_by_peer */
		b.channel = (__u16)(0x4200 + i);
		xt_addr_set_port(&b.peer, (__u16)(2000 + i));
		CU_ASSERT_EQUAL(fastpath__install(r, &b), 0);
	}
	/* ...then an IPv6 client with an IPv6 peer finds room on its client side (chan6_by_client)
	 * but none on the peer side: -ENOSPC, and its client entry is taken back out. */
	b = b_66;
	CU_ASSERT_EQUAL(fastpath__install(r, &b), -ENOSPC);
	CU_ASSERT_EQUAL(fastpath__lookup(r, &b), -ENOENT);
	{
		struct xt_chan6_client_key key;

		CU_ASSERT_EQUAL(bpf_map_get_next_key(
					xdp_relay__map_fd(r, XDP_RELAY_MAP_CHAN6_BY_CLIENT), NULL, &key),
				-ENOENT); /* empty */
	}
	xdp_relay__destroy(r);
}

static void test_loader_config_and_names(void)
{
	struct xt_config cfg, back;
	struct xt_addr a = t_addr("198.18.0.1:0");

	xt_config__init(&cfg, 50000, 49152, 65535, 0);
	CU_ASSERT_EQUAL(xdp_relay__set_config(t_relay, &cfg), -EINVAL); /* listen inside range */
	xt_config__init(&cfg, 3478, 60000, 50000, 0);
	CU_ASSERT_EQUAL(xdp_relay__set_config(t_relay, &cfg), -EINVAL); /* unordered */
	xt_config__init(&cfg, 3478, 49152, 65535, 0);
	for (int i = 0; i < XT_MAX_ADDRS_V4; i++)
		CU_ASSERT_EQUAL(xt_config__add_addr(&cfg, &a), 0);
	CU_ASSERT_EQUAL(xt_config__add_addr(&cfg, &a), -ENOSPC);
	a.family = 0;
	CU_ASSERT_EQUAL(xt_config__add_addr(&cfg, &a), -EINVAL);
	t_config(T_FLAGS, 1400);
	CU_ASSERT_EQUAL(xdp_relay__get_config(t_relay, &back), 0);
	CU_ASSERT_EQUAL(get_be16(back.mtu), 1400);
	CU_ASSERT_EQUAL(back.n_v4, 2);
	CU_ASSERT_EQUAL(back.n_v6, 2);
	t_config(T_FLAGS, 1500);
	for (unsigned int i = 0; i < XT_STAT_COUNT; i++)
		CU_ASSERT_PTR_NOT_NULL(xdp_relay__stat_name(i));
	CU_ASSERT_PTR_NULL(xdp_relay__stat_name(XT_STAT_COUNT));
	CU_ASSERT(xdp_relay__map_fd(t_relay, XDP_RELAY_MAP_STATS) >= 0);
	CU_ASSERT_EQUAL(xdp_relay__attach(t_relay, "xtC-no-such-if", XDP_RELAY_MODE_AUTO), -ENODEV);
	CU_ASSERT_PTR_NOT_NULL(strstr(xdp_relay__errmsg(), "no such interface"));
}

#define T(fn) { #fn, fn }
static CU_TestInfo tests[] = {
	T(test_c2p_v4),
	T(test_c2p_v6),
	T(test_c2p_v4_client_v6_peer),
	T(test_c2p_v6_client_v4_peer),
	T(test_p2c_v4),
	T(test_p2c_v6),
	T(test_p2c_v6_peer_v4_client),
	T(test_p2c_v4_peer_v6_client),
	T(test_hairpin_v4),
	T(test_hairpin_cross_family),
	T(test_hairpin_ipv6_relayed),
	T(test_hairpin_peer_without_channel),
	T(test_padding_and_odd_lengths),
	T(test_p2c_lengths),
	T(test_extreme_ports),
	T(test_full_size),
	T(test_ip_fields),
	T(test_ttl_exhausted),
	T(test_ethernet_trailer),
	T(test_corruption_stays_detectable),
	T(test_random_frames),
	T(test_channel_length_past_datagram),
	T(test_bad_ipv4_header_checksum),
	T(test_unknown_channel),
	T(test_not_channel_data),
	T(test_padding_longer_than_3),
	T(test_allocated_port_without_channel),
	T(test_fragments),
	T(test_ipv6_extension_headers),
	T(test_ipv4_options),
	T(test_zero_udp_checksum),
	T(test_vlan),
	T(test_udp_length_mismatch),
	T(test_mtu),
	T(test_fast_path_disabled),
	T(test_unconfigured_program_is_transparent),
	T(test_no_fib_flag),
	T(test_quota),
	T(test_free_port_in_range_passes),
	T(test_not_ours_passes),
	T(test_non_udp_passes),
	T(test_truncated_frames),
	T(test_loader_bindings),
	T(test_loader_map_full),
	T(test_loader_config_and_names),
	CU_TEST_INFO_NULL,
};

int test_xdp_relay_register(void)
{
	CU_SuiteInfo suites[] = {
		{ "xdp_relay", suite_init, NULL, NULL, NULL, tests },
		CU_SUITE_INFO_NULL,
	};

	return CU_register_suites(suites) == CUE_SUCCESS ? 0 : -1;
}
