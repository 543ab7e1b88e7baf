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
#include "../store/claims.h"
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
		if (pg && (l->project ? jl_claims_renew(pg, l->job_id, l->project, l->seconds, err, sizeof(err)) :
				jl_jobs_renew(pg, l->job_id, l->seconds, err, sizeof(err))) < 0 && jl_store_conn_lost(pg)) {
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

static int lease_thread(jl_lease *l, jetl_ctx *ctx)
{
	pthread_condattr_t a;

	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &a);
	pthread_condattr_destroy(&a);
	if (pthread_create(&l->tid, NULL, lease_main, l) != 0) {
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
		free(l->conninfo);
		free(l->project);
		l->conninfo = l->project = NULL;
		return jl_fail(ctx, JETL_ERROR, "lease: cannot start the heartbeat thread");
	}
	l->started = 1;
	return JETL_OK;
}

int jl_lease_start(jl_lease *l, jetl_ctx *ctx, int64_t job_id)
{
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
	return lease_thread(l, ctx);
}

int jl_lease_start_claim(jl_lease *l, jetl_ctx *ctx, int64_t job_id, const char *project)
{
	memset(l, 0, sizeof(*l));
	l->job_id = job_id;
	l->seconds = jl_lease_seconds();
	l->conninfo = ctx->db ? strdup(ctx->db) : NULL;
	l->project = strdup(project);
	if ((ctx->db && !l->conninfo) || !l->project) {
		free(l->conninfo);
		free(l->project);
		l->conninfo = l->project = NULL;
		return jl_fail(ctx, JETL_ENOMEM, "lease: out of memory");
	}
	return lease_thread(l, ctx);
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
	free(l->project);
	l->conninfo = l->project = NULL;
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

/* The sweep's publisher, on the deployment's transform queue. */
static int sweep_publisher(jetl_ctx *ctx, const char *queue_url, jl_queue **pub)
{
	char err[512];
	int rc = jl_deployment_load(ctx);

	if (rc == JETL_OK && (rc = jl_queue_open(pub, queue_url, err, sizeof(err))) != JETL_OK)
		return jl_fail(ctx, rc, "sweep: %s", err);
	if (rc == JETL_OK && (rc = jl_queue_declare(*pub, ctx->q_transform)) != JETL_OK)
		rc = jl_fail(ctx, rc, "sweep: %s", jl_queue_error(*pub));
	return rc;
}

/* Publish one lost project again: its extract message (from the job's
 * params) and a transform message per raw row it had stored but not seen
 * transformed (its message may never have been sent). */
static int republish(jetl_ctx *ctx, jl_queue *pub, const jl_claim_lost *c)
{
	json_t *p = json_loads(c->params, 0, NULL);
	char *msg = jl_msg_extract(ctx->deployment, c->tenant, c->integration, c->job_id, c->project,
		json_is_true(json_object_get(p, "full")), json_string_value(json_object_get(p, "jql")),
		!json_is_false(json_object_get(p, "dev_status")), json_is_true(json_object_get(p, "allow_mass_delete")),
		json_string_value(json_object_get(p, "types")));
	int rc = msg ? jl_queue_publish(pub, ctx->q_extract, msg, strlen(msg)) : JETL_ENOMEM;

	free(msg);
	json_decref(p);
	for (size_t k = 0; rc == JETL_OK && k < c->nraw; k++) {
		msg = jl_msg_transform(ctx->deployment, c->tenant, c->integration, c->job_id, c->raw_ids[k]);
		rc = msg ? jl_queue_publish(pub, ctx->q_transform, msg, strlen(msg)) : JETL_ENOMEM;
		free(msg);
	}
	return rc;
}

/* The distributed projects whose worker stopped (its claim's lease ran
 * out while the job runs): published again for another worker. Needs a
 * queue; an in-process sweeper leaves them to the workers' sweeps. */
static int sweep_lost_projects(jetl_ctx *ctx, int all, const char *queue_url)
{
	jl_claim_lost *rows = NULL;
	jl_queue *pub = NULL;
	size_t n = 0;
	char err[512];
	int rc;

	if (!queue_url)
		return JETL_OK;
	rc = jl_claims_sweep(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, all, jl_lease_seconds(),
		&rows, &n, err, sizeof(err));
	if (rc < 0)
		return jl_fail(ctx, rc, "sweep: %s", err);
	if (n && (rc = sweep_publisher(ctx, queue_url, &pub)) == JETL_OK &&
	    (rc = jl_queue_declare(pub, ctx->q_extract)) != JETL_OK)
		rc = jl_fail(ctx, rc, "sweep: %s", jl_queue_error(pub));
	for (size_t k = 0; rc == JETL_OK && k < n; k++) {
		if ((rc = republish(ctx, pub, &rows[k])) != JETL_OK) {
			rc = jl_fail(ctx, rc, "sweep: %s", rc == JETL_ENOMEM ? "out of memory" : jl_queue_error(pub));
			break;  /* the sweeper's claim runs out and a later sweep tries again */
		}
		if ((rc = jl_claims_requeued(ctx->pg, &rows[k], err, sizeof(err))) < 0) {
			rc = jl_fail(ctx, rc, "sweep: %s", err);
			break;
		}
		jl_log(ctx, JETL_LOG_WARNING, "sweep: job %lld: the worker extracting project %s stopped (no heartbeat):"
			" project published again with %zu pending raw row(s)", (long long)rows[k].job_id,
			rows[k].project, rows[k].nraw);
	}
	jl_queue_close(pub);
	jl_claims_lost_free(rows, n);
	return rc;
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
			if (queue_url && !pub && (rc = sweep_publisher(ctx, queue_url, &pub)) != JETL_OK)
				break;
			if (pub) {
				char *msg = jl_msg_transform(ctx->deployment, o->tenant, o->integration, o->job_id, o->raw_id);

				rc = msg ? jl_queue_publish(pub, ctx->q_transform, msg, strlen(msg)) : JETL_ENOMEM;
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
	if (rc == JETL_OK)
		rc = sweep_lost_projects(ctx, all, queue_url);
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
