/* watermark.c - where a project's run starts and what it may record: the
 * watermark's scope (the JQL it covers), Jira's clock as its upper bound, a
 * full run replacing it. docs/design.md, "Incremental sync". */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "../jira/tz.h"
#include "../store/sync_state.h"

/* A watermark later than Jira's clock by more than this is not believed. */
#define FUTURE_SLACK_MS (10 * 60 * 1000)

/* Jira's clock now (serverInfo's serverTime): an issue dated in the future
 * must not carry the watermark past the start of the run that read it.
 * Without an answer, the local clock, with a warning. */
static void server_start(jl_extract_run *run)
{
	json_t *info = NULL;
	const char *st = NULL;
	int64_t ms = 0;

	if (jl_jira_server_info(run->jira, &info) == 0)
		st = json_string_value(json_object_get(info, "serverTime"));
	if (st && jl_jira_time_parse(st, &ms, NULL) == 0 && ms > 0) {
		run->server_start_ms = ms;
	} else {
		run->server_start_ms = (int64_t)time(NULL) * 1000;
		jl_log(run->ctx, JETL_LOG_WARNING, "%s: Jira's serverInfo gave no serverTime: the local clock "
			"bounds the watermark", run->project);
	}
	json_decref(info);
}

int64_t jl_wm_future_after(const jl_extract_run *run)
{
	return run->server_start_ms + FUTURE_SLACK_MS;
}

/* The scope rules: may this run use the stored watermark as its bound, may
 * it set one, and does it replace it. j: the run's JQL, s: the stored
 * watermark's ('' = the whole project). */
static int scope_plan(jl_extract_run *run, const char *j, const char *s)
{
	if (strcmp(s, j) == 0) {
		run->wm_set = 1;
		return 1;
	}
	if (!*s) {
		/* narrowed: whatever it selects and was updated before the
		 * whole project's watermark is stored, so the bound holds; but it
		 * looked at no other issue, so the watermark stays */
		jl_log(run->ctx, JETL_LOG_INFO, "%s: narrowed by JQL: the project's watermark stays where it is",
			run->project);
		return 1;
	}
	if (!*j) {
		/* the watermark was made by a narrowed run: it bounds nothing of
		 * the whole project */
		jl_log(run->ctx, JETL_LOG_INFO, "%s: the watermark covers only JQL '%s': reading the whole project",
			run->project, s);
		run->wm_set = 1;
		run->wm_replace = 1;
	}
	return 0;
}

int jl_wm_plan(jl_extract_run *run, char since[32])
{
	const char *j = run->jql ? run->jql : "";
	char err[512], scope[4096];
	int64_t wm;
	int found, off = 0, bound;

	server_start(run);
	if (jl_sync_get(run->ctx->pg, run->ctx->opts.tenant_id, run->ctx->opts.integration_id,
			run->project, &wm, &found, scope, sizeof(scope), err, sizeof(err)) < 0)
		return jl_fail(run->ctx, JETL_EDB, "%s", err);
	if (!found) {
		run->wm_set = 1;
		bound = 0;
	} else if (wm * 1000 > run->server_start_ms + FUTURE_SLACK_MS) {
		jl_log(run->ctx, JETL_LOG_WARNING, "%s: the watermark (%" PRId64 ") is later than Jira's clock "
			"(%" PRId64 "): not used; this run replaces it", run->project, wm, run->server_start_ms / 1000);
		run->wm_set = 1;
		run->wm_replace = 1;
		bound = 0;
	} else {
		bound = scope_plan(run, j, scope);
	}
	if (run->full) {
		run->wm_replace = 1;
		return 0;
	}
	if (!bound)
		return 0;
	run->wm_incremental = 1;
	wm -= JL_SYNC_OVERLAP_SECONDS;
	if (!run->tz || jl_tz_offset(run->tz, wm, &off) != 0) {
		/* Unknown zone: JQL reads the literal in a zone we cannot convert
		 * to, so widen the window by the largest offset on Earth instead
		 * of risking a gap. */
		jl_log(run->ctx, JETL_LOG_WARNING, "sync: unknown Jira user time zone '%s': widening the overlap by 14 h",
			run->tz ? run->tz : "");
		wm -= 14 * 3600;
		off = 0;
	}
	jl_tz_jql_date(since, wm, off);
	return 1;
}

int jl_extract_commit_watermark(jl_extract_run *run)
{
	char err[512];
	int64_t ms = run->max_updated_ms;

	if (!run->wm_set || ms <= 0)
		return JETL_OK;  /* narrowed, or nothing seen: keep the old watermark */
	/* never past the run's start by Jira's clock: an issue dated in the
	 * future would blind every run until that date */
	if (ms > run->server_start_ms)
		ms = run->server_start_ms;
	if (jl_sync_set(run->ctx->pg, run->ctx->opts.tenant_id, run->ctx->opts.integration_id,
			run->project, ms / 1000, run->job_id, run->jql ? run->jql : "", run->wm_replace,
			err, sizeof(err)) < 0)
		return jl_fail(run->ctx, JETL_EDB, "%s", err);
	return JETL_OK;
}
