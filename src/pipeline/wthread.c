/* wthread.c - one consumer thread: its own database connection (a cloned
 * context) and its own queue handle; transforms raw rows (and, when asked,
 * extracts projects), acking each message only after its commit.
 *
 * Transforms are pipelined: while the thread parses raw row N, its own
 * connection already reads row N+1 and the writer thread (twriter.c, a
 * second connection) commits row N-1. So PostgreSQL's reads and COPYs run
 * beside the JSON work instead of after it. When the writer is the slower
 * side, the rows transformed while it works go to it together (up to
 * JL_LOAD_GROUP_MAX), so at most 2 * JL_LOAD_GROUP_MAX + 1 rows are held. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "twriter.h"
#include "../store/claims.h"
#include "../store/db.h"
#include "../store/jobs.h"
#include "../store/load.h"
#include "../store/raw_insert.h"

#define POLL_MS 200

static int open_ctx(jl_wthread *w, jetl_ctx **out)
{
	jetl_options o = w->parent->opts;
	int rc;

	o.log_level = w->parent->opts.log_level;
	rc = jetl_open_err(out, &o, w->err, sizeof(w->err));
	return rc;
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

/* Defined in extract.c: a distributed project's claim, and its extraction. */
int jl_extract_take(jetl_ctx *ctx, json_t *body);
int jl_extract_from_message(jetl_ctx *ctx, json_t *body, int claimed);

static void handle_extract(jl_wthread *w, jetl_ctx *ctx, jl_queue *q, jl_queue_msg *m, json_t *body)
{
	double t0;
	int rc;

	ctx->opts.tenant_id = (int)json_integer_value(json_object_get(body, "tenant_id"));
	ctx->opts.integration_id = (int)json_integer_value(json_object_get(body, "integration_id"));
	/* The project's claim is leased first, then the message acked: an
	 * extraction takes longer than the AMQP heartbeat window of a busy
	 * consumer, so a late ack would be refused and the project extracted
	 * twice. A worker that dies mid-run stops renewing the lease, and the
	 * sweep publishes the project again (lease.c). */
	rc = jl_extract_take(ctx, body);
	if (rc < 0) {
		char keep[sizeof(ctx->err)];

		snprintf(keep, sizeof(keep), "%s", jetl_last_error(ctx));
		jl_log(ctx, JETL_LOG_WARNING, "worker: %s: will retry", keep);
		jl_queue_reject(q, m, 1);
		usleep(500000);
		return;
	}
	jl_queue_ack(q, m);
	if (rc == JL_CLAIM_SKIP)
		return;
	t0 = jl_now();
	jl_log(ctx, JETL_LOG_INFO, "worker: job %lld: extracting project %s",
		(long long)json_integer_value(json_object_get(body, "job_id")),
		json_string_value(json_object_get(body, "project_key")));
	rc = jl_extract_from_message(ctx, body, rc == JL_CLAIM_TAKEN);
	jl_log(ctx, JETL_LOG_INFO, "worker: job %lld: project %s %s in %.1f s",
		(long long)json_integer_value(json_object_get(body, "job_id")),
		json_string_value(json_object_get(body, "project_key")),
		rc == JETL_OK ? "extracted" : "failed", jl_now() - t0);
	atomic_fetch_add(&w->extracted, 1);
}

/*
 * A message that names another deployment (another database sharing the
 * broker: a restored copy of this one, a message moved by hand) is never
 * acted on here: its raw row or job id means another row in this database.
 * It goes to its owner's queue (declared if its workers never ran: it waits
 * there for them), then is acked here; counted and logged. When that
 * publish fails it is requeued, after a pause, and tried again.
 */
