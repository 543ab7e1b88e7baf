/* test_issue_parts.c - links, versions, components and accounts from what
 * each issue carries (src/transform/issue_parts.c, accounts.c), over
 * Atlassian's documented issue example and the recorded issues, on both
 * parse paths (per issue with a catalog, whole page without). No servers. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl.h"
#include "core/buf.h"
#include "transform/transform.h"
#include "fixtures_csv.h"

static int nwarn;
static char lastwarn[512];

static void on_warn(void *ud, const char *msg)
{
	(void)ud;
	nwarn++;
	snprintf(lastwarn, sizeof(lastwarn), "%s", msg);
}

/* The catalog that sends a raw row down the per-issue path. */
static const jl_catalog per_issue_cat = { .sprint = "customfield_10020", .development = "customfield_10000" };

static int run(const char *raw, const jl_catalog *cat, jl_transform_out *out)
{
	jl_transform_in in = { raw, strlen(raw), 42, NULL, cat, on_warn, NULL };

	nwarn = 0;
	lastwarn[0] = '\0';
	jl_transform_out_init(out);
	return jl_transform_raw(&in, out);
}

static const char *cell(const jl_rowset *rs, size_t row, const char *col)
{
	int c = jl_rowset_col(rs, col);
	const jl_cell *x;

	cr_assert_geq(c, 0, "no column %s", col);
	x = jl_rowset_cget(rs, row, c);
	return x->kind == JL_CELL_TEXT ? x->v.s : NULL;
}

/* {"issues":[<text>]} */
static char *wrap(const char *issues)
{
	size_t n = strlen(issues) + 64;
	char *s = malloc(n);

	snprintf(s, n, "{\"issues\":[%s],\"changelogs\":{},\"dev_status\":{}}", issues);
	return s;
}

Test(links, documented_example_both_directions)
{
	for (int path = 0; path < 2; path++) {
		char *issue = fixture_text("openapi_example_get_issue.json", NULL), *raw;
		jl_transform_out out;
		const jl_rowset *l;

		cr_assert_not_null(issue);
		raw = wrap(issue);
		cr_assert_eq(run(raw, path ? &per_issue_cat : NULL, &out), JETL_OK, "%s", out.err);
		l = &out.parts[JL_PART_LINKS];
		cr_assert_eq(l->nrows, 2, "path %d: %zu links", path, l->nrows);
		cr_assert_str_eq(cell(l, 0, "work_item_external_id"), "10002");
		cr_assert_str_eq(cell(l, 0, "link_id"), "10001");
		cr_assert_str_eq(cell(l, 0, "direction"), "outward");
		cr_assert_str_eq(cell(l, 0, "description"), "is depended by");
		cr_assert_str_eq(cell(l, 0, "other_issue_id"), "10004L");
		cr_assert_str_eq(cell(l, 0, "other_issue_key"), "PR-2");
		cr_assert_str_eq(cell(l, 0, "link_type"), "Dependent");
		cr_assert_str_eq(cell(l, 1, "direction"), "inward");
		cr_assert_str_eq(cell(l, 1, "description"), "depends on");
		cr_assert_str_eq(cell(l, 1, "other_issue_key"), "PR-3");
		/* The "sub-tasks" entries are not issue links. */
		cr_assert_eq(out.parts[JL_PART_VERSIONS].nrows, 0);
		jl_transform_out_free(&out);
		free(raw);
		free(issue);
	}
}

/* What the recorded issues name: every fixVersion, every account once per
 * raw row (assignee, reporter, creator, history authors), the same on both
 * paths. */
