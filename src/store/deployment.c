/* deployment.c - the deployment id, and pending raw rows nobody works on. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "deployment.h"

int jl_deployment_read(PGconn *pg, char id[37], char *err, size_t errlen)
{
	PGresult *r = NULL;
	int rc = jl_store_query(pg, "reading the deployment id (jetl migrate makes it)",
		"SELECT id::text FROM jetl_deployment", 0, NULL, &r, err, errlen);

	if (rc < 0)
		return rc;
	if (PQntuples(r) != 1 || PQgetlength(r, 0, 0) != 36) {
		snprintf(err, errlen, "postgresql: jetl_deployment holds %d row(s): it must hold one", PQntuples(r));
		PQclear(r);
		return -1;
	}
	memcpy(id, PQgetvalue(r, 0, 0), 37);
	PQclear(r);
	return 0;
}

/*
 * One statement: claim the quiet jobs (FOR UPDATE SKIP LOCKED, so two
 * sweepers never take the same job at once), stamp their pending rows'
 * requeued_at (the next re-publish is $2 seconds later) and list them.
 * "Quiet": running, no lease (a process that holds the job is working on
 * it), some raw row pending, and no raw row of the job written, processed
 * or re-queued for $2 seconds.
 */
#define QUIET_JOBS \
"  SELECT j.id FROM etl_job_queue j" \
"  WHERE j.status = 'running' AND j.lease_until IS NULL" \
"    AND ($1::bigint = 0 OR j.id = $1::bigint)" \
"    AND EXISTS (SELECT 1 FROM raw_extraction_data r WHERE r.job_id = j.id AND r.status = 'pending' AND r.active)" \
"    AND NOT EXISTS (SELECT 1 FROM raw_extraction_data r WHERE r.job_id = j.id" \
"      AND greatest(r.created_at, r.processed_at, r.requeued_at) > now() - $2::int * interval '1 second')"

static const char claim_sql[] =
"WITH quiet AS (" QUIET_JOBS
"  FOR UPDATE SKIP LOCKED),"
" rows AS ("
"  UPDATE raw_extraction_data r SET requeued_at = now() FROM quiet"
"  WHERE r.job_id = quiet.id AND r.status = 'pending' AND r.active"
"  RETURNING r.tenant_id, r.integration_id, r.job_id, r.id),"
" note AS ("
"  UPDATE etl_job_queue j SET updated_at = now(), message = format('raw rows re-queued: no progress for %s s', $2)"
"  FROM quiet WHERE j.id = quiet.id)"
" SELECT tenant_id, integration_id, job_id, id FROM rows ORDER BY job_id, id";

int jl_stale_count(PGconn *pg, int64_t job_id, int seconds, int64_t *jobs, char *err, size_t errlen)
{
	char j[24], s[16];
	const char *p[2] = { j, s };

	snprintf(j, sizeof(j), "%" PRId64, job_id > 0 ? job_id : 0);
	snprintf(s, sizeof(s), "%d", seconds);
	return jl_store_int64(pg, "looking for pending raw rows that do not move", "SELECT count(*) FROM (" QUIET_JOBS ") q",
		2, p, jobs, err, errlen);
}

int jl_stale_claim(PGconn *pg, int64_t job_id, int seconds, jl_stale_row **rows, size_t *n,
	char *err, size_t errlen)
{
	char j[24], s[16];
	const char *p[2] = { j, s };
	PGresult *r = NULL;
	int rc, k, nt;

	*rows = NULL;
	*n = 0;
	snprintf(j, sizeof(j), "%" PRId64, job_id > 0 ? job_id : 0);
	snprintf(s, sizeof(s), "%d", seconds);
	if ((rc = jl_store_query(pg, "re-queueing pending raw rows", claim_sql, 2, p, &r, err, errlen)) < 0)
		return rc;
	nt = PQntuples(r);
	if (nt > 0 && !(*rows = calloc((size_t)nt, sizeof(**rows)))) {
		PQclear(r);
		snprintf(err, errlen, "re-queueing pending raw rows: out of memory");
		return -1;
	}
	for (k = 0; k < nt; k++) {
		(*rows)[k].tenant = atoi(PQgetvalue(r, k, 0));
		(*rows)[k].integration = atoi(PQgetvalue(r, k, 1));
		(*rows)[k].job_id = strtoll(PQgetvalue(r, k, 2), NULL, 10);
		(*rows)[k].raw_id = strtoll(PQgetvalue(r, k, 3), NULL, 10);
	}
	*n = (size_t)nt;
	PQclear(r);
	return 0;
}
