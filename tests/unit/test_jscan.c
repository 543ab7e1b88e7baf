/* test_jscan.c - the JSON boundary scanner, and the transform's per-issue
 * path (used when the catalog names Sprint and Development) giving exactly
 * the rows of the whole-page path over the recorded issues. No servers. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "jetl.h"
#include "core/buf.h"
#include "transform/jscan.h"
#include "transform/devspans.h"
#include "transform/transform.h"
#include "fixtures_csv.h"

static const char *end_of(const char *s)
{
	return jl_jscan_value(s, s + strlen(s));
}

Test(jscan, value_ends)
{
	const char *s;

	s = "{\"a\":[1,2,{\"b\":\"x]}\"}],\"c\":null} tail";
	cr_assert_eq(end_of(s), strstr(s, " tail"));
	s = "\"quote \\\" and backslash \\\\\",1";
	cr_assert_eq(end_of(s), strrchr(s, ','));
	s = "\"\\\\\\\\\"x";   /* "\\\\" then x: the string ends before x */
	cr_assert_eq(end_of(s), s + strlen(s) - 1);
	s = "-12.5e3]";
	cr_assert_eq(end_of(s), s + strlen(s) - 1);
	s = "true,";
	cr_assert_eq(end_of(s), s + 4);
	/* Broken structure: no end before the text does. */
	cr_assert_null(end_of("{\"a\":[1,2}"));
	cr_assert_null(end_of("[\"open string]"));
	cr_assert_null(end_of("\"ends on a backslash\\\""));
	cr_assert_null(end_of("]"));
	cr_assert_null(end_of(","));
	cr_assert_null(end_of(""));
}

Test(jscan, raw_row_parts)
{
	jl_jspan is, ls, ds;
	const char *s;

	s = " {\"issues\":[{\"id\":\"1\"}], \"changelogs\":{\"1\":[]},\"dev_status\":null} \n";
	cr_assert_eq(jl_jscan_raw_row(s, strlen(s), &is, &ls, &ds), 0);
	cr_assert_eq(is.n, strlen("[{\"id\":\"1\"}]"));
	cr_assert_eq(strncmp(is.p, "[{", 2), 0);
	cr_assert_eq(strncmp(ls.p, "{\"1\":[]}", ls.n), 0);
	cr_assert_eq(ds.n, 4);
	s = "[1,2]";
	cr_assert_eq(jl_jscan_raw_row(s, strlen(s), &is, &ls, &ds), 0);
	cr_assert_eq(is.n, 5);
	cr_assert_null(ls.p);
	/* The last of a repeated key, as jansson keeps it. */
	s = "{\"issues\":[1],\"issues\":[2,3]}";
	cr_assert_eq(jl_jscan_raw_row(s, strlen(s), &is, &ls, &ds), 0);
	cr_assert_eq(strncmp(is.p, "[2,3]", is.n), 0);
	/* Anything else goes the whole-text way. */
	static const char *const other[] = { "{\"issues\":[],\"extra\":1}", "{\"iss\\u0075es\":[]}",
		"{\"issues\":[]} x", "{\"issues\":[]", "{\"issues\" []}", "\"text\"", "", "{\"issues\":[],}" };
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		cr_assert_eq(jl_jscan_raw_row(other[i], strlen(other[i]), &is, &ls, &ds), -1, "%s", other[i]);
}

/* ---- per-issue path == whole-page path ---- */

static void catalog_with_sprint_and_dev(jl_catalog *cat)
{
	jl_catalog_init(cat);
	jl_catalog_set_slot(cat, 1, "customfield_10019", NULL);
	jl_catalog_set_slot(cat, 2, "customfield_10015", NULL);
	jl_catalog_add_field(cat, "customfield_10020", "Sprint",
		"{\"type\":\"array\",\"items\":\"json\",\"custom\":\"com.pyxis.greenhopper.jira:gh-sprint\"}");
	jl_catalog_add_field(cat, "customfield_10000", "Development",
		"{\"type\":\"any\",\"custom\":\"com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf\"}");
	cr_assert_not_null(cat->sprint);
	cr_assert_not_null(cat->development);
}

