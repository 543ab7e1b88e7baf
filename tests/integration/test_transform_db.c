/* test_transform_db.c - jetl_transform_batch and jetl_field_map on the real
 * PostgreSQL: idempotence, mapping changes, a bad row failing alone, a
 * shrunk history, \u0000, an older raw row arriving late. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl.h"
#include "core/buf.h"
#include "transform/transform.h"
#include "testdb.h"
#include "core/ctx.h"

static jetl_ctx *ctx;

static void setup(void)
{
	jetl_options o = JETL_OPTIONS_INIT;
	char err[512];

	o.db = testdb_create();
	cr_assert_eq(jetl_open_err(&ctx, &o, err, sizeof(err)), JETL_OK, "open: %s", err);
	cr_assert_eq(jetl_migrate(ctx), JETL_OK, "%s", jetl_last_error(ctx));
}

static void teardown(void)
{
	jetl_close(ctx);
	ctx = NULL;
	testdb_drop();
}

static char *fixture(const char *name)
{
	const char *dir = getenv("JETL_FIXTURES");
	char path[1024];
	FILE *f;
	long n;
	char *p;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return p;
}

/* Insert a raw row (json text, dollar-quoted) and return its id. */
static long long insert_raw(const char *json)
{
	size_t n = strlen(json) + 256;
	char *sql = malloc(n), *id;
	long long v;

	snprintf(sql, n, "INSERT INTO raw_extraction_data (tenant_id, integration_id, type, project_key, raw_data, "
		"item_count) VALUES (1, 1, 'jira_issues_changelogs_dev_status', 'EE', $JETL$%s$JETL$, 1) RETURNING id", json);
	id = testdb_scalar(sql);
	v = atoll(id);
	free(id);
	free(sql);
	return v;
}

/* Everything but synced_at, hashed: equal hashes = the same rows. */
static char *snapshot(void)
{
	return testdb_scalar(
		"SELECT md5(coalesce((SELECT string_agg(t::text, '|' ORDER BY t.external_id) FROM "
		"  (SELECT external_id, key, project_key, summary, description, issue_type, status, status_category, "
		"   priority, resolution, assignee_account_id, assignee_name, reporter_account_id, reporter_name, "
		"   parent_key, labels, components, fix_versions, sprints, story_points, created_at, updated_at, "
		"   resolved_at, due_date, code_changed, custom_field_01, custom_field_05, custom_fields_overflow, "
		"   raw_id FROM work_items) t), '') || "
		"coalesce((SELECT string_agg(c::text, '|' ORDER BY c.history_id, c.item_index) FROM changelogs c), '') || "
		"coalesce((SELECT string_agg(d::text, '|' ORDER BY d.work_item_external_id) FROM "
		"  (SELECT work_item_external_id, pr_count, commit_count, providers, last_updated, is_stale, source, detail "
		"   FROM dev_status) d), ''))");
}

static char *page_of(const char *a, const char *b)
{
	size_t n = strlen(a) + (b ? strlen(b) : 0) + 32;
	char *s = malloc(n);

	snprintf(s, n, "{\"issues\":[%s%s%s]}", a, b ? "," : "", b ? b : "");
	return s;
}

