/* load.c - raw rows, field mappings and the upserts of transformed rows. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy.h"
#include "db.h"
#include "load.h"

#define P3(t, i, id) char t##_s[16], i##_s[16], id##_s[24]; \
	snprintf(t##_s, sizeof(t##_s), "%d", t); snprintf(i##_s, sizeof(i##_s), "%d", i); \
	snprintf(id##_s, sizeof(id##_s), "%" PRId64, id)

int jl_raw_fetch(PGconn *pg, int tenant, int integration, int64_t raw_id, char **raw, size_t *raw_len,
	char **project_key, char *err, size_t errlen)
{
	P3(tenant, integration, raw_id);
	const char *params[] = { tenant_s, integration_s, raw_id_s };
	PGresult *res;

	*raw = NULL;
	*project_key = NULL;
	res = jl_store_exec(pg, "read raw row",
		"SELECT raw_data::text, project_key FROM raw_extraction_data "
		"WHERE tenant_id = $1 AND integration_id = $2 AND id = $3 FOR UPDATE",
		3, params, err, errlen);
	if (!res)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 1;
	}
	*raw_len = (size_t)PQgetlength(res, 0, 0);
	*raw = malloc(*raw_len + 1);
	if (*raw)
		memcpy(*raw, PQgetvalue(res, 0, 0), *raw_len + 1);
	if (!PQgetisnull(res, 0, 1))
		*project_key = strdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	if (!*raw) {
		snprintf(err, errlen, "read raw row: out of memory");
		return -1;
	}
	return 0;
}

int jl_raw_mark_completed(PGconn *pg, int tenant, int integration, int64_t raw_id, char *err, size_t errlen)
{
	P3(tenant, integration, raw_id);
	const char *params[] = { tenant_s, integration_s, raw_id_s };

	return jl_store_cmd(pg, "mark raw row completed",
		"UPDATE raw_extraction_data SET status = 'completed', error = NULL, "
		"attempts = attempts + 1, processed_at = now() "
		"WHERE tenant_id = $1 AND integration_id = $2 AND id = $3", 3, params, err, errlen);
}

int jl_raw_mark_failed(PGconn *pg, int tenant, int integration, int64_t raw_id, const char *error,
	char *err, size_t errlen)
{
	P3(tenant, integration, raw_id);
	const char *params[] = { tenant_s, integration_s, raw_id_s, error };

	/* A single statement is its own transaction. */
	return jl_store_cmd(pg, "mark raw row failed",
		"UPDATE raw_extraction_data SET status = 'failed', error = $4, "
		"attempts = attempts + 1, processed_at = now() "
		"WHERE tenant_id = $1 AND integration_id = $2 AND id = $3", 4, params, err, errlen);
}

int jl_catalog_read(PGconn *pg, int tenant, int integration, jl_catalog *cat, char *err, size_t errlen)
{
	char t[16], i[16];
	const char *params[] = { t, i };
	PGresult *res;
	int rc = 0;

	snprintf(t, sizeof(t), "%d", tenant);
	snprintf(i, sizeof(i), "%d", integration);
	/* Slots first: add_field fills their types from the schema. */
	res = jl_store_exec(pg, "read field mappings",
		"SELECT slot, jira_field_id, field_type FROM custom_field_mappings "
		"WHERE tenant_id = $1 AND integration_id = $2", 2, params, err, errlen);
	if (!res)
		return -1;
	for (int r = 0; r < PQntuples(res) && rc == 0; r++)
		rc = jl_catalog_set_slot(cat, atoi(PQgetvalue(res, r, 0)), PQgetvalue(res, r, 1),
			PQgetisnull(res, r, 2) ? NULL : PQgetvalue(res, r, 2));
	PQclear(res);
	if (rc)
		goto oom;
	res = jl_store_exec(pg, "read field catalog",
		"SELECT field_id, name, schema::text FROM jira_fields "
		"WHERE tenant_id = $1 AND integration_id = $2 AND (custom OR field_id LIKE 'customfield\\_%')",
		2, params, err, errlen);
	if (!res)
		return -1;
	for (int r = 0; r < PQntuples(res) && rc == 0; r++)
		rc = jl_catalog_add_field(cat, PQgetvalue(res, r, 0), PQgetisnull(res, r, 1) ? NULL : PQgetvalue(res, r, 1),
			PQgetisnull(res, r, 2) ? NULL : PQgetvalue(res, r, 2));
	PQclear(res);
	if (rc)
		goto oom;
	return 0;
oom:
	snprintf(err, errlen, "read field catalog: out of memory");
	return -1;
}

