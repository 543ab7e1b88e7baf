/* transform_batch.c - jetl_transform_batch and jetl_field_map: read a raw
 * row, transform it (pure), write the rows, mark the row — one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl.h"
#include "../core/ctx.h"
#include "../core/util.h"
#include "integration.h"
#include "../store/db.h"
#include "../store/catalog.h"
#include "../store/load.h"
#include "../store/raw_insert.h"
#include "../transform/transform.h"
#include "transform_batch.h"

static void warn_to_log(void *userdata, const char *message)
{
	jl_log((const jetl_ctx *)userdata, JETL_LOG_WARNING, "transform: %s", message);
}

/* The row is not there (any more): JETL_ENOENT with the cause on row. */
static int no_row(jl_tb_row *row, int64_t raw_id)
{
	snprintf(row->err, sizeof(row->err), "transform: no raw row %lld for tenant %d, integration %d",
		(long long)raw_id, row->tenant, row->integration);
	return JETL_ENOENT;
}

int jl_tb_fetch_recv(jetl_ctx *ctx, int64_t raw_id, jl_tb_row *row)
{
	int rc = jl_load_fetch_recv(ctx->pg, &row->raw, &row->cat, row->err, sizeof(row->err));

	if (rc == 1)
		return no_row(row, raw_id);
	if (rc == 0 && !PQgetisnull(row->raw, 0, 2))
		row->job_id = strtoll(PQgetvalue(row->raw, 0, 2), NULL, 10);
	return rc < 0 ? rc : JETL_OK;
}

int jl_tb_transform(jetl_ctx *ctx, int64_t raw_id, jl_tb_row *row)
{
	jl_transform_in in;
	int rc;

	memset(&in, 0, sizeof(in));
	/* The text stays in the PGresult: no copy of the (large) row. */
	in.raw = PQgetvalue(row->raw, 0, 0);
	in.raw_len = (size_t)PQgetlength(row->raw, 0, 0);
	in.raw_id = raw_id;
	in.project_key = PQgetisnull(row->raw, 0, 1) ? NULL : PQgetvalue(row->raw, 0, 1);
	snprintf(row->project, sizeof(row->project), "%s", in.project_key ? in.project_key : "");
	in.catalog = &row->cat;
	in.warn = warn_to_log;
	in.warn_userdata = ctx;
	rc = jl_transform_raw(&in, &row->out);
	/* The raw text is no longer needed: free it before the rows go out. */
	PQclear(row->raw);
	row->raw = NULL;
	if (rc != JETL_OK) {
		snprintf(row->err, sizeof(row->err), "%s", row->out.err);
		return rc == JETL_EDATA ? JETL_EDATA : JETL_EDB;
	}
	return JETL_OK;
}

/* A failed write is retried here while its status says the same statements
 * may succeed (deadlock, serialization, cancel, timeout: classified by
 * SQLSTATE in src/store), a few times; then the status goes up, retriable, so
 * the message is redelivered with the raw row untouched. */
int jl_tb_write(jetl_ctx *ctx, int64_t raw_id, jl_tb_row *row, jl_load_counts *counts)
{
	PGconn *pg = ctx->pg;
	int direct_ok = 1, tries = 0, st;

	for (;;) {
		int fresh, rc = jl_load_lock(pg, row->tenant, row->integration, raw_id, direct_ok ? &row->out : NULL,
			&ctx->tables_analyzed, &fresh, row->err, sizeof(row->err));

		if (rc == 1) {
			st = no_row(row, raw_id);
		} else if (rc == 0) {
			/* COPYs, upserts, mark completed and COMMIT in one string. */
			rc = jl_load_commit(pg, row->tenant, row->integration, raw_id, &row->out, ctx->tables_analyzed,
				fresh, counts, row->err, sizeof(row->err));
			if (rc == 0) {
				ctx->loads_fresh = fresh && row->out.work_items.nrows > 0;
				return JETL_OK;
			}
			st = rc;
			if (rc == 1) {
				/* A new issue was stored meanwhile (happens once at
				 * most): upsert this time. */
				direct_ok = 0;
				tries--;
				st = JETL_EDBRETRY;
			}
		} else {
			st = rc;
		}
		jl_store_rollback(pg);
		if (st != JETL_EDBRETRY || ++tries >= 3)
			return st;
	}
}