Test(accounts, recorded_issues_once_each)
{
	csv_row *rows;
	long n = csv_read("devlake_raw_jira_api_issues.csv", &rows);
	jl_buf all = JL_BUF_INIT;
	json_t *ids = json_object();
	size_t fix = 0;

	cr_assert_eq(n, 33);
	for (long r = 0; r < n; r++) {
		json_t *issue = json_loads(rows[r].f[2], JSON_ALLOW_NUL, NULL);
		json_t *f = json_object_get(issue, "fields"), *h;
		static const char *const who[] = { "assignee", "reporter", "creator" };
		size_t i;

		for (int k = 0; k < 3; k++) {
			const char *id = json_string_value(json_object_get(json_object_get(f, who[k]), "accountId"));
			if (id && *id)
				json_object_set_new(ids, id, json_true());
		}
		json_array_foreach(json_object_get(json_object_get(issue, "changelog"), "histories"), i, h) {
			const char *id = json_string_value(json_object_get(json_object_get(h, "author"), "accountId"));
			if (id && *id)
				json_object_set_new(ids, id, json_true());
		}
		fix += json_array_size(json_object_get(f, "fixVersions"));
		jl_buf_puts(&all, r ? "," : "");
		jl_buf_puts(&all, rows[r].f[2]);
		json_decref(issue);
	}
	cr_assert_gt(json_object_size(ids), 3);
	cr_assert_gt(fix, 10);
	for (int path = 0; path < 2; path++) {
		char *raw = wrap(all.data);
		jl_transform_out out;
		const jl_rowset *a;

		cr_assert_eq(run(raw, path ? &per_issue_cat : NULL, &out), JETL_OK, "%s", out.err);
		cr_assert_eq(out.work_items.nrows, 33);
		a = &out.parts[JL_PART_ACCOUNTS];
		cr_assert_eq(a->nrows, json_object_size(ids), "path %d: %zu accounts for %zu ids", path, a->nrows,
			json_object_size(ids));
		for (size_t k = 0; k < a->nrows; k++)
			cr_assert_not_null(json_object_get(ids, cell(a, k, "account_id")));
		cr_assert_eq(out.parts[JL_PART_VERSIONS].nrows, fix);
		cr_assert_str_eq(cell(&out.parts[JL_PART_VERSIONS], 0, "relation"), "fix");
		jl_transform_out_free(&out);
		free(raw);
	}
	json_decref(ids);
	jl_buf_free(&all);
	csv_free(rows, n);
}

/* Server users have no accountId: key, else name. Versions carry released
 * and releaseDate; components their id and name. */
Test(parts, server_users_versions_components)
{
	const char *raw = "{\"issues\":[{\"id\":\"7\",\"key\":\"S-1\",\"fields\":{"
		"\"assignee\":{\"key\":\"JIRAUSER10100\",\"name\":\"alice\",\"displayName\":\"Alice\",\"active\":true},"
		"\"reporter\":{\"name\":\"bob\",\"displayName\":\"Bob\"},"
		"\"creator\":{\"key\":\"JIRAUSER10100\",\"name\":\"alice\",\"displayName\":\"Alice\"},"
		"\"fixVersions\":[{\"id\":\"100\",\"name\":\"1.0\",\"released\":true,\"releaseDate\":\"2023-02-15\"}],"
		"\"versions\":[{\"id\":\"100\",\"name\":\"1.0\"},{\"id\":101,\"name\":\"1.1\",\"released\":false}],"
		"\"components\":[{\"id\":\"5\",\"name\":\"Backend\"}]}}]}";
	jl_transform_out out;
	const jl_rowset *v, *a;

	cr_assert_eq(run(raw, NULL, &out), JETL_OK, "%s", out.err);
	a = &out.parts[JL_PART_ACCOUNTS];
	cr_assert_eq(a->nrows, 2);
	cr_assert_str_eq(cell(a, 0, "account_id"), "JIRAUSER10100");
	cr_assert_str_eq(cell(a, 0, "active"), "t");
	cr_assert_str_eq(cell(a, 1, "account_id"), "bob");
	cr_assert_null(cell(a, 1, "active"));
	v = &out.parts[JL_PART_VERSIONS];
	cr_assert_eq(v->nrows, 3);
	cr_assert_str_eq(cell(v, 0, "relation"), "fix");
	cr_assert_str_eq(cell(v, 0, "released"), "t");
	cr_assert_str_eq(cell(v, 0, "release_date"), "2023-02-15");
	cr_assert_str_eq(cell(v, 1, "relation"), "affects");
	cr_assert_str_eq(cell(v, 2, "version_id"), "101");
	cr_assert_str_eq(cell(v, 2, "released"), "f");
	cr_assert_str_eq(cell(&out.parts[JL_PART_COMPONENTS], 0, "component_name"), "Backend");
	jl_transform_out_free(&out);
}

