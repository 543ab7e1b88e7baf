/* integrations.c - SQL of the integrations table and of the metadata that
 * discovery writes per integration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl/common.h"
#include "db.h"
#include "integrations.h"

#define COLS "tenant_id, id, name, provider, base_url, flavor, auth, coalesce(username, ''), " \
	"coalesce(secret, ''), active, settings::text, extract(epoch FROM created_at), " \
	"extract(epoch FROM updated_at)"

static PGresult *query(PGconn *pg, const char *what, const char *sql, int n, const char *const *p,
	int *rc, char *err, size_t errlen)
{
	PGresult *r = NULL;

	*rc = jl_store_query(pg, what, sql, n, p, &r, err, errlen);
	return r;
}

PGresult *jl_integrations_select(PGconn *pg, int tenant, int id, int *rc, char *err, size_t errlen)
{
	char t[16], i[16];
	const char *p[2] = { t, i };
	PGresult *r;

	jl_store_ids(t, i, tenant, id);
	r = query(pg, "reading integrations",
		"SELECT " COLS " FROM integrations WHERE tenant_id = $1 AND ($2::int = 0 OR id = $2::int) ORDER BY id",
		2, p, rc, err, errlen);
	if (!r && *rc == JETL_EDB) {
		/* Not migrated yet? Asked of the catalog, not read from the message. */
		int64_t there = 1;
		char e2[256];

		if (jl_store_int64(pg, "looking for the integrations table",
				"SELECT (to_regclass('integrations') IS NOT NULL)::int", 0, NULL, &there, e2, sizeof(e2)) == 0 &&
		    !there)
			*rc = JETL_ESCHEMA;
	}
	return r;
}

int jl_integrations_peek_id(PGconn *pg, int *id, char *err, size_t errlen)
{
	int64_t v = 0;
	int rc;

	/* Adders take turns until their commit, so the id read here stays
	 * theirs; the lock comes first, in its own statement, so that the
	 * read below sees the rows and the sequence of the adder before. */
	rc = jl_store_cmd(pg, "picking an integration id",
		"SELECT pg_advisory_xact_lock(hashtext('jetl.integrations_id'))", 0, NULL, err, errlen);
	/* Past every id chosen by hand too, so an automatic id never collides;
	 * past every id handed out before (a removed integration's data stays:
	 * its id is never given again). */
	if (rc == 0)
		rc = jl_store_int64(pg, "picking an integration id",
			"SELECT greatest(CASE WHEN is_called THEN last_value + 1 ELSE last_value END,"
			" (SELECT coalesce(max(id), 0) + 1 FROM integrations)) FROM integrations_id_seq",
			0, NULL, &v, err, errlen);
	*id = (int)v;
	return rc;
}

int jl_integrations_take_id(PGconn *pg, int id, char *err, size_t errlen)
{
	char i[16];
	const char *p[1] = { i };

	snprintf(i, sizeof(i), "%d", id);
	return jl_store_cmd(pg, "picking an integration id",
		"SELECT setval('integrations_id_seq', $1::bigint)", 1, p, err, errlen);
}

int jl_integrations_insert(PGconn *pg, int tenant, int id, const char *name, const char *base_url,
	const char *flavor, const char *auth, const char *user, const char *secret, int active,
	const char *settings, char *err, size_t errlen)
{
	char t[16], i[16];
	const char *p[10] = { t, i, name, base_url, flavor, auth, user && *user ? user : NULL, secret,
		active ? "t" : "f", settings ? settings : "{}" };

	jl_store_ids(t, i, tenant, id);
	return jl_store_cmd(pg, "adding the integration",
		"INSERT INTO integrations (tenant_id, id, name, base_url, flavor, auth, username, secret, active,"
		" settings) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)", 10, p, err, errlen);
}

static int count_cmd(PGconn *pg, const char *what, const char *sql, int n, const char *const *p,
	int *found, char *err, size_t errlen)
{
	int64_t c = 0;
	int rc = jl_store_int64(pg, what, sql, n, p, &c, err, errlen);

	if (found)
		*found = c > 0;
	return rc;
}

