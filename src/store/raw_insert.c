/* raw_insert.c - raw_extraction_data writes. */
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl/common.h"
#include "copy.h"
#include "db.h"
#include "raw_insert.h"

/* A raw row is a batch of ~100 issues with their logs: megabytes of JSON.
 * Built whole as a string it was held twice (the string, then libpq's copy
 * of the parameter, grown by doubling), ~10 MB at the peak of an extraction
 * next to the batch's tree; streamed with COPY, 64 KB at a time. */
#define SINK_CHUNK 65536

struct jl_raw_sink {
	PGconn *pg;
	void (*wait)(void *ud);   /* see jl_raw_sink_on_wait */
	void *wait_ud;
	int failed;       /* a CopyData could not be sent: the insert fails */
	size_t len;
	char buf[SINK_CHUNK];
};

static int sink_flush(jl_raw_sink *s)
{
	if (s->failed)
		return -1;
	if (s->len && PQputCopyData(s->pg, s->buf, (int)s->len) != 1) {
		s->failed = 1;
		return -1;
	}
	s->len = 0;
	return 0;
}

/* Bytes written as they are (the row's separators). */
static int sink_raw(jl_raw_sink *s, const char *data, size_t len)
{
	while (len) {
		size_t n = sizeof(s->buf) - s->len;

		if (n == 0) {
			if (sink_flush(s) < 0)
				return -1;
			continue;
		}
		if (n > len)
			n = len;
		memcpy(s->buf + s->len, data, n);
		s->len += n;
		data += n;
		len -= n;
	}
	return s->failed ? -1 : 0;
}

/* A column's text in COPY text format: backslash, TAB, LF and CR escaped
 * (compact JSON has only the backslashes of its own escapes). */
int jl_raw_sink_put(const char *data, size_t len, void *sink)
{
	jl_raw_sink *s = sink;
	size_t i = 0;

	if (s->failed)
		return -1;
	while (i < len) {
		size_t start = i, room = sizeof(s->buf) - s->len;

		if (room < 2) {
			if (sink_flush(s) < 0)
				return -1;
			continue;
		}
		i += jl_copy_plain_len(data + i, len - i < room ? len - i : room);
		memcpy(s->buf + s->len, data + start, i - start);
		s->len += i - start;
		if (i == len || s->len + 2 > sizeof(s->buf))
			continue;
		s->buf[s->len++] = '\\';
		s->buf[s->len++] = jl_copy_escape_code(data[i++]);
	}
	return 0;
}

void jl_raw_sink_on_wait(jl_raw_sink *sink, void (*wait)(void *ud), void *ud)
{
	sink->wait = wait;
	sink->wait_ud = ud;
}

/* The server's end of the COPY (parsing, compressing and writing a few MB
 * of JSON: ~20 ms a batch) without blocking the caller: its wait hook runs
 * every millisecond until the result is there. Without it an extraction's
 * HTTP slots sat idle during every raw row's write. On a socket error it
 * returns and PQgetResult reports it. */
static void wait_result(jl_raw_sink *s)
{
	struct pollfd pfd = { PQsocket(s->pg), POLLIN, 0 };

	if (!s->wait || pfd.fd < 0)
		return;
	while (PQconsumeInput(s->pg) && PQisBusy(s->pg)) {
		s->wait(s->wait_ud);
		(void)poll(&pfd, 1, 1);
	}
}

/* What produce gets for the in-memory text of jl_raw_insert. */
struct text_src {
	const char *s;
	size_t n;
};

static int put_text(void *ud, jl_raw_sink *sink)
{
	struct text_src *t = ud;

	return jl_raw_sink_put(t->s, t->n, sink);
}

/* The row's columns before raw_data, in the COPY's column order. */
static int put_head(jl_raw_sink *s, int64_t id, int tenant, int integration, int64_t job_id,
	const char *type, const char *project_key, int item_count)
{
	char h[128];
	int n = snprintf(h, sizeof(h), "%" PRId64 "\t%d\t%d\t", id, tenant, integration);

	if (job_id > 0)
		n += snprintf(h + n, sizeof(h) - (size_t)n, "%" PRId64 "\t", job_id);
	else
		n += snprintf(h + n, sizeof(h) - (size_t)n, "\\N\t");
	if (sink_raw(s, h, (size_t)n) < 0 || jl_raw_sink_put(type, strlen(type), s) < 0 ||
	    sink_raw(s, "\t", 1) < 0)
		return -1;
	if ((project_key ? jl_raw_sink_put(project_key, strlen(project_key), s) : sink_raw(s, "\\N", 2)) < 0)
		return -1;
	n = snprintf(h, sizeof(h), "\t%d\t", item_count);
	return sink_raw(s, h, (size_t)n);
}

