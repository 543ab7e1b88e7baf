/*
 * search.c - finding issues: JQL of an extraction, Cloud enhanced search
 * (/search/jql with nextPageToken, ids only) and Server/DC /search paging
 * by startAt ordered by created.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract.h"

char *jl_jql_quote(const char *s)
{
	jl_buf b = JL_BUF_INIT;

	jl_buf_putc(&b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			jl_buf_putc(&b, '\\');
		jl_buf_putc(&b, *s);
	}
	jl_buf_putc(&b, '"');
	if (b.oom) {
		jl_buf_free(&b);
		return NULL;
	}
	return jl_buf_detach(&b);
}

char *jl_jql_for(const jl_jira_extract_req *req, int with_filters, int ordered)
{
	jl_buf b = JL_BUF_INIT;
	char *q = jl_jql_quote(req->project_key);

	if (!q)
		return NULL;
	jl_buf_printf(&b, "project = %s", q);
	free(q);
	if (with_filters && req->updated_since && *req->updated_since) {
		q = jl_jql_quote(req->updated_since);
		if (q)
			jl_buf_printf(&b, " AND updated >= %s", q);
		free(q);
	}
	if (with_filters && req->jql_extra && *req->jql_extra)
		jl_buf_printf(&b, " AND (%s)", req->jql_extra);
	/* created, then key: offsets and tokens stay stable while issues are updated;
	 * new issues land at the end. Both fields are sortable on Cloud and Server. */
	if (ordered)
		jl_buf_puts(&b, " ORDER BY created ASC, key ASC");
	if (b.oom) {
		jl_buf_free(&b);
		return NULL;
	}
	return jl_buf_detach(&b);
}

static int parse_id(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v <= 0)
		return -1;
	*out = v;
	return 0;
}

static int ids_push(jl_run *run, int64_t id)
{
	if (run->nids == run->capids) {
		size_t cap = run->capids ? run->capids * 2 : 1024;
		int64_t *p = realloc(run->ids, cap * sizeof(*p));

		if (!p)
			return -1;
		run->ids = p;
		run->capids = cap;
	}
	run->ids[run->nids++] = id;
	return 0;
}

static int report(jl_run *run, int phase, int64_t done, int64_t total)
{
	if (run->cb->progress && run->cb->progress(run->cb->ud, phase, done, total))
		return JETL_ECANCELLED;
	return 0;
}

/* --- Server id pages read ahead ---------------------------------------------
 * Server pages by startAt, so once the first page has told the total and the
 * page size, the next pages can be asked before the current one is read: up
 * to 2 x concurrency in flight, taken in order. (Serially, 100 census pages of
 * 100 ids cost 100 round trips before the first body was asked for.) */

#define AHEAD_MAX 64

typedef struct ahead_slot {
	int state;              /* 0 free, 1 in flight, 2 answered */
	int64_t start;
	int rc;
	json_t *doc;
	char err[400];
} ahead_slot;

typedef struct ids_ahead {
	ahead_slot slot[AHEAD_MAX];
	int depth;
	int64_t ps;             /* page size the server grants; 0 = not known yet */
	int64_t next;           /* next startAt to ask */
} ids_ahead;

static void on_ahead(jl_jira *j, jl_req *r)
{
	ahead_slot *s = r->ud;

	(void)j;
	s->state = 2;
	s->rc = r->rc;
	if (r->rc)
		snprintf(s->err, sizeof(s->err), "%s", r->err);
	s->doc = r->json;
	r->json = NULL;
	jl_req_free(r);
}

static void ahead_fill(jl_run *run, const char *jql, ids_ahead *ah, int64_t total)
{
	for (int k = 0; k < ah->depth && ah->next < total; k++) {
		ahead_slot *s = &ah->slot[k];
		json_t *body;
		char *text;
		jl_req *r;

		if (s->state)
			continue;
		body = json_pack("{s:s,s:[s],s:I,s:I}", "jql", jql, "fields", "id", "startAt", (json_int_t)ah->next,
				 "maxResults", (json_int_t)ah->ps);
		text = body ? json_dumps(body, JSON_COMPACT) : NULL;
		json_decref(body);
		r = text ? jl_req_new("POST", jl_strdupf("%s/search", run->j->api), text) : NULL;
		if (!r)
			return; /* out of memory: the page is asked when it is taken */
		memset(s, 0, sizeof(*s));
		s->state = 1;
		s->start = ah->next;
		r->done = on_ahead;
		r->ud = s;
		r->prio = -1;
		jl_http_submit(run->j, r);
		ah->next += ah->ps;
	}
}

