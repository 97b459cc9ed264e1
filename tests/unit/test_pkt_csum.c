/* Checksums: RFC 1071 examples, a property test over random frames comparing incremental updates
 * (RFC 1624) with full recomputation, and full computation with a reference written here
 * independently (modular arithmetic over a materialised pseudo-header, not the library's folding). */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pkt/build.h"
#include "pkt/csum.h"
#include "pkt/parse.h"

#define PROPERTY_FRAMES 10000

/* xorshift64*: deterministic, so a failure reproduces with the printed iteration. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

/* Reference: the one's-complement sum of 16-bit words equals their plain sum modulo 0xFFFF, with
 * "0" represented as 0xFFFF once anything non-zero was added (RFC 1071 §2(A)). */
static uint16_t ref_checksum(const uint8_t *data, size_t len)
{
	uint64_t total = 0;
	int nonzero = 0;

	for (size_t i = 0; i < len; i++) {
		uint64_t w = i % 2 == 0 ? (uint64_t)data[i] * 256 : data[i];
		total += w;
		nonzero |= data[i] != 0;
	}
	uint64_t r = total % 0xFFFF;
	if (r == 0 && nonzero)
		r = 0xFFFF;
	return (uint16_t)(0xFFFF - r);
}

static uint16_t ref_udp_checksum(const uint8_t *frame, const struct pkt_view *v)
{
	static uint8_t buf[40 + 65536];
	size_t ip_len = v->family == XT_AF_INET ? 4 : 16;
	size_t udp_len = 8 + v->payload_len, n = 0;

	memcpy(buf + n, v->src.ip, ip_len), n += ip_len;
	memcpy(buf + n, v->dst.ip, ip_len), n += ip_len;
	if (v->family == XT_AF_INET) {
		buf[n++] = 0;
		buf[n++] = PKT_IPPROTO_UDP;
		buf[n++] = (uint8_t)(udp_len >> 8);
		buf[n++] = (uint8_t)udp_len;
	} else {
		uint8_t tail[8] = { 0, 0, (uint8_t)(udp_len >> 8), (uint8_t)udp_len, 0, 0, 0,
				    PKT_IPPROTO_UDP };
		memcpy(buf + n, tail, 8), n += 8;
	}
	memcpy(buf + n, frame + v->l4_off, udp_len);
	buf[n + 6] = buf[n + 7] = 0;
	n += udp_len;
	uint16_t c = ref_checksum(buf, n);
	return c == 0 ? 0xFFFF : c;
}

static uint16_t ref_ipv4_checksum(const uint8_t *ip)
{
	uint8_t h[20];

	memcpy(h, ip, 20);
	h[10] = h[11] = 0;
	return ref_checksum(h, 20);
}

