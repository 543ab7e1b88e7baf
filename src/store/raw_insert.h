/* raw_insert.h - writing raw_extraction_data rows (the verbatim Jira pages). */
#ifndef JL_STORE_RAW_INSERT_H
#define JL_STORE_RAW_INSERT_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

/*
 * Insert one raw row (status 'pending') and return its id. json is the JSON
 * text (kept verbatim in a json column, \u0000 escapes included). Autocommit:
 * the row is durable when this returns 0. Returns -1 with err on failure.
 */
int jl_raw_insert(PGconn *pg, int tenant, int integration, int64_t job_id, const char *type,
	const char *project_key, const char *json, size_t json_len, int item_count,
	int64_t *id, char *err, size_t errlen);

/* Count raw rows of a job by status; any pointer may be NULL. */
int jl_raw_counts(PGconn *pg, int64_t job_id, int64_t *pending, int64_t *completed,
	int64_t *failed, char *err, size_t errlen);

#endif
