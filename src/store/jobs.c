/* jobs.c - etl_job_queue rows. Every change notifies 'jetl_progress' with the
 * row as JSON, so dashboards can LISTEN instead of polling. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db.h"
#include "jobs.h"
#include "stmts.h"

/* The row as the notification's JSON: the five steps (step/total_steps,
 * message) and the finer account beside them (step_name is the phase,
 * detail its text, projects_done/projects_total the projects). */
#define NOTIFY_JSON \
	"pg_notify('jetl_progress', json_build_object(" \
	"'job_id', u.id, 'tenant_id', u.tenant_id, 'integration_id', u.integration_id, " \
	"'status', u.status, 'step', u.step, 'total_steps', u.total_steps, 'step_name', u.step_name, " \
	"'items_done', u.items_done, 'items_total', u.items_total, 'message', u.message, " \
	"'detail', u.detail, 'projects_done', u.projects_done, 'projects_total', u.projects_total, " \
	"'error', u.error, 'totals', u.totals)::text)"

#define NOTIFY_TAIL " RETURNING *) SELECT " NOTIFY_JSON ", u.status, u.id FROM u"

/* The seed system's messages of its five steps, word for word (step 1..5). */
static const char *const step_messages[JL_JOB_STEPS] = {
	"Starting issues extraction...",
	"Fetching issues with custom fields...",
	"Processing changelogs and dev status...",
	"Storing raw data and queuing for processing...",
	"Issues extraction completed successfully",
};

const char *jl_jobs_step_message(int step)
{
	return step >= 1 && step <= JL_JOB_STEPS ? step_messages[step - 1] : NULL;
}

int jl_jobs_create(PGconn *pg, int tenant, int integration, const char *job_type,
	const char *params_json, int projects, int queued, int64_t *id, char *err, size_t errlen)
{
	char t[16], i[16], s[16], n[16];
	const char *p[8];
	PGresult *r;

	jl_store_ids(t, i, tenant, integration);
	snprintf(s, sizeof(s), "%d", JL_JOB_STEPS);
	snprintf(n, sizeof(n), "%d", projects);
	p[0] = t; p[1] = i; p[2] = job_type; p[3] = params_json ? params_json : "{}"; p[4] = s;
	p[5] = queued ? "queued" : "running";
	p[6] = projects >= 0 ? n : NULL;
	p[7] = step_messages[0];
	r = jl_store_exec(pg, "creating the job",
		"WITH u AS (INSERT INTO etl_job_queue (tenant_id, integration_id, job_type, params, total_steps,"
		" status, started_at, step_name, message, step, projects_total, detail) VALUES ($1, $2, $3, $4::jsonb,"
		" $5, $6, CASE WHEN $6 = 'running' THEN now() END, 'discover', $8, 1, $7::int, 'starting')" NOTIFY_TAIL,
		8, p, err, errlen);
	if (!r)
		return -1;
	*id = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	PQclear(r);
	return 0;
}

int jl_jobs_set_projects(PGconn *pg, int64_t id, const char *params_json, int projects, char *err, size_t errlen)
{
	char ids[24], n[16];
	const char *p[3] = { ids, params_json, n };

	snprintf(ids, sizeof(ids), "%" PRId64, id);
	snprintf(n, sizeof(n), "%d", projects);
	return jl_store_cmd(pg, "recording the job's projects",
		"WITH u AS (UPDATE etl_job_queue SET params = coalesce($2::jsonb, params), projects_total = $3::int,"
		" updated_at = now() WHERE id = $1" NOTIFY_TAIL, 3, p, err, errlen);
}

