/* extract_run.c - one project: Jira pages → raw rows → transform messages.
 * Runs on the calling thread; the Jira client calls back here for each
 * census page and each finished batch. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "../core/buf.h"
#include "../jira/tz.h"
#include "../model/issue_types.h"
#include "../store/catalog.h"
#include "../store/db.h"
#include "../store/raw_insert.h"
#include "../store/issue_errors.h"
#include "../store/stored.h"
#include "../transform/time.h"

/* Context of the callbacks; rc carries a failure out of a callback. */
struct run_cb {
	jl_extract_run *run;
	int rc;
	int census_lost;   /* the connection was reset: the census (a temp table) went with it */
	int retrying;      /* the pass over issue_errors: its issues move no watermark */
};


static int on_census(void *ud, const char *const *ids, size_t n)
{
	struct run_cb *c = ud;
	jl_extract_run *run = c->run;
	jl_buf b = JL_BUF_INIT;
	char err[512];

	jl_buf_putc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_string(ids[i]);
		char *q = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
		if (i)
			jl_buf_putc(&b, ',');
		if (q)
			jl_buf_puts(&b, q);
		free(q);
		json_decref(s);
	}
	jl_buf_putc(&b, ']');
	if (b.oom) {
		jl_buf_free(&b);
		c->rc = jl_fail(run->ctx, JETL_ENOMEM, "census: out of memory");
		return 1;
	}
	if (!c->census_lost && jl_census_add(run->ctx->pg, b.data, err, sizeof(err)) < 0) {
		/* A lost connection takes the census with it: the extraction
		 * goes on, only the deleted-issue check is skipped this run. */
		if (jl_store_conn_lost(run->ctx->pg) && jl_db_back(run->ctx)) {
			c->census_lost = 1;
		} else {
			jl_buf_free(&b);
			c->rc = jl_fail(run->ctx, JETL_EDB, "%s", err);
			return 1;
		}
	}
	jl_buf_free(&b);
	return 0;
}

/* What dump_batch needs: the batch, and the Jira client to keep busy. */
struct dump_ctx {
	const jl_jira_batch *raw;
	jl_jira *jira;
	jl_raw_sink *sink;
	size_t since;              /* bytes since the engine last turned */
};

/* Dumping a batch's 2-3 MB of JSON takes ~0.1 s of CPU, the longest part of
 * storing it; the Jira engine turns every 128 KB meanwhile, so the requests
 * of the batches behind it go on (without it the 8 slots emptied and sat
 * idle once per batch: 19 s of 200 on 10,000 issues). */
static int put_turning(const char *data, size_t len, void *ud)
{
	struct dump_ctx *d = ud;

	if ((d->since += len) >= 128 * 1024) {
		d->since = 0;
		jl_jira_pump(d->jira);
	}
	return jl_raw_sink_put(data, len, d->sink);
}

/* While PostgreSQL stores the row: the engine turns (see wait_result in
 * src/store/raw_insert.c). */
static void turn_engine(void *ud)
{
	jl_jira_pump(((struct dump_ctx *)ud)->jira);
}

/* The batch's JSON text, dumped straight into the raw row's COPY. Compact,
 * and \u0000 stays escaped: the json column keeps it as is. */
static int dump_batch(void *ud, jl_raw_sink *sink)
{
	struct dump_ctx *d = ud;

	d->sink = sink;
	jl_raw_sink_on_wait(sink, turn_engine, d);
	d->since = 0;
	return jl_jira_batch_dump(d->raw, put_turning, d);
}

/* Tries of one raw row's COPY. */
#define RAW_TRIES 5

/*
 * Store one batch as a raw row. A transient failure (SQLSTATE class 40, 53,
 * 57: cancelled, timed out, deadlock, the server shutting down; or the
 * connection lost, then reset) is tried again with the same batch, which is
 * still in memory: before, a pg_cancel_backend or a restart during this COPY
 * ended the whole extraction. A row that did commit while its answer was
 * lost would be written twice; the transform's upserts make that harmless.
 * Returns what jl_raw_insert_stream returns.
 */
