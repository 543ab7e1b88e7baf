/*
 * changelog.c - completing changelogs that the embedded log capped
 * (total > len(histories)): Cloud POST /changelog/bulkfetch for many issues
 * at once (one issue's histories may continue on the next page: appended),
 * Server/DC GET /issue/{id}/changelog paging (or ?expand=changelog where that
 * endpoint is missing). The result is every history once, oldest first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract.h"
#include "tz.h"

typedef struct hist_ref {
	json_t *h;
	int64_t t;
	int64_t id;
	const char *ids;
} hist_ref;

static int hist_cmp(const void *pa, const void *pb)
{
	const hist_ref *a = pa, *b = pb;

	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return strcmp(a->ids, b->ids);
}

static void hist_key(json_t *h, hist_ref *out)
{
	json_t *c = json_object_get(h, "created"), *id = json_object_get(h, "id");

	out->h = h;
	out->t = 0;
	/* created: a timestamp string, or an epoch number (Atlassian's own example) */
	if (json_is_string(c))
		jl_jira_time_parse(json_string_value(c), &out->t, NULL);
	else if (json_is_integer(c))
		out->t = json_integer_value(c);
	out->ids = json_is_string(id) ? json_string_value(id) : "";
	out->id = json_is_integer(id) ? json_integer_value(id) : strtoll(out->ids, NULL, 10);
}

json_t *jl_histories_merge(json_t *a, json_t *b)
{
	size_t na = json_array_size(a), nb = json_array_size(b), n = 0;
	hist_ref *refs = malloc((na + nb + 1) * sizeof(*refs));
	jl_idset seen = { 0 };
	json_t *out = json_array();

	if (!refs || !out) {
		free(refs);
		json_decref(out);
		return NULL;
	}
	for (int pass = 0; pass < 2; pass++) {
		json_t *arr = pass ? b : a, *h;
		size_t i;

		json_array_foreach(arr, i, h) {
			hist_ref r;

			if (!json_is_object(h))
				continue;
			hist_key(h, &r);
			/* the same history on both sides (or on two pages): keep it once */
			if (r.id > 0 && jl_idset_add(&seen, r.id) == 0)
				continue;
			refs[n++] = r;
		}
	}
	qsort(refs, n, sizeof(*refs), hist_cmp);
	for (size_t i = 0; i < n; i++)
		json_array_append(out, refs[i].h);
	free(refs);
	jl_idset_free(&seen);
	return out;
}

static json_t *find_issue(jl_batch *b, const char *id)
{
	json_t *v;
	size_t i;

	json_array_foreach(b->issues, i, v) {
		const char *s = json_string_value(json_object_get(v, "id"));

		if (s && !strcmp(s, id))
			return v;
	}
	return NULL;
}

/* Store the complete log of one issue; 0 or a failure already recorded. */
static int settle(jl_run *run, jl_batch *b, json_t *issue, json_t *fetched)
{
	json_t *cl = json_object_get(issue, "changelog");
	json_t *emb = json_object_get(cl, "histories");
	json_int_t total = json_integer_value(json_object_get(cl, "total"));
	const char *id = json_string_value(json_object_get(issue, "id"));
	json_t *all = jl_histories_merge(emb, fetched);

	if (!all) {
		jl_run_fail(run, JETL_ENOMEM, "jira: out of memory");
		return -1;
	}
	if ((json_int_t)json_array_size(all) < total) {
		char msg[256];

		snprintf(msg, sizeof(msg), "jira: changelog of issue %s is incomplete: %zu of %lld histories",
			 id ? id : "?", json_array_size(all), (long long)total);
		json_decref(all);
		jl_run_fail(run, JETL_EPROTOCOL, msg);
		return -1;
	}
	b->n_histories += json_array_size(all);
	json_object_set_new(b->changelogs, id, all);
	run->capped_done++;
	return 0;
}

/* --- Cloud: /changelog/bulkfetch ------------------------------------------ */

