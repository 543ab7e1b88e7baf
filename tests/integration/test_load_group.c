/* test_load_group.c - several raw rows written in one transaction on the real
 * PostgreSQL: jl_load_fresh_group (src/store/load.c) and the writer thread
 * that uses it for first loads (src/pipeline/twriter.c), falling back to one
 * row at a time when the group cannot go in whole. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl.h"
#include "core/buf.h"
#include "core/ctx.h"
#include "pipeline/twriter.h"
#include "store/db.h"
#include "store/load.h"
#include "testdb.h"

static jetl_ctx *ctx;
static jetl_options opts;

static void setup(void)
{
	char err[512];

	opts = (jetl_options)JETL_OPTIONS_INIT;
	opts.db = testdb_create();
	cr_assert_eq(jetl_open_err(&ctx, &opts, err, sizeof(err)), JETL_OK, "open: %s", err);
	cr_assert_eq(jetl_migrate(ctx), JETL_OK, "%s", jetl_last_error(ctx));
}

static void teardown(void)
{
	jetl_close(ctx);
	ctx = NULL;
	testdb_drop();
}

/* A raw row of n issues with ids first.. (one history each); its id. */
static long long raw_row(int first, int n)
{
	jl_buf s = JL_BUF_INIT;
	char *id;
	long long v;

	jl_buf_puts(&s, "INSERT INTO raw_extraction_data (tenant_id, integration_id, type, project_key, raw_data, "
		"item_count) VALUES (1, 1, 'jira_issues_changelogs_dev_status', 'EE', $J${\"issues\":[");
	for (int k = first; k < first + n; k++)
		jl_buf_printf(&s, "%s{\"id\":\"%d\",\"key\":\"EE-%d\",\"fields\":{\"summary\":\"s%d\","
			"\"project\":{\"key\":\"EE\"},\"updated\":\"2026-01-02T00:00:00.000+0000\"},"
			"\"changelog\":{\"total\":1,\"histories\":[{\"id\":\"h%d\",\"created\":\"2026-01-02T00:00:00.000+0000\","
			"\"items\":[{\"field\":\"status\",\"fromString\":\"a\",\"toString\":\"b\"}]}]}}",
			k > first ? "," : "", k, k, k, k);
	jl_buf_printf(&s, "]}$J$, %d) RETURNING id", n);
	cr_assert(!s.oom);
	id = testdb_scalar(s.data);
	v = atoll(id);
	free(id);
	jl_buf_free(&s);
	return v;
}

