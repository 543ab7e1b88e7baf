/* claims.c - etl_project_claims: who extracts which project now. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl/common.h"
#include "claims.h"
#include "db.h"
#include "jobs.h"

/* pg_advisory_xact_lock(CLAIM_LOCK_CLASS, hashtext('tenant/integration')):
 * creating jobs of one integration takes turns; others do not wait. The
 * class differs from the migrations' lock key (migrate.c). */
#define CLAIM_LOCK_CLASS "1785029741"

/* A live claim of another job on one of $3's projects. Live: the job is
 * queued or running and, when one process holds it, its lease has not run
 * out (a lease that ran out is a process gone: the sweep ends that job). */
static const char busy_sql[] =
"SELECT c.job_id, c.project_key,"
" coalesce(to_char(j.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC', 'its creation')"
" FROM etl_project_claims c JOIN etl_job_queue j ON j.id = c.job_id"
" WHERE c.tenant_id = $1 AND c.integration_id = $2"
" AND c.project_key IN (SELECT upper(k) FROM jsonb_array_elements_text($3::jsonb -> 'projects') k)"
" AND j.status IN ('queued', 'running') AND (j.lease_until IS NULL OR j.lease_until > now())"
" ORDER BY c.job_id, c.project_key LIMIT 1";

/* A claim left by an ended job (or a lost process) is taken over. */
static const char claim_sql[] =
"INSERT INTO etl_project_claims (tenant_id, integration_id, project_key, job_id)"
" SELECT DISTINCT $1::int, $2::int, upper(k), $4::bigint"
" FROM jsonb_array_elements_text($3::jsonb -> 'projects') k"
" ON CONFLICT (tenant_id, integration_id, project_key) DO UPDATE SET job_id = excluded.job_id,"
" claimed_at = now(), heartbeat_at = NULL, lease_until = NULL";

static int find_busy(PGconn *pg, const char *const *p, jl_claim_busy *busy, char *err, size_t errlen)
{
	PGresult *r;
	int rc = jl_store_query(pg, "checking the projects' running jobs", busy_sql, 3, p, &r, err, errlen);

	if (rc < 0)
		return rc;
	rc = PQntuples(r) > 0;
	if (rc) {
		busy->job_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		snprintf(busy->project, sizeof(busy->project), "%s", PQgetvalue(r, 0, 1));
		snprintf(busy->since, sizeof(busy->since), "%s", PQgetvalue(r, 0, 2));
	}
	PQclear(r);
	return rc;
}

int jl_claims_create_job(PGconn *pg, int tenant, int integration, const char *job_type,
	const char *params_json, int projects, int64_t *id, jl_claim_busy *busy, char *err, size_t errlen)
{
	char t[16], i[16], ids[24];
	const char *p[4] = { t, i, params_json, ids };
	int rc;

	jl_store_ids(t, i, tenant, integration);
	memset(busy, 0, sizeof(*busy));
	if ((rc = jl_store_begin(pg, "claiming the projects", err, errlen)) < 0)
		return rc;
	/* The lock, then a new statement: READ COMMITTED reads with a new
	 * snapshot, so a job committed by the holder before is seen. */
	rc = jl_store_cmd(pg, "claiming the projects",
		"SELECT pg_advisory_xact_lock(" CLAIM_LOCK_CLASS ", hashtext($1 || '/' || $2))", 2, p, err, errlen);
	if (rc == 0)
		rc = find_busy(pg, p, busy, err, errlen);
	if (rc == 0 && jl_jobs_create(pg, tenant, integration, job_type, params_json, projects, 0, id,
			err, errlen) < 0)
		rc = JETL_EDB;
	if (rc == 0) {
		snprintf(ids, sizeof(ids), "%" PRId64, *id);
		rc = jl_store_cmd(pg, "claiming the projects", claim_sql, 4, p, err, errlen);
	}
	if (rc == 0)
		rc = jl_store_commit(pg, "claiming the projects", err, errlen);
	if (rc != 0)
		jl_store_rollback(pg);
	return rc;
}

