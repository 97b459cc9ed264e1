/* tests/fuzz/fuzz_util.h — small helpers shared by the libFuzzer targets of tests/fuzz/.
 *
 * FUZZ_ASSERT aborts (a crash libFuzzer records with its input) when a module breaks one of its own
 * promises; a fuzz_reader hands out the fuzz input as typed values, returning zeros once it is
 * exhausted so that every input decodes to something.
 */
#ifndef XTURN_TESTS_FUZZ_UTIL_H
#define XTURN_TESTS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

struct fuzz_reader {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t fr_u8(struct fuzz_reader *r)
{
	if (!r->left)
		return 0;
	r->left--;
	return *r->p++;
}

static inline uint16_t fr_u16(struct fuzz_reader *r)
{
	uint16_t hi = fr_u8(r);

	return (uint16_t)(hi << 8 | fr_u8(r));
}

static inline uint32_t fr_u32(struct fuzz_reader *r)
{
	uint32_t hi = fr_u16(r);

	return hi << 16 | fr_u16(r);
}

/* Up to want bytes (fewer when the input ends); returns how many, *out points at them. */
static inline size_t fr_bytes(struct fuzz_reader *r, size_t want, const uint8_t **out)
{
	size_t n = want < r->left ? want : r->left;

	*out = r->p;
	r->p += n;
	r->left -= n;
	return n;
}

#endif
