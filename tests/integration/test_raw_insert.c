/* test_raw_insert.c - raw rows streamed into PostgreSQL with COPY: the text
 * arrives byte for byte, whatever the pieces, and failures leave the
 * connection usable. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl.h"
#include "testdb.h"
#include "store/db.h"
#include "store/raw_insert.h"

static PGconn *pg;

static void setup(void)
{
	pg = testdb_create_migrated();
}

static void teardown(void)
{
	PQfinish(pg);
	pg = NULL;
	testdb_drop();
}

static char *row_value(int64_t id, const char *expr)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT %s FROM raw_extraction_data WHERE id = %lld", expr, (long long)id);
	return testdb_scalar(sql);
}

static void assert_stored(int64_t id, const char *json)
{
	char *v = row_value(id, "raw_data::text");

	cr_assert_not_null(v);
	cr_assert_eq(strlen(v), strlen(json), "length %zu, expected %zu", strlen(v), strlen(json));
	cr_assert(strcmp(v, json) == 0, "raw_data differs from the text sent");
	free(v);
}

Test(raw_insert, keeps_the_text_verbatim_with_every_copy_special_byte, .init = setup, .fini = teardown)
{
	/* JSON whitespace may be TAB, LF and CR; escapes carry backslashes;
	 * \u0000 is why the column is json and not jsonb. */
	const char *json = "{\"a\":\t\"x\\\\y \\\"q\\\" \\n\\t\",\r\n\"b\":\"\\u0000\",\"c\":[1,2.5,null,\"\\\\N\"],"
		"\"d\":\"\\\\.\",\"\xc3\xa9\":\"caf\xc3\xa9\"}";
	char err[512];
	int64_t id = 0, id2 = 0;
	char *v;

	cr_assert_eq(jl_raw_insert(pg, 3, 4, 0, "t\\ype", NULL, json, strlen(json), 7, &id, err, sizeof(err)), 0,
		"%s", err);
	cr_assert_gt(id, 0);
	assert_stored(id, json);
	v = row_value(id, "concat_ws('|', tenant_id, integration_id, coalesce(job_id::text, 'null'), type,"
		" coalesce(project_key, 'null'), item_count, status)");
	cr_assert_str_eq(v, "3|4|null|t\\ype|null|7|pending");
	free(v);
	cr_assert_eq(jl_raw_insert(pg, 1, 1, 42, "t", "P\tK", "[]", 2, 0, &id2, err, sizeof(err)), 0, "%s", err);
	cr_assert_gt(id2, id);
	v = row_value(id2, "job_id || '|' || project_key || '|' || raw_data::text");
	cr_assert_str_eq(v, "42|P\tK|[]");
	free(v);
}

/* Hands the text over in pieces of `step` bytes, so that escapes and the
 * 64 KB chunks of the sink fall on every kind of boundary. */
struct pieces {
	const char *s;
	size_t n, step;
};

static int put_pieces(void *ud, jl_raw_sink *sink)
{
	struct pieces *p = ud;

	for (size_t o = 0; o < p->n; o += p->step)
		if (jl_raw_sink_put(p->s + o, o + p->step > p->n ? p->n - o : p->step, sink) < 0)
			return -1;
	return 0;
}

Test(raw_insert, streams_megabytes_in_any_pieces, .init = setup, .fini = teardown)
{
	/* ["…"] of escapes (each doubles in COPY text) and plain bytes mixed
	 * unevenly, so that the sink's 64 KB chunks end mid-escape too. */
	static const char *const units[] = { "\\\\", "\\\"", "a", "\\n", "\\u0000", "\\\\", "bc" };
	size_t cap = 3 * 65536 + 123, n = 0, steps[] = { 1, 7, 65535, 65536, 1 << 20 };
	char *json = malloc(cap + 16), err[512];

	json[n++] = '[';
	json[n++] = '"';
	for (size_t u = 0; n < cap; u++) {
		const char *t = units[u % (sizeof(units) / sizeof(units[0]))];
		memcpy(json + n, t, strlen(t));
		n += strlen(t);
	}
	json[n++] = '"';
	json[n++] = ']';
	json[n] = '\0';
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		struct pieces p = { json, n, steps[k] };
		int64_t id = 0;

		cr_assert_eq(jl_raw_insert_stream(pg, 1, 1, 1, "t", "P", put_pieces, &p, 1, &id, err, sizeof(err)), 0,
			"pieces of %zu: %s", steps[k], err);
		assert_stored(id, json);
	}
	free(json);
}

static int fail_midway(void *ud, jl_raw_sink *sink)
{
	(void)ud;
	jl_raw_sink_put("{\"a\":", 5, sink);
	return -1;
}

Test(raw_insert, a_failure_stores_nothing_and_leaves_the_connection_usable, .init = setup, .fini = teardown)
{
	char err[512], *v;
	int64_t id = 0;

	cr_assert_eq(jl_raw_insert_stream(pg, 1, 1, 1, "t", "P", fail_midway, NULL, 1, &id, err, sizeof(err)), -2);
	cr_assert(strstr(err, "abandoned"), "%s", err);
	/* PostgreSQL refuses the text (SQLSTATE 22P02): the data's fault. */
	cr_assert_eq(jl_raw_insert(pg, 1, 1, 1, "t", "P", "{\"a\":", 5, 1, &id, err, sizeof(err)), JETL_EDATA);
	cr_assert(strstr(err, "writing a raw row") && strstr(err, "json"), "%s", err);
	cr_assert_null(strchr(err, '\n'), "%s", err);
	v = testdb_scalar("SELECT count(*) FROM raw_extraction_data");
	cr_assert_str_eq(v, "0");
	free(v);
	cr_assert_eq(jl_raw_insert(pg, 1, 1, 1, "t", "P", "{}", 2, 1, &id, err, sizeof(err)), 0, "%s", err);
	assert_stored(id, "{}");
}
