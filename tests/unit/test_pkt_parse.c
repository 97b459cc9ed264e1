/* pkt_parse(): a table of good and bad frames (every refusal reason), and truncation at every length. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>
#include "pkt/build.h"
#include "pkt/csum.h"
#include "pkt/parse.h"

static const __u8 mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const __u8 mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const __u8 v4_a[4] = { 198, 18, 0, 1 }, v4_b[4] = { 198, 18, 0, 2 };
static const __u8 v6_a[16] = { 0xfd, 0x98, 0, 0x18, [15] = 1 };
static const __u8 v6_b[16] = { 0xfd, 0x98, 0, 0x18, [15] = 2 };

struct frame {
	__u8 b[2048];
	size_t len;
};

static void spec_for(struct pkt_frame_spec *s, int family, bool vlan)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->src_mac, mac_a, 6);
	memcpy(s->dst_mac, mac_b, 6);
	if (family == XT_AF_INET) {
		xt_addr_set_v4(&s->src, v4_a, 50000);
		xt_addr_set_v4(&s->dst, v4_b, 3478);
	} else {
		xt_addr_set_v6(&s->src, v6_a, 50000);
		xt_addr_set_v6(&s->dst, v6_b, 3478);
	}
	s->has_vlan = vlan;
	s->vlan_tci = 0x0123;
	s->dont_fragment = true;
}

static void build(struct frame *f, int family, bool vlan, size_t payload_len)
{
	struct pkt_frame_spec s;
	__u8 payload[1500];
	int n;

	for (size_t i = 0; i < payload_len; i++)
		payload[i] = (__u8)(i * 7 + 3);
	spec_for(&s, family, vlan);
	n = pkt_build_udp(f->b, sizeof(f->b), &s, payload, payload_len);
	CU_ASSERT_FATAL(n > 0);
	f->len = (size_t)n;
}

/* Parse from an exact-size heap copy, so that AddressSanitizer sees any read past len. */
static enum pkt_refusal parse_exact(const __u8 *bytes, size_t len, struct pkt_view *v)
{
	__u8 *copy = malloc(len ? len : 1);
	enum pkt_refusal r;

	memcpy(copy, bytes, len);
	r = pkt_parse(copy, len, v);
	free(copy);
	return r;
}

static size_t l3(const struct frame *f)
{
	return get_be16(f->b + 12) == PKT_ETH_P_8021Q ? 18 : 14;
}