/* Session temp tables, emptied at each commit. Typed like the final tables
 * so COPY checks every value once, and the upserts only move rows. */
static const char temp_ddl[] =
"CREATE TEMP TABLE IF NOT EXISTS jl_t_work_items ("
"  ord bigserial, external_id text NOT NULL, key text, project_key text, summary text, description text,"
"  issue_type text, status text, status_category text, priority text, resolution text,"
"  assignee_account_id text, assignee_name text, reporter_account_id text, reporter_name text,"
"  parent_key text, labels text[], components text[], fix_versions text[], sprints text[],"
"  story_points numeric, created_at timestamptz, updated_at timestamptz, resolved_at timestamptz,"
"  due_date date, code_changed boolean,"
"  custom_field_01 text, custom_field_02 text, custom_field_03 text, custom_field_04 text,"
"  custom_field_05 text, custom_field_06 text, custom_field_07 text, custom_field_08 text,"
"  custom_field_09 text, custom_field_10 text, custom_field_11 text, custom_field_12 text,"
"  custom_field_13 text, custom_field_14 text, custom_field_15 text, custom_field_16 text,"
"  custom_field_17 text, custom_field_18 text, custom_field_19 text, custom_field_20 text,"
"  custom_fields_overflow jsonb, raw_id bigint) ON COMMIT DELETE ROWS;"
"CREATE TEMP TABLE IF NOT EXISTS jl_t_changelogs ("
"  ord bigserial, work_item_external_id text NOT NULL, work_item_key text, history_id text NOT NULL,"
"  item_index smallint NOT NULL, author_account_id text, author_name text, changed_at timestamptz,"
"  field text, field_id text, field_type text, from_value text, from_string text, to_value text,"
"  to_string text) ON COMMIT DELETE ROWS;"
"CREATE TEMP TABLE IF NOT EXISTS jl_t_dev_status ("
"  ord bigserial, work_item_external_id text NOT NULL, pr_count integer, pr_state text,"
"  pr_open_count integer, pr_merged_count integer, pr_declined_count integer, commit_count integer,"
"  branch_count integer, repository_count integer, build_count integer, build_failed_count integer,"
"  build_successful_count integer, review_count integer, providers text[], repositories text[],"
"  last_updated timestamptz, is_stale boolean, source text, detail jsonb) ON COMMIT DELETE ROWS;"
"CREATE TEMP TABLE IF NOT EXISTS jl_t_history_read (external_id text NOT NULL) ON COMMIT DELETE ROWS;"
/* Probed once per stored item by the "gone items" anti-join. */
"CREATE INDEX IF NOT EXISTS jl_t_changelogs_item ON jl_t_changelogs (history_id, item_index);"
/* A failed transaction leaves nothing, a committed one leaves empty
 * tables; this only matters if a caller runs load twice in one transaction. */
"TRUNCATE jl_t_work_items, jl_t_changelogs, jl_t_dev_status, jl_t_history_read";

#define WI_COLS "external_id, key, project_key, summary, description, issue_type, status, " \
	"status_category, priority, resolution, assignee_account_id, assignee_name, reporter_account_id, " \
	"reporter_name, parent_key, labels, components, fix_versions, sprints, story_points, created_at, " \
	"updated_at, resolved_at, due_date, code_changed, custom_field_01, custom_field_02, " \
	"custom_field_03, custom_field_04, custom_field_05, custom_field_06, custom_field_07, " \
	"custom_field_08, custom_field_09, custom_field_10, custom_field_11, custom_field_12, " \
	"custom_field_13, custom_field_14, custom_field_15, custom_field_16, custom_field_17, " \
	"custom_field_18, custom_field_19, custom_field_20, custom_fields_overflow, raw_id"

static const char drop_stale[] =
"WITH stale AS ("
"  DELETE FROM jl_t_work_items t USING work_items w"
"  WHERE w.tenant_id = $1 AND w.integration_id = $2 AND w.external_id = ANY ($3::text[])"
"    AND w.external_id = t.external_id"
"    AND w.updated_at > t.updated_at RETURNING t.external_id),"
" cl AS (DELETE FROM jl_t_changelogs x USING stale s WHERE x.work_item_external_id = s.external_id),"
" dv AS (DELETE FROM jl_t_dev_status x USING stale s WHERE x.work_item_external_id = s.external_id),"
" hr AS (DELETE FROM jl_t_history_read x USING stale s WHERE x.external_id = s.external_id)"
"SELECT count(*) FROM stale";

