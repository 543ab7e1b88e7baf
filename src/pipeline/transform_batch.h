/* transform_batch.h - the transform step as the worker calls it. */
#ifndef JL_PIPELINE_TRANSFORM_BATCH_H
#define JL_PIPELINE_TRANSFORM_BATCH_H

#include <stdint.h>

#include <libpq-fe.h>

#include "jetl/transform.h"
#include "../store/load.h"
#include "../model/catalog.h"
#include "../transform/transform.h"

/*
 * jetl_transform_batch() without clearing or touching anything but ctx:
 * the worker calls it from its threads, each with its own ctx (a ctx and
 * its connection serve one thread at a time; separate contexts never
 * share state, the pure transform has no globals). res may be NULL.
 * Returns a jetl_status; the message is on ctx (jl_fail).
 */
int jl_transform_raw_ctx(jetl_ctx *ctx, int64_t raw_id, jetl_transform_result *res);

/*
 * The three steps of one raw row, for callers that run them on different
 * connections (the worker: it reads the next row on one connection and
 * writes the previous one on another while it transforms). A row is used by
 * one thread at a time; it may move between threads between steps.
 */
typedef struct jl_tb_row {
	int tenant, integration;
	PGresult *raw;             /* fetched text, freed by jl_tb_transform */
	jl_catalog cat;
	jl_transform_out out;      /* the rows to write */
	char err[512];             /* one line, when a step fails */
	char project[64];          /* the raw row's project key, for the log ("" unknown) */
	int64_t job_id;            /* the raw row's job (jl_tb_fetch_recv; 0 none) */
} jl_tb_row;

void jl_tb_row_init(jl_tb_row *row, int tenant, int integration);
void jl_tb_row_free(jl_tb_row *row);

/* Step 1, second half: wait for jl_load_fetch_send's answer on ctx->pg.
 * JETL_OK, JETL_ENOENT (no such row) or the read's status (src/store's
 * classification: JETL_EDBRETRY/JETL_EDBCONN are transient); err on row. */
int jl_tb_fetch_recv(jetl_ctx *ctx, int64_t raw_id, jl_tb_row *row);

/* Step 2 (pure, no I/O; warnings go to ctx's log): raw text to rows.
 * JETL_OK or JETL_EDATA/JETL_EDB (out of memory); err on row. */
int jl_tb_transform(jetl_ctx *ctx, int64_t raw_id, jl_tb_row *row);

/* Step 3: in one transaction of its own, lock the raw row, write the rows,
 * mark it completed, commit; retried (three tries) on a transient failure
 * (JETL_EDBRETRY: deadlock, serialization, cancel, timeout), and through the
 * upserts when the direct COPY meets a key stored meanwhile. JETL_OK,
 * JETL_ENOENT, JETL_EDATA (PostgreSQL refused a value), JETL_EDBRETRY or
 * JETL_EDBCONN (transient: retry later), or JETL_EDB/JETL_ENOMEM; on failure
 * nothing is written and the connection is idle (rolled back); err on row.
 * On ctx's connection (one thread at a time); ctx->tables_analyzed is kept
 * up to date (see jl_load_lock). */
int jl_tb_write(jetl_ctx *ctx, int64_t raw_id, jl_tb_row *row, jl_load_counts *counts);

/*
 * After a raw row's write, what every caller does with its outcome st (the
 * in-process transform and the worker's writer alike): on success, say how
 * many issues were skipped as stale or left out into issue_errors; on a
 * failure that is not transient (bad data; a database failure while the
 * connection still works), record row->err on the raw row so an operator
 * sees it; a transient one (cancel, timeout, deadlock, a lost connection)
 * leaves the row as it was, to be transformed again; a missing row, nothing.
 * Errors of that recording are logged. Runs on the caller's thread.
 */
void jl_tb_settle(jetl_ctx *ctx, int64_t raw_id, const jl_tb_row *row, const jl_load_counts *counts, int st);

#endif