static void test_good_frames(void)
{
	static const struct {
		int family;
		bool vlan;
		size_t payload;
	} cases[] = {
		{ XT_AF_INET, false, 0 },  { XT_AF_INET, false, 100 },	{ XT_AF_INET, true, 33 },
		{ XT_AF_INET6, false, 0 }, { XT_AF_INET6, false, 1000 }, { XT_AF_INET6, true, 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame f;
		struct pkt_view v;
		size_t hdr = (cases[i].vlan ? 18 : 14) + (cases[i].family == XT_AF_INET ? 20 : 40);

		build(&f, cases[i].family, cases[i].vlan, cases[i].payload);
		CU_ASSERT_EQUAL_FATAL(parse_exact(f.b, f.len, &v), PKT_OK);
		CU_ASSERT_EQUAL(v.family, cases[i].family);
		CU_ASSERT_EQUAL(v.has_vlan, cases[i].vlan);
		CU_ASSERT_EQUAL(v.vlan_tci, cases[i].vlan ? 0x0123 : 0);
		CU_ASSERT_EQUAL(v.l3_off, cases[i].vlan ? 18 : 14);
		CU_ASSERT_EQUAL(v.l4_off, hdr);
		CU_ASSERT_EQUAL(v.payload_off, hdr + 8);
		CU_ASSERT_EQUAL(v.payload_len, cases[i].payload);
		CU_ASSERT_EQUAL(v.ip_end, f.len);
		CU_ASSERT_EQUAL(xt_addr_port(&v.src), 50000);
		CU_ASSERT_EQUAL(xt_addr_port(&v.dst), 3478);
		CU_ASSERT(memcmp(v.src.ip, cases[i].family == XT_AF_INET ? v4_a : v6_a,
				 xt_addr_ip_len(&v.src)) == 0);
		CU_ASSERT(memcmp(v.dst.ip, cases[i].family == XT_AF_INET ? v4_b : v6_b,
				 xt_addr_ip_len(&v.dst)) == 0);
		CU_ASSERT(pkt_verify_checksums(f.b, &v));
	}
}

/* A minimum-size Ethernet frame carries padding after the IP packet: it is not payload. */
static void test_ethernet_padding_ignored(void)
{
	struct frame f;
	struct pkt_view v;

	build(&f, XT_AF_INET, false, 4);
	CU_ASSERT_EQUAL(f.len, 46);
	memset(f.b + f.len, 0xEE, 14);
	CU_ASSERT_EQUAL(parse_exact(f.b, 60, &v), PKT_OK);
	CU_ASSERT_EQUAL(v.payload_len, 4);
	CU_ASSERT_EQUAL(v.ip_end, 46);
}

typedef void (*mutator)(struct frame *f);

static void m_arp(struct frame *f) { put_be16(f->b + 12, 0x0806); }
static void m_qinq(struct frame *f) { put_be16(f->b + 16, PKT_ETH_P_8021Q); }
static void m_v4_version6(struct frame *f) { f->b[14] = 0x65; }
static void m_v6_version4(struct frame *f) { f->b[14] = 0x40 | (f->b[14] & 0x0F); }
static void m_v4_options(struct frame *f) { f->b[14] = 0x46; }
static void m_v4_ihl_short(struct frame *f) { f->b[14] = 0x44; }
static void m_v4_mf(struct frame *f) { put_be16(f->b + 14 + 6, PKT_IPV4_MF); }
static void m_v4_offset(struct frame *f) { put_be16(f->b + 14 + 6, PKT_IPV4_DF | 0x0010); }
static void m_v4_tcp(struct frame *f) { f->b[14 + 9] = 6; }
static void m_v4_totlen_long(struct frame *f) { put_be16(f->b + 14 + 2, (__u16)(f->len - 14 + 1)); }
static void m_v4_totlen_short(struct frame *f) { put_be16(f->b + 14 + 2, 19); }
static void m_v4_totlen_no_udp(struct frame *f) { put_be16(f->b + 14 + 2, 24); }
static void m_udp_len_long(struct frame *f) { put_be16(f->b + 34 + 4, (__u16)(f->len - 34 + 1)); }
static void m_udp_len_short(struct frame *f) { put_be16(f->b + 34 + 4, 7); }
static void m_v6_hopopts(struct frame *f) { f->b[14 + 6] = PKT_IPV6_HDR_HOPOPTS; }
static void m_v6_fragment(struct frame *f) { f->b[14 + 6] = PKT_IPV6_HDR_FRAGMENT; }
static void m_v6_routing(struct frame *f) { f->b[14 + 6] = PKT_IPV6_HDR_ROUTING; }
static void m_v6_icmp(struct frame *f) { f->b[14 + 6] = 58; }
static void m_v6_paylen_long(struct frame *f) { put_be16(f->b + 14 + 4, (__u16)(f->len - 54 + 1)); }
static void m_v6_paylen_short(struct frame *f) { put_be16(f->b + 14 + 4, 4); }
static void m_vlan_arp(struct frame *f) { put_be16(f->b + 16, 0x0806); }

static void test_refusals(void)
{
	static const struct {
		const char *what;
		int family;
		bool vlan;
		mutator mutate;
		enum pkt_refusal expect;
	} cases[] = {
		{ "ARP", XT_AF_INET, false, m_arp, PKT_NOT_IP },
		{ "two VLAN tags", XT_AF_INET, true, m_qinq, PKT_NOT_IP },
		{ "ARP in VLAN", XT_AF_INET, true, m_vlan_arp, PKT_NOT_IP },
		{ "IPv4 ethertype, version 6", XT_AF_INET, false, m_v4_version6, PKT_NOT_IP },
		{ "IPv6 ethertype, version 4", XT_AF_INET6, false, m_v6_version4, PKT_NOT_IP },
		{ "IPv4 options", XT_AF_INET, false, m_v4_options, PKT_IP_OPTIONS },
		{ "IPv4 IHL < 5", XT_AF_INET, false, m_v4_ihl_short, PKT_BAD_LENGTH },
		{ "IPv4 more fragments", XT_AF_INET, false, m_v4_mf, PKT_FRAGMENT },
		{ "IPv4 fragment offset", XT_AF_INET, false, m_v4_offset, PKT_FRAGMENT },
		{ "IPv4 TCP", XT_AF_INET, false, m_v4_tcp, PKT_NOT_UDP },
		{ "IPv4 total length past frame", XT_AF_INET, false, m_v4_totlen_long, PKT_BAD_LENGTH },
		{ "IPv4 total length < header", XT_AF_INET, false, m_v4_totlen_short, PKT_BAD_LENGTH },
		{ "IPv4 total length cuts UDP", XT_AF_INET, false, m_v4_totlen_no_udp, PKT_BAD_LENGTH },
		{ "UDP length past IP", XT_AF_INET, false, m_udp_len_long, PKT_BAD_LENGTH },
		{ "UDP length < 8", XT_AF_INET, false, m_udp_len_short, PKT_BAD_LENGTH },
		{ "IPv6 hop-by-hop", XT_AF_INET6, false, m_v6_hopopts, PKT_IPV6_EXT_HDR },
		{ "IPv6 fragment header", XT_AF_INET6, false, m_v6_fragment, PKT_IPV6_EXT_HDR },
		{ "IPv6 routing header", XT_AF_INET6, false, m_v6_routing, PKT_IPV6_EXT_HDR },
		{ "IPv6 ICMPv6", XT_AF_INET6, false, m_v6_icmp, PKT_NOT_UDP },
		{ "IPv6 payload length past frame", XT_AF_INET6, false, m_v6_paylen_long, PKT_BAD_LENGTH },
		{ "IPv6 payload length cuts UDP", XT_AF_INET6, false, m_v6_paylen_short, PKT_BAD_LENGTH },
	};
	bool seen[PKT_REFUSAL_COUNT] = { false };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame f;
		struct pkt_view v;
		enum pkt_refusal r;

		build(&f, cases[i].family, cases[i].vlan, 20);
		cases[i].mutate(&f);
		r = parse_exact(f.b, f.len, &v);
		if (r != cases[i].expect)
			fprintf(stderr, "\n  %s: got %s, want %s\n", cases[i].what, pkt_refusal_name(r),
				pkt_refusal_name(cases[i].expect));
		CU_ASSERT_EQUAL(r, cases[i].expect);
		seen[cases[i].expect] = true;
	}
	/* Every refusal reason but "too short" (next test) is covered by the table. */
	for (int r = PKT_OK + 1; r < PKT_REFUSAL_COUNT; r++)
		CU_ASSERT(seen[r] || r == PKT_TOO_SHORT);
}

