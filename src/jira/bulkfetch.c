/*
 * bulkfetch.c - issue bodies for a list of ids: Cloud POST /issue/bulkfetch
 * (≤ 100 ids, every field, embedded changelog), Server/DC a search on
 * "id in (…)" (used to re-read issues an offset shift skipped).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract.h"

/*
 * Server/DC caps maxResults (jira.search.views.default.max): a total above
 * what came back means the rest of the ids matched but did not fit, not that
 * they are gone. Ask again for those, a bounded number of times. Returns 1
 * when the batch was submitted again (or failed: the run says so), 0 when
 * every matching issue came.
 */
static int server_rest(jl_jira *j, jl_batch *b, const json_t *rest, size_t count, const jl_idset *got)
{
	const json_t *tot = json_object_get(rest, "total");
	size_t n = 0;

	if (!json_is_integer(tot) || json_integer_value(tot) <= (json_int_t)count)
		return 0;
	for (size_t k = 0; k < b->nids; k++)
		if (!jl_idset_has(got, b->ids[k]))
			b->ids[n++] = b->ids[k];
	if (!n)
		return 0;
	if (!count || b->tails >= 16) {
		char msg[200];

		snprintf(msg, sizeof(msg), "jira: POST %s/search for %zu ids answered %zu issues of %lld matching",
			 j->api, b->nids, count, (long long)json_integer_value(tot));
		jl_run_fail(b->run, JETL_EPROTOCOL, msg);
		return 1;
	}
	b->nids = n;
	b->tails++;
	jl_bulkfetch_submit(b->run, b);
	return 1;
}

/* Ids asked for that did not come: on Cloud each must be in issueErrors
 * (deleted or hidden since the census: a warning), else the answer is
 * broken. 0, or -1 with the run failed. */
static int check_missing(jl_jira *j, jl_batch *b, const jl_idset *got, const jl_idset *gone)
{
	for (size_t k = 0; k < b->nids; k++) {
		if (jl_idset_has(got, b->ids[k]))
			continue;
		if (b->run->cloud && !jl_idset_has(gone, b->ids[k])) {
			char msg[200];

			snprintf(msg, sizeof(msg), "jira: POST %s/issue/bulkfetch neither returned issue %lld nor said why",
				 j->api, (long long)b->ids[k]);
			jl_run_fail(b->run, JETL_EPROTOCOL, msg);
			return -1;
		}
		jl_jira_log(j, JETL_LOG_WARNING, "jira: issue %lld vanished since the census", (long long)b->ids[k]);
	}
	return 0;
}

/* An issue of the answer joins the batch once (the first of a repeat). */
static int admit_body(jl_batch *b, int64_t id, void *ud)
{
	(void)b;
	return id > 0 && jl_idset_add(ud, id) == 1;
}

static void on_bodies(jl_jira *j, jl_req *r)
{
	jl_batch *b = r->ud;
	jl_run *run = b->run;
	json_t *rest = NULL, *v;
	jl_idset got = { 0 }, gone = { 0 };
	size_t i, count;
	int rc;

	if (r->rc) {
		jl_run_fail(run, r->rc, r->err);
		goto out;
	}
	if ((rc = jl_batch_take(b, r, admit_body, &got, &rest, &count))) {
		char msg[200];

		snprintf(msg, sizeof(msg), "jira: %s %s answered without issues", r->method, r->path);
		if (rc > 0)
			jl_run_fail(run, JETL_EPROTOCOL, msg);
		goto out;
	}
	json_array_foreach(json_object_get(rest, "issueErrors"), i, v) {
		const char *ids = json_string_value(json_object_get(v, "id"));

		if (ids)
			jl_idset_add(&gone, strtoll(ids, NULL, 10));
	}
	if ((!run->cloud && server_rest(j, b, rest, count, &got)) || check_missing(j, b, &got, &gone) < 0)
		goto out;
	b->bodies_done = 1;
	jl_batch_after_bodies(b);
out:
	json_decref(rest);
	jl_idset_free(&got);
	jl_idset_free(&gone);
	jl_req_free(r);
	jl_batch_request_done(b);
}

void jl_bulkfetch_submit(jl_run *run, jl_batch *b)
{
	jl_jira *j = run->j;
	json_t *body = json_object();
	char *text, *path;
	jl_req *r;

	if (run->cloud) {
		json_t *ids = json_array();

		for (size_t k = 0; k < b->nids; k++) {
			char tmp[24];

			snprintf(tmp, sizeof(tmp), "%lld", (long long)b->ids[k]);
			json_array_append_new(ids, json_string(tmp));
		}
		json_object_set_new(body, "issueIdsOrKeys", ids);
		path = jl_strdupf("%s/issue/bulkfetch", j->api);
	} else {
		jl_buf q = JL_BUF_INIT;

		jl_buf_puts(&q, "id in (");
		for (size_t k = 0; k < b->nids; k++)
			jl_buf_printf(&q, "%s%lld", k ? ", " : "", (long long)b->ids[k]);
		jl_buf_puts(&q, ") ORDER BY created ASC, key ASC");
		json_object_set_new(body, "jql", json_string(q.data ? q.data : ""));
		jl_buf_free(&q);
		json_object_set_new(body, "startAt", json_integer(0));
		json_object_set_new(body, "maxResults", json_integer((json_int_t)b->nids));
		path = jl_strdupf("%s/search", j->api);
	}
	json_object_set_new(body, "fields", json_pack("[s]", "*all"));
	json_object_set_new(body, "expand", json_pack("[s]", "changelog"));
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	r = jl_req_new("POST", path, text);
	if (r)
		r->flags |= JL_REQ_TEXT;   /* parsed an issue at a time (issues.c) */
	jl_batch_submit(run, b, r, on_bodies);
}