/* The row read and transformed as the worker does, in a job for the writer. */
static jl_tjob *job_of(long long raw_id)
{
	jl_tjob *job = calloc(1, sizeof(*job));
	char err[256];

	cr_assert_not_null(job);
	job->raw_id = raw_id;
	job->job_id = 0;
	jl_tb_row_init(&job->row, 1, 1);
	cr_assert_eq(jl_load_fetch_send(ctx->pg, 1, 1, raw_id, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(jl_tb_fetch_recv(ctx, raw_id, &job->row), JETL_OK, "%s", job->row.err);
	cr_assert_eq(jl_tb_transform(ctx, raw_id, &job->row), JETL_OK, "%s", job->row.err);
	return job;
}

static long long distinct_commits(const char *ids)
{
	return testdb_countf("SELECT count(DISTINCT processed_at) FROM raw_extraction_data WHERE id IN (%s)", ids);
}

Test(load_group, rows_in_one_transaction, .init = setup, .fini = teardown)
{
	long long ids[3] = { raw_row(1, 3), raw_row(10, 2), raw_row(20, 4) };
	jl_tjob *jobs[3];
	const jl_transform_out *outs[3];
	int64_t raw[3];
	jl_load_counts counts[3];
	char err[512];

	for (int k = 0; k < 3; k++) {
		jobs[k] = job_of(ids[k]);
		outs[k] = &jobs[k]->row.out;
		raw[k] = ids[k];
	}
	cr_assert_eq(jl_load_fresh_group(ctx->pg, 1, 1, 3, raw, outs, counts, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(counts[0].work_items, 3);
	cr_assert_eq(counts[1].changelog_items, 2);
	cr_assert_eq(counts[2].dev_status, 0);
	SCALAR_IS("9", "SELECT count(*) FROM work_items");
	SCALAR_IS("9", "SELECT count(*) FROM changelogs");
	SCALAR_IS("3", "SELECT count(*) FROM raw_extraction_data WHERE status = 'completed'");
	SCALAR_IS("s21", "SELECT summary FROM work_items WHERE key = 'EE-21'");
	cr_assert_eq(testdb_countf("SELECT count(DISTINCT raw_id) FROM work_items"), 3, "each row keeps its raw_id");
	cr_assert_eq(distinct_commits("SELECT id FROM raw_extraction_data"), 1, "one transaction");
	for (int k = 0; k < 3; k++)
		jl_tjob_free(jobs[k]);
}

/* A raw row gone, or an issue already stored: nothing of the group is
 * committed, and the rows are as they were. */
Test(load_group, a_missing_row_or_a_stored_issue_writes_nothing, .init = setup, .fini = teardown)
{
	long long a = raw_row(1, 2), b = raw_row(5, 2), c = raw_row(2, 1);
	jl_tjob *ja = job_of(a), *jb = job_of(b), *jc = job_of(c);
	const jl_transform_out *outs[2] = { &ja->row.out, &jb->row.out };
	int64_t raw[2] = { a, 999999 };
	jl_load_counts counts[2];
	char err[512];

	cr_assert_lt(jl_load_fresh_group(ctx->pg, 1, 1, 2, raw, outs, counts, err, sizeof(err)), 0);
	jl_store_rollback(ctx->pg);
	SCALAR_IS("0", "SELECT count(*) FROM work_items");
	SCALAR_IS("3", "SELECT count(*) FROM raw_extraction_data WHERE status = 'pending'");
	/* c's issue EE-2 is stored once a is: c cannot go as a first load. */
	raw[1] = b;
	cr_assert_eq(jl_load_fresh_group(ctx->pg, 1, 1, 2, raw, outs, counts, err, sizeof(err)), 0, "%s", err);
	raw[0] = c;
	outs[0] = &jc->row.out;
	cr_assert_lt(jl_load_fresh_group(ctx->pg, 1, 1, 1, raw, outs, counts, err, sizeof(err)), 0);
	cr_assert(strstr(err, "work_items"), "%s", err);
	jl_store_rollback(ctx->pg);
	SCALAR_IS("4", "SELECT count(*) FROM work_items");
	SCALAR_IS("pending", "SELECT status FROM raw_extraction_data WHERE id = %lld", c);
	jl_tjob_free(ja);
	jl_tjob_free(jb);
	jl_tjob_free(jc);
}

/* Hand a list to a writer thread and take it back. */
static jl_tjob *write_list(jl_twriter *w, jl_tjob *head)
{
	jl_tjob *done;

	jl_twriter_submit(w, head);
	done = jl_twriter_collect(w, -1);
	cr_assert_eq(done, head);
	for (jl_tjob *j = done; j; j = j->next)
		cr_assert_eq(j->rc, JETL_OK, "raw row %lld: %s", (long long)j->raw_id, j->row.err);
	return done;
}

/* Raw rows x and y handed to the writer as one list; how many commits
 * they took (1: together). */
static long long write_pair(jl_twriter *w, long long x, long long y)
{
	jl_tjob *jx = job_of(x), *jy = job_of(y);
	char ids[64];

	jx->next = jy;
	jl_tjob_free(write_list(w, jx));
	snprintf(ids, sizeof(ids), "%lld, %lld", x, y);
	return distinct_commits(ids);
}

/* The writer takes a list of first loads in one transaction once the row
 * before was a first load; a list that cannot go whole (an issue of it is
 * stored: an update, not a first load) is written row by row, right. */
Test(load_group, the_writer_groups_first_loads_and_falls_back_row_by_row, .init = setup, .fini = teardown)
{
	long long a = raw_row(1, 2), b = raw_row(10, 2), c = raw_row(20, 2), d = raw_row(30, 2), e = raw_row(2, 2);
	jl_twriter *w;
	char err[512], ids[64];

	cr_assert_eq(jl_twriter_start(&w, &opts, 3, err, sizeof(err)), JETL_OK, "%s", err);
	jl_tjob_free(write_list(w, job_of(a)));
	cr_assert_eq(write_pair(w, b, c), 1, "b and c went in together");
	snprintf(ids, sizeof(ids), "%lld, %lld", a, b);
	cr_assert_eq(distinct_commits(ids), 2, "a alone");
	/* e holds EE-2 (stored with a) and EE-3: the group fails on the key,
	 * each row goes alone; d is still a first load, e an update. */
	testdb_exec("UPDATE raw_extraction_data SET raw_data = replace(raw_data::text, '\"s2\"', '\"s2 new\"')::json "
		"WHERE id = (SELECT max(id) FROM raw_extraction_data)");
	cr_assert_eq(write_pair(w, d, e), 2, "d and e went one by one");
	SCALAR_IS("s2 new", "SELECT summary FROM work_items WHERE key = 'EE-2'");
	SCALAR_IS("9", "SELECT count(*) FROM work_items");
	SCALAR_IS("5", "SELECT count(*) FROM raw_extraction_data WHERE status = 'completed'");
	jl_twriter_stop(w);
}