static int store_batch(struct run_cb *c, const jl_jira_batch *raw, size_t n_issues, int64_t *raw_id,
	char *err, size_t errlen)
{
	jl_extract_run *run = c->run;
	jetl_ctx *ctx = run->ctx;
	struct dump_ctx d = { raw, run->jira, NULL, 0 };

	for (int attempt = 1;; attempt++) {
		int rc = jl_raw_insert_stream(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id,
			run->job_id, JL_RAW_TYPE, run->project, dump_batch, &d, (int)n_issues, raw_id, err, errlen);

		if (rc == 0 || rc == -2 || attempt == RAW_TRIES)
			return rc;
		if (jl_store_conn_lost(ctx->pg)) {
			if (!jl_db_back(ctx))
				return rc;
			c->census_lost = 1;
		} else if (rc == JETL_EDBRETRY) {
			usleep(200000u * (unsigned)attempt);
		} else {
			return rc;
		}
		jl_log(ctx, JETL_LOG_WARNING, "extract: %s: trying again (%d of %d)", err, attempt + 1, RAW_TRIES);
	}
}

static int on_batch(void *ud, const jl_jira_batch *raw)
{
	struct run_cb *c = ud;
	jl_extract_run *run = c->run;
	jetl_ctx *ctx = run->ctx;
	size_t n_issues = raw->n_issues, n_histories = raw->n_histories;
	char err[512], *msg;
	int64_t raw_id;
	int rc;

	/* highest `updated`, for the watermark */
	if (!c->retrying && raw->max_updated_ms > run->max_updated_ms)
		run->max_updated_ms = raw->max_updated_ms;
	if (raw->n_future) {
		run->future += (int64_t)raw->n_future;
		jl_log(ctx, JETL_LOG_WARNING, "%s: %zu issue(s) dated after Jira's clock (the newest %" PRId64
			" s after its start): stored, but the watermark stays at the run's start", run->project,
			raw->n_future, (raw->max_updated_ms - run->server_start_ms) / 1000);
	}
	/* Never the whole text in memory (a few MB per batch, and libpq's copy
	 * of it): serialised as it is sent. */
	rc = store_batch(c, raw, n_issues, &raw_id, err, sizeof(err));
	if (rc == -2) {
		c->rc = jl_fail(ctx, JETL_ENOMEM, "store: cannot serialise a batch of %zu issues", n_issues);
		return 1;
	}
	if (rc < 0) {
		c->rc = jl_fail(ctx, rc == JETL_EDBCONN || rc == JETL_EDBRETRY ? rc : JETL_EDB, "%s", err);
		return 1;
	}
	run->raw_rows++;
	run->issues += (int64_t)n_issues;
	run->histories += (int64_t)n_histories;
	msg = jl_msg_transform(ctx->deployment, ctx->opts.tenant_id, ctx->opts.integration_id, run->job_id, raw_id);
	if (!msg) {
		c->rc = jl_fail(ctx, JETL_ENOMEM, "queue: out of memory");
		return 1;
	}
	rc = jl_queue_publish(run->pub, run->transform_queue, msg, strlen(msg));
	free(msg);
	if (rc != JETL_OK) {
		/* The raw row is stored; without its message nobody would pick it
		 * up, so say which row so that `jetl transform --raw-id` can. */
		c->rc = jl_fail(ctx, rc, "%s (raw row %lld is stored but not queued)",
			jl_queue_error(run->pub), (long long)raw_id);
		return 1;
	}
	/* The job's totals as the run goes; a job cancelled through its row
	 * (jetl_job_cancel) stops at this batch. */
	if (jl_job_totals_extract(run, (int64_t)n_issues, (int64_t)n_histories, 1, 0, (int64_t)raw->n_future, 0) ==
	    JETL_ECANCELLED) {
		c->rc = JETL_ECANCELLED;
		return 1;
	}
	if (jl_progress_emit(run->progress, JETL_PHASE_STORE, run->issues, 0, NULL, 0)) {
		c->rc = JETL_ECANCELLED;
		return 1;
	}
	return 0;
}

/* JSON array text of n strings. */
static char *json_strings(const char *const *v, size_t n)
{
	json_t *a = json_array();
	char *s;

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	s = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	return s;
}

/* The JSON array of the page's `updated` values as the transform stores
 * them (jl_time_iso), so PostgreSQL compares two texts of the same rule
 * instead of reading Jira's form itself; "" where it is not a time. */
static char *json_times(const char *const *v, size_t n)
{
	json_t *a = json_array();
	char iso[JL_TIME_MAX], *s;

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i] && jl_time_iso(v[i], iso) == 0 ? iso : ""));
	s = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	return s;
}

