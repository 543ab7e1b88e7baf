/* test_issue_parts_db.c - links, versions, components and accounts written
 * on the real PostgreSQL by every path of a raw row's write (src/store/
 * load_parts.c): a first load's COPY, the upserts that replace an issue's
 * rows, a stale version that changes nothing, several raw rows in one
 * transaction. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl.h"
#include "core/buf.h"
#include "core/ctx.h"
#include "pipeline/twriter.h"
#include "store/load.h"
#include "testdb.h"

static jetl_ctx *ctx;

static void setup(void)
{
	jetl_options o = JETL_OPTIONS_INIT;
	char err[512];

	o.db = testdb_create();
	cr_assert_eq(jetl_open_err(&ctx, &o, err, sizeof(err)), JETL_OK, "open: %s", err);
	cr_assert_eq(jetl_migrate(ctx), JETL_OK, "%s", jetl_last_error(ctx));
}

static void teardown(void)
{
	jetl_close(ctx);
	ctx = NULL;
	testdb_drop();
}

static long long insert_raw(const char *issues)
{
	char *sql, *id;
	size_t n = strlen(issues) + 256;
	long long v;

	sql = malloc(n);
	snprintf(sql, n, "INSERT INTO raw_extraction_data (tenant_id, integration_id, type, project_key, raw_data, "
		"item_count) VALUES (1, 1, 'jira_issues_changelogs_dev_status', 'P', $J${\"issues\":[%s]}$J$, 1) "
		"RETURNING id", issues);
	id = testdb_scalar(sql);
	v = atoll(id);
	free(id);
	free(sql);
	return v;
}

/* Issue id with updated day, links (JSON array text), fixVersions, the
 * assignee's display name. */
static char *issue(int id, int day, const char *links, const char *fix, const char *who)
{
	jl_buf b = JL_BUF_INIT;

	jl_buf_printf(&b, "{\"id\":\"%d\",\"key\":\"P-%d\",\"fields\":{\"updated\":\"2026-01-%02dT00:00:00.000+0000\","
		"\"issuelinks\":%s,\"fixVersions\":%s,\"components\":[{\"id\":\"7\",\"name\":\"Backend\"}],"
		"\"assignee\":{\"accountId\":\"a1\",\"displayName\":\"%s\"}},"
		"\"changelog\":{\"total\":1,\"histories\":[{\"id\":\"h%d\",\"author\":{\"accountId\":\"a%d\"},"
		"\"created\":\"2026-01-01T00:00:00.000+0000\",\"items\":[]}]}}", id, id, day, links, fix, who, id, id + 1);
	cr_assert(!b.oom);
	return b.data;
}

#define LINK_OUT "[{\"id\":\"9\",\"type\":{\"id\":\"1\",\"name\":\"Blocks\",\"inward\":\"is blocked by\"," \
	"\"outward\":\"blocks\"},\"outwardIssue\":{\"id\":\"2\",\"key\":\"P-2\"}}]"
#define LINK_IN "[{\"id\":\"9\",\"type\":{\"id\":\"1\",\"name\":\"Blocks\",\"inward\":\"is blocked by\"," \
	"\"outward\":\"blocks\"},\"inwardIssue\":{\"id\":\"1\",\"key\":\"P-1\"}}]"
#define V1 "[{\"id\":\"100\",\"name\":\"1.0\",\"released\":true}]"
#define V2 "[{\"id\":\"101\",\"name\":\"1.1\"}]"

static void transform(long long id, jetl_transform_result *r)
{
	cr_assert_eq(jetl_transform_batch(ctx, id, r), JETL_OK, "%s", jetl_last_error(ctx));
}

