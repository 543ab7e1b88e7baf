/* commands.c - the jetl subcommands. Each parses its own options through
 * cli_getopt() (global options included), and maps statuses to the exit
 * codes of docs/cli.md. */
#include <jansson.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "metrics.h"

static const struct option no_options[] = { { NULL, 0, NULL, 0 } };

/* A command without options of its own: globals only, no operands. */
static int only_globals(struct cli *c, int argc, char **argv)
{
	int o;

	while ((o = cli_getopt(c, argc, argv, no_options)) != CLI_END)
		return o == CLI_HELP ? EXIT_DONE : EXIT_USAGE;
	if (optind < argc)
		return cli_extra_operand(c, argv[optind]);
	return -1;
}

/* Globals only, operands left from optind on. */
static int only_globals_operands(struct cli *c, int argc, char **argv)
{
	int o;

	while ((o = cli_getopt(c, argc, argv, no_options)) != CLI_END)
		return o == CLI_HELP ? EXIT_DONE : EXIT_USAGE;
	return -1;
}

/* ---- migrate ---- */

const char cli_migrate_help[] =
"usage: jetl migrate\n"
"  Create or upgrade the schema (idempotent, safe to run concurrently).\n";

int cmd_migrate(struct cli *c, int argc, char **argv)
{
	jetl_ctx *ctx;
	int rc;

	if ((rc = only_globals(c, argc, argv)) >= 0)
		return rc;
	if ((rc = cli_open(c, &ctx)) != EXIT_DONE)
		return rc;
	rc = jetl_migrate(ctx);
	if (rc == JETL_OK && CLI_SAYS(c))
		printf("schema is at version %d\n", jetl_schema_version());
	rc = cli_fail(ctx, rc, "migrate");
	jetl_close(ctx);
	return rc;
}

/* ---- extract ---- */

const char cli_extract_help[] =
"usage: jetl extract [--project KEY]... [KEY]... [--full] [--jql JQL] [--queue URL] [--distribute]\n"
"                    [--wait] [--wait-timeout SECONDS] [--jira-url URL] [--jira-user USER]\n"
"                    [--jira-auth basic|bearer] [--jira-flavor auto|cloud|server]\n"
"                    [--jira-token-file FILE]\n"
"                    [--concurrency N] [--no-dev-status] [--types LIST] [--progress auto|bar|json|none]\n"
"                    [--allow-mass-delete]\n"
"  Extract issues, complete changelogs and dev status of the projects (every visible\n"
"  project when none is given). Incremental unless --full. Without --queue the rows are\n"
"  transformed in this process and the command returns when they are in the final tables;\n"
"  with --queue, workers transform them (--wait waits for that; --wait-timeout SECONDS gives\n"
"  up then: the job failed, exit 1). --distribute hands whole projects to workers\n"
"  (`jetl worker --distribute`). --types comments,worklogs (or issues, or all: the default)\n"
"  chooses the types read by requests of their own. Ends with what the job stored, per project and in total.\n"
"  A census missing more than half of a project's stored issues (and more than 10) marks\n"
"  none deleted unless --allow-mass-delete.\n";

/* The job's totals, as the library keeps them in its row while it runs
 * (etl_job_queue.totals): the same for this process's run, another's, or
 * the workers'. */
struct totals {
	int64_t issues, histories, changelog_items, dev_status, work_items, deleted, raw_rows,
		requests, retries, rate_limited;
};

static void job_totals(const jetl_job *j, struct totals *t)
{
	t->issues = j->issues;
	t->histories = j->histories;
	t->changelog_items = j->changelog_items;
	t->dev_status = j->dev_status;
	t->work_items = j->work_items;
	t->deleted = j->deleted;
	t->raw_rows = j->raw_rows;
	t->requests = j->requests;
	t->retries = j->retries;
	t->rate_limited = j->rate_limited;
}

/* What the progress events said of each project, for the summary. */
#define MAX_PROJECTS 256
struct proj_stat {
	char key[64];
	int64_t issues, changelogs, dev_status, raw_rows;
	double t0, t1;
	int have_totals;           /* t holds the job's totals that grew during the project */
	struct totals t;
};
struct run_stats {
	struct bar *bar;
	struct proj_stat p[MAX_PROJECTS];
	int n;
	/*
	 * Per project, the job's totals are read (on a context of its own: a
	 * progress callback must not use the one running the job) each time
	 * the run moves to the next project. The extracting process adds a
	 * project's issues, raw rows, requests, 429s and deleted issues before
	 * it starts the next, so their differences are the project's; the
	 * transform's rows (changelog items, dev status) are written by a
	 * thread that overlaps the next project, so they stay job-wide.
	 */
	jetl_ctx *peek;
	int64_t job_id;
	struct totals last;
	int cur;                   /* the project being extracted, -1 none */
};

