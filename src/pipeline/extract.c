/* extract.c - jetl_extract_project and jetl_extract: jobs around
 * jl_extract_one, transforms in-process or through the queue, waiting,
 * watermarks, cancellation. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "internal.h"
#include "integration.h"
#include "../model/issue_types.h"
#include "../store/claims.h"
#include "../store/db.h"
#include "../store/jobs.h"
#include "../store/migrate.h"
#include "../store/raw_insert.h"

int jetl_extract_options_init(jetl_extract_options *opts, unsigned int version)
{
	static const jetl_extract_options defaults = JETL_EXTRACT_OPTIONS_INIT;

	if (!opts)
		return JETL_EINVAL;
	if (version == 0 || version > JETL_EXTRACT_OPTIONS_VERSION)
		return JETL_EVERSION;
	/* an older caller's struct ends before the fields of later versions */
	memcpy(opts, &defaults, version >= 4 ? sizeof(defaults) : version == 3 ?
		offsetof(jetl_extract_options, types) : version == 2 ? offsetof(jetl_extract_options, wait_seconds) :
		offsetof(jetl_extract_options, allow_mass_delete));
	opts->version = version;
	return JETL_OK;
}

/* One job's state while this process drives it. */
struct job_run {
	jetl_ctx *ctx;
	const jetl_extract_options *opts;
	int64_t job_id;
	jl_jira *jira;
	char *tz, *dev_field;
	jl_queue *pub;
	char transform_queue[64];
	/* in-process transforms */
	int inproc;
	jl_wthread w;
	atomic_int w_stop, w_done;
	int w_started;
	jetl_extract_result totals;
	jl_jira_stats stats_sent;  /* Jira counters already in the job row's totals */
	jl_progress progress;
	jl_lease lease;            /* while this process holds the job */
	int catalog;               /* prepare() stores projects, issue types, statuses */
	jetl_extract_options row_opts; /* opts with the integration row's defaults */
	char row_jql[1024];
	int64_t busy_job;          /* JETL_EBUSY: the running job that holds a project */
	int worker;                /* a worker's run of one distributed project */
};

/* Before anything is written: the integration the context stands for (an
 * unknown or inactive one is JETL_ENOENT, naming it), and its row's
 * extraction defaults (JQL, dev status) where the caller gave none. */
static int integration_first(struct job_run *jr)
{
	int rc, dev = -1;

	/* read the row again: another process may have changed it since this
	 * context last ran a job (a service's context lives for days) */
	jr->ctx->conn_integration = 0;
	rc = jl_integration_resolve(jr->ctx);
	if (rc != JETL_OK)
		return rc;
	/* an older caller's struct ends before allow_mass_delete (version 1)
	 * or before wait_seconds (version 2) */
	jetl_extract_options_init(&jr->row_opts, JETL_EXTRACT_OPTIONS_VERSION);
	memcpy(&jr->row_opts, jr->opts, jr->opts->version >= 4 ? sizeof(jr->row_opts) :
		jr->opts->version == 3 ? offsetof(jetl_extract_options, types) :
		jr->opts->version == 2 ? offsetof(jetl_extract_options, wait_seconds) :
		offsetof(jetl_extract_options, allow_mass_delete));
	jr->row_opts.version = JETL_EXTRACT_OPTIONS_VERSION;
	jl_integration_extract_defaults(jr->ctx, jr->row_jql, sizeof(jr->row_jql), &dev);
	if (!jr->row_opts.jql && jr->row_jql[0])
		jr->row_opts.jql = jr->row_jql;
	if (dev == 0)
		jr->row_opts.dev_status = 0;
	jr->opts = &jr->row_opts;
	return JETL_OK;
}

static int check_common(jetl_ctx *ctx, const jetl_extract_options *opts)
{
	char err[512];
	int rc;

	if (opts && (opts->version == 0 || opts->version > JETL_EXTRACT_OPTIONS_VERSION))
		return jl_fail(ctx, JETL_EVERSION, "extract: options version %u is not supported", opts->version);
	/* before any job exists: a JQL that could widen the selection is a usage error */
	if (opts && jl_jql_check_extra(opts->jql, err, sizeof(err)))
		return jl_fail(ctx, JETL_EINVAL, "extract: %s", err);
	if (opts && opts->version >= 4 && jl_parts_parse(opts->types, &(unsigned){ 0 }, err, sizeof(err)) < 0)
		return jl_fail(ctx, JETL_EINVAL, "extract: --types: %s", err);
	rc = jl_store_schema_check(ctx->pg, err, sizeof(err));
	if (rc != JETL_OK)
		return jl_fail(ctx, rc, "%s", err);
	return JETL_OK;
}

/* How long a lost database connection is waited for (a PostgreSQL restart,
 * a failover) before the extraction gives up. */
