/* fields_sync.c - jetl_fields_sync: Jira's /field into jira_fields. */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "../store/catalog.h"
#include "../store/db.h"

int jetl_fields_sync(jetl_ctx *ctx, int64_t *count)
{
	jl_jira *j = NULL;
	json_t *fields = NULL;
	char err[512], *text;
	int rc;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	rc = jl_pipeline_jira(ctx, &j);
	if (rc != JETL_OK)
		return rc;
	rc = jl_jira_fields(j, &fields);
	if (rc != JETL_OK) {
		rc = jl_pipeline_jira_fail(ctx, j, rc);
		jl_jira_free(j);
		return rc;
	}
	jl_jira_free(j);
	text = json_dumps(fields, JSON_COMPACT);
	json_decref(fields);
	if (!text)
		return jl_fail(ctx, JETL_ENOMEM, "fields: out of memory");
	if (jl_catalog_fields(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, text, count,
			err, sizeof(err)) < 0)
		rc = jl_fail(ctx, JETL_EDB, "%s", err);
	free(text);
	return rc;
}

int jetl_fields_list(jetl_ctx *ctx, jetl_field_cb cb, void *userdata)
{
	char err[512];
	PGresult *r;
	int rc;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (!cb)
		return jl_fail(ctx, JETL_EINVAL, "fields: no callback");
	if ((rc = jl_catalog_list(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, &r, err, sizeof(err))) != 0)
		return jl_fail(ctx, rc, "%s", err);
	for (int k = 0; k < PQntuples(r); k++) {
		jetl_field_info f;
		f.id = PQgetvalue(r, k, 0);
		f.name = PQgetvalue(r, k, 1);
		f.type = PQgetvalue(r, k, 2);
		f.custom = PQgetvalue(r, k, 3)[0] == 't';
		f.slot = atoi(PQgetvalue(r, k, 4));
		if (cb(&f, userdata) != 0)
			break;
	}
	PQclear(r);
	return JETL_OK;
}