static void totals_sub(struct totals *d, const struct totals *a, const struct totals *b)
{
	d->issues = a->issues - b->issues;
	d->histories = a->histories - b->histories;
	d->changelog_items = a->changelog_items - b->changelog_items;
	d->dev_status = a->dev_status - b->dev_status;
	d->work_items = a->work_items - b->work_items;
	d->deleted = a->deleted - b->deleted;
	d->raw_rows = a->raw_rows - b->raw_rows;
	d->requests = a->requests - b->requests;
	d->retries = a->retries - b->retries;
	d->rate_limited = a->rate_limited - b->rate_limited;
}

/* The project st->cur is done: its share of the job's totals so far. */
static void close_project(struct run_stats *st)
{
	jetl_job job = JETL_JOB_INIT;
	struct totals now;

	if (st->cur < 0 || !st->peek || st->job_id <= 0 || jetl_job_get(st->peek, st->job_id, &job) != JETL_OK) {
		st->cur = -1;
		return;
	}
	job_totals(&job, &now);
	totals_sub(&st->p[st->cur].t, &now, &st->last);
	st->p[st->cur].have_totals = 1;
	st->last = now;
	st->cur = -1;
}

/*
 * The command owns its process heap, so it may tidy it: every ~2,000 issues
 * stored, glibc gives the pages it holds free back to the system. Without
 * it a long extraction's RSS crept up by fragmentation while the live heap
 * stayed flat (53 MB at 10,000 issues, 65 MB at 100,000). The library never
 * does this: it is a decision for the whole process, so the application's.
 */
static int extract_progress(const jetl_progress *p, void *userdata)
{
	struct run_stats *st = userdata;
#ifdef __GLIBC__
	static int64_t last;

	if (p->phase == JETL_PHASE_STORE) {
		if (p->done < last)
			last = 0;   /* the next project counts from 0 */
		if (p->done - last >= 2000) {
			last = p->done;
			malloc_trim(0);
		}
	}
#endif
	if (p->project_key && *p->project_key) {
		struct proj_stat *ps = NULL;
		for (int i = 0; i < st->n; i++)
			if (strcmp(st->p[i].key, p->project_key) == 0)
				ps = &st->p[i];
		if (!ps && st->n < MAX_PROJECTS) {
			if (p->job_id > 0)
				st->job_id = p->job_id;
			close_project(st);
			st->cur = st->n;
			ps = &st->p[st->n++];
			snprintf(ps->key, sizeof(ps->key), "%s", p->project_key);
			ps->t0 = p->elapsed;
		}
		if (ps) {
			if (p->phase == JETL_PHASE_ISSUES && p->done > ps->issues) ps->issues = p->done;
			if (p->phase == JETL_PHASE_CHANGELOGS && p->done > ps->changelogs) ps->changelogs = p->done;
			if (p->phase == JETL_PHASE_DEV_STATUS && p->done > ps->dev_status) ps->dev_status = p->done;
			if (p->phase == JETL_PHASE_QUEUE && p->done > ps->raw_rows) ps->raw_rows = p->done;
			if (p->phase != JETL_PHASE_TRANSFORM)
				ps->t1 = p->elapsed;
		}
	}
	return bar_callback(p, st->bar);
}

static int parse_progress(const char *v, enum progress_mode *m)
{
	if (strcmp(v, "auto") == 0) *m = PROGRESS_AUTO;
	else if (strcmp(v, "bar") == 0) *m = PROGRESS_BAR;
	else if (strcmp(v, "json") == 0) *m = PROGRESS_JSON;
	else if (strcmp(v, "none") == 0) *m = PROGRESS_NONE;
	else {
		fprintf(stderr, "jetl: --progress: '%s' is not auto, bar, json or none\n", v);
		return -1;
	}
	return 0;
}

