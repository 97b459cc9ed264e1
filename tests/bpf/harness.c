/* tests/bpf/harness.c — see harness.h. */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "pkt/csum.h"
#include "pkt/parse.h"
#include "tests/bpf/harness.h"

struct xdp_relay *t_relay;
const __u8 t_relay_mac[6] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01 };
const __u8 t_router_mac[6] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0xfe };

struct xt_addr t_addr(const char *text)
{
	char host[64];
	const char *colon;
	struct xt_addr a;
	__u8 ip[16];
	size_t n;

	if (text[0] == '[') {
		colon = strstr(text, "]:");
		n = (size_t)(colon - text - 1);
		memcpy(host, text + 1, n);
		host[n] = 0;
		if (!colon || inet_pton(AF_INET6, host, ip) != 1)
			abort();
		xt_addr_set_v6(&a, ip, (__u16)atoi(colon + 2));
		return a;
	}
	colon = strchr(text, ':');
	if (!colon)
		abort();
	n = (size_t)(colon - text);
	memcpy(host, text, n);
	host[n] = 0;
	if (inet_pton(AF_INET, host, ip) != 1)
		abort();
	xt_addr_set_v4(&a, ip, (__u16)atoi(colon + 1));
	return a;
}

void t_build(struct tframe *f, const struct xt_addr *src, const struct xt_addr *dst,
	     const void *payload, size_t len, const struct tparams *p)
{
	const struct tparams none = { 0 };
	struct pkt_frame_spec s;
	int n;

	if (!p)
		p = &none;
	memset(&s, 0, sizeof(s));
	memcpy(s.src_mac, p->src_mac ? p->src_mac : t_router_mac, 6);
	memcpy(s.dst_mac, p->dst_mac ? p->dst_mac : t_relay_mac, 6);
	s.src = *src;
	s.dst = *dst;
	s.tos = p->tos;
	s.ttl = p->ttl;
	s.ip_id = p->ip_id;
	s.dont_fragment = !p->no_df;
	s.has_vlan = p->vlan;
	s.vlan_tci = 0x0064;
	n = pkt_build_udp(f->b, sizeof(f->b), &s, payload, len);
	if (n < 0)
		abort();
	f->len = (size_t)n;
}

size_t t_channel_data(__u8 *out, __u16 channel, const __u8 *data, size_t len, size_t pad)
{
	put_be16(out, channel);
	put_be16(out + 2, (__u16)len);
	memcpy(out + 4, data, len);
	for (size_t i = 0; i < pad; i++)
		out[4 + len + i] = (__u8)(0xA5 + 0x11 * i);
	return 4 + len + pad;
}

void t_fill(__u8 *data, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		data[i] = (__u8)(seed * 131 + i * 29 + (i >> 3));
}

int t_run(const struct tframe *in, struct tframe *out, int ingress_ifindex)
{
	struct xdp_md ctx = { .data_end = (__u32)in->len, .ingress_ifindex = (__u32)ingress_ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in->b, .data_size_in = (__u32)in->len,
		    .data_out = out->b, .data_size_out = sizeof(out->b), .repeat = 1);
	int err;

	if (ingress_ifindex) {
		o.ctx_in = &ctx;
		o.ctx_size_in = sizeof(ctx);
	}
	err = bpf_prog_test_run_opts(xdp_relay__prog_fd(t_relay), &o);
	if (err)
		return err;
	out->len = o.data_size_out;
	return (int)o.retval;
}

void t_stats(struct tstats *st)
{
	if (xdp_relay__read_stats(t_relay, st->s))
		abort();
}

bool t_stats_changed_by(const struct tstats *before, const struct tstats *after,
			const struct tdelta *d, size_t n)
{
	bool ok = true;

	for (unsigned int id = 0; id < XT_STAT_COUNT; id++) {
		__u64 dp = after->s[id].packets - before->s[id].packets;
		__u64 db = after->s[id].bytes - before->s[id].bytes;
		__u64 wp = 0, wb = 0;

		for (size_t i = 0; i < n; i++)
			if (d[i].id == (int)id) {
				wp = d[i].packets;
				wb = d[i].bytes;
			}
		if (dp != wp || (wb != T_ANY_BYTES && db != wb)) {
			printf("\n    counter %s changed by %llu packets / %llu bytes, expected %llu / %lld",
			       xdp_relay__stat_name(id), (unsigned long long)dp,
			       (unsigned long long)db, (unsigned long long)wp,
			       wb == T_ANY_BYTES ? -1LL : (long long)wb);
			ok = false;
		}
	}
	return ok;
}

bool t_checksums_ok(const struct tframe *f)
{
	struct pkt_view v;
	const struct pkt_udp *udp;
	__u16 want;

	if (pkt_parse(f->b, f->len, &v) != PKT_OK)
		return false;
	udp = (const struct pkt_udp *)(f->b + v.l4_off);
	/* Our own full computation, independent of pkt_verify_checksums' code path. */
	want = udp_segment_csum(v.src.ip, v.dst.ip, xt_addr_ip_len(&v.src), udp,
				sizeof(*udp) + v.payload_len);
	if (get_be16(udp->check) != want)
		return false;
	if (v.family == XT_AF_INET) {
		const struct pkt_ipv4 *ip = (const struct pkt_ipv4 *)(f->b + v.l3_off);

		if (get_be16(ip->check) != ipv4_header_csum(ip))
			return false;
	}
	return pkt_verify_checksums(f->b, &v);
}

bool t_frames_equal(const struct tframe *got, const struct tframe *want)
{
	size_t n = got->len < want->len ? got->len : want->len;

	for (size_t i = 0; i < n; i++)
		if (got->b[i] != want->b[i]) {
			printf("\n    frames differ at byte %zu: got 0x%02x, want 0x%02x (lengths %zu, %zu)",
			       i, got->b[i], want->b[i], got->len, want->len);
			return false;
		}
	if (got->len != want->len) {
		printf("\n    frame length %zu, want %zu", got->len, want->len);
		return false;
	}
	return true;
}

void t_config(__u16 flags, __u16 mtu)
{
	static const char *const addrs[] = { "198.18.0.1:0", "198.18.0.9:0", "[fd98:18::1]:0",
					      "[fd98:18::9]:0" };
	struct xt_config cfg;

	xt_config__init(&cfg, T_LISTEN_PORT, T_PORT_MIN, T_PORT_MAX, flags);
	put_be16(cfg.mtu, mtu);
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct xt_addr a = t_addr(addrs[i]);

		if (xt_config__add_addr(&cfg, &a))
			abort();
	}
	if (xdp_relay__set_config(t_relay, &cfg))
		abort();
}

struct fastpath_binding t_binding(const char *client, const char *listen, const char *peer,
				  const char *relay, __u16 channel, __u32 alloc_id)
{
	struct fastpath_binding b;

	memset(&b, 0, sizeof(b));
	b.client = t_addr(client);
	b.listen = t_addr(listen);
	b.peer = t_addr(peer);
	b.relay = t_addr(relay);
	b.channel = channel;
	b.alloc_id = alloc_id;
	return b;
}