static void same_rows(const jl_rowset *a, const jl_rowset *b)
{
	cr_assert_eq(a->nrows, b->nrows, "%s: %zu vs %zu rows", a->table, a->nrows, b->nrows);
	for (size_t r = 0; r < a->nrows; r++)
		for (int c = 0; c < a->ncols; c++) {
			const jl_cell *x = jl_rowset_cget(a, r, c), *y = jl_rowset_cget(b, r, c);

			cr_assert_eq(x->kind, y->kind, "%s row %zu %s", a->table, r, a->cols[c]);
			if (x->kind == JL_CELL_TEXT && (strcmp(a->cols[c], "custom_fields_overflow") == 0 ||
							 strcmp(a->cols[c], "detail") == 0)) {
				/* Kept as Jira's text on one path (jparse.h, jl_json_lazy;
				 * devspans.h), written from the tree on the other: the
				 * same JSON. */
				json_t *jx = json_loads(x->v.s, 0, NULL), *jy = json_loads(y->v.s, 0, NULL);

				cr_assert(jx && jy && json_equal(jx, jy), "%s row %zu %s:\n%s\n%s", a->table, r,
					a->cols[c], x->v.s, y->v.s);
				json_decref(jx);
				json_decref(jy);
				continue;
			}
			cr_assert_eq(x->n, y->n, "%s row %zu %s", a->table, r, a->cols[c]);
			if (x->kind == JL_CELL_TEXT)
				cr_assert_str_eq(x->v.s, y->v.s, "%s row %zu %s", a->table, r, a->cols[c]);
			else if (x->kind == JL_CELL_ARRAY)
				for (uint32_t i = 0; i < x->n; i++)
					cr_assert_str_eq(x->v.items[i], y->v.items[i]);
		}
}

static int transform(const char *raw, size_t len, const jl_catalog *cat, jl_transform_out *out)
{
	jl_transform_in in = { raw, len, 7, NULL, cat, NULL, NULL };

	jl_transform_out_init(out);
	return jl_transform_raw(&in, out);
}

Test(per_issue, same_rows_as_the_whole_page)
{
	csv_row *rows;
	long n = csv_read("devlake_raw_jira_api_issues.csv", &rows);
	jl_buf one = JL_BUF_INIT, whole = JL_BUF_INIT;
	jl_transform_out a, b;
	jl_catalog cat;

	cr_assert_eq(n, 33);
	catalog_with_sprint_and_dev(&cat);
	for (long r = 0; r < n; r++) {
		jl_buf_puts(&one, r ? ",\n  " : "{\"issues\": [\n  ");
		jl_buf_puts(&one, rows[r].f[2]);
	}
	jl_buf_puts(&one, "\n], \"dev_status\": {}}");
	{
		jl_jspan is, ls, ds;

		cr_assert_eq(jl_jscan_raw_row(one.data, one.len, &is, &ls, &ds), 0, "the page goes issue by issue");
	}
	/* An extra top-level key makes the transform parse the page whole. */
	jl_buf_put(&whole, one.data, one.len - 1);
	jl_buf_puts(&whole, ", \"x\": null}");
	cr_assert_eq(transform(one.data, one.len, &cat, &a), JETL_OK, "%s", a.err);
	cr_assert_eq(transform(whole.data, whole.len, &cat, &b), JETL_OK, "%s", b.err);
	cr_assert_eq(a.work_items.nrows, 33);
	cr_assert_gt(a.changelogs.nrows, 0);
	same_rows(&a.work_items, &b.work_items);
	same_rows(&a.changelogs, &b.changelogs);
	same_rows(&a.dev_status, &b.dev_status);
	same_rows(&a.history_read, &b.history_read);
	cr_assert_eq(a.warnings, b.warnings);
	jl_transform_out_free(&a);
	jl_transform_out_free(&b);
	jl_catalog_free(&cat);
	jl_buf_free(&one);
	jl_buf_free(&whole);
	csv_free(rows, n);
}

/* Dev status the per-issue path reads from trimmed trees and copies as
 * text (devspans.h): the same rows as the whole page's trees, over the 91
 * recorded detail answers, and entries made to reach every branch: pull
 * requests, builds and reviews counted, a duplicate issue and a duplicate
 * "detail" (the last wins), a number only a tree can write, a detail in
 * an unknown form, an entry that is not an object. */
