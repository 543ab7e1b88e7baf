/* progress.c - progress events to the callback and the job row. */
#include <stdio.h>

#include "progress.h"
#include "../store/jobs.h"

/* Job-row updates at most this often within one phase (seconds). */
#define DB_INTERVAL 0.25

void jl_progress_init(jl_progress *p, jetl_ctx *ctx, int64_t job_id, const char *project,
	jetl_progress_cb cb, void *userdata, int step, int total_steps)
{
	p->ctx = ctx;
	p->job_id = job_id;
	p->project_key = project;
	p->cb = cb;
	p->userdata = userdata;
	p->step = step;
	p->total_steps = total_steps;
	p->t0 = jl_now();
	p->last_db = 0;
	p->last_phase = -1;
	p->cancelled = 0;
	p->issues_in = 0;
	p->last_step = 0;
}

void jl_progress_project(jl_progress *p, const char *project, int index, int total)
{
	p->project_key = project;
	p->step = index;
	if (total > 0)
		p->total_steps = total;
	p->issues_in = 0;
}

/* Projects run one after another, each through census, issues,
 * changelogs, dev status, store and queue, and these interleave batch by
 * batch. A job's step is the whole job's: fetching (2) until the last
 * project's issue bodies are all in, then the changelogs and dev status
 * still missing (3), storing and queuing once every project is stored,
 * with the transforms (4). A project's own phase stays in step_name. */
int jl_progress_step(jl_progress *p, int phase, int64_t done, int64_t total)
{
	int last = p->total_steps > 0 && p->step >= p->total_steps;

	switch (phase) {
	case JETL_PHASE_DISCOVER:
		return 1;
	case JETL_PHASE_ISSUES:
		if (total > 0 && done >= total)
			p->issues_in = 1;
		return 2;
	case JETL_PHASE_CHANGELOGS:
	case JETL_PHASE_DEV_STATUS:
		return last && p->issues_in ? 3 : 2;
	case JETL_PHASE_QUEUE:
	case JETL_PHASE_TRANSFORM:
		return last ? 4 : 2;
	case JETL_PHASE_DONE:
		return 5;
	default:
		return 2;
	}
}

int jl_progress_emit(jl_progress *p, int phase, int64_t done, int64_t total,
	const char *message, int force)
{
	char msg[256], err[256];
	double now = jl_now();
	int step = jl_progress_step(p, phase, done, total);

	if (!message) {
		if (total > 0)
			snprintf(msg, sizeof(msg), "%s%s%s %lld/%lld", p->project_key ? p->project_key : "",
				p->project_key ? ": " : "", jetl_phase_name(phase), (long long)done, (long long)total);
		else
			snprintf(msg, sizeof(msg), "%s%s%s %lld", p->project_key ? p->project_key : "",
				p->project_key ? ": " : "", jetl_phase_name(phase), (long long)done);
		message = msg;
	}
	if (p->job_id > 0 && p->ctx &&
	    (force || phase != p->last_phase || step > p->last_step || now - p->last_db >= DB_INTERVAL)) {
		/* A failed progress UPDATE must not fail the extraction: log it.
		 * A job cancelled through its row (jetl_job_cancel) stops here as
		 * if the callback had asked. */
		int rc = jl_jobs_progress(p->ctx->pg, p->job_id, step, jetl_phase_name(phase), done, total,
			message, err, sizeof(err));
		if (rc < 0)
			jl_log(p->ctx, JETL_LOG_WARNING, "%s", err);
		else if (rc == 1)
			p->cancelled = 1;
		p->last_db = now;
		if (step > p->last_step)
			p->last_step = step;
	}
	p->last_phase = phase;
	if (p->cb && !p->cancelled) {
		jetl_progress ev;

		ev.version = JETL_PROGRESS_VERSION;
		ev.job_id = p->job_id;
		ev.project_key = p->project_key;
		ev.phase = phase;
		ev.phase_name = jetl_phase_name(phase);
		ev.step = p->step;
		ev.total_steps = p->total_steps;
		ev.done = done;
		ev.total = total;
		ev.message = message;
		ev.elapsed = now - p->t0;
		if (p->cb(&ev, p->userdata) != 0)
			p->cancelled = 1;
	}
	return p->cancelled;
}
