/* transform_batch.c - jetl_transform_batch and jetl_field_map: read a raw
 * row, transform it (pure), write the rows, mark the row — one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl.h"
#include "../core/ctx.h"
#include "../core/util.h"
#include "../store/db.h"
#include "../store/load.h"
#include "../transform/transform.h"
#include "transform_batch.h"

static void warn_to_log(void *userdata, const char *message)
{
	jl_log((const jetl_ctx *)userdata, JETL_LOG_WARNING, "transform: %s", message);
}

enum { ATTEMPT_OK, ATTEMPT_NOROW, ATTEMPT_DATA, ATTEMPT_DB, ATTEMPT_RETRY };

/* One try in one transaction. On ATTEMPT_DATA/ATTEMPT_DB err holds the
 * one-line cause and the transaction has been rolled back. */
static int attempt(jetl_ctx *ctx, int64_t raw_id, jetl_transform_result *res, int *direct_ok, char *err,
	size_t errlen)
{
	PGconn *pg = ctx->pg;
	int tenant = ctx->opts.tenant_id, integ = ctx->opts.integration_id;
	jl_transform_in in;
	jl_transform_out out;
	jl_catalog cat;
	jl_load_counts counts;
	PGresult *raw = NULL;
	int rc, st = ATTEMPT_DB;

	jl_catalog_init(&cat);
	jl_transform_out_init(&out);
	/* Round trip 1: BEGIN, temp tables, the raw row, the catalog. */
	rc = jl_load_begin(pg, tenant, integ, raw_id, &raw, &cat, err, errlen);
	if (rc == 1) {
		snprintf(err, errlen, "transform: no raw row %lld for tenant %d, integration %d",
			(long long)raw_id, tenant, integ);
		st = ATTEMPT_NOROW;
		goto rollback;
	}
	if (rc < 0)
		goto rollback;
	memset(&in, 0, sizeof(in));
	/* The text stays in the PGresult: no copy of the (large) row. */
	in.raw = PQgetvalue(raw, 0, 0);
	in.raw_len = (size_t)PQgetlength(raw, 0, 0);
	in.raw_id = raw_id;
	in.project_key = PQgetisnull(raw, 0, 1) ? NULL : PQgetvalue(raw, 0, 1);
	in.catalog = &cat;
	in.warn = warn_to_log;
	in.warn_userdata = ctx;
	rc = jl_transform_raw(&in, &out);
	if (rc != JETL_OK) {
		snprintf(err, errlen, "%s", out.err);
		st = rc == JETL_EDATA ? ATTEMPT_DATA : ATTEMPT_DB;
		goto rollback;
	}
	/* The raw text is no longer needed: free it before the rows go out. */
	PQclear(raw);
	raw = NULL;
	/* Then COPYs, upserts, mark completed and COMMIT in one string. */
	rc = jl_load_commit(pg, tenant, integ, raw_id, &out, *direct_ok, &counts, err, errlen);
	if (rc == -2) {
		/* A new issue was stored meanwhile: upsert this time. */
		*direct_ok = 0;
		st = ATTEMPT_RETRY;
		goto rollback;
	}
	if (rc < 0)
		goto rollback_sqlstate;
	if (res) {
		res->work_items = counts.work_items;
		res->changelog_items = counts.changelog_items;
		res->dev_status = counts.dev_status;
		res->warnings = out.warnings;
	}
	if (counts.stale)
		jl_log(ctx, JETL_LOG_INFO, "transform: raw row %lld: %lld issue(s) skipped, a newer version is stored",
			(long long)raw_id, (long long)counts.stale);
	st = ATTEMPT_OK;
	goto done;
rollback_sqlstate:
	/* 40001 serialization failure, 40P01 deadlock: run it again. */
	if (strstr(err, "deadlock detected") || strstr(err, "could not serialize"))
		st = ATTEMPT_RETRY;
	/* A value PostgreSQL refused (encoding, a bad array/JSON text the
	 * transform let through) is the raw row's fault, not the database's. */
	else if (strstr(err, "COPY jl_t_") || strstr(err, "COPY work_items") || strstr(err, "COPY changelogs") ||
		 strstr(err, "COPY dev_status") || strstr(err, "invalid input syntax") ||
		 strstr(err, "invalid byte sequence") || strstr(err, "out of range"))
		st = ATTEMPT_DATA;
rollback:
	if (PQtransactionStatus(pg) != PQTRANS_IDLE)
		PQclear(PQexec(pg, "ROLLBACK"));
done:
	PQclear(raw);
	jl_catalog_free(&cat);
	jl_transform_out_free(&out);
	return st;
}

