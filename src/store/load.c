/* load.c - a transform's reads (the raw row, the catalog) and its write:
 * the rows COPied and upserted, the raw row marked, in one transaction. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl/common.h"
#include "catalog.h"
#include "copy.h"
#include "db.h"
#include "load.h"
#include "load_parts.h"
#include "stmts.h"

/* tenant_s, integration_s and raw_id_s: the three keys of a raw row as
 * statement parameters. */
#define P3(t, i, id) char t##_s[16], i##_s[16], id##_s[24]; \
	jl_store_ids(t##_s, i##_s, t, i); snprintf(id##_s, sizeof(id##_s), "%" PRId64, id)

/* Session temp tables, emptied at each commit. Typed like the final tables
 * so COPY checks every value once, and the upserts only move rows. */
static const char *const temp_ddl[] = {
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
"  custom_fields_overflow jsonb, raw_id bigint) ON COMMIT DELETE ROWS",
"CREATE TEMP TABLE IF NOT EXISTS jl_t_changelogs ("
"  ord bigserial, work_item_external_id text NOT NULL, work_item_key text, history_id text NOT NULL,"
"  item_index smallint NOT NULL, author_account_id text, author_name text, changed_at timestamptz,"
"  field text, field_id text, field_type text, from_value text, from_string text, to_value text,"
"  to_string text) ON COMMIT DELETE ROWS",
"CREATE TEMP TABLE IF NOT EXISTS jl_t_dev_status ("
"  ord bigserial, work_item_external_id text NOT NULL, pr_count integer, pr_state text,"
"  pr_open_count integer, pr_merged_count integer, pr_declined_count integer, commit_count integer,"
"  branch_count integer, repository_count integer, build_count integer, build_failed_count integer,"
"  build_successful_count integer, review_count integer, providers text[], repositories text[],"
"  last_updated timestamptz, is_stale boolean, source text, detail jsonb) ON COMMIT DELETE ROWS",
"CREATE TEMP TABLE IF NOT EXISTS jl_t_history_read (external_id text NOT NULL) ON COMMIT DELETE ROWS",
/* Probed once per stored item by the "gone items" anti-join. */
"CREATE INDEX IF NOT EXISTS jl_t_changelogs_item ON jl_t_changelogs (history_id, item_index)",
/* Probed once per stored item of the batch's issues by the same statement. */
"CREATE INDEX IF NOT EXISTS jl_t_history_read_id ON jl_t_history_read (external_id)",
/* A failed transaction leaves nothing, a committed one leaves empty
 * tables; this only matters if a caller runs load twice in one transaction.
 * DELETE, not TRUNCATE: free on empty tables, where TRUNCATE gives each
 * table and index a new file at every batch. */
"DELETE FROM jl_t_work_items", "DELETE FROM jl_t_changelogs", "DELETE FROM jl_t_dev_status",
"DELETE FROM jl_t_history_read",
};
enum { NDDL = (int)(sizeof(temp_ddl) / sizeof(temp_ddl[0])) };

#define WI_COLS "external_id, key, project_key, summary, description, issue_type, status, " \
	"status_category, priority, resolution, assignee_account_id, assignee_name, reporter_account_id, " \
	"reporter_name, parent_key, labels, components, fix_versions, sprints, story_points, created_at, " \
	"updated_at, resolved_at, due_date, code_changed, custom_field_01, custom_field_02, " \
	"custom_field_03, custom_field_04, custom_field_05, custom_field_06, custom_field_07, " \
	"custom_field_08, custom_field_09, custom_field_10, custom_field_11, custom_field_12, " \
	"custom_field_13, custom_field_14, custom_field_15, custom_field_16, custom_field_17, " \
	"custom_field_18, custom_field_19, custom_field_20, custom_fields_overflow, raw_id"

/* A newer stored `updated` wins, except against a full run (its job's
 * params say "full"): it replaces what it reads, also a row dated in the
 * future by a clock or data error (which would otherwise stay for ever),
 * keeping newer-wins only among the rows of its own job. $4: the raw row. */
#define FULL_JOB_WINS(raw_id, stored_raw_id) \
	"EXISTS (SELECT 1 FROM raw_extraction_data n JOIN etl_job_queue j ON j.id = n.job_id" \
	" WHERE n.id = " raw_id " AND j.params->>'full' = 'true' AND NOT EXISTS (SELECT 1 FROM" \
	" raw_extraction_data o WHERE o.id = " stored_raw_id " AND o.job_id = n.job_id))"

static const char drop_stale[] =
"WITH stale AS ("
"  DELETE FROM jl_t_work_items t USING work_items w"
"  WHERE w.tenant_id = $1 AND w.integration_id = $2 AND w.external_id = ANY ($3::text[])"
"    AND w.external_id = t.external_id"
"    AND w.updated_at > t.updated_at AND NOT " FULL_JOB_WINS("$4", "w.raw_id") " RETURNING t.external_id),"
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
"synced_at = EXCLUDED.synced_at, deleted_at = NULL "
/* Newer wins at the row itself too: two workers transforming two versions
 * of one issue at once both pass the earlier check; the row lock taken by
 * ON CONFLICT orders them, and this keeps the newer version. */
"WHERE work_items.updated_at IS NULL OR EXCLUDED.updated_at IS NULL "
"OR work_items.updated_at <= EXCLUDED.updated_at OR " FULL_JOB_WINS("EXCLUDED.raw_id", "work_items.raw_id");

/* Column statistics of the final tables. Without them the planner takes
 * "tenant_id = 1 AND integration_id = 1" for a handful of rows and reads
 * every row of the tenant to find a batch's issues ("= ANY" as a filter, not
 * an index condition): measured 1,900 rows read per 100-issue batch after
 * 2,000 issues, growing with the table. Autovacuum analyzes after a minute
 * at best; a first load does not wait for it. So a final table that holds
 * 1,000 rows or more while its last analysis saw fewer (or none) is analyzed
 * here: once per table in practice, a few ms. */
static const char analyze_final[] =
"DO $jl$DECLARE t regclass; n bigint; BEGIN "
"FOREACH t IN ARRAY ARRAY['work_items'::regclass, 'changelogs'::regclass] LOOP "
/* reltuples: what the last ANALYZE/VACUUM saw (-1: never ran). */
"  IF (SELECT reltuples FROM pg_class WHERE oid = t) < 1000 THEN "
"    EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM %s LIMIT 1000) x', t) INTO n; "
"    IF n >= 1000 THEN EXECUTE format('ANALYZE %s', t); END IF; "
"  END IF; "
"END LOOP; END$jl$";

/* Whether both have statistics now: once they do, analyze_final is no
 * longer sent (its PL/pgSQL block cost ~0.5 ms of each raw row's write). */
static const char final_analyzed[] =
"SELECT bool_and(reltuples >= 1000) FROM pg_class WHERE oid IN ('work_items'::regclass, 'changelogs'::regclass)";

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

/* The ids of column 0 of rs as a text[] literal: "= ANY ('{…}')" lets the
 * final tables be probed on their indexes by the batch's issues (when the
 * planner has column statistics: see analyze_final). */
static int ids_literal(jl_buf *b, const jl_rowset *rs)
{
	jl_buf_putc(b, '{');
	for (size_t r = 0; r < rs->nrows; r++) {
		const jl_cell *c = jl_rowset_cget(rs, r, 0);

		if (r)
			jl_buf_putc(b, ',');
		jl_array_elem_put(b, c->v.s, c->n);
	}
	return jl_buf_putc(b, '}');
}

static int64_t affected(PGresult *res)
{
	const char *n = PQcmdTuples(res);

	return n && *n ? strtoll(n, NULL, 10) : 0;
}

/* What jl_load_fetch_send sends, in this order: the session's client
 * encoding, the raw row, the two catalog reads. */
enum { F_ENC, F_RAW, F_MAPS, F_FIELDS, F_N };

static const char *const fetch_what[F_N] = { "set client encoding", "read raw row", "read field mappings",
	"read field catalog" };

/*
 * The reads go as one pipeline (libpq's pipeline mode: one round trip, as the
 * multi-statement string they were before) so that the raw row can come in
 * binary format: json's binary form is its text, byte for byte, and sending
 * it costs the server one copy where the text output costs a copy and a
 * strlen more. Reading the 200 raw rows of the 20,000-issue benchmark
 * (518 MB): 3.0 s of the backend's CPU as text, 1.9-2.4 s binary (of which
 * 1.6 s is detoasting).
 */
int jl_load_fetch_send(PGconn *pg, int tenant, int integration, int64_t raw_id, char *err, size_t errlen)
{
	P3(tenant, integration, raw_id);
	const char *vals[] = { tenant_s, integration_s, raw_id_s };
	int rc;

	/* Rows are read and written as UTF-8 (what jansson takes and makes),
	 * whatever the database's default client encoding is. */
	if (PQenterPipelineMode(pg) &&
	    PQsendQueryParams(pg, "SET client_encoding = 'UTF8'", 0, NULL, NULL, NULL, NULL, 0) &&
	    PQsendQueryParams(pg, "SELECT raw_data, project_key, job_id::text FROM raw_extraction_data "
		"WHERE tenant_id = $1 AND integration_id = $2 AND id = $3", 3, NULL, vals, NULL, NULL, 1) &&
	    PQsendQueryParams(pg, jl_catalog_sql_mappings, 2, NULL, vals, NULL, NULL, 0) &&
	    PQsendQueryParams(pg, jl_catalog_sql_fields, 2, NULL, vals, NULL, NULL, 0) && PQpipelineSync(pg))
		return 0;
	rc = jl_store_error(pg, NULL, "read raw row", err, errlen);
	PQexitPipelineMode(pg);   /* when nothing went out; a broken connection is reopened anyway */
	return rc;
}

/*
 * Every result of the pipeline up to its sync point: each read's result in
 * res[] (NULL when it has none), every result read either way, so the
 * connection leaves pipeline mode idle. In pipeline mode each read's result
 * is followed by a NULL, and the sync point by NULLs only: two NULLs in a
 * row before the sync mean the connection is gone. Returns 0 or the first
 * failure's status.
 */
static int fetch_results(PGconn *pg, PGresult *res[F_N], char *err, size_t errlen)
{
	int k = 0, nulls = 0, rc = 0;

	for (;;) {
		PGresult *r = PQgetResult(pg);
		ExecStatusType s;

		if (!r) {
			if (++nulls >= 2)
				break;
			k++;
			continue;
		}
		nulls = 0;
		if ((s = PQresultStatus(r)) == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (rc == 0 && s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
			rc = jl_store_error(pg, r, fetch_what[k < F_N ? k : F_N - 1], err, errlen);
		if (rc == 0 && k < F_N && !res[k])
			res[k] = r;
		else
			PQclear(r);
	}
	if (!PQexitPipelineMode(pg) && rc == 0)
		rc = jl_store_error(pg, NULL, "read raw row", err, errlen);
	if (rc == 0 && k != F_N) {
		snprintf(err, errlen, "postgresql: read raw row: %d results for %d reads", k, F_N);
		rc = jl_store_conn_lost(pg) ? JETL_EDBCONN : JETL_EDB;
	}
	return rc;
}

int jl_load_fetch_recv(PGconn *pg, PGresult **raw, jl_catalog *cat, char *err, size_t errlen)
{
	PGresult *res[F_N] = { NULL };
	int rc;

	*raw = NULL;
	if ((rc = fetch_results(pg, res, err, errlen)) == 0 && PQntuples(res[F_RAW]) == 0)
		rc = 1;
	else if (rc == 0 && (rc = jl_catalog_fill(cat, res[F_MAPS], res[F_FIELDS], err, errlen)) == 0) {
		*raw = res[F_RAW];
		res[F_RAW] = NULL;
	}
	for (int k = 0; k < F_N; k++)
		PQclear(res[k]);
	return rc;
}

/* Is any of the batch's issues stored already? work_items alone is asked:
 * an issue's changelog and dev_status rows are only ever written with its
 * work_items row, and should one be there anyway, the direct COPY fails on
 * its key and the batch goes through the upserts (1). Probing changelogs
 * too would cost ~1 s of the writer's 9 s on 20,000 issues (345k rows,
 * measured). */
static const char any_stored[] =
"SELECT EXISTS (SELECT 1 FROM work_items WHERE tenant_id = $1 AND integration_id = $2 AND external_id = ANY ($3::text[]))";

/* The batch's ids as a quoted text[] literal (PQfreemem it), or NULL when
 * out of memory. */
static char *ids_quoted(PGconn *pg, const jl_rowset *rs)
{
	jl_buf ids = JL_BUF_INIT;
	char *q = NULL;

	if (ids_literal(&ids, rs) == 0)
		q = PQescapeLiteral(pg, ids.data, ids.len);
	jl_buf_free(&ids);
	return q;
}

int jl_load_lock(PGconn *pg, int tenant, int integration, int64_t raw_id, const jl_transform_out *out,
	int *analyzed, int *fresh, char *err, size_t errlen)
{
	P3(tenant, integration, raw_id);
	const char *vals[] = { tenant_s, integration_s, raw_id_s };
	jl_buf sql = JL_BUF_INIT;
	jl_stmt st[6] = {
		{ "begin", NULL, 0, NULL, NULL },
		{ "begin", NULL, 0, NULL, NULL },
		{ "lock raw row", NULL, 1, NULL, NULL },
	};
	int rc = JETL_ENOMEM, n = 3, probe = -1, stats = -1;
	char *wq = NULL;

	*fresh = 0;
	jl_buf_puts(&sql, "BEGIN; SET LOCAL client_encoding = 'UTF8';");
	jl_sql_put(&sql, "SELECT 1 FROM raw_extraction_data "
		"WHERE tenant_id = $1 AND integration_id = $2 AND id = $3 FOR UPDATE", vals, 3);
	/* The first-load probe rides in the same round trip (one fewer per
	 * raw row: 9 -> 8 with the reads and the job's two updates). */
	if (out && out->work_items.nrows > 0) {
		if (!(wq = ids_quoted(pg, &out->work_items)))
			sql.oom = 1;
		vals[2] = wq;
		if (!*analyzed) {
			jl_buf_puts(&sql, analyze_final);
			jl_buf_putc(&sql, ';');
			st[n++] = (jl_stmt){ "analyze final tables", NULL, 0, NULL, NULL };
			jl_buf_puts(&sql, final_analyzed);
			jl_buf_putc(&sql, ';');
			stats = n;
			st[n++] = (jl_stmt){ "analyze final tables", NULL, 1, NULL, NULL };
		}
		jl_sql_put(&sql, any_stored, vals, 3);
		probe = n;
		st[n++] = (jl_stmt){ "find stored issues", NULL, 1, NULL, NULL };
	}
	if (sql.oom)
		snprintf(err, errlen, "lock raw row: out of memory");
	else if ((rc = jl_stmts_run(pg, sql.data, st, n, NULL, err, errlen)) == 0) {
		rc = PQntuples(st[2].res) == 0 ? 1 : 0;
		if (rc == 0 && probe > 0)
			*fresh = PQgetvalue(st[probe].res, 0, 0)[0] == 'f';
		if (rc == 0 && stats > 0)
			*analyzed = PQgetvalue(st[stats].res, 0, 0)[0] == 't';
	}
	for (int k = 0; k < n; k++)
		PQclear(st[k].res);
	PQfreemem(wq);
	jl_buf_free(&sql);
	return rc;
}

/* $4: NULL, or what the issues left out say (see errors_sql). */
static const char mark_completed[] =
"UPDATE raw_extraction_data SET status = 'completed', error = $4, attempts = attempts + 1, processed_at = now() "
"WHERE tenant_id = $1 AND integration_id = $2 AND id = $3";

/* An issue stored (or skipped as stale: a newer version is stored) has
 * nothing missing any more, and a raw row transformed again replaces what it
 * recorded before; so does an issue that fails again ($5: the ids it is
 * about to record), so that each issue has one record, the newest. */
static const char clear_issue_errors[] =
"DELETE FROM issue_errors WHERE tenant_id = $1 AND integration_id = $2 "
"AND (raw_id = $3 OR external_id = ANY ($4::text[]) OR external_id = ANY ($5::text[]))";

/* The ids of the issues left out, as a quoted text[] literal (NULL ids
 * left out); NULL on OOM. */
static char *error_ids_quoted(PGconn *pg, const jl_rowset *rs)
{
	jl_buf b = JL_BUF_INIT;
	char *q = NULL;
	int first = 1;

	jl_buf_putc(&b, '{');
	for (size_t r = 0; r < rs->nrows; r++) {
		const jl_cell *c = jl_rowset_cget(rs, r, 0);

		if (c->kind != JL_CELL_TEXT)
			continue;
		if (!first)
			jl_buf_putc(&b, ',');
		first = 0;
		jl_array_elem_put(&b, c->v.s, c->n);
	}
	jl_buf_putc(&b, '}');
	if (!b.oom)
		q = PQescapeLiteral(pg, b.data, b.len);
	jl_buf_free(&b);
	return q;
}

/*
 * The statements that end a raw row, after its rows: clear issue_errors of
 * the batch's issues, COPY the issues left out (only when there are some:
 * a COPY costs a round trip), mark the raw row completed with a one-line
 * note of what was left out. vals: tenant, integration, raw id, the
 * batch's ids as a quoted text[] literal. Adds to sql and to st from
 * st[0]; returns how many stmts, or -1 on OOM.
 */
static int row_done_sql(PGconn *pg, jl_buf *sql, const char *const vals[4], const jl_transform_out *out,
	char *prefix, size_t prefix_len, jl_stmt *st)
{
	const char *mv[4] = { vals[0], vals[1], vals[2], "NULL" };
	char *note = NULL, *eq = NULL;
	int n = 0;

	if (out->issue_errors.nrows > 0 && !(eq = error_ids_quoted(pg, &out->issue_errors)))
		return -1;
	jl_sql_put(sql, clear_issue_errors, (const char *const[]){ vals[0], vals[1], vals[2], vals[3],
		eq ? eq : "'{}'" }, 5);
	PQfreemem(eq);
	st[n++] = (jl_stmt){ "clear issue_errors", NULL, 0, NULL, NULL };
	if (out->issue_errors.nrows > 0) {
		char head[64];
		const jl_cell *first = jl_rowset_cget(&out->issue_errors, 0, 3);
		jl_buf txt = JL_BUF_INIT;

		snprintf(prefix, prefix_len, "%s\t%s\t%s\t", vals[0], vals[1], vals[2]);
		jl_buf_puts(sql, "COPY issue_errors (tenant_id, integration_id, raw_id, external_id, key, position, error) "
			"FROM STDIN;");
		st[n++] = (jl_stmt){ "COPY issue_errors", &out->issue_errors, 0, NULL, prefix };
		snprintf(head, sizeof(head), "%zu issue(s) not stored (see issue_errors), the first: ",
			out->issue_errors.nrows);
		jl_buf_puts(&txt, head);
		jl_buf_put(&txt, first->v.s, first->n);
		if (!txt.oom)
			note = PQescapeLiteral(pg, txt.data, txt.len);
		jl_buf_free(&txt);
		if (!note)
			return -1;
		mv[3] = note;
	}
	jl_sql_put(sql, mark_completed, mv, 4);
	st[n++] = (jl_stmt){ "mark raw row completed", NULL, 0, NULL, NULL };
	PQfreemem(note);
	return sql->oom ? -1 : n;
}

/* row_done_sql, then COMMIT: the end of one raw row's transaction. */
static int finish_sql(PGconn *pg, jl_buf *sql, const char *const vals[4], const jl_transform_out *out,
	char *prefix, size_t prefix_len, jl_stmt *st)
{
	int n = row_done_sql(pg, sql, vals, out, prefix, prefix_len, st);

	if (n < 0)
		return -1;
	jl_buf_puts(sql, "COMMIT");
	st[n++] = (jl_stmt){ "commit", NULL, 0, NULL, NULL };
	return sql->oom ? -1 : n;
}

/* Append "COPY table (tenant_id, integration_id, cols…) FROM STDIN;". */
static void copy_final_sql(jl_buf *sql, const jl_rowset *rs)
{
	jl_buf_printf(sql, "COPY %s (tenant_id, integration_id", rs->table);
	for (int i = 0; i < rs->ncols; i++)
		jl_buf_printf(sql, ",%s", rs->cols[i]);
	jl_buf_puts(sql, ") FROM STDIN;");
}

_Static_assert(JL_PARTS_GROUP_MAX == JL_LOAD_GROUP_MAX, "load_parts.h and load.h agree on a group's size");

/* The parts' rowsets of n transforms, by type (jl_parts_sql's sets). */
static void parts_of(const jl_transform_out *const *outs, int n,
	const jl_rowset *sets[JL_PART_N][JL_PARTS_GROUP_MAX])
{
	for (int p = 0; p < JL_PART_N; p++)
		for (int k = 0; k < n; k++)
			sets[p][k] = &outs[k]->parts[p];
}

/*
 * None of the batch's issues is stored yet (the first load of a project):
 * COPY the rows straight into the final tables, as a bare COPY would, with
 * no temp tables and no upserts. Same rows as the upserts would write
 * (synced_at/deleted_at take their defaults, now() of the transaction).
 * A key another transaction stored meanwhile, or an issue twice in the
 * batch, makes the COPY fail on a unique key (SQLSTATE 23505): returns 1
 * and the caller runs the batch again through the upserts.
 */
static int load_direct(PGconn *pg, const char *t, const char *i, const char *id, const char *wq,
	const jl_transform_out *out, jl_load_counts *counts, char *err, size_t errlen)
{
	const char *vals[] = { t, i, id, wq };
	char prefix[40], eprefix[64];
	jl_buf sql = JL_BUF_INIT;
	enum { D_WI, D_CL, D_DS, D_PARTS, D_FINISH = D_PARTS + JL_PARTS_MAX_STMTS };
	jl_stmt st[D_FINISH + 4] = {
		[D_WI] = { "COPY work_items", &out->work_items, 0, NULL, prefix },
		[D_CL] = { "COPY changelogs", &out->changelogs, 0, NULL, prefix },
		[D_DS] = { "COPY dev_status", &out->dev_status, 0, NULL, prefix },
	};
	char state[6];
	jl_parts_plan plan;
	const jl_rowset *sets[JL_PART_N][JL_PARTS_GROUP_MAX];
	int rc, n, np;

	snprintf(prefix, sizeof(prefix), "%s\t%s\t", t, i);
	copy_final_sql(&sql, &out->work_items);
	copy_final_sql(&sql, &out->changelogs);
	copy_final_sql(&sql, &out->dev_status);
	parts_of(&out, 1, sets);
	np = jl_parts_sql(&sql, st + D_PARTS, D_PARTS, sets, 1, 0, NULL, t, i, prefix, &plan);
	/* The statements after the parts' close up behind them. */
	n = np < 0 ? -1 : finish_sql(pg, &sql, vals, out, eprefix, sizeof(eprefix), st + D_PARTS + np);
	if (n < 0 || sql.oom) {
		jl_buf_free(&sql);
		snprintf(err, errlen, "load: out of memory");
		return JETL_ENOMEM;
	}
	rc = jl_stmts_run(pg, sql.data, st, D_PARTS + np + n, state, err, errlen);
	jl_buf_free(&sql);
	if (rc == 0)
		for (int p = 0; p < JL_PART_N; p++)
			counts->parts[p] = jl_parts_count(&plan, st, p);
	for (int k = 0; k < D_PARTS + np; k++)
		PQclear(st[k].res);
	if (rc < 0)
		return strcmp(state, "23505") == 0 ? 1 : rc;
	counts->work_items = (int64_t)out->work_items.nrows;
	counts->changelog_items = (int64_t)out->changelogs.nrows;
	counts->dev_status = (int64_t)out->dev_status.nrows;
	counts->issue_errors = (int64_t)out->issue_errors.nrows;
	return 0;
}

int jl_load_commit(PGconn *pg, int tenant, int integration, int64_t raw_id, const jl_transform_out *out,
	int analyzed, int direct, jl_load_counts *counts, char *err, size_t errlen)
{
	char t[16], i[16], id[24];
	jl_buf wids = JL_BUF_INIT, hids = JL_BUF_INIT, sql = JL_BUF_INIT;
	char *wq = NULL, *hq = NULL;
	const char *vals[] = { t, i, NULL, NULL };
	enum { S_CWI, S_CCL, S_CDS, S_CHR, S_ANALYZE_FINAL, S_STALE, S_UWI, S_DEL, S_UCL, S_UDS, S_COUNT, S_PARTS,
		S_FINISH = S_PARTS + JL_PARTS_MAX_STMTS, S_N = S_FINISH + 4 };
	jl_stmt all[NDDL + S_N];
	char eprefix[64], prefix[40];
	const jl_rowset *sets[JL_PART_N][JL_PARTS_GROUP_MAX];
	jl_parts_plan plan;
	int nfin, np;
	jl_stmt st[S_N] = {
		[S_CWI] = { "COPY jl_t_work_items", &out->work_items, 0, NULL },
		[S_CCL] = { "COPY jl_t_changelogs", &out->changelogs, 0, NULL },
		[S_CDS] = { "COPY jl_t_dev_status", &out->dev_status, 0, NULL },
		[S_CHR] = { "COPY jl_t_history_read", &out->history_read, 0, NULL },
		[S_ANALYZE_FINAL] = { "analyze final tables", NULL, 0, NULL },
		[S_STALE] = { "skip stale issues", NULL, 1, NULL },
		[S_UWI] = { "upsert work_items", NULL, 1, NULL },
		[S_DEL] = { "delete gone changelog items", NULL, 0, NULL },
		[S_UCL] = { "upsert changelogs", NULL, 0, NULL },
		[S_UDS] = { "upsert dev_status", NULL, 1, NULL },
		[S_COUNT] = { "count changelogs", NULL, 1, NULL },
	};
	int rc = JETL_ENOMEM;

	memset(counts, 0, sizeof(*counts));
	jl_store_ids(t, i, tenant, integration);
	snprintf(id, sizeof(id), "%" PRId64, raw_id);
	if (ids_literal(&wids, &out->work_items) < 0 || ids_literal(&hids, &out->history_read) < 0 ||
	    !(wq = PQescapeLiteral(pg, wids.data, wids.len)) || !(hq = PQescapeLiteral(pg, hids.data, hids.len))) {
		snprintf(err, errlen, "load: out of memory");
		goto out;
	}
	if (direct && out->work_items.nrows > 0) {
		/* New issues only (jl_load_lock's probe): a bare COPY into the
		 * final tables does the upserts' work for less. */
		rc = load_direct(pg, t, i, id, wq, out, counts, err, errlen);
		goto out;
	}
	/* Everything after the rows in one string: the upserts read what the
	 * COPYs wrote, and the whole batch costs five round trips. The temp
	 * tables are only touched on this path: a first load (load_direct)
	 * does not pay for their truncation at commit. */
	for (int k = 0; k < NDDL; k++) {
		jl_buf_puts(&sql, temp_ddl[k]);
		jl_buf_putc(&sql, ';');
	}
	jl_copy_sql(&sql, "jl_t_work_items", &out->work_items);
	jl_buf_putc(&sql, ';');
	jl_copy_sql(&sql, "jl_t_changelogs", &out->changelogs);
	jl_buf_putc(&sql, ';');
	jl_copy_sql(&sql, "jl_t_dev_status", &out->dev_status);
	jl_buf_putc(&sql, ';');
	jl_copy_sql(&sql, "jl_t_history_read", &out->history_read);
	jl_buf_putc(&sql, ';');
	/* No ANALYZE of the temp tables: it cost 5-12 ms of a ~100 ms batch,
	 * and the plans do not need it since every probe of a temp table has
	 * an index (jl_t_changelogs_item, jl_t_history_read_id) and the final
	 * tables are probed by "= ANY" on their indexes (see analyze_final). */
	if (!analyzed) {
		jl_buf_puts(&sql, analyze_final);
		jl_buf_putc(&sql, ';');
	} else {
		jl_buf_puts(&sql, "SELECT 1;");   /* keeps the statement count */
	}
	vals[2] = wq;
	vals[3] = id;
	jl_sql_put(&sql, drop_stale, vals, 4);
	jl_sql_put(&sql, upsert_work_items, vals, 2);
	vals[2] = hq;
	jl_sql_put(&sql, delete_gone_changelogs, vals, 3);
	jl_sql_put(&sql, upsert_changelogs, vals, 2);
	jl_sql_put(&sql, upsert_dev_status, vals, 2);
	/* Only differs from the batch's own count when stale issues left. */
	jl_buf_puts(&sql, "SELECT count(*) FROM jl_t_changelogs;");
	snprintf(prefix, sizeof(prefix), "%s\t%s\t", t, i);
	parts_of(&out, 1, sets);
	np = jl_parts_sql(&sql, st + S_PARTS, NDDL + S_PARTS, sets, 1, 1, &out->parts_read, t, i, prefix, &plan);
	nfin = np < 0 ? -1 : finish_sql(pg, &sql, (const char *const[]){ t, i, id, wq }, out, eprefix,
		sizeof(eprefix), st + S_PARTS + np);
	if (nfin < 0 || sql.oom) {
		snprintf(err, errlen, "load: out of memory");
		goto out;
	}
	for (int k = 0; k < NDDL; k++)
		all[k] = (jl_stmt){ "create temp tables", NULL, 0, NULL, NULL };
	memcpy(all + NDDL, st, sizeof(st));
	if ((rc = jl_stmts_run(pg, sql.data, all, NDDL + S_PARTS + np + nfin, NULL, err, errlen)) < 0)
		goto out;
	for (int p = 0; p < JL_PART_N; p++)
		counts->parts[p] = jl_parts_count(&plan, all, p);
	memcpy(st, all + NDDL, sizeof(st));
	counts->stale = strtoll(PQgetvalue(st[S_STALE].res, 0, 0), NULL, 10);
	counts->work_items = affected(st[S_UWI].res);
	counts->dev_status = affected(st[S_UDS].res);
	counts->changelog_items = strtoll(PQgetvalue(st[S_COUNT].res, 0, 0), NULL, 10);
	counts->issue_errors = (int64_t)out->issue_errors.nrows;
	for (int k = 0; k < S_N; k++)
		PQclear(st[k].res);
	rc = 0;
out:
	PQfreemem(wq);
	PQfreemem(hq);
	jl_buf_free(&wids);
	jl_buf_free(&hids);
	jl_buf_free(&sql);
	return rc;
}

/* The lock of a group's raw rows, and the check that every one is there:
 * a division by zero (SQLSTATE 22012) when one is missing. A statement has
 * no other way to fail the string it is in without a function of ours in
 * the schema; the caller falls back to one row at a time on any failure,
 * where a missing row gets its own answer (jl_load_lock). */
static const char group_lock[] =
"SELECT 1 / (count(*) = $4)::int FROM (SELECT 1 FROM raw_extraction_data "
"WHERE tenant_id = $1 AND integration_id = $2 AND id = ANY ($3::bigint[]) FOR UPDATE) r";

/* The group's statements after the lock: one COPY per final table of all
 * the rows, then each raw row's row_done_sql, then COMMIT. Returns how many
 * stmts went to st (from st[0]), or -1 on OOM. The statements point into
 * sets and psets until they run, so both are the caller's (a psets local to
 * this function was read after its scope ended: ASan's stack-use-after-scope). */
static int group_sql(PGconn *pg, jl_buf *sql, const char *t, const char *i, int n, const int64_t *raw_ids,
	const jl_transform_out *const *outs, const jl_rowset *(*sets)[JL_LOAD_GROUP_MAX],
	const jl_rowset *(*psets)[JL_PARTS_GROUP_MAX], char *prefix, char (*eprefix)[64], jl_stmt *st, int first,
	jl_parts_plan *plan)
{
	static const char *const what[3] = { "COPY work_items", "COPY changelogs", "COPY dev_status" };
	int ns = 0, np;

	for (int k = 0; k < n; k++) {
		sets[0][k] = &outs[k]->work_items;
		sets[1][k] = &outs[k]->changelogs;
		sets[2][k] = &outs[k]->dev_status;
	}
	for (int tb = 0; tb < 3; tb++) {
		copy_final_sql(sql, sets[tb][0]);
		st[ns++] = (jl_stmt){ what[tb], sets[tb][0], 0, NULL, prefix, sets[tb], n };
	}
	parts_of(outs, n, psets);
	if ((np = jl_parts_sql(sql, st + ns, first + ns, psets, n, 0, NULL, t, i, prefix, plan)) < 0)
		return -1;
	ns += np;
	for (int k = 0; k < n; k++) {
		char id[24], *wq = ids_quoted(pg, &outs[k]->work_items);
		int m;

		snprintf(id, sizeof(id), "%" PRId64, raw_ids[k]);
		m = wq ? row_done_sql(pg, sql, (const char *const[]){ t, i, id, wq }, outs[k], eprefix[k], 64, st + ns) : -1;
		PQfreemem(wq);
		if (m < 0)
			return -1;
		ns += m;
	}
	jl_buf_puts(sql, "COMMIT");
	st[ns++] = (jl_stmt){ "commit", NULL, 0, NULL, NULL };
	return sql->oom ? -1 : ns;
}

/* Raw row k's counts in a group: its own rows; a shared type's upsert
 * counts once for the group, on the first row (plan NULL for the others). */
static void group_counts(jl_load_counts *c, const jl_transform_out *out, const jl_parts_plan *plan,
	const jl_stmt *st)
{
	*c = (jl_load_counts){ (int64_t)out->work_items.nrows, (int64_t)out->changelogs.nrows,
		(int64_t)out->dev_status.nrows, 0, (int64_t)out->issue_errors.nrows, { 0 } };
	for (int p = 0; p < JL_PART_N; p++)
		c->parts[p] = jl_parts[p].scope == JL_PART_OWNED ? (int64_t)out->parts[p].nrows :
			plan ? jl_parts_count(plan, st, p) : 0;
}

int jl_load_fresh_group(PGconn *pg, int tenant, int integration, int n, const int64_t *raw_ids,
	const jl_transform_out *const *outs, jl_load_counts *counts, char *err, size_t errlen)
{
	char t[16], i[16], nn[16], prefix[40], eprefix[JL_LOAD_GROUP_MAX][64];
	const jl_rowset *sets[3][JL_LOAD_GROUP_MAX], *psets[JL_PART_N][JL_PARTS_GROUP_MAX];
	jl_stmt st[6 + 3 * JL_LOAD_GROUP_MAX + 1 + JL_PARTS_MAX_STMTS];
	jl_parts_plan plan;
	jl_buf sql = JL_BUF_INIT, ids = JL_BUF_INIT;
	char *iq = NULL;
	int ns = 3, m, rc;

	if (n < 1 || n > JL_LOAD_GROUP_MAX) {
		snprintf(err, errlen, "load: a group of %d raw rows (1 to %d)", n, JL_LOAD_GROUP_MAX);
		return JETL_EINVAL;
	}
	jl_store_ids(t, i, tenant, integration);
	snprintf(nn, sizeof(nn), "%d", n);
	snprintf(prefix, sizeof(prefix), "%s\t%s\t", t, i);
	jl_buf_putc(&ids, '{');
	for (int k = 0; k < n; k++)
		jl_buf_printf(&ids, "%s%" PRId64, k ? "," : "", raw_ids[k]);
	jl_buf_putc(&ids, '}');
	if (!ids.oom)
		iq = PQescapeLiteral(pg, ids.data, ids.len);
	st[0] = (jl_stmt){ "begin", NULL, 0, NULL, NULL };
	st[1] = (jl_stmt){ "begin", NULL, 0, NULL, NULL };
	st[2] = (jl_stmt){ "lock raw rows", NULL, 0, NULL, NULL };
	jl_buf_puts(&sql, "BEGIN; SET LOCAL client_encoding = 'UTF8';");
	jl_sql_put(&sql, group_lock, (const char *const[]){ t, i, iq ? iq : "NULL", nn }, 4);
	m = iq ? group_sql(pg, &sql, t, i, n, raw_ids, outs, sets, psets, prefix, eprefix, st + ns, ns,
		&plan) : -1;
	if (m < 0 || sql.oom) {
		snprintf(err, errlen, "load: out of memory");
		rc = JETL_ENOMEM;
	} else if ((rc = jl_stmts_run(pg, sql.data, st, ns + m, NULL, err, errlen)) == 0) {
		for (int k = 0; k < n; k++)
			group_counts(&counts[k], outs[k], k == 0 ? &plan : NULL, st);
		for (int k = 0; k < ns + m; k++)
			PQclear(st[k].res);
	}
	PQfreemem(iq);
	jl_buf_free(&ids);
	jl_buf_free(&sql);
	return rc;
}
