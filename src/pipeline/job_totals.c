/* job_totals.c - what a run adds to its job's totals (etl_job_queue.totals),
 * as it goes: one UPDATE per stored batch, per transformed raw row and per
 * finished project, whose answer also says whether the job was cancelled. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "../store/db.h"
#include "../store/jobs.h"

/* Add the delta; JETL_ECANCELLED when the job was cancelled. A failed
 * UPDATE only warns: counts must not end an extraction. */
static int add(jetl_ctx *ctx, int64_t job_id, const char *delta)
{
	char err[512];
	int cancelled = 0;

	if (job_id <= 0 || !ctx || !ctx->pg)
		return JETL_OK;
	if (jl_jobs_add_totals(ctx->pg, job_id, delta, &cancelled, err, sizeof(err)) < 0) {
		jl_log(ctx, JETL_LOG_WARNING, "%s", err);
		return JETL_OK;
	}
	return cancelled ? JETL_ECANCELLED : JETL_OK;
}

int jl_job_totals_extract(jl_extract_run *run, int64_t issues, int64_t histories, int64_t raw_rows,
	int64_t deleted, int64_t future, int64_t deleted_refused)
{
	jl_jira_stats st = { 0 }, zero = { 0 };
	jl_jira_stats *sent = run->stats_sent ? run->stats_sent : &zero;
	char delta[400];
	int n;

	if (run->jira)
		jl_jira_get_stats(run->jira, &st);
	else
		st = *sent;
	snprintf(delta, sizeof(delta), "{\"issues\":%" PRId64 ",\"histories\":%" PRId64 ",\"raw_rows\":%" PRId64
		",\"deleted\":%" PRId64 ",\"requests\":%" PRId64 ",\"retries\":%" PRId64 ",\"rate_limited\":%" PRId64 "}",
		issues, histories, raw_rows, deleted, st.requests - sent->requests, st.retries - sent->retries,
		st.rate_limited - sent->rate_limited);
	/* rare keys only when there is something to say (absent = 0) */
	n = (int)strlen(delta) - 1;
	if (future)
		n += snprintf(delta + n, sizeof(delta) - (size_t)n, ",\"future_dated\":%" PRId64, future);
	if (deleted_refused)
		n += snprintf(delta + n, sizeof(delta) - (size_t)n, ",\"deleted_refused\":%" PRId64, deleted_refused);
	snprintf(delta + n, sizeof(delta) - (size_t)n, "}");
	if (run->stats_sent)
		*run->stats_sent = st;
	return add(run->ctx, run->job_id, delta);
}

void jl_job_totals_transform(jetl_ctx *ctx, int64_t job_id, const jl_load_counts *c)
{
	char delta[200 + 48 * JL_PART_N], err[512];
	size_t n;

	if (job_id <= 0 || !ctx || !ctx->pg)
		return;
	n = (size_t)snprintf(delta, sizeof(delta), "{\"work_items\":%" PRId64 ",\"changelog_items\":%" PRId64
		",\"dev_status\":%" PRId64 ",\"issue_errors\":%" PRId64, c->work_items, c->changelog_items, c->dev_status,
		c->issue_errors);
	/* issue_errors: issues of the row left out (issue_errors), not stored.
	 * Each type an issue carries under its descriptor's name. */
	for (int p = 0; p < JL_PART_N && n < sizeof(delta); p++)
		n += (size_t)snprintf(delta + n, sizeof(delta) - n, ",\"%s\":%" PRId64, jl_parts[p].name, c->parts[p]);
	if (n < sizeof(delta) - 1)
		strcpy(delta + n, "}");
	if (jl_jobs_add_totals_finish(ctx->pg, job_id, delta, err, sizeof(err)) < 0)
		jl_log(ctx, JETL_LOG_WARNING, "%s", err);
}