/* "12345" -> "12,345" */
static const char *num(char *buf, size_t n, int64_t v)
{
	char d[32];
	size_t len, o = 0;

	snprintf(d, sizeof(d), "%lld", (long long)v);
	len = strlen(d);
	for (size_t i = 0; i < len && o + 2 < n; i++) {
		if (i > 0 && d[i - 1] != '-' && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = d[i];
	}
	buf[o] = '\0';
	return buf;
}

static double job_seconds(const jetl_job *j)
{
	double end = j->finished_at > 0 ? j->finished_at : j->updated_at;

	return j->started_at > 0 && end > j->started_at ? end - j->started_at : 0;
}

/* "50 issues, 660 changelog items, …, 56 requests (0 retried, 0 429s) in 0.2 s" */
static void print_totals(const struct totals *t, double seconds)
{
	char a[32], b[32], cc[32], d[32], e[32], f[32], g[32];

	printf("%s issues, %s changelog items, %s dev-status rows", num(a, sizeof(a), t->issues),
		num(b, sizeof(b), t->changelog_items), num(cc, sizeof(cc), t->dev_status));
	printf(", %s deleted, %s raw rows, %s requests (%s retried, %s 429s) in %.1f s\n",
		num(d, sizeof(d), t->deleted), num(e, sizeof(e), t->raw_rows), num(f, sizeof(f), t->requests),
		num(g, sizeof(g), t->retries), num(a, sizeof(a), t->rate_limited), seconds);
}

/* What a user must not miss: issues not stored, dated in the future,
 * deletions refused. Lines under the totals, only when there is some. */
static void print_misses(const jetl_job *j, const char *indent)
{
	char a[32], b[32];

	if (j->not_stored)
		printf("%s%s stored, %s not stored: see `jetl errors`\n", indent,
			num(a, sizeof(a), j->issues > j->not_stored ? j->issues - j->not_stored : 0),
			num(b, sizeof(b), j->not_stored));
	if (j->future_dated)
		printf("%s%s issue(s) dated after Jira's clock: stored, the watermark kept at the run's start\n",
			indent, num(a, sizeof(a), j->future_dated));
	if (j->deleted_refused)
		printf("%s%s issue(s) missing from a census not marked deleted (more than half of the project): "
			"--allow-mass-delete confirms\n", indent, num(a, sizeof(a), j->deleted_refused));
}

/* The end of a run: the job's totals on the first line ("job 7 finished:
 * 50 issues, …", which scripts read), then a line per project. */
static void print_summary(jetl_ctx *ctx, int64_t job_id, const jetl_extract_result *r,
	const struct run_stats *st, int single)
{
	jetl_job job = JETL_JOB_INIT;
	struct totals t;
	char a[32], b[32], cc[32], d[32];

	if (jetl_job_get(ctx, job_id, &job) != JETL_OK)
		return;
	job_totals(&job, &t);
	printf("job %lld %s: ", (long long)job_id, job.status);
	print_totals(&t, single && r->seconds > 0 ? r->seconds : job_seconds(&job));
	for (int i = 0; i < st->n; i++) {
		const struct proj_stat *ps = &st->p[i];
		char e[32], f[32];

		if (ps->have_totals && st->n > 1)
			printf("  %s: %s issues, %s deleted, %s raw rows, %s requests (%s retried, %s 429s) in %.1f s\n",
				ps->key, num(a, sizeof(a), ps->t.issues), num(b, sizeof(b), ps->t.deleted),
				num(cc, sizeof(cc), ps->t.raw_rows), num(d, sizeof(d), ps->t.requests),
				num(e, sizeof(e), ps->t.retries), num(f, sizeof(f), ps->t.rate_limited), ps->t1 - ps->t0);
		else
			printf("  %s: %s issues, %s dev status fetched, %s changelogs completed, %s raw rows in %.1f s\n",
				ps->key, num(a, sizeof(a), ps->issues), num(b, sizeof(b), ps->dev_status),
				num(cc, sizeof(cc), ps->changelogs), num(d, sizeof(d), ps->raw_rows), ps->t1 - ps->t0);
	}
	if (job.projects_total > 1 || !single)
		printf("  %d/%d projects extracted\n", job.projects_done, job.projects_total);
	if (job.raw_pending)
		printf("  %lld raw rows wait for workers (jetl worker)\n", (long long)job.raw_pending);
	if (job.raw_failed)
		printf("  %lld raw rows failed to transform: see `jetl status --job %lld`\n",
			(long long)job.raw_failed, (long long)job_id);
	print_misses(&job, "  ");
}

static json_t *job_json(const jetl_job *j, int tenant, int integration);

/* --progress json: the last object, the job as `jetl status --job N --json`
 * shows it (its totals, RFC 3339 UTC times) with "final": true, so a program
 * reading the stream needs no second command for the outcome. */
static void print_final_json(jetl_ctx *ctx, int64_t job_id)
{
	jetl_job job = JETL_JOB_INIT;
	json_t *o;

	if (jetl_job_get(ctx, job_id, &job) != JETL_OK ||
			!(o = job_json(&job, jetl_tenant_id(ctx), jetl_integration_id(ctx))))
		return;
	json_object_set_new(o, "final", json_true());
	json_object_set_new(o, "job_id", json_integer(job_id));
	json_dumpf(o, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(o);
}

enum { OPT_PROJECT = 1, OPT_FULL, OPT_JQL, OPT_QUEUE, OPT_DISTRIBUTE, OPT_WAIT, OPT_NO_DEV_STATUS,
	OPT_PROGRESS, OPT_UNTIL_IDLE, OPT_IDLE_MS, OPT_THREADS, OPT_RAW_ID, OPT_JOB, OPT_JSON,
	OPT_SYNC, OPT_LIST, OPT_MAP, OPT_METRICS_LISTEN, OPT_ALLOW_MASS_DELETE,
	OPT_WAIT_TIMEOUT, OPT_TYPES };

/* --wait-timeout SECONDS: --wait with a deadline. */
static int wait_timeout(const char *arg, jetl_extract_options *eo)
{
	long n;

	if (cli_number("--wait-timeout", arg, 1, 604800L, "a number of seconds in 1..604800", &n) < 0)
		return -1;
	eo->wait = 1;
	eo->wait_seconds = (int)n;
	return 0;
}

int cmd_extract(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "project", required_argument, NULL, OPT_PROJECT },
		{ "full", no_argument, NULL, OPT_FULL },
		{ "jql", required_argument, NULL, OPT_JQL },
		{ "queue", required_argument, NULL, OPT_QUEUE },
		{ "distribute", no_argument, NULL, OPT_DISTRIBUTE },
		{ "wait", no_argument, NULL, OPT_WAIT },
		{ "wait-timeout", required_argument, NULL, OPT_WAIT_TIMEOUT },
		{ "no-dev-status", no_argument, NULL, OPT_NO_DEV_STATUS },
		{ "types", required_argument, NULL, OPT_TYPES },
		{ "progress", required_argument, NULL, OPT_PROGRESS },
		{ "allow-mass-delete", no_argument, NULL, OPT_ALLOW_MASS_DELETE },
		CLI_JIRA_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	jetl_extract_options eo = JETL_EXTRACT_OPTIONS_INIT;
	jetl_extract_result res = JETL_EXTRACT_RESULT_INIT;
	enum progress_mode mode = PROGRESS_AUTO;
	const char **keys = calloc((size_t)argc + 1, sizeof(*keys));
	struct run_stats *st = calloc(1, sizeof(*st));
	size_t n = 0;
	int64_t job_id = 0;
	jetl_ctx *ctx;
	int rc = EXIT_DONE, o;

	if (!keys || !st) {
		free(keys);
		free(st);
		return EXIT_FAILED;
	}
	while (rc == EXIT_DONE && (o = cli_getopt(c, argc, argv, opts)) != CLI_END) {
		if (o == CLI_HELP)
			rc = -1;
		else if (o == CLI_ERROR)
			rc = EXIT_USAGE;
		else if (o == OPT_PROJECT)
			keys[n++] = optarg;
		else if (o == OPT_FULL)
			eo.full = 1;
		else if (o == OPT_JQL)
			eo.jql = optarg;
		else if (o == OPT_QUEUE)
			c->opts.queue_url = optarg;
		else if (o == OPT_DISTRIBUTE)
			eo.distribute = 1;
		else if (o == OPT_WAIT)
			eo.wait = 1;
		else if (o == OPT_WAIT_TIMEOUT && wait_timeout(optarg, &eo) < 0)
			rc = EXIT_USAGE;
		else if (o == OPT_NO_DEV_STATUS)
			eo.dev_status = 0;
		else if (o == OPT_ALLOW_MASS_DELETE)
			eo.allow_mass_delete = 1;
		else if (o == OPT_TYPES)
			eo.types = optarg;
		else if (o == OPT_PROGRESS && parse_progress(optarg, &mode) < 0)
			rc = EXIT_USAGE;
	}
	/* Operands are project keys too: `jetl extract AAA BBB`. */
	for (int i = optind; rc == EXIT_DONE && i < argc; i++)
		keys[n++] = argv[i];
	if (rc == EXIT_DONE && (rc = cli_open(c, &ctx)) == EXIT_DONE) {
		if (c->verbosity < 0 && mode == PROGRESS_AUTO)
			mode = PROGRESS_NONE;
		st->bar = bar_new(mode);
		st->cur = -1;
		if (CLI_SAYS(c) && mode != PROGRESS_JSON && !eo.distribute && jetl_open(&st->peek, &c->opts) != JETL_OK)
			st->peek = NULL;   /* the summary does without per-project totals */
		eo.progress = extract_progress;
		eo.progress_userdata = st;
		if (n == 1 && !eo.distribute) {
			rc = jetl_extract_project(ctx, keys[0], &eo, &res);
			job_id = res.job_id;
		} else {
			rc = jetl_extract(ctx, keys, n, &eo, &job_id);
			res.job_id = job_id;
		}
		bar_finish(st->bar);
		bar_free(st->bar);
		st->job_id = job_id;
		close_project(st);
		jetl_close(st->peek);
		if (job_id > 0 && mode != PROGRESS_JSON && CLI_SAYS(c))
			print_summary(ctx, job_id, &res, st, n == 1 && !eo.distribute);
		else if (job_id > 0 && mode == PROGRESS_JSON)
			print_final_json(ctx, job_id);
		rc = cli_fail(ctx, rc, "extract");
		jetl_close(ctx);
	}
	free(keys);
	free(st);
	return rc < 0 ? EXIT_DONE : rc;
}

/* ---- worker ---- */

static jetl_ctx *worker_ctx;

static void worker_signal(int sig)
{
	(void)sig;
	/* Finish the current batch, then return. */
	jetl_worker_stop(worker_ctx);
}

const char cli_worker_help[] =
"usage: jetl worker [--queue URL] [--until-idle] [--idle-ms N] [--threads N] [--distribute]\n"
"                   [--jira-url URL] [--jira-user USER] [--jira-auth basic|bearer] [--jira-flavor F]\n"
"                   [--jira-token-file FILE] [--concurrency N] [--progress auto|bar|json|none]\n"
"                   [--metrics-listen HOST:PORT]\n"
"  Consume transform messages (and extract messages with --distribute) until SIGTERM/SIGINT\n"
"  (the current batch is finished first) or, with --until-idle, until the queues stay empty.\n"
"  Logs (info) each raw row it transforms and each project it extracts, with the time taken.\n"
"  --metrics-listen serves GET /metrics (Prometheus text format) on HOST:PORT: the job totals\n"
"  of the tenant and integration, jobs by status, job durations, the last finished job.\n";

/* The worker's run between its context's open and close: the signal
 * handlers, the metrics endpoint, the logs around jetl_worker_run(). */
static int worker_run(jetl_ctx *ctx, jetl_worker_options *wo, struct metrics *metrics)
{
	struct sigaction sa;
	int rc;

	worker_ctx = ctx;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	cli_logf(JETL_LOG_INFO, "worker: started (tenant %d, integration %d, %d thread%s%s%s)",
		jetl_tenant_id(ctx), jetl_integration_id(ctx), wo->threads > 0 ? wo->threads : 1,
		wo->threads > 1 ? "s" : "", wo->distribute ? ", extracts too" : "", wo->until_idle ? ", until idle" : "");
	rc = jetl_worker_run(ctx, wo);
	metrics_stop(metrics);
	return rc;
}

int cmd_worker(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, OPT_QUEUE },
		{ "until-idle", no_argument, NULL, OPT_UNTIL_IDLE },
		{ "idle-ms", required_argument, NULL, OPT_IDLE_MS },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "distribute", no_argument, NULL, OPT_DISTRIBUTE },
		{ "progress", required_argument, NULL, OPT_PROGRESS },
		{ "metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN },
		CLI_JIRA_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	jetl_worker_options wo = JETL_WORKER_OPTIONS_INIT;
	enum progress_mode mode = PROGRESS_AUTO;
	const char *metrics_addr = NULL;
	struct metrics *metrics = NULL;
	char err[512];
	struct bar *bar;
	jetl_ctx *ctx;
	long n;
	int rc, o;

	while ((o = cli_getopt(c, argc, argv, opts)) != CLI_END) {
		if (o == CLI_ERROR)
			return EXIT_USAGE;
		if (o == CLI_HELP)
			return EXIT_DONE;
		if (o == OPT_QUEUE)
			c->opts.queue_url = optarg;
		else if (o == OPT_UNTIL_IDLE)
			wo.until_idle = 1;
		else if (o == OPT_DISTRIBUTE)
			wo.distribute = 1;
		else if (o == OPT_METRICS_LISTEN) {
			if (!strchr(optarg, ':') || !strrchr(optarg, ':')[1]) {
				fprintf(stderr, "jetl: --metrics-listen: '%s' is not HOST:PORT (or :PORT)\n", optarg);
				return EXIT_USAGE;
			}
			metrics_addr = optarg;
		}
		else if (o == OPT_THREADS) {
			if (cli_number("--threads", optarg, 1, 64, "a number of threads in 1..64", &n) < 0)
				return EXIT_USAGE;
			wo.threads = (int)n;
		} else if (o == OPT_IDLE_MS) {
			if (cli_number("--idle-ms", optarg, 1, 86400000L, "a number of milliseconds in 1..86400000", &n) < 0)
				return EXIT_USAGE;
			wo.idle_ms = (int)n;
		} else if (o == OPT_PROGRESS && parse_progress(optarg, &mode) < 0)
			return EXIT_USAGE;
	}
	if (optind < argc)
		return cli_extra_operand(c, argv[optind]);
	if ((rc = cli_open(c, &ctx)) != EXIT_DONE)
		return rc;
	if (c->verbosity < 0 && mode == PROGRESS_AUTO)
		mode = PROGRESS_NONE;
	bar = bar_new(mode);
	wo.progress = bar_callback;
	wo.progress_userdata = bar;
	if (metrics_addr && !(metrics = metrics_start(&c->opts, metrics_addr, err, sizeof(err)))) {
		fprintf(stderr, "jetl: %s\n", err);
		bar_free(bar);
		jetl_close(ctx);
		return EXIT_FAILED;
	}
	if (metrics)
		cli_logf(JETL_LOG_INFO, "worker: metrics on http://%s/metrics", metrics_addr);
	rc = worker_run(ctx, &wo, metrics);
	bar_finish(bar);
	bar_free(bar);
	cli_logf(JETL_LOG_INFO, "worker: stopped (%s)", rc == JETL_OK ? "done" : jetl_strerror(rc));
	rc = cli_fail(ctx, rc, "worker");
	jetl_close(ctx);
	return rc;
}