int jl_claims_add(PGconn *pg, int tenant, int integration, int64_t id, const char *params_json, int projects,
	jl_claim_busy *busy, char *err, size_t errlen)
{
	char t[16], i[16], ids[24];
	const char *p[4] = { t, i, params_json, ids };
	int rc;

	jl_store_ids(t, i, tenant, integration);
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	memset(busy, 0, sizeof(*busy));
	if ((rc = jl_store_begin(pg, "claiming the discovered projects", err, errlen)) < 0)
		return rc;
	/* the same lock and check as a job created with its projects */
	rc = jl_store_cmd(pg, "claiming the discovered projects",
		"SELECT pg_advisory_xact_lock(" CLAIM_LOCK_CLASS ", hashtext($1 || '/' || $2))", 2, p, err, errlen);
	if (rc == 0)
		rc = find_busy(pg, p, busy, err, errlen);
	if (rc == 0 && jl_jobs_set_projects(pg, id, params_json, projects, err, errlen) < 0)
		rc = JETL_EDB;
	if (rc == 0)
		rc = jl_store_cmd(pg, "claiming the discovered projects", claim_sql, 4, p, err, errlen);
	if (rc == 0)
		rc = jl_store_commit(pg, "claiming the discovered projects", err, errlen);
	if (rc != 0)
		jl_store_rollback(pg);
	return rc;
}

int jl_claims_take(PGconn *pg, int64_t id, const char *project, int seconds, char *err, size_t errlen)
{
	char ids[24], secs[16];
	const char *p[3] = { ids, project, secs };
	PGresult *r;
	int rc;

	snprintf(ids, sizeof(ids), "%" PRId64, id);
	snprintf(secs, sizeof(secs), "%d", seconds);
	/* Free to take: never taken (NULL), its worker's lease ran out, or
	 * held only by the sweeper that publishes it again (heartbeat_at NULL:
	 * the message may arrive before the sweeper hands the claim back).
	 * params ? 'claims': jobs made since claims exist say so; an older
	 * job's projects have no claim and run as they did. */
	rc = jl_store_query(pg, "taking the project",
		"WITH j AS (SELECT status, params ? 'claims' AS claimed FROM etl_job_queue WHERE id = $1),"
		" c AS (UPDATE etl_project_claims SET lease_until = now() + make_interval(secs => $3::int),"
		"  heartbeat_at = now() WHERE job_id = $1 AND project_key = upper($2)"
		"  AND (lease_until IS NULL OR lease_until < now() OR heartbeat_at IS NULL)"
		"  AND EXISTS (SELECT 1 FROM j WHERE status = 'running') RETURNING 1)"
		" SELECT (SELECT count(*) FROM c), coalesce((SELECT claimed FROM j), true),"
		" coalesce((SELECT status FROM j), '')", 3, p, &r, err, errlen);
	if (rc < 0)
		return rc;
	if (atoi(PQgetvalue(r, 0, 0)) > 0)
		rc = JL_CLAIM_TAKEN;
	else if (strcmp(PQgetvalue(r, 0, 1), "f") == 0 && strcmp(PQgetvalue(r, 0, 2), "running") == 0)
		rc = JL_CLAIM_UNCLAIMED;
	else
		rc = JL_CLAIM_SKIP;
	PQclear(r);
	return rc;
}

int jl_claims_renew(PGconn *pg, int64_t id, const char *project, int seconds, char *err, size_t errlen)
{
	char ids[24], secs[16];
	const char *p[3] = { ids, project, secs };

	snprintf(ids, sizeof(ids), "%" PRId64, id);
	snprintf(secs, sizeof(secs), "%d", seconds);
	/* Also when the sweep handed the claim back meanwhile (this worker
	 * was cut off longer than the lease): the live lease makes the worker
	 * of the message published again skip it. */
	return jl_store_cmd(pg, "renewing the project's lease",
		"UPDATE etl_project_claims SET heartbeat_at = now(), lease_until = now() + make_interval(secs => $3::int)"
		" WHERE job_id = $1 AND project_key = upper($2)", 3, p, err, errlen);
}

