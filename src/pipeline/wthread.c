/* wthread.c - one consumer thread: its own database connection (a cloned
 * context) and its own queue handle; transforms raw rows (and, when asked,
 * extracts projects), acking each message only after its commit. */
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "../store/db.h"
#include "../store/jobs.h"

#define POLL_MS 200

static int open_ctx(jl_wthread *w, jetl_ctx **out)
{
	jetl_options o = w->parent->opts;
	int rc;

	o.log_level = w->parent->opts.log_level;
	rc = jetl_open_err(out, &o, w->err, sizeof(w->err));
	return rc;
}

/* Attempts recorded on a raw row (0 when unknown). */
static int raw_attempts(jetl_ctx *ctx, int64_t raw_id)
{
	char id[24], err[256];
	const char *p[1] = { id };
	PGresult *r;
	int n = 0;

	snprintf(id, sizeof(id), "%lld", (long long)raw_id);
	r = jl_store_exec(ctx->pg, "reading attempts", "SELECT attempts FROM raw_extraction_data WHERE id = $1",
		1, p, err, sizeof(err));
	if (r && PQntuples(r) > 0)
		n = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return n;
}

static void finish_job(jetl_ctx *ctx, int64_t job_id)
{
	char err[512];

	if (job_id > 0 && jl_jobs_try_finish(ctx->pg, job_id, NULL, 0, err, sizeof(err)) < 0)
		jl_log(ctx, JETL_LOG_WARNING, "%s", err);
}

static int reconnect(jl_wthread *w, jetl_ctx **ctx)
{
	jetl_close(*ctx);
	*ctx = NULL;
	for (int i = 0; i < 30 && !atomic_load(w->stop); i++) {
		if (open_ctx(w, ctx) == JETL_OK)
			return 0;
		usleep(500000);
	}
	return -1;
}

static void handle_transform(jl_wthread *w, jetl_ctx **ctxp, jl_queue *q, jl_queue_msg *m, json_t *body)
{
	jetl_ctx *ctx = *ctxp;
	jetl_transform_result res = JETL_TRANSFORM_RESULT_INIT;
	int64_t raw_id = json_integer_value(json_object_get(body, "raw_id"));
	int64_t job_id = json_integer_value(json_object_get(body, "job_id"));
	int rc;

	ctx->opts.tenant_id = (int)json_integer_value(json_object_get(body, "tenant_id"));
	ctx->opts.integration_id = (int)json_integer_value(json_object_get(body, "integration_id"));
	rc = jetl_transform_batch(ctx, raw_id, &res);
	switch (rc) {
	case JETL_OK:
		jl_queue_ack(q, m);
		atomic_fetch_add(&w->transformed, 1);
		atomic_fetch_add(&w->items, res.work_items);
		finish_job(ctx, job_id);
		return;
	case JETL_EDATA:
		/* The row is marked failed with its error. Bounded redeliveries,
		 * then the dead-letter queue keeps the message for inspection. */
		atomic_fetch_add(&w->failed, 1);
		if (raw_attempts(ctx, raw_id) >= w->max_deliveries) {
			jl_log(ctx, JETL_LOG_ERROR, "worker: raw row %lld dead-lettered after %d attempts: %s",
				(long long)raw_id, w->max_deliveries, jetl_last_error(ctx));
			jl_queue_reject(q, m, 0);
			atomic_fetch_add(&w->dead, 1);
			finish_job(ctx, job_id);
		} else {
			jl_queue_reject(q, m, 1);
		}
		return;
	case JETL_ENOENT:
		jl_log(ctx, JETL_LOG_ERROR, "worker: %s: dead-lettered", jetl_last_error(ctx));
		jl_queue_reject(q, m, 0);
		atomic_fetch_add(&w->dead, 1);
		return;
	default:
		/* Database trouble: give the message back and start over on a
		 * fresh connection; nothing was committed. */
		jl_log(ctx, JETL_LOG_WARNING, "worker: raw row %lld: %s: will retry", (long long)raw_id,
			jetl_last_error(ctx));
		jl_queue_reject(q, m, 1);
		if (jl_store_conn_lost(ctx->pg))
			reconnect(w, ctxp);
		else
			usleep(200000);
		return;
	}
}

/* Defined in extract.c: run a distributed project extraction in a worker. */
int jl_extract_from_message(jetl_ctx *ctx, json_t *body, const char *queue_url);

