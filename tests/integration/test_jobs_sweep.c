/* test_jobs_sweep.c - jetl_job_sweep on the real PostgreSQL: a running job
 * whose lease ran out is ended and its pending raw rows transformed; live
 * jobs, jobs without a lease and other tenants' jobs are left alone; a
 * sweeper that died after ending a job is replaced. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl.h"
#include "testdb.h"
#include "core/ctx.h"
#include "store/jobs.h"

static jetl_ctx *ctx;

static void setup(void)
{
	jetl_options o = JETL_OPTIONS_INIT;
	char err[512];

	o.db = testdb_create();
	o.queue_url = "";  /* in-process: the sweep transforms the rows itself */
	cr_assert_eq(jetl_open_err(&ctx, &o, err, sizeof(err)), JETL_OK, "open: %s", err);
	cr_assert_eq(jetl_migrate(ctx), JETL_OK, "%s", jetl_last_error(ctx));
}

static void teardown(void)
{
	jetl_close(ctx);
	ctx = NULL;
	testdb_drop();
}

/* A job of tenant t in status st whose lease ends `lease` from now (an SQL
 * interval, or NULL for none); returns its id. */
static long long job(int t, const char *st, const char *lease)
{
	char *id;
	long long v;

	if (lease)
		id = testdb_scalarf("INSERT INTO etl_job_queue (tenant_id, integration_id, job_type, status, started_at,"
			" projects_total, lease_until, heartbeat_at) VALUES (%d, 1, 'jira_issues_changelogs_dev_status', '%s',"
			" now(), 1, now() + interval '%s', now() - interval '1 minute') RETURNING id", t, st, lease);
	else
		id = testdb_scalarf("INSERT INTO etl_job_queue (tenant_id, integration_id, job_type, status, started_at,"
			" projects_total) VALUES (%d, 1, 'jira_issues_changelogs_dev_status', '%s', now(), 1) RETURNING id",
			t, st);
	v = atoll(id);
	free(id);
	return v;
}

/* A pending raw row of a job holding one small issue; returns its id. */
static long long raw(int t, long long job_id, int n)
{
	char *id;
	long long v;

	id = testdb_scalarf("INSERT INTO raw_extraction_data (tenant_id, integration_id, job_id, type, project_key, raw_data,"
		" item_count) VALUES (%d, 1, %lld, 'jira_issues_changelogs_dev_status', 'SW',"
		" '{\"issues\":[{\"id\":\"%d\",\"key\":\"SW-%d\",\"fields\":{\"summary\":\"s\",\"project\":{\"key\":\"SW\"},"
		"\"updated\":\"2026-01-01T00:00:00.000+0000\",\"created\":\"2026-01-01T00:00:00.000+0000\"}}],"
		"\"changelogs\":{},\"dev_status\":{}}', 1) RETURNING id", t, job_id, n, n);
	v = atoll(id);
	free(id);
	return v;
}

Test(sweep, ends_expired_jobs_and_transforms_their_rows, .init = setup, .fini = teardown)
{
	long long dead = job(1, "running", "-5 seconds");
	long long live = job(1, "running", "30 seconds");
	long long nolease = job(1, "running", NULL);
	long long other = job(2, "running", "-5 seconds");
	long long r1 = raw(1, dead, 101), r2 = raw(1, dead, 102), rl = raw(1, live, 103);
	int64_t n = -1;

	cr_assert_eq(jetl_job_sweep(ctx, &n), JETL_OK, "%s", jetl_last_error(ctx));
	cr_assert_eq(n, 1);
	SCALAR_IS("failed", "SELECT status FROM etl_job_queue WHERE id = %lld", dead);
	SCALAR_IS("t", "SELECT error LIKE 'the process running the job stopped (no heartbeat since 20%%'"
		" AND finished_at IS NOT NULL AND lease_until IS NULL FROM etl_job_queue WHERE id = %lld", dead);
	SCALAR_IS("interrupted: 2 raw row(s) it had stored were transformed",
		"SELECT detail FROM etl_job_queue WHERE id = %lld", dead);
	/* the seed system's words for a failed step */
	SCALAR_IS("Error: the process running the job stopped", "SELECT message FROM etl_job_queue WHERE id = %lld", dead);
	SCALAR_IS("completed completed", "SELECT string_agg(status, ' ' ORDER BY id) FROM raw_extraction_data"
		" WHERE id IN (%lld, %lld)", r1, r2);
	SCALAR_IS("2", "SELECT count(*) FROM work_items WHERE external_id IN ('101', '102')");
	/* The live job's row is its own process's business. */
	SCALAR_IS("pending", "SELECT status FROM raw_extraction_data WHERE id = %lld", rl);
	SCALAR_IS("running", "SELECT status FROM etl_job_queue WHERE id = %lld", live);
	SCALAR_IS("running", "SELECT status FROM etl_job_queue WHERE id = %lld", nolease);
	/* Another tenant's job is swept by its own contexts (or by workers). */
	SCALAR_IS("running", "SELECT status FROM etl_job_queue WHERE id = %lld", other);

	/* Nothing left to do: a second sweep changes nothing. */
	cr_assert_eq(jetl_job_sweep(ctx, &n), JETL_OK, "%s", jetl_last_error(ctx));
	cr_assert_eq(n, 0);
	SCALAR_IS("1", "SELECT count(*) FROM etl_job_queue WHERE status = 'failed'");
}

