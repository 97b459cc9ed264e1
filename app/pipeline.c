/* app/pipeline.c — see pipeline.h. */
#include <errno.h>
#include <string.h>
#include "app/pipeline.h"
#include "pkt/build.h"

static const char *const drop_names[PL_DROP__COUNT] = {
	[PL_DROP_NOT_PARSED] = "not_parsed",	 [PL_DROP_NOT_OURS] = "not_ours",
	[PL_DROP_BAD_CHECKSUM] = "bad_checksum", [PL_DROP_NO_NEIGHBOUR] = "no_neighbour",
	[PL_DROP_UNREACHABLE] = "unreachable",	 [PL_DROP_NO_BUFFER] = "no_buffer",
	[PL_DROP_TOO_BIG] = "too_big",		 [PL_DROP_TURN_BUSY] = "turn_busy",
};

const char *pipeline_drop_name(enum pipeline_drop d)
{
	return (unsigned int)d < PL_DROP__COUNT ? drop_names[d] : "unknown";
}

void pipeline__init(struct pipeline *pl, const struct pipeline_config *cfg)
{
	memset(pl, 0, sizeof(*pl));
	pl->cfg = *cfg;
	turn_actions__init(&pl->actions, pl->action_buf, PIPELINE_MAX_ACTIONS, pl->arena,
			   PIPELINE_ARENA);
}

void pipeline_config__from(struct pipeline_config *pc, const struct xturn_config *cfg,
			   struct turn_server *server, pthread_mutex_t *server_lock,
			   struct neigh_cache *neigh, const uint8_t our_mac[6])
{
	memset(pc, 0, sizeof(*pc));
	pc->server = server;
	pc->server_lock = server_lock;
	pc->neigh = neigh;
	memcpy(pc->our_mac, our_mac, 6);
	pc->listen_port = cfg->listen_port;
	pc->relay_port_min = cfg->relay_port_min;
	pc->relay_port_max = cfg->relay_port_max;
	pc->verify_checksums = true;
	for (size_t i = 0; i < cfg->n_addresses && i < PIPELINE_MAX_ADDRS; i++)
		pc->addrs[pc->n_addrs++] = cfg->addresses[i];
}

static bool is_our_address(const struct pipeline *pl, const struct xt_addr *a)
{
	for (size_t i = 0; i < pl->cfg.n_addrs; i++)
		if (xt_addr_ip_equal(&pl->cfg.addrs[i], a))
			return true;
	return false;
}

/* Returns 0, 1 when the next hop is still being resolved (the frame is built with a zero MAC and
 * marked), or -ENETUNREACH (dropped, counted). */
static int fill_spec(struct pipeline *pl, const struct turn_action *act, bool has_vlan,
		     uint16_t vlan_tci, struct pkt_frame_spec *spec)
{
	int err;

	memset(spec, 0, sizeof(*spec));
	memcpy(spec->src_mac, pl->cfg.our_mac, 6);
	err = neigh_cache__lookup(pl->cfg.neigh, &act->send.to, spec->dst_mac);
	if (err && err != -EAGAIN) {
		pl->stats.drops[PL_DROP_UNREACHABLE]++;
		return err;
	}
	spec->src = act->send.from;
	spec->dst = act->send.to;
	spec->has_vlan = has_vlan;
	spec->vlan_tci = vlan_tci;
	/* RFC 8656 §14 (DONT-FRAGMENT) and path MTU discovery: relayed IPv4 goes out with DF. */
	spec->dont_fragment = true;
	return err == -EAGAIN ? 1 : 0;
}

/* Builds the frame in the received buffer itself when the payload already sits there: the headers
 * (and a ChannelData prefix) are written just before the payload, into the old headers' room. */
static bool build_in_place(struct pipeline *pl, const struct turn_action *act,
			   const struct pkt_frame_spec *spec, struct pl_io *io)
{
	size_t hdr = pkt_headers_len(spec) + act->prefix_len;
	uint8_t *payload = (uint8_t *)act->send.payload;
	uint8_t *start;
	int n;

	if (io->in_consumed || payload < io->in.data + hdr ||
	    payload + act->send.len > io->in.data + io->in.cap)
		return false;
	start = payload - hdr;
	memcpy(payload - act->prefix_len, act->prefix, act->prefix_len);
	n = pkt_build_udp(start, hdr + act->send.len, spec, payload - act->prefix_len,
			  act->send.len + act->prefix_len);
	if (n < 0)
		return false;
	io->in_consumed = true;
	io->tx[io->n_tx++] = (struct pl_tx){ .handle = io->in.handle,
					     .offset = (uint32_t)(start - io->in.data),
					     .len = (uint32_t)n };
	pl->stats.in_place++;
	return true;
}