Test(transform_db, twice_gives_the_same_rows, .init = setup, .fini = teardown)
{
	char *ee17 = fixture("cloud_agile_board_issue_EE-17_with_changelog_devlake.json");
	char *k52 = fixture("cloud_agile_board_issue_K5-2_small_changelog_devlake.json");
	char *page = page_of(ee17, k52), *s1, *s2;
	long long id = insert_raw(page);
	jetl_transform_result r = JETL_TRANSFORM_RESULT_INIT;

	/* "{}" alone cannot be told from any text: the synced catalog names it. */
	testdb_exec("INSERT INTO jira_fields (tenant_id, integration_id, field_id, name, custom, schema) VALUES "
		"(1, 1, 'customfield_10000', 'Development', true, '{\"type\":\"any\"}')");
	cr_assert_eq(jetl_transform_batch(ctx, id, &r), JETL_OK, "%s", jetl_last_error(ctx));
	cr_assert_eq(r.work_items, 2);
	cr_assert_eq(r.changelog_items, 42, "40 items of EE-17 + 2 of K5-2: %lld", (long long)r.changelog_items);
	SCALAR_IS("42", "SELECT count(*) FROM changelogs");
	SCALAR_IS("completed", "SELECT status FROM raw_extraction_data WHERE id = %lld", id);
	SCALAR_IS("2020-06-12 00:24:56.048+00", "SET TIME ZONE 'UTC'; SELECT created_at FROM work_items WHERE key = 'EE-17'");
	SCALAR_IS("已完成", "SELECT status FROM work_items WHERE key = 'EE-17'");
	s1 = snapshot();
	cr_assert_eq(jetl_transform_batch(ctx, id, &r), JETL_OK, "%s", jetl_last_error(ctx));
	s2 = snapshot();
	cr_assert_str_eq(s1, s2, "a rerun changed rows");
	SCALAR_IS("2", "SELECT attempts FROM raw_extraction_data WHERE id = %lld", id);
	SCALAR_IS("2", "SELECT count(*) FROM dev_status");
	cr_assert_eq(jetl_transform_batch(ctx, 999999, &r), JETL_ENOENT);
	free(s1);
	free(s2);
	free(page);
	free(ee17);
	free(k52);
}

/* A first load goes by a bare COPY into the final tables; an issue twice in
 * the page breaks that COPY's unique key, and the batch must then go the
 * upsert way: one row, the later version, the row completed once. */
Test(transform_db, an_issue_twice_in_a_first_load_keeps_its_later_version, .init = setup, .fini = teardown)
{
	char *k52 = fixture("cloud_agile_board_issue_K5-2_small_changelog_devlake.json");
	char *v2 = strdup(k52), *page, *p;
	long long id;
	jetl_transform_result r = JETL_TRANSFORM_RESULT_INIT;

	p = strstr(v2, "\"summary\":\"first story\"");
	cr_assert_not_null(p);
	memcpy(p, "\"summary\":\"FIRST STORY\"", strlen("\"summary\":\"FIRST STORY\""));
	page = page_of(k52, v2);
	id = insert_raw(page);
	cr_assert_eq(jetl_transform_batch(ctx, id, &r), JETL_OK, "%s", jetl_last_error(ctx));
	SCALAR_IS("1", "SELECT count(*) FROM work_items");
	SCALAR_IS("FIRST STORY", "SELECT summary FROM work_items");
	SCALAR_IS("2", "SELECT count(*) FROM changelogs");
	SCALAR_IS("completed 1", "SELECT status || ' ' || attempts FROM raw_extraction_data WHERE id = %lld", id);
	free(page);
	free(v2);
	free(k52);
}

/* Integration 1 of tenant 1, its secret a reference (no key needed). */
static void add_integration_1(void)
{
	jetl_integration in = JETL_INTEGRATION_INIT;
	int id = 0;

	snprintf(in.name, sizeof(in.name), "site");
	snprintf(in.base_url, sizeof(in.base_url), "http://127.0.0.1:9");
	cr_assert_eq(jetl_integration_add(ctx, &in, "env:JETL_TEST_NO_SUCH_TOKEN", &id), JETL_OK, "%s",
		jetl_last_error(ctx));
	cr_assert_eq(id, 1);
}