/* A malformed link or field warns and is left out; the issue is stored. An
 * issue that fails takes its parts with it. */
Test(parts, bad_elements_cost_only_themselves)
{
	const char *raw = "{\"issues\":["
		"{\"id\":\"1\",\"key\":\"B-1\",\"fields\":{\"issuelinks\":[{\"type\":{}},"
		"{\"id\":\"9\",\"outwardIssue\":{\"id\":\"2\",\"key\":\"B-2\"}}],\"versions\":{\"id\":\"1\"},"
		"\"assignee\":{\"accountId\":\"a1\"}}},"
		"{\"id\":\"2\",\"key\":\"B-2\",\"fields\":{\"status\":\"x\",\"issuelinks\":[{\"id\":\"9\","
		"\"inwardIssue\":{\"id\":\"1\",\"key\":\"B-1\"}}],\"assignee\":{\"accountId\":\"a2\"}}},"
		"{\"id\":\"3\",\"key\":\"B-3\",\"fields\":{\"assignee\":{\"accountId\":\"a2\"}}}]}";
	jl_transform_out out;

	cr_assert_eq(run(raw, NULL, &out), JETL_OK, "%s", out.err);
	cr_assert_eq(out.work_items.nrows, 2);
	cr_assert_eq(out.issue_errors.nrows, 1);
	cr_assert_eq(out.parts[JL_PART_LINKS].nrows, 1);
	cr_assert_str_eq(cell(&out.parts[JL_PART_LINKS], 0, "work_item_external_id"), "1");
	cr_assert_eq(out.parts[JL_PART_VERSIONS].nrows, 0);
	/* a2 of the failed B-2 went with it; B-3 names it again. */
	cr_assert_eq(out.parts[JL_PART_ACCOUNTS].nrows, 2);
	cr_assert_str_eq(cell(&out.parts[JL_PART_ACCOUNTS], 1, "account_id"), "a2");
	cr_assert_geq(nwarn, 3);
	jl_transform_out_free(&out);
}

/* The recorded issues' embedded comments (API 2: text bodies) and worklogs,
 * on both paths; a completed list in the raw row's "comments" wins over the
 * embedded page, on both paths too (the per-issue one finds the key). */
