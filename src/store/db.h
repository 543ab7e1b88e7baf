/* db.h - PostgreSQL connections and small statement helpers (libpq only). */
#ifndef JL_STORE_DB_H
#define JL_STORE_DB_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

/*
 * Connect with a conninfo string or URI (NULL: libpq's PG* variables and
 * defaults). Returns NULL on failure with a one-line cause in err; the
 * message never repeats the conninfo (it may hold a password).
 */
PGconn *jl_store_connect(const char *conninfo, char *err, size_t errlen);

/*
 * Run a statement with text parameters. Returns the result when its status
 * is PGRES_COMMAND_OK or PGRES_TUPLES_OK (caller PQclear()s it), else NULL
 * with "what: <server message>" in err.
 */
PGresult *jl_store_exec(PGconn *pg, const char *what, const char *sql, int nparams,
	const char *const *params, char *err, size_t errlen);

/* Like jl_store_exec for statements without results; returns 0 or -1. */
int jl_store_cmd(PGconn *pg, const char *what, const char *sql, int nparams,
	const char *const *params, char *err, size_t errlen);

/* Fill err with "what: <last libpq message>" as one line. */
void jl_store_error(PGconn *pg, const PGresult *res, const char *what, char *err, size_t errlen);

/* Run a statement whose first row's first column is an integer (a count);
 * *out gets it (0 when no row). Returns 0 or -1 with err. */
int jl_store_int64(PGconn *pg, const char *what, const char *sql, int nparams,
	const char *const *params, int64_t *out, char *err, size_t errlen);

/* Render tenant and integration as text parameters (t and i hold 16 bytes);
 * every table's key starts with them. */
void jl_store_ids(char t[16], char i[16], int tenant, int integration);

/* Whether the connection broke (so that a retry on a new one may help). */
int jl_store_conn_lost(PGconn *pg);

#endif
