/* tools/xturn-replay/live.c — see live.h. */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "tools/xturn-replay/live.h"

#define MAX_FRAME 65536

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* sendto, waiting (bounded) while the device queue is full. */
static int send_frame(int fd, const struct sockaddr_ll *sll, const uint8_t *p, size_t len)
{
	for (int tries = 0; tries < 1000; tries++) {
		if (sendto(fd, p, len, 0, (const struct sockaddr *)sll, sizeof(*sll)) ==
		    (ssize_t)len)
			return 0;
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			return -errno;
		poll(NULL, 0, 1);
	}
	return -ENOBUFS;
}

int live_run(const struct live_opts *o)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	static uint8_t buf[MAX_FRAME];
	unsigned long long sent = 0, skipped = 0;
	struct pcap_pkthdr *h;
	const u_char *data;
	int64_t start_ns = 0, first_us = 0, elapsed;
	int fd = -1, ret = 0, rc;
	pcap_t *in;

	in = pcap_open_offline_with_tstamp_precision(o->in_path, PCAP_TSTAMP_PRECISION_MICRO,
						     errbuf);
	if (!in) {
		fprintf(stderr, "xturn-replay: %s: %s\n", o->in_path, errbuf);
		return -EINVAL;
	}
	if (pcap_datalink(in) != DLT_EN10MB) {
		fprintf(stderr, "xturn-replay: %s: not an Ethernet capture\n", o->in_path);
		ret = -EINVAL;
		goto out_close_pcap;
	}
	sll.sll_ifindex = (int)if_nametoindex(o->ifname);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "xturn-replay: %s: no such interface\n", o->ifname);
		ret = -ENODEV;
		goto out_close_pcap;
	}
	/* Protocol 0: this socket only sends, it receives nothing. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		fprintf(stderr, "xturn-replay: packet socket: %s\n", strerror(errno));
		goto out_close_pcap;
	}
	while ((rc = pcap_next_ex(in, &h, &data)) == 1) {
		int64_t ts_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;

		if (h->caplen < 14 || h->caplen < h->len || h->caplen > MAX_FRAME ||
		    !memcmp(data + 6, o->skip_src_mac, 6)) {
			skipped++;
			continue;
		}
		if (!sent) {
			start_ns = mono_ns();
			first_us = ts_us;
		} else if (!o->fast && ts_us > first_us) {
			sleep_until(start_ns + (ts_us - first_us) * 1000);
		}
		memcpy(buf, data, h->caplen);
		if (o->set_dst_mac)
			memcpy(buf, o->dst_mac, 6);
		memcpy(sll.sll_addr, buf, 6);
		ret = send_frame(fd, &sll, buf, h->caplen);
		if (ret) {
			fprintf(stderr, "xturn-replay: %s: sending frame %llu: %s\n", o->ifname,
				sent + skipped + 1, strerror(-ret));
			goto out_close_sock;
		}
		sent++;
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "xturn-replay: %s: %s\n", o->in_path, pcap_geterr(in));
		ret = -EIO;
	}
	elapsed = sent ? mono_ns() - start_ns : 0;
	if (!o->quiet)
		fprintf(stderr, "xturn-replay: %llu frames sent on %s (%llu skipped) in %.3f s%s\n",
			sent, o->ifname, skipped, (double)elapsed / 1e9,
			o->fast ? ", as fast as possible" : ", at the captured pace");
out_close_sock:
	close(fd);
out_close_pcap:
	pcap_close(in);
	return ret;
}
