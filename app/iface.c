/* app/iface.c — see iface.h. */
#include <errno.h>
#include <glob.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "app/iface.h"

int iface_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

unsigned int iface_rx_queues(const char *ifname)
{
	char pattern[96];
	glob_t g;
	unsigned int n = 1;

	snprintf(pattern, sizeof(pattern), "/sys/class/net/%s/queues/rx-*", ifname);
	if (glob(pattern, 0, NULL, &g) == 0) {
		n = (unsigned int)g.gl_pathc;
		globfree(&g);
	}
	return n ? n : 1;
}
