/* stmts.h - several SQL statements sent as one string and their results
 * read back (src/store only). A connection serves one thread at a time;
 * errors are a negative status classified by SQLSTATE (jl_store_error)
 * with "what: cause" in err. */
#ifndef JL_STORE_STMTS_H
#define JL_STORE_STMTS_H

#include <stddef.h>
#include <libpq-fe.h>

#include "../core/buf.h"
#include "../model/rowset.h"

/* One statement of a multi-statement string: its label for messages, the
 * rows to stream when it is a COPY, and whether its result is kept. */
typedef struct jl_stmt {
	const char *what;
	const jl_rowset *copy;
	int keep;
	PGresult *res;
	const char *prefix;    /* written before each COPY row (may be NULL) */
	/* NULL, or ncopies rowsets COPied instead of copy (copy must then be
	 * non-NULL too: it marks the statement as a COPY of rows). */
	const jl_rowset *const *copies;
	int ncopies;
} jl_stmt;

/* Append tmpl and a ';' to b with $1..$9 replaced by vals[0..8] (SQL text
 * the caller quoted where needed: integers, PQescapeLiteral output). Pure;
 * OOM shows in b->oom. */
void jl_sql_put(jl_buf *b, const char *tmpl, const char *const *vals, int nvals);

/*
 * Read the results of a sent multi-statement string: statement i's in
 * st[i].res when kept (the caller PQclear()s them); COPY IN statements get
 * st[i].copy's rows streamed. Stops keeping results at the first error
 * (PostgreSQL skips the rest of the string, and an open transaction is then
 * aborted: the caller rolls back) but reads every result, so the connection
 * is idle after. Returns 0 or the first failure's status; its SQLSTATE goes
 * to state when given ("" when it has none).
 */
int jl_stmts_collect(PGconn *pg, jl_stmt *st, int n, char state[6], char *err, size_t errlen);

/* Send sql (n statements: one round trip plus one per COPY) and
 * jl_stmts_collect. Returns 0 or a status. */
int jl_stmts_run(PGconn *pg, const char *sql, jl_stmt *st, int n, char state[6], char *err, size_t errlen);

#endif
