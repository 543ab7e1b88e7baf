/* db.c - PostgreSQL connections and statement helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl/common.h"
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

int jl_pg_classify(const char *sqlstate)
{
	static const char transient[][3] = { "40", "53", "57" };
	static const char data[][3] = { "22", "23", "XX" };

	if (!sqlstate || strlen(sqlstate) != 5)
		return JETL_EDB;
	if (strncmp(sqlstate, "08", 2) == 0)
		return JETL_EDBCONN;
	for (size_t k = 0; k < sizeof(transient) / sizeof(transient[0]); k++)
		if (strncmp(sqlstate, transient[k], 2) == 0)
			return JETL_EDBRETRY;
	for (size_t k = 0; k < sizeof(data) / sizeof(data[0]); k++)
		if (strncmp(sqlstate, data[k], 2) == 0)
			return JETL_EDATA;
	return JETL_EDB;
}

int jl_store_error(PGconn *pg, const PGresult *res, const char *what, char *err, size_t errlen)
{
	char tmp[1024];
	const char *msg = res ? PQresultErrorMessage(res) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (!msg || !*msg)
		msg = pg ? PQerrorMessage(pg) : "no connection";
	snprintf(tmp, sizeof(tmp), "postgresql: %s: %s", what, msg);
	jl_one_line(err, errlen, tmp);
	if (state && *state)
		return jl_pg_classify(state);
	return jl_store_conn_lost(pg) ? JETL_EDBCONN : JETL_EDB;
}

static PGresult *exec_st(PGconn *pg, const char *what, const char *sql, int nparams,
	const char *const *params, int *status, char *err, size_t errlen)
{
	PGresult *res = PQexecParams(pg, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	*status = 0;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	*status = jl_store_error(pg, res, what, err, errlen);
	PQclear(res);
	return NULL;
}

PGresult *jl_store_exec(PGconn *pg, const char *what, const char *sql, int nparams,
	const char *const *params, char *err, size_t errlen)
{
	int status;

	return exec_st(pg, what, sql, nparams, params, &status, err, errlen);
}

int jl_store_query(PGconn *pg, const char *what, const char *sql, int nparams,
	const char *const *params, PGresult **out, char *err, size_t errlen)
{
	int status;

	*out = exec_st(pg, what, sql, nparams, params, &status, err, errlen);
	return status;
}

int jl_store_cmd(PGconn *pg, const char *what, const char *sql, int nparams,
	const char *const *params, char *err, size_t errlen)
{
	int status;
	PGresult *res = exec_st(pg, what, sql, nparams, params, &status, err, errlen);

	PQclear(res);
	return status;
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
	int status;
	PGresult *r = exec_st(pg, what, sql, nparams, params, &status, err, errlen);

	if (!r)
		return status;
	if (out)
		*out = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	return 0;
}

int jl_store_begin(PGconn *pg, const char *what, char *err, size_t errlen)
{
	return jl_store_cmd(pg, what, "BEGIN", 0, NULL, err, errlen);
}

int jl_store_commit(PGconn *pg, const char *what, char *err, size_t errlen)
{
	return jl_store_cmd(pg, what, "COMMIT", 0, NULL, err, errlen);
}

void jl_store_rollback(PGconn *pg)
{
	if (pg && PQtransactionStatus(pg) != PQTRANS_IDLE)
		PQclear(PQexec(pg, "ROLLBACK"));
}
