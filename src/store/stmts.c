/* stmts.c - several statements in one round trip (the simple protocol),
 * their results collected and their COPYs streamed: how a transform's reads
 * and its write reach PostgreSQL in a few round trips per raw row. */
#include <stdio.h>
#include <string.h>

#include "jetl/common.h"
#include "copy.h"
#include "db.h"
#include "stmts.h"

/* Append tmpl to b with $1..$9 replaced by vals[0..8] (SQL text already
 * quoted where needed). */
void jl_sql_put(jl_buf *b, const char *tmpl, const char *const *vals, int nvals)
{
	const char *p = tmpl, *d;

	while ((d = strchr(p, '$')) != NULL) {
		int k = d[1] - '1';

		jl_buf_put(b, p, (size_t)(d - p));
		if (k >= 0 && k < nvals) {
			jl_buf_puts(b, vals[k]);
			p = d + 2;
		} else {
			jl_buf_putc(b, '$');
			p = d + 1;
		}
	}
	jl_buf_puts(b, p);
	jl_buf_putc(b, ';');
}

/*
 * Read the results of a sent multi-statement string: statement i's in
 * st[i].res when kept; COPY IN statements get their rows streamed. Stops
 * keeping results at the first error (PostgreSQL skips the rest of the
 * string, and an open transaction is then aborted: the caller rolls back)
 * but reads every result, so the connection is idle after. Returns 0 or the
 * first failure's status (jl_store_error); its SQLSTATE goes to state when
 * given ("" when it has none).
 */
int jl_stmts_collect(PGconn *pg, jl_stmt *st, int n, char state[6], char *err, size_t errlen)
{
	PGresult *res;
	int i = 0, rc = 0;

	if (state)
		state[0] = '\0';

	while ((res = PQgetResult(pg)) != NULL) {
		ExecStatusType s = PQresultStatus(res);

		if (s == PGRES_COPY_IN) {
			/* Stream the rows; the COPY's own result follows. */
			if (rc == 0 && i < n && st[i].copies)
				rc = jl_copy_put_rowsets(pg, st[i].what, st[i].prefix, st[i].copies, st[i].ncopies, err,
					errlen);
			else if (rc == 0 && i < n && st[i].copy)
				rc = jl_copy_put_rows_prefixed(pg, st[i].what, st[i].prefix, st[i].copy, err, errlen);
			else
				PQputCopyEnd(pg, "no rows for this COPY");
			PQclear(res);
			continue;
		}
		if (rc == 0 && s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
			const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);

			rc = jl_store_error(pg, res, st[i < n ? i : n - 1].what, err, errlen);
			if (state)
				snprintf(state, 6, "%s", sqlstate ? sqlstate : "");
		}
		if (rc == 0 && i < n && st[i].keep)
			st[i].res = res;
		else
			PQclear(res);
		i++;
	}
	if (rc == 0 && i != n) {
		snprintf(err, errlen, "postgresql: %s: %d results for %d statements", st[0].what, i, n);
		rc = JETL_EDB;
	}
	if (rc < 0)
		for (i = 0; i < n; i++) {
			PQclear(st[i].res);
			st[i].res = NULL;
		}
	return rc;
}

/* Send sql (n statements; the simple protocol, one round trip plus one per
 * COPY) and collect_stmts. Returns 0 or a status. */
int jl_stmts_run(PGconn *pg, const char *sql, jl_stmt *st, int n, char state[6], char *err, size_t errlen)
{
	if (state)
		state[0] = '\0';
	if (!PQsendQuery(pg, sql))
		return jl_store_error(pg, NULL, st[0].what, err, errlen);
	return jl_stmts_collect(pg, st, n, state, err, errlen);
}
