/* sync_state.h - per-project incremental watermarks (kept in UTC). */
#ifndef JL_STORE_SYNC_STATE_H
#define JL_STORE_SYNC_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

/* Read the watermark as Unix seconds; *found = 0 when the project has none. */
int jl_sync_get(PGconn *pg, int tenant, int integration, const char *project,
	int64_t *epoch, int *found, char *err, size_t errlen);

/* Move the watermark forward to epoch (never backwards) and record the job.
 * Call only after the data it covers is committed. */
int jl_sync_set(PGconn *pg, int tenant, int integration, const char *project,
	int64_t epoch, int64_t job_id, char *err, size_t errlen);

#endif