int jl_integrations_update(PGconn *pg, int tenant, int id, const char *name, const char *base_url,
	const char *flavor, const char *auth, const char *user, int active, const char *settings,
	int *found, char *err, size_t errlen)
{
	char t[16], i[16];
	const char *p[9] = { t, i, name, base_url, flavor, auth, user && *user ? user : NULL,
		active ? "t" : "f", settings ? settings : "{}" };

	jl_store_ids(t, i, tenant, id);
	return count_cmd(pg, "updating the integration",
		"WITH u AS (UPDATE integrations SET name = $3, base_url = $4, flavor = $5, auth = $6,"
		" username = $7, active = $8, settings = $9::jsonb, updated_at = now()"
		" WHERE tenant_id = $1 AND id = $2 RETURNING 1) SELECT count(*) FROM u", 9, p, found, err, errlen);
}

int jl_integrations_set_secret(PGconn *pg, int tenant, int id, const char *secret, int *found,
	char *err, size_t errlen)
{
	char t[16], i[16];
	const char *p[3] = { t, i, secret };

	jl_store_ids(t, i, tenant, id);
	return count_cmd(pg, "storing the integration's secret",
		"WITH u AS (UPDATE integrations SET secret = $3, updated_at = now()"
		" WHERE tenant_id = $1 AND id = $2 RETURNING 1) SELECT count(*) FROM u", 3, p, found, err, errlen);
}

int jl_integrations_delete(PGconn *pg, int tenant, int id, int *found, char *err, size_t errlen)
{
	char t[16], i[16];
	const char *p[2] = { t, i };

	jl_store_ids(t, i, tenant, id);
	return count_cmd(pg, "removing the integration",
		"WITH u AS (DELETE FROM integrations WHERE tenant_id = $1 AND id = $2 RETURNING 1)"
		" SELECT count(*) FROM u", 2, p, found, err, errlen);
}

/*
 * One rule for what discovery writes (projects, issue types, statuses):
 * each element of Jira's list with an id is upserted and active, and the
 * integration's rows that Jira no longer lists become inactive (kept: the
 * data that names them stays). One statement, so a failure leaves the
 * table as it was. The tables differ only in their columns, named here.
 */
struct meta_table {
	const char *what;    /* for the error: "storing issue types" */
	const char *table;
	const char *src_if;  /* more conditions on an element ("" for none) */
	const char *cols;    /* the columns after external_id ... */
	const char *vals;    /* ... their values from element e ... */
	const char *sets;    /* ... and what an update sets besides active, updated_at */
};

static int meta_sync(PGconn *pg, const struct meta_table *m, int nparams, const char *const *p, int64_t *n,
	char *err, size_t errlen)
{
	char sql[2048];
	int len = snprintf(sql, sizeof(sql),
		"WITH src AS (SELECT DISTINCT ON (e->>'id') e FROM json_array_elements($3::json) e"
		"  WHERE e->>'id' IS NOT NULL%s),"
		" up AS (INSERT INTO %s (tenant_id, integration_id, external_id, %s, active, updated_at)"
		"  SELECT $1::int, $2::int, e->>'id', %s, true, now() FROM src"
		"  ON CONFLICT (tenant_id, integration_id, external_id) DO UPDATE SET %s, active = true,"
		"  updated_at = now() RETURNING 1),"
		" gone AS (UPDATE %s SET active = false, updated_at = now() WHERE tenant_id = $1::int"
		"  AND integration_id = $2::int AND active AND external_id NOT IN (SELECT e->>'id' FROM src) RETURNING 1)"
		" SELECT (SELECT count(*) FROM up) + 0 * (SELECT count(*) FROM gone)",
		m->src_if, m->table, m->cols, m->vals, m->sets, m->table);

	if (len < 0 || (size_t)len >= sizeof(sql)) {
		snprintf(err, errlen, "%s: statement too long", m->what);   /* the tables above fit */
		return JETL_EDB;
	}
	return jl_store_int64(pg, m->what, sql, nparams, p, n, err, errlen);
}

int jl_meta_projects(PGconn *pg, int tenant, int integration, const char *json, const char *selected_keys,
	int64_t *n, char *err, size_t errlen)
{
	/* $4, the selection (JSON array of keys, NULL to keep each row's) */
	static const struct meta_table m = { "storing projects", "projects", " AND e->>'key' IS NOT NULL",
		"key, name, project_type, selected",
		"e->>'key', e->>'name', coalesce(e->>'projectTypeKey', e->>'projectType'),"
		" coalesce(e->>'key' IN (SELECT json_array_elements_text($4::json)), false)",
		"key = excluded.key, name = excluded.name, project_type = excluded.project_type,"
		" selected = CASE WHEN $4::json IS NULL THEN projects.selected ELSE excluded.selected END" };
	char t[16], i[16];
	const char *p[4] = { t, i, json, selected_keys };

	jl_store_ids(t, i, tenant, integration);
	return meta_sync(pg, &m, 4, p, n, err, errlen);
}

