/*
 * jetl/job.h - job status and progress (the etl_job_queue row).
 */
#ifndef JETL_JOB_H
#define JETL_JOB_H

#include "context.h"

JETL_BEGIN_DECL

#define JETL_JOB_VERSION 5

/**
 * A job's row. Text is copied in (truncated to fit), so the struct owns nothing.
 * Fields are only ever appended, each group under a new JETL_JOB_VERSION:
 * jetl_job_get() fills the fields of the version the caller sets and no
 * more, so a program built against an older header keeps working.
 * Version 2 added the job's totals (etl_job_queue.totals, from `issues` on):
 * added as the run goes, by the extracting process after each stored batch
 * and by the writer of each transformed raw row, so a running job shows
 * them too. Version 3 added `totals`, the same counters and every later
 * one (a type of data added later, such as `issue_links`) as the totals'
 * JSON text, so a new counter needs no new field.
 * Version 4 added what a user must not miss: issues read but not stored,
 * issues dated in the future, deletions a census was refused.
 * Version 5 made step/total_steps the job's five steps (1..5 of 5, each
 * with its message: "Starting issues extraction...", "Fetching issues with
 * custom fields...", "Processing changelogs and dev status...", "Storing raw
 * data and queuing for processing...", "Issues extraction completed
 * successfully"; a failure says "Error: <cause>") and added the finer
 * account they counted before: the projects done of how many, and the
 * phase's own text (step_name stays the phase).
 */
typedef struct jetl_job {
	unsigned int version;      /**< JETL_JOB_VERSION */
	int64_t id;
	char job_type[48];
	char status[16];           /**< queued|running|finished|failed|cancelled */
	int step;                  /**< the job's step, 1..5 (version 5; before: projects done) */
	int total_steps;           /**< 5 (version 5; before: projects) */
	char step_name[48];        /**< the phase (jetl_phase_name) */
	int64_t items_done;
	int64_t items_total;
	char message[256];         /**< the step's message (version 5) */
	char error[256];
	double created_at;         /**< Unix seconds; 0 when unset */
	double started_at;
	double updated_at;
	double finished_at;
	int64_t raw_pending;       /**< raw rows of the job not yet completed */
	int64_t raw_failed;        /**< raw rows of the job that failed */
	int64_t issues;            /**< version 2 (the totals): issues fetched */
	int64_t histories;         /**< change histories fetched */
	int64_t changelog_items;   /**< changelog rows of the job's issues now stored */
	int64_t dev_status;        /**< dev_status rows written */
	int64_t work_items;        /**< work_items rows written */
	int64_t raw_rows;          /**< raw rows written */
	int64_t requests;          /**< HTTP requests to Jira (retries included) */
	int64_t retries;           /**< requests retried */
	int64_t rate_limited;      /**< 429 answers received */
	int64_t deleted;           /**< issues found gone from Jira and marked */
	char totals[1024];         /**< version 3: every total as a JSON object (`{"issues": 12, "issue_links": 3, …}`);
	                            *   "" when it would not fit */
	int64_t not_stored;        /**< version 4: issues of the job's raw rows that could not
	                                be stored and are still missing (issue_errors;
	                                `jetl errors`); counted when read, not summed */
	int64_t future_dated;      /**< issues whose `updated` was later than Jira's clock */
	int64_t deleted_refused;   /**< issues a census would have marked deleted, refused
	                                as too many (jetl_extract_options.allow_mass_delete) */
	int projects_done;         /**< version 5: projects whose extraction ended */
	int projects_total;        /**< projects of the job; 0 until discovered */
	char detail[256];          /**< the phase's own text ("SVA: issues 50/100") */
} jetl_job;

#define JETL_JOB_INIT { JETL_JOB_VERSION, 0, "", "", 0, 0, "", 0, 0, "", "", 0, 0, 0, 0, 0, 0, \
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "", 0, 0, 0, 0, 0, "" }

/**
 * Read a job of the context's tenant/integration into *job (version set by
 * the caller). Errors: JETL_EINVAL, JETL_EVERSION, JETL_ENOENT, JETL_EDB.
 */
JETL_API int jetl_job_get(jetl_ctx *ctx, int64_t job_id, jetl_job *job);

/**
 * Cancel a job of the context's tenant/integration: a `queued` or `running`
 * job becomes `cancelled` at once (the row is the signal). Whichever process
 * runs it, this one or another, sees that at its next batch or progress
 * update and stops there (its call returns JETL_ECANCELLED); raw rows already
 * stored stay (whole, re-transformable) and the watermark of the project in
 * progress does not move, so the next run reads those issues again.
 *
 * Threads: like every call on ctx (use another context than the one running
 * the job, e.g. from another thread or process). Errors: JETL_EINVAL,
 * JETL_ENOENT (no such job for this tenant/integration), JETL_ESTATE (the job
 * already ended `finished` or `failed`; cancelling a `cancelled` job is
 * JETL_OK), JETL_EDB, JETL_EDBCONN.
 */
JETL_API int jetl_job_cancel(jetl_ctx *ctx, int64_t job_id);

/**
 * Ids of the most recent jobs of the context's tenant/integration, newest
 * first: up to max ids into ids[], their number into *count.
 * Errors: JETL_EINVAL, JETL_EDB.
 */
JETL_API int jetl_job_list(jetl_ctx *ctx, int64_t *ids, size_t max, size_t *count);

/**
 * End the jobs whose process stopped, and recover what they left behind.
 *
 * The process running a job renews its lease every few seconds
 * (etl_job_queue.lease_until; $JETL_LEASE_SECONDS long, default 30). A
 * `running` job of the context's tenant/integration whose lease ran out
 * lost that process (killed, crashed, cut off from the database): it is
 * marked `failed` with an error that says so. The raw rows such a job left
 * `pending` are then transformed here (in-process context) or published to
 * the database's jetl.transform.ID (context with a queue), so none stays pending. Running the
 * extraction again resumes it: issues already stored unchanged are not
 * downloaded again. jetl_extract*() and jetl_worker_run() sweep by
 * themselves; call this from a scheduler or a service's start-up.
 *
 * *count (may be NULL) gets the number of jobs ended. Threads: like every
 * call on ctx; concurrent sweeps from several processes are safe (a job is
 * ended and its rows recovered once). Errors: JETL_EINVAL, JETL_EDBCONN,
 * JETL_EDB, JETL_ESCHEMA, JETL_EQUEUE (the rows stay claimed and a later
 * sweep retries them once the claim runs out).
 */
JETL_API int jetl_job_sweep(jetl_ctx *ctx, int64_t *count);

JETL_END_DECL

#endif