int jl_raw_insert_stream(PGconn *pg, int tenant, int integration, int64_t job_id, const char *type,
	const char *project_key, jl_raw_produce produce, void *ud, int item_count,
	int64_t *id, char *err, size_t errlen)
{
	/* One round trip to the COPY: the id first (the transform message names
	 * the row), then the row with it. */
	static const char sql[] =
		"SELECT nextval(pg_get_serial_sequence('raw_extraction_data', 'id'));"
		"COPY raw_extraction_data (id, tenant_id, integration_id, job_id, type, project_key,"
		" item_count, raw_data) FROM STDIN";
	static const char what[] = "writing a raw row";
	jl_raw_sink *s;
	PGresult *r;
	int64_t new_id = 0;
	int have_id = 0, copying = 0, rc = 0, abandoned = 0;

	if (!(s = malloc(sizeof(*s)))) {
		snprintf(err, errlen, "%s: out of memory", what);
		return JETL_ENOMEM;
	}
	s->pg = pg;
	s->wait = NULL;
	s->wait_ud = NULL;
	s->failed = 0;
	s->len = 0;
	if (!PQsendQuery(pg, sql)) {
		rc = jl_store_error(pg, NULL, what, err, errlen);
		free(s);
		return rc;
	}
	while (!copying && (r = PQgetResult(pg)) != NULL) {
		ExecStatusType st = PQresultStatus(r);

		if (st == PGRES_TUPLES_OK && PQntuples(r) == 1 && !have_id) {
			new_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
			have_id = 1;
		} else if (st == PGRES_COPY_IN && have_id) {
			copying = 1;
		} else if (rc == 0) {
			rc = jl_store_error(pg, r, what, err, errlen);
		}
		PQclear(r);
	}
	if (copying) {
		if (rc == 0 && (put_head(s, new_id, tenant, integration, job_id, type, project_key, item_count) < 0 ||
				produce(ud, s) != 0 || sink_raw(s, "\n", 1) < 0 || sink_flush(s) < 0)) {
			rc = JETL_EDB;
			abandoned = !s->failed;
		}
		if (PQputCopyEnd(pg, rc == 0 ? NULL : "abandoned by the client") != 1 && rc == 0)
			rc = jl_store_error(pg, NULL, what, err, errlen);
		if (rc < 0 && s->failed)
			rc = jl_store_error(pg, NULL, what, err, errlen);
		else if (abandoned)
			snprintf(err, errlen, "%s: abandoned", what);
		wait_result(s);
		/* Read every result so the connection is ready for the next command. */
		while ((r = PQgetResult(pg)) != NULL) {
			if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0)
				rc = jl_store_error(pg, r, what, err, errlen);
			PQclear(r);
		}
	} else if (rc == 0) {
		snprintf(err, errlen, "%s: the server did not start the COPY", what);
		rc = JETL_EDB;
	}
	free(s);
	if (rc == 0)
		*id = new_id;
	return rc == 0 ? 0 : abandoned ? -2 : rc;
}

int jl_raw_insert(PGconn *pg, int tenant, int integration, int64_t job_id, const char *type,
	const char *project_key, const char *json, size_t json_len, int item_count,
	int64_t *id, char *err, size_t errlen)
{
	struct text_src t = { json, json_len };

	return jl_raw_insert_stream(pg, tenant, integration, job_id, type, project_key, put_text, &t,
		item_count, id, err, errlen);
}

int jl_raw_counts(PGconn *pg, int64_t job_id, int64_t *pending, int64_t *completed,
	int64_t *failed, char *err, size_t errlen)
{
	char j[24];
	const char *p[1] = { j };
	PGresult *r;
	int rc;

	snprintf(j, sizeof(j), "%" PRId64, job_id);
	rc = jl_store_query(pg, "counting raw rows",
		"SELECT count(*) FILTER (WHERE status IN ('pending','processing')),"
		" count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'failed')"
		" FROM raw_extraction_data WHERE job_id = $1 AND active", 1, p, &r, err, errlen);
	if (rc < 0)
		return rc;
	if (pending)
		*pending = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	if (completed)
		*completed = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	if (failed)
		*failed = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	PQclear(r);
	return 0;
}

int jl_raw_attempts(PGconn *pg, int64_t raw_id)
{
	char id[24], err[256];
	const char *p[1] = { id };
	int64_t n = 0;

	snprintf(id, sizeof(id), "%" PRId64, raw_id);
	if (jl_store_int64(pg, "reading attempts", "SELECT attempts FROM raw_extraction_data WHERE id = $1",
			1, p, &n, err, sizeof(err)) < 0)
		return 0;
	return (int)n;
}

int jl_raw_mark_failed(PGconn *pg, int tenant, int integration, int64_t raw_id, const char *error,
	char *err, size_t errlen)
{
	char t[16], i[16], id[24];
	const char *params[] = { t, i, id, error };

	jl_store_ids(t, i, tenant, integration);
	snprintf(id, sizeof(id), "%" PRId64, raw_id);

	/* A single statement is its own transaction. */
	return jl_store_cmd(pg, "mark raw row failed",
		"UPDATE raw_extraction_data SET status = 'failed', error = $4, "
		"attempts = attempts + 1, processed_at = now() "
		"WHERE tenant_id = $1 AND integration_id = $2 AND id = $3", 4, params, err, errlen);
}
