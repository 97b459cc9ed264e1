/* tests/fuzz/fuzz_pkt_parse.c — libFuzzer target for pkt_parse() and pkt_verify_checksums().
 *
 * One input is one Ethernet frame. When pkt_parse() accepts it, the view must lie inside the frame
 * (headers, payload, IP end), its family must match the addresses, and a frame rebuilt with
 * pkt_build_udp() from the view's 5-tuple, VLAN tag and payload must parse back to the same view and
 * pass the checksum check; a refusal must have a name.
 */
#include <errno.h>
#include <string.h>
#include "pkt/build.h"
#include "pkt/parse.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[70000];
	struct pkt_view v, w;
	struct pkt_frame_spec spec = { 0 };
	enum pkt_refusal why;
	uint8_t *copy = malloc(size ? size : 1); /* exact size: ASan sees reads past the frame */
	int n;

	FUZZ_ASSERT(copy);
	memcpy(copy, data, size);
	why = pkt_parse(copy, size, &v);
	FUZZ_ASSERT(why < PKT_REFUSAL_COUNT);
	FUZZ_ASSERT(pkt_refusal_name(why) && *pkt_refusal_name(why));
	if (why != PKT_OK)
		goto out;
	FUZZ_ASSERT(v.family == XT_AF_INET || v.family == XT_AF_INET6);
	FUZZ_ASSERT(v.src.family == v.family && v.dst.family == v.family);
	FUZZ_ASSERT(v.l3_off < v.l4_off && v.l4_off + 8 == v.payload_off);
	FUZZ_ASSERT((size_t)v.payload_off + v.payload_len <= v.ip_end && v.ip_end <= size);
	pkt_verify_checksums(copy, &v);

	spec.src = v.src;
	spec.dst = v.dst;
	spec.has_vlan = v.has_vlan;
	spec.vlan_tci = v.vlan_tci;
	n = pkt_build_udp(out, sizeof(out), &spec, copy + v.payload_off, v.payload_len);
	FUZZ_ASSERT(n > 0);
	FUZZ_ASSERT(pkt_parse(out, (size_t)n, &w) == PKT_OK);
	FUZZ_ASSERT(xt_addr_equal(&w.src, &v.src) && xt_addr_equal(&w.dst, &v.dst));
	FUZZ_ASSERT(w.has_vlan == v.has_vlan && (!v.has_vlan || w.vlan_tci == v.vlan_tci));
	FUZZ_ASSERT(w.payload_len == v.payload_len);
	FUZZ_ASSERT(!memcmp(out + w.payload_off, copy + v.payload_off, v.payload_len));
	FUZZ_ASSERT(pkt_verify_checksums(out, &w));
out:
	free(copy);
	return 0;
}