Test(transform_db, a_mapping_moves_a_field_from_overflow_to_its_slot, .init = setup, .fini = teardown)
{
	char *ee17 = fixture("cloud_agile_board_issue_EE-17_with_changelog_devlake.json");
	char *page = page_of(ee17, NULL);
	long long id = insert_raw(page);

	testdb_exec("INSERT INTO jira_fields (tenant_id, integration_id, field_id, name, custom, schema) VALUES "
		"(1, 1, 'customfield_10019', 'Rank', true, '{\"type\":\"any\"}')");
	cr_assert_eq(jetl_transform_batch(ctx, id, NULL), JETL_OK, "%s", jetl_last_error(ctx));
	SCALAR_IS("t", "SELECT custom_fields_overflow ? 'customfield_10019' FROM work_items");
	SCALAR_IS("(null)", "SELECT custom_field_05 FROM work_items");
	/* No implicit integration: without a row (and no Jira URL) the mapping
	 * is refused and nothing is written under integration 1. */
	cr_assert_eq(jetl_field_map(ctx, "customfield_10019", 5), JETL_ENOENT);
	cr_assert(strstr(jetl_last_error(ctx), "integration 1 of tenant 1 not found"), "%s", jetl_last_error(ctx));
	SCALAR_IS("0", "SELECT count(*) FROM custom_field_mappings");
	add_integration_1();
	cr_assert_eq(jetl_field_map(ctx, "customfield_10019", 5), JETL_OK, "%s", jetl_last_error(ctx));
	SCALAR_IS("Rank any", "SELECT name || ' ' || field_type FROM custom_field_mappings WHERE slot = 5");
	cr_assert_eq(jetl_transform_batch(ctx, id, NULL), JETL_OK, "%s", jetl_last_error(ctx));
	SCALAR_IS("f", "SELECT custom_fields_overflow ? 'customfield_10019' FROM work_items");
	SCALAR_IS("t", "SELECT custom_field_05 = (raw.raw_data->'issues'->0->'fields'->>'customfield_10019') "
		"FROM work_items, raw_extraction_data raw");
	/* Moving it frees the old slot; 0 unmaps; out of range is refused. */
	cr_assert_eq(jetl_field_map(ctx, "customfield_10019", 1), JETL_OK, "%s", jetl_last_error(ctx));
	SCALAR_IS("1", "SELECT string_agg(slot::text, ',') FROM custom_field_mappings");
	cr_assert_eq(jetl_field_map(ctx, "customfield_10019", 21), JETL_EINVAL);
	cr_assert_eq(jetl_field_map(ctx, "summary", 2), JETL_EINVAL);
	cr_assert_eq(jetl_field_map(ctx, "customfield_10019", 0), JETL_OK, "%s", jetl_last_error(ctx));
	SCALAR_IS("0", "SELECT count(*) FROM custom_field_mappings");
	free(page);
	free(ee17);
}

/* A row that cannot be read at all (not JSON) fails alone: nothing of it
 * is written, the other rows go on. */
Test(transform_db, a_bad_row_fails_alone_and_writes_nothing, .init = setup, .fini = teardown)
{
	char *k52 = fixture("cloud_agile_board_issue_K5-2_small_changelog_devlake.json");
	char *good = page_of(k52, NULL);
	long long g = insert_raw(good), b;
	jetl_transform_result r = JETL_TRANSFORM_RESULT_INIT;
	char *err;

	/* json accepts it (raw_data is json): an issues array of strings would
	 * be per-issue; a row whose "changelogs" is an array is the row's fault. */
	b = insert_raw("{\"issues\":[{\"id\":\"501\",\"key\":\"EE-501\",\"fields\":{}}],\"changelogs\":[1]}");
	cr_assert_eq(jetl_transform_batch(ctx, b, &r), JETL_EDATA);
	cr_assert(strstr(jetl_last_error(ctx), "changelogs"), "%s", jetl_last_error(ctx));
	cr_assert_eq(jetl_transform_batch(ctx, g, &r), JETL_OK, "%s", jetl_last_error(ctx));
	SCALAR_IS("failed", "SELECT status FROM raw_extraction_data WHERE id = %lld", b);
	SCALAR_IS("1", "SELECT attempts FROM raw_extraction_data WHERE id = %lld", b);
	err = testdb_scalarf("SELECT error FROM raw_extraction_data WHERE id = %lld", b);
	cr_assert(strstr(err, "changelogs") && !strchr(err, '\n'), "%s", err);
	free(err);
	SCALAR_IS("0", "SELECT count(*) FROM work_items WHERE key LIKE 'EE-50%%'");
	SCALAR_IS("completed", "SELECT status FROM raw_extraction_data WHERE id = %lld", g);
	SCALAR_IS("1", "SELECT count(*) FROM work_items");
	free(good);
	free(k52);
}

/* One bad issue costs only itself (issue 12 item 2): its 2 neighbours are
 * stored, the row is completed with a note, the issue is in issue_errors
 * (id, key, raw row, error) until a later raw row stores it; transforming
 * the row again does not record it twice. On both load paths: a first load
 * (bare COPY) and the upserts. */
