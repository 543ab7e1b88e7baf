/* jscan.h - a raw row's parts, found without building them (pure,
 * thread-safe, no allocation).
 *
 * The transform parses a raw row one issue at a time: a 2.5 MB page parsed
 * whole made a ~25 MB jansson tree that fell out of the CPU caches and
 * freed millions of chunks at once; 100 trees of ~25 KB parse ~35% faster.
 * The scanner itself is core's (jspan.h); this splits a raw row. */
#ifndef JL_TRANSFORM_JSCAN_H
#define JL_TRANSFORM_JSCAN_H

#include "../core/jspan.h"   /* jl_jscan_ws, jl_jscan_value, jl_jspan */

/*
 * Split a raw row: either an array of issues, or an object whose only keys
 * are "issues", "changelogs" and "dev_status" (the last of a repeated key
 * wins, as in jansson). Returns 0, or -1 for anything else (another key, an
 * escaped key, text after the value, broken structure): the caller then
 * parses the whole text the ordinary way, which also names the error.
 */
int jl_jscan_raw_row(const char *raw, size_t len, jl_jspan *issues, jl_jspan *logs, jl_jspan *devs);

/* The same with the keys "comments" and "worklogs" too: sp[0..4] = issues,
 * changelogs, dev_status, comments, worklogs (p NULL when absent). */
#define JL_RAW_NPARTS 5
int jl_jscan_raw_items(const char *raw, size_t len, jl_jspan sp[JL_RAW_NPARTS]);

#endif
