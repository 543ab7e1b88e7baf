/* internal.h - what the pipeline's files share (private to src/pipeline). */
#ifndef JL_PIPELINE_INTERNAL_H
#define JL_PIPELINE_INTERNAL_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>

#include "jetl.h"
#include "../core/ctx.h"
#include "../jira/jira.h"
#include "../queue/queue.h"
#include "../store/load.h"
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
	const char *types;         /* jetl_extract_options.types (checked), NULL = all */
	const char *tz;            /* user's zone, may be NULL */
	const char *dev_field;     /* may be NULL */
	jl_queue *pub;             /* where transform messages go */
	const char *transform_queue;
	jl_progress *progress;
	int allow_mass_delete;     /* a census may mark more than JL_CENSUS_MAX_SHARE deleted */
	/* the watermark (extract_run.c, watermark.c) */
	int64_t server_start_ms;   /* Jira's clock at the project's start (serverTime) */
	int wm_set;                /* this run may set the project's watermark (its scope) */
	int wm_replace;            /* ... and replaces it instead of moving it forward */
	int wm_incremental;        /* the listing was bounded by the watermark */
	/* results */
	int64_t issues, histories, raw_rows, deleted, max_updated_ms;
	int64_t unchanged;        /* re-read by the overlap, already stored: skipped */
	int64_t future;           /* issues dated after Jira's clock */
	int64_t deleted_refused;  /* census marks refused (more than the share) */
	int64_t retried;          /* issues of issue_errors read again */
	int census_complete;
	jl_jira_stats *stats_sent; /* Jira counters already in the job's totals (may be NULL) */
} jl_extract_run;

/* The job's totals (job_totals.c). extract: what a batch or a project
 * added, plus the Jira requests since run->stats_sent (then updated);
 * returns JETL_ECANCELLED when the job was cancelled (jetl_job_cancel:
 * stop at this batch), else JETL_OK (a failed update is only logged).
 * transform: the rows one committed raw row wrote, and the job finished if
 * that was its last row (jl_jobs_add_totals_finish); a failure is logged. */
int jl_job_totals_extract(jl_extract_run *run, int64_t issues, int64_t histories, int64_t raw_rows,
	int64_t deleted, int64_t future, int64_t deleted_refused);
void jl_job_totals_transform(jetl_ctx *ctx, int64_t job_id, const jl_load_counts *c);

/* Extract one project into raw rows + transform messages (no waiting for
 * transforms, no job status change, no watermark move). */
int jl_extract_one(jl_extract_run *run);

/* watermark.c. Before the listing: read Jira's clock and the stored
 * watermark, decide by its scope whether this run may set it (run->wm_set,
 * wm_replace) and write the listing's bound to since (1), or 0 without a
 * bound; a negative status on a database failure. */
int jl_wm_plan(jl_extract_run *run, char since[32]);
/* The `updated` after which an issue is dated in the future (epoch ms). */
int64_t jl_wm_future_after(const jl_extract_run *run);
/* After a successful run (data committed): set the watermark where the plan
 * allows, never past the run's start by Jira's clock. */
int jl_extract_commit_watermark(jl_extract_run *run);

/* A running job's lease (lease.c): the heartbeat thread renews it every
 * lease/6 seconds on its own connection until jl_lease_stop. Seconds:
 * $JETL_LEASE_SECONDS, else the default; the sweep ends a job whose lease
 * ran out. */
#define JL_LEASE_SECONDS_DEFAULT 30
int jl_lease_seconds(void);

typedef struct jl_lease {
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop, started, seconds;
	int64_t job_id;
	char *conninfo;
	char *project;             /* a distributed project's claim, else NULL: the job */
} jl_lease;

/* Lease the job now (on ctx's connection) and start the heartbeat. Returns a
 * jetl_status (message on ctx); *l needs jl_lease_stop either way. */
int jl_lease_start(jl_lease *l, jetl_ctx *ctx, int64_t job_id);
/* The same for the claim of a distributed project that jl_claims_take
 * leased already: only the heartbeat starts. */