/* ---- transform ---- */

const char cli_transform_help[] =
"usage: jetl transform --raw-id N\n"
"  Transform one raw row into work_items, changelogs and dev_status (idempotent).\n";

int cmd_transform(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "raw-id", required_argument, NULL, OPT_RAW_ID },
		{ NULL, 0, NULL, 0 }
	};
	jetl_transform_result r = JETL_TRANSFORM_RESULT_INIT;
	jetl_ctx *ctx;
	long raw_id = 0;
	int rc, o;

	while ((o = cli_getopt(c, argc, argv, opts)) != CLI_END) {
		if (o == CLI_HELP)
			return EXIT_DONE;
		if (o == CLI_ERROR || cli_number("--raw-id", optarg, 1, 9223372036854775807L,
				"a raw row id (a positive integer)", &raw_id) < 0)
			return EXIT_USAGE;
	}
	if (optind < argc)
		return cli_extra_operand(c, argv[optind]);
	if (raw_id <= 0) {
		fprintf(stderr, "jetl: transform: --raw-id N is required (see jetl help transform)\n");
		return EXIT_USAGE;
	}
	if ((rc = cli_open(c, &ctx)) != EXIT_DONE)
		return rc;
	rc = jetl_transform_batch(ctx, raw_id, &r);
	if (rc == JETL_OK && CLI_SAYS(c))
		printf("raw row %ld: %lld work items, %lld changelog items, %lld dev status rows, %lld warnings in %.3f s\n",
			raw_id, (long long)r.work_items, (long long)r.changelog_items, (long long)r.dev_status,
			(long long)r.warnings, r.seconds);
	rc = cli_fail(ctx, rc, "transform");
	jetl_close(ctx);
	return rc;
}

