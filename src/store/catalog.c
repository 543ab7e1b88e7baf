/* catalog.c - jira_fields, projects, and the census of issue ids. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "../model/catalog.h"
#include "db.h"

int jl_catalog_fields(PGconn *pg, int tenant, int integration, const char *fields_json,
	int64_t *count, char *err, size_t errlen)
{
	char t[16], i[16];
	const char *p[3] = { t, i, fields_json };

	jl_store_ids(t, i, tenant, integration);
	return jl_store_int64(pg, "storing jira_fields",
		"WITH f AS (SELECT DISTINCT ON (e->>'id') e FROM json_array_elements($3::json) e"
		"  WHERE e->>'id' IS NOT NULL),"
		" u AS (INSERT INTO jira_fields (tenant_id, integration_id, field_id, name, custom, schema)"
		"  SELECT $1, $2, e->>'id', e->>'name', coalesce((e->>'custom')::boolean, false), (e->'schema')::jsonb FROM f"
		"  ON CONFLICT (tenant_id, integration_id, field_id) DO UPDATE SET name = excluded.name,"
		"  custom = excluded.custom, schema = excluded.schema RETURNING 1)"
		" SELECT count(*) FROM u", 3, p, count, err, errlen);
}

int jl_census_begin(PGconn *pg, char *err, size_t errlen)
{
	if (jl_store_cmd(pg, "starting the census",
			"CREATE TEMP TABLE IF NOT EXISTS jetl_census (id text PRIMARY KEY)", 0, NULL, err, errlen) < 0)
		return -1;
	return jl_store_cmd(pg, "starting the census", "TRUNCATE jetl_census", 0, NULL, err, errlen);
}

int jl_census_add(PGconn *pg, const char *ids_json_array, char *err, size_t errlen)
{
	const char *p[1] = { ids_json_array };

	return jl_store_cmd(pg, "recording the census",
		"INSERT INTO jetl_census SELECT json_array_elements_text($1::json) ON CONFLICT DO NOTHING",
		1, p, err, errlen);
}

int jl_census_mark_deleted(PGconn *pg, int tenant, int integration, const char *project, int64_t job_id,
	int allow_mass, int64_t *marked, int64_t *refused, int64_t *healed, char *err, size_t errlen)
{
	char t[16], i[16], job[24], share[8], floor_n[8];
	const char *p[7] = { t, i, project, job, allow_mass ? "true" : "false", share, floor_n };
	PGresult *r;

	jl_store_ids(t, i, tenant, integration);
	snprintf(job, sizeof(job), "%" PRId64, job_id);
	snprintf(share, sizeof(share), "%d", JL_CENSUS_MAX_SHARE);
	snprintf(floor_n, sizeof(floor_n), "%d", JL_CENSUS_FEW);
	/* The census is listed before (Server) or apart from (Cloud, filtered)
	 * the pages, so an issue created in between is read and may already be
	 * stored, by this job's raw row, without being in it. Rows whose raw row
	 * is this job's were seen alive by this run: never deleted by it. The
	 * job link is on every row the run writes, whatever path read it (pages,
	 * re-reads by id, the Cloud filtered listing), where adding the pages'
	 * ids to the census would mean taking ids out of each batch's raw text.
	 * Cheap on 100k issues: the census anti-join leaves only the few rows it
	 * misses, and each of those is one primary-key probe of raw_extraction_data.
	 * Missing more than $6 % of the live issues (and more than $7) looks
	 * like an answer that lost them, not deletions: nothing is marked unless
	 * $5 confirms. Rows marked before that the census shows are live again. */
	r = jl_store_exec(pg, "marking deleted issues",
		"WITH gone AS (SELECT w.external_id FROM work_items w WHERE w.tenant_id = $1"
		"  AND w.integration_id = $2 AND w.project_key = $3 AND w.deleted_at IS NULL"
		"  AND NOT EXISTS (SELECT 1 FROM jetl_census c WHERE c.id = w.external_id)"
		"  AND NOT EXISTS (SELECT 1 FROM raw_extraction_data r WHERE r.id = w.raw_id AND r.job_id = $4)),"
		" n AS (SELECT (SELECT count(*) FROM gone) AS gone, (SELECT count(*) FROM work_items w"
		"  WHERE w.tenant_id = $1 AND w.integration_id = $2 AND w.project_key = $3 AND w.deleted_at IS NULL) AS live),"
		" ok AS (SELECT $5::boolean OR gone <= $7::int OR gone * 100 <= live * $6::int AS yes FROM n),"
		" u AS (UPDATE work_items w SET deleted_at = now() FROM gone g, ok WHERE ok.yes"
		"  AND w.tenant_id = $1 AND w.integration_id = $2 AND w.external_id = g.external_id RETURNING 1),"
		" h AS (UPDATE work_items w SET deleted_at = NULL FROM jetl_census c WHERE w.tenant_id = $1"
		"  AND w.integration_id = $2 AND w.external_id = c.id AND w.deleted_at IS NOT NULL RETURNING 1)"
		" SELECT (SELECT count(*) FROM u), CASE WHEN ok.yes THEN 0 ELSE n.gone END, (SELECT count(*) FROM h)"
		" FROM n, ok",
		7, p, err, errlen);
	if (!r)
		return -1;
	*marked = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	*refused = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	*healed = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	PQclear(r);
	return 0;
}

