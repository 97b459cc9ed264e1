/* Relay port pool. See ports.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "turn/ports.h"

#define TAKEN UINT32_MAX

int turn_ports__init(struct turn_ports *p, uint16_t min, uint16_t max)
{
	uint32_t n;

	memset(p, 0, sizeof(*p));
	if (min == 0 || min > max)
		return -EINVAL;
	n = (uint32_t)max - min + 1;
	p->free = malloc(n * sizeof(*p->free));
	p->pos = malloc(n * sizeof(*p->pos));
	if (!p->free || !p->pos) {
		turn_ports__destroy(p);
		return -ENOMEM;
	}
	p->min = min;
	p->max = max;
	p->nfree = n;
	for (uint32_t i = 0; i < n; i++) {
		p->free[i] = (uint16_t)(min + i);
		p->pos[i] = i;
	}
	return 0;
}

void turn_ports__destroy(struct turn_ports *p)
{
	free(p->free);
	free(p->pos);
	memset(p, 0, sizeof(*p));
}

size_t turn_ports__memory(const struct turn_ports *p)
{
	return p->free ? ((size_t)p->max - p->min + 1) * (sizeof(*p->free) + sizeof(*p->pos)) : 0;
}

static bool in_range(const struct turn_ports *p, uint32_t port)
{
	return p->free && port >= p->min && port <= p->max;
}

bool turn_ports__is_free(const struct turn_ports *p, uint16_t port)
{
	return in_range(p, port) && p->pos[port - p->min] != TAKEN;
}

/* Removes free[i] by moving the last free port into its place. */
static uint16_t take_at(struct turn_ports *p, uint32_t i)
{
	uint16_t port = p->free[i], last = p->free[--p->nfree];

	p->free[i] = last;
	p->pos[last - p->min] = i;
	p->pos[port - p->min] = TAKEN;
	return port;
}

int turn_ports__take_random(struct turn_ports *p, uint32_t rnd)
{
	if (!p->nfree)
		return -ENOSPC;
	return take_at(p, (uint32_t)(((uint64_t)rnd * p->nfree) >> 32));
}

int turn_ports__take(struct turn_ports *p, uint16_t port)
{
	if (!in_range(p, port))
		return -ERANGE;
	if (p->pos[port - p->min] == TAKEN)
		return -EBUSY;
	take_at(p, p->pos[port - p->min]);
	return 0;
}

void turn_ports__put(struct turn_ports *p, uint16_t port)
{
	if (!in_range(p, port) || p->pos[port - p->min] != TAKEN)
		return;
	p->free[p->nfree] = port;
	p->pos[port - p->min] = p->nfree++;
}

static bool even_ok(const struct turn_ports *p, uint16_t port, bool pair)
{
	if (port & 1)
		return false;
	return !pair || (port < p->max && turn_ports__is_free(p, (uint16_t)(port + 1)));
}

int turn_ports__take_even(struct turn_ports *p, uint32_t rnd, bool pair)
{
	uint32_t start;

	if (!p->nfree)
		return -ENOSPC;
	/* Start at a random free port; walk the free array from there. A suitable port, when one
	 * exists, is found in at most nfree steps; in a pool that is not nearly full the first few
	 * steps find one. */
	start = (uint32_t)(((uint64_t)rnd * p->nfree) >> 32);
	for (uint32_t k = 0; k < p->nfree; k++) {
		uint32_t i = (start + k) % p->nfree;
		uint16_t port = p->free[i];

		if (!even_ok(p, port, pair))
			continue;
		take_at(p, i);
		if (pair)
			take_at(p, p->pos[port + 1 - p->min]);
		return port;
	}
	return -ENOSPC;
}
