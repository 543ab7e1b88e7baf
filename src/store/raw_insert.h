/* raw_insert.h - writing raw_extraction_data rows (the verbatim Jira pages). */
#ifndef JL_STORE_RAW_INSERT_H
#define JL_STORE_RAW_INSERT_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

/* Where a producer writes the JSON text of a raw row, piece by piece. */
typedef struct jl_raw_sink jl_raw_sink;

/*
 * Append len bytes of the JSON text (any split, even inside a token). The
 * signature is jansson's json_dump_callback_t, so a tree can be dumped
 * straight into the row: json_dump_callback(tree, jl_raw_sink_put, sink, …).
 * Returns 0, or -1 once the write failed (the insert then fails).
 */
int jl_raw_sink_put(const char *data, size_t len, void *sink);

/* Writes the whole JSON text of the row into sink with jl_raw_sink_put;
 * returns 0, or non-zero to abandon the insert. */
typedef int (*jl_raw_produce)(void *ud, jl_raw_sink *sink);

/*
 * Called by jl_raw_insert_stream, on the inserting thread, about every
 * millisecond while the server is still storing the row after its last
 * byte was sent (the caller's other work goes on meanwhile; it must not use
 * the connection). Set from produce; unset, the insert just blocks.
 */
void jl_raw_sink_on_wait(jl_raw_sink *sink, void (*wait)(void *ud), void *ud);

/*
 * Insert one raw row (status 'pending') and return its id. The JSON text is
 * whatever produce(ud, sink) writes (kept verbatim in a json column, \u0000
 * escapes included); it is streamed to the server with COPY in pieces of
 * 64 KB, so no copy of the whole text is ever held in memory. Autocommit:
 * the row is durable when this returns 0. Returns a negative status with err
 * on failure (classified by SQLSTATE, see jl_store_error in db.h), -2 when
 * produce failed (nothing is stored, err says "…: abandoned"; -2 is never a
 * status jl_store_error gives).
 */
int jl_raw_insert_stream(PGconn *pg, int tenant, int integration, int64_t job_id, const char *type,
	const char *project_key, jl_raw_produce produce, void *ud, int item_count,
	int64_t *id, char *err, size_t errlen);

/* jl_raw_insert_stream of a JSON text held in memory. */
int jl_raw_insert(PGconn *pg, int tenant, int integration, int64_t job_id, const char *type,
	const char *project_key, const char *json, size_t json_len, int item_count,
	int64_t *id, char *err, size_t errlen);

/* Count raw rows of a job by status; any pointer may be NULL. */
int jl_raw_counts(PGconn *pg, int64_t job_id, int64_t *pending, int64_t *completed,
	int64_t *failed, char *err, size_t errlen);

/* In its own transaction (call after ROLLBACK): status = failed, the
 * one-line error, attempts + 1, processed_at = now(). 0 or a status. */
int jl_raw_mark_failed(PGconn *pg, int tenant, int integration, int64_t raw_id, const char *error,
	char *err, size_t errlen);

/* Transforms tried on a raw row (0 when the row or the answer is missing). */
int jl_raw_attempts(PGconn *pg, int64_t raw_id);

#endif