/* Every proper prefix of a good frame is refused, as too short or with lengths that do not fit. */
static void test_truncated_every_length(void)
{
	static const struct {
		int family;
		bool vlan;
	} cases[] = { { XT_AF_INET, false }, { XT_AF_INET, true }, { XT_AF_INET6, false },
		      { XT_AF_INET6, true } };
	unsigned int too_short = 0;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct frame f;

		build(&f, cases[c].family, cases[c].vlan, 37);
		for (size_t len = 0; len < f.len; len++) {
			struct pkt_view v;
			enum pkt_refusal r = parse_exact(f.b, len, &v);

			CU_ASSERT(r == PKT_TOO_SHORT || r == PKT_BAD_LENGTH);
			/* Up to the end of the fixed IP header the frame is too short; after it, the IP
			 * length field points past the end. */
			if (len < l3(&f) + (cases[c].family == XT_AF_INET ? 20u : 40u)) {
				CU_ASSERT_EQUAL(r, PKT_TOO_SHORT);
				too_short++;
			} else {
				CU_ASSERT_EQUAL(r, PKT_BAD_LENGTH);
			}
		}
	}
	CU_ASSERT(too_short > 0);
}

static void test_refusal_names(void)
{
	CU_ASSERT_STRING_EQUAL(pkt_refusal_name(PKT_NOT_UDP), "not_udp");
	CU_ASSERT_STRING_EQUAL(pkt_refusal_name(PKT_IPV6_EXT_HDR), "ipv6_ext_hdr");
	CU_ASSERT_STRING_EQUAL(pkt_refusal_name((enum pkt_refusal)99), "unknown");
	for (int r = 0; r < PKT_REFUSAL_COUNT; r++)
		CU_ASSERT_PTR_NOT_NULL(pkt_refusal_name((enum pkt_refusal)r));
}

