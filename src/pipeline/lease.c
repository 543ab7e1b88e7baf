/* lease.c - a running job's lease (the heartbeat thread of the process
 * that drives it) and the sweep that ends the jobs whose process stopped
 * and recovers the raw rows they left pending.
 *
 * Why a thread: the calling thread may sit for minutes in one Jira call
 * (429 with a long Retry-After, a slow page) or in a long COPY; a heartbeat
 * riding on its callbacks would let a live job expire. The thread has its
 * own connection, so it never touches the context's. It dies with the
 * process, which is the point: a SIGKILLed extract stops renewing. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "../store/db.h"
#include "../store/jobs.h"
#include "../store/migrate.h"
#include "transform_batch.h"

int jl_lease_seconds(void)
{
	const char *e = getenv("JETL_LEASE_SECONDS");
	int s = e ? atoi(e) : 0;

	if (s <= 0)
		return JL_LEASE_SECONDS_DEFAULT;
	return s < 2 ? 2 : s;
}

static void *lease_main(void *arg)
{
	jl_lease *l = arg;
	PGconn *pg = NULL;
	/* Six renewals per lease: a few lost to a database restart still
	 * leave the lease alive. */
	int every_ms = l->seconds * 1000 / 6;
	char err[512];

	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		struct timespec dl;

		pthread_mutex_unlock(&l->mu);
		if (!pg || jl_store_conn_lost(pg)) {
			if (pg)
				PQfinish(pg);
			pg = jl_store_connect(l->conninfo, err, sizeof(err));
		}
		if (pg && jl_jobs_renew(pg, l->job_id, l->seconds, err, sizeof(err)) < 0 && jl_store_conn_lost(pg)) {
			PQfinish(pg);
			pg = NULL;  /* reconnect on the next beat */
		}
		pthread_mutex_lock(&l->mu);
		jl_deadline_ms(&dl, every_ms);
		while (!l->stop && pthread_cond_timedwait(&l->cv, &l->mu, &dl) == 0)
			;
	}
	pthread_mutex_unlock(&l->mu);
	if (pg)
		PQfinish(pg);
	return NULL;
}

int jl_lease_start(jl_lease *l, jetl_ctx *ctx, int64_t job_id)
{
	pthread_condattr_t a;
	char err[512];

	memset(l, 0, sizeof(*l));
	l->job_id = job_id;
	l->seconds = jl_lease_seconds();
	l->conninfo = ctx->db ? strdup(ctx->db) : NULL;
	if (ctx->db && !l->conninfo)
		return jl_fail(ctx, JETL_ENOMEM, "lease: out of memory");
	/* The first lease on the caller's connection: the job is leased
	 * before this returns, whatever the thread's connection does. */
	if (jl_jobs_renew(ctx->pg, job_id, l->seconds, err, sizeof(err)) < 0) {
		free(l->conninfo);
		l->conninfo = NULL;
		return jl_fail(ctx, JETL_EDB, "%s", err);
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &a);
	pthread_condattr_destroy(&a);
	if (pthread_create(&l->tid, NULL, lease_main, l) != 0) {
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
		free(l->conninfo);
		l->conninfo = NULL;
		return jl_fail(ctx, JETL_ERROR, "lease: cannot start the heartbeat thread");
	}
	l->started = 1;
	return JETL_OK;
}

void jl_lease_stop(jl_lease *l)
{
	if (!l->started)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = 1;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->tid, NULL);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l->conninfo);
	l->conninfo = NULL;
	l->started = 0;
}

/* Transform one orphan here, on the context's connection, in its tenant. */
static int transform_here(jetl_ctx *ctx, const jl_orphan *o)
{
	int tenant = ctx->opts.tenant_id, integration = ctx->opts.integration_id, rc;

	ctx->opts.tenant_id = o->tenant;
	ctx->opts.integration_id = o->integration;
	rc = jl_transform_raw_ctx(ctx, o->raw_id, NULL);
	ctx->opts.tenant_id = tenant;
	ctx->opts.integration_id = integration;
	/* A row that fails for its data is marked failed with its error:
	 * handled, like a worker would. */
	return rc == JETL_OK || rc == JETL_EDATA || rc == JETL_ENOENT ? JETL_OK : rc;
}

int jl_sweep(jetl_ctx *ctx, int all, const char *queue_url, int64_t *ended, int64_t *recovered)
{
	jl_queue *pub = NULL;
	jl_orphan *rows = NULL;
	size_t n = 0, k = 0;
	int64_t e = 0, rec = 0;
	char err[512];
	int rc = JETL_OK;

	if (ended)
		*ended = 0;
	if (recovered)
		*recovered = 0;
	if (jl_jobs_sweep_expired(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, all, &e,
			err, sizeof(err)) < 0)
		return jl_fail(ctx, JETL_EDB, "sweep: %s", err);
	if (e)
		jl_log(ctx, JETL_LOG_WARNING, "sweep: %lld running job(s) lost their process (lease expired): marked failed",
			(long long)e);
	if (jl_jobs_claim_orphans(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, all,
			jl_lease_seconds(), &rows, &n, err, sizeof(err)) < 0)
		return jl_fail(ctx, JETL_EDB, "sweep: %s", err);
	while (k < n && rc == JETL_OK) {
		int64_t job = rows[k].job_id, done = 0;

		for (; k < n && rows[k].job_id == job && rc == JETL_OK; k++) {
			const jl_orphan *o = &rows[k];

			if (!o->raw_id)
				continue;
			if (queue_url && !pub && (rc = jl_queue_open(&pub, queue_url, err, sizeof(err))) != JETL_OK) {
				rc = jl_fail(ctx, rc, "sweep: %s", err);
				break;
			}
			if (pub) {
				char *msg = jl_msg_transform(o->tenant, o->integration, o->job_id, o->raw_id);

				rc = msg ? jl_queue_publish(pub, JL_QUEUE_TRANSFORM, msg, strlen(msg)) : JETL_ENOMEM;
				free(msg);
				if (rc != JETL_OK)
					rc = jl_fail(ctx, rc, "sweep: %s", rc == JETL_ENOMEM ? "out of memory" : jl_queue_error(pub));
			} else {
				rc = transform_here(ctx, o);
			}
			if (rc == JETL_OK)
				done++;
		}
		if (rc != JETL_OK)
			break;  /* the claim runs out and a later sweep tries again */
		if (jl_jobs_orphans_done(ctx->pg, job, done, queue_url ? "re-queued" : "transformed", err, sizeof(err)) < 0) {
			rc = jl_fail(ctx, JETL_EDB, "sweep: %s", err);
			break;
		}
		if (done)
			jl_log(ctx, JETL_LOG_INFO, "sweep: job %lld stopped with %lld raw row(s) pending: %s",
				(long long)job, (long long)done, queue_url ? "re-queued" : "transformed");
		rec += done;
	}
	free(rows);
	jl_queue_close(pub);
	if (ended)
		*ended = e;
	if (recovered)
		*recovered = rec;
	return rc;
}

int jetl_job_sweep(jetl_ctx *ctx, int64_t *count)
{
	char err[512];
	int rc;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (count)
		*count = 0;
	if (!ctx->pg)
		return jl_fail(ctx, JETL_EDBCONN, "jetl_job_sweep: no database connection");
	if ((rc = jl_store_schema_check(ctx->pg, err, sizeof(err))) != JETL_OK)
		return jl_fail(ctx, rc, "%s", err);
	return jl_sweep(ctx, 0, ctx->queue_url, count, NULL);
}