#define DB_RECONNECT_MS 60000

int jl_db_back(jetl_ctx *ctx)
{
	double until = jl_now() + DB_RECONNECT_MS / 1000.0;

	if (!jl_store_conn_lost(ctx->pg))
		return 0;
	jl_log(ctx, JETL_LOG_WARNING, "extract: lost the database connection: reconnecting");
	while (jl_now() < until) {
		PQreset(ctx->pg);
		if (!jl_store_conn_lost(ctx->pg)) {
			jl_log(ctx, JETL_LOG_INFO, "extract: database connection back");
			return 1;
		}
		usleep(500000);
	}
	return 0;
}

/* The sweep at the start of each extraction: ends the jobs of this
 * tenant/integration whose process stopped and recovers their pending raw
 * rows (transformed here in-process, else re-queued), so that the census
 * below sees what they stored. A failure is only logged: the extraction
 * does not depend on it. */
static void sweep_first(jetl_ctx *ctx)
{
	char keep[sizeof(ctx->err)];

	if (jl_sweep(ctx, 0, ctx->queue_url, NULL, NULL) != JETL_OK) {
		snprintf(keep, sizeof(keep), "%s", jetl_last_error(ctx));
		jl_log(ctx, JETL_LOG_WARNING, "%s", keep);
		jl_clear_error(ctx);
	}
}

static char *job_params(const jetl_ctx *ctx, const char *const *keys, size_t n, const jetl_extract_options *o)
{
	json_t *p = json_object(), *a = json_array();
	char *s;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(keys[i]));
	json_object_set_new(p, "projects", a);
	json_object_set_new(p, "full", json_boolean(o->full));
	if (o->jql)
		json_object_set_new(p, "jql", json_string(o->jql));
	json_object_set_new(p, "distribute", json_boolean(o->distribute));
	/* what a worker re-publishing a lost project needs, and that the
	 * job's projects are claimed (claims.h) */
	json_object_set_new(p, "dev_status", json_boolean(o->dev_status));
	if (o->types)
		json_object_set_new(p, "types", json_string(o->types));
	json_object_set_new(p, "claims", json_true());
	/* Where the Jira came from: the caller's URL (option, configuration,
	 * JETL_JIRA_URL), whatever integration row exists or not, or the row. */
	json_object_set_new(p, "connection", json_string(ctx->jira_explicit ? "jira_url" : "integration"));
	if (o->allow_mass_delete)
		json_object_set_new(p, "allow_mass_delete", json_true());
	s = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	return s;
}

/* Open the publisher; without a queue URL, start the in-process consumer
 * that transforms while we keep fetching. */
static int start_queue(struct job_run *jr)
{
	jetl_ctx *ctx = jr->ctx;
	char err[512];
	int rc;

	jr->inproc = ctx->queue_url == NULL;
	if ((rc = jl_deployment_load(ctx)) != JETL_OK)
		return rc;
	if (jr->inproc)
		/* A private in-process queue per job: two contexts of one process
		 * (maybe on different databases) never see each other's rows. */
		snprintf(jr->transform_queue, sizeof(jr->transform_queue), "jetl.transform.job%" PRId64 ".%p",
			jr->job_id, (void *)jr);
	else
		snprintf(jr->transform_queue, sizeof(jr->transform_queue), "%s", ctx->q_transform);
	rc = jl_queue_open(&jr->pub, ctx->queue_url, err, sizeof(err));
	if (rc != JETL_OK)
		return jl_fail(ctx, rc, "%s", err);
	/* the deployment's queue, made by whoever comes first (publisher or
	 * worker): a message never waits for a queue that does not exist */
	if ((rc = jl_queue_declare(jr->pub, jr->transform_queue)) != JETL_OK)
		return jl_fail(ctx, rc, "%s", jl_queue_error(jr->pub));
	if (!jr->inproc)
		return JETL_OK;
	memset(&jr->w, 0, sizeof(jr->w));
	jr->w.parent = ctx;
	jr->w.queue_url = NULL;
	jr->w.queues[0] = jr->transform_queue;
	jr->w.nqueues = 1;
	jr->w.prefetch = 4;
	jr->w.max_deliveries = 1;
	jr->w.idle_ms = 0;
	jr->w.stop = &jr->w_stop;
	jr->w.deployment = ctx->deployment;
	jr->w.producer_done = &jr->w_done;
	if (jl_wthread_start(&jr->w) < 0)
		return jl_fail(ctx, JETL_ERROR, "extract: cannot start the transform thread");
	jr->w_started = 1;
	return JETL_OK;
}

/* The --wait deadline passed (opts->wait_seconds): say how things stand;
 * end_job marks the job failed with it. */
