/* issue_errors.c - jetl_issue_errors_list and jetl_issue_errors_retry: the
 * issues a transform could not store, shown and read again. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "../core/buf.h"
#include "../store/issue_errors.h"

static const char *text_or_empty(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}

int jetl_issue_errors_list(jetl_ctx *ctx, const char *project_key, size_t max,
	jetl_issue_error_cb cb, void *userdata)
{
	char err[512];
	PGresult *r;
	int rc;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (!cb)
		return jl_fail(ctx, JETL_EINVAL, "issue errors: no callback");
	if ((rc = jl_issue_errors_list(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id,
			project_key && *project_key ? project_key : NULL, max ? max : (size_t)INT64_MAX, &r,
			err, sizeof(err))) != 0)
		return jl_fail(ctx, rc, "%s", err);
	for (int k = 0; k < PQntuples(r); k++) {
		jetl_issue_error e;

		e.external_id = text_or_empty(r, k, 0);
		e.key = text_or_empty(r, k, 1);
		e.project_key = text_or_empty(r, k, 2);
		e.raw_id = strtoll(text_or_empty(r, k, 3), NULL, 10);
		e.job_id = strtoll(text_or_empty(r, k, 4), NULL, 10);
		e.error = text_or_empty(r, k, 5);
		e.created_at = strtod(text_or_empty(r, k, 6), NULL);
		if (cb(&e, userdata))
			break;
	}
	PQclear(r);
	return JETL_OK;
}

/* Ids per job of a retry: a JQL of ~4 KB. */
#define RETRY_IDS 500

/* One job over rows [at, end) of ids (column 0 the id, 1 the project). */
static int retry_chunk(jetl_ctx *ctx, const jetl_extract_options *o, PGresult *ids, int at, int end,
	int64_t *job_id)
{
	jetl_extract_options opts = *o;
	const char **keys = calloc((size_t)(end - at), sizeof(*keys));
	jl_buf jql = JL_BUF_INIT;
	size_t n = 0;
	int rc;

	if (!keys)
		return jl_fail(ctx, JETL_ENOMEM, "issue errors: out of memory");
	jl_buf_puts(&jql, "id in (");
	for (int k = at; k < end; k++) {
		const char *p = PQgetvalue(ids, k, 1);
		size_t i = 0;

		jl_buf_printf(&jql, "%s%s", k > at ? "," : "", PQgetvalue(ids, k, 0));
		while (i < n && strcmp(keys[i], p) != 0)
			i++;
		if (i == n)
			keys[n++] = p;
	}
	jl_buf_putc(&jql, ')');
	opts.jql = jql.data;
	/* full: no watermark bound (these issues did not change), and what it
	 * reads replaces what is stored; narrowed, so no watermark moves */
	opts.full = 1;
	opts.distribute = 0;
	rc = jql.oom ? jl_fail(ctx, JETL_ENOMEM, "issue errors: out of memory") :
		jetl_extract(ctx, keys, n, &opts, job_id);
	jl_buf_free(&jql);
	free(keys);
	return rc;
}

int jetl_issue_errors_retry(jetl_ctx *ctx, const jetl_extract_options *opts, int64_t *job_id,
	int64_t *issues)
{
	jetl_extract_options o;
	char err[512];
	PGresult *ids;
	int rc = JETL_OK, n;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (job_id)
		*job_id = 0;
	if (issues)
		*issues = 0;
	if (opts && (opts->version == 0 || opts->version > JETL_EXTRACT_OPTIONS_VERSION))
		return jl_fail(ctx, JETL_EVERSION, "issue errors: options version %u is not supported", opts->version);
	jetl_extract_options_init(&o, JETL_EXTRACT_OPTIONS_VERSION);
	if (opts)   /* a version-1 struct ends before allow_mass_delete */
		memcpy(&o, opts, opts->version >= 2 ? sizeof(o) : offsetof(jetl_extract_options, allow_mass_delete));
	o.version = JETL_EXTRACT_OPTIONS_VERSION;
	if ((rc = jl_issue_errors_ids(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, NULL, &ids,
			err, sizeof(err))) != 0)
		return jl_fail(ctx, rc, "%s", err);
	n = PQntuples(ids);
	if (issues)
		*issues = n;
	for (int at = 0; rc == JETL_OK && at < n; at += RETRY_IDS)
		rc = retry_chunk(ctx, &o, ids, at, at + RETRY_IDS < n ? at + RETRY_IDS : n, job_id);
	PQclear(ids);
	return rc;
}