Test(transform_db, a_bad_issue_is_recorded_and_its_neighbours_stored, .init = setup, .fini = teardown)
{
	char *bad = page_of("{\"id\":\"501\",\"key\":\"EE-501\",\"fields\":{\"summary\":\"fine\"}},"
		"{\"id\":\"502\",\"key\":\"EE-502\",\"fields\":{\"status\":\"Done\"}}",
		"{\"id\":\"503\",\"key\":\"EE-503\",\"fields\":{\"summary\":\"fine too\"}}");
	char *fixed = page_of("{\"id\":\"502\",\"key\":\"EE-502\",\"fields\":{\"status\":{\"name\":\"Done\"}}}", NULL);
	long long b = insert_raw(bad), f;
	jetl_transform_result r = JETL_TRANSFORM_RESULT_INIT;
	char *note;

	for (int pass = 0; pass < 2; pass++) {
		cr_assert_eq(jetl_transform_batch(ctx, b, &r), JETL_OK, "%s", jetl_last_error(ctx));
		cr_assert_eq(r.work_items, 2);
		SCALAR_IS("EE-501,EE-503", "SELECT string_agg(key, ',' ORDER BY key) FROM work_items");
		SCALAR_IS("completed", "SELECT status FROM raw_extraction_data WHERE id = %lld", b);
		note = testdb_scalarf("SELECT error FROM raw_extraction_data WHERE id = %lld", b);
		cr_assert(note && strstr(note, "1 issue(s) not stored") && strstr(note, "EE-502") &&
			strstr(note, "'status'"), "%s", note ? note : "(null)");
		free(note);
		SCALAR_IS("1", "SELECT count(*) FROM issue_errors");
		SCALAR_IS("502|EE-502|1", "SELECT external_id || '|' || key || '|' || position FROM issue_errors "
			"WHERE tenant_id = 1 AND integration_id = 1 AND raw_id = %lld", b);
	}
	f = insert_raw(fixed);
	cr_assert_eq(jetl_transform_batch(ctx, f, &r), JETL_OK, "%s", jetl_last_error(ctx));
	SCALAR_IS("0", "SELECT count(*) FROM issue_errors");
	SCALAR_IS("Done", "SELECT status FROM work_items WHERE key = 'EE-502'");
	SCALAR_IS("(null)", "SELECT coalesce(error, '(null)') FROM raw_extraction_data WHERE id = %lld", f);
	free(bad);
	free(fixed);
}

static const char *hist(char *buf, size_t n, int id, const char *to)
{
	snprintf(buf, n, "{\"id\":\"%d\",\"author\":{\"accountId\":\"a1\",\"displayName\":\"Ann\"},"
		"\"created\":\"2021-0%d-01T10:00:00.000+0800\",\"items\":[{\"field\":\"status\",\"fieldtype\":\"jira\","
		"\"from\":\"1\",\"fromString\":\"Open\",\"to\":\"3\",\"toString\":\"%s\"}]}", id, id, to);
	return buf;
}

Test(transform_db, a_shrunk_history_loses_its_stale_rows, .init = setup, .fini = teardown)
{
	char h1[512], h2[512], h3[512], doc[4096];
	long long a, b;

	snprintf(doc, sizeof(doc), "{\"issues\":[{\"id\":\"700\",\"key\":\"EE-700\",\"fields\":{\"updated\":"
		"\"2021-05-01T00:00:00.000+0000\"}}],\"changelogs\":{\"700\":[%s,%s,%s]}}",
		hist(h1, sizeof(h1), 1, "A"), hist(h2, sizeof(h2), 2, "B"), hist(h3, sizeof(h3), 3, "C"));
	a = insert_raw(doc);
	cr_assert_eq(jetl_transform_batch(ctx, a, NULL), JETL_OK, "%s", jetl_last_error(ctx));
	SCALAR_IS("1,2,3", "SELECT string_agg(history_id, ',' ORDER BY history_id) FROM changelogs");
	/* Jira dropped history 2 and the issue moved on. */
	snprintf(doc, sizeof(doc), "{\"issues\":[{\"id\":\"700\",\"key\":\"EE-700\",\"fields\":{\"updated\":"
		"\"2021-06-01T00:00:00.000+0000\"}}],\"changelogs\":{\"700\":[%s,%s]}}",
		hist(h1, sizeof(h1), 1, "A"), hist(h3, sizeof(h3), 3, "C2"));
	b = insert_raw(doc);
	cr_assert_eq(jetl_transform_batch(ctx, b, NULL), JETL_OK, "%s", jetl_last_error(ctx));
	SCALAR_IS("1,3", "SELECT string_agg(history_id, ',' ORDER BY history_id) FROM changelogs");
	SCALAR_IS("C2", "SELECT to_string FROM changelogs WHERE history_id = '3'");
	/* The older raw row again (a late redelivery) does not undo the newer. */
	cr_assert_eq(jetl_transform_batch(ctx, a, NULL), JETL_OK, "%s", jetl_last_error(ctx));
	SCALAR_IS("1,3", "SELECT string_agg(history_id, ',' ORDER BY history_id) FROM changelogs");
	SCALAR_IS("2021-06-01 00:00:00+00", "SET TIME ZONE 'UTC'; SELECT updated_at FROM work_items");
}

