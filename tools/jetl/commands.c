/* commands.c - the jetl subcommands. Each parses its own options, prints
 * --help, and maps statuses to the exit codes of docs/cli.md. */
#include <jansson.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static int wants_help(int argc, char **argv, const char *text)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(text, stdout);
			return 1;
		}
	return 0;
}

static int bad_option(const char *cmd, const char *opt)
{
	fprintf(stderr, "jetl %s: unknown or incomplete option '%s' (see jetl %s --help)\n", cmd, opt, cmd);
	return EXIT_USAGE;
}

/* ---- migrate ---- */

int cmd_migrate(struct cli *c, int argc, char **argv)
{
	jetl_ctx *ctx;
	int rc;

	if (wants_help(argc, argv, "usage: jetl migrate\n  Create or upgrade the schema (idempotent, safe to run concurrently).\n"))
		return EXIT_DONE;
	if (argc > 1)
		return bad_option("migrate", argv[1]);
	if ((rc = cli_open(c, &ctx)) != EXIT_DONE)
		return rc;
	rc = jetl_migrate(ctx);
	if (rc == JETL_OK)
		printf("schema is at version %d\n", jetl_schema_version());
	rc = cli_fail(ctx, rc, "migrate");
	jetl_close(ctx);
	return rc;
}

/* ---- extract ---- */

static const char extract_help[] =
"usage: jetl extract [--project KEY]... [--full] [--jql JQL] [--queue URL] [--distribute] [--wait]\n"
"                    [--jira-url URL] [--jira-user USER] [--jira-auth basic|bearer]\n"
"                    [--jira-flavor auto|cloud|server] [--jira-token-file FILE]\n"
"                    [--concurrency N] [--no-dev-status] [--progress auto|bar|json|none]\n"
"  Extract issues, complete changelogs and dev status of the projects (every visible\n"
"  project when none is given). Incremental unless --full. Without --queue the rows are\n"
"  transformed in this process and the command returns when they are in the final tables;\n"
"  with --queue, workers transform them (--wait waits for that). --distribute hands whole\n"
"  projects to workers (`jetl worker --distribute`).\n";

static void print_summary(jetl_ctx *ctx, int64_t job_id, const jetl_extract_result *r)
{
	jetl_job job = JETL_JOB_INIT;

	if (jetl_job_get(ctx, job_id, &job) != JETL_OK)
		return;
	printf("job %lld %s: %lld issues, %lld change histories, %lld raw rows",
		(long long)job_id, job.status, (long long)r->issues, (long long)r->histories, (long long)r->raw_rows);
	if (r->deleted)
		printf(", %lld deleted in Jira", (long long)r->deleted);
	printf("\n  %lld requests (%lld retried, %lld rate-limited) in %.1f s",
		(long long)r->requests, (long long)r->retries, (long long)r->rate_limited, r->seconds);
	if (r->seconds > 0 && r->issues > 0)
		printf(" = %.0f issues/s", (double)r->issues / r->seconds);
	printf("\n");
	if (job.raw_pending)
		printf("  %lld raw rows wait for workers (jetl worker)\n", (long long)job.raw_pending);
	if (job.raw_failed)
		printf("  %lld raw rows failed to transform: see `jetl status --job %lld`\n",
			(long long)job.raw_failed, (long long)job_id);
}

/* A job-wide line for multi-project runs (per-project counts are on the
 * job's progress events and in the tables). */
static void print_job_line(jetl_ctx *ctx, int64_t job_id)
{
	jetl_job job = JETL_JOB_INIT;

	if (jetl_job_get(ctx, job_id, &job) != JETL_OK)
		return;
	printf("job %lld %s: %d/%d projects extracted", (long long)job_id, job.status, job.step, job.total_steps);
	if (job.finished_at > 0 && job.started_at > 0)
		printf(" in %.1f s", job.finished_at - job.started_at);
	printf("\n");
	if (job.raw_pending)
		printf("  %lld raw rows wait for workers (jetl worker)\n", (long long)job.raw_pending);
	if (job.raw_failed)
		printf("  %lld raw rows failed to transform: see `jetl status --job %lld`\n",
			(long long)job.raw_failed, (long long)job_id);
	if (*job.error)
		printf("  error: %s\n", job.error);
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
	return bar_callback(p, userdata);
}