static int not_ours(jl_wthread *w, jetl_ctx *ctx, jl_queue *q, jl_queue_msg *m, const json_t *body)
{
	const char *id, *type = json_string_value(json_object_get(body, "type"));
	char t[48], e[48], err[512];
	const char *to;
	int rc = JETL_OK;

	if (!w->deployment || !jl_deployment_of(body, &id) || strcmp(id, w->deployment) == 0)
		return 0;
	jl_queue_names(id, t, e);
	to = type && strcmp(type, JL_EXTRACT_TYPE) == 0 ? e : t;
	if (!w->fwd && (rc = jl_queue_open(&w->fwd, w->queue_url, err, sizeof(err))) != JETL_OK)
		jl_log(ctx, JETL_LOG_WARNING, "worker: %s", err);
	if (rc == JETL_OK && ((rc = jl_queue_declare(w->fwd, to)) != JETL_OK ||
			      (rc = jl_queue_publish(w->fwd, to, m->body, m->len)) != JETL_OK))
		jl_log(ctx, JETL_LOG_WARNING, "worker: %s", jl_queue_error(w->fwd));
	if (rc != JETL_OK) {
		jl_queue_reject(q, m, 1);
		usleep(500000);
		return 1;
	}
	jl_queue_ack(q, m);
	atomic_fetch_add(&w->foreign, 1);
	jl_log(ctx, JETL_LOG_WARNING, "worker: a message of deployment %.8s (job %lld, raw row %lld), not this "
		"database's %.8s: not acted on, passed to its queue %s", id,
		(long long)json_integer_value(json_object_get(body, "job_id")),
		(long long)json_integer_value(json_object_get(body, "raw_id")), w->deployment, to);
	return 1;
}

static void handle(jl_wthread *w, jetl_ctx **ctx, jl_queue *q, jl_queue_msg *m)
{
	json_error_t je;
	json_t *body = json_loadb(m->body, m->len, 0, &je);
	const char *type = json_string_value(json_object_get(body, "type"));

	if (atomic_load(&w->discard)) {
		jl_queue_ack(q, m);
	} else if (not_ours(w, *ctx, q, m, body)) {
		/* passed on */
		jl_queue_ack(q, m);
	} else if (type && strcmp(type, JL_EXTRACT_TYPE) == 0 && json_object_get(body, "project_key")) {
		handle_extract(w, *ctx, q, m, body);
	} else {
		jl_log(*ctx, JETL_LOG_ERROR, "worker: unreadable message (%.80s): dead-lettered", m->body);
		jl_queue_reject(q, m, 0);
		atomic_fetch_add(&w->dead, 1);
	}
	json_decref(body);
}

/* The raw row a transform message names, or 0 when it is not one. Two
 * shapes: jetl's ({"type": JL_RAW_TYPE, "raw_id": N, "job_id": J, ...})
 * and the seed system's ({"tenant_id": T, "integration_id": I,
 * "extraction_id": N}: the raw row's id, its job read from the row). Both
 * ids given must agree. */
static int64_t transform_raw_id(json_t *body)
{
	const char *type = json_string_value(json_object_get(body, "type"));
	json_t *raw = json_object_get(body, "raw_id"), *ext = json_object_get(body, "extraction_id");

	if (!json_is_object(body) || (type && strcmp(type, JL_RAW_TYPE) != 0) ||
	    !json_is_integer(json_object_get(body, "tenant_id")) ||
	    !json_is_integer(json_object_get(body, "integration_id")))
		return 0;
	if (!type && !ext)
		return 0;   /* neither shape: an untyped message without extraction_id */
	if (raw && ext && (!json_is_integer(raw) || !json_equal(raw, ext)))
		return 0;
	raw = raw ? raw : ext;
	return json_is_integer(raw) && json_integer_value(raw) > 0 ? json_integer_value(raw) : 0;
}

static int is_transform(const jl_queue_msg *m, json_t **body)
{
	json_error_t je;

	*body = json_loadb(m->body, m->len, 0, &je);
	return transform_raw_id(*body) > 0;
}

/* A transform message's job; takes the message over (m is zeroed). */
static jl_tjob *job_new(jl_queue_msg *m, json_t *body)
{
	jl_tjob *job = calloc(1, sizeof(*job));

	if (!job)
		return NULL;
	job->msg = *m;
	memset(m, 0, sizeof(*m));
	job->raw_id = transform_raw_id(body);
	job->job_id = json_integer_value(json_object_get(body, "job_id"));
	job->started = jl_now();
	jl_tb_row_init(&job->row, (int)json_integer_value(json_object_get(body, "tenant_id")),
		(int)json_integer_value(json_object_get(body, "integration_id")));
	return job;
}

