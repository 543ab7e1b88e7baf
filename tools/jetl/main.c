/* main.c - the jetl command: the command table, global options, the
 * configuration file, shared helpers. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

volatile sig_atomic_t cli_interrupted;

const struct cli_command cli_commands[] = {
	{ "migrate", "create or upgrade the schema", cli_migrate_help, cmd_migrate },
	{ "extract", "extract projects from Jira into PostgreSQL", cli_extract_help, cmd_extract },
	{ "worker", "consume queue messages (transform, and extract with --distribute)", cli_worker_help, cmd_worker },
	{ "transform", "transform one raw row (--raw-id N)", cli_transform_help, cmd_transform },
	{ "status", "show a job (--job N) or the recent jobs, with what they stored", cli_status_help, cmd_status },
	{ "cancel", "cancel a queued or running job (JOB)", cli_cancel_help, cmd_cancel },
	{ "errors", "list the issues that could not be stored, or read them again (--retry)", cli_errors_help, cmd_errors },
	{ "fields", "sync, list and map Jira fields to the 20 custom-field slots", cli_fields_help, cmd_fields },
	{ "integration", "add, list, show, test, set-secret, remove the tenant's Jira sites", cli_integration_help, cmd_integration },
	{ "projects", "sync the integration's projects and select those an extraction takes", cli_projects_help, cmd_projects },
	{ "version", "print the versions of the command and of the library it runs with", cli_version_help, cmd_version },
	{ "help", "show the help of a command (jetl help COMMAND)", cli_help_help, cmd_help },
	{ NULL, NULL, NULL, NULL }
};

static const char usage_head[] =
"usage: jetl [global options] COMMAND [options]\n"
"       jetl -h|--help | jetl help COMMAND\n"
"       jetl --version\n"
"\n"
"global options (before or after the command; a value as the next word or after =):\n"
"  --db CONNINFO         PostgreSQL conninfo or URI (else JETL_DB)\n"
"  --tenant N            tenant id (else JETL_TENANT, else 1)\n"
"  --integration N       integration id (else JETL_INTEGRATION, else 1)\n"
"  --config FILE         configuration file (else JETL_CONFIG, else " JETL_CONFIG_DEFAULT_PATH " if present)\n"
"  --log-format text|json  log lines as text or one JSON object per line\n"
"  -v, --verbose         log debug messages too\n"
"  -q, --quiet           print errors only\n"
"\n"
"commands:\n";

static const char usage_tail[] =
"\n"
"Run `jetl help COMMAND` for a command's options, `man jetl` for the manual.\n"
"Environment: JETL_DB, JETL_QUEUE, JETL_JIRA_URL, JETL_JIRA_USER, JETL_JIRA_TOKEN,\n"
"JETL_TENANT, JETL_INTEGRATION, JETL_CONFIG; they override the configuration file, and\n"
"flags override both. The Jira token is read only from JETL_JIRA_TOKEN or a file\n"
"(--jira-token-file, jira_token_file in the configuration), never from the command line.\n"
"Exit codes: 0 done, 1 failed, 2 usage, 3 cancelled, 4 busy (another job extracts a project).\n";

static void print_usage(FILE *f)
{
	fputs(usage_head, f);
	for (const struct cli_command *k = cli_commands; k->name; k++)
		fprintf(f, "  %-12s %s\n", k->name, k->summary); /* "integration" + two spaces */
	fputs(usage_tail, f);
}

