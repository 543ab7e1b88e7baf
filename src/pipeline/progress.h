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
	int step, total_steps;
	double t0;                 /* start of the call (jl_now) */
	double last_db;            /* last job-row update */
	int last_phase;
	int cancelled;             /* the callback asked to stop */
} jl_progress;

void jl_progress_init(jl_progress *p, jetl_ctx *ctx, int64_t job_id, const char *project,
	jetl_progress_cb cb, void *userdata, int step, int total_steps);

/*
 * Report an event. Returns non-zero when the callback asked to cancel (and
 * then keeps returning non-zero). force: update the job row even if the
 * last update was very recent (phase ends, final counts).
 */
int jl_progress_emit(jl_progress *p, int phase, int64_t done, int64_t total,
	const char *message, int force);

#endif