int jl_jobs_progress(PGconn *pg, int64_t id, int step, const char *step_name,
	int64_t done, int64_t total, const char *detail, char *err, size_t errlen)
{
	char ids[24], st[16], d[24], t[24];
	const char *p[7];
	PGresult *r;
	int cancelled;

	snprintf(ids, sizeof(ids), "%" PRId64, id);
	snprintf(st, sizeof(st), "%d", step);
	snprintf(d, sizeof(d), "%" PRId64, done);
	snprintf(t, sizeof(t), "%" PRId64, total);
	p[0] = ids; p[1] = st; p[2] = step_name; p[3] = d; p[4] = t; p[5] = detail; p[6] = jl_jobs_step_message(step);
	/* The step only moves forward (workers of one job report at once);
	 * its message goes with it. No row updated: the second SELECT says
	 * why, so a job cancelled by jetl_job_cancel() is seen by the process
	 * running it on its next progress update, without a query of its own. */
	r = jl_store_exec(pg, "updating job progress",
		"WITH u AS (UPDATE etl_job_queue SET step = greatest(step, $2::int),"
		" message = CASE WHEN $2::int > step THEN coalesce($7, message) ELSE message END,"
		" step_name = coalesce($3, step_name), items_done = $4, items_total = $5,"
		" detail = coalesce($6, detail), updated_at = now()"
		" WHERE id = $1 AND status IN ('queued', 'running')" NOTIFY_TAIL
		" UNION ALL SELECT NULL, status, id FROM etl_job_queue WHERE id = $1 AND status NOT IN ('queued', 'running')",
		7, p, err, errlen);
	if (!r)
		return -1;
	cancelled = PQntuples(r) > 0 && strcmp(PQgetvalue(r, 0, 1), "cancelled") == 0;
	PQclear(r);
	return cancelled;
}

int jl_jobs_step_done(PGconn *pg, int64_t id, const char *project, int only_claimed, char *err, size_t errlen)
{
	char ids[24];
	const char *p[3] = { ids, project, only_claimed ? "true" : "false" };

	snprintf(ids, sizeof(ids), "%" PRId64, id);
	/* The claim goes in the same statement: the project is free for the
	 * next job the moment it counts as done. */
	return jl_store_cmd(pg, "counting a finished project",
		"WITH c AS (DELETE FROM etl_project_claims WHERE job_id = $1 AND project_key = upper($2) RETURNING 1),"
		" u AS (UPDATE etl_job_queue SET projects_done = projects_done + 1, updated_at = now()"
		" WHERE id = $1 AND (NOT $3::boolean OR EXISTS (SELECT 1 FROM c))" NOTIFY_TAIL, 3, p, err, errlen);
}

int jl_jobs_set_status(PGconn *pg, int64_t id, const char *status, const char *error,
	const char *message, char *err, size_t errlen)
{
	char ids[24];
	const char *p[4];

	snprintf(ids, sizeof(ids), "%" PRId64, id);
	p[0] = ids; p[1] = status; p[2] = error; p[3] = message;
	/* A terminal status is final: a late worker must not turn 'cancelled'
	 * back into 'finished'. */
	return jl_store_cmd(pg, "setting the job status",
		"WITH u AS (UPDATE etl_job_queue SET status = $2, error = coalesce($3, error),"
		" message = coalesce($4, CASE WHEN $2 = 'failed' AND $3 IS NOT NULL THEN 'Error: ' || $3 END, message),"
		" step = CASE WHEN $2 = 'finished' THEN total_steps ELSE step END, updated_at = now(),"
		" started_at = coalesce(started_at, now()),"
		" finished_at = CASE WHEN $2 IN ('finished', 'failed', 'cancelled') THEN now() END,"
		" lease_until = CASE WHEN $2 IN ('finished', 'failed', 'cancelled') THEN NULL ELSE lease_until END,"
		" step_name = CASE WHEN $2 = 'finished' THEN 'done' ELSE step_name END"
		" WHERE id = $1 AND status IN ('queued', 'running')" NOTIFY_TAIL,
		4, p, err, errlen);
}

/* The job's issues still missing: in issue_errors from its raw rows. */
#define NOT_STORED_SQL(job) \
	"SELECT count(*) FROM raw_extraction_data r JOIN issue_errors e ON e.tenant_id = r.tenant_id" \
	" AND e.integration_id = r.integration_id AND e.raw_id = r.id WHERE r.job_id = " job

/* Finish job $1 when its extraction is done and no raw row waits (see
 * jl_jobs_try_finish); returns the notify and the status after. */