static int wait_deadline(struct job_run *jr, int64_t pending, int64_t total)
{
	return jl_fail(jr->ctx, JETL_ETIMEOUT, "extract: job %lld: waited %d s (the wait deadline): %lld of %lld "
		"raw row(s) still pending, no worker transformed them; their messages stay on %s (is a `jetl "
		"worker` of this database running?)", (long long)jr->job_id, jr->opts->wait_seconds,
		(long long)pending, (long long)total, jr->ctx->q_transform);
}

/*
 * With a queue: wait until the workers have transformed every raw row of
 * the job. When nothing moves for jl_republish_seconds() (a message lost,
 * or taken and dropped by a worker that was not this database's), the rows
 * still pending are published again (duplicates are harmless: transforms
 * are upserts); opts->wait_seconds bounds the whole wait.
 */
static int wait_workers(struct job_run *jr)
{
	jetl_ctx *ctx = jr->ctx;
	double t0 = jl_now(), moved = t0;
	int64_t seen = -1, requeued;
	int requeue_s = jl_republish_seconds();
	char err[512];

	for (;;) {
		int64_t pending, done, failed;
		int stop;

		if (jl_raw_counts(ctx->pg, jr->job_id, &pending, &done, &failed, err, sizeof(err)) < 0) {
			if (jl_db_back(ctx))
				continue;
			return jl_fail(ctx, JETL_EDB, "extract: waiting for the transforms: %s", err);
		}
		jr->totals.transformed = done;
		stop = jl_progress_emit(&jr->progress, JETL_PHASE_TRANSFORM, done + failed, done + failed + pending,
			NULL, pending == 0);
		/* Every row done: a cancel asked now comes too late. */
		if (pending == 0)
			return JETL_OK;
		if (stop)
			return JETL_ECANCELLED;
		if (done + failed != seen) {
			seen = done + failed;
			moved = jl_now();
		} else if (jl_now() - moved >= requeue_s) {
			if (jl_republish_stale(ctx, &jr->pub, jr->job_id, requeue_s, &requeued) != JETL_OK) {
				snprintf(err, sizeof(err), "%s", jetl_last_error(ctx));
				jl_log(ctx, JETL_LOG_WARNING, "extract: %s", err);
				jl_clear_error(ctx);
			}
			moved = jl_now();
		}
		if (jr->opts->wait_seconds > 0 && jl_now() - t0 >= jr->opts->wait_seconds)
			return wait_deadline(jr, pending, done + failed + pending);
		usleep(200000);
	}
}

/* Wait for the job's raw rows to be transformed, reporting progress on the
 * calling thread. A cancel here drops what is still queued (rows stay
 * 'pending', whole and re-transformable). */
static int wait_transforms(struct job_run *jr, int cancelled)
{
	jetl_ctx *ctx = jr->ctx;
	int64_t total = jr->totals.raw_rows;

	if (jr->inproc) {
		if (!jr->w_started)
			return JETL_OK;
		if (cancelled)
			atomic_store(&jr->w.discard, 1);
		atomic_store(&jr->w_done, 1);
		while (atomic_load(&jr->w.running)) {
			int64_t seen = atomic_load(&jr->w.transformed) + atomic_load(&jr->w.failed);

			/* A cancel asked once every row is transformed comes too
			 * late: the job is complete, and says so. */
			if (!cancelled && jl_progress_emit(&jr->progress, JETL_PHASE_TRANSFORM, seen, total, NULL, 0) &&
			    seen < total) {
				cancelled = 1;
				atomic_store(&jr->w.discard, 1);
			}
			usleep(50000);
		}
		jl_wthread_join(&jr->w);
		jr->w_started = 0;
		jr->totals.transformed = atomic_load(&jr->w.transformed);
		if (jr->w.rc != JETL_OK && !cancelled)
			return jl_fail(ctx, jr->w.rc, "transform thread: %s", jr->w.err);
		if (!cancelled)
			jl_progress_emit(&jr->progress, JETL_PHASE_TRANSFORM, jr->totals.transformed, total, NULL, 1);
		return cancelled ? JETL_ECANCELLED : JETL_OK;
	}
	return wait_workers(jr);
}

static void job_run_free(struct job_run *jr)
{
	jl_lease_stop(&jr->lease);
	if (jr->w_started) {
		atomic_store(&jr->w.discard, 1);
		atomic_store(&jr->w_stop, 1);
		jl_wthread_join(&jr->w);
	}
	jl_queue_close(jr->pub);
	jl_jira_free(jr->jira);
	free(jr->tz);
	free(jr->dev_field);
}