static void handle_extract(jl_wthread *w, jetl_ctx *ctx, jl_queue *q, jl_queue_msg *m, json_t *body)
{
	ctx->opts.tenant_id = (int)json_integer_value(json_object_get(body, "tenant_id"));
	ctx->opts.integration_id = (int)json_integer_value(json_object_get(body, "integration_id"));
	/* Acked before the run: an extraction takes longer than the AMQP
	 * heartbeat window of a consumer that is busy, so a late ack would be
	 * refused and the project extracted twice. A worker that dies mid-run
	 * leaves the job 'running' with its project not counted (visible on the
	 * job); failures are recorded on the job either way. */
	jl_queue_ack(q, m);
	jl_extract_from_message(ctx, body, w->queue_url);
	atomic_fetch_add(&w->extracted, 1);
}

static void handle(jl_wthread *w, jetl_ctx **ctx, jl_queue *q, jl_queue_msg *m)
{
	json_error_t je;
	json_t *body = json_loadb(m->body, m->len, 0, &je);
	const char *type = json_string_value(json_object_get(body, "type"));

	if (atomic_load(&w->discard)) {
		jl_queue_ack(q, m);
	} else if (type && strcmp(type, JL_RAW_TYPE) == 0 && json_integer_value(json_object_get(body, "raw_id")) > 0) {
		handle_transform(w, ctx, q, m, body);
	} else if (type && strcmp(type, JL_EXTRACT_TYPE) == 0 && json_object_get(body, "project_key")) {
		handle_extract(w, *ctx, q, m, body);
	} else {
		jl_log(*ctx, JETL_LOG_ERROR, "worker: unreadable message (%.80s): dead-lettered", m->body);
		jl_queue_reject(q, m, 0);
		atomic_fetch_add(&w->dead, 1);
	}
	json_decref(body);
}

static void *thread_main(void *arg)
{
	jl_wthread *w = arg;
	jetl_ctx *ctx = NULL;
	jl_queue *q = NULL;
	double idle_since = jl_now();
	int errors = 0;

	w->rc = open_ctx(w, &ctx);
	if (w->rc != JETL_OK)
		goto out;
	w->rc = jl_queue_open(&q, w->queue_url, w->err, sizeof(w->err));
	if (w->rc == JETL_OK && (w->rc = jl_queue_consume(q, w->queues, w->nqueues, w->prefetch)) != JETL_OK)
		jl_one_line(w->err, sizeof(w->err), jl_queue_error(q));
	if (w->rc != JETL_OK)
		goto out;
	while (!atomic_load(w->stop)) {
		jl_queue_msg m;
		int rc = jl_queue_next(q, &m, NULL, POLL_MS);

		if (rc == JETL_ETIMEOUT) {
			/* In-process run: done once the producer finished and nothing
			 * is left (depth is read after the flag, so a message published
			 * just before the flag is still seen). */
			if (w->producer_done && atomic_load(w->producer_done) &&
			    jl_queue_depth(q, w->queues[0]) == 0)
				break;
			if (w->until_idle && (jl_now() - idle_since) * 1000 >= w->idle_ms)
				break;
			continue;
		}
		if (rc != JETL_OK) {
			/* The queue layer reconnects by itself; give up only when it
			 * keeps failing. */
			jl_one_line(w->err, sizeof(w->err), jl_queue_error(q));
			jl_log(ctx, JETL_LOG_WARNING, "worker: %s", w->err);
			if (++errors >= 20) {
				w->rc = rc;
				break;
			}
			usleep(250000);
			continue;
		}
		errors = 0;
		handle(w, &ctx, q, &m);
		jl_queue_msg_free(&m);
		idle_since = jl_now();
		if (!ctx) {
			w->rc = JETL_EDBCONN;
			break;
		}
	}
out:
	jl_queue_close(q);
	jetl_close(ctx);
	atomic_store(&w->running, 0);
	return NULL;
}

int jl_wthread_start(jl_wthread *w)
{
	atomic_store(&w->running, 1);
	if (pthread_create(&w->tid, NULL, thread_main, w) != 0) {
		atomic_store(&w->running, 0);
		return -1;
	}
	return 0;
}

int jl_wthread_join(jl_wthread *w)
{
	pthread_join(w->tid, NULL);
	return w->rc;
}
