/* tools/xturn-flood/main.c — hostile traffic for xturnd's flood tests (tests/integration/test_flood.sh).
 *
 * Writes whole Ethernet/IPv4/UDP frames on a packet socket (AF_PACKET), so that every datagram can
 * carry a spoofed source address and port, at a bounded rate and count:
 *   malformed   in turn: truncated STUN headers, bad magic cookies, attribute lengths past the end,
 *               ChannelData lengths past the end, random bytes
 *   allocate    well-formed Allocate requests without credentials (each one costs the server a 401
 *               with a fresh nonce, and must cost it no state)
 * Sources are random hosts of --src-net with random ports; checksums are right (pkt_build_udp), so
 * the frames reach the TURN core rather than dying at the checksum check. Root only; the test runs
 * it in its own namespace. Prints one line: sent=N seconds=S pps=R.
 *
 *   xturn-flood -i IFACE --dst-mac MAC --dst IP:PORT --src-net A.B.C.D/LEN
 *               [--kind malformed|allocate] [--count N] [--rate PPS] [--seed N]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "pkt/build.h"
#include "turn/stun.h"

#define BATCH 64
#define FRAME_MAX 512

enum kind { KIND_MALFORMED, KIND_ALLOCATE };

struct opts {
	const char *ifname;
	uint8_t dst_mac[6];
	struct xt_addr dst;
	uint32_t src_net, src_mask; /* host order */
	enum kind kind;
	uint64_t count, rate, seed;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One malformed STUN/ChannelData payload of the i-th kind; returns its length. */
static size_t malformed(uint64_t i, uint8_t *p)
{
	size_t len;

	switch (i % 5) {
	case 0: /* truncated header: the first bytes of a STUN request, fewer than 20 */
		len = 1 + rnd() % 19;
		fill_random(p, len);
		p[0] = 0;
		if (len > 1)
			p[1] = 0x03;
		return len;
	case 1: /* a whole header, lengths right, magic cookie wrong */
		len = STUN_HEADER_LEN + 4 * (rnd() % 16);
		fill_random(p, len);
		put_be16(p, stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST));
		put_be16(p + 2, (uint16_t)(len - STUN_HEADER_LEN));
		if (get_be32(p + 4) == STUN_MAGIC_COOKIE)
			p[4] ^= 0xFF;
		return len;
	case 2: /* a good header whose attribute claims more bytes than the message has */
		len = STUN_HEADER_LEN + 4 + 4 * (rnd() % 8);
		fill_random(p, len);
		put_be16(p, stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST));
		put_be16(p + 2, (uint16_t)(len - STUN_HEADER_LEN));
		put_be32(p + 4, STUN_MAGIC_COOKIE);
		put_be16(p + 20, STUN_ATTR_REQUESTED_TRANSPORT);
		put_be16(p + 22, (uint16_t)(len - STUN_HEADER_LEN + 1 + rnd() % 0xF000));
		return len;
	case 3: /* ChannelData whose length field runs past the datagram */
		len = CHANNELDATA_HEADER_LEN + rnd() % 200;
		fill_random(p, len);
		put_be16(p, (uint16_t)(STUN_CHANNEL_MIN + rnd() % 0x1000));
		put_be16(p + 2, (uint16_t)(len - CHANNELDATA_HEADER_LEN + 4 + rnd() % 1000));
		return len;
	default: /* random bytes */
		len = 1 + rnd() % 300;
		fill_random(p, len);
		return len;
	}
}

static size_t allocate(uint8_t *p, size_t cap)
{
	struct stun_builder b;
	uint8_t txid[STUN_TXID_LEN];
	int n;

	fill_random(txid, sizeof(txid));
	stun_builder__begin(&b, p, cap, stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST), txid);
	stun_builder__add_requested_transport(&b, STUN_TRANSPORT_UDP);
	if (rnd() & 1)
		stun_builder__add_lifetime(&b, 3600);
	stun_builder__add_fingerprint(&b);
	n = stun_builder__finish(&b);
	return n > 0 ? (size_t)n : 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

