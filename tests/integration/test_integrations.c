/* test_integrations.c - integrations on the real PostgreSQL and the Jira
 * simulator: the secret sealed at rest (never in the table, bound to its
 * row), add/get/list/update/remove within one tenant, a context that takes
 * its connection from the row, unknown/inactive/other tenant's integrations
 * refused with nothing written, discovery of projects, issue types and
 * statuses, extraction of the selected projects, wrong and missing keys,
 * key rotation, jetl_integration_test's failure classes, and the webhook
 * secret (issue 30). */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl.h"
#include "jirasim.h"
#include "testdb.h"

#define KEY_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY_B "f0e0d0c0b0a090807060504030201000ffeeddccbbaa99887766554433221100"
#define TOKEN "it-secret-7f3a9c"

static jirasim g_sim;
static char *g_data;
static const char *g_db;

static void setup(void)
{
	const char *sim_args[] = { "--user", "it@example.com", "--token", TOKEN, NULL };

	unsetenv("JETL_JIRA_URL");
	unsetenv("JETL_JIRA_USER");
	unsetenv("JETL_JIRA_TOKEN");
	unsetenv("JETL_SECRET_KEY_FILE");
	setenv("JETL_SECRET_KEY", KEY_A, 1);
	g_db = testdb_create();
	jirasim_up(&g_sim, &g_data, "AAA:12,BBB:7", "cloud", NULL, sim_args);
}

static void teardown(void)
{
	jirasim_down(&g_sim, &g_data);
	testdb_drop();
}

TestSuite(integrations, .init = setup, .fini = teardown, .timeout = 180);

static jetl_ctx *open_ctx(int tenant, int integration)
{
	jetl_options o = JETL_OPTIONS_INIT;
	jetl_ctx *ctx = NULL;
	char err[512];

	o.db = g_db;
	o.tenant_id = tenant;
	o.integration_id = integration;
	o.queue_url = "";
	o.connect_timeout_ms = 3000;
	cr_assert_eq(jetl_open_err(&ctx, &o, err, sizeof(err)), JETL_OK, "open: %s", err);
	return ctx;
}

static int add(jetl_ctx *ctx, const char *name, const char *url, const char *secret)
{
	jetl_integration in = JETL_INTEGRATION_INIT;
	int id = 0;

	snprintf(in.name, sizeof(in.name), "%s", name);
	snprintf(in.base_url, sizeof(in.base_url), "%s", url);
	snprintf(in.user, sizeof(in.user), "it@example.com");
	cr_assert_eq(jetl_integration_add(ctx, &in, secret, &id), JETL_OK, "%s", jetl_last_error(ctx));
	cr_assert_gt(id, 0);
	return id;
}

static int collect(const jetl_integration *in, void *ud)
{
	int *ids = ud;

	ids[++ids[0]] = in->id;
	return 0;
}

