/* not_yet.c - public entry points whose implementation has not landed yet.
 * Each answers JETL_ENOTIMPL with a message: never a fake success. Remove a
 * function from here when its real implementation lands. */
#include "jetl.h"
#include "../core/ctx.h"

static int not_yet(jetl_ctx *ctx, const char *fn)
{
	if (!ctx)
		return JETL_EINVAL;
	return jl_fail(ctx, JETL_ENOTIMPL, "%s: not implemented in this build", fn);
}

int jetl_extract_options_init(jetl_extract_options *opts, unsigned int version)
{
	static const jetl_extract_options defaults = JETL_EXTRACT_OPTIONS_INIT;

	if (!opts)
		return JETL_EINVAL;
	if (version == 0 || version > JETL_EXTRACT_OPTIONS_VERSION)
		return JETL_EVERSION;
	*opts = defaults;
	opts->version = version;
	return JETL_OK;
}

int jetl_worker_options_init(jetl_worker_options *opts, unsigned int version)
{
	static const jetl_worker_options defaults = JETL_WORKER_OPTIONS_INIT;

	if (!opts)
		return JETL_EINVAL;
	if (version == 0 || version > JETL_WORKER_OPTIONS_VERSION)
		return JETL_EVERSION;
	*opts = defaults;
	opts->version = version;
	return JETL_OK;
}

int jetl_extract_project(jetl_ctx *ctx, const char *project_key,
	const jetl_extract_options *opts, jetl_extract_result *result)
{
	(void)project_key; (void)opts; (void)result;
	return not_yet(ctx, "jetl_extract_project");
}

int jetl_extract(jetl_ctx *ctx, const char *const *project_keys, size_t n,
	const jetl_extract_options *opts, int64_t *job_id)
{
	(void)project_keys; (void)n; (void)opts; (void)job_id;
	return not_yet(ctx, "jetl_extract");
}

int jetl_worker_run(jetl_ctx *ctx, const jetl_worker_options *opts)
{
	(void)opts;
	return not_yet(ctx, "jetl_worker_run");
}

void jetl_worker_stop(jetl_ctx *ctx)
{
	if (ctx)
		atomic_store(&ctx->stop, 1);
}

int jetl_job_get(jetl_ctx *ctx, int64_t job_id, jetl_job *job)
{
	(void)job_id; (void)job;
	return not_yet(ctx, "jetl_job_get");
}

int jetl_fields_sync(jetl_ctx *ctx, int64_t *count)
{
	(void)count;
	return not_yet(ctx, "jetl_fields_sync");
}
