/* progress.h - one place that turns pipeline events into the user's progress
 * callback (on the calling thread) and into job-row updates + pg_notify
 * (throttled, so a fast phase does not become thousands of UPDATEs). */
#ifndef JL_PIPELINE_PROGRESS_H
#define JL_PIPELINE_PROGRESS_H

#include <stdint.h>

#include "jetl/progress.h"
#include "../core/ctx.h"

typedef struct jl_progress {
	jetl_ctx *ctx;             /* whose connection updates the job row */
	int64_t job_id;            /* 0: no job row */
	const char *project_key;
	jetl_progress_cb cb;       /* may be NULL */
	void *userdata;
	int step, total_steps;     /* the project (1-based) of how many; 0: unknown */
	int issues_in;             /* the project's issue bodies are all fetched */
	double t0;                 /* start of the call (jl_now) */
	double last_db;            /* last job-row update */
	int last_phase;
	int last_step;             /* the job's step last written to its row */
	int cancelled;             /* the callback asked to stop */
} jl_progress;

void jl_progress_init(jl_progress *p, jetl_ctx *ctx, int64_t job_id, const char *project,
	jetl_progress_cb cb, void *userdata, int step, int total_steps);

/* The project now extracted: its key and 1-based place among total (0:
 * not known, as in a worker). Its steps start again at fetching. */
void jl_progress_project(jl_progress *p, const char *project, int index, int total);

/* The job's step (1..5, jobs.h JL_JOB_STEPS) that an event of this phase
 * belongs to, from what the job has done so far. */
int jl_progress_step(jl_progress *p, int phase, int64_t done, int64_t total);

/*
 * Report an event. Returns non-zero when the callback asked to cancel (and
 * then keeps returning non-zero). force: update the job row even if the
 * last update was very recent (phase ends, final counts).
 */
int jl_progress_emit(jl_progress *p, int phase, int64_t done, int64_t total,
	const char *message, int force);

#endif