Test(integrations, crud_secret_sealed_and_tenant_scoped)
{
	jetl_ctx *a = open_ctx(1, 1), *b;
	jetl_integration got = JETL_INTEGRATION_INIT;
	int id, id2, ids[8] = { 0 };
	char *v;

	cr_assert_eq(jetl_migrate(a), JETL_OK, "%s", jetl_last_error(a));
	id = add(a, "site one", g_sim.url, TOKEN);
	id2 = add(a, "site two", "https://two.example.net", "env:IT_TWO_TOKEN");
	cr_assert_neq(id, id2);
	/* never in clear: not in the row, not in the whole table's text */
	cr_assert_eq(testdb_countf("SELECT count(*) FROM integrations i WHERE i::text LIKE '%%%s%%'", TOKEN), 0);
	v = testdb_scalarf("SELECT secret FROM integrations WHERE id = %d", id);
	cr_assert(v && strncmp(v, "enc:v1:", 7) == 0, "stored: %s", v ? v : "(null)");
	free(v);
	cr_assert_eq(jetl_integration_get(a, id, &got), JETL_OK, "%s", jetl_last_error(a));
	cr_assert_str_eq(got.name, "site one");
	cr_assert_str_eq(got.secret_kind, "encrypted");
	cr_assert_eq(strlen(got.secret_key_id), 8);
	cr_assert_eq(got.tenant_id, 1);
	cr_assert_eq(got.active, 1);
	cr_assert_eq(jetl_integration_get(a, id2, &got), JETL_OK);
	cr_assert_str_eq(got.secret_kind, "env");
	cr_assert_str_eq(got.secret_ref, "env:IT_TWO_TOKEN");
	cr_assert_eq(jetl_integration_list(a, collect, ids), JETL_OK);
	cr_assert_eq(ids[0], 2);

	/* update: every non-secret field; the secret kept */
	snprintf(got.projects, sizeof(got.projects), "AAA, BBB");
	snprintf(got.jql, sizeof(got.jql), "issuetype != Epic");
	got.concurrency = 3;
	cr_assert_eq(jetl_integration_update(a, &got, NULL), JETL_OK, "%s", jetl_last_error(a));
	cr_assert_eq(jetl_integration_get(a, id2, &got), JETL_OK);
	cr_assert_str_eq(got.projects, "AAA,BBB");
	cr_assert_str_eq(got.jql, "issuetype != Epic");
	cr_assert_eq(got.concurrency, 3);
	cr_assert_str_eq(got.secret_kind, "env");
	snprintf(got.jql, sizeof(got.jql), "x ORDER BY y");
	cr_assert_eq(jetl_integration_update(a, &got, NULL), JETL_EINVAL);

	/* another tenant sees none of it */
	b = open_ctx(2, id);
	cr_assert_eq(jetl_integration_get(b, id, &got), JETL_ENOENT);
	cr_assert(strstr(jetl_last_error(b), "integration") && strstr(jetl_last_error(b), "tenant 2"),
		  "%s", jetl_last_error(b));
	cr_assert_eq(jetl_integration_remove(b, id), JETL_ENOENT);
	ids[0] = 0;
	cr_assert_eq(jetl_integration_list(b, collect, ids), JETL_OK);
	cr_assert_eq(ids[0], 0);
	jetl_close(b);

	cr_assert_eq(jetl_integration_remove(a, id2), JETL_OK);
	cr_assert_eq(jetl_integration_get(a, id2, &got), JETL_ENOENT);
	cr_assert_eq(jetl_integration_add(a, NULL, NULL, NULL), JETL_EINVAL);
	{
		jetl_integration in = JETL_INTEGRATION_INIT;

		snprintf(in.name, sizeof(in.name), "creds in url");
		snprintf(in.base_url, sizeof(in.base_url), "https://bot:%s@jira.example.com/path", TOKEN);
		cr_assert_eq(jetl_integration_add(a, &in, NULL, NULL), JETL_EINVAL);
		cr_assert(!strstr(jetl_last_error(a), TOKEN), "%s", jetl_last_error(a));
		snprintf(in.base_url, sizeof(in.base_url), "ftp://jira.example.com");
		cr_assert_eq(jetl_integration_add(a, &in, NULL, NULL), JETL_EINVAL);
		snprintf(in.base_url, sizeof(in.base_url), "https://jira.example.com/a@b");
		cr_assert_eq(jetl_integration_add(a, &in, "t", NULL), JETL_OK, "%s", jetl_last_error(a));
	}
	jetl_close(a);
}

