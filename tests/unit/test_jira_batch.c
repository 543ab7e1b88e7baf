/*
 * test_jira_batch.c - how an answer's issues become a batch (issues.c): each
 * parsed alone from the answer's text, dumped onto the batch's text, kept as
 * a stub; and that the raw row written from that text (jl_jira_batch_dump)
 * is byte for byte the one the whole-page tree gave. No servers.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl.h"
#include "core/buf.h"
#include "core/jspan.h"
#include "core/utf8fix.h"
#include "jira/extract.h"

/* --- the member walk ------------------------------------------------------ */

static const char *collect(void *ud, const jl_jspan *key, const char *v, const char *e)
{
	jl_buf *out = ud;
	const char *end = jl_jscan_value(v, e);

	if (!end || (key->n == 4 && !memcmp(key->p, "stop", 4)))
		return NULL;
	jl_buf_printf(out, "%.*s=%.*s;", (int)key->n, key->p, (int)(end - v), v);
	return end;
}

static int members(const char *s, jl_buf *out)
{
	jl_buf_clear(out);
	return jl_jscan_members(s, strlen(s), collect, out);
}

Test(jspan, members_in_order)
{
	jl_buf out = JL_BUF_INIT;
	static const char *const refused[] = {
		"[1]", "{\"a\":1} x", "{\"a\":1", "{\"a\" 1}", "{\"a\":}", "{\"a\":1,}", "{\"k\\u0041\":1}",
		"{\"a\":1 \"b\":2}", "{\"stop\":1}", "", "   ",
	};

	cr_assert_eq(members(" { \"a\" : [1, {\"x\":\"}\"}] ,\"b\":\"q\\\"\",\"a\":null }\n", &out), 0);
	cr_assert_str_eq(out.data, "a=[1, {\"x\":\"}\"}];b=\"q\\\"\";a=null;");
	cr_assert_eq(members("{}", &out), 0);
	cr_assert_eq(out.len, 0);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		cr_expect_eq(members(refused[i], &out), -1, "%s", refused[i]);
	jl_buf_free(&out);
}

/* --- an answer into a batch ----------------------------------------------- */

#define DEV "customfield_10000"

static char *fixture(const char *name)
{
	char path[1024];
	json_t *doc;
	char *s;

	snprintf(path, sizeof(path), "%s/%s", getenv("JETL_FIXTURES"), name);
	doc = json_load_file(path, 0, NULL);
	cr_assert(doc, "cannot read %s", path);
	s = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return s;
}

/*
 * A bulk-fetch answer: a recorded issue, one whose log is capped, the first
 * again (a repeat: kept once), and one with what real answers carry now and
 * then: an invalid UTF-8 byte, \u0000, a real, a non-ASCII text, white space.
 */
static char *answer_text(void)
{
	char *rec = fixture("cloud_agile_board_issue_EE-17_with_changelog_devlake.json");
	jl_buf b = JL_BUF_INIT;

	jl_buf_printf(&b, "{\"expand\":\"schema,names\", \"issues\": [ %s,\n", rec);
	jl_buf_puts(&b, "{\"id\":\"20\",\"key\":\"X-2\",\"fields\":{\"updated\":\"2031-01-02T03:04:05.000+0000\","
		    "\"" DEV "\":\"{summaryBean=...}\"},\"changelog\":{\"startAt\":0,\"maxResults\":2,\"total\":7,"
		    "\"histories\":[{\"id\":\"1\",\"created\":\"2020-01-01T00:00:00.000+0000\",\"items\":[]},"
		    "{\"id\":\"2\",\"created\":\"2020-01-02T00:00:00.000+0000\",\"items\":[]}]}},");
	jl_buf_printf(&b, "%s ,", rec);
	jl_buf_puts(&b, "{\"id\":\"30\",\"key\":\"X-3\",\"fields\":{\"summary\":\"caf\xc3\xa9 \xff bad\","
		    "\"t\":\"a\\u0000b\",\"n\":1.5e3,\"updated\":\"2021-05-05T00:00:00.000+0000\"},"
		    "\"changelog\":{\"total\":1,\"histories\":[{\"id\":\"9\",\"items\":[]}]}}");
	jl_buf_puts(&b, "], \"issueErrors\":[{\"id\":\"99\"}],\"total\":4}");
	free(rec);
	cr_assert(!b.oom);
	return jl_buf_detach(&b);
}