static const char sweep_sql[] =
"WITH c AS (UPDATE etl_project_claims c SET lease_until = now() + make_interval(secs => $1::int),"
"  heartbeat_at = NULL FROM etl_job_queue j WHERE j.id = c.job_id AND j.status = 'running' AND c.lease_until < now()"
"  AND ($2::boolean OR (c.tenant_id = $3::int AND c.integration_id = $4::int))"
"  RETURNING c.job_id, c.tenant_id, c.integration_id, c.project_key, c.lease_until, j.params)"
" SELECT c.job_id, c.tenant_id, c.integration_id, c.project_key, c.lease_until::text, c.params::text,"
"  (SELECT coalesce(string_agg(r.id::text, ',' ORDER BY r.id), '') FROM raw_extraction_data r"
"   WHERE r.job_id = c.job_id AND r.active AND r.status IN ('pending', 'processing')"
"   AND upper(r.project_key) = c.project_key)"
" FROM c ORDER BY c.job_id, c.project_key";

/* "12,13,40" into c->raw_ids. */
static int parse_ids(jl_claim_lost *c, const char *s)
{
	size_t n = *s ? 1 : 0;

	for (const char *q = s; *q; q++)
		n += *q == ',';
	if (!n)
		return 0;
	c->raw_ids = calloc(n, sizeof(*c->raw_ids));
	if (!c->raw_ids)
		return -1;
	for (char *end; *s; s = *end ? end + 1 : end)
		c->raw_ids[c->nraw++] = strtoll(s, &end, 10);
	return 0;
}

static int lost_row(PGresult *r, int k, jl_claim_lost *c)
{
	c->job_id = strtoll(PQgetvalue(r, k, 0), NULL, 10);
	c->tenant = atoi(PQgetvalue(r, k, 1));
	c->integration = atoi(PQgetvalue(r, k, 2));
	snprintf(c->project, sizeof(c->project), "%s", PQgetvalue(r, k, 3));
	snprintf(c->lease, sizeof(c->lease), "%s", PQgetvalue(r, k, 4));
	c->params = strdup(PQgetvalue(r, k, 5));
	return !c->params || parse_ids(c, PQgetvalue(r, k, 6)) < 0 ? -1 : 0;
}

int jl_claims_sweep(PGconn *pg, int tenant, int integration, int all, int seconds,
	jl_claim_lost **rows, size_t *n, char *err, size_t errlen)
{
	char t[16], i[16], secs[16];
	const char *p[4] = { secs, all ? "true" : "false", t, i };
	PGresult *r;
	int rc;

	jl_store_ids(t, i, tenant, integration);
	snprintf(secs, sizeof(secs), "%d", seconds);
	*rows = NULL;
	*n = 0;
	rc = jl_store_query(pg, "claiming the projects whose worker stopped", sweep_sql, 4, p, &r, err, errlen);
	if (rc < 0)
		return rc;
	if (PQntuples(r) > 0 && !(*rows = calloc((size_t)PQntuples(r), sizeof(**rows)))) {
		PQclear(r);
		snprintf(err, errlen, "claiming the projects whose worker stopped: out of memory");
		return JETL_ENOMEM;
	}
	for (int k = 0; k < PQntuples(r); k++) {
		*n = (size_t)k + 1;
		if (lost_row(r, k, &(*rows)[k]) < 0) {
			PQclear(r);
			jl_claims_lost_free(*rows, *n);
			*rows = NULL;
			*n = 0;
			snprintf(err, errlen, "claiming the projects whose worker stopped: out of memory");
			return JETL_ENOMEM;
		}
	}
	PQclear(r);
	return 0;
}

int jl_claims_requeued(PGconn *pg, const jl_claim_lost *c, char *err, size_t errlen)
{
	char ids[24];
	const char *p[3] = { ids, c->project, c->lease };

	snprintf(ids, sizeof(ids), "%" PRId64, c->job_id);
	/* Only if still the sweeper's: a worker that took the message since
	 * holds a lease of its own, which must stay. */
	return jl_store_cmd(pg, "handing the project back to the queue",
		"UPDATE etl_project_claims SET lease_until = NULL"
		" WHERE job_id = $1 AND project_key = $2 AND lease_until = $3::timestamptz", 3, p, err, errlen);
}

void jl_claims_lost_free(jl_claim_lost *rows, size_t n)
{
	for (size_t k = 0; rows && k < n; k++) {
		free(rows[k].params);
		free(rows[k].raw_ids);
	}
	free(rows);
}