Test(integrations, context_from_row_discovery_and_selected_projects)
{
	jetl_ctx *admin = open_ctx(7, 1), *ctx, *bad;
	jetl_extract_options eo = JETL_EXTRACT_OPTIONS_INIT;
	const char *sel[] = { "BBB" };
	int64_t job = 0, n = 0;
	int id;

	cr_assert_eq(jetl_migrate(admin), JETL_OK);
	id = add(admin, "sim", g_sim.url, TOKEN);
	jetl_close(admin);

	/* unknown integration, and one of another tenant: refused, nothing written */
	bad = open_ctx(7, id + 100);
	cr_assert_eq(jetl_extract(bad, NULL, 0, NULL, &job), JETL_ENOENT);
	cr_assert(strstr(jetl_last_error(bad), "not found"), "%s", jetl_last_error(bad));
	cr_assert_eq(jetl_extract_project(bad, "AAA", NULL, NULL), JETL_ENOENT);
	cr_assert_eq(jetl_fields_sync(bad, NULL), JETL_ENOENT);
	jetl_close(bad);
	bad = open_ctx(8, id);
	cr_assert_eq(jetl_extract_project(bad, "AAA", NULL, NULL), JETL_ENOENT);
	jetl_close(bad);
	cr_assert_eq(testdb_countf("SELECT count(*) FROM etl_job_queue"), 0);
	cr_assert_eq(testdb_countf("SELECT count(*) FROM raw_extraction_data"), 0);
	cr_assert_eq(testdb_countf("SELECT count(*) FROM jira_fields"), 0);

	ctx = open_ctx(7, id);
	cr_assert_eq(jetl_projects_sync(ctx, &n), JETL_OK, "%s", jetl_last_error(ctx));
	cr_assert_eq(n, 2);
	cr_assert_eq(testdb_countf("SELECT count(*) FROM projects WHERE tenant_id = 7 AND integration_id = %d AND active", id), 2);
	cr_assert_gt(testdb_countf("SELECT count(*) FROM issue_types WHERE tenant_id = 7 AND integration_id = %d", id), 0);
	cr_assert_gt(testdb_countf("SELECT count(*) FROM statuses WHERE tenant_id = 7 AND integration_id = %d"
			   " AND category_key IS NOT NULL", id), 0);
	cr_assert_eq(jetl_projects_select(ctx, sel, 1), JETL_OK, "%s", jetl_last_error(ctx));
	cr_assert_eq(testdb_countf("SELECT count(*) FROM projects WHERE tenant_id = 7 AND selected"), 1);

	/* no keys: the selected project only, from the row's connection */
	eo.dev_status = 0;
	cr_assert_eq(jetl_extract(ctx, NULL, 0, &eo, &job), JETL_OK, "%s", jetl_last_error(ctx));
	cr_assert_eq(testdb_countf("SELECT count(*) FROM work_items WHERE tenant_id = 7 AND integration_id = %d"
			   " AND project_key = 'BBB'", id), 7);
	cr_assert_eq(testdb_countf("SELECT count(*) FROM work_items WHERE project_key = 'AAA'"), 0);
	cr_assert_eq(testdb_countf("SELECT count(*) FROM work_items WHERE tenant_id <> 7 OR integration_id <> %d", id), 0);

	/* nothing selected: every active project */
	cr_assert_eq(jetl_projects_select(ctx, NULL, 0), JETL_OK);
	cr_assert_eq(jetl_extract(ctx, NULL, 0, &eo, &job), JETL_OK, "%s", jetl_last_error(ctx));
	cr_assert_eq(testdb_countf("SELECT count(*) FROM work_items WHERE tenant_id = 7 AND integration_id = %d", id), 19);

	/* inactive: refused by name */
	{
		jetl_integration in = JETL_INTEGRATION_INIT;

		cr_assert_eq(jetl_integration_get(ctx, id, &in), JETL_OK);
		in.active = 0;
		cr_assert_eq(jetl_integration_update(ctx, &in, NULL), JETL_OK);
		cr_assert_eq(jetl_extract_project(ctx, "AAA", &eo, NULL), JETL_ENOENT);
		cr_assert(strstr(jetl_last_error(ctx), "inactive"), "%s", jetl_last_error(ctx));
	}
	jetl_close(ctx);
}