/* De-duplication on (issue id, updated): issues the overlap window re-reads
 * unchanged are already stored exactly so; one query per census page. */
static int on_known(void *ud, const char *const *ids, const char *const *updated, size_t n,
	unsigned char *skip)
{
	struct run_cb *c = ud;
	jl_extract_run *run = c->run;
	char err[512];
	char *a = json_strings(ids, n), *b = json_times(updated, n);
	PGresult *r = NULL;
	int rc = JETL_ENOMEM;

	if (a && b)
		rc = jl_stored_unchanged(run->ctx->pg, run->ctx->opts.tenant_id, run->ctx->opts.integration_id, a, b,
			&r, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "checking issues already stored: out of memory");
	free(a);
	free(b);
	if (rc != 0) {
		c->rc = jl_fail(run->ctx, rc, "%s", err);
		return 1;
	}
	for (int k = 0; k < PQntuples(r); k++) {
		long idx = strtol(PQgetvalue(r, k, 0), NULL, 10);
		if (idx >= 0 && (size_t)idx < n) {
			int64_t ms;

			skip[idx] = 1;
			run->unchanged++;
			/* Stored with exactly this `updated`: the watermark may cover
			 * it (a resumed run may fetch none of the newest issues). */
			if (jl_jira_time_parse(updated[idx], &ms, NULL) == 0 && ms > run->max_updated_ms)
				run->max_updated_ms = ms;
		}
	}
	PQclear(r);
	return 0;
}

static int on_progress(void *ud, int phase, int64_t done, int64_t total)
{
	struct run_cb *c = ud;

	if (jl_progress_emit(c->run->progress, phase, done, total, NULL, 0)) {
		c->rc = JETL_ECANCELLED;
		return 1;
	}
	return 0;
}

/* Whether a run without a watermark resumes one that stopped halfway:
 * the project has live stored issues, so the census asks `updated` too and
 * skips those stored unchanged (on_known). The watermark moves only when a
 * project completes; this is the checkpoint within a project. A first run
 * (nothing stored) keeps the cheaper ids-only census. */
static int resuming(jl_extract_run *run, int *resume)
{
	char err[512];
	int rc = jl_stored_project_live(run->ctx->pg, run->ctx->opts.tenant_id, run->ctx->opts.integration_id,
		run->project, resume, err, sizeof(err));

	return rc == 0 ? JETL_OK : jl_fail(run->ctx, rc, "%s", err);
}

/* Issues per request of the issue_errors pass. */
#define RETRY_CHUNK 100

/*
 * The issues of the project that earlier runs could not store
 * (issue_errors) are read again by id after an incremental listing, which
 * would not see them unless they changed. A record is cleared when the
 * issue is stored; one that fails again is recorded again. Chunks of 100
 * ids, each its own narrowed listing (no census, no watermark).
 */
static int retry_errors(struct run_cb *c, const jl_jira_callbacks *cb, const jl_jira_extract_req *base)
{
	jl_extract_run *run = c->run;
	PGresult *ids = NULL;
	char err[512];
	int rc, n;

	if (jl_issue_errors_ids(run->ctx->pg, run->ctx->opts.tenant_id, run->ctx->opts.integration_id,
			run->project, &ids, err, sizeof(err)) < 0) {
		/* as a callback's failure: the caller returns c->rc */
		c->rc = jl_fail(run->ctx, JETL_EDB, "%s", err);
		return JETL_ECANCELLED;
	}
	n = PQntuples(ids);
	if (n > 0)
		jl_log(run->ctx, JETL_LOG_INFO, "%s: reading again %d issue(s) not stored before (issue_errors)",
			run->project, n);
	rc = JETL_OK;
	c->retrying = 1;
	for (int at = 0; rc == JETL_OK && at < n; at += RETRY_CHUNK) {
		jl_jira_extract_req req = *base;
		jl_buf jql = JL_BUF_INIT;

		jl_buf_puts(&jql, "id in (");
		for (int k = at; k < n && k < at + RETRY_CHUNK; k++)
			jl_buf_printf(&jql, "%s%s", k > at ? "," : "", PQgetvalue(ids, k, 0));
		jl_buf_putc(&jql, ')');
		req.jql_extra = jql.data;
		req.updated_since = NULL;
		req.census_all = 0;
		req.resume = 0;
		if (jql.oom) {
			c->rc = jl_fail(run->ctx, JETL_ENOMEM, "extract: out of memory");
			rc = JETL_ECANCELLED;
		} else {
			rc = jl_jira_extract(run->jira, &req, cb);
		}
		jl_buf_free(&jql);
	}
	c->retrying = 0;
	run->retried += n;
	PQclear(ids);
	return rc;
}