/* Run the extraction of one project inside a job (this process). */
static int run_project(struct job_run *jr, const char *project, int step)
{
	jl_extract_run run;
	int rc;

	memset(&run, 0, sizeof(run));
	run.ctx = jr->ctx;
	run.jira = jr->jira;
	run.job_id = jr->job_id;
	run.project = project;
	run.full = jr->opts->full;
	run.allow_mass_delete = jr->opts->allow_mass_delete;
	run.jql = jr->opts->jql;
	run.dev_status = jr->opts->dev_status;
	run.types = jr->opts->types;
	run.tz = jr->tz;
	run.dev_field = jr->dev_field;
	run.pub = jr->pub;
	run.transform_queue = jr->transform_queue;
	run.progress = &jr->progress;
	run.stats_sent = &jr->stats_sent;
	jl_progress_project(&jr->progress, project, step, 0);
	rc = jl_extract_one(&run);
	jr->totals.issues += run.issues;
	jr->totals.histories += run.histories;
	jr->totals.raw_rows += run.raw_rows;
	jr->totals.deleted += run.deleted;
	if (rc == JETL_OK)
		jl_log(jr->ctx, JETL_LOG_INFO, "Processed %lld issues for project %s", (long long)run.issues, project);
	/* The project's deletions and its last requests go to the job's
	 * totals; the answer says whether the job was cancelled meanwhile, and
	 * a cancelled job's watermark does not move. */
	if (jl_job_totals_extract(&run, 0, 0, 0, run.deleted, 0, run.deleted_refused) == JETL_ECANCELLED &&
	    rc == JETL_OK)
		rc = jl_fail(jr->ctx, JETL_ECANCELLED, "%s: job %lld cancelled", project, (long long)jr->job_id);
	if (rc != JETL_OK)
		return rc;
	/* Raw rows are committed: the watermark may move. Their transforms
	 * follow (and failures show on the job), but the data is not lost. */
	rc = jl_extract_commit_watermark(&run);
	if (rc == JETL_OK) {
		char err[512];
		if (jl_jobs_step_done(jr->ctx->pg, jr->job_id, project, jr->worker, err, sizeof(err)) < 0)
			rc = jl_fail(jr->ctx, JETL_EDB, "%s", err);
	}
	jl_progress_emit(&jr->progress, JETL_PHASE_QUEUE, run.raw_rows, run.raw_rows, NULL, 1);
	return rc;
}

/* Close the job according to how the run ended. */
static int end_job(struct job_run *jr, int rc)
{
	jetl_ctx *ctx = jr->ctx;
	char err[512], status[16] = "";

	/* The status must reach the table even after a database restart; if
	 * it cannot, the lease runs out and the next sweep ends the job. */
	if (jl_store_conn_lost(ctx->pg) && !jl_db_back(ctx))
		jl_log(ctx, JETL_LOG_ERROR, "extract: job %lld: no database to record how it ended",
			(long long)jr->job_id);

	if (rc == JETL_ECANCELLED) {
		jl_jobs_set_status(ctx->pg, jr->job_id, "cancelled", NULL, "cancelled by the caller", err, sizeof(err));
		if (!*jetl_last_error(ctx))
			jl_fail(ctx, JETL_ECANCELLED, "extract: cancelled");
		return JETL_ECANCELLED;
	}
	if (rc != JETL_OK) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", jetl_last_error(ctx));
		jl_jobs_set_status(ctx->pg, jr->job_id, "failed", msg, NULL, err, sizeof(err));
		return rc;
	}
	if (jl_jobs_try_finish(ctx->pg, jr->job_id, status, sizeof(status), err, sizeof(err)) < 0 &&
	    (!jl_db_back(ctx) || jl_jobs_try_finish(ctx->pg, jr->job_id, status, sizeof(status), err, sizeof(err)) < 0))
		return jl_fail(ctx, JETL_EDB, "%s", err);
	if (strcmp(status, "cancelled") == 0)  /* jetl_job_cancel while the rows were transformed */
		return jl_fail(ctx, JETL_ECANCELLED, "job %lld was cancelled", (long long)jr->job_id);
	if (strcmp(status, "failed") == 0) {
		jetl_job job = JETL_JOB_INIT;
		jl_jobs_get(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, jr->job_id, &job, err, sizeof(err));
		return jl_fail(ctx, JETL_EDATA, "job %lld: %s", (long long)jr->job_id, job.error);
	}
	if (strcmp(status, "finished") == 0)
		jl_progress_emit(&jr->progress, JETL_PHASE_DONE, jr->totals.issues, jr->totals.issues, "done", 1);
	return JETL_OK;
}

/* The job row and its projects' claims, in one transaction: JETL_EBUSY,
 * naming the job, when another live job holds one of the projects. */
