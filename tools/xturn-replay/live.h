/* tools/xturn-replay/live.h — replays a capture onto a network interface through a packet socket
 * (AF_PACKET, SOCK_RAW), at the captured pace or as fast as the socket takes frames, to drive a
 * running xturnd or any other relay. Needs CAP_NET_RAW. It sends frames as captured (optionally
 * with a new destination MAC) and looks at no answer.
 */
#ifndef XTURN_TOOLS_LIVE_H
#define XTURN_TOOLS_LIVE_H

#include <stdbool.h>
#include <stdint.h>

struct live_opts {
	const char *ifname;
	const char *in_path;
	bool fast;	  /* back to back; otherwise at the capture's pace */
	bool set_dst_mac; /* rewrite every frame's destination MAC to dst_mac */
	uint8_t dst_mac[6];
	uint8_t skip_src_mac[6]; /* frames from this MAC (the relay's own, in a two-way capture)
				  * are not sent */
	bool quiet;
};

/* Returns 0 when every frame was sent, or -errno after one line on stderr. */
int live_run(const struct live_opts *o);

#endif
