/* db.c - PostgreSQL connections and statement helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "../core/util.h"

PGconn *jl_store_connect(const char *conninfo, char *err, size_t errlen)
{
	/* Defaults first: with expand_dbname, values from the conninfo that
	 * follows override them. */
	const char *keys[] = { "fallback_application_name", "connect_timeout", "dbname", NULL };
	const char *vals[] = { "jetl", "10", conninfo, NULL };
	PGconn *pg;
	char tmp[512];

	pg = PQconnectdbParams(keys, vals, 1);
	if (!pg) {
		jl_one_line(err, errlen, "postgresql: out of memory while connecting");
		return NULL;
	}
	if (PQstatus(pg) != CONNECTION_OK) {
		snprintf(tmp, sizeof(tmp), "postgresql: cannot connect: %s", PQerrorMessage(pg));
		jl_one_line(err, errlen, tmp);
		PQfinish(pg);
		return NULL;
	}
	/* Quiet NOTICEs (e.g. "relation already exists, skipping"). */
	PQclear(PQexec(pg, "SET client_min_messages = warning"));
	return pg;
}

void jl_store_error(PGconn *pg, const PGresult *res, const char *what, char *err, size_t errlen)
{
	char tmp[1024];
	const char *msg = res ? PQresultErrorMessage(res) : NULL;

	if (!msg || !*msg)
		msg = pg ? PQerrorMessage(pg) : "no connection";
	snprintf(tmp, sizeof(tmp), "postgresql: %s: %s", what, msg);
	jl_one_line(err, errlen, tmp);
}

PGresult *jl_store_exec(PGconn *pg, const char *what, const char *sql, int nparams,
	const char *const *params, char *err, size_t errlen)
{
	PGresult *res = PQexecParams(pg, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	jl_store_error(pg, res, what, err, errlen);
	PQclear(res);
	return NULL;
}

int jl_store_cmd(PGconn *pg, const char *what, const char *sql, int nparams,
	const char *const *params, char *err, size_t errlen)
{
	PGresult *res = jl_store_exec(pg, what, sql, nparams, params, err, errlen);

	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

int jl_store_conn_lost(PGconn *pg)
{
	return !pg || PQstatus(pg) != CONNECTION_OK;
}

void jl_store_ids(char t[16], char i[16], int tenant, int integration)
{
	snprintf(t, 16, "%d", tenant);
	snprintf(i, 16, "%d", integration);
}

int jl_store_int64(PGconn *pg, const char *what, const char *sql, int nparams,
	const char *const *params, int64_t *out, char *err, size_t errlen)
{
	PGresult *r = jl_store_exec(pg, what, sql, nparams, params, err, errlen);

	if (!r)
		return -1;
	if (out)
		*out = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	return 0;
}