Test(integrations, wrong_or_missing_key_is_a_clear_error)
{
	jetl_ctx *ctx = open_ctx(3, 1);
	int id;

	cr_assert_eq(jetl_migrate(ctx), JETL_OK);
	id = add(ctx, "sim", g_sim.url, TOKEN);
	jetl_close(ctx);

	setenv("JETL_SECRET_KEY", KEY_B, 1);
	ctx = open_ctx(3, id);
	cr_assert_eq(jetl_fields_sync(ctx, NULL), JETL_ECONFIG);
	cr_assert(strstr(jetl_last_error(ctx), "integration") && strstr(jetl_last_error(ctx), "key"),
		  "%s", jetl_last_error(ctx));
	cr_assert(!strstr(jetl_last_error(ctx), TOKEN));
	jetl_close(ctx);

	unsetenv("JETL_SECRET_KEY");
	ctx = open_ctx(3, id);
	cr_assert_eq(jetl_extract_project(ctx, "AAA", NULL, NULL), JETL_ECONFIG);
	cr_assert(strstr(jetl_last_error(ctx), "JETL_SECRET_KEY"), "%s", jetl_last_error(ctx));
	cr_assert_eq(testdb_countf("SELECT count(*) FROM etl_job_queue"), 0);
	jetl_close(ctx);

	/* a sealed secret copied onto another row does not open there */
	setenv("JETL_SECRET_KEY", KEY_A, 1);
	ctx = open_ctx(3, 1);
	{
		int other = add(ctx, "copy", g_sim.url, "something-else");
		jetl_integration_test_result r = JETL_INTEGRATION_TEST_INIT;

		testdb_exec("UPDATE integrations SET secret = (SELECT secret FROM integrations WHERE tenant_id = 3"
			    " AND name = 'sim') WHERE name = 'copy'");
		cr_assert_eq(jetl_integration_test(ctx, other, &r), JETL_ECONFIG);
		cr_assert_str_eq(r.failure, "secret");
		cr_assert_eq(jetl_integration_test(ctx, id, &r), JETL_OK, "%s", r.message);
	}
	jetl_close(ctx);
}

Test(integrations, key_rotation_keeps_every_integration_usable)
{
	jetl_ctx *ctx = open_ctx(4, 1), *t5;
	jetl_integration_test_result r = JETL_INTEGRATION_TEST_INIT;
	int64_t n = 0;
	int id1, id2, id3;

	cr_assert_eq(jetl_migrate(ctx), JETL_OK);
	id1 = add(ctx, "one", g_sim.url, TOKEN);
	id2 = add(ctx, "two", g_sim.url, TOKEN);
	t5 = open_ctx(5, 1);
	id3 = add(t5, "other tenant", g_sim.url, TOKEN);

	setenv("JETL_SECRET_KEY", KEY_B, 1);
	cr_assert_eq(jetl_integration_test(ctx, id1, &r), JETL_ECONFIG);
	/* a wrong old key changes nothing */
	cr_assert_eq(jetl_secret_rotate(ctx, KEY_B, &n), JETL_ECONFIG);
	cr_assert(strstr(jetl_last_error(ctx), "nothing changed"), "%s", jetl_last_error(ctx));
	cr_assert_eq(jetl_secret_rotate(ctx, KEY_A, &n), JETL_OK, "%s", jetl_last_error(ctx));
	cr_assert_eq(n, 3);
	cr_assert_eq(jetl_secret_rotate(ctx, KEY_A, &n), JETL_OK);
	cr_assert_eq(n, 0);
	cr_assert_eq(jetl_integration_test(ctx, id1, &r), JETL_OK, "%s", r.message);
	cr_assert_eq(jetl_integration_test(ctx, id2, &r), JETL_OK, "%s", r.message);
	cr_assert_eq(jetl_integration_test(t5, id3, &r), JETL_OK, "%s", r.message);
	cr_assert_str_eq(r.deployment, "Cloud");
	cr_assert_str_eq(r.failure, "");
	cr_assert(r.time_zone[0]);
	setenv("JETL_SECRET_KEY", KEY_A, 1);
	cr_assert_eq(jetl_integration_test(ctx, id1, &r), JETL_ECONFIG);
	jetl_close(t5);
	jetl_close(ctx);
}