static const struct cli_command *find_command(const char *name)
{
	for (const struct cli_command *k = cli_commands; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

const char cli_help_help[] =
"usage: jetl help [COMMAND]\n"
"  Show the options of COMMAND, or the list of commands.\n";

int cmd_help(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	const struct cli_command *k;
	int o;

	while ((o = cli_getopt(c, argc, argv, opts)) != CLI_END)
		return o == CLI_HELP ? EXIT_DONE : EXIT_USAGE;
	if (optind >= argc) {
		print_usage(stdout);
		return EXIT_DONE;
	}
	if (optind + 1 < argc)
		return cli_extra_operand(c, argv[optind + 1]);
	if (!(k = find_command(argv[optind]))) {
		fprintf(stderr, "jetl: help: no command '%s' (see jetl --help)\n", argv[optind]);
		return EXIT_USAGE;
	}
	fputs(k->help, stdout);
	return EXIT_DONE;
}

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

int cli_number(const char *opt, const char *arg, long lo, long hi, const char *what, long *out)
{
	if (cli_parse_int(arg, lo, hi, out) == 0)
		return 0;
	fprintf(stderr, "jetl: %s: '%s' is not %s\n", opt, arg, what);
	return -1;
}

int cli_extra_operand(struct cli *c, const char *arg)
{
	fprintf(stderr, "jetl: %s takes no operand '%s' (see jetl help %s)\n", c->cmd, arg, c->cmd);
	return EXIT_USAGE;
}

/* ---- options ---- */

enum { OPT_DB = 2000, OPT_TENANT, OPT_INTEGRATION, OPT_CONFIG, OPT_LOG_FORMAT, OPT_VERSION };

static const struct option global_opts[] = {
	{ "db", required_argument, NULL, OPT_DB },
	{ "tenant", required_argument, NULL, OPT_TENANT },
	{ "integration", required_argument, NULL, OPT_INTEGRATION },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
};
#define NGLOBAL (sizeof(global_opts) / sizeof(global_opts[0]))

/* A global option: 1 taken, -1 bad value (printed), 0 not global. */
static int global_option(struct cli *c, int o, const char *arg)
{
	long n;

	switch (o) {
	case OPT_DB:
		c->opts.db = arg;
		return 1;
	case OPT_TENANT:
	case OPT_INTEGRATION:
		if (cli_number(o == OPT_TENANT ? "--tenant" : "--integration", arg, 1, 2147483647L,
				o == OPT_TENANT ? "a tenant id (a positive integer)" :
				"an integration id (a positive integer)", &n) < 0)
			return -1;
		if (o == OPT_TENANT)
			c->opts.tenant_id = (int)n;
		else
			c->opts.integration_id = (int)n;
		return 1;
	case OPT_CONFIG:
		return 1;     /* read before anything else (load_config) */
	case OPT_LOG_FORMAT:
		if (strcmp(arg, "text") && strcmp(arg, "json")) {
			fprintf(stderr, "jetl: --log-format: '%s' is not text or json\n", arg);
			return -1;
		}
		c->log_format = arg[0] == 'j';
		return 1;
	case 'v':
		c->verbosity = 1;
		return 1;
	case 'q':
		c->verbosity = -1;
		return 1;
	}
	return 0;
}

/* The option argv[optind - 1] named, without its "=value". */
static void option_name(char **argv, int idx, char *out, size_t n)
{
	const char *a = idx > 0 ? argv[idx] : "";
	size_t len = strcspn(a, "=");

	snprintf(out, n, "%.*s", (int)len, a);
}

int cli_getopt(struct cli *c, int argc, char **argv, const struct option *opts)
{
	static struct option all[128];
	static char **cur;
	char name[128];
	int o;

	if (cur != argv) {
		size_t n = 0;
		for (size_t i = 0; i < NGLOBAL; i++)
			all[n++] = global_opts[i];
		for (size_t i = 0; opts[i].name && n + 1 < sizeof(all) / sizeof(all[0]); i++)
			all[n++] = opts[i];
		memset(&all[n], 0, sizeof(all[n]));
		cur = argv;
		optind = 0;   /* glibc: start over, argv is another vector */
		opterr = 0;
	}
	for (;;) {
		o = getopt_long(argc, argv, ":hvq", all, NULL);
		if (o == -1)
			return CLI_END;
		if (o == ':') {
			option_name(argv, optind - 1, name, sizeof(name));
			fprintf(stderr, "jetl: %s needs a value (see jetl help %s)\n", name, c->cmd);
			return CLI_ERROR;
		}
		if (o == '?') {
			option_name(argv, optind - 1, name, sizeof(name));
			if (optopt && strchr(argv[optind - 1], '=') && strncmp(argv[optind - 1], "--", 2) == 0)
				fprintf(stderr, "jetl: %s takes no value (see jetl help %s)\n", name, c->cmd);
			else if (optopt && optopt < 128 && strncmp(argv[optind - 1], "--", 2) != 0)
				fprintf(stderr, "jetl: unknown option '-%c' for %s (see jetl help %s)\n", optopt, c->cmd, c->cmd);
			else
				fprintf(stderr, "jetl: unknown option '%s' for %s (see jetl help %s)\n", name, c->cmd, c->cmd);
			return CLI_ERROR;
		}
		if (o == 'h') {
			const struct cli_command *k = find_command(c->cmd);
			if (k)
				fputs(k->help, stdout);
			return CLI_HELP;
		}
		switch (global_option(c, o, optarg)) {
		case 1:
			continue;
		case -1:
			return CLI_ERROR;
		}
		/* only a command whose table holds CLI_JIRA_OPTIONS gets these */
		switch (o >= OPT_JIRA_URL && o <= OPT_CONCURRENCY ? cli_jira_option(c, o, optarg) : 0) {
		case 1:
			continue;
		case -1:
			return CLI_ERROR;
		}
		return o;
	}
}

int cli_jira_option(struct cli *c, int opt, const char *v)
{
	long n;

	switch (opt) {
	case OPT_JIRA_TOKEN:
		fprintf(stderr, "jetl: --jira-token: the token is never taken from the command line: "
			"set JETL_JIRA_TOKEN or use --jira-token-file\n");
		return -1;
	case OPT_JIRA_URL:
		c->opts.jira_url = v;
		return 1;
	case OPT_JIRA_USER:
		c->opts.jira_user = v;
		return 1;
	case OPT_JIRA_TOKEN_FILE:
		c->token_file = v;
		return 1;
	case OPT_JIRA_AUTH:
		if (strcmp(v, "basic") == 0)
			c->opts.jira_auth = JETL_AUTH_BASIC;
		else if (strcmp(v, "bearer") == 0)
			c->opts.jira_auth = JETL_AUTH_BEARER;
		else {
			fprintf(stderr, "jetl: --jira-auth: '%s' is not basic or bearer\n", v);
			return -1;
		}
		return 1;
	case OPT_JIRA_FLAVOR:
		if (strcmp(v, "auto") == 0)
			c->opts.jira_flavor = JETL_FLAVOR_AUTO;
		else if (strcmp(v, "cloud") == 0)
			c->opts.jira_flavor = JETL_FLAVOR_CLOUD;
		else if (strcmp(v, "server") == 0)
			c->opts.jira_flavor = JETL_FLAVOR_SERVER;
		else {
			fprintf(stderr, "jetl: --jira-flavor: '%s' is not auto, cloud or server\n", v);
			return -1;
		}
		return 1;
	case OPT_CONCURRENCY:
		if (cli_number("--concurrency", v, 1, 64, "a number of requests in 1..64", &n) < 0)
			return -1;
		c->opts.concurrency = (int)n;
		return 1;
	}
	return 0;
}

/* ---- context ---- */

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

/* Log format and level: flags over the configuration file over defaults
 * (the worker tells what it takes, at info; the others warn). */
static void setup_logging(struct cli *c)
{
	const char *f = jetl_config_get(c->config, "log_format");
	int json = c->log_format >= 0 ? c->log_format : (f && strcmp(f, "json") == 0);

	if (c->verbosity > 0)
		c->opts.log_level = JETL_LOG_DEBUG;
	else if (c->verbosity < 0)
		c->opts.log_level = JETL_LOG_ERROR;
	else if (!jetl_config_get(c->config, "log_level"))
		c->opts.log_level = strcmp(c->cmd, "worker") == 0 ? JETL_LOG_INFO : JETL_LOG_WARNING;
	cli_log_setup(json, c->opts.log_level);
}

int cli_open(struct cli *c, jetl_ctx **ctx)
{
	char err[512];
	int rc;

	setup_logging(c);
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
	const char *m;

	if (rc == JETL_OK)
		return EXIT_DONE;
	if (rc == JETL_ECANCELLED) {
		fprintf(stderr, "jetl: %s: cancelled\n", what);
		return EXIT_CANCELLED;
	}
	m = *jetl_last_error(ctx) ? jetl_last_error(ctx) : "";
	/* Said already as a log line (the library logs the errors it records):
	 * once is enough. An empty message after logged errors is the same
	 * failure told by its status alone. */
	if (!cli_error_said(m))
		fprintf(stderr, "jetl: %s: %s\n", what, *m ? m : jetl_strerror(rc));
	if (rc == JETL_EBUSY)
		return EXIT_BUSY;
	return rc == JETL_EINVAL ? EXIT_USAGE : EXIT_FAILED;
}

/* ---- configuration ---- */

/* The file named by the last --config, else $JETL_CONFIG, else the default
 * path if it exists. Read before the flags so that they override it; the
 * environment overrides it inside jetl_config_apply(). */
static int load_config(struct cli *c, int argc, char **argv)
{
	const char *path = NULL;
	char err[600];
	int rc, explicit = 1;

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
	}
	if (!path && (path = getenv("JETL_CONFIG")) && !*path)
		path = NULL;
	if (!path) {
		path = JETL_CONFIG_DEFAULT_PATH;
		explicit = 0;
	}
	rc = jetl_config_load(&c->config, path, err, sizeof(err));
	if (rc == JETL_ENOENT && !explicit)
		return 0;
	if (rc == JETL_OK)
		rc = jetl_config_apply(c->config, &c->opts, err, sizeof(err));
	if (rc != JETL_OK) {
		fprintf(stderr, "jetl: %s\n", err);
		return -1;
	}
	return 0;
}

static int env_int(const char *name, int *out)
{
	const char *s = getenv(name);
	long v;

	if (!s || !*s)
		return 0;
	if (cli_parse_int(s, 1, 2147483647L, &v) < 0) {
		fprintf(stderr, "jetl: %s: '%s' is not a positive integer\n", name, s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	cli_interrupted = 1;
}

static int run(struct cli *c, int argc, char **argv)
{
	static const struct option pre[] = {
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	static struct option all[NGLOBAL + 2];
	const struct cli_command *k;
	struct sigaction sa;
	char name[128];
	int o;

	/* Global options before the command (getopt stops at the command). */
	memcpy(all, global_opts, sizeof(global_opts));
	all[NGLOBAL] = pre[0];
	memset(&all[NGLOBAL + 1], 0, sizeof(all[0]));
	c->cmd = "jetl";
	opterr = 0;
	optind = 0;
	while ((o = getopt_long(argc, argv, "+:hvq", all, NULL)) != -1) {
		if (o == 'h') {
			print_usage(stdout);
			return EXIT_DONE;
		}
		if (o == OPT_VERSION)
			return cmd_version(c, 1, argv);
		if (o == ':' || o == '?') {
			option_name(argv, optind - 1, name, sizeof(name));
			if (o == ':')
				fprintf(stderr, "jetl: %s needs a value\n", name);
			else if (optopt && optopt < 128 && strncmp(argv[optind - 1], "--", 2) != 0)
				fprintf(stderr, "jetl: unknown option '-%c' (see jetl --help)\n", optopt);
			else
				fprintf(stderr, "jetl: unknown option '%s' (see jetl --help)\n", name);
			return EXIT_USAGE;
		}
		if (global_option(c, o, optarg) < 0)
			return EXIT_USAGE;
	}
	if (optind >= argc) {
		fputs("jetl: no command given\n", stderr);
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (!(k = find_command(argv[optind]))) {
		fprintf(stderr, "jetl: unknown command '%s' (see jetl --help)\n", argv[optind]);
		return EXIT_USAGE;
	}
	c->cmd = k->name;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return k->run(c, argc - optind, argv + optind);
}

static int needs_config(int argc, char **argv)
{
	/* help and version answer without reading anything. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "help") == 0 || strcmp(argv[i], "version") == 0 ||
		    strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct cli c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.log_format = -1;
	jetl_options_init(&c.opts, JETL_OPTIONS_VERSION);
	c.opts.log_cb = cli_log_cb;
	c.opts.log_level = JETL_LOG_WARNING;
	/* Precedence: the file, then the environment, then the flags. */
	if (needs_config(argc, argv) && load_config(&c, argc, argv) < 0) {
		jetl_config_free(c.config);   /* read, but its token file was not */
		return EXIT_USAGE;
	}
	if (env_int("JETL_TENANT", &c.opts.tenant_id) < 0 || env_int("JETL_INTEGRATION", &c.opts.integration_id) < 0) {
		jetl_config_free(c.config);
		return EXIT_USAGE;
	}
	rc = run(&c, argc, argv);
	cli_log_summary();
	if (c.token) {
		memset(c.token, 0, strlen(c.token));
		free(c.token);
	}
	jetl_config_free(c.config);
	return rc;
}