/* Wait for every page in flight and forget what was read ahead. */
static void ahead_drain(jl_run *run, ids_ahead *ah)
{
	for (;;) {
		int busy = 0;

		for (int k = 0; k < ah->depth; k++)
			busy |= ah->slot[k].state == 1;
		if (!busy)
			break;
		jl_http_step(run->j);
	}
	for (int k = 0; k < ah->depth; k++) {
		json_decref(ah->slot[k].doc);
		memset(&ah->slot[k], 0, sizeof(ah->slot[k]));
	}
}

/* The page at startAt `start`, from those read ahead (asked now if it is not
 * among them: a short page moved the offsets). 0 or a status (message on j). */
static int ahead_take(jl_run *run, const char *jql, ids_ahead *ah, int64_t start, int64_t total, json_t **doc)
{
	ahead_slot *s = NULL;
	int rc;

	*doc = NULL;
	for (int k = 0; k < ah->depth && !s; k++)
		if (ah->slot[k].state && ah->slot[k].start == start)
			s = &ah->slot[k];
	if (!s) {
		ahead_drain(run, ah);
		ah->next = start;
		ahead_fill(run, jql, ah, total);
		for (int k = 0; k < ah->depth && !s; k++)
			if (ah->slot[k].state && ah->slot[k].start == start)
				s = &ah->slot[k];
		if (!s)
			return jl_jira_fail(run->j, JETL_ENOMEM, "jira: out of memory");
	}
	while (s->state == 1)
		jl_http_step(run->j);
	rc = s->rc;
	if (rc)
		jl_jira_fail(run->j, rc, "%s", s->err);
	*doc = s->doc;
	memset(s, 0, sizeof(*s));
	ahead_fill(run, jql, ah, total); /* keep the pipe full while this page is read */
	return rc;
}

