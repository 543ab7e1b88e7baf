/* json.h - JSON text as PostgreSQL will store it (pure, thread-safe).
 *
 * jansson forgets a number's original text; these helpers write the
 * shortest decimal that reads back as the same double, so 0.1 stays "0.1"
 * (jansson's own %.17g would give 0.10000000000000001 to jsonb). */
#ifndef JL_TRANSFORM_JSON_H
#define JL_TRANSFORM_JSON_H

#include <jansson.h>

#include "../core/buf.h"

/* Append the shortest exact decimal of d ("3", "0.1", "1.5e-07").
 * keep_point: write "5.0" rather than "5" (JSON reals in overflow keep
 * their decimal point, so jsonb keeps the scale Jira sent). Returns 0/-1. */
int jl_json_put_real(jl_buf *out, double d, int keep_point);

/* Append v as compact JSON (no spaces; UTF-8 kept as is; object keys in
 * Jira's order). Strings are written with NULs already removed by
 * jl_json_strip_nul. Returns 0, or -1 on OOM or a non-finite real. */
int jl_json_compact(jl_buf *out, const json_t *v);

/* Remove every U+0000 from the strings inside v, in place; returns how many
 * strings changed (each is one warning for the caller), or -1 on OOM. */
long jl_json_strip_nul(json_t *v);

/* jl_json_strip_nul on every member of the object obj but those named in
 * keep (a NULL-terminated list); a non-object is stripped whole. */
long jl_json_strip_nul_except(json_t *obj, const char *const *keep);

/*
 * Identifiers (issue ids and keys, history ids) are written escaped, not
 * stripped: "5\u00001" and "51" must stay two ids. U+0000 becomes "%00" and
 * '%' becomes "%25", so the mapping is one to one; an id holding neither
 * (every id Jira makes) is written as it is. jl_id_needs_escape says whether
 * s does; jl_id_escape appends its escaped form to out (0, or -1 on OOM).
 */
int jl_id_needs_escape(const char *s, size_t len);
int jl_id_escape(jl_buf *out, const char *s, size_t len);

/* Append a scalar as text: string as is, integer in decimal, real as the
 * shortest exact decimal, true/false; NULL → nothing. Returns 0, or -1 when
 * v is not a scalar. */
int jl_json_scalar_text(jl_buf *out, const json_t *v);

#endif
