/* copy.c - COPY … FROM STDIN in text format for rowsets. */
#include <stdio.h>
#include <string.h>

#include "jetl/common.h"
#include "../core/word.h"
#include "copy.h"
#include "db.h"

/* Eight bytes at a time while no byte of the word can need escaping (a
 * byte below 0x0E or a backslash, core/word.h), then byte by byte. Every
 * byte of a raw row and of each COPYed row goes through here; a byte per
 * step it was ~1 ms of the writer's ~15 ms per 100 issues. */
size_t jl_copy_plain_len(const char *s, size_t n)
{
	size_t i = 0;

	while (n - i >= 8) {
		uint64_t v = jl_word_at(s + i);

		if (jl_word_below(v, 0x0E) | jl_word_has(v, '\\'))
			break;
		i += 8;
	}
	while (i < n && !jl_copy_escape_code(s[i]))
		i++;
	return i;
}

/* Escape for COPY text format; everything else passes through byte for byte. */
static int put_escaped(jl_buf *out, const char *s, size_t n)
{
	if (jl_buf_grow(out, n + n / 8 + 8) < 0)
		return -1;
	while (n > 0) {
		size_t k = jl_copy_plain_len(s, n);
		char esc[2] = { '\\', 0 };

		jl_buf_put(out, s, k);
		if (k == n)
			break;
		esc[1] = jl_copy_escape_code(s[k]);
		jl_buf_put(out, esc, 2);
		s += k + 1;
		n -= k + 1;
	}
	return out->oom ? -1 : 0;
}

int jl_array_elem_put(jl_buf *lit, const char *s, size_t n)
{
	jl_buf_putc(lit, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			jl_buf_putc(lit, '\\');
		jl_buf_putc(lit, s[i]);
	}
	return jl_buf_putc(lit, '"');
}

/* {"a","b \"q\"","c\\d"}: quoting every element is always correct, where
 * leaving some bare would need PostgreSQL's full rules (spaces, NULL, {}). */
static int put_array(jl_buf *out, jl_buf *lit, const jl_cell *c)
{
	jl_buf_clear(lit);
	jl_buf_putc(lit, '{');
	for (uint32_t i = 0; i < c->n; i++) {
		if (i)
			jl_buf_putc(lit, ',');
		jl_array_elem_put(lit, c->v.items[i], strlen(c->v.items[i]));
	}
	jl_buf_putc(lit, '}');
	if (lit->oom)
		return -1;
	return put_escaped(out, lit->data, lit->len);
}

static int encode(jl_buf *out, jl_buf *lit, const jl_rowset *rs, size_t row)
{
	for (int col = 0; col < rs->ncols; col++) {
		const jl_cell *c = jl_rowset_cget(rs, row, col);

		if (col)
			jl_buf_putc(out, '\t');
		if (c->kind == JL_CELL_NULL)
			jl_buf_put(out, "\\N", 2);
		else if (c->kind == JL_CELL_TEXT)
			put_escaped(out, c->v.s, c->n);
		else if (put_array(out, lit, c) < 0)
			return -1;
	}
	return jl_buf_putc(out, '\n');
}

int jl_copy_put_rows(PGconn *pg, const char *what, const jl_rowset *rs, char *err, size_t errlen)
{
	return jl_copy_put_rows_prefixed(pg, what, NULL, rs, err, errlen);
}

int jl_copy_put_rows_prefixed(PGconn *pg, const char *what, const char *prefix, const jl_rowset *rs,
	char *err, size_t errlen)
{
	return jl_copy_put_rowsets(pg, what, prefix, &rs, 1, err, errlen);
}

int jl_copy_put_rowsets(PGconn *pg, const char *what, const char *prefix, const jl_rowset *const *rs, int n,
	char *err, size_t errlen)
{
	jl_buf data = JL_BUF_INIT, lit = JL_BUF_INIT;
	int rc = JETL_ENOMEM;

	/* One large buffer, sent in 1 MB pieces: each PQputCopyData is a
	 * CopyData message the server handles as a whole. */
	for (int k = 0; k < n; k++)
		for (size_t r = 0; r < rs[k]->nrows; r++) {
			if (prefix)
				jl_buf_puts(&data, prefix);
			if (encode(&data, &lit, rs[k], r) < 0) {
				PQputCopyEnd(pg, "out of memory");
				snprintf(err, errlen, "%s: out of memory", what);
				goto out;
			}
			if (data.len >= 1024 * 1024 && PQputCopyData(pg, data.data, (int)data.len) != 1) {
				rc = jl_store_error(pg, NULL, what, err, errlen);
				goto out;
			}
			if (data.len >= 1024 * 1024)
				jl_buf_clear(&data);
		}
	if ((data.len && PQputCopyData(pg, data.data, (int)data.len) != 1) || PQputCopyEnd(pg, NULL) != 1) {
		rc = jl_store_error(pg, NULL, what, err, errlen);
		goto out;
	}
	rc = 0;
out:
	jl_buf_free(&data);
	jl_buf_free(&lit);
	return rc;
}

int jl_copy_rowset(PGconn *pg, const char *table, const jl_rowset *rs, char *err, size_t errlen)
{
	jl_buf sql = JL_BUF_INIT;
	PGresult *res;
	char what[96];
	int rc = JETL_ENOMEM;

	snprintf(what, sizeof(what), "COPY %s", table);
	if (jl_copy_sql(&sql, table, rs) < 0) {
		snprintf(err, errlen, "%s: out of memory", what);
		goto out;
	}
	res = PQexec(pg, sql.data);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		rc = jl_store_error(pg, res, what, err, errlen);
		PQclear(res);
		goto out;
	}
	PQclear(res);
	rc = jl_copy_put_rows(pg, what, rs, err, errlen);
	/* Read every result so the connection is ready for the next command. */
	while ((res = PQgetResult(pg)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0)
			rc = jl_store_error(pg, res, what, err, errlen);
		PQclear(res);
	}
out:
	jl_buf_free(&sql);
	return rc;
}

int jl_copy_sql(jl_buf *sql, const char *table, const jl_rowset *rs)
{
	jl_buf_printf(sql, "COPY %s (", table);
	for (int i = 0; i < rs->ncols; i++)
		jl_buf_printf(sql, "%s%s", i ? "," : "", rs->cols[i]);
	jl_buf_puts(sql, ") FROM STDIN");
	return sql->oom ? -1 : 0;
}
