/* transform.h - one raw_extraction_data row → rows of work_items,
 * changelogs and dev_status. PURE: no I/O, no libpq, no globals; safe to
 * call from many threads at once with separate in/out structs. */
#ifndef JL_TRANSFORM_TRANSFORM_H
#define JL_TRANSFORM_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

#include "../model/catalog.h"
#include "../model/rows.h"
#include "../model/rowset.h"

/* Called for each repaired value with a one-line message naming the issue
 * and field; runs on the calling thread. May be NULL. */
typedef void (*jl_warn_fn)(void *userdata, const char *message);

typedef struct jl_transform_in {
	const char *raw;            /* raw_data as text (json keeps \u0000 escapes) */
	size_t raw_len;
	int64_t raw_id;             /* written to work_items.raw_id */
	const char *project_key;    /* of the raw row; fallback for issues without project */
	const jl_catalog *catalog;  /* may be NULL: special fields detected by value shape */
	jl_warn_fn warn;
	void *warn_userdata;
} jl_transform_in;


extern const char *const jl_work_items_cols[];
extern const int jl_work_items_ncols;
extern const char *const jl_changelogs_cols[];
extern const int jl_changelogs_ncols;
extern const char *const jl_dev_status_cols[];
extern const int jl_dev_status_ncols;
/* external_id (NULL when the id could not be read), key, position (index in
 * the raw row's issues), error: one row per issue that could not be mapped. */
extern const char *const jl_issue_errors_cols[];
extern const int jl_issue_errors_ncols;

/* Empty rowsets with their column lists. Never fails. */
void jl_transform_out_init(jl_transform_out *out);
/* Free the rowsets. NULL-safe. */
void jl_transform_out_free(jl_transform_out *out);

/*
 * Map the raw row. Input `raw` is {"issues":[…], "changelogs":{id:[…]},
 * "dev_status":{id:{summary,detail}}} (a bare array of issues or a Jira
 * search page {"issues":[…]} is read the same way).
 * One bad issue costs only itself: an issue that cannot be mapped (no id
 * or key, a field of an unexpected type, invalid JSON inside its element)
 * leaves no row in the other rowsets, gets a row in out->issue_errors, is
 * handed to the warn callback, and the next issue goes on.
 * Returns JETL_OK (issue_errors may hold rows); JETL_EDATA with out->err
 * when the row as a whole cannot be read (invalid JSON outside one issue's
 * element, no "issues" array, changelogs/dev_status of the wrong type);
 * JETL_ENOMEM. On failure the rowsets hold partial rows: do not load them.
 */
int jl_transform_raw(const jl_transform_in *in, jl_transform_out *out);

#endif
