/* Min-heap of timers. See timers.h. */
#include <errno.h>
#include <stdlib.h>
#include "turn/timers.h"

int turn_timers__init(struct turn_timers *ts, uint32_t cap)
{
	ts->n = 0;
	ts->cap = cap ? cap : 16;
	ts->h = malloc((size_t)ts->cap * sizeof(*ts->h));
	return ts->h ? 0 : -ENOMEM;
}

void turn_timers__destroy(struct turn_timers *ts)
{
	for (uint32_t i = 0; i < ts->n; i++)
		ts->h[i].t->idx = TURN_TIMER_IDLE;
	free(ts->h);
	ts->h = NULL;
	ts->n = ts->cap = 0;
}

size_t turn_timers__memory(const struct turn_timers *ts)
{
	return (size_t)ts->cap * sizeof(*ts->h);
}

int turn_timers__reserve(struct turn_timers *ts, uint32_t more)
{
	uint64_t want = (uint64_t)ts->n + more;
	uint32_t cap = ts->cap;
	struct turn_timer_slot *h;

	if (want <= cap)
		return 0;
	if (want > UINT32_MAX / 2)
		return -ENOMEM;
	while (cap < want)
		cap *= 2;
	h = realloc(ts->h, (size_t)cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	ts->h = h;
	ts->cap = cap;
	return 0;
}

static void place(struct turn_timers *ts, uint32_t i, struct turn_timer_slot s)
{
	ts->h[i] = s;
	s.t->idx = i;
}

static void sift_up(struct turn_timers *ts, uint32_t i)
{
	struct turn_timer_slot s = ts->h[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (ts->h[parent].expires <= s.expires)
			break;
		place(ts, i, ts->h[parent]);
		i = parent;
	}
	place(ts, i, s);
}

static void sift_down(struct turn_timers *ts, uint32_t i)
{
	struct turn_timer_slot s = ts->h[i];

	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= ts->n)
			break;
		if (c + 1 < ts->n && ts->h[c + 1].expires < ts->h[c].expires)
			c++;
		if (s.expires <= ts->h[c].expires)
			break;
		place(ts, i, ts->h[c]);
		i = c;
	}
	place(ts, i, s);
}

int turn_timers__arm(struct turn_timers *ts, struct turn_timer *t, uint64_t expires)
{
	uint64_t old = t->expires;

	t->expires = expires;
	if (t->idx != TURN_TIMER_IDLE) {
		ts->h[t->idx].expires = expires;
		if (expires < old)
			sift_up(ts, t->idx);
		else
			sift_down(ts, t->idx);
		return 0;
	}
	if (turn_timers__reserve(ts, 1))
		return -ENOMEM;
	ts->h[ts->n] = (struct turn_timer_slot){ expires, t };
	t->idx = ts->n++;
	sift_up(ts, t->idx);
	return 0;
}

void turn_timers__cancel(struct turn_timers *ts, struct turn_timer *t)
{
	uint32_t i = t->idx;

	if (i == TURN_TIMER_IDLE)
		return;
	t->idx = TURN_TIMER_IDLE;
	if (--ts->n == i)
		return;
	struct turn_timer *moved = ts->h[ts->n].t;

	place(ts, i, ts->h[ts->n]);
	/* The last slot moved into i may belong above or below it. */
	sift_up(ts, i);
	sift_down(ts, moved->idx);
}

struct turn_timer *turn_timers__pop_due(struct turn_timers *ts, uint64_t now)
{
	struct turn_timer *t;

	if (!ts->n || ts->h[0].expires > now)
		return NULL;
	t = ts->h[0].t;
	turn_timers__cancel(ts, t);
	return t;
}