/* How long a database failure that keeps coming back (a statement timeout
 * set on the role, a lock that always times out) is retried before the
 * row is given up: $JETL_DB_RETRY_SECONDS, default 120 s (longer than a
 * restart or a failover, which jl_db_back waits 60 s for). */
#define DB_RETRY_SECONDS_DEFAULT 120

static double db_retry_seconds(void)
{
	const char *e = getenv("JETL_DB_RETRY_SECONDS");
	int s = e ? atoi(e) : 0;

	return s > 0 ? s : DB_RETRY_SECONDS_DEFAULT;
}

/* A database failure of job's row that did not clear for db_retry_seconds:
 * in-process, the thread stops with the cause (the extraction fails the job
 * with it); a worker marks the row failed with the cause and lets its job
 * end (failed, naming the rows), then dead-letters the message. When even
 * that is refused, the message goes back: nothing is dropped. */
static void give_up(jl_wthread *w, jetl_ctx *ctx, jl_queue *q, jl_tjob *job)
{
	char why[512], err[512];

	snprintf(why, sizeof(why), "database failure for %.0f s, gave up: %.400s", jl_now() - w->db_failing_since,
		job->row.err);
	jl_log(ctx, JETL_LOG_ERROR, "worker: job %lld: raw row %lld: %s", (long long)job->job_id,
		(long long)job->raw_id, why);
	if (w->producer_done) {
		w->rc = job->rc;
		snprintf(w->err, sizeof(w->err), "raw row %lld: %.470s", (long long)job->raw_id, why);
		jl_queue_reject(q, &job->msg, 1);
		return;
	}
	if (jl_raw_mark_failed(ctx->pg, job->row.tenant, job->row.integration, job->raw_id, why, err, sizeof(err)) < 0) {
		jl_log(ctx, JETL_LOG_ERROR, "worker: raw row %lld: cannot record the failure (%s): will retry",
			(long long)job->raw_id, err);
		jl_queue_reject(q, &job->msg, 1);
		return;
	}
	jl_jobs_try_finish(ctx->pg, job->job_id, NULL, 0, err, sizeof(err));
	jl_queue_reject(q, &job->msg, 0);
	atomic_fetch_add(&w->failed, 1);
	atomic_fetch_add(&w->dead, 1);
	w->db_failing_since = 0;
}

/* The outcome of a job: ack, requeue or dead-letter its message. */
static void complete(jl_wthread *w, jetl_ctx *ctx, jl_queue *q, jl_tjob *job)
{
	int transient = job->rc != JETL_OK && job->rc != JETL_EDATA && job->rc != JETL_ENOENT;

	if (!transient)
		w->db_failing_since = 0;  /* the database answered */
	else if (w->db_failing_since == 0)
		w->db_failing_since = jl_now();
	if (transient && jl_now() - w->db_failing_since >= db_retry_seconds()) {
		give_up(w, ctx, q, job);
		jl_tjob_free(job);
		return;
	}
	switch (job->rc) {
	case JETL_OK:
		jl_queue_ack(q, &job->msg);
		/* Which row of which job, and how long it took (issue 16). */
		jl_log(ctx, JETL_LOG_INFO, "worker: job %lld: %s%sraw row %lld transformed: %lld work items, "
			"%lld changelog items, %lld dev status rows in %.2f s", (long long)job->job_id,
			job->row.project, *job->row.project ? " " : "",
			(long long)job->raw_id, (long long)job->counts.work_items,
			(long long)job->counts.changelog_items, (long long)job->counts.dev_status,
			jl_now() - job->started);
		jl_log(ctx, JETL_LOG_DEBUG, "Successfully processed extraction %lld", (long long)job->raw_id);
		atomic_fetch_add(&w->transformed, 1);
		atomic_fetch_add(&w->items, job->counts.work_items);
		break;
	case JETL_EDATA:
		/* The row is marked failed with its error. Bounded redeliveries,
		 * then the dead-letter queue keeps the message for inspection. */
		atomic_fetch_add(&w->failed, 1);
		if (job->attempts >= w->max_deliveries) {
			jl_log(ctx, JETL_LOG_ERROR, "worker: raw row %lld dead-lettered after %d attempts: "
				"transform: raw row %lld: %s", (long long)job->raw_id, w->max_deliveries,
				(long long)job->raw_id, job->row.err);
			jl_queue_reject(q, &job->msg, 0);
			atomic_fetch_add(&w->dead, 1);
		} else {
			jl_queue_reject(q, &job->msg, 1);
		}
		break;
	case JETL_ENOENT:
		jl_log(ctx, JETL_LOG_ERROR, "worker: %s: dead-lettered", job->row.err);
		jl_queue_reject(q, &job->msg, 0);
		atomic_fetch_add(&w->dead, 1);
		break;
	default:
		/* Database trouble: give the message back; nothing was committed. */
		jl_log(ctx, JETL_LOG_WARNING, "worker: raw row %lld: transform: raw row %lld: %s: will retry",
			(long long)job->raw_id, (long long)job->raw_id, job->row.err);
		jl_queue_reject(q, &job->msg, 1);
		if (!job->reconnected)
			usleep(200000);
		break;
	}
	jl_tjob_free(job);
}