int jl_transform_raw_ctx(jetl_ctx *ctx, int64_t raw_id, jetl_transform_result *res)
{
	char err[sizeof(ctx->err)], err2[256];
	double t0 = jl_now();
	int st = ATTEMPT_RETRY, direct_ok = 1;

	if (res) {
		unsigned int v = res->version;

		memset(res, 0, sizeof(*res));
		res->version = v;
		res->raw_id = raw_id;
	}
	err[0] = '\0';
	for (int tries = 0; tries < 3 && st == ATTEMPT_RETRY; tries++)
		st = attempt(ctx, raw_id, res, &direct_ok, err, sizeof(err));
	if (res)
		res->seconds = jl_now() - t0;
	switch (st) {
	case ATTEMPT_OK:
		return JETL_OK;
	case ATTEMPT_NOROW:
		return jl_fail(ctx, JETL_ENOENT, "%s", err);
	case ATTEMPT_DATA:
		/* Nothing of the batch was written; the row records why, and
		 * the other rows of the job go on. */
		if (jl_raw_mark_failed(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, raw_id, err,
				err2, sizeof(err2)) < 0)
			jl_log(ctx, JETL_LOG_ERROR, "transform: raw row %lld: %s", (long long)raw_id, err2);
		return jl_fail(ctx, JETL_EDATA, "transform: raw row %lld: %s", (long long)raw_id, err);
	default:
		/* A database failure may be transient: record it on the row too
		 * (when the connection still works) so an operator sees it. */
		if (!jl_store_conn_lost(ctx->pg))
			jl_raw_mark_failed(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, raw_id, err,
				err2, sizeof(err2));
		return jl_fail(ctx, JETL_EDB, "transform: raw row %lld: %s", (long long)raw_id, err);
	}
}

int jetl_transform_batch(jetl_ctx *ctx, int64_t raw_id, jetl_transform_result *result)
{
	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (result && (result->version == 0 || result->version > JETL_TRANSFORM_RESULT_VERSION))
		return jl_fail(ctx, JETL_EVERSION, "jetl_transform_batch: result version %u is not supported",
			result->version);
	if (raw_id <= 0)
		return jl_fail(ctx, JETL_EINVAL, "jetl_transform_batch: raw_id must be positive");
	if (!ctx->pg)
		return jl_fail(ctx, JETL_EDBCONN, "jetl_transform_batch: no database connection");
	return jl_transform_raw_ctx(ctx, raw_id, result);
}

/* customfield_<digits>: the only fields that have slots (the others are
 * work_items columns already). */
static int valid_field_id(const char *id)
{
	const char *p;

	if (!id || strncmp(id, "customfield_", 12) != 0 || !id[12] || strlen(id) > 64)
		return 0;
	for (p = id + 12; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

int jetl_field_map(jetl_ctx *ctx, const char *jira_field_id, int slot)
{
	char err[sizeof(ctx->err)];

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (slot < 0 || slot > JETL_FIELD_SLOTS)
		return jl_fail(ctx, JETL_EINVAL, "jetl_field_map: slot %d is out of range (1..%d, 0 unmaps)",
			slot, JETL_FIELD_SLOTS);
	if (!valid_field_id(jira_field_id))
		return jl_fail(ctx, JETL_EINVAL, "jetl_field_map: '%.64s' is not a custom field id (customfield_N)",
			jira_field_id ? jira_field_id : "(null)");
	if (!ctx->pg)
		return jl_fail(ctx, JETL_EDBCONN, "jetl_field_map: no database connection");
	if (jl_field_mapping_set(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, jira_field_id, slot,
			err, sizeof(err)) < 0)
		return jl_fail(ctx, JETL_EDB, "%s", err);
	return JETL_OK;
}
