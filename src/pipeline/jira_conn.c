/* jira_conn.c - the pipeline's side of the Jira client: configuration from
 * the context, error mapping, the discover phase. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "integration.h"
#include "../model/catalog.h"
#include "../store/catalog.h"
#include "../store/load.h"

int jl_pipeline_jira(jetl_ctx *ctx, jl_jira **out)
{
	jl_jira_config cfg;
	char err[512];
	int rc;

	*out = NULL;
	rc = jl_integration_resolve(ctx);
	if (rc != JETL_OK)
		return rc;
	if (!ctx->jira_url)
		return jl_fail(ctx, JETL_ECONFIG, "jira: no Jira URL: set --jira-url or JETL_JIRA_URL");
	if (!ctx->jira_token)
		return jl_fail(ctx, JETL_ECONFIG, "jira: no token: set JETL_JIRA_TOKEN (or --jira-token-file)");
	memset(&cfg, 0, sizeof(cfg));
	cfg.base_url = ctx->jira_url;
	cfg.user = ctx->jira_user;
	cfg.token = ctx->jira_token;
	cfg.auth = ctx->opts.jira_auth;
	cfg.flavor = ctx->opts.jira_flavor;
	cfg.concurrency = ctx->opts.concurrency;
	cfg.connect_timeout_ms = ctx->opts.connect_timeout_ms;
	cfg.request_timeout_ms = ctx->opts.request_timeout_ms;
	cfg.max_attempts = ctx->opts.max_attempts;
	cfg.log_cb = ctx->opts.log_cb;
	cfg.log_userdata = ctx->opts.log_userdata;
	cfg.log_level = ctx->opts.log_level;
	rc = jl_jira_new(out, &cfg, err, sizeof(err));
	if (rc != JETL_OK)
		return jl_fail(ctx, rc, "%s", err);
	/*
	 * A token over plain http:// is readable by anyone on the path, so say
	 * so, once per context (a worker makes a client per message). Not a
	 * refusal: Jira Server/DC is often reached over http inside a private
	 * network or behind a local TLS proxy, and refusing would break those
	 * setups with nothing the caller could do short of a new option. Not for
	 * loopback hosts either: those bytes never leave the machine (the
	 * simulator, the tests, an SSH tunnel or stunnel), and a warning on every
	 * run there would teach people to ignore it. Bearer tokens are as exposed
	 * as Basic ones, so both are covered.
	 */
	if (jl_url_cleartext_remote(ctx->jira_url) && !atomic_exchange(&ctx->warned_cleartext, 1))
		jl_log(ctx, JETL_LOG_WARNING, "jira: the %s credentials go over plain http:// to a host that is "
		       "not loopback, readable by anyone on the network path: use https://",
		       cfg.auth == JETL_AUTH_BEARER ? "bearer" : "basic");
	return JETL_OK;
}

int jl_pipeline_jira_fail(jetl_ctx *ctx, jl_jira *j, int rc)
{
	const char *m = j ? jl_jira_error(j) : NULL;

	return jl_fail(ctx, rc, "%s", m && *m ? m : jetl_strerror(rc));
}

/* The Development field's id among the synced fields (NULL: none, or the
 * catalog could not be read), by the catalog's one rule (src/model/catalog.c). */
static char *dev_field_of(jetl_ctx *ctx, char *err, size_t errlen)
{
	jl_catalog cat;
	char *id = NULL;

	jl_catalog_init(&cat);
	if (jl_catalog_read(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, &cat, err, errlen) == 0 &&
	    cat.development)
		id = strdup(cat.development);
	jl_catalog_free(&cat);
	return id;
}


int jl_pipeline_discover(jetl_ctx *ctx, jl_jira *j, char **tz, char **dev_field)
{
	json_t *fields = NULL;
	char err[512], *text;
	int64_t n = 0;
	int rc;

	*tz = NULL;
	*dev_field = NULL;
	rc = jl_jira_myself_tz(j, tz);
	if (rc != JETL_OK)
		return jl_pipeline_jira_fail(ctx, j, rc);
	rc = jl_jira_fields(j, &fields);
	if (rc != JETL_OK)
		return jl_pipeline_jira_fail(ctx, j, rc);
	text = json_dumps(fields, JSON_COMPACT);
	json_decref(fields);
	if (!text)
		return jl_fail(ctx, JETL_ENOMEM, "discover: out of memory");
	rc = jl_catalog_fields(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, text, &n,
		err, sizeof(err));
	free(text);
	if (rc < 0)
		return jl_fail(ctx, JETL_EDB, "%s", err);
	*dev_field = dev_field_of(ctx, err, sizeof(err));
	jl_log(ctx, JETL_LOG_INFO, "discover: %lld fields, time zone %s, Development field %s",
		(long long)n, *tz ? *tz : "(unknown)", *dev_field ? *dev_field : "(none)");
	return JETL_OK;
}
