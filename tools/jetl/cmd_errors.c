/* cmd_errors.c - `jetl errors`: the issues that could not be stored, and
 * reading them again (--retry). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

const char cli_errors_help[] =
"usage: jetl errors [--project KEY] [--limit N] [--retry] [--jira-url URL] [--jira-user USER]\n"
"                   [--jira-auth basic|bearer] [--jira-flavor F] [--jira-token-file FILE]\n"
"                   [--concurrency N]\n"
"  List the issues a transform could not store (issue_errors), newest first: key, id,\n"
"  project, raw row, job, when, why. --retry reads them all again from Jira and\n"
"  transforms them (the project watermarks stay), then lists what is still missing.\n";

enum { OPT_E_PROJECT = 1, OPT_E_LIMIT, OPT_E_RETRY };

struct listing {
	int64_t n;
};

static int print_error(const jetl_issue_error *e, void *ud)
{
	struct listing *l = ud;
	char when[32] = "";
	time_t t = (time_t)e->created_at;
	struct tm tm;

	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
	printf("%-12s id %-10s %-8s raw row %lld, job %lld, %s: %s\n", *e->key ? e->key : "?",
		*e->external_id ? e->external_id : "?", e->project_key, (long long)e->raw_id, (long long)e->job_id,
		when, e->error);
	l->n++;
	return 0;
}

/* Read them again; prints what it did. */
static int retry(struct cli *c, jetl_ctx *ctx)
{
	jetl_extract_options eo = JETL_EXTRACT_OPTIONS_INIT;
	int64_t job_id = 0, issues = 0;
	int rc;

	eo.wait = 1;   /* with a queue too: the list after it must be the outcome */
	rc = jetl_issue_errors_retry(ctx, &eo, &job_id, &issues);
	if (rc == JETL_OK && CLI_SAYS(c)) {
		if (issues == 0)
			printf("nothing to retry\n");
		else
			printf("read again %lld issue(s) from Jira (job %lld)\n", (long long)issues, (long long)job_id);
	}
	return rc;
}

int cmd_errors(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "project", required_argument, NULL, OPT_E_PROJECT },
		{ "limit", required_argument, NULL, OPT_E_LIMIT },
		{ "retry", no_argument, NULL, OPT_E_RETRY },
		CLI_JIRA_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	const char *project = NULL;
	struct listing l = { 0 };
	long limit = 0;
	int again = 0, rc, o;
	jetl_ctx *ctx;

	while ((o = cli_getopt(c, argc, argv, opts)) != CLI_END) {
		if (o == CLI_ERROR)
			return EXIT_USAGE;
		if (o == CLI_HELP)
			return EXIT_DONE;
		if (o == OPT_E_PROJECT)
			project = optarg;
		else if (o == OPT_E_RETRY)
			again = 1;
		else if (o == OPT_E_LIMIT &&
			 cli_number("--limit", optarg, 1, 1000000, "a number of issues in 1..1000000", &limit) < 0)
			return EXIT_USAGE;
	}
	if (optind < argc)
		return cli_extra_operand(c, argv[optind]);
	if ((rc = cli_open(c, &ctx)) != EXIT_DONE)
		return rc;
	rc = again ? retry(c, ctx) : JETL_OK;
	if (rc == JETL_OK)
		rc = jetl_issue_errors_list(ctx, project, (size_t)limit, print_error, &l);
	if (rc == JETL_OK && CLI_SAYS(c))
		printf("%lld issue(s) not stored%s\n", (long long)l.n,
			l.n ? ": fix the cause (in Jira, a field mapping), then `jetl errors --retry`" : "");
	rc = cli_fail(ctx, rc, "errors");
	jetl_close(ctx);
	return rc;
}
