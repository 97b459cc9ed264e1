/* app/iface.h — facts about a network interface that xturnd and its tools read: MAC, RX queues.
 * Reads only; changes nothing on the interface. */
#ifndef XTURN_APP_IFACE_H
#define XTURN_APP_IFACE_H

#include <stdint.h>

/* The interface's MAC: 0 or -errno (ENODEV: no such interface). */
int iface_mac(const char *ifname, uint8_t mac[6]);

/* How many RX queues the interface has (at least 1). */
unsigned int iface_rx_queues(const char *ifname);

#endif