Test(integrations, test_tells_failures_apart)
{
	jetl_ctx *ctx = open_ctx(6, 1);
	jetl_integration_test_result r = JETL_INTEGRATION_TEST_INIT;
	int ok, bad_token, refused, dns;
	char *body;

	cr_assert_eq(jetl_migrate(ctx), JETL_OK);
	ok = add(ctx, "ok", g_sim.url, TOKEN);
	bad_token = add(ctx, "bad token", g_sim.url, "not-the-token");
	refused = add(ctx, "refused", "http://127.0.0.1:1", TOKEN);
	dns = add(ctx, "dns", "https://jira.invalid", TOKEN);

	cr_assert_eq(jetl_integration_test(ctx, ok, &r), JETL_OK, "%s", r.message);
	cr_assert_eq(r.http_status, 200);
	cr_assert(strstr(r.user, "Sim User"), "%s", r.user);
	cr_assert_eq(jetl_integration_test(ctx, bad_token, &r), JETL_EAUTH);
	cr_assert_str_eq(r.failure, "auth");
	cr_assert_eq(r.http_status, 401);
	cr_assert(!strstr(r.message, "not-the-token"));
	body = jirasim_http(&g_sim, "/__sim/faults", "{\"forbidden\": 1}");
	free(body);
	cr_assert_eq(jetl_integration_test(ctx, ok, &r), JETL_EFORBIDDEN);
	cr_assert_str_eq(r.failure, "forbidden");
	cr_assert_eq(r.http_status, 403);
	cr_assert_eq(jetl_integration_test(ctx, refused, &r), JETL_ENETWORK);
	cr_assert_str_eq(r.failure, "unreachable", "%s: %s", r.failure, r.message);
	cr_assert_eq(jetl_integration_test(ctx, dns, &r), JETL_ENETWORK);
	cr_assert_str_eq(r.failure, "dns", "%s: %s", r.failure, r.message);
	cr_assert_eq(jetl_integration_test(ctx, 999, &r), JETL_ENOENT);
	cr_assert_str_eq(r.failure, "");
	cr_assert_eq(testdb_countf("SELECT count(*) FROM etl_job_queue"), 0);
	jetl_close(ctx);
}

/* A JETL_JIRA_TOKEN without a URL does not make the connection explicit:
 * the row's URL and token are used, not the stray token. */
Test(integrations, stray_token_in_the_environment_loses_to_the_row)
{
	jetl_ctx *ctx = open_ctx(12, 1);
	int64_t n = 0;
	int id;

	cr_assert_eq(jetl_migrate(ctx), JETL_OK);
	id = add(ctx, "sim", g_sim.url, TOKEN);
	jetl_close(ctx);
	setenv("JETL_JIRA_TOKEN", "stray-token", 1);
	ctx = open_ctx(12, id);
	unsetenv("JETL_JIRA_TOKEN");
	cr_assert_eq(jetl_projects_sync(ctx, &n), JETL_OK, "%s", jetl_last_error(ctx));
	cr_assert_eq(n, 2);
	cr_assert_eq(jetl_fields_sync(ctx, NULL), JETL_OK, "%s", jetl_last_error(ctx));
	jetl_close(ctx);
}

Test(integrations, test_reports_a_timeout)
{
	const char *slow_args[] = { "--user", "it@example.com", "--token", TOKEN, "--latency-ms", "3000", NULL };
	jetl_options o = JETL_OPTIONS_INIT;
	jetl_integration_test_result r = JETL_INTEGRATION_TEST_INIT;
	jetl_ctx *ctx = NULL;
	jirasim slow;
	char err[512];
	int id;

	jirasim_start(&slow, g_data, "cloud", slow_args);
	o.db = g_db;
	o.tenant_id = 13;
	o.queue_url = "";
	o.request_timeout_ms = 500;
	cr_assert_eq(jetl_open_err(&ctx, &o, err, sizeof(err)), JETL_OK, "open: %s", err);
	cr_assert_eq(jetl_migrate(ctx), JETL_OK);
	id = add(ctx, "slow", slow.url, TOKEN);
	cr_assert_eq(jetl_integration_test(ctx, id, &r), JETL_ETIMEOUT, "%s: %s", r.failure, r.message);
	cr_assert_str_eq(r.failure, "timeout");
	cr_assert_lt(r.seconds, 2.5);
	jetl_close(ctx);
	jirasim_stop(&slow);
}

/* Issue 30: the webhook secret is generated, sealed (never clear in the
 * table), bound to its row, given back with its path token, re-sealed by
 * key rotation and removable. */
