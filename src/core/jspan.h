/* jspan.h - find where JSON values begin and end without building them
 * (pure, thread-safe, no allocation).
 *
 * Both the transform (a raw row, one issue at a time) and the Jira client
 * (an answer's issues, one at a time) parse big texts element by element: a
 * 2.5 MB page parsed whole made a ~25 MB jansson tree that fell out of the
 * CPU caches and freed millions of chunks at once. This scanner only finds
 * the boundaries: strings closed, brackets balanced. It does not validate;
 * jansson parses (and validates) each span. */
#ifndef JL_CORE_JSPAN_H
#define JL_CORE_JSPAN_H

#include <stddef.h>

/* The first byte at or after p that is not JSON whitespace (or e). */
const char *jl_jscan_ws(const char *p, const char *e);

/* Past the closing quote of a string whose opening quote is at p[-1], or
 * NULL when it does not close before e. */
const char *jl_jscan_string(const char *p, const char *e);

/* The end (one past the last byte) of the JSON value starting at p (which
 * must not be whitespace), or NULL when no value ends before e: an
 * unterminated string, unbalanced brackets, a delimiter where a value
 * should be. */
const char *jl_jscan_value(const char *p, const char *e);

/* Where a part of a text is: p == NULL when absent. */
typedef struct jl_jspan {
	const char *p;
	size_t n;
} jl_jspan;

/*
 * Walk the members of the object that text (all of it, white space around
 * allowed) holds, in order: each(ud, key, v, e) gets a member's key and the
 * first byte of its value (v < e, never white space), and returns the end of
 * that value (jl_jscan_value(v, e) when it only needs the span), or NULL to
 * stop. Returns 0; -1 when the text is not one object, its structure is
 * broken, a key holds an escape (its bytes would not be its value: the
 * caller parses the text the ordinary way instead), or each stopped.
 */
typedef const char *(*jl_jscan_member_fn)(void *ud, const jl_jspan *key, const char *v, const char *e);
int jl_jscan_members(const char *text, size_t len, jl_jscan_member_fn each, void *ud);

#endif
