/* cli.h - the jetl command: shared state of its files. */
#ifndef JETL_CLI_H
#define JETL_CLI_H

#include <signal.h>
#include <jetl.h>

/* Exit codes (docs/cli.md, 'Exit codes'). */
enum { EXIT_DONE = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_CANCELLED = 3 };

enum progress_mode { PROGRESS_AUTO, PROGRESS_BAR, PROGRESS_JSON, PROGRESS_NONE };

struct cli {
	jetl_options opts;
	int verbosity;                /* -1 quiet, 0 normal, 1 verbose */
	const char *token_file;
	char *token;                  /* read from the file; never from argv */
};

extern volatile sig_atomic_t cli_interrupted;

/* Open the context (after options are final); prints the error. */
int cli_open(struct cli *c, jetl_ctx **ctx);
/* Map a status to an exit code, printing the context's message. */
int cli_fail(jetl_ctx *ctx, int rc, const char *what);
/* Parse "--jira-*" and "--concurrency" style options shared by commands;
 * returns 1 when argv[*i] was one of them (consuming its value), 0 when
 * not, -1 on a usage error. */
int cli_jira_option(struct cli *c, int argc, char **argv, int *i);
int cli_parse_int(const char *s, long lo, long hi, long *out);

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
int cmd_fields(struct cli *c, int argc, char **argv);
int cmd_version(struct cli *c, int argc, char **argv);

#endif
