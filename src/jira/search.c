/*
 * search.c - finding issues: JQL of an extraction, Cloud enhanced search
 * (/search/jql with nextPageToken, ids only) and Server/DC /search paging
 * by startAt ordered by created.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* A character that ends an unquoted JQL word. */
static int jql_delim(char c)
{
	return c == '\0' || strchr(" \t\r\n\f\v(),\"'=!<>~[]", c) != NULL;
}

static int jql_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/*
 * The extra JQL goes inside "project = K AND (<extra>)", so it may only
 * narrow the project if Jira's parser closes that parenthesis where we do.
 * Jira reads the text, not us: the check is deliberately stricter than JQL
 * so that no reading of it can differ from ours. Quoted strings ("…" or '…',
 * with backslash escapes) are opaque; outside them every '(' and ')' counts,
 * a backslash is refused (JQL's escapes in unquoted words are the one place
 * where a parenthesis could be seen by Jira and not by this scan), and
 * ORDER BY is refused (jetl orders the search itself for stable paging; an
 * ORDER BY inside the parentheses is a syntax error Jira would report late).
 */
int jl_jql_check_extra(const char *jql, char *err, size_t errlen)
{
	const char *s = jql, *open_at = NULL;
	int depth = 0, blank = 1;
	char q = 0;

	if (!jql || !*jql)
		return 0;
	for (; *s; s++) {
		if (q) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == q)
				q = 0;
			continue;
		}
		if (!jql_space(*s))
			blank = 0;
		if (*s == '"' || *s == '\'') {
			q = *s;
			open_at = s;
		} else if (*s == '\\') {
			snprintf(err, errlen, "jql: a backslash outside a quoted string (offset %td): quote the value instead",
				 s - jql);
			return JETL_EINVAL;
		} else if (*s == '(') {
			depth++;
		} else if (*s == ')') {
			if (--depth < 0) {
				snprintf(err, errlen, "jql: unbalanced parentheses: ')' at offset %td closes nothing "
					 "(the extra JQL can only narrow the project)", s - jql);
				return JETL_EINVAL;
			}
		} else if ((s == jql || jql_delim(s[-1])) && strncasecmp(s, "order", 5) == 0 && jql_space(s[5])) {
			const char *t = s + 5;

			while (jql_space(*t))
				t++;
			if (strncasecmp(t, "by", 2) == 0 && jql_delim(t[2])) {
				snprintf(err, errlen, "jql: ORDER BY is not allowed in the extra JQL (offset %td): "
					 "jetl orders the search itself", s - jql);
				return JETL_EINVAL;
			}
		}
	}
	if (q) {
		snprintf(err, errlen, "jql: the string opened at offset %td is not closed", open_at - jql);
		return JETL_EINVAL;
	}
	if (depth > 0) {
		snprintf(err, errlen, "jql: unbalanced parentheses: %d '(' not closed", depth);
		return JETL_EINVAL;
	}
	if (blank) {
		snprintf(err, errlen, "jql: the extra JQL is blank");
		return JETL_EINVAL;
	}
	return 0;
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

/* The request of one ids-only page of jql: *path and *text (malloc'd). */
static int page_request(jl_run *run, const char *jql, int dedupe, const char *tok, int64_t start,
			char **path, char **text)
{
	jl_jira *j = run->j;
	json_t *body = json_object();

	if (!body)
		return JETL_ENOMEM;
	json_object_set_new(body, "jql", json_string(jql));
	json_object_set_new(body, "fields", dedupe ? json_pack("[s,s]", "id", "updated") : json_pack("[s]", "id"));
	if (run->cloud) {
		json_object_set_new(body, "maxResults", json_integer(j->id_page));
		if (tok)
			json_object_set_new(body, "nextPageToken", json_string(tok));
		*path = jl_strdupf("%s/search/jql", j->api);
	} else {
		json_object_set_new(body, "maxResults", json_integer(j->id_page < 1000 ? j->id_page : 1000));
		json_object_set_new(body, "startAt", json_integer(start));
		*path = jl_strdupf("%s/search", j->api);
	}
	*text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!*path || !*text) {
		free(*path);
		free(*text);
		return JETL_ENOMEM;
	}
	return 0;
}

/* --- Server id pages read ahead ---------------------------------------------
 * Server pages by startAt, so once the first page has told the total and the
 * page size, the next pages can be asked before the current one is read: up
 * to 2 x concurrency in flight, taken in order. Serially, the 100 census pages
 * of 10,000 issues cost 100 round trips (~15 s at 100 ms) before the first
 * body was asked for; read ahead, ~2 s. (Lost in 78ec30d, restored.) */

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
	int dedupe;
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

static int page_request(jl_run *run, const char *jql, int dedupe, const char *tok, int64_t start,
			char **path, char **text);