static const char try_finish_sql[] =
"WITH c AS (SELECT count(*) FILTER (WHERE status IN ('pending', 'processing')) AS pending,"
"  count(*) FILTER (WHERE status = 'failed') AS failed, (" NOT_STORED_SQL("$1") ") AS not_stored"
"  FROM raw_extraction_data WHERE job_id = $1 AND active),"
" u AS (UPDATE etl_job_queue j SET"
"  status = CASE WHEN c.failed > 0 THEN 'failed' ELSE 'finished' END,"
"  error = CASE WHEN c.failed > 0 THEN c.failed || ' raw row(s) failed to transform; see raw_extraction_data.error' END,"
"  step_name = 'done', finished_at = now(), updated_at = now(), items_done = j.items_total, lease_until = NULL,"
"  step = CASE WHEN c.failed > 0 THEN j.step ELSE j.total_steps END,"
"  message = CASE WHEN c.failed > 0 THEN 'Error: ' || c.failed || ' raw row(s) failed to transform'"
"   ELSE 'Issues extraction completed successfully' END,"
"  detail = CASE WHEN c.failed > 0 THEN 'done with failures'"
/* issues left out of their raw row (issue_errors) are not "done" either */
"   WHEN c.not_stored > 0 THEN 'done: ' || c.not_stored || ' issue(s) not stored, see `jetl errors`'"
"   ELSE 'done: every raw row transformed' END"
"  FROM c WHERE j.id = $1 AND j.status = 'running' AND j.projects_done >= j.projects_total AND c.pending = 0"
"  RETURNING j.*)"
" SELECT " NOTIFY_JSON ", u.status FROM u"
" UNION ALL SELECT NULL, status FROM etl_job_queue WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM u)";

int jl_jobs_try_finish(PGconn *pg, int64_t id, char *final_status, size_t fslen, char *err, size_t errlen)
{
	char ids[24];
	const char *p[1] = { ids };
	PGresult *r;

	snprintf(ids, sizeof(ids), "%" PRId64, id);
	r = jl_store_exec(pg, "finishing the job",
		try_finish_sql,
		1, p, err, errlen);
	if (!r)
		return -1;
	if (final_status && fslen) {
		snprintf(final_status, fslen, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 1) : "");
	}
	PQclear(r);
	return 0;
}

int jl_jobs_renew(PGconn *pg, int64_t id, int seconds, char *err, size_t errlen)
{
	char ids[24], secs[16];
	const char *p[2] = { ids, secs };

	snprintf(ids, sizeof(ids), "%" PRId64, id);
	snprintf(secs, sizeof(secs), "%d", seconds);
	/* Only a running job: a job the sweep ended stays ended (its lease then
	 * belongs to the sweeper recovering its raw rows). */
	return jl_store_cmd(pg, "renewing the job's lease",
		"UPDATE etl_job_queue SET heartbeat_at = now(), lease_until = now() + make_interval(secs => $2::int)"
		" WHERE id = $1 AND status = 'running'", 2, p, err, errlen);
}

int jl_jobs_release(PGconn *pg, int64_t id, char *err, size_t errlen)
{
	char ids[24];
	const char *p[1] = { ids };

	snprintf(ids, sizeof(ids), "%" PRId64, id);
	return jl_store_cmd(pg, "releasing the job's lease",
		"UPDATE etl_job_queue SET lease_until = NULL WHERE id = $1 AND status = 'running'", 1, p, err, errlen);
}

/* The scope of a sweep: one tenant/integration, or every one (all). */
#define SCOPE(all, t, i) " AND (" all "::boolean OR (tenant_id = " t "::int AND integration_id = " i "::int))"

int jl_jobs_sweep_expired(PGconn *pg, int tenant, int integration, int all, int64_t *ended,
	char *err, size_t errlen)
{
	char t[16], i[16];
	const char *p[3] = { all ? "true" : "false", t, i };
	PGresult *r;

	jl_store_ids(t, i, tenant, integration);
	*ended = 0;
	/* lease_until stays: the jobs are then 'failed' with a lease that ran
	 * out, which is what jl_jobs_claim_orphans looks for. */
	r = jl_store_exec(pg, "ending jobs whose process stopped",
		"WITH u AS (UPDATE etl_job_queue SET status = 'failed', finished_at = now(), updated_at = now(),"
		" message = 'Error: the process running the job stopped',"
		" detail = 'interrupted: the process running it stopped',"
		" error = 'the process running the job stopped (no heartbeat since '"
		"  || coalesce(to_char(heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC', 'its start')"
		"  || '; killed, crashed or cut off from the database): run the extraction again to resume'"
		" WHERE status = 'running' AND lease_until < now()" SCOPE("$1", "$2", "$3") NOTIFY_TAIL,
		3, p, err, errlen);
	if (!r)
		return -1;
	*ended = PQntuples(r);
	PQclear(r);
	return 0;
}