int jl_search_ids(jl_run *run, const char *jql, int census, int collect)
{
	jl_jira *j = run->j;
	json_t *tokens = json_object();
	char *tok = NULL;
	int64_t count = 0;
	int rc = 0;
	const char **page = NULL, **upd = NULL;
	unsigned char *skip = NULL;
	size_t cap = 0;
	/* Incremental selections ask for `updated` too, so that issues the
	 * overlap window re-reads unchanged are dropped before any body fetch. */
	int dedupe = collect && run->cloud && run->cb->known && run->req->updated_since &&
		*run->req->updated_since;
	ids_ahead *ah = run->cloud ? NULL : calloc(1, sizeof(*ah));
	int64_t srv_total = -1;

	if (!tokens || (!run->cloud && !ah)) {
		json_decref(tokens);
		free(ah);
		return JETL_ENOMEM;
	}
	if (ah)
		ah->depth = 2 * j->cfg.concurrency < AHEAD_MAX ? 2 * j->cfg.concurrency : AHEAD_MAX;
	for (int64_t start = 0;;) {
		json_t *body = json_object(), *doc = NULL, *issues, *v;
		char *text, *path;
		size_t i, n;

		json_object_set_new(body, "jql", json_string(jql));
		json_object_set_new(body, "fields", dedupe ? json_pack("[s,s]", "id", "updated") : json_pack("[s]", "id"));
		if (run->cloud) {
			json_object_set_new(body, "maxResults", json_integer(j->id_page));
			if (tok)
				json_object_set_new(body, "nextPageToken", json_string(tok));
			path = jl_strdupf("%s/search/jql", j->api);
		} else {
			json_object_set_new(body, "maxResults", json_integer(j->id_page < 1000 ? j->id_page : 1000));
			json_object_set_new(body, "startAt", json_integer(start));
			path = jl_strdupf("%s/search", j->api);
		}
		text = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		if (ah && ah->ps > 0) {
			free(path);
			free(text);
			rc = ahead_take(run, jql, ah, start, srv_total, &doc);
		} else {
			rc = jl_http_call(j, "POST", path, text, &doc);
		}
		if (rc) {
			json_decref(doc);
			break;
		}
		issues = json_object_get(doc, "issues");
		if (!json_is_array(issues)) {
			json_decref(doc);
			rc = jl_jira_fail(j, JETL_EPROTOCOL, "jira: POST %s/search%s answered without issues",
					  j->api, run->cloud ? "/jql" : "");
			break;
		}
		n = json_array_size(issues);
		if (n > cap) {
			const char **p = realloc(page, n * sizeof(*p)), **u;
			unsigned char *k;

			if (p)
				page = p;
			u = p ? realloc(upd, n * sizeof(*u)) : NULL;
			if (u)
				upd = u;
			k = u ? realloc(skip, n) : NULL;
			if (!k) {
				json_decref(doc);
				rc = JETL_ENOMEM;
				break;
			}
			skip = k;
			cap = n;
		}
		if (n)
			memset(skip, 0, n);
		if (dedupe && n) {
			json_array_foreach(issues, i, v) {
				page[i] = json_string_value(json_object_get(v, "id"));
				upd[i] = json_string_value(json_object_get(json_object_get(v, "fields"), "updated"));
				if (!page[i] || !upd[i])
					page[i] = upd[i] = "";
			}
			if (run->cb->known(run->cb->ud, page, upd, n, skip)) {
				json_decref(doc);
				rc = jl_jira_fail(j, JETL_ECANCELLED, "jira: cancelled");
				break;
			}
		}
		json_array_foreach(issues, i, v) {
			const char *ids = json_string_value(json_object_get(v, "id"));
			int64_t id;

			if (parse_id(ids, &id)) {
				rc = jl_jira_fail(j, JETL_EPROTOCOL, "jira: search answered an issue without a numeric id");
				break;
			}
			page[i] = ids;
			if (collect && !skip[i]) {
				int added = jl_idset_add(&run->seen, id);

				if (added < 0 || (added && ids_push(run, id))) {
					rc = JETL_ENOMEM;
					break;
				}
			}
		}
		if (!rc && census && n && run->cb->census && run->cb->census(run->cb->ud, page, n))
			rc = jl_jira_fail(j, JETL_ECANCELLED, "jira: cancelled");
		count += (int64_t)n;
		if (!rc && collect)
			rc = report(run, JETL_PHASE_CENSUS, (int64_t)run->nids, 0);
		if (rc) {
			json_decref(doc);
			break;
		}
		if (run->cloud) {
			const char *next = json_string_value(json_object_get(doc, "nextPageToken"));

			free(tok);
			tok = NULL;
			if (!next || json_is_true(json_object_get(doc, "isLast"))) {
				json_decref(doc);
				break;
			}
			if (json_object_get(tokens, next)) {
				json_decref(doc);
				rc = jl_jira_fail(j, JETL_EPROTOCOL,
						  "jira: POST %s/search/jql repeated a nextPageToken after %lld issues",
						  j->api, (long long)count);
				break;
			}
			json_object_set_new(tokens, next, json_true());
			tok = strdup(next);
			json_decref(doc);
			if (!tok) {
				rc = JETL_ENOMEM;
				break;
			}
		} else {
			json_t *tot = json_object_get(doc, "total");
			int64_t total = json_is_integer(tot) ? json_integer_value(tot) : -1;

			if (!ah->ps && n > 0 && start + (int64_t)n < total) {
				/* the first page: what the server gave is the stride */
				ah->ps = (int64_t)n;
				ah->next = start + (int64_t)n;
			}
			srv_total = total;
			start += (int64_t)n;
			json_decref(doc);
			if (total < 0) {
				rc = jl_jira_fail(j, JETL_EPROTOCOL, "jira: POST %s/search answered without total", j->api);
				break;
			}
			if (start >= total)
				break;
			if (n == 0) {
				rc = jl_jira_fail(j, JETL_EPROTOCOL,
						  "jira: POST %s/search returned an empty page at startAt %lld of %lld",
						  j->api, (long long)start, (long long)total);
				break;
			}
		}
	}
	if (ah) {
		ahead_drain(run, ah);
		free(ah);
	}
	free(tok);
	free(page);
	free(upd);
	free(skip);
	json_decref(tokens);
	return rc;
}

