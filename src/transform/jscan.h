/* jscan.h - find where JSON values begin and end without building them
 * (pure, thread-safe, no allocation).
 *
 * The transform parses a raw row one issue at a time: a 2.5 MB page parsed
 * whole made a ~25 MB jansson tree that fell out of the CPU caches and
 * freed millions of chunks at once; 100 trees of ~25 KB parse ~35% faster.
 * This scanner only finds the boundaries: strings closed, brackets
 * balanced. It does not validate; jansson parses (and validates) each span. */
#ifndef JL_TRANSFORM_JSCAN_H
#define JL_TRANSFORM_JSCAN_H

#include <stddef.h>

/* The first byte at or after p that is not JSON whitespace (or e). */
const char *jl_jscan_ws(const char *p, const char *e);

/* The end (one past the last byte) of the JSON value starting at p (which
 * must not be whitespace), or NULL when no value ends before e: an
 * unterminated string, unbalanced brackets, a delimiter where a value
 * should be. */
const char *jl_jscan_value(const char *p, const char *e);

/* Where a raw row's parts are: p == NULL when absent. */
typedef struct jl_jspan {
	const char *p;
	size_t n;
} jl_jspan;

/*
 * Split a raw row: either an array of issues, or an object whose only keys
 * are "issues", "changelogs" and "dev_status" (the last of a repeated key
 * wins, as in jansson). Returns 0, or -1 for anything else (another key, an
 * escaped key, text after the value, broken structure): the caller then
 * parses the whole text the ordinary way, which also names the error.
 */
int jl_jscan_raw_row(const char *raw, size_t len, jl_jspan *issues, jl_jspan *logs, jl_jspan *devs);

#endif