static int create_job(struct job_run *jr, const char *params, int projects)
{
	jetl_ctx *ctx = jr->ctx;
	jl_claim_busy busy;
	char err[512];
	int rc;

	rc = jl_claims_create_job(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, JL_RAW_TYPE, params,
		projects, &jr->job_id, &busy, err, sizeof(err));
	if (rc < 0 && jl_db_back(ctx))
		rc = jl_claims_create_job(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, JL_RAW_TYPE,
			params, projects, &jr->job_id, &busy, err, sizeof(err));
	if (rc < 0)
		return jl_fail(ctx, rc == JETL_EDBCONN || rc == JETL_EDBRETRY ? rc : JETL_EDB, "%s", err);
	if (rc == 1) {
		jr->busy_job = busy.job_id;
		return jl_fail(ctx, JETL_EBUSY, "extract: project %s is being extracted by job %lld (running since %s)"
			" of tenant %d, integration %d: nothing started; wait for that job or cancel it",
			busy.project, (long long)busy.job_id, busy.since, ctx->opts.tenant_id, ctx->opts.integration_id);
	}
	return JETL_OK;
}

/* Whether keys[i] repeats an earlier key (claims are per project, case
 * blind: a distributed job publishes and counts each project once, or its
 * repeat would wait for a step nobody counts). */
static int is_repeat(const char *const *keys, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (strcasecmp(keys[k], keys[i]) == 0)
			return 1;
	return 0;
}

/* The job row first, so that a caller waiting for its id (a service's
 * trigger) has it at once: projects < 0 when they are still to be
 * discovered (jl_jobs_set_projects then). */
static int begin_job(struct job_run *jr, const char *const *keys, size_t n, int projects)
{
	jetl_ctx *ctx = jr->ctx;
	char err[512], *params = job_params(ctx, keys, n, jr->opts);
	int rc;

	for (size_t i = 0; jr->opts->distribute && i < n; i++)
		projects -= is_repeat(keys, i);
	if (!params)
		return jl_fail(ctx, JETL_ENOMEM, "extract: out of memory");
	rc = create_job(jr, params, projects);
	free(params);
	if (rc != JETL_OK)
		return rc;
	jl_progress_init(&jr->progress, ctx, jr->job_id, NULL, jr->opts->progress,
		jr->opts->progress_userdata, 0, projects > 0 ? projects : 0);
	/* Distributed jobs are held by the workers, project by project: no
	 * single process leases them. */
	if (!jr->opts->distribute && (rc = jl_lease_start(&jr->lease, ctx, jr->job_id)) != JETL_OK) {
		snprintf(err, sizeof(err), "%s", jetl_last_error(ctx));
		jl_jobs_set_status(ctx->pg, jr->job_id, "failed", err, NULL, err, sizeof(err));
		return rc;
	}
	/* the first event carries the job's id to the caller */
	if (jl_progress_emit(&jr->progress, JETL_PHASE_DISCOVER, 0, 0, "starting", 1))
		return end_job(jr, JETL_ECANCELLED);
	return JETL_OK;
}

/* Discover + queue set-up, shared by both entry points. */
static int prepare(struct job_run *jr)
{
	int rc;

	if (jl_progress_emit(&jr->progress, JETL_PHASE_DISCOVER, 0, 0, "discovering fields and time zone", 1))
		return JETL_ECANCELLED;
	rc = jl_pipeline_jira(jr->ctx, &jr->jira);
	if (rc == JETL_OK)
		rc = jl_pipeline_discover(jr->ctx, jr->jira, &jr->tz, &jr->dev_field);
	if (rc == JETL_OK && jr->catalog)
		rc = jl_integration_catalog(jr->ctx, jr->jira, 0, NULL);
	if (rc == JETL_OK && !jr->opts->distribute)
		rc = start_queue(jr);
	return rc;
}

static void fill_result(struct job_run *jr, jetl_extract_result *res)
{
	jl_jira_stats st;

	if (!res)
		return;
	memset(&st, 0, sizeof(st));
	if (jr->jira)
		jl_jira_get_stats(jr->jira, &st);
	jr->totals.job_id = jr->job_id;
	jr->totals.requests = st.requests;
	jr->totals.retries = st.retries;
	jr->totals.rate_limited = st.rate_limited;
	jr->totals.seconds = jl_now() - jr->progress.t0;
	jr->totals.version = res->version;
	*res = jr->totals;
}

/* Extract the projects in this process, wait for their transforms where
 * that is asked (always in-process), and close the job. */
static int run_here(struct job_run *jr, const char *const *keys, size_t n)
{
	int rc = prepare(jr);

	for (size_t i = 0; rc == JETL_OK && i < n; i++)
		rc = run_project(jr, keys[i], (int)i + 1);
	if (rc == JETL_OK && !jr->inproc) {
		/* Every raw row is stored and queued: the workers finish the job
		 * (the last one marks it), with or without this process. */
		char err[512];

		jl_lease_stop(&jr->lease);
		if (jl_jobs_release(jr->ctx->pg, jr->job_id, err, sizeof(err)) < 0)
			jl_log(jr->ctx, JETL_LOG_WARNING, "%s", err);
	}
	if (rc == JETL_OK || rc == JETL_ECANCELLED) {
		int wrc = (jr->inproc || jr->opts->wait) ? wait_transforms(jr, rc == JETL_ECANCELLED) : JETL_OK;
		if (rc == JETL_OK)
			rc = wrc;
	}
	return end_job(jr, rc);
}

