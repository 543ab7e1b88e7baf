/*
 * extract.c - the streaming driver of jl_jira_extract().
 *
 * Cloud: the ids-only listing (the census: what exists), page by page, and
 * the bodies of its ids in batches through /issue/bulkfetch as the pages
 * come; Server/DC: /search pages by startAt. Either way a batch, once its bodies are in, completes its capped
 * changelogs and fetches its dev status; batches are emitted in order.
 * Up to `window` batches are alive at once, so requests of batch N+1 are in
 * flight while batch N finishes, and memory stays bounded by the window
 * (plus about two pages of listed ids, and a seen-set of about a bit per
 * issue id: ids of a Jira site are dense).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "extract.h"

/* --- id set ------------------------------------------------------------------ */

static size_t id_hash(int64_t key, size_t cap)
{
	uint64_t x = (uint64_t)key * 0x9E3779B97F4A7C15ULL;

	return (size_t)(x >> 17) & (cap - 1);
}

static jl_idword *idset_find(const jl_idset *s, int64_t key)
{
	for (size_t i = id_hash(key, s->cap);; i = (i + 1) & (s->cap - 1))
		if (s->slot[i].key == key || s->slot[i].key == 0)
			return &s->slot[i];
}

int jl_idset_has(const jl_idset *s, int64_t id)
{
	jl_idword *w;

	if (!s->cap || id <= 0)
		return 0;
	w = idset_find(s, id / 64 + 1);
	return w->key != 0 && (w->bits >> (id % 64) & 1);
}