Test(transform_db, nul_in_a_string_is_dropped_with_a_warning, .init = setup, .fini = teardown)
{
	long long id = insert_raw("{\"issues\":[{\"id\":\"800\",\"key\":\"EE-800\",\"fields\":{\"summary\":"
		"\"pareto\\u0000chart\",\"customfield_10001\":{\"v\":\"x\\u0000\"}}}]}");
	jetl_transform_result r = JETL_TRANSFORM_RESULT_INIT;

	cr_assert_eq(jetl_transform_batch(ctx, id, &r), JETL_OK, "%s", jetl_last_error(ctx));
	cr_assert_eq(r.warnings, 2);
	SCALAR_IS("paretochart", "SELECT summary FROM work_items");
	SCALAR_IS("{\"v\": \"x\"}", "SELECT custom_fields_overflow->>'customfield_10001' FROM work_items");
}

/* The first-load probe asks work_items only: a changelog row of an issue
 * with no work_items row (left by hand, or by an older version) must make
 * the direct COPY fail on its key and the batch go the upsert way, not fail. */
Test(transform_db, a_stray_changelog_row_sends_a_first_load_through_the_upserts, .init = setup, .fini = teardown)
{
	char *k52 = fixture("cloud_agile_board_issue_K5-2_small_changelog_devlake.json");
	char *page = page_of(k52, NULL), *s1, *s2;
	long long id = insert_raw(page);
	jetl_transform_result r = JETL_TRANSFORM_RESULT_INIT;

	cr_assert_eq(jetl_transform_batch(ctx, id, &r), JETL_OK, "%s", jetl_last_error(ctx));
	s1 = snapshot();
	testdb_exec("DELETE FROM work_items; DELETE FROM dev_status; "
		"UPDATE changelogs SET to_string = 'stale' WHERE item_index = 0");
	SCALAR_IS("2", "SELECT count(*) FROM changelogs");
	cr_assert_eq(jetl_transform_batch(ctx, id, &r), JETL_OK, "%s", jetl_last_error(ctx));
	s2 = snapshot();
	cr_assert_str_eq(s1, s2, "the rows differ from a clean first load");
	SCALAR_IS("0", "SELECT count(*) FROM changelogs WHERE to_string = 'stale'");
	SCALAR_IS("completed 2", "SELECT status || ' ' || attempts FROM raw_extraction_data WHERE id = %lld", id);
	free(s1);
	free(s2);
	free(page);
	free(k52);
}

/* A trigger that cancels its own statement (pg_cancel_backend, as an
 * operator or a statement_timeout would) while the COPY into work_items runs:
 * for the first `times` rows it sees. A sequence counts, since a cancelled
 * transaction keeps no table write. */
static void cancel_copies(int times)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
		"CREATE SEQUENCE jl_test_cancels; "
		"CREATE FUNCTION jl_test_cancel() RETURNS trigger LANGUAGE plpgsql AS $f$BEGIN "
		"  IF nextval('jl_test_cancels') <= %d THEN "
		"    PERFORM pg_cancel_backend(pg_backend_pid()); PERFORM pg_sleep(5); "
		"  END IF; RETURN NEW; END$f$; "
		"CREATE TRIGGER jl_test_cancel BEFORE INSERT ON work_items FOR EACH ROW EXECUTE FUNCTION jl_test_cancel()",
		times);
	testdb_exec(sql);
}

/* SQLSTATE 57014 in the middle of a COPY is the database's trouble, not the
 * row's: retried, and the row ends completed with every issue, not failed. */
