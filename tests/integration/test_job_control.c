/* test_job_control.c - a job's totals as the run goes and jetl_job_cancel,
 * on the real PostgreSQL and the simulator: the totals of a finished job
 * equal the rows in the tables; a caller of the version-1 struct gets no
 * byte past it; a job cancelled from another context stops at its next
 * batch, ends `cancelled` and leaves the watermark where it was. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jetl.h"
#include "jirasim.h"
#include "testdb.h"

static jirasim g_sim;
static char *g_data;
static const char *g_db;

static void fini(void)
{
	jirasim_down(&g_sim, &g_data);
	testdb_drop();
}

static jetl_ctx *open_ctx(int tenant, int batch)
{
	jetl_options o = JETL_OPTIONS_INIT;
	jetl_ctx *c;
	char err[512];

	o.db = g_db;
	o.queue_url = "";  /* in-process transforms */
	o.jira_url = g_sim.url;
	o.tenant_id = tenant;
	o.batch_size = batch;
	o.jira_user = JIRASIM_USER;
	o.jira_token = JIRASIM_TOKEN;
	o.max_attempts = 2;
	cr_assert_eq(jetl_open_err(&c, &o, err, sizeof(err)), JETL_OK, "open: %s", err);
	return c;
}

/* sim_args: more simulator arguments (NULL-terminated, may be NULL). */
static jetl_ctx *setup(const char *projects, const char *const *sim_args, int batch)
{
	const char *gen_args[] = { "--seed", "11", NULL };
	jetl_ctx *c;

	g_db = testdb_create();
	jirasim_up(&g_sim, &g_data, projects, "cloud", gen_args, sim_args);
	c = open_ctx(1, batch);
	cr_assert_eq(jetl_migrate(c), JETL_OK, "%s", jetl_last_error(c));
	return c;
}

Test(job_control, totals_of_a_finished_job_match_the_tables, .fini = fini, .timeout = 180)
{
	const char *sim_args[] = { "--user", JIRASIM_USER, "--token", JIRASIM_TOKEN, NULL };
	jetl_ctx *c = setup("ABC:130", sim_args, 25);
	jetl_extract_result res = JETL_EXTRACT_RESULT_INIT;
	jetl_job job = JETL_JOB_INIT;
	unsigned char v1[sizeof(jetl_job)];
	jetl_job *old = (jetl_job *)v1;

	cr_assert_eq(jetl_extract_project(c, "ABC", NULL, &res), JETL_OK, "%s", jetl_last_error(c));
	cr_assert_eq(jetl_job_get(c, res.job_id, &job), JETL_OK, "%s", jetl_last_error(c));
	cr_assert_str_eq(job.status, "finished");
	cr_assert_eq(job.issues, 130);
	cr_assert_eq(job.issues, res.issues);
	cr_assert_eq(job.histories, res.histories);
	cr_assert_eq(job.raw_rows, 6);  /* 25 per raw row */
	cr_assert_eq(job.raw_rows, res.raw_rows);
	cr_assert_eq(job.work_items, testdb_countf("SELECT count(*) FROM work_items"));
	cr_assert_eq(job.changelog_items, testdb_countf("SELECT count(*) FROM changelogs"));
	cr_assert_gt(job.changelog_items, 0);
	cr_assert_eq(job.dev_status, testdb_countf("SELECT count(*) FROM dev_status"));
	cr_assert_gt(job.dev_status, 0);
	cr_assert_eq(job.requests, res.requests, "job %lld requests, result %lld",
		(long long)job.requests, (long long)res.requests);
	cr_assert_eq(job.retries, res.retries);
	cr_assert_eq(job.rate_limited, 0);
	cr_assert_eq(job.deleted, 0);
	cr_assert_eq(testdb_countf("SELECT (totals->>'issues')::int FROM etl_job_queue WHERE id = %lld",
		(long long)res.job_id), 130);

	/* A caller built against version 1 gets the version-1 fields and not
	 * one byte more. */
	memset(v1, 0xAB, sizeof(v1));
	old->version = 1;
	cr_assert_eq(jetl_job_get(c, res.job_id, old), JETL_OK, "%s", jetl_last_error(c));
	cr_assert_str_eq(old->status, "finished");
	for (size_t k = offsetof(jetl_job, issues); k < sizeof(v1); k++)
		cr_assert_eq(v1[k], 0xAB, "byte %zu past the version-1 struct was written", k);
	jetl_close(c);
}

