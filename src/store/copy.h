/* copy.h - stream a rowset into a table with COPY (text format). libpq only. */
#ifndef JL_STORE_COPY_H
#define JL_STORE_COPY_H

#include <stddef.h>
#include <libpq-fe.h>

#include "../core/buf.h"
#include "../model/rowset.h"

/* COPY's text format, one rule for every writer (rowsets here, raw rows in
 * raw_insert.c): backslash, TAB, LF and CR are written as \\, \t, \n, \r;
 * every other byte as it is. The letter after the backslash for c, or 0
 * when c goes as it is. Pure. */
static inline char jl_copy_escape_code(char c)
{
	return c == '\\' ? '\\' : c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : 0;
}

/* How many bytes of s (n long) go as they are before the first that needs
 * escaping. Pure. */
size_t jl_copy_plain_len(const char *s, size_t n);

/* Append one element of a text[] literal: s (n bytes) in double quotes,
 * with " and \ escaped by a backslash (every element quoted: always right,
 * whatever it holds). 0, or -1 on OOM. Pure. */
int jl_array_elem_put(jl_buf *lit, const char *s, size_t n);

/*
 * COPY every row of rs into `table` (a trusted identifier, e.g. a temp
 * table) with the rowset's column names, in pieces of about 1 MB: one
 * statement, never a round trip per row. The connection must not be in the
 * middle of another command. Returns 0, or a negative status (jl_store_error:
 * classified by SQLSTATE; JETL_ENOMEM) with "what: cause" in err.
 * Not thread-safe for one connection (a connection serves one thread).
 */
int jl_copy_rowset(PGconn *pg, const char *table, const jl_rowset *rs, char *err, size_t errlen);

/*
 * Append "COPY table (cols…) FROM STDIN" (no semicolon) to sql, for callers
 * that send it inside a longer multi-statement string. Returns 0 or -1 (OOM).
 */
int jl_copy_sql(jl_buf *sql, const char *table, const jl_rowset *rs);

/*
 * With the connection in the COPY IN state (PQgetResult gave PGRES_COPY_IN),
 * send every row of rs and end the copy; the caller reads the COPY's result.
 * Returns 0, or a negative status (as jl_copy_rowset) with "what: cause" in err.
 */
int jl_copy_put_rows(PGconn *pg, const char *what, const jl_rowset *rs, char *err, size_t errlen);

/* The same with `prefix` (already in COPY text form, e.g. "1\t1\t": leading
 * columns that are the same for every row) written before each row. */
int jl_copy_put_rows_prefixed(PGconn *pg, const char *what, const char *prefix, const jl_rowset *rs,
	char *err, size_t errlen);
/* The same for n rowsets of the same columns, one after the other, in one
 * COPY (several raw rows written in one transaction, load.c). */
int jl_copy_put_rowsets(PGconn *pg, const char *what, const char *prefix, const jl_rowset *const *rs, int n,
	char *err, size_t errlen);

#endif