int jl_lease_start_claim(jl_lease *l, jetl_ctx *ctx, int64_t job_id, const char *project);
/* Stop renewing (the lease stays until it runs out or is cleared). Safe on
 * a lease never started. */
void jl_lease_stop(jl_lease *l);

/* The sweep: end the running jobs whose lease ran out (of ctx's
 * tenant/integration, or of all), then recover the raw rows such jobs left
 * pending: published to the deployment's jetl.transform.ID of queue_url (a publisher opened only
 * when there is a row), or transformed here on ctx when queue_url is NULL.
 * Counts go to *ended and *recovered (may be NULL). A jetl_status; the
 * message is on ctx. */
int jl_sweep(jetl_ctx *ctx, int all, const char *queue_url, int64_t *ended, int64_t *recovered);

/* After a failed statement on ctx->pg: 1 when the connection is (again)
 * usable, reset for up to a minute, so the caller may go on; 0 when it was
 * not lost (a real error) or stays lost. Logs the loss and the return. */
int jl_db_back(jetl_ctx *ctx);

/* A consumer thread: transform (and extract) messages from one queue handle. */
typedef struct jl_wthread {
	const jetl_ctx *parent;         /* options to clone; not used concurrently */
	const char *queue_url;          /* NULL: in-process */
	const char *queues[2];
	size_t nqueues;
	const char *deployment;         /* this database's id: a message naming another is not ours */
	jl_queue *fwd;                  /* the thread's publisher for such messages (opened when needed) */
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
	atomic_llong foreign;           /* messages of another deployment, forwarded to its queue */
	atomic_int running;
	sem_t *exited;                  /* optional: posted once the thread has ended */
	double db_failing_since;        /* first transient database failure since the last answer (0: none) */
	int rc;
	char err[512];
	pthread_t tid;
} jl_wthread;

/* Start/join a consumer thread. start returns 0 or -1 (thread not started). */
int jl_wthread_start(jl_wthread *w);
int jl_wthread_join(jl_wthread *w);

/* Wait up to ms for a thread's `exited` post (one is consumed), so a
 * waiting loop wakes as soon as a thread ends instead of at its next tick.
 * Any thread; never fails (a timeout or EINTR just returns). */
void jl_wthread_wait_exit(sem_t *exited, int ms);

/* Message bodies (docs/design.md, 'Queue messages'); malloc'd JSON text.
 * deployment: the database's id (jl_deployment_load), in every message. */
char *jl_msg_transform(const char *deployment, int tenant, int integration, int64_t job_id, int64_t raw_id);
char *jl_msg_extract(const char *deployment, int tenant, int integration, int64_t job_id, const char *project,
	int full, const char *jql, int dev_status, int allow_mass_delete, const char *types);

/* deployment.c. Read the database's deployment id into ctx once (and the
 * queue names derived from it: ctx->q_transform, ctx->q_extract). JETL_OK,
 * or a status with the message on ctx (JETL_ESCHEMA: run jetl migrate). */
int jl_deployment_load(jetl_ctx *ctx);
/* "jetl.transform.<first 8 of the id>" and "jetl.extract.<…>". */
void jl_queue_names(const char *deployment, char transform[48], char extract[48]);
/* Whether a message body names its deployment (*id: borrowed, else NULL);
 * a message of an older jetl names none. */
int jl_deployment_of(const json_t *body, const char **id);
/* Raw rows pending with no progress for this long are published again (a
 * message lost, or taken by a worker that dropped it): seconds, from
 * $JETL_REQUEUE_SECONDS, else the default. */
#define JL_REQUEUE_SECONDS_DEFAULT 120
int jl_republish_seconds(void);
/* Publish again, on *pub (opened on ctx->queue_url when NULL and there is
 * a row: the caller closes it), the pending raw rows of the quiet jobs
 * (job_id > 0: that job only) that saw no progress for `seconds`
 * (store/deployment.h, jl_stale_claim); *count gets how many. A status;
 * the message on ctx. */
int jl_republish_stale(jetl_ctx *ctx, jl_queue **pub, int64_t job_id, int seconds, int64_t *count);

#endif