int jl_jobs_claim_orphans(PGconn *pg, int tenant, int integration, int all, int seconds,
	jl_orphan **rows, size_t *n, char *err, size_t errlen)
{
	char t[16], i[16], secs[16];
	const char *p[4] = { secs, all ? "true" : "false", t, i };
	PGresult *r;

	jl_store_ids(t, i, tenant, integration);
	snprintf(secs, sizeof(secs), "%d", seconds);
	*rows = NULL;
	*n = 0;
	/* The claim is a lease of its own: a sweeper that dies before it
	 * releases the jobs lets the next sweep take them again. Concurrent
	 * sweepers: the second waits on the row lock, then sees the new lease
	 * and skips the job. */
	r = jl_store_exec(pg, "claiming the raw rows of stopped jobs",
		"WITH c AS (UPDATE etl_job_queue SET lease_until = now() + make_interval(secs => $1::int)"
		"  WHERE status <> 'running' AND lease_until < now()" SCOPE("$2", "$3", "$4") " RETURNING id)"
		" SELECT c.id, r.id, r.tenant_id, r.integration_id FROM c"
		" LEFT JOIN raw_extraction_data r ON r.job_id = c.id AND r.active AND r.status IN ('pending', 'processing')"
		" ORDER BY c.id, r.id", 4, p, err, errlen);
	if (!r)
		return -1;
	if (PQntuples(r) > 0) {
		*rows = calloc((size_t)PQntuples(r), sizeof(**rows));
		if (!*rows) {
			PQclear(r);
			snprintf(err, errlen, "claiming the raw rows of stopped jobs: out of memory");
			return -1;
		}
	}
	for (int k = 0; k < PQntuples(r); k++) {
		jl_orphan *o = &(*rows)[k];

		o->job_id = strtoll(PQgetvalue(r, k, 0), NULL, 10);
		o->raw_id = PQgetisnull(r, k, 1) ? 0 : strtoll(PQgetvalue(r, k, 1), NULL, 10);
		o->tenant = atoi(PQgetvalue(r, k, 2));
		o->integration = atoi(PQgetvalue(r, k, 3));
	}
	*n = (size_t)PQntuples(r);
	PQclear(r);
	return 0;
}

int jl_jobs_orphans_done(PGconn *pg, int64_t job_id, int64_t rows, const char *how, char *err, size_t errlen)
{
	char ids[24], n[24];
	const char *p[3] = { ids, n, how };

	snprintf(ids, sizeof(ids), "%" PRId64, job_id);
	snprintf(n, sizeof(n), "%" PRId64, rows);
	return jl_store_cmd(pg, "releasing a stopped job",
		"WITH u AS (UPDATE etl_job_queue SET lease_until = NULL, updated_at = now(),"
		" detail = CASE WHEN $2::bigint > 0 THEN 'interrupted: ' || $2 || ' raw row(s) it had stored were ' || $3"
		"  ELSE detail END"
		" WHERE id = $1 AND status <> 'running'" NOTIFY_TAIL, 3, p, err, errlen);
}

/* Add the counts of jsonb $2 to job $1's totals, key by key, under the
 * row lock (workers adding to one job at once count right). */
static const char add_totals_sql[] =
"WITH u AS (UPDATE etl_job_queue SET updated_at = now(), totals = ("
"  SELECT coalesce(jsonb_object_agg(k, s), '{}') FROM (SELECT k, sum(v) AS s FROM ("
"   SELECT key AS k, value::bigint AS v FROM jsonb_each_text(totals)"
"   UNION ALL SELECT key, value::bigint FROM jsonb_each_text($2::jsonb)) x GROUP BY k) y)"
" WHERE id = $1" NOTIFY_TAIL;

int jl_jobs_add_totals(PGconn *pg, int64_t id, const char *delta_json, int *cancelled, char *err, size_t errlen)
{
	char ids[24];
	const char *p[2] = { ids, delta_json };
	PGresult *r;

	snprintf(ids, sizeof(ids), "%" PRId64, id);
	*cancelled = 0;
	/* Sums key by key under the row lock, so workers adding to one job at
	 * once count right. Not limited to running jobs: the last raw row of a
	 * job may finish it (another writer's jl_jobs_try_finish) before its
	 * own counts arrive. */
	r = jl_store_exec(pg, "adding to the job's totals",
		add_totals_sql, 2, p, err, errlen);
	if (!r)
		return -1;
	*cancelled = PQntuples(r) > 0 && strcmp(PQgetvalue(r, 0, 1), "cancelled") == 0;
	PQclear(r);
	return 0;
}

