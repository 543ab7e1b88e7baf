/* issue_errors.c - reading issue_errors: the ids an extraction reads again
 * and the list `jetl errors` shows. Written by load.c with the raw row's
 * other rows. */
#include <stdio.h>

#include "db.h"
#include "issue_errors.h"

/* The project of a record is its raw row's (issue_errors has none). Ids
 * that are not plain digits never reach JQL. */
int jl_issue_errors_ids(PGconn *pg, int tenant, int integration, const char *project, PGresult **out,
	char *err, size_t errlen)
{
	char t[16], i[16];
	const char *p[3] = { t, i, project };

	jl_store_ids(t, i, tenant, integration);
	return jl_store_query(pg, "reading issue_errors",
		"SELECT e.external_id, min(r.project_key) FROM issue_errors e"
		" JOIN raw_extraction_data r ON r.id = e.raw_id"
		" WHERE e.tenant_id = $1 AND e.integration_id = $2 AND ($3::text IS NULL OR r.project_key = $3)"
		" AND e.external_id ~ '^[0-9]{1,18}$'"
		" GROUP BY e.external_id ORDER BY min(e.created_at), e.external_id",
		3, p, out, err, errlen);
}

int jl_issue_errors_list(PGconn *pg, int tenant, int integration, const char *project, size_t max,
	PGresult **out, char *err, size_t errlen)
{
	char t[16], i[16], m[24];
	const char *p[4] = { t, i, project, m };

	jl_store_ids(t, i, tenant, integration);
	snprintf(m, sizeof(m), "%zu", max);
	return jl_store_query(pg, "listing issue_errors",
		"SELECT * FROM (SELECT DISTINCT ON (coalesce(e.external_id, e.raw_id || '/' || e.position))"
		"  e.external_id, e.key, r.project_key, e.raw_id, r.job_id, e.error,"
		"  extract(epoch FROM e.created_at)::float8 AS at"
		"  FROM issue_errors e LEFT JOIN raw_extraction_data r ON r.id = e.raw_id"
		"  WHERE e.tenant_id = $1 AND e.integration_id = $2 AND ($3::text IS NULL OR r.project_key = $3)"
		"  ORDER BY coalesce(e.external_id, e.raw_id || '/' || e.position), e.created_at DESC) x"
		" ORDER BY at DESC, external_id LIMIT $4",
		4, p, out, err, errlen);
}