/* ---- status ---- */

const char cli_status_help[] =
"usage: jetl status [--job N] [--json]\n"
"  Show a job (or the ten most recent jobs): its state, progress and what it stored\n"
"  (issues, changelog items, dev-status rows, deleted, raw rows, requests, 429s, time).\n"
"  --json prints one JSON document: the job's object with --job, else {\"jobs\": [...]},\n"
"  times in ISO 8601 UTC.\n";

static void fmt_time(char *out, size_t n, double t)
{
	time_t s = (time_t)t;
	struct tm tm;

	if (t <= 0) {
		snprintf(out, n, "-");
		return;
	}
	gmtime_r(&s, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M:%SZ", &tm);
}

/* RFC 3339 in UTC with milliseconds, or JSON null for an unset time (cli.h). */
json_t *cli_iso_time(double t)
{
	char s[32], out[48];
	time_t sec = (time_t)t;
	struct tm tm;
	int ms;

	if (t <= 0)
		return json_null();
	ms = (int)((t - (double)sec) * 1000.0 + 0.5);
	if (ms >= 1000) {
		sec++;
		ms -= 1000;
	}
	gmtime_r(&sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, sizeof(out), "%s.%03dZ", s, ms);
	return json_string(out);
}

/* The job's counters as its JSON names them (the same names as the
 * totals' keys): one table instead of a setter per field. */
static const struct { const char *name; size_t offset; } job_counts[] = {
	{ "issues", offsetof(jetl_job, issues) }, { "histories", offsetof(jetl_job, histories) },
	{ "changelog_items", offsetof(jetl_job, changelog_items) }, { "dev_status", offsetof(jetl_job, dev_status) },
	{ "work_items", offsetof(jetl_job, work_items) }, { "raw_rows", offsetof(jetl_job, raw_rows) },
	{ "requests", offsetof(jetl_job, requests) }, { "retries", offsetof(jetl_job, retries) },
	{ "rate_limited", offsetof(jetl_job, rate_limited) }, { "deleted", offsetof(jetl_job, deleted) },
	{ "not_stored", offsetof(jetl_job, not_stored) }, { "future_dated", offsetof(jetl_job, future_dated) },
	{ "deleted_refused", offsetof(jetl_job, deleted_refused) },
};

/* The job as the example service shows it (examples/service: the row's
 * column names), and its totals. */
static json_t *job_json(const jetl_job *j, int tenant, int integration)
{
	json_t *o = json_pack("{s:I, s:i, s:i, s:s, s:s, s:i, s:i, s:s, s:I, s:I, s:s, s:s, s:I, s:I}",
		"id", (json_int_t)j->id, "tenant_id", tenant, "integration_id", integration,
		"job_type", j->job_type, "status", j->status, "step", j->step,
		"total_steps", j->total_steps, "step_name", j->step_name, "items_done", (json_int_t)j->items_done,
		"items_total", (json_int_t)j->items_total, "message", j->message, "error", j->error,
		"raw_pending", (json_int_t)j->raw_pending, "raw_failed", (json_int_t)j->raw_failed);

	if (!o)
		return NULL;
	json_object_set_new(o, "projects_done", json_integer(j->projects_done));
	json_object_set_new(o, "projects_total", json_integer(j->projects_total));
	json_object_set_new(o, "detail", json_string(j->detail));
	json_object_set_new(o, "created_at", cli_iso_time(j->created_at));
	json_object_set_new(o, "started_at", cli_iso_time(j->started_at));
	json_object_set_new(o, "updated_at", cli_iso_time(j->updated_at));
	json_object_set_new(o, "finished_at", cli_iso_time(j->finished_at));
	json_object_set_new(o, "seconds", json_real(job_seconds(j)));
	for (size_t k = 0; k < sizeof(job_counts) / sizeof(job_counts[0]); k++)
		json_object_set_new(o, job_counts[k].name,
			json_integer(*(const int64_t *)((const char *)j + job_counts[k].offset)));
	json_object_set_new(o, "totals", *j->totals ? json_loads(j->totals, 0, NULL) : json_object());
	return o;
}

/* The totals the line above does not show (the types each issue carries:
 * issue_links, accounts, …), as "name N" pairs. */
static void print_more_totals(const jetl_job *j)
{
	static const char *const shown[] = { "issues", "histories", "changelog_items", "dev_status", "work_items",
		"raw_rows", "requests", "retries", "rate_limited", "deleted" };
	json_t *t = *j->totals ? json_loads(j->totals, 0, NULL) : NULL;
	const char *k;
	json_t *v;
	int n = 0;

	json_object_foreach(t, k, v) {
		size_t s = 0;

		while (s < sizeof(shown) / sizeof(shown[0]) && strcmp(shown[s], k) != 0)
			s++;
		if (s == sizeof(shown) / sizeof(shown[0]) && json_is_number(v))
			printf("%s%s %lld", n++ ? ", " : "    also: ", k, (long long)json_number_value(v));
	}
	if (n)
		printf("\n");
	json_decref(t);
}

static void print_job(const jetl_job *j)
{
	char c[32], s[32], f[32];
	struct totals t;

	fmt_time(c, sizeof(c), j->created_at);
	fmt_time(s, sizeof(s), j->started_at);
	fmt_time(f, sizeof(f), j->finished_at);
	printf("job %lld  %-9s  step %d/%d %s\n", (long long)j->id, j->status, j->step, j->total_steps, j->message);
	printf("    projects %d/%d  %-10s  %lld/%lld  %s\n", j->projects_done, j->projects_total, j->step_name,
		(long long)j->items_done, (long long)j->items_total, j->detail);
	printf("    created %s  started %s  finished %s", c, s, f);
	if (j->raw_pending || j->raw_failed)
		printf("  raw rows: %lld pending, %lld failed", (long long)j->raw_pending, (long long)j->raw_failed);
	printf("\n");
	job_totals(j, &t);
	printf("    stored: ");
	print_totals(&t, job_seconds(j));
	print_more_totals(j);
	print_misses(j, "    ");
	if (*j->error)
		printf("    error: %s\n", j->error);
}

static int print_json(json_t *doc)
{
	if (!doc)
		return JETL_ENOMEM;
	json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
	fputc('\n', stdout);
	json_decref(doc);
	return JETL_OK;
}

int cmd_status(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "job", required_argument, NULL, OPT_JOB },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 }
	};
	jetl_ctx *ctx;
	long job_id = 0;
	int as_json = 0, rc, o;

	while ((o = cli_getopt(c, argc, argv, opts)) != CLI_END) {
		if (o == CLI_HELP)
			return EXIT_DONE;
		if (o == CLI_ERROR)
			return EXIT_USAGE;
		if (o == OPT_JSON)
			as_json = 1;
		else if (cli_number("--job", optarg, 1, 9223372036854775807L, "a job id (a positive integer)",
				&job_id) < 0)
			return EXIT_USAGE;
	}
	if (optind < argc)
		return cli_extra_operand(c, argv[optind]);
	if ((rc = cli_open(c, &ctx)) != EXIT_DONE)
		return rc;
	if (job_id > 0) {
		jetl_job j = JETL_JOB_INIT;
		rc = jetl_job_get(ctx, job_id, &j);
		if (rc == JETL_OK && as_json)
			rc = print_json(job_json(&j, jetl_tenant_id(ctx), jetl_integration_id(ctx)));
		else if (rc == JETL_OK)
			print_job(&j);
	} else {
		json_t *jobs = json_array();
		int64_t ids[10];
		size_t n = 0;
		rc = jetl_job_list(ctx, ids, 10, &n);
		if (rc == JETL_OK && n == 0 && !as_json)
			printf("no jobs yet\n");
		for (size_t k = 0; rc == JETL_OK && k < n; k++) {
			jetl_job j = JETL_JOB_INIT;
			rc = jetl_job_get(ctx, ids[k], &j);
			if (rc == JETL_OK && as_json)
				json_array_append_new(jobs, job_json(&j, jetl_tenant_id(ctx), jetl_integration_id(ctx)));
			else if (rc == JETL_OK)
				print_job(&j);
		}
		if (rc == JETL_OK && as_json)
			rc = print_json(json_pack("{s:O}", "jobs", jobs));
		json_decref(jobs);
	}
	rc = cli_fail(ctx, rc, "status");
	jetl_close(ctx);
	return rc;
}