static const char upsert_work_items[] =
"INSERT INTO work_items (tenant_id, integration_id, " WI_COLS ", synced_at, deleted_at) "
"SELECT DISTINCT ON (external_id) $1::int, $2::int, " WI_COLS ", now(), NULL "
"FROM jl_t_work_items ORDER BY external_id, ord DESC "
"ON CONFLICT (tenant_id, integration_id, external_id) DO UPDATE SET "
"key = EXCLUDED.key, project_key = EXCLUDED.project_key, summary = EXCLUDED.summary, "
"description = EXCLUDED.description, issue_type = EXCLUDED.issue_type, status = EXCLUDED.status, "
"status_category = EXCLUDED.status_category, priority = EXCLUDED.priority, "
"resolution = EXCLUDED.resolution, assignee_account_id = EXCLUDED.assignee_account_id, "
"assignee_name = EXCLUDED.assignee_name, reporter_account_id = EXCLUDED.reporter_account_id, "
"reporter_name = EXCLUDED.reporter_name, parent_key = EXCLUDED.parent_key, labels = EXCLUDED.labels, "
"components = EXCLUDED.components, fix_versions = EXCLUDED.fix_versions, sprints = EXCLUDED.sprints, "
"story_points = EXCLUDED.story_points, created_at = EXCLUDED.created_at, "
"updated_at = EXCLUDED.updated_at, resolved_at = EXCLUDED.resolved_at, due_date = EXCLUDED.due_date, "
"code_changed = EXCLUDED.code_changed, "
"custom_field_01 = EXCLUDED.custom_field_01, custom_field_02 = EXCLUDED.custom_field_02, "
"custom_field_03 = EXCLUDED.custom_field_03, custom_field_04 = EXCLUDED.custom_field_04, "
"custom_field_05 = EXCLUDED.custom_field_05, custom_field_06 = EXCLUDED.custom_field_06, "
"custom_field_07 = EXCLUDED.custom_field_07, custom_field_08 = EXCLUDED.custom_field_08, "
"custom_field_09 = EXCLUDED.custom_field_09, custom_field_10 = EXCLUDED.custom_field_10, "
"custom_field_11 = EXCLUDED.custom_field_11, custom_field_12 = EXCLUDED.custom_field_12, "
"custom_field_13 = EXCLUDED.custom_field_13, custom_field_14 = EXCLUDED.custom_field_14, "
"custom_field_15 = EXCLUDED.custom_field_15, custom_field_16 = EXCLUDED.custom_field_16, "
"custom_field_17 = EXCLUDED.custom_field_17, custom_field_18 = EXCLUDED.custom_field_18, "
"custom_field_19 = EXCLUDED.custom_field_19, custom_field_20 = EXCLUDED.custom_field_20, "
"custom_fields_overflow = EXCLUDED.custom_fields_overflow, raw_id = EXCLUDED.raw_id, "
"synced_at = EXCLUDED.synced_at, deleted_at = NULL";

/* Items that left an issue's history (Jira deleted a history, or the
 * issue's rows came from a fuller log before) go; the rest stay. */
static const char delete_gone_changelogs[] =
"DELETE FROM changelogs c "
"WHERE c.tenant_id = $1 AND c.integration_id = $2 AND c.work_item_external_id = ANY ($3::text[]) "
/* $3 is the batch's list; stale issues left the temp table since. */
"  AND EXISTS (SELECT 1 FROM jl_t_history_read h WHERE h.external_id = c.work_item_external_id) "
"  AND NOT EXISTS (SELECT 1 FROM jl_t_changelogs n "
"    WHERE n.history_id = c.history_id AND n.item_index = c.item_index "
"      AND n.work_item_external_id = c.work_item_external_id)";

#define CL_COLS "work_item_external_id, work_item_key, history_id, item_index, author_account_id, " \
	"author_name, changed_at, field, field_id, field_type, from_value, from_string, to_value, to_string"

