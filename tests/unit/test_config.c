/* test_config.c - the configuration file (jetl_config_*): no servers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jetl.h"

static char dir[] = "/tmp/jetl-test-config-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	unsetenv("JETL_DB");
	unsetenv("JETL_TENANT");
	unsetenv("JETL_JIRA_TOKEN");
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

TestSuite(config, .init = setup, .fini = teardown);

Test(config, reads_keys_comments_and_blanks)
{
	const char *path = write_file("a.conf", "# comment\n\n  db = host=x password=a#b  \n"
		"tenant=3\n\tjira_flavor = server\nlog_format = json\nqueue =\n");
	jetl_config *cfg = NULL;
	char err[256];

	cr_assert_eq(jetl_config_load(&cfg, path, err, sizeof(err)), JETL_OK, "%s", err);
	cr_assert_str_eq(err, "");
	cr_assert_str_eq(jetl_config_get(cfg, "db"), "host=x password=a#b");
	cr_assert_str_eq(jetl_config_get(cfg, "tenant"), "3");
	cr_assert_str_eq(jetl_config_get(cfg, "log_format"), "json");
	cr_assert_str_eq(jetl_config_get(cfg, "queue"), "");
	cr_assert_null(jetl_config_get(cfg, "jira_url"));
	cr_assert_null(jetl_config_get(cfg, "nonsense"));
	cr_assert_null(jetl_config_get(NULL, "db"));
	jetl_config_free(cfg);
	jetl_config_free(NULL);
}

static void refused(const char *text, const char *want)
{
	const char *path = write_file("bad.conf", text);
	jetl_config *cfg = (jetl_config *)1;
	char err[512], expect[600];

	cr_assert_eq(jetl_config_load(&cfg, path, err, sizeof(err)), JETL_ECONFIG, "%s", text);
	cr_assert_null(cfg);
	snprintf(expect, sizeof(expect), "%s:%s", path, want);
	cr_assert_str_eq(err, expect);
}

Test(config, bad_lines_are_named)
{
	refused("db = x\nfoo = 1\n", "2: unknown key 'foo'");
	refused("just words\n", "1: expected 'key = value', got 'just words'");
	refused("db = a\n\ndb = b\n", "3: db is set again (first on line 1)");
	refused("tenant = 0\n", "1: tenant must be a whole number in 1..2147483647, not '0'");
	refused("batch_size = 10x\n", "1: batch_size must be a whole number in 1..1000, not '10x'");
	refused("log_level = loud\n", "1: log_level must be one of error|warning|info|debug, not 'loud'");
	refused("jira_url =\n", "1: jira_url needs a value");
	refused("jira_token = abc\n", "1: jira_token is not accepted in a configuration file: put the token "
		"in a file of its own (mode 0600) and name it with jira_token_file");
}

Test(config, missing_file_and_null_arguments)
{
	jetl_config *cfg;
	char err[256], path[300];

	snprintf(path, sizeof(path), "%s/none.conf", dir);
	cr_assert_eq(jetl_config_load(&cfg, path, err, sizeof(err)), JETL_ENOENT);
	cr_assert(strstr(err, "none.conf: cannot read the configuration: No such file") != NULL, "%s", err);
	cr_assert_eq(jetl_config_load(NULL, path, NULL, 0), JETL_EINVAL);
	cr_assert_eq(jetl_config_load(&cfg, NULL, NULL, 0), JETL_EINVAL);
	cr_assert_eq(jetl_config_apply(NULL, NULL, NULL, 0), JETL_EINVAL);
}

Test(config, apply_sets_options_under_the_environment)
{
	char conf[512], err[256], token[256];
	const char *path;
	jetl_options o;
	jetl_config *cfg;

	snprintf(token, sizeof(token), "%s", write_file("token", "s3cret \n"));
	snprintf(conf, sizeof(conf), "db = host=file\ntenant = 4\nconcurrency = 3\njira_auth = bearer\n"
		"jira_flavor = cloud\nlog_level = debug\njira_token_file = %s\n", token);
	path = write_file("b.conf", conf);
	cr_assert_eq(jetl_config_load(&cfg, path, err, sizeof(err)), JETL_OK, "%s", err);

	jetl_options_init(&o, JETL_OPTIONS_VERSION);
	cr_assert_eq(jetl_config_apply(cfg, &o, err, sizeof(err)), JETL_OK, "%s", err);
	cr_assert_str_eq(o.db, "host=file");
	cr_assert_eq(o.tenant_id, 4);
	cr_assert_eq(o.concurrency, 3);
	cr_assert_eq(o.jira_auth, JETL_AUTH_BEARER);
	cr_assert_eq(o.jira_flavor, JETL_FLAVOR_CLOUD);
	cr_assert_eq(o.log_level, JETL_LOG_DEBUG);
	cr_assert_str_eq(o.jira_token, "s3cret");

	/* The environment wins: those fields are left for jetl_open() to read. */
	setenv("JETL_DB", "host=env", 1);
	setenv("JETL_TENANT", "9", 1);
	setenv("JETL_JIRA_TOKEN", "from-env", 1);
	jetl_options_init(&o, JETL_OPTIONS_VERSION);
	cr_assert_eq(jetl_config_apply(cfg, &o, err, sizeof(err)), JETL_OK, "%s", err);
	cr_assert_null(o.db);
	cr_assert_eq(o.tenant_id, 1);
	cr_assert_null(o.jira_token);
	cr_assert_eq(o.concurrency, 3);
	/* An empty variable is unset. */
	setenv("JETL_DB", "", 1);
	cr_assert_eq(jetl_config_apply(cfg, &o, err, sizeof(err)), JETL_OK, "%s", err);
	cr_assert_str_eq(o.db, "host=file");
	jetl_config_free(cfg);
}

Test(config, token_file_missing_or_empty_names_the_line)
{
	char conf[512], err[512], want[900], empty[256];
	const char *path;
	jetl_options o;
	jetl_config *cfg;

	snprintf(empty, sizeof(empty), "%s", write_file("empty", "\n  \n"));
	snprintf(conf, sizeof(conf), "# token\njira_token_file = %s\n", empty);
	path = write_file("c.conf", conf);
	cr_assert_eq(jetl_config_load(&cfg, path, err, sizeof(err)), JETL_OK, "%s", err);
	jetl_options_init(&o, JETL_OPTIONS_VERSION);
	cr_assert_eq(jetl_config_apply(cfg, &o, err, sizeof(err)), JETL_ECONFIG);
	snprintf(want, sizeof(want), "%s:2: jira_token_file: %s is empty", path, empty);
	cr_assert_str_eq(err, want);
	cr_assert_null(o.jira_token);
	jetl_config_free(cfg);
}