int jl_catalog_list(PGconn *pg, int tenant, int integration, PGresult **out, char *err, size_t errlen)
{
	char t[16], i[16];
	const char *p[2] = { t, i };

	jl_store_ids(t, i, tenant, integration);
	return jl_store_query(pg, "listing fields",
		"SELECT f.field_id, coalesce(f.name, ''), coalesce(f.schema->>'type', ''), f.custom, coalesce(m.slot, 0)"
		" FROM jira_fields f LEFT JOIN custom_field_mappings m ON m.tenant_id = f.tenant_id"
		" AND m.integration_id = f.integration_id AND m.jira_field_id = f.field_id"
		" WHERE f.tenant_id = $1 AND f.integration_id = $2 ORDER BY f.custom, f.field_id",
		2, p, out, err, errlen);
}

/* Slots first: add_field fills their types from the schema. */
const char jl_catalog_sql_mappings[] = "SELECT slot, jira_field_id, field_type FROM custom_field_mappings "
	"WHERE tenant_id = $1 AND integration_id = $2";
const char jl_catalog_sql_fields[] = "SELECT field_id, name, schema::text FROM jira_fields "
	"WHERE tenant_id = $1 AND integration_id = $2 AND (custom OR field_id LIKE 'customfield\\_%')";

int jl_catalog_fill(jl_catalog *cat, const PGresult *maps, const PGresult *fields, char *err, size_t errlen)
{
	int rc = 0;

	for (int r = 0; r < PQntuples(maps) && rc == 0; r++)
		rc = jl_catalog_set_slot(cat, atoi(PQgetvalue(maps, r, 0)), PQgetvalue(maps, r, 1),
			PQgetisnull(maps, r, 2) ? NULL : PQgetvalue(maps, r, 2));
	for (int r = 0; r < PQntuples(fields) && rc == 0; r++)
		rc = jl_catalog_add_field(cat, PQgetvalue(fields, r, 0),
			PQgetisnull(fields, r, 1) ? NULL : PQgetvalue(fields, r, 1),
			PQgetisnull(fields, r, 2) ? NULL : PQgetvalue(fields, r, 2));
	if (rc) {
		snprintf(err, errlen, "read field catalog: out of memory");
		return JETL_ENOMEM;
	}
	return 0;
}

int jl_catalog_read(PGconn *pg, int tenant, int integration, jl_catalog *cat, char *err, size_t errlen)
{
	char t[16], i[16];
	const char *params[] = { t, i };
	PGresult *maps, *fields;
	int rc;

	jl_store_ids(t, i, tenant, integration);
	if ((rc = jl_store_query(pg, "read field mappings", jl_catalog_sql_mappings, 2, params, &maps, err, errlen)) < 0)
		return rc;
	if ((rc = jl_store_query(pg, "read field catalog", jl_catalog_sql_fields, 2, params, &fields, err, errlen)) < 0) {
		PQclear(maps);
		return rc;
	}
	rc = jl_catalog_fill(cat, maps, fields, err, errlen);
	PQclear(maps);
	PQclear(fields);
	return rc;
}

int jl_field_mapping_set(PGconn *pg, int tenant, int integration, const char *field_id, int slot,
	char *err, size_t errlen)
{
	char t[16], i[16], s[8];
	const char *params[] = { t, i, field_id, s };
	int rc;

	jl_store_ids(t, i, tenant, integration);
	snprintf(s, sizeof(s), "%d", slot);
	if ((rc = jl_store_begin(pg, "map field", err, errlen)) < 0)
		return rc;
	/* Free the field's old slot first: jira_field_id is unique per integration. */
	if ((rc = jl_store_cmd(pg, "unmap field",
			"DELETE FROM custom_field_mappings WHERE tenant_id = $1 AND integration_id = $2 "
			"AND (jira_field_id = $3 OR slot = $4::smallint)", 4, params, err, errlen)) < 0)
		goto fail;
	if (slot > 0 && (rc = jl_store_cmd(pg, "map field",
			"INSERT INTO custom_field_mappings (tenant_id, integration_id, slot, jira_field_id, name, field_type) "
			"SELECT $1::int, $2::int, $4::smallint, $3, f.name, f.schema->>'type' "
			"FROM (SELECT 1) one LEFT JOIN jira_fields f "
			"  ON f.tenant_id = $1::int AND f.integration_id = $2::int AND f.field_id = $3",
			4, params, err, errlen)) < 0)
		goto fail;
	if ((rc = jl_store_commit(pg, "map field", err, errlen)) < 0)
		goto fail;
	return 0;
fail:
	jl_store_rollback(pg);
	return rc;
}