static void on_bulk(jl_jira *j, jl_req *r)
{
	jl_batch *b = r->ud;
	jl_run *run = b->run;
	json_t *logs, *v;
	const char *next;
	size_t i;

	if (r->rc) {
		jl_run_fail(run, r->rc, r->err);
		goto out;
	}
	logs = json_object_get(r->json, "issueChangeLogs");
	if (!json_is_array(logs)) {
		jl_run_fail(run, JETL_EPROTOCOL, "jira: POST /rest/api/3/changelog/bulkfetch answered without issueChangeLogs");
		goto out;
	}
	json_array_foreach(logs, i, v) {
		json_t *idv = json_object_get(v, "issueId"), *h = json_object_get(v, "changeHistories");
		char idbuf[24];
		const char *id = json_string_value(idv);
		json_t *acc;

		if (json_is_integer(idv)) {
			snprintf(idbuf, sizeof(idbuf), "%lld", (long long)json_integer_value(idv));
			id = idbuf;
		}
		if (!id || !json_is_array(h))
			continue;
		acc = json_object_get(b->cl_acc, id);
		if (!acc) {
			acc = json_array();
			json_object_set_new(b->cl_acc, id, acc);
		}
		/* the issue may continue from the previous page: append, never replace */
		json_array_extend(acc, h);
	}
	next = json_string_value(json_object_get(r->json, "nextPageToken"));
	if (next) {
		if (json_object_get(b->cl_tokens, next)) {
			jl_run_fail(run, JETL_EPROTOCOL, "jira: POST /rest/api/3/changelog/bulkfetch repeated a nextPageToken");
			goto out;
		}
		json_object_set_new(b->cl_tokens, next, json_true());
		jl_changelog_bulk_submit(run, b, next);
		goto out;
	}
	json_array_foreach(b->cl_ids, i, v) {
		const char *id = json_string_value(v);
		json_t *issue = find_issue(b, id);

		if (issue && settle(run, b, issue, json_object_get(b->cl_acc, id)))
			break;
	}
out:
	(void)j;
	jl_req_free(r);
	jl_batch_request_done(b);
}

void jl_changelog_bulk_submit(jl_run *run, jl_batch *b, const char *token)
{
	json_t *body = json_object();
	char *text;

	json_object_set(body, "issueIdsOrKeys", b->cl_ids);
	json_object_set_new(body, "maxResults", json_integer(1000));
	if (token)
		json_object_set_new(body, "nextPageToken", json_string(token));
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	jl_batch_submit(run, b, jl_req_new("POST", jl_strdupf("%s/changelog/bulkfetch", run->j->api), text), on_bulk);
}

/* --- one issue: /issue/{id}/changelog (or ?expand=changelog) ---------------
 * The embedded log holds the newest histories (Jira embeds the latest up to
 * its cap) and the endpoint pages oldest first, so only the first
 * total - embedded are missing: those pages are asked at once, in parallel.
 * When they are in, the union with the embedded ones is checked against the
 * total; if the embedded ones were not the newest after all, the rest is read
 * page by page until the log is complete (as it was always read before). */

#define CL_PAGE 100

typedef struct one_log {
	json_t *issue;   /* borrowed from b->issues */
	json_t *acc;     /* histories fetched (any order; merged at the end) */
	int64_t next;    /* startAt after the highest page asked */
	int inflight;    /* pages of this issue in flight */
	int fallback;    /* 0 endpoint; 1 wanted (a 404); 2 asked */
	int failed;
	int refs;        /* requests holding the state */
} one_log;

static void one_submit(jl_run *run, jl_batch *b, one_log *st, int64_t start, int64_t n);

static void one_unref(void *p)
{
	one_log *st = p;

	if (--st->refs > 0)
		return;
	json_decref(st->acc);
	free(st);
}

static size_t embedded_count(json_t *issue)
{
	return json_array_size(json_object_get(json_object_get(issue, "changelog"), "histories"));
}

static json_int_t log_total(json_t *issue)
{
	return json_integer_value(json_object_get(json_object_get(issue, "changelog"), "total"));
}

