/* fuzz.h - what the libFuzzer targets share (tests/fuzz/, built by
 * scripts/fuzz; -Dfuzz=true with clang). */
#ifndef JETL_FUZZ_H
#define JETL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (malloc'd; aborts on OOM). Most of
 * the parsers read C strings: Jira's values arrive as JSON strings. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Checks that must hold whatever the input: abort() so libFuzzer keeps the
 * input as a crash. */
#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)

#endif
