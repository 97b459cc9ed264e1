/* app/neigh.h — next-hop MACs for frames xturnd builds in user space.
 *
 * Mirrors, for one interface, the kernel's routes (which next hop serves a destination) and
 * neighbours (that next hop's MAC), read over rtnetlink and kept fresh from its notifications. The data
 * path only reads the mirror; it never waits on netlink. An unknown neighbour is never answered with a
 * zero MAC: lookup says -EAGAIN, the destination is queued, and the control thread asks the kernel to
 * resolve it (RTM_NEWNEIGH with NTF_USE, as a kernel socket's first packet would).
 */
#ifndef XTURN_APP_NEIGH_H
#define XTURN_APP_NEIGH_H

#include <stdbool.h>
#include "pkt/addr.h"

struct neigh_cache;

/* Opens the netlink sockets and loads routes and neighbours of ifindex; NULL + errno on failure. */
struct neigh_cache *neigh_cache__new(int ifindex);
void neigh_cache__free(struct neigh_cache *nc);

/* A cache without netlink, for offline replay and tests: every destination is on-link, and its MAC
 * is whatever neigh_cache__set() said (-EAGAIN until then). poll() does nothing. */
struct neigh_cache *neigh_cache__new_static(void);
/* Sets (or replaces) the MAC of ip (port ignored). 0, or -ENOSPC when the table is full. */
int neigh_cache__set(struct neigh_cache *nc, const struct xt_addr *ip, const __u8 mac[6]);

/* The MAC of the next hop towards dst (port ignored): 0; -EAGAIN while it is being resolved (the
 * caller drops and counts); -ENETUNREACH when no route of this interface reaches dst. Thread-safe. */
int neigh_cache__lookup(struct neigh_cache *nc, const struct xt_addr *dst, __u8 mac[6]);

/* Control thread: reads pending notifications, reloads routes when they changed, and asks the kernel
 * to resolve queued next hops. Never blocks. Returns 0 or -errno. */
int neigh_cache__poll(struct neigh_cache *nc);

/* True once after routes or neighbours changed (the XDP program's FIB answer cache must go). */
bool neigh_cache__take_changed(struct neigh_cache *nc);

/* File descriptor that becomes readable on a notification (for poll()). */
int neigh_cache__fd(const struct neigh_cache *nc);

struct neigh_stats {
	unsigned long long hits, unresolved, unreachable, resolutions_requested;
	unsigned int routes, neighbours;
};
void neigh_cache__stats(struct neigh_cache *nc, struct neigh_stats *out);

#endif