/* ---- cancel ---- */

const char cli_cancel_help[] =
"usage: jetl cancel JOB\n"
"  Cancel a queued or running job: whichever process runs it stops at its next batch,\n"
"  the job ends `cancelled` and its watermark does not move. Cancelling a cancelled job\n"
"  is not an error; a finished or failed one is (exit 1).\n";

int cmd_cancel(struct cli *c, int argc, char **argv)
{
	jetl_ctx *ctx;
	long job_id;
	int rc;

	if ((rc = only_globals_operands(c, argc, argv)) >= 0)
		return rc;
	if (optind >= argc) {
		fprintf(stderr, "jetl: cancel: which job? (jetl cancel JOB)\n");
		return EXIT_USAGE;
	}
	if (optind + 1 < argc)
		return cli_extra_operand(c, argv[optind + 1]);
	if (cli_number("cancel", argv[optind], 1, 9223372036854775807L, "a job id (a positive integer)", &job_id) < 0)
		return EXIT_USAGE;
	if ((rc = cli_open(c, &ctx)) != EXIT_DONE)
		return rc;
	rc = jetl_job_cancel(ctx, job_id);
	if (rc == JETL_OK && CLI_SAYS(c))
		printf("job %ld cancelled\n", job_id);
	rc = cli_fail(ctx, rc, "cancel");
	jetl_close(ctx);
	return rc;
}

