/* stored.c - what the extraction asks about issues already stored: which of
 * a page are stored with exactly the `updated` Jira reports (not fetched
 * again), and whether a project has any live stored issue (a run without a
 * watermark resumes). */
#include <stdio.h>

#include "jetl/common.h"
#include "db.h"
#include "stored.h"

int jl_stored_unchanged(PGconn *pg, int tenant, int integration, const char *ids_json, const char *updated_json,
	PGresult **out, char *err, size_t errlen)
{
	char t[16], i[16];
	const char *p[4] = { t, i, ids_json, updated_json };

	jl_store_ids(t, i, tenant, integration);
	return jl_store_query(pg, "checking issues already stored",
		"SELECT u.ord - 1 FROM json_array_elements_text($3::json) WITH ORDINALITY AS u(id, ord)"
		" JOIN json_array_elements_text($4::json) WITH ORDINALITY AS v(upd, ord) ON v.ord = u.ord"
		" JOIN work_items w ON w.tenant_id = $1 AND w.integration_id = $2 AND w.external_id = u.id"
		" WHERE v.upd <> '' AND w.deleted_at IS NULL AND w.updated_at = v.upd::timestamptz",
		4, p, out, err, errlen);
}

int jl_stored_project_live(PGconn *pg, int tenant, int integration, const char *project, int *any,
	char *err, size_t errlen)
{
	char t[16], i[16];
	const char *p[3] = { t, i, project };
	int64_t n = 0;
	int rc;

	jl_store_ids(t, i, tenant, integration);
	rc = jl_store_int64(pg, "looking for stored issues of the project",
		"SELECT count(*) FROM (SELECT 1 FROM work_items WHERE tenant_id = $1 AND integration_id = $2"
		" AND project_key = $3 AND deleted_at IS NULL LIMIT 1) x", 3, p, &n, err, errlen);
	*any = n > 0;
	return rc < 0 ? rc : 0;
}