Test(transform_db, a_cancelled_copy_is_retried_not_failed, .init = setup, .fini = teardown)
{
	long long id = insert_raw("{\"issues\":[{\"id\":\"900\",\"key\":\"EE-900\",\"fields\":{}},"
		"{\"id\":\"901\",\"key\":\"EE-901\",\"fields\":{}}]}");

	cancel_copies(1);
	cr_assert_eq(jetl_transform_batch(ctx, id, NULL), JETL_OK, "%s", jetl_last_error(ctx));
	SCALAR_IS("t", "SELECT last_value > 1 FROM jl_test_cancels");
	SCALAR_IS("completed 1", "SELECT status || ' ' || attempts FROM raw_extraction_data WHERE id = %lld", id);
	SCALAR_IS("2", "SELECT count(*) FROM work_items");
}

/* Cancelled every time: a retriable status, and the raw row left as it was
 * (not failed, no attempt counted) for the redelivery that completes it. */
Test(transform_db, a_copy_cancelled_every_time_leaves_the_row_retriable, .init = setup, .fini = teardown)
{
	long long id = insert_raw("{\"issues\":[{\"id\":\"900\",\"key\":\"EE-900\",\"fields\":{}}]}");
	char *before = testdb_scalarf("SELECT status || ' ' || attempts FROM raw_extraction_data WHERE id = %lld", id);
	int rc;

	cancel_copies(1000);
	rc = jetl_transform_batch(ctx, id, NULL);
	cr_assert_eq(rc, JETL_EDBRETRY, "%s: %s", jetl_status_name(rc), jetl_last_error(ctx));
	cr_assert(jetl_status_is_retriable(rc));
	cr_assert(strstr(jetl_last_error(ctx), "cancel"), "%s", jetl_last_error(ctx));
	SCALAR_IS(before, "SELECT status || ' ' || attempts FROM raw_extraction_data WHERE id = %lld", id);
	SCALAR_IS("0", "SELECT count(*) FROM work_items");
	testdb_exec("DROP TRIGGER jl_test_cancel ON work_items");
	cr_assert_eq(jetl_transform_batch(ctx, id, NULL), JETL_OK, "%s", jetl_last_error(ctx));
	SCALAR_IS("completed", "SELECT status FROM raw_extraction_data WHERE id = %lld", id);
	SCALAR_IS("1", "SELECT count(*) FROM work_items");
	free(before);
}

/* 100 issues numbered from first, each with one history of one item, as a
 * raw row's JSON text (malloc'd). */
static char *hundred_issues(int first)
{
	size_t cap = 100 * 400 + 64, n = 0;
	char *s = malloc(cap);

	n += (size_t)snprintf(s + n, cap - n, "{\"issues\":[");
	for (int k = first; k < first + 100; k++)
		n += (size_t)snprintf(s + n, cap - n, "%s{\"id\":\"%d\",\"key\":\"EE-%d\",\"fields\":{\"summary\":\"s\","
			"\"project\":{\"key\":\"EE\"},\"created\":\"2026-01-01T00:00:00.000+0000\","
			"\"updated\":\"2026-01-02T00:00:00.000+0000\"},\"changelog\":{\"total\":1,\"histories\":[{\"id\":\"h%d\","
			"\"created\":\"2026-01-02T00:00:00.000+0000\",\"items\":[{\"field\":\"status\",\"fromString\":\"a\","
			"\"toString\":\"b\"}]}]}}", k > first ? "," : "", k, k, k);
	snprintf(s + n, cap - n, "],\"changelogs\":{},\"dev_status\":{}}");
	return s;
}

/* A first load gives the final tables planner statistics once they pass
 * 1,000 rows (without them every batch read the whole tenant: see
 * analyze_final in src/store/load.c); the context then knows, and stops
 * asking, and later rows still go in. */
Test(transform_db, a_first_load_analyzes_the_final_tables_once, .init = setup, .fini = teardown)
{
	for (int r = 0; r < 12; r++) {
		char *json = hundred_issues(1000 + 100 * r);
		long long id = insert_raw(json);

		free(json);
		cr_assert_eq(jetl_transform_batch(ctx, id, NULL), JETL_OK, "%s", jetl_last_error(ctx));
	}
	SCALAR_IS("1200", "SELECT count(*) FROM work_items");
	SCALAR_IS("t", "SELECT bool_and(reltuples >= 1000) FROM pg_class WHERE relname IN ('work_items', 'changelogs')");
	cr_assert_eq(ctx->tables_analyzed, 1, "the context knows: analyze_final is no longer sent");
}

