/* main.c - the jetl command: global options, dispatch, shared helpers. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

volatile sig_atomic_t cli_interrupted;

static const char usage[] =
"usage: jetl [--db CONNINFO] [--tenant N] [--integration N] [-v|-q] COMMAND [options]\n"
"       jetl -h|--help\n"
"       jetl --version\n"
"\n"
"commands:\n"
"  migrate     create or upgrade the schema\n"
"  extract     extract projects from Jira into PostgreSQL\n"
"  worker      consume queue messages (transform, and extract with --distribute)\n"
"  transform   transform one raw row (--raw-id N)\n"
"  status      show a job (--job N) or the recent jobs\n"
"  fields      sync, list and map Jira fields to the 20 custom-field slots\n"
"  version     print the versions of the command and of the library it runs with\n"
"\n"
"Run `jetl COMMAND --help` for a command's options, `man jetl` for the manual.\n"
"Environment: JETL_DB, JETL_QUEUE, JETL_JIRA_URL, JETL_JIRA_USER, JETL_JIRA_TOKEN,\n"
"JETL_TENANT, JETL_INTEGRATION. The Jira token is read only from JETL_JIRA_TOKEN or\n"
"--jira-token-file, never from the command line.\n"
"Exit codes: 0 done, 1 failed, 2 usage, 3 cancelled.\n";

int cli_parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static void log_to_stderr(int level, const char *message, void *userdata)
{
	char line[1200];

	(void)userdata;
	snprintf(line, sizeof(line), "jetl: %s%s\n", level <= JETL_LOG_ERROR ? "error: " :
		level == JETL_LOG_WARNING ? "warning: " : "", message);
	cli_log_line(line);
}

static int read_token_file(struct cli *c)
{
	FILE *f = fopen(c->token_file, "r");
	char buf[4096];
	size_t n;

	if (!f) {
		fprintf(stderr, "jetl: cannot read the token file %s: %s\n", c->token_file, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (n == 0) {
		fprintf(stderr, "jetl: the token file %s is empty\n", c->token_file);
		return -1;
	}
	c->token = strdup(buf);
	memset(buf, 0, sizeof(buf));
	c->opts.jira_token = c->token;
	return 0;
}

int cli_open(struct cli *c, jetl_ctx **ctx)
{
	char err[512];
	int rc;

	if (c->token_file && !c->token && read_token_file(c) < 0)
		return EXIT_USAGE;
	rc = jetl_open_err(ctx, &c->opts, err, sizeof(err));
	if (rc != JETL_OK) {
		fprintf(stderr, "jetl: %s\n", err);
		return EXIT_FAILED;
	}
	return EXIT_DONE;
}

int cli_fail(jetl_ctx *ctx, int rc, const char *what)
{
	if (rc == JETL_OK)
		return EXIT_DONE;
	if (rc == JETL_ECANCELLED) {
		fprintf(stderr, "jetl: %s: cancelled\n", what);
		return EXIT_CANCELLED;
	}
	fprintf(stderr, "jetl: %s: %s\n", what, *jetl_last_error(ctx) ? jetl_last_error(ctx) : jetl_strerror(rc));
	return rc == JETL_EINVAL ? EXIT_USAGE : EXIT_FAILED;
}

int cli_jira_option(struct cli *c, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	long n;

	if (strcmp(a, "--jira-token") == 0) {
		fprintf(stderr, "jetl: the token is never taken from the command line: "
			"set JETL_JIRA_TOKEN or use --jira-token-file\n");
		return -1;
	}
	if (strcmp(a, "--jira-url") && strcmp(a, "--jira-user") && strcmp(a, "--jira-auth") &&
	    strcmp(a, "--jira-flavor") && strcmp(a, "--jira-token-file") && strcmp(a, "--concurrency"))
		return 0;
	if (!v) {
		fprintf(stderr, "jetl: %s needs a value\n", a);
		return -1;
	}
	(*i)++;
	if (strcmp(a, "--jira-url") == 0)
		c->opts.jira_url = v;
	else if (strcmp(a, "--jira-user") == 0)
		c->opts.jira_user = v;
	else if (strcmp(a, "--jira-token-file") == 0)
		c->token_file = v;
	else if (strcmp(a, "--jira-auth") == 0) {
		if (strcmp(v, "basic") == 0)
			c->opts.jira_auth = JETL_AUTH_BASIC;
		else if (strcmp(v, "bearer") == 0)
			c->opts.jira_auth = JETL_AUTH_BEARER;
		else {
			fprintf(stderr, "jetl: --jira-auth must be basic or bearer, not '%s'\n", v);
			return -1;
		}
	} else if (strcmp(a, "--jira-flavor") == 0) {
		if (strcmp(v, "auto") == 0)
			c->opts.jira_flavor = JETL_FLAVOR_AUTO;
		else if (strcmp(v, "cloud") == 0)
			c->opts.jira_flavor = JETL_FLAVOR_CLOUD;
		else if (strcmp(v, "server") == 0)
			c->opts.jira_flavor = JETL_FLAVOR_SERVER;
		else {
			fprintf(stderr, "jetl: --jira-flavor must be auto, cloud or server, not '%s'\n", v);
			return -1;
		}
	} else {
		if (cli_parse_int(v, 1, 64, &n) < 0) {
			fprintf(stderr, "jetl: --concurrency must be 1..64, not '%s'\n", v);
			return -1;
		}
		c->opts.concurrency = (int)n;
	}
	return 1;
}

static void on_signal(int sig)
{
	(void)sig;
	cli_interrupted = 1;
}

static int env_int(const char *name, int *out)
{
	const char *s = getenv(name);
	long v;

	if (!s || !*s)
		return 0;
	if (cli_parse_int(s, 1, 2147483647L, &v) < 0) {
		fprintf(stderr, "jetl: %s must be a positive integer, not '%s'\n", name, s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c;
	struct sigaction sa;
	const char *cmd;
	long n;
	int i, rc;

	memset(&c, 0, sizeof(c));
	jetl_options_init(&c.opts, JETL_OPTIONS_VERSION);
	c.opts.log_cb = log_to_stderr;
	c.opts.log_level = JETL_LOG_WARNING;
	if (env_int("JETL_TENANT", &c.opts.tenant_id) < 0 || env_int("JETL_INTEGRATION", &c.opts.integration_id) < 0)
		return EXIT_USAGE;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			return EXIT_DONE;
		} else if (strcmp(a, "--version") == 0) {
			return cmd_version(&c, 1, argv + i);
		} else if (strcmp(a, "-v") == 0) {
			c.opts.log_level = JETL_LOG_DEBUG;
		} else if (strcmp(a, "-q") == 0) {
			c.opts.log_level = JETL_LOG_ERROR;
		} else if (strcmp(a, "--db") == 0 && v) {
			c.opts.db = v;
			i++;
		} else if ((strcmp(a, "--tenant") == 0 || strcmp(a, "--integration") == 0) && v) {
			if (cli_parse_int(v, 1, 2147483647L, &n) < 0) {
				fprintf(stderr, "jetl: %s must be a positive integer, not '%s'\n", a, v);
				return EXIT_USAGE;
			}
			if (a[2] == 't')
				c.opts.tenant_id = (int)n;
			else
				c.opts.integration_id = (int)n;
			i++;
		} else {
			fprintf(stderr, "jetl: unknown or incomplete option '%s'\n%s", a, usage);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	cmd = argv[i];
	argc -= i;
	argv += i;
	if (strcmp(cmd, "migrate") == 0)
		rc = cmd_migrate(&c, argc, argv);
	else if (strcmp(cmd, "extract") == 0)
		rc = cmd_extract(&c, argc, argv);
	else if (strcmp(cmd, "worker") == 0)
		rc = cmd_worker(&c, argc, argv);
	else if (strcmp(cmd, "transform") == 0)
		rc = cmd_transform(&c, argc, argv);
	else if (strcmp(cmd, "status") == 0)
		rc = cmd_status(&c, argc, argv);
	else if (strcmp(cmd, "fields") == 0)
		rc = cmd_fields(&c, argc, argv);
	else if (strcmp(cmd, "version") == 0)
		rc = cmd_version(&c, argc, argv);
	else {
		fprintf(stderr, "jetl: unknown command '%s'\n%s", cmd, usage);
		rc = EXIT_USAGE;
	}
	if (c.token) {
		memset(c.token, 0, strlen(c.token));
		free(c.token);
	}
	return rc;
}