static int parse_progress(const char *v, enum progress_mode *m)
{
	if (strcmp(v, "auto") == 0) *m = PROGRESS_AUTO;
	else if (strcmp(v, "bar") == 0) *m = PROGRESS_BAR;
	else if (strcmp(v, "json") == 0) *m = PROGRESS_JSON;
	else if (strcmp(v, "none") == 0) *m = PROGRESS_NONE;
	else return -1;
	return 0;
}

int cmd_extract(struct cli *c, int argc, char **argv)
{
	jetl_extract_options eo = JETL_EXTRACT_OPTIONS_INIT;
	jetl_extract_result res = JETL_EXTRACT_RESULT_INIT;
	enum progress_mode mode = PROGRESS_AUTO;
	const char **keys = calloc((size_t)argc, sizeof(*keys));
	size_t n = 0;
	int64_t job_id = 0;
	struct bar *bar;
	jetl_ctx *ctx;
	int rc;

	if (!keys)
		return EXIT_FAILED;
	if (wants_help(argc, argv, extract_help)) {
		free(keys);
		return EXIT_DONE;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int j = cli_jira_option(c, argc, argv, &i);
		if (j < 0) {
			free(keys);
			return EXIT_USAGE;
		}
		if (j > 0)
			continue;
		if (strcmp(a, "--project") == 0 && v) {
			keys[n++] = v;
			i++;
		} else if (strcmp(a, "--full") == 0) {
			eo.full = 1;
		} else if (strcmp(a, "--jql") == 0 && v) {
			eo.jql = v;
			i++;
		} else if (strcmp(a, "--queue") == 0 && v) {
			c->opts.queue_url = v;
			i++;
		} else if (strcmp(a, "--distribute") == 0) {
			eo.distribute = 1;
		} else if (strcmp(a, "--wait") == 0) {
			eo.wait = 1;
		} else if (strcmp(a, "--no-dev-status") == 0) {
			eo.dev_status = 0;
		} else if (strcmp(a, "--progress") == 0 && v && parse_progress(v, &mode) == 0) {
			i++;
		} else {
			free(keys);
			return bad_option("extract", a);
		}
	}
	if ((rc = cli_open(c, &ctx)) != EXIT_DONE) {
		free(keys);
		return rc;
	}
	bar = bar_new(mode);
	eo.progress = extract_progress;
	eo.progress_userdata = bar;
	if (n == 1 && !eo.distribute) {
		rc = jetl_extract_project(ctx, keys[0], &eo, &res);
		job_id = res.job_id;
	} else {
		rc = jetl_extract(ctx, keys, n, &eo, &job_id);
		res.job_id = job_id;
	}
	bar_finish(bar);
	bar_free(bar);
	if (job_id > 0 && mode != PROGRESS_JSON && (rc == JETL_OK || rc == JETL_EDATA) && n == 1 && !eo.distribute)
		print_summary(ctx, job_id, &res);
	else if (job_id > 0 && mode != PROGRESS_JSON)
		print_job_line(ctx, job_id);
	rc = cli_fail(ctx, rc, "extract");
	jetl_close(ctx);
	free(keys);
	return rc;
}

/* ---- worker ---- */

static jetl_ctx *worker_ctx;

static void worker_signal(int sig)
{
	(void)sig;
	/* Finish the current batch, then return. */
	jetl_worker_stop(worker_ctx);
}

static const char worker_help[] =
"usage: jetl worker [--queue URL] [--until-idle] [--idle-ms N] [--threads N] [--distribute]\n"
"                   [--jira-url URL] [--jira-user USER] [--jira-auth basic|bearer] [--jira-flavor F]\n"
"                   [--jira-token-file FILE] [--concurrency N] [--progress auto|bar|json|none]\n"
"  Consume transform messages (and extract messages with --distribute) until SIGTERM/SIGINT\n"
"  (the current batch is finished first) or, with --until-idle, until the queues stay empty.\n";