static void on_one(jl_jira *j, jl_req *r)
{
	jl_batch *b = r->ud;
	one_log *st = r->ud2;
	jl_run *run = b->run;
	json_t *vals, *all;
	json_int_t total;

	(void)j;
	st->inflight--;
	if (st->failed)
		goto out;
	if (r->rc == JETL_ENOTFOUND && st->fallback < 2) {
		/* no changelog endpoint on this server: the issue with expand=changelog
		 * (once every page asked has answered) */
		st->fallback = 1;
	} else if (r->rc) {
		st->failed = 1;
		jl_run_fail(run, r->rc, r->err);
		goto out;
	} else if (st->fallback == 2) {
		json_array_extend(st->acc, json_object_get(json_object_get(r->json, "changelog"), "histories"));
	} else if (!st->fallback) {
		vals = json_object_get(r->json, "values");
		if (!json_is_array(vals)) {
			st->failed = 1;
			jl_run_fail(run, JETL_EPROTOCOL, "jira: GET /issue/{id}/changelog answered without values");
			goto out;
		}
		if (json_array_size(vals) == 0 && r->tag < log_total(st->issue)) {
			st->failed = 1;
			jl_run_fail(run, JETL_EPROTOCOL, "jira: GET /issue/{id}/changelog returned an empty page before the end");
			goto out;
		}
		json_array_extend(st->acc, vals);
	}
	if (st->inflight > 0)
		goto out;
	if (st->fallback == 1) {
		st->fallback = 2;
		json_array_clear(st->acc);
		one_submit(run, b, st, 0, 0);
		goto out;
	}
	total = log_total(st->issue);
	if (st->fallback != 2 && st->next < total) {
		all = jl_histories_merge(json_object_get(json_object_get(st->issue, "changelog"), "histories"), st->acc);
		if (!all) {
			st->failed = 1;
			jl_run_fail(run, JETL_ENOMEM, "jira: out of memory");
			goto out;
		}
		if ((json_int_t)json_array_size(all) < total) {
			/* the embedded histories were not the newest: read on */
			json_decref(all);
			one_submit(run, b, st, st->next, CL_PAGE);
			goto out;
		}
		json_decref(all);
	}
	settle(run, b, st->issue, st->acc);
out:
	jl_req_free(r); /* drops this request's hold on st */
	jl_batch_request_done(b);
}

static void one_submit(jl_run *run, jl_batch *b, one_log *st, int64_t start, int64_t n)
{
	const char *id = json_string_value(json_object_get(st->issue, "id"));
	jl_req *r;

	if (st->fallback)
		r = jl_req_new("GET", jl_strdupf("%s/issue/%s?fields=created&expand=changelog", run->j->api, id), NULL);
	else
		r = jl_req_new("GET", jl_strdupf("%s/issue/%s/changelog?startAt=%lld&maxResults=%lld", run->j->api, id,
						 (long long)start, (long long)n), NULL);
	if (r) {
		r->flags = JL_REQ_ALLOW_404;
		r->tag = start;
		r->ud2 = st;
		r->ud2_free = one_unref;
		st->refs++;
		st->inflight++;
		if (!st->fallback && start + n > st->next)
			st->next = start + n;
	} else {
		st->failed = 1;
	}
	jl_batch_submit(run, b, r, on_one);
}

void jl_changelog_issue_submit(jl_run *run, jl_batch *b, json_t *issue)
{
	one_log *st = calloc(1, sizeof(*st));
	json_int_t total = log_total(issue), missing;

	if (!st || !(st->acc = json_array())) {
		free(st);
		jl_run_fail(run, JETL_ENOMEM, "jira: out of memory");
		return;
	}
	st->issue = issue;
	st->refs = 1; /* this function's, dropped at the end */
	missing = total - (json_int_t)embedded_count(issue);
	if (missing < 1)
		missing = 1;
	for (int64_t at = 0; at < missing && !st->failed; at += CL_PAGE)
		one_submit(run, b, st, at, missing - at < CL_PAGE ? missing - at : CL_PAGE);
	one_unref(st);
}