/* Start reading a job's raw row on the consumer's connection; on failure
 * the job completes at once (requeued). Returns the job in flight or NULL. */
static jl_tjob *fetch_ahead(jl_wthread *w, jetl_ctx **ctx, jl_queue *q, jl_tjob *job)
{
	if ((job->rc = jl_load_fetch_send((*ctx)->pg, job->row.tenant, job->row.integration, job->raw_id,
			job->row.err, sizeof(job->row.err))) == 0)
		return job;
	complete(w, *ctx, q, job);
	if (jl_store_conn_lost((*ctx)->pg))
		reconnect(w, ctx);
	return NULL;
}

/* The consumer's pipeline state. */
typedef struct tpipe {
	jl_twriter *wr;
	jl_tjob *ahead;           /* its raw row is being read on ctx->pg */
	jl_tjob *group, **tail;   /* transformed, not handed over yet (see step) */
	int ngroup;
	jl_queue_msg other;       /* a message of another kind, met while busy */
	int has_other;
} tpipe;

/* A message taken while the pipeline runs: a transform is fetched ahead,
 * anything else waits in p->other until the rows before it are written. */
static void take(jl_wthread *w, jetl_ctx **ctx, jl_queue *q, tpipe *p, jl_queue_msg *m)
{
	json_t *body = NULL;
	int transform;

	if (atomic_load(&w->discard)) {
		jl_queue_ack(q, m);
		jl_queue_msg_free(m);
	} else if ((transform = is_transform(m, &body)) != 0 && not_ours(w, *ctx, q, m, body)) {
		jl_queue_msg_free(m);
	} else if (transform) {
		jl_tjob *job = job_new(m, body);

		if (!job) {
			jl_queue_reject(q, m, 1);
			jl_queue_msg_free(m);
		} else {
			jl_log(*ctx, JETL_LOG_DEBUG, "worker: job %lld: raw row %lld taken", (long long)job->job_id,
				(long long)job->raw_id);
			p->ahead = fetch_ahead(w, ctx, q, job);
		}
	} else {
		p->other = *m;
		p->has_other = 1;
	}
	json_decref(body);
}

/* Complete every job of a list the writer handed back. */
static void complete_all(jl_wthread *w, jetl_ctx *ctx, jl_queue *q, jl_tjob *done)
{
	while (done) {
		jl_tjob *next = done->next;

		done->next = NULL;
		complete(w, ctx, q, done);
		done = next;
	}
}

/* Wait for the writer's current jobs, if any, and complete them. */
static void drain_writer(jl_wthread *w, jetl_ctx *ctx, jl_queue *q, tpipe *p)
{
	complete_all(w, ctx, q, jl_twriter_collect(p->wr, -1));
}