/* After a complete census: mark what it misses deleted (unless that is
 * more than a sane share and not confirmed) and clear the mark of what it
 * shows again. */
static int census_end(jl_extract_run *run)
{
	char err[512];
	int64_t healed = 0;

	run->census_complete = 1;
	if (jl_census_mark_deleted(run->ctx->pg, run->ctx->opts.tenant_id, run->ctx->opts.integration_id,
			run->project, run->job_id, run->allow_mass_delete, &run->deleted, &run->deleted_refused, &healed,
			err, sizeof(err)) < 0)
		return jl_fail(run->ctx, JETL_EDB, "%s", err);
	if (run->deleted)
		jl_log(run->ctx, JETL_LOG_INFO, "%s: %lld issues no longer in Jira, marked deleted",
			run->project, (long long)run->deleted);
	if (healed)
		jl_log(run->ctx, JETL_LOG_INFO, "%s: %lld issues marked deleted are in Jira again: mark cleared",
			run->project, (long long)healed);
	if (run->deleted_refused)
		jl_log(run->ctx, JETL_LOG_WARNING, "%s: the census misses %lld stored issues, more than %d %% of the "
			"project: none marked deleted (a Jira or permission hiccup?); if they were deleted, run again "
			"with --allow-mass-delete", run->project, (long long)run->deleted_refused, JL_CENSUS_MAX_SHARE);
	return JETL_OK;
}

int jl_extract_one(jl_extract_run *run)
{
	jl_jira_extract_req req;
	jl_jira_callbacks cb;
	struct run_cb c = { run, JETL_OK, 0, 0 };
	char since[32], err[512];
	unsigned fetch = JL_PARTS_FETCHED;
	int rc;

	rc = jl_wm_plan(run, since);
	if (rc < 0)
		return rc;
	memset(&req, 0, sizeof(req));
	req.project_key = run->project;
	req.jql_extra = run->jql;
	req.updated_since = rc == 1 ? since : NULL;
	req.dev_field_id = run->dev_field;
	req.dev_status = run->dev_status;
	if (jl_parts_parse(run->types, &fetch, err, sizeof(err)) == 0)   /* checked before the job */
		req.skip_items = (~fetch) & JL_PARTS_FETCHED;
	req.census_all = 1;
	req.batch_size = run->ctx->opts.batch_size;
	req.future_after_ms = jl_wm_future_after(run);
	if (!run->full && !req.updated_since && (rc = resuming(run, &req.resume)) != JETL_OK)
		return rc;
	if (req.resume)
		jl_log(run->ctx, JETL_LOG_INFO, "%s: no watermark but issues stored (an earlier run stopped): "
			"skipping those stored unchanged", run->project);
	if (req.updated_since)
		jl_log(run->ctx, JETL_LOG_INFO, "%s: incremental, updated >= \"%s\" (%s)", run->project, since,
			run->tz ? run->tz : "UTC");
	if (jl_census_begin(run->ctx->pg, err, sizeof(err)) < 0)
		return jl_fail(run->ctx, JETL_EDB, "%s", err);
	cb.census = on_census;
	cb.batch = on_batch;
	cb.progress = on_progress;
	cb.known = on_known;
	cb.ud = &c;
	rc = jl_jira_extract(run->jira, &req, &cb);
	/* the listing was bounded: the issues not stored before are read by id */
	if (rc == JETL_OK && req.updated_since && run->wm_set)
		rc = retry_errors(&c, &cb, &req);
	if (rc == JETL_ECANCELLED && c.rc != JETL_OK && c.rc != JETL_ECANCELLED)
		return c.rc;  /* a callback failed: its message is on ctx */
	if (rc == JETL_ECANCELLED)
		return jl_fail(run->ctx, JETL_ECANCELLED, "%s: cancelled", run->project);
	if (rc != JETL_OK)
		return jl_pipeline_jira_fail(run->ctx, run->jira, rc);
	if (c.census_lost) {
		jl_log(run->ctx, JETL_LOG_WARNING, "%s: the database connection was reset during the run: "
			"issues deleted in Jira are not looked for this time (the next run does)", run->project);
		return JETL_OK;
	}
	return census_end(run);
}
