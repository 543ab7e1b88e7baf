/* twriter.c - the write-behind thread of a consumer (see twriter.h): one job
 * at a time, handed over and back under a mutex. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/ctx.h"
#include "../core/util.h"
#include "../store/db.h"
#include "../store/jobs.h"
#include "../store/load.h"
#include "../store/raw_insert.h"
#include "internal.h"
#include "twriter.h"

struct jl_twriter {
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	jetl_options opts;        /* to reopen the connection; strings borrowed */
	jetl_ctx *ctx;            /* the writer thread's own connection */
	int max_deliveries;
	jl_tjob *job;             /* submitted, not collected */
	int done;                 /* job is finished */
	int quit;
};

void jl_tjob_free(jl_tjob *job)
{
	while (job) {
		jl_tjob *next = job->next;

		jl_tb_row_free(&job->row);
		jl_queue_msg_free(&job->msg);
		free(job);
		job = next;
	}
}

/* The job of a raw row may be complete now: its last row is done. */
static void finish_job(jetl_ctx *ctx, int64_t job_id)
{
	char err[512];

	if (job_id > 0 && jl_jobs_try_finish(ctx->pg, job_id, NULL, 0, err, sizeof(err)) < 0)
		jl_log(ctx, JETL_LOG_WARNING, "%s", err);
}

static void reopen(jl_twriter *w)
{
	char err[512];

	jetl_close(w->ctx);
	w->ctx = NULL;
	if (jetl_open_err(&w->ctx, &w->opts, err, sizeof(err)) != JETL_OK)
		w->ctx = NULL;
}

static void process(jl_twriter *w, jl_tjob *job)
{
	jetl_ctx *ctx;

	if (!w->ctx)
		reopen(w);
	if (!(ctx = w->ctx)) {
		snprintf(job->row.err, sizeof(job->row.err), "transform: no database connection for writing");
		job->rc = JETL_EDB;
		return;
	}
	if (job->rc == JETL_OK) {
		job->rc = jl_tb_write(ctx, job->raw_id, &job->row, &job->counts);
		if (job->rc == JETL_OK) {
			jl_tb_settle(ctx, job->raw_id, &job->row, &job->counts, JETL_OK);
			/* totals, then the finish: a job's totals are complete
			 * when it ends */
			jl_job_totals_transform(ctx, job->job_id, &job->counts);
			return;
		}
	}
	if (job->rc == JETL_ENOENT)
		return;
	/* Nothing of the row was written; a transient failure comes back with
	 * its message and the row is transformed again. */
	jl_tb_settle(ctx, job->raw_id, &job->row, &job->counts, job->rc);
	if (job->rc == JETL_EDATA) {
		job->attempts = jl_raw_attempts(ctx->pg, job->raw_id);
		/* Dead-lettered by the consumer now: its job waits no more. */
		if (job->attempts >= w->max_deliveries)
			finish_job(ctx, job->job_id);
	}
	if (jl_store_conn_lost(ctx->pg)) {
		reopen(w);
		job->reconnected = 1;
	}
}

/* Job totals once per job of the list (a list is usually one job's rows). */
static void group_totals(jetl_ctx *ctx, jl_tjob *head)
{
	for (jl_tjob *j = head; j; j = j->next) {
		jl_load_counts sum = { 0, 0, 0, 0, 0, { 0 } };
		int first = 1;

		for (jl_tjob *k = head; k != j && first; k = k->next)
			first = k->job_id != j->job_id;
		if (!first)
			continue;
		for (jl_tjob *k = j; k; k = k->next)
			if (k->job_id == j->job_id) {
				sum.work_items += k->counts.work_items;
				sum.changelog_items += k->counts.changelog_items;
				sum.dev_status += k->counts.dev_status;
				for (int p = 0; p < JL_PART_N; p++)
					sum.parts[p] += k->counts.parts[p];
				sum.issue_errors += k->counts.issue_errors;
			}
		jl_job_totals_transform(ctx, j->job_id, &sum);
	}
}

/* The list in one transaction, when the rows before were first loads and
 * every job is transformed, of one tenant and integration. 0 when written;
 * -1 when the jobs are to be written one by one (nothing committed). */
