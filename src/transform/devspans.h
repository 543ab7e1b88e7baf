/* devspans.h - where each issue's dev-status detail is in a raw row's
 * "dev_status" text (pure, thread-safe: no globals).
 *
 * The detail goes to dev_status.detail (jsonb) as Jira sent it. Built as a
 * tree and written out again, it was about a third of the tree nodes of a
 * small issue's raw row (the benchmark's data: 10.6k of 41k per 100
 * issues). With its text found here, the transform builds only the parts
 * it counts (a tree with the unread keys left out, jparse.h) and copies the
 * text: the same JSON, as overflow custom fields are (custom_fields.c). */
#ifndef JL_TRANSFORM_DEVSPANS_H
#define JL_TRANSFORM_DEVSPANS_H

#include <stddef.h>

#include "jscan.h"

typedef struct jl_dev_span {
	jl_jspan id;       /* the member's key (no escapes) */
	jl_jspan detail;   /* the last "detail" value of its entry, p NULL if none */
} jl_dev_span;

typedef struct jl_dev_spans {
	jl_dev_span *v;
	size_t n, cap;
} jl_dev_spans;

/* Index the members of the object text (n bytes): each issue id and its
 * entry's "detail". Returns 0; -1 when the text cannot be walked without
 * parsing (an escaped key, broken structure: the caller builds whole trees
 * instead); JL_DEVSPANS_NOMEM when out of memory. Clears *ds first. */
enum { JL_DEVSPANS_NOMEM = -2 };
int jl_dev_spans_index(jl_dev_spans *ds, const char *text, size_t n);

/* The detail text of issue id (the last member of that key, as jansson
 * keeps), or NULL when there is none. */
const jl_jspan *jl_dev_spans_detail(const jl_dev_spans *ds, const char *id);

void jl_dev_spans_free(jl_dev_spans *ds);

#endif