/* Rows that did not change are not rewritten (no dead tuples on reruns). */
static const char upsert_changelogs[] =
"INSERT INTO changelogs (tenant_id, integration_id, " CL_COLS ") "
"SELECT DISTINCT ON (n.history_id, n.item_index) $1::int, $2::int, " CL_COLS " "
"FROM jl_t_changelogs n JOIN (SELECT DISTINCT external_id FROM jl_t_history_read) h "
"  ON h.external_id = n.work_item_external_id "
"ORDER BY n.history_id, n.item_index, n.ord DESC "
"ON CONFLICT (tenant_id, integration_id, history_id, item_index) DO UPDATE SET "
"work_item_external_id = EXCLUDED.work_item_external_id, work_item_key = EXCLUDED.work_item_key, "
"author_account_id = EXCLUDED.author_account_id, author_name = EXCLUDED.author_name, "
"changed_at = EXCLUDED.changed_at, field = EXCLUDED.field, field_id = EXCLUDED.field_id, "
"field_type = EXCLUDED.field_type, from_value = EXCLUDED.from_value, "
"from_string = EXCLUDED.from_string, to_value = EXCLUDED.to_value, to_string = EXCLUDED.to_string "
"WHERE (changelogs.work_item_external_id, changelogs.work_item_key, changelogs.author_account_id, "
"  changelogs.author_name, changelogs.changed_at, changelogs.field, changelogs.field_id, "
"  changelogs.field_type, changelogs.from_value, changelogs.from_string, changelogs.to_value, "
"  changelogs.to_string) IS DISTINCT FROM (EXCLUDED.work_item_external_id, EXCLUDED.work_item_key, "
"  EXCLUDED.author_account_id, EXCLUDED.author_name, EXCLUDED.changed_at, EXCLUDED.field, "
"  EXCLUDED.field_id, EXCLUDED.field_type, EXCLUDED.from_value, EXCLUDED.from_string, "
"  EXCLUDED.to_value, EXCLUDED.to_string)";

#define DS_COLS "work_item_external_id, pr_count, pr_state, pr_open_count, pr_merged_count, " \
	"pr_declined_count, commit_count, branch_count, repository_count, build_count, " \
	"build_failed_count, build_successful_count, review_count, providers, repositories, " \
	"last_updated, is_stale, source, detail"

static const char upsert_dev_status[] =
"INSERT INTO dev_status (tenant_id, integration_id, " DS_COLS ", synced_at) "
"SELECT DISTINCT ON (work_item_external_id) $1::int, $2::int, " DS_COLS ", now() "
"FROM jl_t_dev_status ORDER BY work_item_external_id, ord DESC "
"ON CONFLICT (tenant_id, integration_id, work_item_external_id) DO UPDATE SET "
"pr_count = EXCLUDED.pr_count, pr_state = EXCLUDED.pr_state, pr_open_count = EXCLUDED.pr_open_count, "
"pr_merged_count = EXCLUDED.pr_merged_count, pr_declined_count = EXCLUDED.pr_declined_count, "
"commit_count = EXCLUDED.commit_count, branch_count = EXCLUDED.branch_count, "
"repository_count = EXCLUDED.repository_count, build_count = EXCLUDED.build_count, "
"build_failed_count = EXCLUDED.build_failed_count, "
"build_successful_count = EXCLUDED.build_successful_count, review_count = EXCLUDED.review_count, "
"providers = EXCLUDED.providers, repositories = EXCLUDED.repositories, "
"last_updated = EXCLUDED.last_updated, is_stale = EXCLUDED.is_stale, source = EXCLUDED.source, "
"detail = EXCLUDED.detail, synced_at = EXCLUDED.synced_at";

/* The ids of column 0 of rs as a text[] literal. Passed as a parameter,
 * "= ANY ($3)" is always an index condition, whatever the planner thinks
 * of table sizes (a table that grew since its last ANALYZE otherwise gets
 * scanned whole for every batch: measured 0.4 s per 100 issues). */
static int ids_literal(jl_buf *b, const jl_rowset *rs)
{
	jl_buf_putc(b, '{');
	for (size_t r = 0; r < rs->nrows; r++) {
		const jl_cell *c = jl_rowset_cget(rs, r, 0);

		if (r)
			jl_buf_putc(b, ',');
		jl_buf_putc(b, '"');
		for (uint32_t i = 0; i < c->n; i++) {
			if (c->v.s[i] == '"' || c->v.s[i] == '\\')
				jl_buf_putc(b, '\\');
			jl_buf_putc(b, c->v.s[i]);
		}
		jl_buf_putc(b, '"');
	}
	return jl_buf_putc(b, '}');
}

static int64_t affected(PGresult *res)
{
	const char *n = PQcmdTuples(res);

	return n && *n ? strtoll(n, NULL, 10) : 0;
}

