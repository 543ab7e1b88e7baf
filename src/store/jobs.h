/* jobs.h - etl_job_queue rows: create, progress (with pg_notify), finish. */
#ifndef JL_STORE_JOBS_H
#define JL_STORE_JOBS_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "jetl/job.h"

/* A job's steps, as the seed system reports them (step/total_steps of the
 * row): 1 starting (sweep, discovery), 2 fetching issues, 3 the changelogs
 * and dev status left once every issue is in, 4 storing and queuing (and
 * the transforms), 5 completed. docs/design.md "A job's five steps". */
#define JL_JOB_STEPS 5

/* The message of step 1..JL_JOB_STEPS, word for word; NULL for another. */
const char *jl_jobs_step_message(int step);

/* Insert a job ('running' unless queued) at step 1 and return its id in
 * *id. params_json is a JSON object text; projects < 0: not known yet
 * (jl_jobs_set_projects once discovered; the job cannot finish before).
 * Returns 0 or -1 with err. */
int jl_jobs_create(PGconn *pg, int tenant, int integration, const char *job_type,
	const char *params_json, int projects, int queued, int64_t *id, char *err, size_t errlen);

/* The projects of a job created before they were known: params_json (may
 * be NULL: unchanged) and their number. Notifies. */
int jl_jobs_set_projects(PGconn *pg, int64_t id, const char *params_json, int projects, char *err, size_t errlen);

/* Progress of a job: one UPDATE that also sends pg_notify('jetl_progress', row json).
 * step: 1..JL_JOB_STEPS moves the row's step forward (never back) with its
 * message; anything else leaves both. step_name is the phase, detail its
 * own text ("SVA: issues 50/100"); NULL leaves them. Returns 0, 1 when the
 * job was cancelled (jetl_job_cancel: the caller stops), or -1 with err. */
int jl_jobs_progress(PGconn *pg, int64_t id, int step, const char *step_name,
	int64_t done, int64_t total, const char *detail, char *err, size_t errlen);

/* Mark one project's extraction done (projects_done + 1, atomically, so that
 * workers extracting projects of one job in parallel count right) and
 * release its claim (claims.h). only_claimed: count the step only when the
 * job still held the claim, so a distributed project redone after its
 * worker vanished counts once however many of its runs end. */
int jl_jobs_step_done(PGconn *pg, int64_t id, const char *project, int only_claimed, char *err, size_t errlen);

/* Set a terminal (or running) status; error may be NULL. A failure
 * without a message of its own says "Error: <error>" (the seed system's
 * words); 'finished' is the last step. Notifies. */
int jl_jobs_set_status(PGconn *pg, int64_t id, const char *status, const char *error,
	const char *message, char *err, size_t errlen);

/*
 * Finish the job if its extraction is complete (every project done) and no
 * raw row of it is pending or processing: 'finished', or 'failed' when some
 * raw rows failed. Safe to call from every worker after every commit: the
 * UPDATE is conditional and idempotent. *final_status (may be NULL) gets
 * the status after the call.
 */
int jl_jobs_try_finish(PGconn *pg, int64_t id, char *final_status, size_t fslen, char *err, size_t errlen);

/* A transformed raw row's word to its job in one round trip: add
 * delta_json (a JSON object of counts, made by the caller) to the totals,
 * then jl_jobs_try_finish. The caller's connection, one thread at a time.
 * Returns 0 or a negative status with "what: cause" in err. */
int jl_jobs_add_totals_finish(PGconn *pg, int64_t id, const char *delta_json, char *err, size_t errlen);

/* Lease (docs/design.md, 'Stuck jobs'): the process running a job renews
 * lease_until = now() + seconds (and heartbeat_at) while the job is
 * 'running'; release clears it when the job is handed to workers (nobody
 * holds it then). Terminal statuses clear it too. */
int jl_jobs_renew(PGconn *pg, int64_t id, int seconds, char *err, size_t errlen);
int jl_jobs_release(PGconn *pg, int64_t id, char *err, size_t errlen);

/* Mark 'failed' every running job whose lease ran out (its process
 * stopped), with an error that says so; *ended gets their number. all = 1:
 * every tenant/integration, else only the one given. Notifies. */
int jl_jobs_sweep_expired(PGconn *pg, int tenant, int integration, int all, int64_t *ended,
	char *err, size_t errlen);

/* A raw row left pending by a stopped job (raw_id 0: the job had none). */
typedef struct jl_orphan {
	int64_t job_id, raw_id;
	int tenant, integration;
} jl_orphan;

/* Claim the stopped jobs (not running, lease ran out) for `seconds` and
 * list their pending raw rows, ordered by job; *rows (malloc'd, may be
 * NULL when *n is 0) is the caller's. After handling a job's rows, call
 * jl_jobs_orphans_done; a job not released is claimed again by a later
 * sweep once the claim runs out. */
int jl_jobs_claim_orphans(PGconn *pg, int tenant, int integration, int all, int seconds,
	jl_orphan **rows, size_t *n, char *err, size_t errlen);

/* Release a stopped job once its rows were handled (`how`: "transformed",
 * "re-queued"): its lease is cleared and its message counts the rows. */
int jl_jobs_orphans_done(PGconn *pg, int64_t job_id, int64_t rows, const char *how, char *err, size_t errlen);

/* Add delta_json ({"issues": 100, "requests": 3, ...}: integers) to the
 * job's totals column, key by key; notifies. *cancelled gets 1 when the job
 * was cancelled meanwhile (the caller stops). Returns 0 or -1 with err. */
int jl_jobs_add_totals(PGconn *pg, int64_t id, const char *delta_json, int *cancelled, char *err, size_t errlen);

/* Cancel a queued or running job of the tenant/integration (the process
 * running it stops at its next batch). Returns 0 (cancelled now), 1 (no
 * such job), 2 (already ended: its status into status), -1 on error. */
int jl_jobs_cancel(PGconn *pg, int tenant, int integration, int64_t id, char *status, size_t slen,
	char *err, size_t errlen);

/* Read a job of a tenant/integration; returns 0, 1 when absent, -1 on error. */
int jl_jobs_get(PGconn *pg, int tenant, int integration, int64_t id, jetl_job *job, char *err, size_t errlen);

/* The ids of the tenant/integration's latest max jobs, newest first: 0
 * with *out (caller PQclear()s) or a status. */
int jl_jobs_list(PGconn *pg, int tenant, int integration, size_t max, PGresult **out, char *err, size_t errlen);

#endif
