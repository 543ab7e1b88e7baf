/* sync_state.h - per-project incremental watermarks (kept in UTC), each with
 * the scope it covers: the extra JQL of the runs that made it ('' = the
 * whole project). */
#ifndef JL_STORE_SYNC_STATE_H
#define JL_STORE_SYNC_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

/* Read the watermark as Unix seconds and its scope (into scope, may be
 * NULL); *found = 0 when the project has none. */
int jl_sync_get(PGconn *pg, int tenant, int integration, const char *project,
	int64_t *epoch, int *found, char *scope, size_t scopelen, char *err, size_t errlen);

/* Set the watermark of scope (NULL = '') and record the job: forward only
 * when the stored one has the same scope and replace is 0; otherwise it
 * becomes epoch (a full run, a new scope, a stored one in the future).
 * Call only after the data it covers is committed. */
int jl_sync_set(PGconn *pg, int tenant, int integration, const char *project,
	int64_t epoch, int64_t job_id, const char *scope, int replace, char *err, size_t errlen);

#endif
