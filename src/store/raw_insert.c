/* raw_insert.c - raw_extraction_data writes. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "raw_insert.h"

int jl_raw_insert(PGconn *pg, int tenant, int integration, int64_t job_id, const char *type,
	const char *project_key, const char *json, size_t json_len, int item_count,
	int64_t *id, char *err, size_t errlen)
{
	char t[16], i[16], j[24], n[16];
	const char *p[7];
	int lens[7] = { 0 };
	PGresult *r;
	ExecStatusType st;

	jl_store_ids(t, i, tenant, integration);
	snprintf(j, sizeof(j), "%" PRId64, job_id);
	snprintf(n, sizeof(n), "%d", item_count);
	p[0] = t; p[1] = i; p[2] = job_id > 0 ? j : NULL; p[3] = type; p[4] = project_key;
	p[5] = json; p[6] = n;
	lens[5] = (int)json_len;
	r = PQexecParams(pg,
		"INSERT INTO raw_extraction_data (tenant_id, integration_id, job_id, type, project_key,"
		" raw_data, item_count) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
		7, NULL, p, lens, NULL, 0);
	st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK) {
		jl_store_error(pg, r, "writing a raw row", err, errlen);
		PQclear(r);
		return -1;
	}
	*id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

int jl_raw_counts(PGconn *pg, int64_t job_id, int64_t *pending, int64_t *completed,
	int64_t *failed, char *err, size_t errlen)
{
	char j[24];
	const char *p[1] = { j };
	PGresult *r;

	snprintf(j, sizeof(j), "%" PRId64, job_id);
	r = jl_store_exec(pg, "counting raw rows",
		"SELECT count(*) FILTER (WHERE status IN ('pending','processing')),"
		" count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'failed')"
		" FROM raw_extraction_data WHERE job_id = $1 AND active", 1, p, err, errlen);
	if (!r)
		return -1;
	if (pending)
		*pending = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	if (completed)
		*completed = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	if (failed)
		*failed = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	PQclear(r);
	return 0;
}
