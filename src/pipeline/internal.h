/* internal.h - what the pipeline's files share (private to src/pipeline). */
#ifndef JL_PIPELINE_INTERNAL_H
#define JL_PIPELINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "jetl.h"
#include "../core/ctx.h"
#include "../jira/jira.h"
#include "../queue/queue.h"
#include "progress.h"

#define JL_RAW_TYPE "jira_issues_changelogs_dev_status"
#define JL_EXTRACT_TYPE "jira_extract_project"

/* Overlap subtracted from the watermark when querying Jira: covers Jira's
 * eventually consistent search and clock differences. Re-read issues are
 * upserts, so the overlap costs a few requests, never duplicates. */
#define JL_SYNC_OVERLAP_SECONDS 300

/* A Jira client configured from the context (log and timeouts included).
 * Returns a jetl_status; the message is on ctx. */
int jl_pipeline_jira(jetl_ctx *ctx, jl_jira **out);

/* Map a Jira client failure onto ctx's error and return its status. */
int jl_pipeline_jira_fail(jetl_ctx *ctx, jl_jira *j, int rc);

/* Discover phase: user time zone, fields (into jira_fields), Development
 * field id. Owned strings are returned in *tz and *dev_field (may be NULL). */
int jl_pipeline_discover(jetl_ctx *ctx, jl_jira *j, char **tz, char **dev_field);

/* Everything one project's extraction needs and produces. */
typedef struct jl_extract_run {
	jetl_ctx *ctx;
	jl_jira *jira;
	int64_t job_id;
	const char *project;
	int full;
	const char *jql;
	int dev_status;
	const char *tz;            /* user's zone, may be NULL */
	const char *dev_field;     /* may be NULL */
	jl_queue *pub;             /* where transform messages go */
	const char *transform_queue;
	jl_progress *progress;
	/* results */
	int64_t issues, histories, raw_rows, deleted, max_updated_ms;
	int64_t unchanged;        /* re-read by the overlap, already stored: skipped */
	int census_complete;
} jl_extract_run;

/* Extract one project into raw rows + transform messages (no waiting for
 * transforms, no job status change, no watermark move). */
int jl_extract_one(jl_extract_run *run);

/* Move the watermark after a successful run (data committed). */
int jl_extract_commit_watermark(jl_extract_run *run);

/* A consumer thread: transform (and extract) messages from one queue handle. */
typedef struct jl_wthread {
	const jetl_ctx *parent;         /* options to clone; not used concurrently */
	const char *queue_url;          /* NULL: in-process */
	const char *queues[2];
	size_t nqueues;
	int prefetch;
	int max_deliveries;
	int idle_ms;
	int until_idle;
	atomic_int *stop;               /* stop after the current message */
	atomic_int *producer_done;      /* in-process runs: stop when drained */
	atomic_int discard;             /* drop messages unprocessed (cancelled run) */
	atomic_llong transformed;       /* raw rows transformed */
	atomic_llong items;             /* work items written */
	atomic_llong failed;            /* raw rows that failed */
	atomic_llong dead;              /* messages dead-lettered */
	atomic_llong extracted;         /* projects extracted (distribute) */
	atomic_int running;
	int rc;
	char err[512];
	pthread_t tid;
} jl_wthread;

/* Start/join a consumer thread. start returns 0 or -1 (thread not started). */
int jl_wthread_start(jl_wthread *w);
int jl_wthread_join(jl_wthread *w);

/* Message bodies (docs/design.md, 'Queue messages'); malloc'd JSON text. */
char *jl_msg_transform(int tenant, int integration, int64_t job_id, int64_t raw_id);
char *jl_msg_extract(int tenant, int integration, int64_t job_id, const char *project, int full, const char *jql);

#endif