void jl_tb_settle(jetl_ctx *ctx, int64_t raw_id, const jl_tb_row *row, const jl_load_counts *counts, int st)
{
	char err2[256];

	if (st == JETL_OK) {
		if (counts->stale)
			jl_log(ctx, JETL_LOG_INFO, "transform: raw row %lld: %lld issue(s) skipped, a newer version is stored",
				(long long)raw_id, (long long)counts->stale);
		if (counts->issue_errors)
			jl_log(ctx, JETL_LOG_WARNING, "transform: raw row %lld: %lld issue(s) not stored, see issue_errors",
				(long long)raw_id, (long long)counts->issue_errors);
		return;
	}
	if (st == JETL_ENOENT)
		return;
	if (st == JETL_EDATA || (!jetl_status_is_retriable(st) && !jl_store_conn_lost(ctx->pg)))
		if (jl_raw_mark_failed(ctx->pg, row->tenant, row->integration, raw_id, row->err, err2, sizeof(err2)) < 0)
			jl_log(ctx, JETL_LOG_ERROR, "transform: raw row %lld: %s", (long long)raw_id, err2);
}

void jl_tb_row_free(jl_tb_row *row)
{
	PQclear(row->raw);
	row->raw = NULL;
	jl_catalog_free(&row->cat);
	jl_transform_out_free(&row->out);
}

void jl_tb_row_init(jl_tb_row *row, int tenant, int integration)
{
	memset(row, 0, sizeof(*row));
	row->tenant = tenant;
	row->integration = integration;
	jl_catalog_init(&row->cat);
	jl_transform_out_init(&row->out);
}

int jl_transform_raw_ctx(jetl_ctx *ctx, int64_t raw_id, jetl_transform_result *res)
{
	double t0 = jl_now();
	jl_tb_row row;
	jl_load_counts counts;
	int st;

	if (res) {
		unsigned int v = res->version;

		memset(res, 0, sizeof(*res));
		res->version = v;
		res->raw_id = raw_id;
	}
	memset(&counts, 0, sizeof(counts));
	jl_tb_row_init(&row, ctx->opts.tenant_id, ctx->opts.integration_id);
	if ((st = jl_load_fetch_send(ctx->pg, row.tenant, row.integration, raw_id, row.err, sizeof(row.err))) == 0)
		st = jl_tb_fetch_recv(ctx, raw_id, &row);
	if (st == JETL_OK)
		st = jl_tb_transform(ctx, raw_id, &row);
	if (st == JETL_OK)
		st = jl_tb_write(ctx, raw_id, &row, &counts);
	if (res) {
		res->seconds = jl_now() - t0;
		if (st == JETL_OK) {
			res->work_items = counts.work_items;
			res->changelog_items = counts.changelog_items;
			res->dev_status = counts.dev_status;
			res->warnings = row.out.warnings;
		}
	}
	jl_tb_settle(ctx, raw_id, &row, &counts, st);
	switch (st) {
	case JETL_OK:
		break;
	case JETL_ENOENT:
		st = jl_fail(ctx, JETL_ENOENT, "%s", row.err);
		break;
	case JETL_EDATA:
	case JETL_EDBRETRY:
	case JETL_EDBCONN:
		st = jl_fail(ctx, st, "transform: raw row %lld: %s", (long long)raw_id, row.err);
		break;
	default:
		st = jl_fail(ctx, st == JETL_ENOMEM ? JETL_ENOMEM : JETL_EDB, "transform: raw row %lld: %s",
			(long long)raw_id, row.err);
		break;
	}
	jl_tb_row_free(&row);
	return st;
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
	int rc;

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
	if ((rc = jl_integration_require(ctx)) != JETL_OK)
		return rc;
	if ((rc = jl_field_mapping_set(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, jira_field_id, slot,
			err, sizeof(err))) < 0)
		return jl_fail(ctx, rc, "%s", err);
	return JETL_OK;
}