static int admit_once(jl_batch *b, int64_t id, void *ud)
{
	(void)b;
	return id > 0 && jl_idset_add(ud, id) == 1;
}

static int put_text(const char *d, size_t n, void *ud)
{
	return jl_buf_put(ud, d, n);
}

/* What the raw row held when the batch kept the page's trees: the page
 * parsed whole (repaired), the repeat left out, dumped compact. */
static char *whole_page_row(const char *text)
{
	jl_buf fixed = JL_BUF_INIT;
	json_t *doc, *issues, *kept = json_array(), *raw;
	char *s;

	cr_assert_gt(jl_utf8_json_repair(text, strlen(text), &fixed), 0);
	doc = json_loadb(fixed.data, fixed.len, JSON_ALLOW_NUL, NULL);
	cr_assert(doc);
	issues = json_object_get(doc, "issues");
	for (size_t i = 0; i < json_array_size(issues); i++)
		if (i != 2)
			json_array_append(kept, json_array_get(issues, i));
	raw = json_pack("{s:o,s:{},s:{}}", "issues", kept, "changelogs", "dev_status");
	s = json_dumps(raw, JSON_COMPACT);
	json_decref(raw);
	json_decref(doc);
	jl_buf_free(&fixed);
	return s;
}

static void check_batch(jl_batch *b, json_t *rest, size_t count, const char *want_row)
{
	jl_jira_batch out = { json_array_size(b->issues), b->n_histories, b->max_updated_ms, b->text.data,
			      b->text.len, b->changelogs, b->dev };
	jl_buf row = JL_BUF_INIT;
	json_t *capped;

	cr_assert_eq(count, 4, "the repeat is counted as in the answer");
	cr_assert_eq(json_array_size(b->issues), 3, "the repeat is kept once");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(b->issues, 0), "id")), "10079");
	/* a stub keeps the log only when capped, and of the fields only the Development one */
	capped = json_array_get(b->issues, 1);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(capped, "changelog"), "total")), 7);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(capped, "fields"), DEV)), "{summaryBean=...}");
	cr_assert_eq(json_object_size(json_object_get(capped, "fields")), 1);
	cr_assert_null(json_object_get(json_array_get(b->issues, 0), "changelog"));
	cr_assert_null(json_object_get(json_array_get(b->issues, 2), "fields"));
	cr_assert_eq(b->max_updated_ms, 1925089445000LL);   /* 2031-01-02T03:04:05Z */
	cr_assert(json_is_integer(json_object_get(rest, "total")));
	cr_assert_eq(json_array_size(json_object_get(rest, "issueErrors")), 1);
	cr_assert_null(json_object_get(rest, "issues"));
	cr_assert_eq(jl_jira_batch_dump(&out, put_text, &row), 0);
	cr_assert_str_eq(row.data, want_row, "the raw row differs from the whole page's");
	jl_buf_free(&row);
}

static jl_batch *batch_new(jl_run *run)
{
	jl_batch *b = calloc(1, sizeof(*b));

	b->run = run;
	b->issues = json_array();
	b->changelogs = json_object();
	b->dev = json_object();
	return b;
}

static void batch_free(jl_batch *b)
{
	json_decref(b->issues);
	json_decref(b->changelogs);
	json_decref(b->dev);
	jl_buf_free(&b->text);
	free(b);
}

static jl_jira *client(void)
{
	jl_jira_config cfg = { 0 };
	jl_jira *j = NULL;
	char err[256];

	cfg.base_url = "http://127.0.0.1:9";
	cfg.flavor = JETL_FLAVOR_CLOUD;
	cfg.concurrency = 1;
	cr_assert_eq(jl_jira_new(&j, &cfg, err, sizeof(err)), 0, "%s", err);
	return j;
}