/* A parse does not accept corrupted checksums as good. */
static void test_verify_checksums(void)
{
	struct frame f;
	struct pkt_view v;

	build(&f, XT_AF_INET, false, 10);
	CU_ASSERT_EQUAL_FATAL(pkt_parse(f.b, f.len, &v), PKT_OK);
	CU_ASSERT(pkt_verify_checksums(f.b, &v));
	f.b[f.len - 1] ^= 0x01;
	CU_ASSERT(!pkt_verify_checksums(f.b, &v));
	put_be16(f.b + 34 + 6, 0); /* IPv4 "no checksum" is acceptable */
	CU_ASSERT(pkt_verify_checksums(f.b, &v));
	f.b[14 + 8] ^= 0x01; /* TTL: IPv4 header checksum now wrong */
	CU_ASSERT(!pkt_verify_checksums(f.b, &v));

	build(&f, XT_AF_INET6, false, 10);
	CU_ASSERT_EQUAL_FATAL(pkt_parse(f.b, f.len, &v), PKT_OK);
	CU_ASSERT(pkt_verify_checksums(f.b, &v));
	put_be16(f.b + 54 + 6, 0); /* IPv6 requires a checksum */
	CU_ASSERT(!pkt_verify_checksums(f.b, &v));
}

static void test_build_errors(void)
{
	struct pkt_frame_spec s;
	__u8 buf[128], payload[200] = { 0 };

	spec_for(&s, XT_AF_INET, false);
	CU_ASSERT_EQUAL(pkt_build_udp(buf, sizeof(buf), &s, payload, 200), -EMSGSIZE);
	CU_ASSERT_EQUAL(pkt_build_udp(buf, 42, &s, payload, 0), 42);
	CU_ASSERT_EQUAL(pkt_build_udp(buf, 41, &s, payload, 0), -EMSGSIZE);
	s.dst.family = XT_AF_INET6;
	CU_ASSERT_EQUAL(pkt_build_udp(buf, sizeof(buf), &s, payload, 0), -EINVAL);
	s.src.family = s.dst.family = 0;
	CU_ASSERT_EQUAL(pkt_build_udp(buf, sizeof(buf), &s, payload, 0), -EINVAL);
}

/* Building in place: the payload already sits where the builder puts it. */
static void test_build_in_place(void)
{
	struct pkt_frame_spec s;
	struct frame a, b;
	struct pkt_view v;
	size_t hdr;

	spec_for(&s, XT_AF_INET6, true);
	hdr = pkt_headers_len(&s);
	CU_ASSERT_EQUAL(hdr, 14 + 4 + 40 + 8);
	build(&a, XT_AF_INET6, true, 64);
	memset(b.b, 0, sizeof(b.b));
	memcpy(b.b + hdr, a.b + hdr, 64);
	CU_ASSERT_EQUAL(pkt_build_udp(b.b, sizeof(b.b), &s, b.b + hdr, 64), (int)a.len);
	CU_ASSERT(memcmp(a.b, b.b, a.len) == 0);
	CU_ASSERT_EQUAL(pkt_parse(b.b, a.len, &v), PKT_OK);
	CU_ASSERT_EQUAL(get_be16(b.b + 18 + 6) >> 8, PKT_IPPROTO_UDP);
}

/* The IPv4 header built carries DF when asked and TTL 64 by default. */
static void test_build_ipv4_fields(void)
{
	struct frame f;

	build(&f, XT_AF_INET, false, 8);
	CU_ASSERT_EQUAL(f.b[14], 0x45);
	CU_ASSERT_EQUAL(get_be16(f.b + 14 + 6), PKT_IPV4_DF);
	CU_ASSERT_EQUAL(f.b[14 + 8], 64);
	CU_ASSERT_EQUAL(get_be16(f.b + 14 + 2), 20 + 8 + 8);
	CU_ASSERT_EQUAL(get_be16(f.b + 34 + 4), 16);
}

int test_pkt_parse_register(void)
{
	CU_pSuite s = CU_add_suite("pkt_parse", NULL, NULL);

	if (!s)
		return -1;
	return !CU_add_test(s, "good frames", test_good_frames) ||
	       !CU_add_test(s, "ethernet padding is not payload", test_ethernet_padding_ignored) ||
	       !CU_add_test(s, "refusal reasons", test_refusals) ||
	       !CU_add_test(s, "truncated at every length", test_truncated_every_length) ||
	       !CU_add_test(s, "refusal names", test_refusal_names) ||
	       !CU_add_test(s, "checksum verification", test_verify_checksums) ||
	       !CU_add_test(s, "build errors", test_build_errors) ||
	       !CU_add_test(s, "build in place", test_build_in_place) ||
	       !CU_add_test(s, "IPv4 header fields", test_build_ipv4_fields);
}
