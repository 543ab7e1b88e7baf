/* test_db.c - jetl_open and jetl_migrate against the real private PostgreSQL. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jetl.h"
#include "testdb.h"
#include "core/ctx.h"

static void setup(void)
{
	testdb_create();
}

static void teardown(void)
{
	testdb_drop();
}

static jetl_ctx *open_db(const char *conninfo)
{
	jetl_options o = JETL_OPTIONS_INIT;
	jetl_ctx *ctx = NULL;
	char err[512];

	o.db = conninfo;
	cr_assert_eq(jetl_open_err(&ctx, &o, err, sizeof(err)), JETL_OK, "open: %s", err);
	return ctx;
}

Test(open, unreachable_database_names_the_cause)
{
	jetl_options o = JETL_OPTIONS_INIT;
	jetl_ctx *ctx = (jetl_ctx *)0x1;
	char err[512];

	o.db = "host=127.0.0.1 port=1 dbname=x user=x password=s3cr3t-pw connect_timeout=2";
	cr_assert_eq(jetl_open_err(&ctx, &o, err, sizeof(err)), JETL_EDBCONN);
	cr_assert_null(ctx);
	cr_assert(strstr(err, "cannot connect"), "message: %s", err);
	cr_assert(strstr(err, "refused") || strstr(err, "port 1"), "message lacks the cause: %s", err);
	cr_assert_null(strstr(err, "s3cr3t-pw"), "message leaks the password: %s", err);
	cr_assert_null(strchr(err, '\n'));
}

Test(open, malformed_conninfo_is_a_distinct_clear_failure)
{
	jetl_options o = JETL_OPTIONS_INIT;
	jetl_ctx *ctx = NULL;
	char err[512];

	o.db = "nonsense_option=1";
	cr_assert_eq(jetl_open_err(&ctx, &o, err, sizeof(err)), JETL_EDBCONN);
	cr_assert(strstr(err, "nonsense_option"), "message: %s", err);
}

Test(migrate, creates_every_table_and_is_idempotent, .init = setup, .fini = teardown)
{
	jetl_ctx *ctx = open_db(testdb_create());
	char *n;

	cr_assert_eq(jetl_migrate(ctx), JETL_OK, "%s", jetl_last_error(ctx));
	cr_assert_eq(jetl_migrate(ctx), JETL_OK, "%s", jetl_last_error(ctx));
	n = testdb_scalar("SELECT count(*) FROM information_schema.tables WHERE table_schema='public' AND table_name IN "
		"('raw_extraction_data','etl_job_queue','work_items','custom_field_mappings','jira_fields',"
		"'changelogs','dev_status','sync_state','projects','schema_migrations')");
	cr_assert_str_eq(n, "10");
	free(n);
	n = testdb_scalar("SELECT count(*) FROM schema_migrations");
	cr_assert_eq(atoi(n), jetl_schema_version());
	free(n);
	/* Every table's primary key starts with tenant_id, integration_id (docs/design.md, 'Tables'). */
	n = testdb_scalar("SELECT count(*) FROM information_schema.columns WHERE table_schema='public' "
		"AND column_name LIKE 'custom_field___' AND table_name='work_items'");
	cr_assert_str_eq(n, "20");
	free(n);
	n = testdb_scalar("SELECT data_type FROM information_schema.columns WHERE table_name='raw_extraction_data' "
		"AND column_name='raw_data'");
	cr_assert_str_eq(n, "json", "raw_data must be json to keep \\u0000");
	free(n);
	jetl_close(ctx);
}

Test(migrate, two_processes_at_once, .init = setup, .fini = teardown)
{
	const char *ci = testdb_create();
	pid_t kids[4];
	int status;
	char *n;

	for (int i = 0; i < 4; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			jetl_options o = JETL_OPTIONS_INIT;
			jetl_ctx *ctx = NULL;
			o.db = ci;
			if (jetl_open(&ctx, &o) != JETL_OK)
				_exit(2);
			_exit(jetl_migrate(ctx) == JETL_OK ? 0 : 1);
		}
	}
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(waitpid(kids[i], &status, 0), kids[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "migration %d failed", i);
	}
	n = testdb_scalar("SELECT count(*) FROM schema_migrations");
	cr_assert_eq(atoi(n), jetl_schema_version());
	free(n);
}