Test(sweep, a_sweeper_that_died_is_replaced, .init = setup, .fini = teardown)
{
	/* Ended by a sweep that died before it recovered the rows: the job is
	 * failed and its claim ran out. */
	long long dead = job(1, "failed", "-1 second");
	long long r = raw(1, dead, 201);
	/* Claimed by a sweep still at work: not taken from it. */
	long long busy = job(1, "failed", "30 seconds");
	long long rb = raw(1, busy, 202);
	int64_t n = -1;

	cr_assert_eq(jetl_job_sweep(ctx, &n), JETL_OK, "%s", jetl_last_error(ctx));
	cr_assert_eq(n, 0);
	SCALAR_IS("completed", "SELECT status FROM raw_extraction_data WHERE id = %lld", r);
	SCALAR_IS("pending", "SELECT status FROM raw_extraction_data WHERE id = %lld", rb);
	SCALAR_IS("(null)", "SELECT lease_until FROM etl_job_queue WHERE id = %lld", dead);
}

Test(sweep, an_ended_job_holds_no_lease, .init = setup, .fini = teardown)
{
	long long fin = job(1, "running", "30 seconds"), can = job(1, "running", "30 seconds");
	char st[16], err[512];

	/* Whatever ends a job clears its lease, so that a sweep never takes an
	 * ended job for one whose process died holding it. */
	/* not before its every project is extracted (nor before they are known) */
	cr_assert_eq(jl_jobs_try_finish(ctx->pg, fin, st, sizeof(st), err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(st, "running");
	testdb_exec("UPDATE etl_job_queue SET projects_total = NULL");
	cr_assert_eq(jl_jobs_try_finish(ctx->pg, fin, st, sizeof(st), err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(st, "running");
	testdb_exec("UPDATE etl_job_queue SET projects_done = 1, projects_total = 1");
	cr_assert_eq(jl_jobs_try_finish(ctx->pg, fin, st, sizeof(st), err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(st, "finished");
	cr_assert_eq(jl_jobs_set_status(ctx->pg, can, "cancelled", NULL, "stop", err, sizeof(err)), 0, "%s", err);
	SCALAR_IS("0", "SELECT count(*) FROM etl_job_queue WHERE lease_until IS NOT NULL");
	/* A renewal does not bring it back. */
	cr_assert_eq(jl_jobs_renew(ctx->pg, fin, 30, err, sizeof(err)), 0, "%s", err);
	SCALAR_IS("0", "SELECT count(*) FROM etl_job_queue WHERE lease_until IS NOT NULL");
}

Test(sweep, null_context_and_old_schema, .init = setup, .fini = teardown)
{
	cr_assert_eq(jetl_job_sweep(NULL, NULL), JETL_EINVAL);
	testdb_exec("DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)");
	cr_assert_eq(jetl_job_sweep(ctx, NULL), JETL_ESCHEMA);
}

/* A transformed raw row's totals and the job's finish go in one round trip
 * (jl_jobs_add_totals_finish). Two writers end a job's last two rows: the
 * first adds its counts while the other's row is not yet committed, so the
 * job stays running; the second, after its commit, finishes it, and the
 * totals hold both. */
Test(sweep, the_last_rows_totals_finish_the_job, .init = setup, .fini = teardown)
{
	long long j = job(1, "running", "30 seconds");
	long long r1 = raw(1, j, 301), r2 = raw(1, j, 302);
	PGconn *b = PQconnectdb(ctx->db);
	PGresult *res;
	char err[512], sql[256];

	cr_assert_eq(PQstatus(b), CONNECTION_OK, "%s", PQerrorMessage(b));
	testdb_exec("UPDATE etl_job_queue SET projects_done = 1");
	snprintf(sql, sizeof(sql), "UPDATE raw_extraction_data SET status = 'completed' WHERE id = %lld", r1);
	testdb_exec(sql);
	snprintf(sql, sizeof(sql), "BEGIN; UPDATE raw_extraction_data SET status = 'completed' WHERE id = %lld", r2);
	res = PQexec(b, sql);
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQerrorMessage(b));
	PQclear(res);
	cr_assert_eq(jl_jobs_add_totals_finish(ctx->pg, j, "{\"work_items\":1,\"changelog_items\":3}", err,
		sizeof(err)), 0, "%s", err);
	SCALAR_IS("running", "SELECT status FROM etl_job_queue WHERE id = %lld", j);
	res = PQexec(b, "COMMIT");
	PQclear(res);
	cr_assert_eq(jl_jobs_add_totals_finish(b, j, "{\"work_items\":1,\"changelog_items\":2}", err, sizeof(err)),
		0, "%s", err);
	SCALAR_IS("finished", "SELECT status FROM etl_job_queue WHERE id = %lld", j);
	SCALAR_IS("5/5 Issues extraction completed successfully", "SELECT step || '/' || total_steps || ' ' || message"
		" FROM etl_job_queue WHERE id = %lld", j);
	SCALAR_IS("2 5", "SELECT concat(totals->>'work_items', ' ', totals->>'changelog_items') FROM etl_job_queue"
		" WHERE id = %lld", j);
	PQfinish(b);
}
