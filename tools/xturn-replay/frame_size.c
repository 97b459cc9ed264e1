/* tools/xturn-replay/frame_size.c — keeps the replay's buffers the size of xturnd's UMEM frames. */
#include "app/xsk.h"
#include "tools/xturn-replay/replay.h"

_Static_assert(REPLAY_FRAME_SIZE == XSK_FRAME_SIZE,
	       "replay buffers must match xturnd's UMEM frames");
