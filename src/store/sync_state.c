/* sync_state.c - per-project incremental watermarks and the JQL they cover. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "sync_state.h"

int jl_sync_get(PGconn *pg, int tenant, int integration, const char *project,
	int64_t *epoch, int *found, char *scope, size_t scopelen, char *err, size_t errlen)
{
	char t[16], i[16];
	const char *p[3] = { t, i, project };
	PGresult *r;

	jl_store_ids(t, i, tenant, integration);
	r = jl_store_exec(pg, "reading sync_state",
		"SELECT floor(extract(epoch FROM watermark))::bigint, scope FROM sync_state"
		" WHERE tenant_id = $1 AND integration_id = $2 AND project_key = $3 AND watermark IS NOT NULL",
		3, p, err, errlen);
	if (!r)
		return -1;
	*found = PQntuples(r) > 0;
	*epoch = *found ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	if (scope && scopelen)
		snprintf(scope, scopelen, "%s", *found ? PQgetvalue(r, 0, 1) : "");
	PQclear(r);
	return 0;
}

int jl_sync_set(PGconn *pg, int tenant, int integration, const char *project,
	int64_t epoch, int64_t job_id, const char *scope, int replace, char *err, size_t errlen)
{
	char t[16], i[16], e[24], j[24];
	const char *p[7] = { t, i, project, e, j, scope ? scope : "", replace ? "true" : "false" };

	jl_store_ids(t, i, tenant, integration);
	snprintf(e, sizeof(e), "%" PRId64, epoch);
	snprintf(j, sizeof(j), "%" PRId64, job_id);
	/* Forward only within one scope; a new scope (or a replace: a full
	 * run, a watermark found in the future) starts from what this run saw. */
	return jl_store_cmd(pg, "moving the sync watermark",
		"INSERT INTO sync_state (tenant_id, integration_id, project_key, watermark, last_job_id, updated_at, scope)"
		" VALUES ($1, $2, $3, to_timestamp($4), $5, now(), $6)"
		" ON CONFLICT (tenant_id, integration_id, project_key) DO UPDATE SET"
		" watermark = CASE WHEN $7::boolean OR sync_state.scope <> excluded.scope"
		"  OR sync_state.watermark IS NULL THEN excluded.watermark"
		"  ELSE greatest(sync_state.watermark, excluded.watermark) END,"
		" scope = excluded.scope, last_job_id = excluded.last_job_id, updated_at = now()",
		7, p, err, errlen);
}
