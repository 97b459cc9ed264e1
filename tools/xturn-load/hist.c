/* tools/xturn-load/hist.c — log-linear latency histogram (see load.h).
 *
 * Values below 2^HIST_SUB_BITS are exact; above, each power of two is cut into 2^HIST_SUB_BITS equal
 * buckets, so a quantile is off by at most 1/64 of its value. Fixed size, no allocation.
 */
#include "tools/xturn-load/load.h"

static unsigned int bucket_of(uint64_t v)
{
	unsigned int msb, shift;

	if (v < (1u << HIST_SUB_BITS))
		return (unsigned int)v;
	msb = 63u - (unsigned int)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	/* bucket group shift+1 holds [2^msb, 2^(msb+1)) in 2^SUB steps of 2^shift */
	return ((shift + 1) << HIST_SUB_BITS) + (unsigned int)((v >> shift) - (1u << HIST_SUB_BITS));
}

static uint64_t bucket_top(unsigned int i)
{
	unsigned int group = i >> HIST_SUB_BITS, sub = i & ((1u << HIST_SUB_BITS) - 1);

	if (!group)
		return sub;
	return (((uint64_t)(sub + (1u << HIST_SUB_BITS)) + 1) << (group - 1)) - 1;
}

void hist__add(struct hist *h, uint64_t v)
{
	unsigned int i = bucket_of(v);

	if (i >= HIST_BUCKETS)
		i = HIST_BUCKETS - 1;
	h->b[i]++;
	if (!h->count || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += (double)v;
}

uint64_t hist__quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	if (q < 0)
		q = 0;
	rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > rank) {
			uint64_t top = bucket_top(i);

			return top > h->max ? h->max : top;
		}
	}
	return h->max;
}