int cmd_worker(struct cli *c, int argc, char **argv)
{
	jetl_worker_options wo = JETL_WORKER_OPTIONS_INIT;
	enum progress_mode mode = PROGRESS_AUTO;
	struct sigaction sa;
	struct bar *bar;
	jetl_ctx *ctx;
	long n;
	int rc;

	if (wants_help(argc, argv, worker_help))
		return EXIT_DONE;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int j = cli_jira_option(c, argc, argv, &i);
		if (j < 0)
			return EXIT_USAGE;
		if (j > 0)
			continue;
		if (strcmp(a, "--queue") == 0 && v) {
			c->opts.queue_url = v;
			i++;
		} else if (strcmp(a, "--until-idle") == 0) {
			wo.until_idle = 1;
		} else if (strcmp(a, "--distribute") == 0) {
			wo.distribute = 1;
		} else if (strcmp(a, "--threads") == 0 && v && cli_parse_int(v, 1, 64, &n) == 0) {
			wo.threads = (int)n;
			i++;
		} else if (strcmp(a, "--idle-ms") == 0 && v && cli_parse_int(v, 1, 86400000L, &n) == 0) {
			wo.idle_ms = (int)n;
			i++;
		} else if (strcmp(a, "--progress") == 0 && v && parse_progress(v, &mode) == 0) {
			i++;
		} else {
			return bad_option("worker", a);
		}
	}
	if ((rc = cli_open(c, &ctx)) != EXIT_DONE)
		return rc;
	bar = bar_new(mode);
	wo.progress = bar_callback;
	wo.progress_userdata = bar;
	worker_ctx = ctx;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = jetl_worker_run(ctx, &wo);
	bar_finish(bar);
	bar_free(bar);
	rc = cli_fail(ctx, rc, "worker");
	jetl_close(ctx);
	return rc;
}

/* ---- transform ---- */

int cmd_transform(struct cli *c, int argc, char **argv)
{
	jetl_transform_result r = JETL_TRANSFORM_RESULT_INIT;
	jetl_ctx *ctx;
	long raw_id = 0;
	int rc;

	if (wants_help(argc, argv, "usage: jetl transform --raw-id N\n"
			"  Transform one raw row into work_items, changelogs and dev_status (idempotent).\n"))
		return EXIT_DONE;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--raw-id") == 0 && i + 1 < argc &&
		    cli_parse_int(argv[i + 1], 1, 9223372036854775807L, &raw_id) == 0)
			i++;
		else
			return bad_option("transform", argv[i]);
	}
	if (raw_id <= 0) {
		fprintf(stderr, "jetl transform: --raw-id N is required\n");
		return EXIT_USAGE;
	}
	if ((rc = cli_open(c, &ctx)) != EXIT_DONE)
		return rc;
	rc = jetl_transform_batch(ctx, raw_id, &r);
	if (rc == JETL_OK)
		printf("raw row %ld: %lld work items, %lld changelog items, %lld dev status rows, %lld warnings in %.3f s\n",
			raw_id, (long long)r.work_items, (long long)r.changelog_items, (long long)r.dev_status,
			(long long)r.warnings, r.seconds);
	rc = cli_fail(ctx, rc, "transform");
	jetl_close(ctx);
	return rc;
}

/* ---- status ---- */

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

static void print_job(const jetl_job *j, int as_json)
{
	char c[32], s[32], f[32];

	if (as_json) {
		json_t *o = json_pack("{s:I, s:s, s:s, s:i, s:i, s:s, s:I, s:I, s:s, s:s, s:f, s:f, s:f, s:f, s:I, s:I}",
			"id", (json_int_t)j->id, "job_type", j->job_type, "status", j->status, "step", j->step,
			"total_steps", j->total_steps, "step_name", j->step_name, "items_done", (json_int_t)j->items_done,
			"items_total", (json_int_t)j->items_total, "message", j->message, "error", j->error,
			"created_at", j->created_at, "started_at", j->started_at, "updated_at", j->updated_at,
			"finished_at", j->finished_at, "raw_pending", (json_int_t)j->raw_pending,
			"raw_failed", (json_int_t)j->raw_failed);
		json_dumpf(o, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(o);
		return;
	}
	fmt_time(c, sizeof(c), j->created_at);
	fmt_time(s, sizeof(s), j->started_at);
	fmt_time(f, sizeof(f), j->finished_at);
	printf("job %lld  %-9s  step %d/%d %-10s  %lld/%lld  %s\n", (long long)j->id, j->status, j->step,
		j->total_steps, j->step_name, (long long)j->items_done, (long long)j->items_total, j->message);
	printf("    created %s  started %s  finished %s", c, s, f);
	if (j->raw_pending || j->raw_failed)
		printf("  raw rows: %lld pending, %lld failed", (long long)j->raw_pending, (long long)j->raw_failed);
	printf("\n");
	if (*j->error)
		printf("    error: %s\n", j->error);
}

int cmd_status(struct cli *c, int argc, char **argv)
{
	jetl_ctx *ctx;
	long job_id = 0;
	int as_json = 0, rc;

	if (wants_help(argc, argv, "usage: jetl status [--job N] [--json]\n"
			"  Show a job's status and progress, or the ten most recent jobs.\n"))
		return EXIT_DONE;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = 1;
		else if (strcmp(argv[i], "--job") == 0 && i + 1 < argc &&
			 cli_parse_int(argv[i + 1], 1, 9223372036854775807L, &job_id) == 0)
			i++;
		else
			return bad_option("status", argv[i]);
	}
	if ((rc = cli_open(c, &ctx)) != EXIT_DONE)
		return rc;
	if (job_id > 0) {
		jetl_job j = JETL_JOB_INIT;
		rc = jetl_job_get(ctx, job_id, &j);
		if (rc == JETL_OK)
			print_job(&j, as_json);
	} else {
		int64_t ids[10];
		size_t n = 0;
		rc = jetl_job_list(ctx, ids, 10, &n);
		if (rc == JETL_OK && n == 0 && !as_json)
			printf("no jobs yet\n");
		for (size_t k = 0; rc == JETL_OK && k < n; k++) {
			jetl_job j = JETL_JOB_INIT;
			rc = jetl_job_get(ctx, ids[k], &j);
			if (rc == JETL_OK)
				print_job(&j, as_json);
		}
	}
	rc = cli_fail(ctx, rc, "status");
	jetl_close(ctx);
	return rc;
}