int jl_load_rows(PGconn *pg, int tenant, int integration, const jl_transform_out *out,
	jl_load_counts *counts, char *err, size_t errlen)
{
	char t[16], i[16];
	jl_buf wids = JL_BUF_INIT, hids = JL_BUF_INIT;
	const char *params[] = { t, i, NULL };
	PGresult *res;
	int rc = -1;

	memset(counts, 0, sizeof(*counts));
	if (ids_literal(&wids, &out->work_items) < 0 || ids_literal(&hids, &out->history_read) < 0) {
		snprintf(err, errlen, "load: out of memory");
		goto out;
	}
	snprintf(t, sizeof(t), "%d", tenant);
	snprintf(i, sizeof(i), "%d", integration);
	/* Several statements: the simple protocol (PQexec), one round trip. */
	res = PQexec(pg, temp_ddl);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		jl_store_error(pg, res, "create temp tables", err, errlen);
		PQclear(res);
		goto out;
	}
	PQclear(res);
	if (jl_copy_rowset(pg, "jl_t_work_items", &out->work_items, err, errlen) < 0 ||
	    jl_copy_rowset(pg, "jl_t_changelogs", &out->changelogs, err, errlen) < 0 ||
	    jl_copy_rowset(pg, "jl_t_dev_status", &out->dev_status, err, errlen) < 0 ||
	    jl_copy_rowset(pg, "jl_t_history_read", &out->history_read, err, errlen) < 0)
		goto out;
	/* Temp tables have no statistics until analysed: without them the
	 * planner picks nested loops over thousands of rows (measured: 7x
	 * slower per batch). ANALYZE of three small tables costs ~1 ms. */
	res = PQexec(pg, "ANALYZE jl_t_work_items, jl_t_changelogs, jl_t_dev_status, jl_t_history_read");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		jl_store_error(pg, res, "analyze temp tables", err, errlen);
		PQclear(res);
		goto out;
	}
	PQclear(res);
	params[2] = wids.data;
	if (!(res = jl_store_exec(pg, "skip stale issues", drop_stale, 3, params, err, errlen)))
		goto out;
	counts->stale = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (!(res = jl_store_exec(pg, "upsert work_items", upsert_work_items, 2, params, err, errlen)))
		goto out;
	counts->work_items = affected(res);
	PQclear(res);
	params[2] = hids.data;
	if (jl_store_cmd(pg, "delete gone changelog items", delete_gone_changelogs, 3, params, err, errlen) < 0 ||
	    jl_store_cmd(pg, "upsert changelogs", upsert_changelogs, 2, params, err, errlen) < 0)
		goto out;
	if (!(res = jl_store_exec(pg, "upsert dev_status", upsert_dev_status, 2, params, err, errlen)))
		goto out;
	counts->dev_status = affected(res);
	PQclear(res);
	counts->changelog_items = (int64_t)out->changelogs.nrows;
	if (counts->stale) {
		/* Only then does the batch's own count differ from what stayed. */
		if (!(res = jl_store_exec(pg, "count changelogs", "SELECT count(*) FROM jl_t_changelogs", 0, NULL,
				err, errlen)))
			goto out;
		counts->changelog_items = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
	}
	rc = 0;
out:
	jl_buf_free(&wids);
	jl_buf_free(&hids);
	return rc;
}

int jl_field_mapping_set(PGconn *pg, int tenant, int integration, const char *field_id, int slot,
	char *err, size_t errlen)
{
	char t[16], i[16], s[8];
	const char *params[] = { t, i, field_id, s };

	snprintf(t, sizeof(t), "%d", tenant);
	snprintf(i, sizeof(i), "%d", integration);
	snprintf(s, sizeof(s), "%d", slot);
	if (jl_store_cmd(pg, "begin", "BEGIN", 0, NULL, err, errlen) < 0)
		return -1;
	/* Free the field's old slot first: jira_field_id is unique per integration. */
	if (jl_store_cmd(pg, "unmap field",
			"DELETE FROM custom_field_mappings WHERE tenant_id = $1 AND integration_id = $2 "
			"AND (jira_field_id = $3 OR slot = $4::smallint)", 4, params, err, errlen) < 0)
		goto fail;
	if (slot > 0 && jl_store_cmd(pg, "map field",
			"INSERT INTO custom_field_mappings (tenant_id, integration_id, slot, jira_field_id, name, field_type) "
			"SELECT $1::int, $2::int, $4::smallint, $3, f.name, f.schema->>'type' "
			"FROM (SELECT 1) one LEFT JOIN jira_fields f "
			"  ON f.tenant_id = $1::int AND f.integration_id = $2::int AND f.field_id = $3",
			4, params, err, errlen) < 0)
		goto fail;
	if (jl_store_cmd(pg, "commit", "COMMIT", 0, NULL, err, errlen) < 0)
		goto fail;
	return 0;
fail:
	PQclear(PQexec(pg, "ROLLBACK"));
	return -1;
}