/* Custom fields bound for the overflow are stored as Jira's text, not
 * written from a tree (src/transform/jparse.h, jl_json_lazy): PostgreSQL
 * must see the same jsonb either way. Each case is transformed one issue at
 * a time (lazy) and as a whole page (an extra key: trees), and the two
 * overflows compared as jsonb. */
static char *overflow_of(const char *fields, int whole)
{
	jl_catalog cat;
	jl_buf raw = JL_BUF_INIT;
	jl_transform_out out;
	jl_transform_in in;
	char *ov;

	jl_catalog_init(&cat);
	jl_catalog_set_slot(&cat, 1, "customfield_10019", "number");
	jl_catalog_add_field(&cat, "customfield_10020", "Sprint", NULL);
	jl_catalog_add_field(&cat, "customfield_10000", "Development", NULL);
	jl_buf_puts(&raw, "{\"issues\":[{\"id\":\"1\",\"key\":\"A-1\",\"fields\":{");
	jl_buf_puts(&raw, fields);
	jl_buf_puts(&raw, whole ? "}}],\"x\":0}" : "}}]}");
	in = (jl_transform_in){ raw.data, raw.len, 1, NULL, &cat, NULL, NULL };
	jl_transform_out_init(&out);
	cr_assert_eq(jl_transform_raw(&in, &out), JETL_OK, "%s", out.err);
	cr_assert_eq(out.work_items.nrows, 1, "%s", fields);
	ov = strdup(jl_rowset_cget(&out.work_items, 0, jl_rowset_col(&out.work_items, "custom_fields_overflow"))->v.s);
	jl_transform_out_free(&out);
	jl_catalog_free(&cat);
	jl_buf_free(&raw);
	return ov;
}

Test(transform_db, overflow_kept_as_text_is_the_same_jsonb, .init = setup, .fini = teardown)
{
	static const char *const cases[] = {
		"\"customfield_30001\":{\"a\":[1,{\"b\":[[],{}]}],\"c\":{\"d\":null},\"e\":\"\"}",
		"\"customfield_30001\" :  {  \"a\" :\n\t[ 1 ,\r\n 2 ] }  ,\"customfield_30002\":[ ]",
		"\"customfield_30001\":\"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\u001f\\u007f\"",
		"\"customfield_30001\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \xe4\xb8\xad\"",
		"\"customfield_30001\":[1E2,1.0,-0,-0.0,1.5e-7,0.1,5.00,1e+2,0e0,-1.25E-3,123456789012345678]",
		"\"customfield_30001\":[123456789012345,1e280,1.23456789012345e-280,0.000000000000001]",
		"\"customfield_30001\":[0.10000000000000001,1234567890123456789,1e-400,1e281,1234567890.123456]",
		"\"customfield_30001\":{\"a\":1,\"a\":{\"b\":2},\"a\":[3]}",
		"\"customfield_30001\":[1],\"customfield_30001\":null,\"customfield_30002\":null,"
		"\"customfield_30002\":[ 2 ],\"customfield_30003\":\"x\",\"customfield_30003\":\"y\"",
		"\"customfield_30001\":\"a\\u0000b\",\"customfield_30002\":{\"k\":[\"\\u0000\",\"c\"]}",
		"\"customfield_10019\":\"not a number\",\"customfield_10020\":[{\"id\":1,\"name\":\"S\"}],"
		"\"customfield_30001\":{\"self\":\"https://x/rest/api/2/customFieldOption/1\",\"value\":\"A\",\"id\":\"1\"}",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *a = overflow_of(cases[i], 0), *b = overflow_of(cases[i], 1);
		size_t n = strlen(a) + strlen(b) + 64;
		char *sql = malloc(n), *eq;

		snprintf(sql, n, "SELECT $J$%s$J$::jsonb = $J$%s$J$::jsonb", a, b);
		eq = testdb_scalar(sql);
		cr_assert_str_eq(eq ? eq : "(null)", "t", "%s:\n%s\n%s", cases[i], a, b);
		free(eq);
		free(sql);
		free(a);
		free(b);
	}
}
