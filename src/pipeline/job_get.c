/* job_get.c - jetl_job_get. */
#include "internal.h"
#include "../store/jobs.h"

int jetl_job_get(jetl_ctx *ctx, int64_t job_id, jetl_job *job)
{
	char err[512];
	int rc;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (!job)
		return jl_fail(ctx, JETL_EINVAL, "job: out struct is NULL");
	if (job->version == 0 || job->version > JETL_JOB_VERSION)
		return jl_fail(ctx, JETL_EVERSION, "job: struct version %u is not supported", job->version);
	rc = jl_jobs_get(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, job_id, job, err, sizeof(err));
	if (rc < 0)
		return jl_fail(ctx, JETL_EDB, "%s", err);
	if (rc > 0)
		return jl_fail(ctx, JETL_ENOENT, "job %lld: no such job for tenant %d integration %d",
			(long long)job_id, ctx->opts.tenant_id, ctx->opts.integration_id);
	return JETL_OK;
}