static int parse_v4_port(const char *s, struct xt_addr *a)
{
	char ip[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	uint8_t b[4];
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = 0;
	port = strtol(colon + 1, NULL, 10);
	if (inet_pton(AF_INET, ip, b) != 1 || port < 1 || port > 65535)
		return -EINVAL;
	xt_addr_set_v4(a, b, (uint16_t)port);
	return 0;
}

static int parse_net(const char *s, uint32_t *net, uint32_t *mask)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	struct in_addr in;
	long len;

	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = 0;
	len = strtol(slash + 1, NULL, 10);
	if (inet_pton(AF_INET, ip, &in) != 1 || len < 8 || len > 32)
		return -EINVAL;
	*mask = len == 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> len);
	*net = ntohl(in.s_addr) & *mask;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: xturn-flood -i IFACE --dst-mac MAC --dst IPv4:PORT "
			"--src-net A.B.C.D/LEN [--kind malformed|allocate] [--count N] "
			"[--rate PPS] [--seed N]\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' },  { "dst-mac", required_argument, NULL, 'm' },
		{ "dst", required_argument, NULL, 'd' },    { "src-net", required_argument, NULL, 's' },
		{ "kind", required_argument, NULL, 'k' },   { "count", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },   { "seed", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },	    { 0 },
	};
	bool mac = false, dst = false, net = false;
	int c;

	*o = (struct opts){ .count = 1000, .seed = 1 };
	while ((c = getopt_long(argc, argv, "i:m:d:s:k:n:r:S:h", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->ifname = optarg;
			break;
		case 'm':
			mac = !parse_mac(optarg, o->dst_mac);
			break;
		case 'd':
			dst = !parse_v4_port(optarg, &o->dst);
			break;
		case 's':
			net = !parse_net(optarg, &o->src_net, &o->src_mask);
			break;
		case 'k':
			if (!strcmp(optarg, "malformed"))
				o->kind = KIND_MALFORMED;
			else if (!strcmp(optarg, "allocate"))
				o->kind = KIND_ALLOCATE;
			else
				return -EINVAL;
			break;
		case 'n':
			o->count = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			o->rate = strtoull(optarg, NULL, 10);
			break;
		case 'S':
			o->seed = strtoull(optarg, NULL, 10);
			break;
		default:
			return -EINVAL;
		}
	}
	return o->ifname && mac && dst && net ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	static uint8_t frames[BATCH][FRAME_MAX];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_ll sll = { 0 };
	struct pkt_frame_spec spec = { 0 };
	struct ifreq ifr = { 0 };
	struct opts o;
	uint64_t sent = 0, t0, t1;
	int fd;

	if (parse_args(argc, argv, &o)) {
		usage();
		return 2;
	}
	rng_state = o.seed;
	fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: send only, receive nothing */
	if (fd < 0) {
		perror("xturn-flood: packet socket");
		return 1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o.ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		perror("xturn-flood: interface");
		return 1;
	}
	memcpy(spec.src_mac, ifr.ifr_hwaddr.sa_data, 6);
	memcpy(spec.dst_mac, o.dst_mac, 6);
	spec.dst = o.dst;
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)if_nametoindex(o.ifname);
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, o.dst_mac, 6);

	t0 = now_ns();
	while (sent < o.count) {
		unsigned int n = 0;
		int rc;

		for (; n < BATCH && sent + n < o.count; n++) {
			uint8_t payload[FRAME_MAX];
			uint32_t host = o.src_net | ((uint32_t)rnd() & ~o.src_mask);
			uint8_t ip[4] = { host >> 24, host >> 16, host >> 8, host };
			size_t len = o.kind == KIND_ALLOCATE ? allocate(payload, 256)
							      : malformed(sent + n, payload);
			int fl;

			xt_addr_set_v4(&spec.src, ip, (uint16_t)(1024 + rnd() % 64512));
			spec.ip_id = (uint16_t)rnd();
			fl = pkt_build_udp(frames[n], FRAME_MAX, &spec, payload, len);
			if (fl < 0) {
				fprintf(stderr, "xturn-flood: building a frame: %s\n", strerror(-fl));
				return 1;
			}
			iov[n] = (struct iovec){ .iov_base = frames[n], .iov_len = (size_t)fl };
			msgs[n] = (struct mmsghdr){ .msg_hdr = { .msg_name = &sll,
								 .msg_namelen = sizeof(sll),
								 .msg_iov = &iov[n],
								 .msg_iovlen = 1 } };
		}
		rc = sendmmsg(fd, msgs, n, 0);
		if (rc < 0) {
			if (errno == ENOBUFS || errno == EAGAIN) {
				usleep(100);
				continue;
			}
			perror("xturn-flood: sendmmsg");
			return 1;
		}
		sent += (uint64_t)rc;
		/* pacing: never ahead of count/rate */
		if (o.rate) {
			uint64_t due = t0 + sent * 1000000000ull / o.rate, now = now_ns();
			if (due > now) {
				struct timespec ts = { .tv_sec = (time_t)((due - now) / 1000000000ull),
						       .tv_nsec = (long)((due - now) % 1000000000ull) };
				nanosleep(&ts, NULL);
			}
		}
	}
	t1 = now_ns();
	printf("sent=%llu seconds=%.2f pps=%.0f\n", (unsigned long long)sent, (t1 - t0) / 1e9,
	       sent / ((t1 - t0) / 1e9));
	close(fd);
	return 0;
}
