/* ctx.c - options, the context's fields, its error and log. Opening and
 * closing, which connect to PostgreSQL, are src/pipeline/context.c: core
 * depends on no layer above it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl/context.h"
#include "ctx.h"

int jetl_options_init(jetl_options *opts, unsigned int version)
{
	static const jetl_options defaults = JETL_OPTIONS_INIT;

	if (!opts)
		return JETL_EINVAL;
	if (version == 0 || version > JETL_OPTIONS_VERSION)
		return JETL_EVERSION;
	*opts = defaults;
	opts->version = version;
	return JETL_OK;
}

int jl_fail(jetl_ctx *ctx, int status, const char *fmt, ...)
{
	char tmp[sizeof(ctx->err)];
	va_list ap;

	if (!ctx)
		return status;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	jl_one_line(ctx->err, sizeof(ctx->err), tmp);
	jl_log(ctx, JETL_LOG_ERROR, "%s", ctx->err);
	return status;
}

void jl_clear_error(jetl_ctx *ctx)
{
	if (ctx)
		ctx->err[0] = '\0';
}

void jl_log(const jetl_ctx *ctx, int level, const char *fmt, ...)
{
	char tmp[1024], line[1024];
	va_list ap;

	if (!ctx || !ctx->opts.log_cb || level > ctx->opts.log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	jl_one_line(line, sizeof(line), tmp);
	ctx->opts.log_cb(level, line, ctx->opts.log_userdata);
}

/* Copy an option string, falling back to an environment variable. An empty
 * string counts as unset so that `JETL_QUEUE= jetl …` means "no queue". */
static int dup_opt(char **dst, const char *val, const char *env)
{
	if (!val || !*val)
		val = env ? getenv(env) : NULL;
	if (!val || !*val) {
		*dst = NULL;
		return 0;
	}
	*dst = strdup(val);
	return *dst ? 0 : -1;
}

static void free_strings(jetl_ctx *ctx)
{
	free(ctx->db);
	free(ctx->jira_url);
	free(ctx->jira_user);
	if (ctx->jira_token) {
		/* Secrets do not outlive the context in freed heap memory. */
		volatile char *p = ctx->jira_token;
		while (*p)
			*p++ = '\0';
	}
	free(ctx->jira_token);
	free(ctx->queue_url);
	free(ctx->conn_settings);
}

int jl_ctx_new(jetl_ctx **out, const jetl_options *opts, char *msg, size_t n)
{
	jetl_ctx *ctx;

	*out = NULL;
	if (!opts) {
		snprintf(msg, n, "jetl_open: options are NULL");
		return JETL_EINVAL;
	}
	if (opts->version == 0 || opts->version > JETL_OPTIONS_VERSION) {
		snprintf(msg, n, "jetl_open: options version %u is not supported "
			"(this library knows 1..%d; call jetl_options_init)", opts->version, JETL_OPTIONS_VERSION);
		return JETL_EVERSION;
	}
	if (opts->tenant_id <= 0 || opts->integration_id <= 0) {
		snprintf(msg, n, "jetl_open: tenant_id and integration_id must be positive");
		return JETL_EINVAL;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		goto oom;
	ctx->opts = *opts;
	if (dup_opt(&ctx->db, opts->db, "JETL_DB") < 0 ||
	    dup_opt(&ctx->jira_url, opts->jira_url, "JETL_JIRA_URL") < 0 ||
	    dup_opt(&ctx->jira_user, opts->jira_user, "JETL_JIRA_USER") < 0 ||
	    dup_opt(&ctx->jira_token, opts->jira_token, "JETL_JIRA_TOKEN") < 0 ||
	    (opts->queue_url && !*opts->queue_url ? 0 : /* "" forces in-process */
	     dup_opt(&ctx->queue_url, opts->queue_url, "JETL_QUEUE")) < 0)
		goto oom;
	/* Stored copies are what every layer reads; the caller's may go away. */
	ctx->opts.db = ctx->db;
	ctx->opts.jira_url = ctx->jira_url;
	ctx->opts.jira_user = ctx->jira_user;
	ctx->opts.jira_token = ctx->jira_token;
	ctx->opts.queue_url = ctx->queue_url;
	/* Without a URL the connection comes from the integration's row
	 * (src/pipeline/integration.c), when a call first needs it. */
	ctx->jira_explicit = ctx->jira_url != NULL;
	if (ctx->opts.concurrency <= 0)
		ctx->opts.concurrency = 8;
	if (ctx->opts.batch_size <= 0 || ctx->opts.batch_size > 1000)
		ctx->opts.batch_size = 100;
	if (ctx->opts.max_attempts <= 0)
		ctx->opts.max_attempts = 6;
	if (ctx->opts.connect_timeout_ms <= 0)
		ctx->opts.connect_timeout_ms = 10000;
	if (ctx->opts.request_timeout_ms <= 0)
		ctx->opts.request_timeout_ms = 120000;
	if (!ctx->jira_user && opts->jira_auth == JETL_AUTH_BASIC && ctx->jira_token)
		ctx->opts.jira_auth = JETL_AUTH_BEARER;
	*out = ctx;
	return JETL_OK;
oom:
	jl_ctx_free(ctx);
	snprintf(msg, n, "jetl_open: out of memory");
	return JETL_ENOMEM;
}

void jl_ctx_free(jetl_ctx *ctx)
{
	if (!ctx)
		return;
	free_strings(ctx);
	free(ctx);
}

const char *jetl_last_error(const jetl_ctx *ctx)
{
	return ctx ? ctx->err : "jetl: context is NULL";
}

int jetl_tenant_id(const jetl_ctx *ctx)
{
	return ctx ? ctx->opts.tenant_id : 0;
}

int jetl_integration_id(const jetl_ctx *ctx)
{
	return ctx ? ctx->opts.integration_id : 0;
}