/* ---- fields ---- */

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
	const char **maps = calloc((size_t)argc, sizeof(*maps));
	size_t nmaps = 0;
	int sync = 0, list = 0, rc;
	jetl_ctx *ctx;

	if (!maps)
		return EXIT_FAILED;
	if (wants_help(argc, argv, "usage: jetl fields [--sync] [--map FIELD_ID=SLOT]... [--list]\n"
			"  --sync reads Jira's fields; --map puts a custom field in slot 1..20 (0 unmaps);\n"
			"  --list shows the fields and their slots. Takes the --jira-* options.\n")) {
		free(maps);
		return EXIT_DONE;
	}
	for (int i = 1; i < argc; i++) {
		int j = cli_jira_option(c, argc, argv, &i);
		if (j < 0) {
			free(maps);
			return EXIT_USAGE;
		}
		if (j > 0)
			continue;
		if (strcmp(argv[i], "--sync") == 0)
			sync = 1;
		else if (strcmp(argv[i], "--list") == 0)
			list = 1;
		else if (strcmp(argv[i], "--map") == 0 && i + 1 < argc && strchr(argv[i + 1], '='))
			maps[nmaps++] = argv[++i];
		else {
			free(maps);
			return bad_option("fields", argv[i]);
		}
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
		if (rc == JETL_OK)
			printf("%lld fields synced\n", (long long)count);
	}
	for (size_t k = 0; rc == JETL_OK && k < nmaps; k++) {
		char id[256];
		const char *eq = strchr(maps[k], '=');
		long slot;
		snprintf(id, sizeof(id), "%.*s", (int)(eq - maps[k]), maps[k]);
		if (cli_parse_int(eq + 1, 0, JETL_FIELD_SLOTS, &slot) < 0) {
			fprintf(stderr, "jetl fields: slot must be 0..%d in '%s'\n", JETL_FIELD_SLOTS, maps[k]);
			jetl_close(ctx);
			free(maps);
			return EXIT_USAGE;
		}
		rc = jetl_field_map(ctx, id, (int)slot);
		if (rc == JETL_OK)
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

/*
 * The command's own version is the one it was compiled with; the library's
 * is asked at run time, so a jetl run against another installed libjetl
 * says so. The first line stays "jetl X.Y.Z" for scripts.
 */
int cmd_version(struct cli *c, int argc, char **argv)
{
	(void)c;
	if (wants_help(argc, argv, "usage: jetl version\n"
			"  Print the version of the command, and of the library and schema it runs with\n"
			"  (same as jetl --version).\n"))
		return EXIT_DONE;
	if (argc > 1)
		return bad_option("version", argv[1]);
	printf("jetl %s\n", JETL_VERSION_STRING);
	printf("libjetl %s (schema version %d)\n", jetl_version(), jetl_schema_version());
	return EXIT_DONE;
}