Test(per_issue, same_dev_status_as_the_whole_page)
{
	csv_row *issues, *panels;
	long ni = csv_read("devlake_raw_jira_api_issues.csv", &issues);
	long np = csv_read("devlake_raw_jira_api_development_panels.csv", &panels);
	static const char *const made[] = {
		"{\"summary\":{\"pullrequest\":{\"overall\":{\"count\":3,\"state\":\"OPEN\"}}},\"detail\":[ {\"detail\": "
		"[{\"_instance\":{\"type\":\"github\",\"id\":\"x\"},\"pullRequests\":[{\"status\":\"OPEN\","
		"\"repositoryName\":\"r1\",\"author\":{\"name\":\"a\"},\"url\":\"u\"},{\"status\":\"MERGED\","
		"\"repositoryName\":\"r2\",\"id\":\"#2\"}],\"builds\":[{\"state\":\"FAILED\"},{\"state\":"
		"\"SUCCESSFUL\",\"url\":\"b\"}],\"reviews\":[{\"id\":\"CR-1\"}],\"branches\":[{\"name\":\"b\","
		"\"lastCommit\":{\"id\":\"c\",\"files\":[]}}]}]} ]}",
		"{\"detail\":[{\"detail\":[{\"repositories\":[{\"name\":\"old\"}]}]}],\"detail\":[{\"detail\":"
		"[{\"repositories\":[{\"name\":\"new\",\"commits\":[{\"id\":\"1\",\"fileCount\":3.14159265358979323846}]}]}]}]}",
		"{\"detail\":\"not a list\"}",
		"[1,2]",
	};
	jl_buf one = JL_BUF_INIT, whole = JL_BUF_INIT;
	jl_transform_out a, b;
	jl_catalog cat;
	long nmade = (long)(sizeof(made) / sizeof(made[0]));

	cr_assert_eq(ni, 33);
	cr_assert_eq(np, 91);
	catalog_with_sprint_and_dev(&cat);
	for (long r = 0; r < ni; r++) {
		jl_buf_puts(&one, r ? ",\n  " : "{\"issues\": [\n  ");
		jl_buf_puts(&one, issues[r].f[2]);
	}
	jl_buf_puts(&one, "\n], \"dev_status\": {");
	for (long r = 0; r < ni; r++) {
		json_t *is = json_loads(issues[r].f[2], JSON_ALLOW_NUL, NULL);
		const char *id = json_string_value(json_object_get(is, "id"));

		cr_assert_not_null(id);
		jl_buf_printf(&one, "%s\"%s\": ", r ? ", " : "", id);
		if (r < nmade)
			jl_buf_puts(&one, made[r]);
		else
			jl_buf_printf(&one, "{\"detail\": [%s]}", panels[r % np].f[2]);
		if (r == nmade)   /* the same issue again: this entry wins */
			jl_buf_printf(&one, ", \"%s\": {\"detail\": [%s]}", id, panels[0].f[2]);
		json_decref(is);
	}
	jl_buf_puts(&one, "}}");
	jl_buf_put(&whole, one.data, one.len - 1);
	jl_buf_puts(&whole, ", \"x\": null}");
	cr_assert_eq(transform(one.data, one.len, &cat, &a), JETL_OK, "%s", a.err);
	cr_assert_eq(transform(whole.data, whole.len, &cat, &b), JETL_OK, "%s", b.err);
	/* The entries in an unknown form warn; those issues' rows come from
	 * their Development field. */
	cr_assert_eq(a.dev_status.nrows, 33, "%zu rows", a.dev_status.nrows);
	cr_assert_geq(a.warnings, 2);
	same_rows(&a.work_items, &b.work_items);
	same_rows(&a.dev_status, &b.dev_status);
	cr_assert_eq(a.warnings, b.warnings);
	{
		/* The text path was taken: Jira's spacing is still there. */
		const jl_cell *c = jl_rowset_cget(&a.dev_status, 0, jl_rowset_col(&a.dev_status, "detail"));

		cr_assert(c->kind == JL_CELL_TEXT && strncmp(c->v.s, "[ {\"detail\": ", 13) == 0, "%s", c->v.s);
		c = jl_rowset_cget(&a.dev_status, 0, jl_rowset_col(&a.dev_status, "pr_open_count"));
		cr_assert_str_eq(c->v.s, "1");
	}
	jl_transform_out_free(&a);
	jl_transform_out_free(&b);
	jl_catalog_free(&cat);
	jl_buf_free(&one);
	jl_buf_free(&whole);
	csv_free(issues, ni);
	csv_free(panels, np);
}