Test(items, embedded_and_completed)
{
	csv_row *rows;
	long n = csv_read("devlake_raw_jira_api_issues.csv", &rows);
	size_t ncom = 0, nwl = 0;
	jl_buf all = JL_BUF_INIT;

	for (long r = 0; r < n; r++) {
		json_t *issue = json_loads(rows[r].f[2], JSON_ALLOW_NUL, NULL);
		json_t *f = json_object_get(issue, "fields");

		ncom += json_array_size(json_object_get(json_object_get(f, "comment"), "comments"));
		nwl += json_array_size(json_object_get(json_object_get(f, "worklog"), "worklogs"));
		jl_buf_puts(&all, r ? "," : "");
		jl_buf_puts(&all, rows[r].f[2]);
		json_decref(issue);
	}
	cr_assert_gt(ncom, 5);
	cr_assert_gt(nwl, 5);
	for (int path = 0; path < 2; path++) {
		char *raw = wrap(all.data);
		jl_transform_out out;
		const jl_rowset *c, *w;

		cr_assert_eq(run(raw, path ? &per_issue_cat : NULL, &out), JETL_OK, "%s", out.err);
		c = &out.parts[JL_PART_COMMENTS];
		w = &out.parts[JL_PART_WORKLOGS];
		cr_assert_eq(c->nrows, ncom, "path %d: %zu comments", path, c->nrows);
		cr_assert_eq(w->nrows, nwl, "path %d: %zu worklogs", path, w->nrows);
		cr_assert_not_null(cell(c, 0, "body"));
		cr_assert_eq(cell(c, 0, "body_raw")[0], '"', "a text body is kept as a JSON string");
		cr_assert_not_null(cell(w, 0, "time_spent_seconds"));
		cr_assert_not_null(cell(w, 0, "started_at"));
		/* every issue read: each one's stored items can be replaced */
		cr_assert_eq(out.parts_read.nrows, 33 * 5, "%zu", out.parts_read.nrows);
		jl_transform_out_free(&out);
		free(raw);
	}
	for (int path = 0; path < 2; path++) {
		const char *raw = "{\"issues\":[{\"id\":\"5\",\"key\":\"C-5\",\"fields\":{"
			"\"comment\":{\"total\":3,\"startAt\":0,\"comments\":[{\"id\":\"1\",\"body\":\"x\"}]},"
			"\"worklog\":{\"total\":1,\"startAt\":0,\"worklogs\":[{\"id\":\"9\",\"timeSpentSeconds\":60}]}}}],"
			"\"changelogs\":{},\"dev_status\":{},\"comments\":{\"5\":[{\"id\":\"1\",\"body\":\"x\"},"
			"{\"id\":\"2\",\"body\":{\"type\":\"doc\",\"version\":1,\"content\":[{\"type\":\"paragraph\","
			"\"content\":[{\"type\":\"text\",\"text\":\"in ADF\"}]}]},\"author\":{\"accountId\":\"u7\"},"
			"\"created\":\"2024-01-02T03:04:05.000+0800\"},{\"id\":3}]}}";
		jl_transform_out out;
		const jl_rowset *c;

		cr_assert_eq(run(raw, path ? &per_issue_cat : NULL, &out), JETL_OK, "%s", out.err);
		c = &out.parts[JL_PART_COMMENTS];
		cr_assert_eq(c->nrows, 3, "path %d: %zu", path, c->nrows);
		cr_assert_str_eq(cell(c, 1, "body"), "in ADF");
		cr_assert_str_eq(cell(c, 1, "author_account_id"), "u7");
		cr_assert_str_eq(cell(c, 1, "created_at"), "2024-01-02T03:04:05.000+08:00");
		cr_assert_str_eq(cell(c, 2, "comment_id"), "3");
		cr_assert_eq(out.parts[JL_PART_WORKLOGS].nrows, 1);
		cr_assert_str_eq(cell(&out.parts[JL_PART_WORKLOGS], 0, "time_spent_seconds"), "60");
		cr_assert_eq(out.parts[JL_PART_ACCOUNTS].nrows, 1);
		jl_transform_out_free(&out);
	}
	jl_buf_free(&all);
	csv_free(rows, n);
}

/* A cut page whose rest was not read (no completed list) is written but
 * not marked read: the stored items past it are not deleted. */
Test(items, cut_page_without_completion_deletes_nothing)
{
	const char *raw = "{\"issues\":[{\"id\":\"5\",\"key\":\"C-5\",\"fields\":{"
		"\"comment\":{\"total\":3,\"startAt\":0,\"comments\":[{\"id\":\"1\",\"body\":\"x\"}]},"
		"\"worklog\":{\"total\":1,\"startAt\":0,\"worklogs\":[{\"id\":\"9\"}]}}}]}";
	jl_transform_out out;

	cr_assert_eq(run(raw, NULL, &out), JETL_OK, "%s", out.err);
	cr_assert_eq(out.parts[JL_PART_COMMENTS].nrows, 1);
	cr_assert_eq(out.parts_read.nrows, 1, "only the whole worklog page is read");
	cr_assert_str_eq(cell(&out.parts_read, 0, "part"), "worklogs");
	jl_transform_out_free(&out);
}