struct bg {
	jetl_ctx *ctx;
	int64_t job_id;
	int rc;
};

static void *run_bg(void *arg)
{
	struct bg *b = arg;
	const char *keys[] = { "SLOW" };

	b->rc = jetl_extract(b->ctx, keys, 1, NULL, &b->job_id);
	return NULL;
}

Test(job_control, cancel_stops_the_running_job_at_its_next_batch, .fini = fini, .timeout = 180)
{
	const char *sim_args[] = { "--latency-ms", "40", "--user", JIRASIM_USER, "--token", JIRASIM_TOKEN, NULL };
	jetl_ctx *c = setup("SLOW:600", sim_args, 10);
	jetl_ctx *other = open_ctx(2, 10);
	struct bg b = { open_ctx(1, 10), 0, 1 };
	jetl_job job = JETL_JOB_INIT;
	pthread_t t;
	long long id = 0;

	cr_assert_eq(pthread_create(&t, NULL, run_bg, &b), 0);
	/* wait for a few stored batches */
	for (int i = 0; i < 600; i++) {
		id = testdb_countf("SELECT coalesce(max(id), 0) FROM etl_job_queue");
		if (id > 0 && testdb_countf("SELECT coalesce((totals->>'raw_rows')::int, 0) FROM etl_job_queue WHERE id = %lld",
				id) >= 3)
			break;
		usleep(50000);
	}
	cr_assert_gt(id, 0, "no job");
	cr_assert_eq(jetl_job_cancel(other, id), JETL_ENOENT, "another tenant's job: %s", jetl_last_error(other));
	cr_assert_eq(jetl_job_cancel(c, id), JETL_OK, "%s", jetl_last_error(c));
	cr_assert_eq(jetl_job_cancel(c, id), JETL_OK, "cancelling twice: %s", jetl_last_error(c));
	pthread_join(t, NULL);
	cr_assert_eq(b.rc, JETL_ECANCELLED, "extract returned %d: %s", b.rc, jetl_last_error(b.ctx));
	cr_assert_eq(b.job_id, id);
	cr_assert_eq(jetl_job_get(c, id, &job), JETL_OK, "%s", jetl_last_error(c));
	cr_assert_str_eq(job.status, "cancelled");
	cr_assert_gt(job.raw_rows, 0);
	cr_assert_lt(job.issues, 600, "the run went on to the end");
	cr_assert_eq(testdb_countf("SELECT count(*) FROM sync_state WHERE project_key = 'SLOW' AND watermark IS NOT NULL"), 0,
		"the watermark moved");
	cr_assert_eq(testdb_countf("SELECT count(*) FROM etl_job_queue WHERE id = %lld AND lease_until IS NULL", id), 1);

	cr_assert_eq(jetl_job_cancel(c, 999999), JETL_ENOENT);
	cr_assert_eq(jetl_job_cancel(c, 0), JETL_EINVAL);
	cr_assert_eq(jetl_job_cancel(NULL, id), JETL_EINVAL);
	jetl_close(b.ctx);
	jetl_close(other);
	jetl_close(c);
}

Test(job_control, cancel_refuses_a_job_that_ended, .fini = fini, .timeout = 120)
{
	const char *sim_args[] = { "--user", JIRASIM_USER, "--token", JIRASIM_TOKEN, NULL };
	jetl_ctx *c = setup("ABC:5", sim_args, 100);
	jetl_extract_result res = JETL_EXTRACT_RESULT_INIT;

	cr_assert_eq(jetl_extract_project(c, "ABC", NULL, &res), JETL_OK, "%s", jetl_last_error(c));
	cr_assert_eq(jetl_job_cancel(c, res.job_id), JETL_ESTATE);
	cr_assert(strstr(jetl_last_error(c), "already finished"), "%s", jetl_last_error(c));
	cr_assert_eq(testdb_countf("SELECT count(*) FROM sync_state WHERE project_key = 'ABC' AND watermark IS NOT NULL"), 1);
	jetl_close(c);
}
