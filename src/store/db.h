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

/* jl_store_exec that says why: 0 with the result in *out (caller
 * PQclear()s it), or the failure's status (negative: see jl_store_error)
 * with *out NULL. */
int jl_store_query(PGconn *pg, const char *what, const char *sql, int nparams,
	const char *const *params, PGresult **out, char *err, size_t errlen);

/* Like jl_store_exec for statements without results; returns 0 or the
 * failure's status (negative: see jl_store_error). */
int jl_store_cmd(PGconn *pg, const char *what, const char *sql, int nparams,
	const char *const *params, char *err, size_t errlen);

/*
 * The jetl status of a failed statement, from its SQLSTATE (pure, thread-
 * safe; NULL or "" gives JETL_EDB). Never from the message text: a label or
 * a value quoted in it says nothing of the cause.
 *  - JETL_EDBCONN (retriable): class 08, the connection failed;
 *  - JETL_EDBRETRY (retriable): class 40 (serialization failure 40001,
 *    deadlock 40P01), 53 (insufficient resources: disk full, out of memory,
 *    too many connections), 57 (operator intervention: cancel, statement
 *    timeout, shutdown); the same statement may succeed later;
 *  - JETL_EDATA: class 22 (data exception: a value PostgreSQL refuses), 23
 *    (integrity constraint) and XX (internal error, data corrupted): the
 *    same data fails the same way, retrying does not help;
 *  - JETL_EDB: anything else (a bug, a missing table, permissions).
 */
int jl_pg_classify(const char *sqlstate);

/*
 * Fill err with "postgresql: what: <server or libpq message>" as one line
 * and return the failure's jetl status: jl_pg_classify of res's SQLSTATE;
 * without one (res NULL, or an error libpq made itself), JETL_EDBCONN when
 * the connection is lost, else JETL_EDB.
 */
int jl_store_error(PGconn *pg, const PGresult *res, const char *what, char *err, size_t errlen);

/* Run a statement whose first row's first column is an integer (a count);
 * *out gets it (0 when no row). Returns 0 or the failure's status (negative:
 * see jl_store_error) with err. */
int jl_store_int64(PGconn *pg, const char *what, const char *sql, int nparams,
	const char *const *params, int64_t *out, char *err, size_t errlen);

/* Render tenant and integration as text parameters (t and i hold 16 bytes);
 * every table's key starts with them. */
void jl_store_ids(char t[16], char i[16], int tenant, int integration);

/* Whether the connection broke (so that a retry on a new one may help). */
int jl_store_conn_lost(PGconn *pg);

/* Transaction control for the layers above, so that no SQL is written
 * outside src/store: BEGIN and COMMIT return 0 or a status (err "what:
 * cause"); the rollback ends whatever transaction is open (none: nothing),
 * ignoring errors, as a cleanup must. */
int jl_store_begin(PGconn *pg, const char *what, char *err, size_t errlen);
int jl_store_commit(PGconn *pg, const char *what, char *err, size_t errlen);
void jl_store_rollback(PGconn *pg);

#endif