Test(batch, issues_one_at_a_time_give_the_whole_page_row)
{
	char *text = answer_text(), *want = whole_page_row(text), *rec;
	jl_jira_extract_req req = { 0 };
	json_t *first;
	size_t want_hist;
	jl_run run;
	jl_jira *j = client();

	rec = fixture("cloud_agile_board_issue_EE-17_with_changelog_devlake.json");
	first = json_loads(rec, 0, NULL);
	want_hist = json_array_size(json_object_get(json_object_get(first, "changelog"), "histories")) + 1;
	cr_assert_gt(want_hist, 1);
	json_decref(first);
	free(rec);
	memset(&run, 0, sizeof(run));
	run.j = j;
	run.req = &req;
	req.dev_status = 1;
	req.dev_field_id = DEV;
	/* from the text (JL_REQ_TEXT), and from a tree (an answer parsed whole) */
	for (int tree = 0; tree < 2; tree++) {
		jl_req *r = jl_req_new("POST", strdup("/rest/api/3/issue/bulkfetch"), NULL);
		jl_batch *b = batch_new(&run);
		jl_idset seen = { 0 };
		json_t *rest;
		size_t count;

		jl_buf_puts(&r->resp, text);
		if (tree) {
			jl_buf fixed = JL_BUF_INIT;

			jl_utf8_json_repair(text, strlen(text), &fixed);
			r->json = json_loadb(fixed.data, fixed.len, JSON_ALLOW_NUL, NULL);
			jl_buf_free(&fixed);
		}
		cr_assert_eq(jl_batch_take(b, r, admit_once, &seen, &rest, &count), 0, "%s", jl_jira_error(j));
		check_batch(b, rest, count, want);
		cr_assert_eq(b->n_histories, want_hist, "the uncapped logs' histories, counted as taken");
		json_decref(rest);
		jl_idset_free(&seen);
		batch_free(b);
		jl_req_free(r);
	}
	cr_assert_eq(run.rc, 0);
	jl_jira_free(j);
	free(text);
	free(want);
}

Test(batch, an_issue_that_is_not_json_fails_the_run)
{
	static const char *const bad[] = {
		"{\"issues\":[{\"id\":\"1\"},{\"id\":\"2\",\"x\":tru}]}",
		"{\"issues\":[{\"id\":\"1\"} {\"id\":\"2\"}]}",
		"{\"issues\":[{\"id\":\"1\"}],\"issues\":[]}",
	};
	jl_jira_extract_req req = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		jl_jira *j = client();
		jl_run run;
		jl_req *r = jl_req_new("POST", strdup("/rest/api/3/issue/bulkfetch"), NULL);
		jl_batch *b = batch_new(&run);
		jl_idset seen = { 0 };
		json_t *rest = NULL;
		size_t count;

		memset(&run, 0, sizeof(run));
		run.j = j;
		run.req = &req;
		jl_buf_puts(&r->resp, bad[i]);
		cr_expect_eq(jl_batch_take(b, r, admit_once, &seen, &rest, &count), -1, "%s", bad[i]);
		cr_expect_eq(run.rc, JETL_EPROTOCOL, "%s", bad[i]);
		cr_expect_null(rest);
		jl_idset_free(&seen);
		batch_free(b);
		jl_req_free(r);
		jl_jira_free(j);
	}
}

Test(batch, an_answer_without_issues_takes_nothing)
{
	jl_jira_extract_req req = { 0 };
	jl_jira *j = client();
	jl_run run;
	jl_req *r = jl_req_new("POST", strdup("/rest/api/3/issue/bulkfetch"), NULL);
	jl_batch *b = batch_new(&run);
	jl_idset seen = { 0 };
	json_t *rest = NULL;
	size_t count;

	memset(&run, 0, sizeof(run));
	run.j = j;
	run.req = &req;
	jl_buf_puts(&r->resp, "{\"issues\":null,\"total\":0}");
	cr_assert_eq(jl_batch_take(b, r, admit_once, &seen, &rest, &count), 1);
	cr_assert_eq(run.rc, 0, "the caller names what is missing");
	cr_assert_null(rest);
	cr_assert_eq(json_array_size(b->issues), 0);
	jl_idset_free(&seen);
	batch_free(b);
	jl_req_free(r);
	jl_jira_free(j);
}
