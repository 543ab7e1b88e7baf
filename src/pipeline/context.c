/* context.c - jetl_open/jetl_close and the schema: a context (src/core)
 * with its PostgreSQL connection (src/store). Here, not in core, because
 * they tie two layers together. */
#include <stdio.h>

#include "jetl.h"
#include "../core/ctx.h"
#include "../core/util.h"
#include "../store/db.h"
#include "../store/migrate.h"

static void set_err(char *errbuf, size_t n, const char *msg)
{
	if (errbuf && n)
		jl_one_line(errbuf, n, msg);
}

int jetl_open_err(jetl_ctx **out, const jetl_options *opts, char *errbuf, size_t errbuf_size)
{
	jetl_ctx *ctx = NULL;
	char msg[512];
	int rc;

	set_err(errbuf, errbuf_size, "");
	if (!out) {
		set_err(errbuf, errbuf_size, "jetl_open: out is NULL");
		return JETL_EINVAL;
	}
	*out = NULL;
	if (jetl_global_init() != JETL_OK) {
		set_err(errbuf, errbuf_size, "jetl_open: libcurl global initialisation failed");
		return JETL_ERROR;
	}
	if ((rc = jl_ctx_new(&ctx, opts, msg, sizeof(msg))) != JETL_OK) {
		set_err(errbuf, errbuf_size, msg);
		jetl_global_cleanup();
		return rc;
	}
	ctx->pg = jl_store_connect(ctx->db, msg, sizeof(msg));
	if (!ctx->pg) {
		set_err(errbuf, errbuf_size, msg);
		jetl_close(ctx);
		return JETL_EDBCONN;
	}
	*out = ctx;
	return JETL_OK;
}

int jetl_open(jetl_ctx **out, const jetl_options *opts)
{
	return jetl_open_err(out, opts, NULL, 0);
}

void jetl_close(jetl_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->pg)
		PQfinish(ctx->pg);
	jl_ctx_free(ctx);
	jetl_global_cleanup();
}

int jetl_migrate(jetl_ctx *ctx)
{
	char msg[512];
	int rc;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	rc = jl_store_migrate(ctx->pg, msg, sizeof(msg));
	if (rc != JETL_OK)
		return jl_fail(ctx, rc, "%s", msg);
	return JETL_OK;
}

int jetl_schema_version(void)
{
	return jl_store_schema_version();
}
