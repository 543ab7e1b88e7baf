/* cli.h - the jetl command: shared state of its files. */
#ifndef JETL_CLI_H
#define JETL_CLI_H

#include <getopt.h>
#include <signal.h>
#include <jansson.h>
#include <jetl.h>

/* Exit codes (docs/cli.md, 'Exit codes'). */
/* EXIT_BUSY: another running job holds a project (JETL_EBUSY): a
 * scheduler can tell "try later" from a failure without reading stderr. */
enum { EXIT_DONE = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_CANCELLED = 3, EXIT_BUSY = 4 };

/* PROGRESS_LINES: what auto means off a terminal, a plain line every few seconds (bar.c). */
enum progress_mode { PROGRESS_AUTO, PROGRESS_BAR, PROGRESS_JSON, PROGRESS_NONE, PROGRESS_LINES };

struct cli {
	jetl_options opts;            /* defaults < config file < environment < flags */
	int verbosity;                /* -1 quiet (-q), 0 normal, 1 verbose (-v) */
	int log_format;               /* -1 not given, 0 text, 1 json */
	const char *cmd;              /* the command being run */
	jetl_config *config;          /* the file, kept while opts borrow from it */
	const char *token_file;
	char *token;                  /* read from the file; never from argv */
};

/*
 * The commands. To add one (tools/jetl/cmd_integration.c …): write
 * `int cmd_x(struct cli *, int argc, char **argv)` that loops over
 * cli_getopt() with its own options, declare it below and add a line to
 * cli_commands[] in main.c; `jetl help`, `jetl x --help` and the man page
 * check (scripts/check-man) pick it up from there.
 */
struct cli_command {
	const char *name;
	const char *summary;          /* one line in `jetl --help` */
	const char *help;             /* `jetl help NAME`, `jetl NAME --help` */
	int (*run)(struct cli *c, int argc, char **argv);
};
extern const struct cli_command cli_commands[];

extern volatile sig_atomic_t cli_interrupted;

/*
 * Options: cli_getopt() walks argv (argv[0] is the command's name) with
 * getopt_long, `--opt value` and `--opt=value`, accepting the global
 * options (--db, --tenant, --integration, --config, --log-format, -v, -q)
 * anywhere and handling them itself. It returns the `val` of one of opts,
 * CLI_END at the end (operands from optind on), CLI_HELP after printing the
 * command's help, or CLI_ERROR after printing one line.
 */
enum { CLI_END = -1, CLI_ERROR = -2, CLI_HELP = -3 };
int cli_getopt(struct cli *c, int argc, char **argv, const struct option *opts);
/* The --jira-* options and --concurrency, for commands that talk to Jira:
 * put CLI_JIRA_OPTIONS in the option table and cli_getopt() takes them
 * like the global ones (a bad value is CLI_ERROR, printed).
 * cli_jira_option() is its step for one of them: 1 taken, 0 not one of
 * them, -1 bad value (printed). */
enum { OPT_JIRA_URL = 1000, OPT_JIRA_USER, OPT_JIRA_AUTH, OPT_JIRA_FLAVOR, OPT_JIRA_TOKEN_FILE,
	OPT_JIRA_TOKEN, OPT_CONCURRENCY };
#define CLI_JIRA_OPTIONS \
	{ "jira-url", required_argument, NULL, OPT_JIRA_URL }, \
	{ "jira-user", required_argument, NULL, OPT_JIRA_USER }, \
	{ "jira-auth", required_argument, NULL, OPT_JIRA_AUTH }, \
	{ "jira-flavor", required_argument, NULL, OPT_JIRA_FLAVOR }, \
	{ "jira-token-file", required_argument, NULL, OPT_JIRA_TOKEN_FILE }, \
	{ "jira-token", optional_argument, NULL, OPT_JIRA_TOKEN }, \
	{ "concurrency", required_argument, NULL, OPT_CONCURRENCY }
int cli_jira_option(struct cli *c, int opt, const char *arg);
/* A number in lo..hi for option `opt`; on failure prints
 * "jetl: --job: 'abc' is not a job id (a positive integer)" (what = "a job
 * id (a positive integer)") and returns -1. */
int cli_number(const char *opt, const char *arg, long lo, long hi, const char *what, long *out);
/* One of the command's operands that it does not take. */
int cli_extra_operand(struct cli *c, const char *arg);
int cli_parse_int(const char *s, long lo, long hi, long *out);

/* Open the context (after options are final); prints the error. */
int cli_open(struct cli *c, jetl_ctx **ctx);
/* Map a status to an exit code, printing the context's message once. */
int cli_fail(jetl_ctx *ctx, int rc, const char *what);
/* `jetl integration webhook ...` (cmd_webhook.c): argv[0] is "webhook". */
int cli_integration_webhook(struct cli *c, int argc, char **argv);
/* Unix seconds as RFC 3339 UTC with milliseconds and "Z" (the one time
 * format of every JSON output), or JSON null for 0 (unset). New reference,
 * the caller's (json_pack "o" takes it); NULL only when out of memory. */
json_t *cli_iso_time(double t);
/* Informational output on stdout is for people: not under -q. */
#define CLI_SAYS(c) ((c)->verbosity >= 0)

/* Logging (log.c): "TIME LEVEL: message" or one JSON object a line on
 * stderr; warnings of one kind shown 5 times, the rest counted and told by
 * cli_log_summary(); an error said once. Thread-safe. */
void cli_log_setup(int json, int level);
void cli_log(int level, const char *message);
void cli_logf(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_log_cb(int level, const char *message, void *userdata);
void cli_log_summary(void);
/* One progress line (bar.c, off a terminal), shown at any level. */
void cli_log_progress(const char *message);
int cli_error_said(const char *message);

/* Progress rendering (bar.c). */
struct bar;
struct bar *bar_new(enum progress_mode mode);
void bar_free(struct bar *b);
int bar_callback(const jetl_progress *p, void *userdata);
void bar_finish(struct bar *b);
/* Print one log line on stderr without tearing the bar (thread-safe). */
void cli_log_line(const char *line);

int cmd_migrate(struct cli *c, int argc, char **argv);
int cmd_extract(struct cli *c, int argc, char **argv);
int cmd_worker(struct cli *c, int argc, char **argv);
int cmd_transform(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_cancel(struct cli *c, int argc, char **argv);
int cmd_fields(struct cli *c, int argc, char **argv);
int cmd_version(struct cli *c, int argc, char **argv);
int cmd_help(struct cli *c, int argc, char **argv);
/* cmd_integration.c */
int cmd_integration(struct cli *c, int argc, char **argv);
int cmd_projects(struct cli *c, int argc, char **argv);
extern const char cli_integration_help[], cli_projects_help[];
/* cmd_errors.c */
int cmd_errors(struct cli *c, int argc, char **argv);
extern const char cli_errors_help[];

extern const char cli_migrate_help[], cli_extract_help[], cli_worker_help[], cli_transform_help[],
	cli_status_help[], cli_cancel_help[], cli_fields_help[], cli_version_help[], cli_help_help[];

#endif
