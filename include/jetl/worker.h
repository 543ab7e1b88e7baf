/*
 * jetl/worker.h - queue consumers that transform (and extract) in the background.
 */
#ifndef JETL_WORKER_H
#define JETL_WORKER_H

#include "context.h"

JETL_BEGIN_DECL

#define JETL_WORKER_OPTIONS_VERSION 1

typedef struct jetl_worker_options {
	unsigned int version;      /**< JETL_WORKER_OPTIONS_VERSION */
	int threads;               /**< consumer threads, each with its own connections; default 1 */
	int until_idle;            /**< return idle_ms after the last commit, the queues empty */
	int idle_ms;               /**< default 2000 */
	int distribute;            /**< also consume the database's jetl.extract.ID messages */
	int prefetch;              /**< unacked messages per thread; default 4 */
	int max_deliveries;        /**< then dead-letter; default 3 */
	jetl_progress_cb progress; /**< called on the calling thread; NULL: none */
	void *progress_userdata;
} jetl_worker_options;

#define JETL_WORKER_OPTIONS_INIT { JETL_WORKER_OPTIONS_VERSION, 1, 0, 2000, 0, 4, 3, NULL, NULL }

/** Fill defaults. JETL_EINVAL for NULL, JETL_EVERSION for an unknown version. */
JETL_API int jetl_worker_options_init(jetl_worker_options *opts, unsigned int version);

/**
 * Consume messages until jetl_worker_stop() (or idle, if asked). The message
 * being handled is finished first: a stop never leaves half-written rows.
 * Consumes only the queues of ctx's database (jetl.transform.ID, with
 * distribute jetl.extract.ID: ID from its deployment id); a message of
 * another deployment is passed to that one's queue, never acted on. Its
 * sweep (every 10 s) also publishes again the pending raw rows that stopped
 * moving while the queue is empty. Returns JETL_OK when stopped or idle,
 * JETL_ESCHEMA when the schema has no deployment id (run jetl_migrate).
 * opts may be NULL.
 */
JETL_API int jetl_worker_run(jetl_ctx *ctx, const jetl_worker_options *opts);

/**
 * Ask jetl_worker_run() on ctx to return. Async-signal-safe and callable
 * from any thread while another thread runs the worker. Harmless when no
 * worker runs (the next run starts normally).
 */
JETL_API void jetl_worker_stop(jetl_ctx *ctx);

JETL_END_DECL

#endif