/* The index itself: keys, the last "detail" of an entry, the last of a
 * repeated issue; an escaped key sends the caller to whole trees. */
Test(per_issue, dev_spans_index)
{
	const char *t = "{\"1\": {\"detail\": [1], \"detail\": [2]}, \"2\": 5, \"1\": {\"detail\": {\"a\": 3}}}";
	jl_dev_spans ds = { NULL, 0, 0 };
	const jl_jspan *sp;

	cr_assert_eq(jl_dev_spans_index(&ds, t, strlen(t)), 0);
	cr_assert_eq(ds.n, 3);
	cr_assert_not_null(sp = jl_dev_spans_detail(&ds, "1"));
	cr_assert_eq(strncmp(sp->p, "{\"a\": 3}", sp->n), 0);
	cr_assert_eq(sp->n, 8);
	cr_assert_null(jl_dev_spans_detail(&ds, "2"));
	cr_assert_null(jl_dev_spans_detail(&ds, "3"));
	t = "{\"1\": {\"det\\u0061il\": [1]}}";
	cr_assert_eq(jl_dev_spans_index(&ds, t, strlen(t)), -1);
	jl_dev_spans_free(&ds);
}

/* An issue whose own element is not JSON costs only itself (issue 12 item
 * 2): recorded by position with the cause, its neighbour stored. Only a
 * text whose issues cannot be told apart fails the row. */
Test(per_issue, a_broken_issue_is_left_out_by_its_position)
{
	jl_catalog cat;
	jl_transform_out out;
	const char *s = "{\"issues\":[{\"id\":\"1\",\"key\":\"A-1\",\"fields\":{}},\n{\"id\":\"2\",\"key\":tru}]}";

	catalog_with_sprint_and_dev(&cat);
	cr_assert_eq(transform(s, strlen(s), &cat, &out), JETL_OK, "%s", out.err);
	cr_assert_eq(out.work_items.nrows, 1);
	cr_assert_eq(out.issue_errors.nrows, 1);
	cr_assert_str_eq(jl_rowset_cget(&out.issue_errors, 0, 2)->v.s, "1");
	cr_assert(strstr(jl_rowset_cget(&out.issue_errors, 0, 3)->v.s, "invalid JSON at line 2"), "%s",
		jl_rowset_cget(&out.issue_errors, 0, 3)->v.s);
	jl_transform_out_free(&out);
	/* An issue that is no value at all, after the changelogs and dev
	 * status are parsed: the scan cannot find where it ends, the row fails. */
	s = "{\"issues\":[:],\"changelogs\":{\"1\":[]},\"dev_status\":{\"1\":null}}";
	cr_assert_eq(transform(s, strlen(s), &cat, &out), JETL_EDATA);
	cr_assert(strstr(out.err, "an issue does not end"), "%s", out.err);
	jl_transform_out_free(&out);
	/* Invalid UTF-8 inside an issue: that issue is left out. (Answers with
	 * bad bytes are repaired before they are stored: src/core/utf8fix.c.) */
	s = "{\"issues\":[{\"id\":\"1\",\"key\":\"A-\xff\",\"fields\":{}}]}";
	cr_assert_eq(transform(s, strlen(s), &cat, &out), JETL_OK, "%s", out.err);
	cr_assert_eq(out.work_items.nrows, 0);
	cr_assert_eq(out.issue_errors.nrows, 1);
	cr_assert(strstr(jl_rowset_cget(&out.issue_errors, 0, 3)->v.s, "invalid JSON"), "%s",
		jl_rowset_cget(&out.issue_errors, 0, 3)->v.s);
	jl_transform_out_free(&out);
	jl_catalog_free(&cat);
}