int jetl_extract_project(jetl_ctx *ctx, const char *project_key,
	const jetl_extract_options *opts, jetl_extract_result *result)
{
	static const jetl_extract_options defaults = JETL_EXTRACT_OPTIONS_INIT;
	struct job_run jr;
	int rc;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (!project_key || !*project_key)
		return jl_fail(ctx, JETL_EINVAL, "extract: no project key");
	if (result && (result->version == 0 || result->version > JETL_EXTRACT_RESULT_VERSION))
		return jl_fail(ctx, JETL_EVERSION, "extract: result version %u is not supported", result->version);
	rc = check_common(ctx, opts);
	if (rc != JETL_OK)
		return rc;
	memset(&jr, 0, sizeof(jr));
	jr.ctx = ctx;
	jr.opts = opts ? opts : &defaults;
	if (jr.opts->distribute)
		return jl_fail(ctx, JETL_EINVAL, "extract: distribute applies to jetl_extract, not to one project");
	if ((rc = integration_first(&jr)) != JETL_OK)
		return rc;
	jr.catalog = 1;
	rc = begin_job(&jr, &project_key, 1, 1);
	/* A job cancelled or failed at its first event exists and has ended:
	 * its id goes out like any job's (a caller shows how it ended). */
	if (rc == JETL_EBUSY && result)
		result->job_id = jr.busy_job;
	else if (rc != JETL_OK && result && jr.job_id > 0)
		result->job_id = jr.job_id;
	if (rc != JETL_OK) {
		job_run_free(&jr);
		return rc;
	}
	sweep_first(ctx);
	rc = run_here(&jr, &project_key, 1);
	fill_result(&jr, result);
	job_run_free(&jr);
	return rc;
}

/* A distributed job with keys: its workers read no catalogue, so the
 * projects, issue types and statuses are stored here, once per job. Only a
 * warning when it fails: the workers report Jira's failures on the job. */
static void catalog_here(struct job_run *jr)
{
	char keep[sizeof(jr->ctx->err)];
	jl_jira *j = NULL;

	if (jl_pipeline_jira(jr->ctx, &j) != JETL_OK || jl_integration_catalog(jr->ctx, j, 0, NULL) != JETL_OK) {
		snprintf(keep, sizeof(keep), "%s", jetl_last_error(jr->ctx));
		jl_log(jr->ctx, JETL_LOG_WARNING, "extract: discovery skipped: %s", keep);
		jl_clear_error(jr->ctx);
	}
	jl_jira_free(j);
}

/* Publish one extract message per project for workers (--distribute). */
static int distribute(struct job_run *jr, const char *const *keys, size_t n)
{
	jetl_ctx *ctx = jr->ctx;
	char err[512];
	int rc;

	if (!ctx->queue_url)
		return jl_fail(ctx, JETL_ECONFIG, "extract: --distribute needs a queue (--queue or JETL_QUEUE)");
	if ((rc = jl_deployment_load(ctx)) != JETL_OK)
		return rc;
	rc = jl_queue_open(&jr->pub, ctx->queue_url, err, sizeof(err));
	if (rc != JETL_OK)
		return jl_fail(ctx, rc, "%s", err);
	if ((rc = jl_queue_declare(jr->pub, ctx->q_extract)) != JETL_OK)
		return jl_fail(ctx, rc, "%s", jl_queue_error(jr->pub));
	for (size_t i = 0; i < n; i++) {
		char *msg;

		if (is_repeat(keys, i))
			continue;
		msg = jl_msg_extract(ctx->deployment, ctx->opts.tenant_id, ctx->opts.integration_id, jr->job_id, keys[i],
			jr->opts->full, jr->opts->jql, jr->opts->dev_status, jr->opts->allow_mass_delete,
			jr->opts->types);
		if (!msg)
			return jl_fail(ctx, JETL_ENOMEM, "extract: out of memory");
		rc = jl_queue_publish(jr->pub, ctx->q_extract, msg, strlen(msg));
		free(msg);
		if (rc != JETL_OK)
			return jl_fail(ctx, rc, "%s", jl_queue_error(jr->pub));
	}
	jl_progress_emit(&jr->progress, JETL_PHASE_QUEUE, (int64_t)n, (int64_t)n, "projects handed to workers", 1);
	return JETL_OK;
}