Test(migrate, refuses_a_newer_schema, .init = setup, .fini = teardown)
{
	jetl_ctx *ctx = open_db(testdb_create());

	cr_assert_eq(jetl_migrate(ctx), JETL_OK);
	testdb_exec("INSERT INTO schema_migrations (version, name) VALUES (999, 'from the future')");
	cr_assert_eq(jetl_migrate(ctx), JETL_ESCHEMA);
	cr_assert(strstr(jetl_last_error(ctx), "newer"), "%s", jetl_last_error(ctx));
	jetl_close(ctx);
}

Test(open, empty_queue_url_forces_in_process_over_the_environment)
{
	jetl_options o = JETL_OPTIONS_INIT;
	jetl_ctx *ctx = NULL;

	setenv("JETL_QUEUE", "amqp://u:p@127.0.0.1:1/%2f", 1);
	o.db = testdb_admin();
	cr_assert_eq(jetl_open(&ctx, &o), JETL_OK);
	cr_assert_str_eq(((struct jetl_ctx *)ctx)->queue_url, "amqp://u:p@127.0.0.1:1/%2f");
	jetl_close(ctx);
	o.queue_url = "";
	cr_assert_eq(jetl_open(&ctx, &o), JETL_OK);
	cr_assert_null(((struct jetl_ctx *)ctx)->queue_url, "\"\" must mean in-process");
	jetl_close(ctx);
}

Test(migrate, large_values_use_lz4_where_the_server_has_it, .init = setup, .fini = teardown)
{
	jetl_ctx *ctx = open_db(testdb_create());
	char *has, *n;

	cr_assert_eq(jetl_migrate(ctx), JETL_OK, "%s", jetl_last_error(ctx));
	has = testdb_scalar("SELECT count(*) FROM pg_settings WHERE name = 'default_toast_compression' "
		"AND 'lz4' = ANY (enumvals)");
	n = testdb_scalar("SELECT count(*) FROM pg_attribute WHERE attcompression = 'l' AND "
		"(attrelid, attname) IN (('raw_extraction_data'::regclass, 'raw_data'), "
		"('work_items'::regclass, 'custom_fields_overflow'), ('work_items'::regclass, 'description'), "
		"('dev_status'::regclass, 'detail'))");
	/* Without lz4 in the server the migration still applies (pglz kept). */
	cr_assert_str_eq(n, strcmp(has, "1") == 0 ? "4" : "0");
	free(has);
	free(n);
	jetl_close(ctx);
}

struct warn_log {
	int cleartext;
	int other;
};

static void count_warnings(int level, const char *msg, void *ud)
{
	struct warn_log *w = ud;

	if (level == JETL_LOG_WARNING && strstr(msg, "plain http://"))
		w->cleartext++;
	else
		w->other++;
	cr_assert_null(strstr(msg, "s3cr3t-t0ken"), "a log line holds the token: %s", msg);
}

/* Issue 12: Basic credentials over http:// to another host went out without a
 * word. Now one warning per context through the log callback, none for https
 * or loopback. ".invalid" never resolves, so nothing is sent anywhere. */
Test(open, cleartext_credentials_warn_once_per_context)
{
	static const struct {
		const char *url;
		int auth;
		int want;
	} cases[] = {
		{ "http://jira.invalid/", JETL_AUTH_BASIC, 1 },
		{ "http://jira.invalid:8080/jira", JETL_AUTH_BEARER, 1 },
		{ "https://jira.invalid/", JETL_AUTH_BASIC, 0 },
		{ "http://127.0.0.1:9/", JETL_AUTH_BASIC, 0 },
		{ "http://localhost:9/", JETL_AUTH_BASIC, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		jetl_options o = JETL_OPTIONS_INIT;
		struct warn_log w = { 0, 0 };
		jetl_ctx *ctx = NULL;
		char err[512];
		int64_t n = 0;

		o.db = testdb_admin();
		o.jira_url = cases[i].url;
		o.jira_user = "me@example.com";
		o.jira_token = "s3cr3t-t0ken";
		o.jira_auth = cases[i].auth;
		o.jira_flavor = JETL_FLAVOR_SERVER;
		o.max_attempts = 1;
		o.connect_timeout_ms = 1000;
		o.log_cb = count_warnings;
		o.log_userdata = &w;
		o.log_level = JETL_LOG_WARNING;
		cr_assert_eq(jetl_open_err(&ctx, &o, err, sizeof(err)), JETL_OK, "open: %s", err);
		for (int k = 0; k < 3; k++)
			cr_assert_neq(jetl_fields_sync(ctx, &n), JETL_OK, "%s: nothing should answer", cases[i].url);
		cr_expect_eq(w.cleartext, cases[i].want, "%s: %d warnings, want %d", cases[i].url, w.cleartext,
			     cases[i].want);
		jetl_close(ctx);
	}
}