static void build_copy(struct pipeline *pl, const struct turn_action *act,
		       const struct pkt_frame_spec *spec, struct pl_io *io)
{
	struct pl_buf *b;
	size_t hdr = pkt_headers_len(spec);
	int n;

	if (!io->n_spare) {
		pl->stats.drops[PL_DROP_NO_BUFFER]++;
		return;
	}
	b = &io->spare[io->n_spare - 1];
	if (hdr + act->prefix_len + act->send.len > b->cap) {
		pl->stats.drops[PL_DROP_TOO_BIG]++;
		return;
	}
	memcpy(b->data + hdr, act->prefix, act->prefix_len);
	memcpy(b->data + hdr + act->prefix_len, act->send.payload, act->send.len);
	n = pkt_build_udp(b->data, b->cap, spec, b->data + hdr, act->prefix_len + act->send.len);
	if (n < 0) {
		pl->stats.drops[PL_DROP_TOO_BIG]++;
		return;
	}
	io->n_spare--;
	io->tx[io->n_tx++] = (struct pl_tx){ .handle = b->handle, .offset = 0, .len = (uint32_t)n };
}

void pipeline__emit(struct pipeline *pl, const struct turn_actions *acts, const uint8_t *in_data,
		    uint32_t in_len, bool has_vlan, uint16_t vlan_tci, struct pl_io *io)
{
	unsigned int from_input = 0;

	for (uint32_t i = 0; i < acts->n; i++) {
		const struct turn_action *a = &acts->v[i];
		if (a->type == TURN_ACT_SEND && in_data && a->send.payload >= in_data &&
		    a->send.payload < in_data + in_len)
			from_input++;
	}
	for (uint32_t i = 0; i < acts->n; i++) {
		const struct turn_action *a = &acts->v[i];
		struct pkt_frame_spec spec;
		bool points_in = in_data && a->send.payload >= in_data &&
				 a->send.payload < in_data + in_len;

		if (a->type != TURN_ACT_SEND)
			continue;
		if (io->n_tx == PIPELINE_MAX_TX) {
			pl->stats.drops[PL_DROP_NO_BUFFER]++;
			continue;
		}
		unsigned int before = io->n_tx;
		int resolved = fill_spec(pl, a, has_vlan, vlan_tci, &spec);

		if (resolved < 0)
			continue;
		/* Rewriting the input in place is safe only when no other datagram reads it. */
		if (!(points_in && from_input == 1 && build_in_place(pl, a, &spec, io)))
			build_copy(pl, a, &spec, io);
		if (resolved == 1 && io->n_tx > before) {
			io->tx[before].unresolved = true;
			io->tx[before].to = a->send.to;
		}
	}
	pl->stats.frames_out += io->n_tx;
}

int pipeline__input(struct pipeline *pl, uint64_t now_ms, struct pl_io *io)
{
	const uint8_t *frame = io->in.data + io->in_off;
	struct pkt_view v;
	enum pkt_refusal r;
	uint16_t dport;
	int err;

	pl->stats.frames_in++;
	io->n_tx = 0;
	io->in_consumed = false;
	turn_actions__reset(&pl->actions);
	r = pkt_parse(frame, io->in_len, &v);
	if (r != PKT_OK) {
		pl->stats.drops[PL_DROP_NOT_PARSED]++;
		pl->stats.parse_refusals[r]++;
		return 0;
	}
	dport = xt_addr_port(&v.dst);
	if (!is_our_address(pl, &v.dst) ||
	    (dport != pl->cfg.listen_port &&
	     (dport < pl->cfg.relay_port_min || dport > pl->cfg.relay_port_max))) {
		pl->stats.drops[PL_DROP_NOT_OURS]++;
		return 0;
	}
	if (pl->cfg.verify_checksums && !pkt_verify_checksums(frame, &v)) {
		pl->stats.drops[PL_DROP_BAD_CHECKSUM]++;
		return 0;
	}

	if (pl->cfg.server_lock)
		pthread_mutex_lock(pl->cfg.server_lock);
	if (dport == pl->cfg.listen_port)
		err = turn_server__input_client(pl->cfg.server, now_ms, &v.dst, &v.src,
						frame + v.payload_off, v.payload_len, &pl->actions);
	else
		err = turn_server__input_peer(pl->cfg.server, now_ms, &v.dst, &v.src,
					      frame + v.payload_off, v.payload_len, &pl->actions);
	if (pl->cfg.server_lock)
		pthread_mutex_unlock(pl->cfg.server_lock);
	if (err) {
		pl->stats.drops[PL_DROP_TURN_BUSY]++;
		return 0;
	}
	pipeline__emit(pl, &pl->actions, frame + v.payload_off, v.payload_len, v.has_vlan,
		       v.vlan_tci, io);
	return 0;
}