/* Wait for a distributed job to end (workers finish it). */
static int wait_job(struct job_run *jr)
{
	jetl_ctx *ctx = jr->ctx;
	char err[512];
	double t0 = jl_now();

	for (;;) {
		jetl_job job = JETL_JOB_INIT;
		if (jl_jobs_get(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, jr->job_id, &job, err, sizeof(err)) != 0) {
			if (jl_db_back(ctx))
				continue;
			return jl_fail(ctx, JETL_EDB, "extract: waiting for the job: %s", err);
		}
		if (strcmp(job.status, "finished") == 0)
			return JETL_OK;
		if (strcmp(job.status, "failed") == 0)
			return jl_fail(ctx, JETL_ERROR, "job %lld failed: %s", (long long)jr->job_id, job.error);
		if (strcmp(job.status, "cancelled") == 0)
			return jl_fail(ctx, JETL_ECANCELLED, "job %lld was cancelled", (long long)jr->job_id);
		if (jl_progress_emit(&jr->progress, JETL_PHASE_TRANSFORM, job.items_done, job.items_total,
				job.message, 0))
			return JETL_ECANCELLED;
		if (jr->opts->wait_seconds > 0 && jl_now() - t0 >= jr->opts->wait_seconds)
			return jl_fail(ctx, JETL_ETIMEOUT, "extract: job %lld: waited %d s (the wait deadline): %lld of "
				"%d project(s) extracted; the rest stay on %s for `jetl worker --distribute` of this "
				"database", (long long)jr->job_id, jr->opts->wait_seconds, (long long)job.step,
				job.total_steps, ctx->q_extract);
		usleep(250000);
	}
}

/* No keys: discovery inside the job (projects, issue types, statuses), then
 * the integration's selected projects, else every active one; the job row
 * learns them (its params and count). *owned and *keys are the caller's. */
static int discover_keys(struct job_run *jr, char ***owned, const char ***keys, size_t *n)
{
	jetl_ctx *ctx = jr->ctx;
	char err[512], *params;
	jl_claim_busy busy;
	int rc;

	if (jl_progress_emit(&jr->progress, JETL_PHASE_DISCOVER, 0, 0, "discovering projects", 1))
		return JETL_ECANCELLED;
	rc = jl_pipeline_jira(ctx, &jr->jira);
	if (rc == JETL_OK)
		rc = jl_integration_catalog(ctx, jr->jira, 1, NULL);
	if (rc == JETL_OK)
		rc = jl_integration_extract_keys(ctx, owned, n);
	if (rc != JETL_OK)
		return rc;
	*keys = calloc(*n ? *n : 1, sizeof(**keys));
	if (!*keys)
		return jl_fail(ctx, JETL_ENOMEM, "extract: out of memory");
	for (size_t i = 0; i < *n; i++)
		(*keys)[i] = (*owned)[i];
	if (*n == 0)
		return jl_fail(ctx, JETL_ENOENT, "extract: Jira shows no project to this user");
	params = job_params(ctx, *keys, *n, jr->opts);
	if (!params)
		return jl_fail(ctx, JETL_ENOMEM, "extract: out of memory");
	rc = jl_claims_add(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, jr->job_id, params, (int)*n,
		&busy, err, sizeof(err));
	free(params);
	if (rc < 0)
		return jl_fail(ctx, rc == JETL_EDBCONN || rc == JETL_EDBRETRY ? rc : JETL_EDB, "%s", err);
	if (rc == 1) {
		jr->busy_job = busy.job_id;
		return jl_fail(ctx, JETL_EBUSY, "extract: project %s is being extracted by job %lld (running since %s)"
			": wait for that job or cancel it", busy.project, (long long)busy.job_id, busy.since);
	}
	jr->progress.total_steps = (int)*n;
	return JETL_OK;
}

/* The job's projects: given, or discovered; then run here or handed to
 * the workers (distribute). */
static int extract_job(struct job_run *jr, const char *const *keys, size_t n, char ***owned, size_t *nowned,
	const char ***found)
{
	int rc;

	if (n == 0) {
		rc = discover_keys(jr, owned, found, nowned);
		if (rc != JETL_OK)
			return end_job(jr, rc);
		keys = *found;
		n = *nowned;
	}
	if (jr->opts->distribute) {
		if (jr->catalog)
			catalog_here(jr);
		rc = distribute(jr, keys, n);
		if (rc == JETL_OK && jr->opts->wait)
			rc = wait_job(jr);
		return rc == JETL_OK ? rc : end_job(jr, rc);
	}
	jl_jira_free(jr->jira);  /* prepare() makes the one used for the run */
	jr->jira = NULL;
	return run_here(jr, keys, n);
}

