/* word.h - eight bytes at a time: the word tests the text scanners use
 * (COPY escaping in src/store/copy.c, JSON strings in
 * src/transform/jparse.c) to skip runs of plain bytes. Pure and inline:
 * no state, any thread. Each returns a word whose high bit is set in (at
 * least) one byte when the answer is yes, and 0 when no byte qualifies: a
 * scanner steps 8 bytes while the test says 0 and then looks byte by byte. */
#ifndef JL_CORE_WORD_H
#define JL_CORE_WORD_H

#include <stdint.h>
#include <string.h>

#define JL_WORD_ONES 0x0101010101010101u
#define JL_WORD_HIGH 0x8080808080808080u

/* The 8 bytes at p (any alignment). */
static inline uint64_t jl_word_at(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* Some byte is below n (n <= 0x80). */
static inline uint64_t jl_word_below(uint64_t v, unsigned n)
{
	return (v - JL_WORD_ONES * n) & ~v & JL_WORD_HIGH;
}

/* Some byte equals c. */
static inline uint64_t jl_word_has(uint64_t v, unsigned char c)
{
	return jl_word_below(v ^ (JL_WORD_ONES * c), 1);
}

/* Some byte is 0x80 or above. */
static inline uint64_t jl_word_high(uint64_t v)
{
	return v & JL_WORD_HIGH;
}

#endif
