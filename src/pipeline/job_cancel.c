/* job_cancel.c - jetl_job_cancel: the job row is the signal. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "../store/db.h"
#include "../store/jobs.h"

int jetl_job_cancel(jetl_ctx *ctx, int64_t job_id)
{
	char err[512], status[16] = "";
	int rc;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (job_id <= 0)
		return jl_fail(ctx, JETL_EINVAL, "job cancel: job id must be positive");
	if (!ctx->pg)
		return jl_fail(ctx, JETL_EDBCONN, "job cancel: no database connection");
	rc = jl_jobs_cancel(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, job_id, status, sizeof(status),
		err, sizeof(err));
	if (rc < 0)
		return jl_fail(ctx, jl_store_conn_lost(ctx->pg) ? JETL_EDBCONN : JETL_EDB, "%s", err);
	if (rc == 1)
		return jl_fail(ctx, JETL_ENOENT, "job %lld: no such job for tenant %d integration %d",
			(long long)job_id, ctx->opts.tenant_id, ctx->opts.integration_id);
	if (rc == 2 && strcmp(status, "cancelled") != 0)
		return jl_fail(ctx, JETL_ESTATE, "job %lld: already %s, nothing to cancel", (long long)job_id, status);
	jl_log(ctx, JETL_LOG_INFO, "job %lld: cancelled", (long long)job_id);
	return JETL_OK;
}