/* ---- fields ---- */

const char cli_fields_help[] =
"usage: jetl fields [--sync] [--map FIELD_ID=SLOT]... [--list]\n"
"  --sync reads Jira's fields; --map puts a custom field in slot 1..20 (0 unmaps);\n"
"  --list shows the fields and their slots. Takes the --jira-* options.\n";

static int print_field(const jetl_field_info *f, void *ud)
{
	(void)ud;
	if (f->slot)
		printf("%-22s slot %-2d %-8s %s\n", f->id, f->slot, f->type, f->name);
	else
		printf("%-22s         %-8s %s\n", f->id, f->type, f->name);
	return 0;
}

int cmd_fields(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sync", no_argument, NULL, OPT_SYNC },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "map", required_argument, NULL, OPT_MAP },
		CLI_JIRA_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	const char **maps = calloc((size_t)argc + 1, sizeof(*maps));
	size_t nmaps = 0;
	int sync = 0, list = 0, rc = EXIT_DONE, o;
	jetl_ctx *ctx;

	if (!maps)
		return EXIT_FAILED;
	while (rc == EXIT_DONE && (o = cli_getopt(c, argc, argv, opts)) != CLI_END) {
		if (o == CLI_ERROR)
			rc = EXIT_USAGE;
		else if (o == CLI_HELP)
			rc = -1;
		else if (o == OPT_SYNC)
			sync = 1;
		else if (o == OPT_LIST)
			list = 1;
		else if (o == OPT_MAP) {
			long slot;
			const char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg || cli_parse_int(eq + 1, 0, JETL_FIELD_SLOTS, &slot) < 0) {
				fprintf(stderr, "jetl: --map: '%s' is not FIELD_ID=SLOT with a slot in 0..%d\n",
					optarg, JETL_FIELD_SLOTS);
				rc = EXIT_USAGE;
			} else
				maps[nmaps++] = optarg;
		}
	}
	if (rc == EXIT_DONE && optind < argc)
		rc = cli_extra_operand(c, argv[optind]);
	if (rc != EXIT_DONE) {
		free(maps);
		return rc < 0 ? EXIT_DONE : rc;
	}
	if (!sync && !list && !nmaps)
		list = 1;
	if ((rc = cli_open(c, &ctx)) != EXIT_DONE) {
		free(maps);
		return rc;
	}
	rc = JETL_OK;
	if (sync) {
		int64_t count = 0;
		rc = jetl_fields_sync(ctx, &count);
		if (rc == JETL_OK && CLI_SAYS(c))
			printf("%lld fields synced\n", (long long)count);
	}
	for (size_t k = 0; rc == JETL_OK && k < nmaps; k++) {
		char id[256];
		const char *eq = strchr(maps[k], '=');
		long slot = 0;
		snprintf(id, sizeof(id), "%.*s", (int)(eq - maps[k]), maps[k]);
		cli_parse_int(eq + 1, 0, JETL_FIELD_SLOTS, &slot);
		rc = jetl_field_map(ctx, id, (int)slot);
		if (rc == JETL_OK && CLI_SAYS(c))
			printf(slot ? "%s -> custom_field_%02ld\n" : "%s unmapped\n", id, slot);
	}
	if (rc == JETL_OK && list)
		rc = jetl_fields_list(ctx, print_field, NULL);
	rc = cli_fail(ctx, rc, "fields");
	jetl_close(ctx);
	free(maps);
	return rc;
}

/* ---- version ---- */

const char cli_version_help[] =
"usage: jetl version\n"
"  Print the version of the command, and of the library and schema it runs with\n"
"  (same as jetl --version).\n";

/*
 * The command's own version is the one it was compiled with; the library's
 * is asked at run time, so a jetl run against another installed libjetl
 * says so. The first line stays "jetl X.Y.Z" for scripts.
 */
int cmd_version(struct cli *c, int argc, char **argv)
{
	int rc;

	if (argc > 1 && (rc = only_globals(c, argc, argv)) >= 0)
		return rc;
	printf("jetl %s\n", JETL_VERSION_STRING);
	printf("libjetl %s (schema version %d)\n", jetl_version(), jetl_schema_version());
	return EXIT_DONE;
}