/* --- Server pages: one batch = one page (plus re-reads of a short page) --- */

static void on_page(jl_jira *j, jl_req *r)
{
	jl_batch *b = r->ud;
	jl_run *run = b->run;
	json_t *issues, *tot, *mr, *v;
	int64_t start = r->tag, total, got, granted;
	size_t i;

	(void)j;
	if (r->rc) {
		jl_run_fail(run, r->rc, r->err);
		goto out;
	}
	issues = json_object_get(r->json, "issues");
	tot = json_object_get(r->json, "total");
	mr = json_object_get(r->json, "maxResults");
	if (!json_is_array(issues) || !json_is_integer(tot)) {
		jl_run_fail(run, JETL_EPROTOCOL, "jira: POST /rest/api/2/search answered without issues or total");
		goto out;
	}
	total = json_integer_value(tot);
	granted = json_is_integer(mr) ? json_integer_value(mr) : 0;
	got = (int64_t)json_array_size(issues);
	if (!run->srv_first_done) {
		/* the first page tells the real page size and the total */
		run->srv_first_done = 1;
		run->srv_total = total;
		run->total = total;
		if (granted > 0 && granted < run->srv_ps)
			run->srv_ps = granted;
		if (got > 0 && got < run->srv_ps && start + got < total)
			run->srv_ps = got;
		b->expect = total - start < run->srv_ps ? total - start : run->srv_ps;
		if (b->expect < 0)
			b->expect = 0;
		run->srv_next = start + b->expect;
	} else if (total != run->srv_total) {
		run->srv_drift = 1;
	}
	json_array_foreach(issues, i, v) {
		int64_t id = strtoll(jl_str_or(json_string_value(json_object_get(v, "id")), "0"), NULL, 10);
		int added = id > 0 ? jl_idset_add(&run->seen, id) : 1;

		if (added < 0) {
			jl_run_fail(run, JETL_ENOMEM, "jira: out of memory");
			goto out;
		}
		if (!added) {
			/* the offset moved under us (an issue deleted before this page) */
			run->srv_drift = 1;
			continue;
		}
		json_array_append(b->issues, v);
	}
	{
		int64_t covered = start - b->start_at + got, want = b->expect;

		if (total - b->start_at < want)
			want = total - b->start_at; /* issues were deleted: the end moved */
		if (covered < want) {
			/* a short page: ask for the rest of it, a bounded number of times */
			if (b->tails >= 3 || got == 0) {
				char msg[256];

				snprintf(msg, sizeof(msg),
					 "jira: POST /rest/api/2/search page at startAt %lld shrank to %lld of %lld issues (total %lld)",
					 (long long)b->start_at, (long long)covered, (long long)want, (long long)total);
				jl_run_fail(run, JETL_EPROTOCOL, msg);
				goto out;
			}
			b->tails++;
			jl_search_page_submit(run, b, b->start_at + covered, want - covered);
			goto out;
		}
	}
	b->bodies_done = 1;
	jl_batch_after_bodies(b);
out:
	jl_req_free(r);
	jl_batch_request_done(b);
}

void jl_search_page_submit(jl_run *run, jl_batch *b, int64_t start_at, int64_t n)
{
	jl_jira *j = run->j;
	json_t *body = json_object();
	char *text;
	jl_req *r;

	{
		char *jql = jl_jql_for(run->req, 1, 1);

		json_object_set_new(body, "jql", json_string(jql ? jql : ""));
		free(jql);
	}
	json_object_set_new(body, "startAt", json_integer(start_at));
	json_object_set_new(body, "maxResults", json_integer(n));
	json_object_set_new(body, "fields", json_pack("[s]", "*all"));
	json_object_set_new(body, "expand", json_pack("[s]", "changelog"));
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	r = jl_req_new("POST", jl_strdupf("%s/search", j->api), text);
	if (r)
		r->tag = start_at;
	jl_batch_submit(run, b, r, on_page);
}
