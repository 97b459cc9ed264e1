/* turn/timers.h — the expiry times of allocations, permissions, channels and reservations.
 *
 * A binary min-heap of (expiry, timer) pairs: arming, re-arming and cancelling are O(log n), the
 * next expiry is O(1), and a tick touches only what is due — never every allocation. Each timer is
 * embedded in the object it times and knows its heap slot. Times are opaque uint64 (milliseconds in
 * turn/server). The heap array grows by doubling; turn_timers__reserve() lets a caller grow it
 * before it changes any state, so that arming never fails half-way.
 */
#ifndef XTURN_TURN_TIMERS_H
#define XTURN_TURN_TIMERS_H

#include <stddef.h>
#include <stdint.h>

#define TURN_TIMER_IDLE UINT32_MAX

struct turn_timer {
	uint64_t expires;
	uint32_t idx; /* heap slot, TURN_TIMER_IDLE when not armed */
	uint8_t kind; /* the owner's tag (what the timer is embedded in) */
};

struct turn_timer_slot {
	uint64_t expires; /* copy of timer->expires: comparisons stay within the heap array */
	struct turn_timer *t;
};

struct turn_timers {
	struct turn_timer_slot *h;
	uint32_t n, cap;
};

static inline void turn_timer__init(struct turn_timer *t, uint8_t kind)
{
	t->expires = 0;
	t->idx = TURN_TIMER_IDLE;
	t->kind = kind;
}

static inline int turn_timer__armed(const struct turn_timer *t)
{
	return t->idx != TURN_TIMER_IDLE;
}

/* 0 or -ENOMEM. */
int turn_timers__init(struct turn_timers *ts, uint32_t cap);
void turn_timers__destroy(struct turn_timers *ts);
/* Makes room for `more` timers beyond those armed: 0 or -ENOMEM. */
int turn_timers__reserve(struct turn_timers *ts, uint32_t more);
/* Arms t at expires, or moves it there if armed. 0 or -ENOMEM (only when not reserved). */
int turn_timers__arm(struct turn_timers *ts, struct turn_timer *t, uint64_t expires);
void turn_timers__cancel(struct turn_timers *ts, struct turn_timer *t);
/* The earliest expiry, UINT64_MAX when empty. */
static inline uint64_t turn_timers__next(const struct turn_timers *ts)
{
	return ts->n ? ts->h[0].expires : UINT64_MAX;
}
/* Disarms and returns the earliest timer if it is due (expires <= now), else NULL. */
struct turn_timer *turn_timers__pop_due(struct turn_timers *ts, uint64_t now);
size_t turn_timers__memory(const struct turn_timers *ts);

#endif