int jetl_extract(jetl_ctx *ctx, const char *const *project_keys, size_t n,
	const jetl_extract_options *opts, int64_t *job_id)
{
	static const jetl_extract_options defaults = JETL_EXTRACT_OPTIONS_INIT;
	struct job_run jr;
	char **owned = NULL;
	const char **keys = NULL;
	size_t nowned = 0;
	int rc;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (job_id)
		*job_id = 0;
	if (n > 0 && !project_keys)
		return jl_fail(ctx, JETL_EINVAL, "extract: project_keys is NULL");
	for (size_t i = 0; i < n; i++)
		if (!project_keys[i] || !*project_keys[i])
			return jl_fail(ctx, JETL_EINVAL, "extract: project key %zu is empty", i);
	rc = check_common(ctx, opts);
	if (rc != JETL_OK)
		return rc;
	memset(&jr, 0, sizeof(jr));
	jr.ctx = ctx;
	jr.opts = opts ? opts : &defaults;
	if ((rc = integration_first(&jr)) != JETL_OK)
		return rc;
	jr.catalog = n > 0;
	/* The job first, then the sweep and any discovery inside it: the
	 * caller (a service answering its trigger) has the id at once. */
	rc = begin_job(&jr, project_keys, n, n > 0 ? (int)n : -1);
	if (rc == JETL_EBUSY && job_id)
		*job_id = jr.busy_job;
	else if (job_id && jr.job_id > 0)
		*job_id = jr.job_id;   /* also one cancelled at its first event */
	if (rc == JETL_OK) {
		sweep_first(ctx);
		rc = extract_job(&jr, project_keys, n, &owned, &nowned, &keys);
	}
	job_run_free(&jr);
	jl_keys_free(owned, owned ? nowned : 0);
	free(keys);
	return rc;
}

/* A worker's side of --distribute, before the message is acked: take the
 * project's claim (a lease the sweep watches, so a worker that dies
 * mid-project hands it to another). */
int jl_extract_take(jetl_ctx *ctx, json_t *body)
{
	const char *project = json_string_value(json_object_get(body, "project_key"));
	int64_t job = json_integer_value(json_object_get(body, "job_id"));
	char err[512];
	int rc = jl_claims_take(ctx->pg, job, project, jl_lease_seconds(), err, sizeof(err));

	if (rc < 0)
		return jl_fail(ctx, rc, "%s", err);
	if (rc == JL_CLAIM_SKIP)
		jl_log(ctx, JETL_LOG_INFO, "worker: job %lld: project %s is done, ended or taken by a live worker:"
			" message dropped", (long long)job, project);
	return rc;
}

/* A worker's side of --distribute: extract one project of a job; claimed:
 * jl_extract_take leased its claim, which is renewed until the end. */
int jl_extract_from_message(jetl_ctx *ctx, json_t *body, int claimed)
{
	jetl_extract_options o = JETL_EXTRACT_OPTIONS_INIT;
	struct job_run jr;
	const char *project = json_string_value(json_object_get(body, "project_key"));
	char err[512];
	int rc;

	memset(&jr, 0, sizeof(jr));
	o.full = json_is_true(json_object_get(body, "full"));
	o.jql = json_string_value(json_object_get(body, "jql"));
	/* the job's choice (the caller's option or its integration's default) */
	o.dev_status = !json_is_false(json_object_get(body, "dev_status"));
	o.allow_mass_delete = json_is_true(json_object_get(body, "allow_mass_delete"));
	o.types = json_string_value(json_object_get(body, "types"));
	jr.ctx = ctx;
	jr.opts = &o;
	jr.worker = claimed;
	jr.job_id = json_integer_value(json_object_get(body, "job_id"));
	jl_progress_init(&jr.progress, ctx, jr.job_id, project, NULL, NULL, 0, 0);
	/* a worker runs for days: `jetl integration update`/`set-secret` in
	 * another process reaches its next job because the row is read again
	 * here (one query per project extraction) */
	ctx->conn_integration = 0;
	rc = claimed ? jl_lease_start_claim(&jr.lease, ctx, jr.job_id, project) : JETL_OK;
	if (rc == JETL_OK)
		rc = prepare(&jr);
	if (rc == JETL_OK)
		rc = run_project(&jr, project, -1);
	if (rc == JETL_OK && jr.inproc)
		rc = wait_transforms(&jr, 0);
	if (rc != JETL_OK) {
		char msg[600];
		snprintf(msg, sizeof(msg), "%s: %s", project, jetl_last_error(ctx));
		jl_jobs_set_status(ctx->pg, jr.job_id, "failed", msg, NULL, err, sizeof(err));
	} else {
		jl_jobs_try_finish(ctx->pg, jr.job_id, NULL, 0, err, sizeof(err));
	}
	job_run_free(&jr);
	return rc;
}
