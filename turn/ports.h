/* turn/ports.h — the relay port pool of one relay address (RFC 8656 §7.2: random, collision-free).
 *
 * The free ports of [min, max] sit in an array; taking one at random swaps it with the last free
 * one, so every take, put and lookup is O(1) and the choice is uniform over the free ports
 * (RFC 6056 §3.3.2's concern: relay ports must not be predictable). No randomness of its own: the
 * caller passes a random number. No malloc after init.
 */
#ifndef XTURN_TURN_PORTS_H
#define XTURN_TURN_PORTS_H

#include <stdbool.h>
#include <stdint.h>

struct turn_ports {
	uint16_t min, max;
	uint32_t nfree;
	uint16_t *free; /* free[0..nfree): free ports */
	uint32_t *pos;	/* pos[port - min]: index in free[], or UINT32_MAX when taken */
};

/* 0, -EINVAL (min > max or min == 0), -ENOMEM. */
int turn_ports__init(struct turn_ports *p, uint16_t min, uint16_t max);
void turn_ports__destroy(struct turn_ports *p);
/* Bytes held (memory accounting). */
size_t turn_ports__memory(const struct turn_ports *p);

/* A uniformly random free port (rnd: any 32-bit random number), now taken; -ENOSPC when none. */
int turn_ports__take_random(struct turn_ports *p, uint32_t rnd);
/* A random free even port, with port + 1 free too when pair (both taken then; RFC 8656 §7.2
 * EVEN-PORT with the R bit). -ENOSPC when none. */
int turn_ports__take_even(struct turn_ports *p, uint32_t rnd, bool pair);
/* Takes a given port: 0, -EBUSY (taken), -ERANGE (outside the range). */
int turn_ports__take(struct turn_ports *p, uint16_t port);
/* Returns a taken port to the pool (a port not taken or out of range is ignored). */
void turn_ports__put(struct turn_ports *p, uint16_t port);
bool turn_ports__is_free(const struct turn_ports *p, uint16_t port);

#endif