static void test_rfc1071_example(void)
{
	/* RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2, checksum 220d. */
	const __u8 data[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	CU_ASSERT_EQUAL(csum_fold(csum_partial(data, sizeof(data), 0)), 0x220d);
	CU_ASSERT_EQUAL(ref_checksum(data, sizeof(data)), 0x220d);
	/* Odd length: the last byte is padded with zero on the right. */
	CU_ASSERT_EQUAL(csum_partial(data, 3, 0), 0x0001 + 0xf200);
}

static void test_zero_udp_checksum_sent_as_ffff(void)
{
	/* Choose a payload word that makes the computed checksum 0: it must go out as 0xFFFF. */
	struct pkt_frame_spec s = { 0 };
	const __u8 a[4] = { 198, 18, 0, 1 }, b[4] = { 198, 18, 0, 2 };
	__u8 frame[128], payload[2] = { 0, 0 };
	struct pkt_view v;
	int n;

	xt_addr_set_v4(&s.src, a, 1000);
	xt_addr_set_v4(&s.dst, b, 2000);
	n = pkt_build_udp(frame, sizeof(frame), &s, payload, 2);
	CU_ASSERT_FATAL(n > 0);
	/* The word that makes the sum all ones is the current checksum itself. */
	__u16 c = get_be16(frame + 34 + 6);
	put_be16(payload, c);
	n = pkt_build_udp(frame, sizeof(frame), &s, payload, 2);
	CU_ASSERT_EQUAL(get_be16(frame + 34 + 6), 0xFFFF);
	CU_ASSERT_EQUAL_FATAL(pkt_parse(frame, (size_t)n, &v), PKT_OK);
	CU_ASSERT(pkt_verify_checksums(frame, &v));
	CU_ASSERT_EQUAL(ref_udp_checksum(frame, &v), 0xFFFF);
	CU_ASSERT_EQUAL(udp_csum_wire(0), 0xFFFF);
	CU_ASSERT_EQUAL(udp_csum_wire(0x1234), 0x1234);
}

static void random_addr(struct xt_addr *a, int family)
{
	__u8 ip[16];

	for (int i = 0; i < 16; i++)
		ip[i] = (__u8)rnd();
	if (family == XT_AF_INET)
		xt_addr_set_v4(a, ip, (__u16)rnd());
	else
		xt_addr_set_v6(a, ip, (__u16)rnd());
}

struct check_counts {
	unsigned int frames, mismatches;
};

static void expect_frame(const __u8 *frame, size_t len, struct check_counts *cc, unsigned int iter,
			 const char *step)
{
	struct pkt_view v;

	if (pkt_parse(frame, len, &v) != PKT_OK) {
		cc->mismatches++;
		fprintf(stderr, "\n  iteration %u %s: frame no longer parses\n", iter, step);
		return;
	}
	__u16 stored = get_be16(frame + v.l4_off + 6);
	__u16 full = udp_segment_csum(v.src.ip, v.dst.ip, xt_addr_ip_len(&v.src),
				      (const struct pkt_udp *)(frame + v.l4_off), 8u + v.payload_len);
	__u16 ref = ref_udp_checksum(frame, &v);
	int bad = stored != full || full != ref || !pkt_verify_checksums(frame, &v);

	if (v.family == XT_AF_INET)
		bad |= get_be16(frame + v.l3_off + 10) != ref_ipv4_checksum(frame + v.l3_off);
	if (bad) {
		cc->mismatches++;
		fprintf(stderr, "\n  iteration %u %s: stored %04x full %04x reference %04x\n", iter,
			step, stored, full, ref);
	}
}

/* Rewrite an address the way the relay does: the bytes, then the UDP checksum (pseudo-header) and
 * the IPv4 header checksum incrementally. */
static void rewrite_addr(__u8 *frame, const struct pkt_view *v, __u8 *field, const __u8 *new_ip)
{
	unsigned int n = xt_addr_ip_len(&v->src);
	__u8 *ucheck = frame + v->l4_off + 6;

	put_be16(ucheck, udp_csum_wire(csum_update_bytes(get_be16(ucheck), field, new_ip, n)));
	if (v->family == XT_AF_INET) {
		__u8 *icheck = frame + v->l3_off + 10;
		put_be16(icheck, csum_update32(get_be16(icheck), get_be32(field), get_be32(new_ip)));
	}
	memcpy(field, new_ip, n);
}

static void rewrite_port(__u8 *frame, const struct pkt_view *v, __u8 *field, __u16 port)
{
	__u8 *ucheck = frame + v->l4_off + 6;

	put_be16(ucheck, udp_csum_wire(csum_update16(get_be16(ucheck), get_be16(field), port)));
	put_be16(field, port);
}

/* Drop the last payload word: the payload sum, both UDP length occurrences (header and
 * pseudo-header) and, for IPv4, the total length change. */
static size_t shrink_by_word(__u8 *frame, const struct pkt_view *v, size_t len)
{
	__u8 *ucheck = frame + v->l4_off + 6;
	__u8 *ulen = frame + v->l4_off + 4;
	__u16 old_ulen = get_be16(ulen), new_ulen = (__u16)(old_ulen - 2);
	__u16 c = get_be16(ucheck);

	/* The payload starts at an even offset of the segment and its length is even here. */
	c = csum_remove_word(c, get_be16(frame + v->payload_off + v->payload_len - 2));
	c = csum_update16(c, old_ulen, new_ulen); /* header field */
	c = csum_update16(c, old_ulen, new_ulen); /* pseudo-header */
	put_be16(ucheck, udp_csum_wire(c));
	put_be16(ulen, new_ulen);
	if (v->family == XT_AF_INET) {
		__u8 *tot = frame + v->l3_off + 2, *icheck = frame + v->l3_off + 10;
		__u16 old_tot = get_be16(tot);

		put_be16(icheck, csum_update16(get_be16(icheck), old_tot, (__u16)(old_tot - 2)));
		put_be16(tot, (__u16)(old_tot - 2));
	} else {
		__u8 *plen = frame + v->l3_off + 4;
		put_be16(plen, (__u16)(get_be16(plen) - 2));
	}
	return len - 2;
}

static void test_property_incremental_vs_full(void)
{
	static __u8 frame[1600], payload[1500];
	struct check_counts cc = { 0 };

	for (unsigned int iter = 0; iter < PROPERTY_FRAMES; iter++) {
		int family = iter % 2 ? XT_AF_INET6 : XT_AF_INET;
		size_t plen = rnd() % 1473;
		struct pkt_frame_spec s = { 0 };
		struct pkt_view v;
		struct xt_addr na;
		int n;

		random_addr(&s.src, family);
		random_addr(&s.dst, family);
		s.dont_fragment = rnd() & 1;
		s.ip_id = (__u16)rnd();
		for (size_t i = 0; i < plen; i++)
			payload[i] = (__u8)rnd();
		n = pkt_build_udp(frame, sizeof(frame), &s, payload, plen);
		if (n < 0 || pkt_parse(frame, (size_t)n, &v) != PKT_OK) {
			cc.mismatches++;
			continue;
		}
		cc.frames++;
		expect_frame(frame, (size_t)n, &cc, iter, "built");

		random_addr(&na, family);
		rewrite_addr(frame, &v, frame + v.l3_off + (family == XT_AF_INET ? 12 : 8), na.ip);
		random_addr(&na, family);
		rewrite_addr(frame, &v, frame + v.l3_off + (family == XT_AF_INET ? 16 : 24), na.ip);
		pkt_parse(frame, (size_t)n, &v);
		expect_frame(frame, (size_t)n, &cc, iter, "addresses");

		rewrite_port(frame, &v, frame + v.l4_off, (__u16)rnd());
		rewrite_port(frame, &v, frame + v.l4_off + 2, (__u16)rnd());
		expect_frame(frame, (size_t)n, &cc, iter, "ports");

		if (v.payload_len >= 2) { /* a payload word at an even offset changes */
			size_t off = v.payload_off + 2 * (rnd() % (v.payload_len / 2));
			__u16 w = (__u16)rnd();
			__u8 *uc = frame + v.l4_off + 6;

			put_be16(uc, udp_csum_wire(csum_update16(get_be16(uc), get_be16(frame + off), w)));
			put_be16(frame + off, w);
			expect_frame(frame, (size_t)n, &cc, iter, "payload word");
		}
		if (v.payload_len >= 2 && v.payload_len % 2 == 0) {
			n = (int)shrink_by_word(frame, &v, (size_t)n);
			expect_frame(frame, (size_t)n, &cc, iter, "length");
		}
	}
	CU_ASSERT_EQUAL(cc.frames, PROPERTY_FRAMES);
	CU_ASSERT_EQUAL(cc.mismatches, 0);
}

/* The reference itself must disagree with a wrong checksum, or the property test proves nothing. */
static void test_reference_detects_corruption(void)
{
	struct pkt_frame_spec s = { 0 };
	__u8 frame[256], payload[64];
	struct pkt_view v;
	int n;

	random_addr(&s.src, XT_AF_INET6);
	random_addr(&s.dst, XT_AF_INET6);
	for (int i = 0; i < 64; i++)
		payload[i] = (__u8)i;
	n = pkt_build_udp(frame, sizeof(frame), &s, payload, 64);
	CU_ASSERT_EQUAL_FATAL(pkt_parse(frame, (size_t)n, &v), PKT_OK);
	CU_ASSERT_EQUAL(ref_udp_checksum(frame, &v), get_be16(frame + v.l4_off + 6));
	frame[v.payload_off + 5] ^= 0x40;
	CU_ASSERT_NOT_EQUAL(ref_udp_checksum(frame, &v), get_be16(frame + v.l4_off + 6));
	CU_ASSERT(!pkt_verify_checksums(frame, &v));
}

int test_pkt_csum_register(void)
{
	CU_pSuite s = CU_add_suite("pkt_csum", NULL, NULL);

	if (!s)
		return -1;
	return !CU_add_test(s, "RFC 1071 example", test_rfc1071_example) ||
	       !CU_add_test(s, "computed 0 is sent as 0xFFFF", test_zero_udp_checksum_sent_as_ffff) ||
	       !CU_add_test(s, "reference detects corruption", test_reference_detects_corruption) ||
	       !CU_add_test(s, "10000 random frames: incremental == full == reference",
			    test_property_incremental_vs_full);
}