int jl_meta_issue_types(PGconn *pg, int tenant, int integration, const char *json, int64_t *n,
	char *err, size_t errlen)
{
	static const struct meta_table m = { "storing issue types", "issue_types", "",
		"name, description, subtask, hierarchy_level",
		"e->>'name', e->>'description', coalesce((e->>'subtask')::boolean, false), (e->>'hierarchyLevel')::int",
		"name = excluded.name, description = excluded.description, subtask = excluded.subtask,"
		" hierarchy_level = excluded.hierarchy_level" };
	char t[16], i[16];
	const char *p[3] = { t, i, json };

	jl_store_ids(t, i, tenant, integration);
	return meta_sync(pg, &m, 3, p, n, err, errlen);
}

int jl_meta_statuses(PGconn *pg, int tenant, int integration, const char *json, int64_t *n,
	char *err, size_t errlen)
{
	static const struct meta_table m = { "storing statuses", "statuses", "",
		"name, category_key, category_name",
		"e->>'name', e->'statusCategory'->>'key', e->'statusCategory'->>'name'",
		"name = excluded.name, category_key = excluded.category_key, category_name = excluded.category_name" };
	char t[16], i[16];
	const char *p[3] = { t, i, json };

	jl_store_ids(t, i, tenant, integration);
	return meta_sync(pg, &m, 3, p, n, err, errlen);
}

int jl_meta_select(PGconn *pg, int tenant, int integration, const char *keys_json, char *err, size_t errlen)
{
	char t[16], i[16];
	const char *p[3] = { t, i, keys_json };

	jl_store_ids(t, i, tenant, integration);
	return jl_store_cmd(pg, "selecting projects",
		"UPDATE projects SET selected = key IN (SELECT json_array_elements_text($3::json)), updated_at = now()"
		" WHERE tenant_id = $1 AND integration_id = $2"
		" AND selected IS DISTINCT FROM (key IN (SELECT json_array_elements_text($3::json)))",
		3, p, err, errlen);
}

PGresult *jl_meta_extract_keys(PGconn *pg, int tenant, int integration, int *rc, char *err, size_t errlen)
{
	char t[16], i[16];
	const char *p[2] = { t, i };

	jl_store_ids(t, i, tenant, integration);
	return query(pg, "listing the projects to extract",
		"SELECT key FROM projects WHERE tenant_id = $1 AND integration_id = $2 AND active"
		" AND (selected OR NOT EXISTS (SELECT 1 FROM projects s WHERE s.tenant_id = $1"
		"  AND s.integration_id = $2 AND s.active AND s.selected)) ORDER BY key", 2, p, rc, err, errlen);
}

PGresult *jl_meta_project_rows(PGconn *pg, int tenant, int integration, int *rc, char *err, size_t errlen)
{
	char t[16], i[16];
	const char *p[2] = { t, i };

	jl_store_ids(t, i, tenant, integration);
	return query(pg, "listing projects",
		"SELECT key, external_id, coalesce(name, ''), coalesce(project_type, ''), active, selected"
		" FROM projects WHERE tenant_id = $1 AND integration_id = $2 ORDER BY key", 2, p, rc, err, errlen);
}

int jl_integrations_sealed(PGconn *pg, PGresult **out, char *err, size_t errlen)
{
	return jl_store_query(pg, "rotating the key",
		"SELECT tenant_id, id, secret FROM integrations WHERE secret LIKE 'enc:%'"
		" ORDER BY tenant_id, id FOR UPDATE", 0, NULL, out, err, errlen);
}

int jl_integrations_set_projects(PGconn *pg, int tenant, int id, const char *keys_json, char *err, size_t errlen)
{
	char t[16], i[16];
	const char *p[3] = { t, i, keys_json };

	jl_store_ids(t, i, tenant, id);
	return jl_store_cmd(pg, "selecting projects",
		"UPDATE integrations SET settings = jsonb_set(settings, '{projects}', $3::jsonb),"
		" updated_at = now() WHERE tenant_id = $1 AND id = $2 AND to_regclass('integrations') IS NOT NULL",
		3, p, err, errlen);
}