static void ahead_fill(jl_run *run, const char *jql, ids_ahead *ah, int64_t total)
{
	for (int k = 0; k < ah->depth && ah->next < total; k++) {
		ahead_slot *s = &ah->slot[k];
		char *text, *path;
		jl_req *r;

		if (s->state)
			continue;
		if (page_request(run, jql, ah->dedupe, NULL, ah->next, &path, &text))
			return; /* out of memory: the page is asked when it is taken */
		if (!(r = jl_req_new("POST", path, text)))
			return;
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

/* Take one answered page: its ids go to cb->known (dedupe), cb->census
 * (census) and, new and not known unchanged, into run->ids (collect).
 * *np gets the number of issues on the page. */
static int take_ids(jl_run *run, json_t *doc, int census, int collect, int dedupe, size_t *np)
{
	jl_jira *j = run->j;
	json_t *issues = json_object_get(doc, "issues"), *v;
	const char **page = NULL, **upd = NULL;
	unsigned char *skip = NULL;
	size_t i, n;
	int rc = 0;

	*np = 0;
	if (!json_is_array(issues))
		return jl_jira_fail(j, JETL_EPROTOCOL, "jira: POST %s/search%s answered without issues",
				    j->api, run->cloud ? "/jql" : "");
	n = json_array_size(issues);
	*np = n;
	if (!n)
		return 0;
	page = malloc(n * sizeof(*page));
	upd = malloc(n * sizeof(*upd));
	skip = calloc(n, 1);
	if (!page || !upd || !skip) {
		rc = JETL_ENOMEM;
		goto out;
	}
	if (dedupe) {
		json_array_foreach(issues, i, v) {
			page[i] = json_string_value(json_object_get(v, "id"));
			upd[i] = json_string_value(json_object_get(json_object_get(v, "fields"), "updated"));
			if (!page[i] || !upd[i])
				page[i] = upd[i] = "";
		}
		if (run->cb->known(run->cb->ud, page, upd, n, skip)) {
			rc = jl_jira_fail(j, JETL_ECANCELLED, "jira: cancelled");
			goto out;
		}
	}
	json_array_foreach(issues, i, v) {
		const char *ids = json_string_value(json_object_get(v, "id"));
		int64_t id;

		if (parse_id(ids, &id)) {
			rc = jl_jira_fail(j, JETL_EPROTOCOL, "jira: search answered an issue without a numeric id");
			goto out;
		}
		page[i] = ids;
		if (collect && skip[i])
			run->skipped++;
		if (collect && !skip[i]) {
			int added = jl_idset_add(&run->seen, id);

			if (added < 0 || (added && ids_push(run, id))) {
				rc = JETL_ENOMEM;
				goto out;
			}
		}
	}
	if (census && run->cb->census && run->cb->census(run->cb->ud, page, n))
		rc = jl_jira_fail(j, JETL_ECANCELLED, "jira: cancelled");
out:
	free(page);
	free(upd);
	free(skip);
	return rc;
}

/* Cloud: *tok gets the token of the page after doc (NULL: doc was the last);
 * a token seen before is refused. count: issues listed so far (the message). */
static int next_token(jl_run *run, json_t *doc, json_t *tokens, char **tok, int64_t count)
{
	jl_jira *j = run->j;
	const char *next = json_string_value(json_object_get(doc, "nextPageToken"));

	free(*tok);
	*tok = NULL;
	if (!next || json_is_true(json_object_get(doc, "isLast")))
		return 0;
	if (json_object_get(tokens, next))
		return jl_jira_fail(j, JETL_EPROTOCOL,
				    "jira: POST %s/search/jql repeated a nextPageToken after %lld issues",
				    j->api, (long long)count);
	if (json_object_set_new(tokens, next, json_true()) || !(*tok = strdup(next)))
		return JETL_ENOMEM;
	return 0;
}

/* The page of jql at startAt start (Server) or after tok (Cloud): read ahead
 * once the first page told the stride, else asked now. */
static int ids_page(jl_run *run, const char *jql, ids_ahead *ah, int dedupe, const char *tok, int64_t start,
		    int64_t srv_total, json_t **doc)
{
	char *text, *path;
	int rc;

	*doc = NULL;
	if (ah && ah->ps > 0)
		return ahead_take(run, jql, ah, start, srv_total, doc);
	if ((rc = page_request(run, jql, dedupe, tok, start, &path, &text)))
		return rc;
	return jl_http_call(run->j, "POST", path, text, doc);
}

int jl_search_ids(jl_run *run, const char *jql, int census, int collect)
{
	jl_jira *j = run->j;
	json_t *tokens = json_object();
	char *tok = NULL;
	int64_t count = 0;
	int rc = 0;
	/* Incremental selections ask for `updated` too, so that issues the
	 * overlap window re-reads unchanged are dropped before any body fetch. */
	int dedupe = collect && run->cb->known && (run->req->resume ||
		(run->cloud && run->req->updated_since && *run->req->updated_since));
	ids_ahead *ah = run->cloud ? NULL : calloc(1, sizeof(*ah));
	int64_t srv_total = -1;

	if (!tokens || (!run->cloud && !ah)) {
		json_decref(tokens);
		free(ah);
		return JETL_ENOMEM;
	}
	if (ah) {
		ah->depth = 2 * j->cfg.concurrency < AHEAD_MAX ? 2 * j->cfg.concurrency : AHEAD_MAX;
		ah->dedupe = dedupe;
	}
	for (int64_t start = 0;;) {
		json_t *doc = NULL;
		size_t n;

		if ((rc = ids_page(run, jql, ah, dedupe, tok, start, srv_total, &doc))) {
			json_decref(doc);
			break;
		}
		rc = take_ids(run, doc, census, collect, dedupe, &n);
		count += (int64_t)n;
		if (!rc && collect && run->cb->progress &&
		    run->cb->progress(run->cb->ud, JETL_PHASE_CENSUS, (int64_t)run->nids, 0))
			rc = JETL_ECANCELLED;
		if (rc) {
			json_decref(doc);
			break;
		}
		if (run->cloud) {
			rc = next_token(run, doc, tokens, &tok, count);
			json_decref(doc);
			if (rc || !tok)
				break;
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
	json_decref(tokens);
	return rc;
}

/* --- Cloud: the listing streamed alongside the batches ---------------------- */

static void on_census_page(jl_jira *j, jl_req *r)
{
	jl_run *run = r->ud;

	(void)j;
	run->census_inflight = 0;
	if (r->rc) {
		jl_run_fail(run, r->rc, r->err);
	} else {
		run->census_doc = r->json;
		r->json = NULL;
	}
	jl_req_free(r);
}

static void on_approx(jl_jira *j, jl_req *r)
{
	jl_run *run = r->ud;
	json_t *c = json_object_get(r->json, "count");

	(void)j;
	run->approx_inflight = 0;
	/* only a hint for the progress total: without it the total is what is listed */
	if (!r->rc && json_is_integer(c) && json_integer_value(c) >= 0)
		run->approx = json_integer_value(c);
	jl_req_free(r);
}

static int census_submit(jl_run *run)
{
	char *path, *text;
	jl_req *r;

	if (page_request(run, run->sel, run->dedupe, run->tok, 0, &path, &text))
		return JETL_ENOMEM;
	if (!(r = jl_req_new("POST", path, text)))
		return JETL_ENOMEM;
	r->prio = -1; /* ahead of the batches: they wait for its ids */
	r->done = on_census_page;
	r->ud = run;
	run->census_inflight = 1;
	jl_http_submit(run->j, r);
	return 0;
}

static void approx_submit(jl_run *run)
{
	json_t *body = json_pack("{s:s}", "jql", run->sel);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	jl_req *r;

	json_decref(body);
	if (!text)
		return;
	if (!(r = jl_req_new("POST", jl_strdupf("%s/search/approximate-count", run->j->api), text)))
		return;
	r->prio = -1;
	r->flags |= JL_REQ_ALLOW_404;
	r->done = on_approx;
	r->ud = run;
	run->approx_inflight = 1;
	jl_http_submit(run->j, r);
}

static int census_take(jl_run *run, json_t *doc)
{
	size_t before, n;
	int rc;

	if (run->next_id) {
		/* what batches took goes: ids[] stays about two pages long */
		memmove(run->ids, run->ids + run->next_id, (run->nids - run->next_id) * sizeof(*run->ids));
		run->nids -= run->next_id;
		run->base += (int64_t)run->next_id;
		run->next_id = 0;
	}
	before = run->nids;
	rc = take_ids(run, doc, run->census_cb, 1, run->dedupe, &n);
	run->listed += (int64_t)(run->nids - before);
	run->pages++;
	if (!rc)
		rc = next_token(run, doc, run->tokens, &run->tok, run->listed + run->skipped);
	json_decref(doc);
	if (rc)
		return rc;
	/* Fetching may start on this page's ids at once (before, the first batch
	 * of 10,000 issues waited for two census pages of 5000, ~2.2 s at 100 ms
	 * with 7 slots idle); emitting them waits for the next page. */
	run->ready = run->nids;
	run->confirmed = run->base + (int64_t)(run->tok ? before : run->nids);
	if (!run->tok)
		run->census_done = 1;
	return 0;
}

int jl_census_start(jl_run *run, int census)
{
	json_t *doc = NULL;
	char *path, *text;
	int rc;

	run->streaming = 1;
	run->census_cb = census;
	/* Incremental selections ask for `updated` too (see jl_search_ids). */
	run->dedupe = run->cb->known && (run->req->resume || (run->req->updated_since && *run->req->updated_since));
	run->approx = -1;
	if (!(run->tokens = json_object()))
		return JETL_ENOMEM;
	if ((rc = page_request(run, run->sel, run->dedupe, NULL, 0, &path, &text)))
		return rc;
	if ((rc = jl_http_call(run->j, "POST", path, text, &doc)))
		return rc;
	if ((rc = census_take(run, doc)))
		return rc;
	/* more than a page: the total is unknown until the last one, so ask for
	 * an estimate; it answers while the listing and the first batches run */
	if (!run->census_done)
		approx_submit(run);
	return 0;
}

int jl_census_step(jl_run *run)
{
	/* ask the next page while the ids listed still cover the window twice */
	size_t low = (size_t)run->window * (size_t)run->batch_size * 2;
	int rc = 0;

	if (run->census_doc) {
		json_t *doc = run->census_doc;

		run->census_doc = NULL;
		rc = census_take(run, doc);
	}
	/* ... or at once when the oldest batch waits for the next page to be emitted */
	if (!rc && !run->census_done && !run->census_inflight &&
	    (run->ready - run->next_id < low || (run->head && run->head->upto > run->confirmed)))
		rc = census_submit(run);
	if (rc && !run->rc)
		run->rc = rc;
	return rc;
}

void jl_census_free(jl_run *run)
{
	json_decref(run->census_doc);
	json_decref(run->tokens);
	free(run->tok);
	free(run->sel);
	run->census_doc = run->tokens = NULL;
	run->tok = run->sel = NULL;
}

/* --- Server pages: one batch = one page (plus re-reads of a short page) --- */

/* A page that came back short: ask for the rest of it, a bounded number of
 * times (issues deleted meanwhile move the end: the total says so). 1 when
 * the rest was asked for or the run failed, 0 when the page is whole. */
static int short_page(jl_run *run, jl_batch *b, int64_t start, int64_t got, int64_t total)
{
	int64_t covered = start - b->start_at + got, want = b->expect;

	if (total - b->start_at < want)
		want = total - b->start_at;
	if (covered >= want)
		return 0;
	if (b->tails >= 3 || got == 0) {
		char msg[256];

		snprintf(msg, sizeof(msg),
			 "jira: POST /rest/api/2/search page at startAt %lld shrank to %lld of %lld issues (total %lld)",
			 (long long)b->start_at, (long long)covered, (long long)want, (long long)total);
		jl_run_fail(run, JETL_EPROTOCOL, msg);
		return 1;
	}
	b->tails++;
	jl_search_page_submit(run, b, b->start_at + covered, want - covered);
	return 1;
}

/* An issue of a page joins its batch unless an earlier page had it (the
 * offsets moved under us: an issue deleted before this page). */
static int admit_listed(jl_batch *b, int64_t id, void *ud)
{
	jl_run *run = b->run;
	int added = id > 0 ? jl_idset_add(&run->seen, id) : 1;

	(void)ud;
	if (added < 0)
		jl_run_fail(run, JETL_ENOMEM, "jira: out of memory");
	else if (!added)
		run->srv_drift = 1;
	return added;
}

static void on_page(jl_jira *j, jl_req *r)
{
	jl_batch *b = r->ud;
	jl_run *run = b->run;
	json_t *rest = NULL, *tot, *mr;
	int64_t start = r->tag, total, got, granted;
	size_t count;
	int rc;

	(void)j;
	if (r->rc) {
		jl_run_fail(run, r->rc, r->err);
		goto out;
	}
	rc = jl_batch_take(b, r, admit_listed, NULL, &rest, &count);
	if (rc < 0)
		goto out;
	tot = json_object_get(rest, "total");
	mr = json_object_get(rest, "maxResults");
	if (rc > 0 || !json_is_integer(tot)) {
		jl_run_fail(run, JETL_EPROTOCOL, "jira: POST /rest/api/2/search answered without issues or total");
		goto out;
	}
	total = json_integer_value(tot);
	granted = json_is_integer(mr) ? json_integer_value(mr) : 0;
	got = (int64_t)count;
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
	if (short_page(run, b, start, got, total))
		goto out;
	b->bodies_done = 1;
	jl_batch_after_bodies(b);
out:
	json_decref(rest);
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
	if (r) {
		r->tag = start_at;
		r->flags |= JL_REQ_TEXT;   /* parsed an issue at a time (issues.c) */
	}
	jl_batch_submit(run, b, r, on_page);
}