int jl_jobs_cancel(PGconn *pg, int tenant, int integration, int64_t id, char *status, size_t slen,
	char *err, size_t errlen)
{
	char t[16], i[16], ids[24];
	const char *p[3] = { t, i, ids };
	PGresult *r;
	int rc;

	jl_store_ids(t, i, tenant, integration);
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	/* The row is the signal: whichever process runs the job sees the status
	 * on its next batch or progress update and stops there. The lease goes
	 * (as on every end), so the sweep leaves the job's rows alone. */
	r = jl_store_exec(pg, "cancelling the job",
		"WITH u AS (UPDATE etl_job_queue SET status = 'cancelled', finished_at = now(), updated_at = now(),"
		" started_at = coalesce(started_at, now()), lease_until = NULL,"
		" message = 'cancelled on request (jetl_job_cancel)'"
		" WHERE tenant_id = $1 AND integration_id = $2 AND id = $3 AND status IN ('queued', 'running')"
		NOTIFY_TAIL
		" UNION ALL SELECT NULL, status, id FROM etl_job_queue WHERE tenant_id = $1 AND integration_id = $2"
		" AND id = $3 AND status NOT IN ('queued', 'running')", 3, p, err, errlen);
	if (!r)
		return -1;
	if (PQntuples(r) == 0) {
		rc = 1;
	} else {
		rc = PQgetisnull(r, 0, 0) ? 2 : 0;
		if (status && slen)
			snprintf(status, slen, "%s", PQgetvalue(r, 0, 1));
	}
	PQclear(r);
	return rc;
}

static double epoch_or_zero(PGresult *r, int col)
{
	return PQgetisnull(r, 0, col) ? 0.0 : strtod(PQgetvalue(r, 0, col), NULL);
}

static void copy_text(char *dst, size_t n, PGresult *r, int col)
{
	snprintf(dst, n, "%s", PQgetisnull(r, 0, col) ? "" : PQgetvalue(r, 0, col));
}

/* The totals column into the version-2 fields (absent keys: 0). */
static void totals_from_json(jetl_job *job, const char *text)
{
	json_t *t = json_loads(text, 0, NULL);
	struct { const char *key; int64_t *field; } map[] = {
		{ "issues", &job->issues }, { "histories", &job->histories },
		{ "changelog_items", &job->changelog_items }, { "dev_status", &job->dev_status },
		{ "work_items", &job->work_items }, { "raw_rows", &job->raw_rows },
		{ "requests", &job->requests }, { "retries", &job->retries },
		{ "rate_limited", &job->rate_limited }, { "deleted", &job->deleted },
		{ "future_dated", &job->future_dated }, { "deleted_refused", &job->deleted_refused },
	};
	size_t n = sizeof(map) / sizeof(map[0]);

	if (job->version < 4)
		n -= 2;   /* the version-4 keys: not in an older caller's struct */
	for (size_t k = 0; k < n; k++)
		*map[k].field = (int64_t)json_number_value(json_object_get(t, map[k].key));
	json_decref(t);
}