int jl_idset_add(jl_idset *s, int64_t id)
{
	int64_t key = id / 64 + 1;
	uint64_t bit = (uint64_t)1 << (id % 64);
	jl_idword *w;

	if (id <= 0)
		return -1;
	if ((s->used + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		jl_idset t = { calloc(cap, sizeof(jl_idword)), cap, s->used, s->n };

		if (!t.slot)
			return -1;
		for (size_t k = 0; k < s->cap; k++)
			if (s->slot[k].key)
				*idset_find(&t, s->slot[k].key) = s->slot[k];
		free(s->slot);
		*s = t;
	}
	w = idset_find(s, key);
	if (w->key && (w->bits & bit))
		return 0;
	if (!w->key) {
		w->key = key;
		s->used++;
	}
	w->bits |= bit;
	s->n++;
	return 1;
}

void jl_idset_free(jl_idset *s)
{
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

/* --- run and batches -------------------------------------------------------- */

void jl_run_fail(jl_run *run, int rc, const char *msg)
{
	if (run->rc)
		return; /* the first cause is the one worth reporting */
	run->rc = rc ? rc : JETL_ERROR;
	jl_jira_fail(run->j, run->rc, "%s", msg && *msg ? msg : "jira: extraction failed");
}

static void batch_free(jl_batch *b)
{
	free(b->ids);
	jl_buf_free(&b->text);
	json_decref(b->issues);
	json_decref(b->changelogs);
	json_decref(b->dev);
	json_decref(b->items[0]);
	json_decref(b->items[1]);
	json_decref(b->cl_ids);
	json_decref(b->cl_acc);
	json_decref(b->cl_tokens);
	free(b);
}

static jl_batch *batch_new(jl_run *run, int kind)
{
	jl_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->run = run;
	b->kind = kind;
	b->seq = run->next_seq++;
	b->issues = json_array();
	b->changelogs = json_object();
	b->dev = json_object();
	b->items[0] = json_object();
	b->items[1] = json_object();
	b->cl_ids = json_array();
	b->cl_acc = json_object();
	b->cl_tokens = json_object();
	if (!b->issues || !b->changelogs || !b->dev || !b->items[0] || !b->items[1] || !b->cl_ids || !b->cl_acc ||
	    !b->cl_tokens) {
		batch_free(b);
		return NULL;
	}
	if (run->tail)
		run->tail->next = b;
	else
		run->head = b;
	run->tail = b;
	run->nbatches++;
	return b;
}

int jl_batch_submit(jl_run *run, jl_batch *b, jl_req *r, jl_req_done done)
{
	if (!r) {
		jl_run_fail(run, JETL_ENOMEM, "jira: out of memory");
		return -1;
	}
	/* Older batches first: they are the ones the caller waits for. But a
	 * batch's bodies (before bodies_done) go ahead of every batch's dev status
	 * and changelogs: the window already paid for the batch, its bodies are
	 * the slowest answers, and the work they unlock is what keeps the pipe full
	 * when the older batches drain. Behind the old batches' ~100 dev requests
	 * a new batch waited a second and more with slots idle after. */
	r->prio = b->bodies_done ? b->seq : b->seq - ((int64_t)1 << 40);
	r->done = done;
	r->ud = b;
	b->outstanding++;
	jl_http_submit(run->j, r);
	return 0;
}

void jl_batch_request_done(jl_batch *b)
{
	b->outstanding--;
}

void jl_batch_after_bodies(jl_batch *b)
{
	jl_run *run = b->run;
	json_t *issue;
	size_t i;

	json_array_foreach(b->issues, i, issue) {
		json_t *cl = json_object_get(issue, "changelog");
		json_t *hist = json_object_get(cl, "histories");
		json_t *total = json_object_get(cl, "total");
		const char *id = json_string_value(json_object_get(issue, "id"));

		if (!id) {
			jl_run_fail(run, JETL_EPROTOCOL, "jira: an issue without an id");
			return;
		}
		/* a stub holds a log only when it is capped (40 on Cloud, 100 on
		 * Server): complete it; the others' histories are counted */
		if (json_is_array(hist) && json_is_integer(total) &&
		    json_integer_value(total) > (json_int_t)json_array_size(hist)) {
			run->capped_found++;
			if (run->cloud)
				json_array_append_new(b->cl_ids, json_string(id));
			else
				jl_changelog_issue_submit(run, b, issue);
		}
		jl_dev_submit(run, b, issue, id);
		jl_items_submit(run, b, issue);
	}
	if (run->cloud && json_array_size(b->cl_ids))
		jl_changelog_bulk_submit(run, b, NULL);
}

/* Whether batches remain to be started (maybe not yet startable). */
static int more_work(jl_run *run, int kind)
{
	if (kind == JL_BATCH_IDS && run->streaming)
		return run->next_id < run->ready || !run->census_done;
	if (kind == JL_BATCH_IDS)
		return run->next_id < run->nids;
	if (!run->srv_first_done)
		return run->nbatches == 0 && !run->paging_done;
	return run->srv_next < run->srv_total;
}

/* Whether a batch may start now: a streamed listing starts full batches
 * only, but for the last one. */
static int can_start(jl_run *run, int kind)
{
	if (kind == JL_BATCH_IDS && run->streaming)
		return run->ready - run->next_id >= (size_t)run->batch_size ||
			(run->census_done && run->next_id < run->ready);
	return more_work(run, kind);
}

static int start_batch(jl_run *run, int kind)
{
	jl_batch *b = batch_new(run, kind);

	if (!b)
		return JETL_ENOMEM;
	if (kind == JL_BATCH_IDS) {
		size_t n = (run->streaming ? run->ready : run->nids) - run->next_id;

		if (n > (size_t)run->batch_size)
			n = (size_t)run->batch_size;
		b->ids = malloc(n * sizeof(*b->ids));
		if (!b->ids)
			return JETL_ENOMEM;
		memcpy(b->ids, run->ids + run->next_id, n * sizeof(*b->ids));
		b->nids = n;
		run->next_id += n;
		b->upto = run->base + (int64_t)run->next_id;
		jl_bulkfetch_submit(run, b);
	} else if (!run->srv_first_done) {
		b->start_at = 0;
		b->expect = run->srv_ps;
		run->paging_done = 1; /* the first page decides what follows */
		jl_search_page_submit(run, b, 0, run->srv_ps);
	} else {
		int64_t n = run->srv_total - run->srv_next;

		if (n > run->srv_ps)
			n = run->srv_ps;
		b->start_at = run->srv_next;
		b->expect = n;
		run->srv_next += n;
		jl_search_page_submit(run, b, b->start_at, n);
	}
	return 0;
}

static int report(jl_run *run, int phase, int64_t done, int64_t total)
{
	if (run->last_p[phase][0] == done && run->last_p[phase][1] == total)
		return 0;
	run->last_p[phase][0] = done;
	run->last_p[phase][1] = total;
	if (run->cb->progress && run->cb->progress(run->cb->ud, phase, done, total))
		return JETL_ECANCELLED;
	return 0;
}

static int report_all(jl_run *run)
{
	int all = run->bodies_all_in;

	if (run->streaming) {
		/* Cloud: the listing runs along. Until its last page the total is the
		 * estimate (less what is stored unchanged), never below what is listed;
		 * then it is exact, and the census says so once. */
		if (run->census_done) {
			run->total = run->listed;
			if (run->last_p[JETL_PHASE_CENSUS][0] != run->listed ||
			    run->last_p[JETL_PHASE_CENSUS][1] != run->listed) {
				if (report(run, JETL_PHASE_CENSUS, run->listed, run->listed))
					return JETL_ECANCELLED;
				run->last_p[JETL_PHASE_ISSUES][0] = -1; /* the bar follows the issues again */
			}
		} else {
			run->total = run->approx >= 0 ? run->approx - run->skipped : 0;
			if (run->total < run->listed)
				run->total = run->listed;
		}
	}

	/* Server: the first page's total is the census */
	if (!run->cloud && run->srv_first_done && report(run, JETL_PHASE_CENSUS, run->total, run->total))
		return JETL_ECANCELLED;
	if (report(run, JETL_PHASE_ISSUES, run->issues_done, run->total) ||
	    report(run, JETL_PHASE_CHANGELOGS, run->capped_done, all ? run->capped_found : 0) ||
	    (run->req->dev_status && report(run, JETL_PHASE_DEV_STATUS, run->dev_done, all ? run->dev_found : 0)))
		return JETL_ECANCELLED;
	return 0;
}

int jl_jira_batch_dump(const jl_jira_batch *b, json_dump_callback_t put, void *data)
{
	static const char open[] = "{\"issues\":[", logs[] = "],\"changelogs\":", dev[] = ",\"dev_status\":";
	static const char *const items[2] = { ",\"comments\":", ",\"worklogs\":" };

	if (put(open, sizeof(open) - 1, data))
		return -1;
	/* in pieces, as a dump would come: a put may turn the engine between them */
	for (size_t at = 0, n; at < b->issues_len; at += n) {
		n = b->issues_len - at < 65536 ? b->issues_len - at : 65536;
		if (put(b->issues_text + at, n, data))
			return -1;
	}
	if (put(logs, sizeof(logs) - 1, data) || json_dump_callback(b->changelogs, put, data, JSON_COMPACT) ||
	    put(dev, sizeof(dev) - 1, data) || json_dump_callback(b->dev, put, data, JSON_COMPACT))
		return -1;
	/* Only when some were read: a raw row without cut pages is as before. */
	for (int k = 0; k < 2; k++)
		if (json_object_size(b->items[k]) &&
		    (put(items[k], strlen(items[k]), data) || json_dump_callback(b->items[k], put, data, JSON_COMPACT)))
			return -1;
	if (put("}", 1, data))
		return -1;
	return 0;
}

static int emit(jl_run *run, jl_batch *b)
{
	size_t n = json_array_size(b->issues);
	int rc = 0;

	if (n && run->cb->batch) {
		jl_jira_batch out = { n, b->n_histories, b->max_updated_ms, b->text.data, b->text.len,
				      b->changelogs, b->dev, { b->items[0], b->items[1] }, b->n_future };

		if (b->text.oom)
			return JETL_ENOMEM;
		if (run->cb->batch(run->cb->ud, &out))
			rc = JETL_ECANCELLED;
	}
	run->issues_done += (int64_t)n;
	return rc;
}

static int run_batches(jl_run *run, int kind)
{
	jl_jira *j = run->j;
	int rc;

	run->bodies_all_in = 0;
	for (;;) {
		if (run->streaming && !run->rc)
			jl_census_step(run);
		/* A request waiting out a Retry-After or a backoff holds its batch, and
		 * batches are emitted in order: while any waits, up to two more batches
		 * keep the pipe full (their memory only for as long as retries last). */
		while (!run->rc && run->nbatches < run->window + (jl_http_waiting(j) ? 2 : 0) &&
		       can_start(run, kind))
			if ((rc = start_batch(run, kind)))
				jl_run_fail(run, rc, "jira: out of memory");
		while (!run->rc && run->head && run->head->bodies_done && run->head->outstanding == 0 &&
		       (!run->streaming || run->census_done || run->head->upto <= run->confirmed)) {
			jl_batch *b = run->head;

			jl_http_trace(j, "B %lld %zu", (long long)b->seq, json_array_size(b->issues));
			rc = emit(run, b);
			jl_http_trace(j, "b %lld", (long long)b->seq);
			run->head = b->next;
			if (!run->head)
				run->tail = NULL;
			run->nbatches--;
			batch_free(b);
			if (rc)
				jl_run_fail(run, rc, rc == JETL_ECANCELLED ? "jira: cancelled" : "jira: out of memory");
		}
		if (!run->rc && !more_work(run, kind)) {
			int all = 1;

			for (jl_batch *b = run->head; b; b = b->next)
				all &= b->bodies_done;
			run->bodies_all_in = all;
		}
		if (!run->rc && report_all(run))
			jl_run_fail(run, JETL_ECANCELLED, "jira: cancelled");
		if (run->rc)
			return run->rc;
		if (!run->head && !more_work(run, kind))
			return 0;
		jl_http_step(j);
	}
}

static void run_cleanup(jl_run *run)
{
	if (run->rc || run->census_inflight || run->approx_inflight)
		jl_http_abort(run->j); /* requests still in flight point at batches freed next, or at run */
	while (run->head) {
		jl_batch *b = run->head;

		run->head = b->next;
		batch_free(b);
	}
	run->tail = NULL;
	free(run->ids);
	jl_idset_free(&run->seen);
	jl_census_free(run);
}

static int extract_cloud(jl_run *run)
{
	const jl_jira_extract_req *req = run->req;
	int filtered = (req->updated_since && *req->updated_since) || (req->jql_extra && *req->jql_extra);
	int rc = 0;

	if (!(run->sel = jl_jql_for(req, 1, 1)))
		return JETL_ENOMEM;
	if (req->census_all && filtered) {
		char *all = jl_jql_for(req, 0, 1);

		rc = all ? jl_search_ids(run, all, 1, 0) : JETL_ENOMEM;
		free(all);
	}
	/* ids only, big pages; the census too when nothing is filtered. Bodies
	 * are fetched as the pages come, so nothing here grows with the project. */
	if (!rc)
		rc = jl_census_start(run, req->census_all && !filtered);
	if (rc)
		return run->rc = rc;
	if (report(run, JETL_PHASE_CENSUS, run->listed, run->census_done ? run->listed : 0))
		return run->rc = jl_jira_fail(run->j, JETL_ECANCELLED, "jira: cancelled");
	return run_batches(run, JL_BATCH_IDS);
}

static int extract_server(jl_run *run)
{
	const jl_jira_extract_req *req = run->req;
	int rc;

	if (req->resume && req->census_all && !(req->updated_since && *req->updated_since) &&
	    !(req->jql_extra && *req->jql_extra)) {
		/* Resuming: the census lists `updated` too (same pages), and only
		 * the issues not stored unchanged are read, by id. */
		char *all = jl_jql_for(req, 0, 1);

		rc = all ? jl_search_ids(run, all, 1, 1) : JETL_ENOMEM;
		free(all);
		if (rc)
			return run->rc = rc;
		run->total = (int64_t)run->nids;
		if (report(run, JETL_PHASE_CENSUS, run->total, run->total))
			return run->rc = jl_jira_fail(run->j, JETL_ECANCELLED, "jira: cancelled");
		return run_batches(run, JL_BATCH_IDS);
	}
	if (req->census_all) {
		char *all = jl_jql_for(req, 0, 1);

		rc = all ? jl_search_ids(run, all, 1, 0) : JETL_ENOMEM;
		free(all);
		if (rc)
			return run->rc = rc;
	}
	run->srv_total = -1;
	run->srv_ps = run->batch_size;
	if ((rc = run_batches(run, JL_BATCH_PAGE)))
		return rc;
	if (report(run, JETL_PHASE_CENSUS, run->total, run->total))
		return run->rc = jl_jira_fail(run->j, JETL_ECANCELLED, "jira: cancelled");
	if (run->srv_drift) {
		/* Offsets moved while we paged (issues deleted or added): list the ids
		 * again and read whatever the shift made us skip. */
		char *sel = jl_jql_for(req, 1, 1);
		size_t before = run->nids;

		rc = sel ? jl_search_ids(run, sel, 0, 1) : JETL_ENOMEM;
		free(sel);
		if (rc)
			return run->rc = rc;
		if (run->nids > before) {
			jl_jira_log(run->j, JETL_LOG_WARNING,
				    "jira: offsets shifted during the read; re-reading %zu skipped issues",
				    run->nids - before);
			run->total += (int64_t)(run->nids - before);
			return run_batches(run, JL_BATCH_IDS);
		}
	}
	return 0;
}

int jl_jira_extract(jl_jira *j, const jl_jira_extract_req *req, const jl_jira_callbacks *cb)
{
	jl_run run;
	const char *api;
	int rc;

	if (!j || !req || !cb || !req->project_key || !*req->project_key)
		return JETL_EINVAL;
	j->err[0] = '\0';
	{
		char why[256];

		/* the last line of defence: every caller (jetl_extract, a worker's
		 * message) passes through here before any JQL is sent */
		if (jl_jql_check_extra(req->jql_extra, why, sizeof(why)))
			return jl_jira_fail(j, JETL_EINVAL, "jira: %s: %s", req->project_key, why);
	}
	if ((rc = jl_jira_api(j, &api)))
		return rc;
	memset(&run, 0, sizeof(run));
	for (int p = 0; p < 8; p++)
		run.last_p[p][0] = run.last_p[p][1] = -1;
	run.j = j;
	run.req = req;
	run.cb = cb;
	run.t0 = jl_now();
	run.cloud = j->flavor == JETL_FLAVOR_CLOUD;
	run.batch_size = req->batch_size > 0 && req->batch_size <= 100 ? req->batch_size : 100;
	/* Each batch alive holds ~100 issues with their embedded logs (~2.5 MB
	 * of text since issues.c; ~11 MB when they were jansson trees) and its
	 * dev status, so the window is what bounds memory. With dev
	 * status on, one batch alone has dozens of requests to keep the pipe full;
	 * measured on the simulator: window 2 = 50 MB peak at the speed of window
	 * 6 = 92 MB. Without dev status a third batch keeps bodies in flight. */
	run.window = req->dev_status ? 2 : 3;
	rc = run.cloud ? extract_cloud(&run) : extract_server(&run);
	if (!rc)
		rc = run.rc;
	if (rc && !j->err[0])
		jl_jira_fail(j, rc, "jira: extraction of %s failed (%s)", req->project_key, jetl_strerror(rc));
	run_cleanup(&run);
	return rc;
}