static int write_group(jl_twriter *w, jl_tjob *head)
{
	jetl_ctx *ctx = w->ctx;
	int64_t ids[JL_LOAD_GROUP_MAX] = { 0 };
	const jl_transform_out *outs[JL_LOAD_GROUP_MAX] = { NULL };
	jl_load_counts counts[JL_LOAD_GROUP_MAX];
	char err[512];
	int n = 0;

	if (!ctx || !ctx->loads_fresh)
		return -1;
	for (jl_tjob *j = head; j; j = j->next) {
		if (j->rc != JETL_OK || n == JL_LOAD_GROUP_MAX || j->row.tenant != head->row.tenant ||
		    j->row.integration != head->row.integration)
			return -1;
		ids[n] = j->raw_id;
		outs[n++] = &j->row.out;
	}
	if (jl_load_fresh_group(ctx->pg, head->row.tenant, head->row.integration, n, ids, outs, counts, err,
			sizeof(err)) < 0) {
		jl_store_rollback(ctx->pg);
		ctx->loads_fresh = 0;
		jl_log(ctx, JETL_LOG_DEBUG, "worker: %d raw row(s) not written together (%s): one by one", n, err);
		return -1;
	}
	n = 0;
	for (jl_tjob *j = head; j; j = j->next) {
		j->counts = counts[n++];
		jl_tb_settle(ctx, j->raw_id, &j->row, &j->counts, JETL_OK);
	}
	group_totals(ctx, head);
	return 0;
}

static void process_list(jl_twriter *w, jl_tjob *head)
{
	if (!w->ctx)
		reopen(w);
	if (write_group(w, head) == 0)
		return;
	for (jl_tjob *j = head; j; j = j->next)
		process(w, j);
}

static void *writer_main(void *arg)
{
	jl_twriter *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->quit && (!w->job || w->done))
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->quit)
			break;
		{
			jl_tjob *job = w->job;

			pthread_mutex_unlock(&w->mu);
			process_list(w, job);
			pthread_mutex_lock(&w->mu);
			w->done = 1;
			pthread_cond_broadcast(&w->cv);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int jl_twriter_start(jl_twriter **out, const jetl_options *opts, int max_deliveries, char *err, size_t errlen)
{
	jl_twriter *w = calloc(1, sizeof(*w));
	int rc;

	*out = NULL;
	if (!w) {
		snprintf(err, errlen, "worker: out of memory");
		return JETL_ENOMEM;
	}
	w->opts = *opts;
	w->max_deliveries = max_deliveries;
	if ((rc = jetl_open_err(&w->ctx, &w->opts, err, errlen)) != JETL_OK) {
		free(w);
		return rc;
	}
	pthread_mutex_init(&w->mu, NULL);
	{
		pthread_condattr_t a;

		pthread_condattr_init(&a);
		pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
		pthread_cond_init(&w->cv, &a);
		pthread_condattr_destroy(&a);
	}
	if (pthread_create(&w->tid, NULL, writer_main, w) != 0) {
		snprintf(err, errlen, "worker: cannot start a writer thread");
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		jetl_close(w->ctx);
		free(w);
		return JETL_ENOMEM;
	}
	*out = w;
	return JETL_OK;
}

void jl_twriter_submit(jl_twriter *w, jl_tjob *job)
{
	pthread_mutex_lock(&w->mu);
	w->job = job;
	w->done = 0;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int jl_twriter_busy(jl_twriter *w)
{
	int busy;

	pthread_mutex_lock(&w->mu);
	busy = w->job != NULL;
	pthread_mutex_unlock(&w->mu);
	return busy;
}

jl_tjob *jl_twriter_collect(jl_twriter *w, int timeout_ms)
{
	jl_tjob *job = NULL;
	struct timespec dl;

	if (timeout_ms > 0)
		jl_deadline_ms(&dl, timeout_ms);
	pthread_mutex_lock(&w->mu);
	while (w->job && !w->done && timeout_ms != 0)
		if (timeout_ms < 0)
			pthread_cond_wait(&w->cv, &w->mu);
		else if (pthread_cond_timedwait(&w->cv, &w->mu, &dl) != 0)
			break;
	if (w->job && w->done) {
		job = w->job;
		w->job = NULL;
		w->done = 0;
	}
	pthread_mutex_unlock(&w->mu);
	return job;
}

void jl_twriter_stop(jl_twriter *w)
{
	if (!w)
		return;
	jl_tjob_free(jl_twriter_collect(w, -1));
	pthread_mutex_lock(&w->mu);
	w->quit = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->tid, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	jetl_close(w->ctx);
	free(w);
}