int jl_jobs_get(PGconn *pg, int tenant, int integration, int64_t id, jetl_job *job, char *err, size_t errlen)
{
	char t[16], i[16], ids[24];
	const char *p[3] = { t, i, ids };
	PGresult *r;

	jl_store_ids(t, i, tenant, integration);
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	r = jl_store_exec(pg, "reading the job",
		"SELECT j.id, j.job_type, j.status, j.step, j.total_steps, j.step_name, j.items_done, j.items_total,"
		" j.message, j.error, extract(epoch FROM j.created_at), extract(epoch FROM j.started_at),"
		" extract(epoch FROM j.updated_at), extract(epoch FROM j.finished_at),"
		" (SELECT count(*) FROM raw_extraction_data r WHERE r.job_id = j.id AND r.active AND r.status IN ('pending','processing')),"
		" (SELECT count(*) FROM raw_extraction_data r WHERE r.job_id = j.id AND r.active AND r.status = 'failed'),"
		" j.totals, (" NOT_STORED_SQL("j.id") "), j.projects_done, coalesce(j.projects_total, 0), j.detail"
		" FROM etl_job_queue j WHERE j.tenant_id = $1 AND j.integration_id = $2 AND j.id = $3",
		3, p, err, errlen);
	if (!r)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 1;
	}
	job->id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	copy_text(job->job_type, sizeof(job->job_type), r, 1);
	copy_text(job->status, sizeof(job->status), r, 2);
	job->step = atoi(PQgetvalue(r, 0, 3));
	job->total_steps = atoi(PQgetvalue(r, 0, 4));
	copy_text(job->step_name, sizeof(job->step_name), r, 5);
	job->items_done = strtoll(PQgetvalue(r, 0, 6), NULL, 10);
	job->items_total = strtoll(PQgetvalue(r, 0, 7), NULL, 10);
	copy_text(job->message, sizeof(job->message), r, 8);
	copy_text(job->error, sizeof(job->error), r, 9);
	job->created_at = epoch_or_zero(r, 10);
	job->started_at = epoch_or_zero(r, 11);
	job->updated_at = epoch_or_zero(r, 12);
	job->finished_at = epoch_or_zero(r, 13);
	job->raw_pending = strtoll(PQgetvalue(r, 0, 14), NULL, 10);
	job->raw_failed = strtoll(PQgetvalue(r, 0, 15), NULL, 10);
	if (job->version >= 2)
		totals_from_json(job, PQgetvalue(r, 0, 16));
	if (job->version >= 3 && (size_t)PQgetlength(r, 0, 16) < sizeof(job->totals))
		copy_text(job->totals, sizeof(job->totals), r, 16);
	if (job->version >= 4)
		job->not_stored = strtoll(PQgetvalue(r, 0, 17), NULL, 10);
	if (job->version >= 5) {
		job->projects_done = atoi(PQgetvalue(r, 0, 18));
		job->projects_total = atoi(PQgetvalue(r, 0, 19));
		copy_text(job->detail, sizeof(job->detail), r, 20);
	}
	PQclear(r);
	return 0;
}

int jl_jobs_list(PGconn *pg, int tenant, int integration, size_t max, PGresult **out, char *err, size_t errlen)
{
	char t[16], i[16], m[24];
	const char *p[3] = { t, i, m };

	jl_store_ids(t, i, tenant, integration);
	snprintf(m, sizeof(m), "%zu", max);
	return jl_store_query(pg, "listing jobs",
		"SELECT id FROM etl_job_queue WHERE tenant_id = $1 AND integration_id = $2 ORDER BY id DESC LIMIT $3",
		3, p, out, err, errlen);
}

int jl_jobs_add_totals_finish(PGconn *pg, int64_t id, const char *delta_json, char *err, size_t errlen)
{
	char ids[24];
	char *lit = PQescapeLiteral(pg, delta_json, strlen(delta_json));
	const char *v[2] = { ids, lit };
	jl_buf sql = JL_BUF_INIT;
	jl_stmt st[2] = {
		{ "adding to the job's totals", NULL, 0, NULL, NULL },
		{ "finishing the job", NULL, 0, NULL, NULL },
	};
	int rc;

	if (!lit) {
		snprintf(err, errlen, "adding to the job's totals: %s", PQerrorMessage(pg));
		return JETL_ENOMEM;
	}
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	/* One round trip for both: a worker paid two per raw row (1.3 ms of
	 * the writer's ~16 ms per 100 small issues, measured). One implicit
	 * transaction, and still right with writers finishing a job's last
	 * rows at once: the UPDATE waits on the job row's lock, and the finish
	 * statement after it takes a new snapshot that sees the other
	 * writer's committed rows. */
	jl_sql_put(&sql, add_totals_sql, v, 2);
	jl_sql_put(&sql, try_finish_sql, v, 1);
	if (sql.oom) {
		snprintf(err, errlen, "adding to the job's totals: out of memory");
		rc = JETL_ENOMEM;
	} else {
		rc = jl_stmts_run(pg, sql.data, st, 2, NULL, err, errlen);
	}
	PQfreemem(lit);
	jl_buf_free(&sql);
	return rc < 0 ? rc : 0;
}