Test(integrations, webhook_secret_sealed_bound_rotated)
{
	jetl_ctx *ctx = open_ctx(6, 1), *other = open_ctx(7, 1);
	char s1[JETL_WEBHOOK_SECRET_SIZE], p1[JETL_WEBHOOK_PATH_SIZE], s2[JETL_WEBHOOK_SECRET_SIZE],
		p2[JETL_WEBHOOK_PATH_SIZE], small[10];
	int64_t n = 0;
	int id1, id2;

	cr_assert_eq(jetl_migrate(ctx), JETL_OK);
	id1 = add(ctx, "hooked", g_sim.url, TOKEN);
	id2 = add(ctx, "plain", g_sim.url, TOKEN);
	cr_assert_eq(jetl_webhook_secret_new(ctx, id1, small, sizeof(small), NULL, 0), JETL_EINVAL);
	cr_assert_eq(jetl_webhook_secret_new(ctx, 999, s1, sizeof(s1), p1, sizeof(p1)), JETL_ENOENT);
	cr_assert_eq(jetl_webhook_secret_new(ctx, id1, s1, sizeof(s1), p1, sizeof(p1)), JETL_OK, "%s",
		     jetl_last_error(ctx));
	cr_assert_eq(strlen(s1), 64);
	cr_assert_eq(strlen(p1), 32);
	cr_assert_eq(strspn(s1, "0123456789abcdef"), 64);
	cr_assert_eq(testdb_countf("SELECT count(*) FROM integrations WHERE tenant_id = 6 AND id = %d"
				   " AND webhook_secret LIKE 'enc:v1:%%' AND strpos(webhook_secret, '%s') = 0", id1, s1), 1);
	cr_assert_eq(jetl_webhook_secret_get(ctx, id1, s2, sizeof(s2), p2, sizeof(p2)), JETL_OK);
	cr_assert_str_eq(s2, s1);
	cr_assert_str_eq(p2, p1);
	cr_assert_eq(jetl_webhook_secret_get(ctx, id2, s2, sizeof(s2), NULL, 0), JETL_ENOENT);
	cr_assert(strstr(jetl_last_error(ctx), "has no webhook secret"), "%s", jetl_last_error(ctx));
	/* another tenant's integration of the same id is not this one */
	cr_assert_eq(jetl_webhook_secret_get(other, id1, s2, sizeof(s2), NULL, 0), JETL_ENOENT);
	jetl_close(other);
	/* the envelope copied onto another row does not open there */
	testdb_exec("UPDATE integrations SET webhook_secret = (SELECT webhook_secret FROM integrations"
		    " WHERE tenant_id = 6 AND name = 'hooked') WHERE tenant_id = 6 AND name = 'plain'");
	cr_assert_eq(jetl_webhook_secret_get(ctx, id2, s2, sizeof(s2), NULL, 0), JETL_EDATA);
	cr_assert_eq(jetl_webhook_secret_remove(ctx, id2), JETL_OK);
	/* a new secret replaces the old one, and a new path token with it */
	cr_assert_eq(jetl_webhook_secret_new(ctx, id1, s2, sizeof(s2), p2, sizeof(p2)), JETL_OK);
	cr_assert_str_neq(s2, s1);
	cr_assert_str_neq(p2, p1);
	/* key rotation re-seals it */
	setenv("JETL_SECRET_KEY", KEY_B, 1);
	cr_assert_eq(jetl_webhook_secret_get(ctx, id1, s1, sizeof(s1), NULL, 0), JETL_ECONFIG);
	cr_assert_eq(jetl_secret_rotate(ctx, KEY_A, &n), JETL_OK, "%s", jetl_last_error(ctx));
	cr_assert_geq(n, 3, "two Jira secrets and the webhook secret (and earlier tests' rows)");
	cr_assert_eq(jetl_webhook_secret_get(ctx, id1, s1, sizeof(s1), p1, sizeof(p1)), JETL_OK, "%s",
		     jetl_last_error(ctx));
	cr_assert_str_eq(s1, s2);
	cr_assert_str_eq(p1, p2);
	setenv("JETL_SECRET_KEY", KEY_A, 1);
	cr_assert_eq(jetl_webhook_secret_remove(ctx, id1), JETL_OK);
	cr_assert_eq(jetl_webhook_secret_get(ctx, id1, s1, sizeof(s1), NULL, 0), JETL_ENOENT);
	jetl_close(ctx);
}