/* Hand the transformed jobs kept so far to the writer, once it is done with
 * the ones before. */
static void flush_group(jl_wthread *w, jetl_ctx *ctx, jl_queue *q, tpipe *p)
{
	if (!p->group)
		return;
	drain_writer(w, ctx, q, p);
	jl_twriter_submit(p->wr, p->group);
	p->group = NULL;
	p->tail = &p->group;
	p->ngroup = 0;
}

/* One row through the pipeline: read the row fetched ahead, fetch the next
 * one, transform, hand the rows to the writer. */
static void step(jl_wthread *w, jetl_ctx **ctx, jl_queue *q, tpipe *p)
{
	jl_tjob *job = p->ahead;
	jl_queue_msg m;

	p->ahead = NULL;
	job->rc = jl_tb_fetch_recv(*ctx, job->raw_id, &job->row);
	if (job->rc == JETL_OK && job->row.job_id > 0)
		job->job_id = job->row.job_id;  /* a seed-shaped message names no job */
	jl_log(*ctx, JETL_LOG_DEBUG, "Processing issues, changelogs, and dev status for extraction %lld",
		(long long)job->raw_id);
	if (job->rc != JETL_OK) {
		int lost = jl_store_conn_lost((*ctx)->pg);

		/* No raw row, or the read failed: nothing to write or mark. */
		complete(w, *ctx, q, job);
		if (lost)
			reconnect(w, ctx);
		return;
	}
	if (!p->has_other && !atomic_load(w->stop) && jl_queue_next(q, &m, NULL, 0) == JETL_OK)
		take(w, ctx, q, p, &m);
	job->rc = jl_tb_transform(*ctx, job->raw_id, &job->row);
	*p->tail = job;
	p->tail = &job->next;
	p->ngroup++;
	/* While the writer is still busy and the next row is on its way,
	 * keep this one: the writer then takes the rows together, in one
	 * transaction when they are first loads (twriter.h). 5,000 small
	 * issues, 50 raw rows: ~30 ms of PostgreSQL's commits and two round
	 * trips per row saved (a psql replay of the same COPYs: 100 issues a
	 * transaction 507 ms, 200 a transaction 478 ms). */
	if (job->rc == JETL_OK && p->ahead && p->ngroup < JL_LOAD_GROUP_MAX && jl_twriter_busy(p->wr))
		return;
	flush_group(w, *ctx, q, p);
}

/* The thread's context, transform writer and consuming queue. JETL_OK, or
 * a status with w->err set. */
static int thread_setup(jl_wthread *w, jetl_ctx **ctx, jl_queue **q, tpipe *p)
{
	int rc = open_ctx(w, ctx);

	if (rc == JETL_OK)
		rc = jl_twriter_start(&p->wr, &w->parent->opts, w->max_deliveries, w->err, sizeof(w->err));
	if (rc == JETL_OK)
		rc = jl_queue_open(q, w->queue_url, w->err, sizeof(w->err));
	/* The deployment's queues are made by whoever comes first, publisher
	 * or consumer (re-declared by the handle after each reconnect). */
	for (size_t i = 0; rc == JETL_OK && i < w->nqueues; i++)
		if ((rc = jl_queue_declare(*q, w->queues[i])) != JETL_OK)
			jl_one_line(w->err, sizeof(w->err), jl_queue_error(*q));
	if (rc == JETL_OK && (rc = jl_queue_consume(*q, w->queues, w->nqueues, w->prefetch)) != JETL_OK)
		jl_one_line(w->err, sizeof(w->err), jl_queue_error(*q));
	return rc;
}

/* Nothing came within the poll: whether the thread is done (an in-process
 * run whose producer finished with the queue empty, or --until-idle past
 * its idle time). */
static int idle_done(const jl_wthread *w, jl_queue *q, double idle_since)
{
	/* depth is read after the flag, so a message published just before
	 * the flag is still seen */
	if (w->producer_done && atomic_load(w->producer_done) && jl_queue_depth(q, w->queues[0]) == 0)
		return 1;
	return w->until_idle && (jl_now() - idle_since) * 1000 >= w->idle_ms;
}