Test(issue_parts_db, first_load_then_replace_then_stale, .init = setup, .fini = teardown)
{
	char *i1 = issue(1, 2, LINK_OUT, V1, "Alice"), *i2 = issue(2, 2, LINK_IN, V1, "Alice");
	char *i1b = issue(1, 3, "[]", V2, "Alice B."), *i1old = issue(1, 1, LINK_OUT, V1, "Old name");
	jetl_transform_result r = JETL_TRANSFORM_RESULT_INIT;
	jl_buf page = JL_BUF_INIT;

	jl_buf_printf(&page, "%s,%s", i1, i2);
	transform(insert_raw(page.data), &r);   /* a first load: COPY */
	SCALAR_IS("2", "SELECT count(*) FROM issue_links");
	SCALAR_IS("outward P-2 blocks|inward P-1 is blocked by", "SELECT string_agg(direction || ' ' || "
		"other_issue_key || ' ' || description, '|' ORDER BY work_item_external_id) FROM issue_links");
	SCALAR_IS("2", "SELECT count(*) FROM issue_versions WHERE version_id = '100' AND relation = 'fix' AND released");
	SCALAR_IS("2", "SELECT count(*) FROM issue_components");
	SCALAR_IS("a1 a2 a3", "SELECT string_agg(account_id, ' ' ORDER BY account_id) FROM accounts");
	SCALAR_IS("Alice", "SELECT display_name FROM accounts WHERE account_id = 'a1'");
	/* Issue 1 again, newer: its link is gone in Jira, its version moved,
	 * its assignee renamed. Issue 2 is not in the batch: its rows stay. */
	transform(insert_raw(i1b), &r);
	SCALAR_IS("2", "SELECT string_agg(work_item_external_id, ',') FROM issue_links");
	SCALAR_IS("1:101,2:100", "SELECT string_agg(work_item_external_id || ':' || version_id, ',' "
		"ORDER BY work_item_external_id) FROM issue_versions");
	SCALAR_IS("Alice B.", "SELECT display_name FROM accounts WHERE account_id = 'a1'");
	SCALAR_IS("3", "SELECT count(*) FROM accounts");
	/* An older version of issue 1 arriving late changes none of its rows. */
	transform(insert_raw(i1old), &r);
	SCALAR_IS("1", "SELECT count(*) FROM issue_links");
	SCALAR_IS("101", "SELECT version_id FROM issue_versions WHERE work_item_external_id = '1'");
	/* The job totals' counts: a run over the same rows again writes them
	 * again, unchanged. */
	transform(insert_raw(i1b), &r);
	SCALAR_IS("1", "SELECT count(*) FROM issue_versions WHERE work_item_external_id = '1'");
	jl_buf_free(&page);
	free(i1);
	free(i2);
	free(i1b);
	free(i1old);
}

static jl_tjob *job_of(long long raw_id)
{
	jl_tjob *job = calloc(1, sizeof(*job));
	char err[256];

	cr_assert_not_null(job);
	job->raw_id = raw_id;
	jl_tb_row_init(&job->row, 1, 1);
	cr_assert_eq(jl_load_fetch_send(ctx->pg, 1, 1, raw_id, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(jl_tb_fetch_recv(ctx, raw_id, &job->row), JETL_OK, "%s", job->row.err);
	cr_assert_eq(jl_tb_transform(ctx, raw_id, &job->row), JETL_OK, "%s", job->row.err);
	return job;
}

/* Two raw rows in one transaction naming the same account: one row, the
 * links of both; counts per raw row. */
Test(issue_parts_db, a_group_writes_each_once, .init = setup, .fini = teardown)
{
	char *i1 = issue(1, 2, LINK_OUT, V1, "Alice"), *i2 = issue(2, 2, LINK_IN, V2, "Alice");
	long long ids[2] = { insert_raw(i1), insert_raw(i2) };
	const jl_transform_out *outs[2];
	jl_tjob *jobs[2];
	int64_t raw[2];
	jl_load_counts counts[2];
	char err[512];

	for (int k = 0; k < 2; k++) {
		jobs[k] = job_of(ids[k]);
		outs[k] = &jobs[k]->row.out;
		raw[k] = ids[k];
	}
	cr_assert_eq(jl_load_fresh_group(ctx->pg, 1, 1, 2, raw, outs, counts, err, sizeof(err)), 0, "%s", err);
	SCALAR_IS("2", "SELECT count(*) FROM issue_links");
	SCALAR_IS("3", "SELECT count(*) FROM accounts");
	cr_assert_eq(counts[0].parts[JL_PART_LINKS], 1);
	cr_assert_eq(counts[1].parts[JL_PART_VERSIONS], 1);
	cr_assert_eq(counts[0].parts[JL_PART_ACCOUNTS] + counts[1].parts[JL_PART_ACCOUNTS], 3);
	for (int k = 0; k < 2; k++) {
		jl_tb_row_free(&jobs[k]->row);
		free(jobs[k]);
	}
	free(i1);
	free(i2);
}
