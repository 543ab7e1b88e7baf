/* twriter.h - a consumer thread's write-behind: a second thread with its own
 * database connection that commits one transformed raw row while the
 * consumer reads and transforms the next, so PostgreSQL's COPY and the
 * consumer's JSON parsing run at the same time.
 *
 * Threading: one consumer thread submits and collects; the writer thread
 * only touches the submitted job until it hands it back. Every database
 * write of a transform message happens here (rows, failure marks, job
 * completion), so the consumer's own connection is free to fetch ahead. */
#ifndef JL_PIPELINE_TWRITER_H
#define JL_PIPELINE_TWRITER_H

#include <pthread.h>
#include <stdint.h>

#include "../queue/queue.h"
#include "transform_batch.h"

/* One transform message on its way through the pipeline. */
typedef struct jl_tjob {
	jl_queue_msg msg;         /* owned; acked or rejected by the consumer */
	int64_t raw_id, job_id;
	double started;            /* jl_now() when taken off the queue (for the log) */
	jl_tb_row row;
	int rc;                   /* JETL_OK, or why the row failed so far */
	/* Set by the writer. */
	jl_load_counts counts;
	int attempts;             /* the row's attempts after a failure (0 unknown) */
	int reconnected;          /* the writer's connection was lost and reopened */
	struct jl_tjob *next;     /* the next job handed over with this one, or NULL */
} jl_tjob;

typedef struct jl_twriter jl_twriter;

/*
 * Start the writer thread with a connection of its own, opened from opts
 * (copied). max_deliveries: a row that failed this many times ends its job's
 * wait (the consumer dead-letters it). Returns a jetl_status; on failure the
 * one-line cause is in err and *out is NULL.
 */
int jl_twriter_start(jl_twriter **out, const jetl_options *opts, int max_deliveries, char *err, size_t errlen);

/* Hand a job over, or a list of them (job->next; the writer must be idle:
 * jl_twriter_busy() == 0). With job->rc == JETL_OK the rows are written;
 * otherwise the row is marked failed with job->row.err. The writer owns the
 * jobs until collected. A list of first loads (the rows before were new) is
 * written in one transaction (jl_load_fresh_group: fewer round trips and
 * commits); should that fail, each job is written alone as usual. */
void jl_twriter_submit(jl_twriter *w, jl_tjob *job);

/* A job submitted and not collected yet. */
int jl_twriter_busy(jl_twriter *w);

/* The submitted job (list) once done (rc and counts set), waiting at most
 * timeout_ms (-1: until done); NULL when none is done in time. */
jl_tjob *jl_twriter_collect(jl_twriter *w, int timeout_ms);

/* Finish the current job, stop the thread, close its connection. NULL is a
 * no-op. A job not collected is freed with its message unacknowledged. */
void jl_twriter_stop(jl_twriter *w);

/* Free a job (its row and message) and the jobs after it; NULL is a no-op. */
void jl_tjob_free(jl_tjob *job);

#endif
