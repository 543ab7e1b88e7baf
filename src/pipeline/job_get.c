/* job_get.c - jetl_job_get. */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "../store/db.h"
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

int jetl_job_list(jetl_ctx *ctx, int64_t *ids, size_t max, size_t *count)
{
	char err[512];
	PGresult *r;
	size_t n;
	int rc;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (!count || (max > 0 && !ids))
		return jl_fail(ctx, JETL_EINVAL, "job list: NULL output");
	if ((rc = jl_jobs_list(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, max, &r, err, sizeof(err))) != 0)
		return jl_fail(ctx, rc, "%s", err);
	n = (size_t)PQntuples(r);
	for (size_t k = 0; k < n; k++)
		ids[k] = strtoll(PQgetvalue(r, (int)k, 0), NULL, 10);
	*count = n;
	PQclear(r);
	return JETL_OK;
}