/* How long to wait for a message: POLL_MS, or less when --until-idle's
 * idle time ends sooner, so the thread leaves when it is due and not up to
 * a whole poll later (a 300 ms idle time took 400 ms with fixed polls). */
static int poll_ms(const jl_wthread *w, double idle_since)
{
	double left;

	if (!w->until_idle)
		return POLL_MS;
	left = w->idle_ms - (jl_now() - idle_since) * 1000;
	if (left >= POLL_MS)
		return POLL_MS;
	return left < 1 ? 1 : (int)left + 1;
}

/* Stopping: the row read ahead goes back to the queue untransformed; the
 * row being written is finished and acked. */
static void thread_teardown(jl_wthread *w, jetl_ctx *ctx, jl_queue *q, tpipe *p)
{
	if (p->ahead) {
		if (ctx)
			jl_tb_fetch_recv(ctx, p->ahead->raw_id, &p->ahead->row);
		jl_queue_reject(q, &p->ahead->msg, 1);
		jl_tjob_free(p->ahead);
	}
	if (p->has_other) {
		jl_queue_reject(q, &p->other, 1);
		jl_queue_msg_free(&p->other);
	}
	if (p->wr) {
		flush_group(w, ctx, q, p);
		drain_writer(w, ctx, q, p);
		jl_twriter_stop(p->wr);
	}
	jl_queue_close(q);
	jl_queue_close(w->fwd);
	w->fwd = NULL;
	jetl_close(ctx);
	atomic_store(&w->running, 0);
	if (w->exited)
		sem_post(w->exited);
}

static void *thread_main(void *arg)
{
	jl_wthread *w = arg;
	jetl_ctx *ctx = NULL;
	jl_queue *q = NULL;
	tpipe p;
	double idle_since = jl_now();
	int errors = 0;

	memset(&p, 0, sizeof(p));
	p.tail = &p.group;
	w->rc = thread_setup(w, &ctx, &q, &p);
	while (w->rc == JETL_OK && !atomic_load(w->stop)) {
		jl_queue_msg m;
		jl_tjob *done;
		int rc, busy;

		if (!ctx) {
			w->rc = JETL_EDBCONN;
			break;
		}
		if ((done = jl_twriter_collect(p.wr, 0)) != NULL) {
			complete_all(w, ctx, q, done);
			/* Idle time starts when the last row is committed, not
			 * when it was handed to the writer. */
			idle_since = jl_now();
		}
		if (p.ahead) {
			step(w, &ctx, q, &p);
			idle_since = jl_now();
			continue;
		}
		/* Nothing is on its way: what step kept goes to the writer. */
		flush_group(w, ctx, q, &p);
		if (p.has_other) {
			/* Extractions and unreadable messages run alone, after
			 * the rows taken before them are committed. */
			drain_writer(w, ctx, q, &p);
			handle(w, &ctx, q, &p.other);
			jl_queue_msg_free(&p.other);
			p.has_other = 0;
			idle_since = jl_now();
			continue;
		}
		busy = jl_twriter_busy(p.wr);
		rc = jl_queue_next(q, &m, NULL, busy ? 20 : poll_ms(w, idle_since));
		if (rc == JETL_ETIMEOUT) {
			if (!busy && idle_done(w, q, idle_since))
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
		take(w, &ctx, q, &p, &m);
		idle_since = jl_now();
	}
	thread_teardown(w, ctx, q, &p);
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

void jl_wthread_wait_exit(sem_t *exited, int ms)
{
	struct timespec dl;

	/* the monotonic deadline the condition waits use (a clock change
	 * cannot stretch it) */
	jl_deadline_ms(&dl, ms);
	(void)sem_clockwait(exited, CLOCK_MONOTONIC, &dl);
}

int jl_wthread_join(jl_wthread *w)
{
	pthread_join(w->tid, NULL);
	return w->rc;
}
