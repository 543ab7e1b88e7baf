/* worker.c - jetl_worker_run: consumer threads, progress on the calling
 * thread, stop from a signal handler or another thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "../store/db.h"

/* How often a worker sweeps (lease.c): jobs whose extracting process
 * stopped are ended, and the raw rows they left pending re-queued. */
#define SWEEP_EVERY_S 10.0

/* On the calling thread and its connection (the consumer threads have
 * their own). A failure is logged; the next round tries again. */
static void worker_sweep(jetl_ctx *ctx)
{
	char msg[sizeof(ctx->err)];

	if (jl_store_conn_lost(ctx->pg))
		PQreset(ctx->pg);
	if (jl_sweep(ctx, 1, ctx->queue_url, NULL, NULL) != JETL_OK) {
		snprintf(msg, sizeof(msg), "%s", jetl_last_error(ctx));
		jl_log(ctx, JETL_LOG_WARNING, "worker: %s", msg);
		jl_clear_error(ctx);
	}
	/* Jobs nobody holds whose pending rows stopped moving: their messages
	 * were lost (or taken by a worker of an older jetl on a shared queue),
	 * so they go out again. */
	if (ctx->queue_url) {
		jl_queue *pub = NULL;
		int64_t n;

		if (jl_republish_stale(ctx, &pub, 0, jl_republish_seconds(), &n) != JETL_OK) {
			snprintf(msg, sizeof(msg), "%s", jetl_last_error(ctx));
			jl_log(ctx, JETL_LOG_WARNING, "worker: %s", msg);
			jl_clear_error(ctx);
		}
		jl_queue_close(pub);
	}
}

int jetl_worker_options_init(jetl_worker_options *opts, unsigned int version)
{
	static const jetl_worker_options defaults = JETL_WORKER_OPTIONS_INIT;

	if (!opts)
		return JETL_EINVAL;
	if (version == 0 || version > JETL_WORKER_OPTIONS_VERSION)
		return JETL_EVERSION;
	*opts = defaults;
	opts->version = version;
	return JETL_OK;
}

void jetl_worker_stop(jetl_ctx *ctx)
{
	/* Only an atomic store: async-signal-safe. */
	if (ctx)
		atomic_store(&ctx->stop, 1);
}

/* One consumer thread's settings from the run's options (defaults applied). */
static void thread_options(jl_wthread *w, jetl_ctx *ctx, const jetl_worker_options *opts, sem_t *exited)
{
	w->parent = ctx;
	w->exited = exited;
	w->queue_url = ctx->queue_url;
	/* the deployment's own queues (jl_deployment_load): another
	 * database's workers on the same broker never see these messages */
	w->queues[0] = ctx->q_transform;
	w->nqueues = 1;
	if (opts->distribute)
		w->queues[w->nqueues++] = ctx->q_extract;
	w->deployment = ctx->deployment;
	w->prefetch = opts->prefetch > 0 ? opts->prefetch : 4;
	w->max_deliveries = opts->max_deliveries > 0 ? opts->max_deliveries : 3;
	w->idle_ms = opts->idle_ms > 0 ? opts->idle_ms : 2000;
	w->until_idle = opts->until_idle;
	w->stop = &ctx->stop;
}

int jetl_worker_run(jetl_ctx *ctx, const jetl_worker_options *opts)
{
	static const jetl_worker_options defaults = JETL_WORKER_OPTIONS_INIT;
	jl_wthread *w;
	jl_progress prog;
	sem_t exited;
	int n, rc = JETL_OK, alive;
	double swept = 0;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (!opts)
		opts = &defaults;
	if (opts->version == 0 || opts->version > JETL_WORKER_OPTIONS_VERSION)
		return jl_fail(ctx, JETL_EVERSION, "worker: options version %u is not supported", opts->version);
	n = opts->threads > 0 ? opts->threads : 1;
	if (n > 64)
		return jl_fail(ctx, JETL_EINVAL, "worker: %d threads is too many (at most 64)", n);
	if ((rc = jl_deployment_load(ctx)) != JETL_OK)
		return rc;
	w = calloc((size_t)n, sizeof(*w));
	if (!w)
		return jl_fail(ctx, JETL_ENOMEM, "worker: out of memory");
	/* A stop that arrived before the run would end it at once: the flag
	 * is consumed by the run it stops. */
	atomic_store(&ctx->stop, 0);
	sem_init(&exited, 0, 0);
	for (int i = 0; i < n; i++) {
		thread_options(&w[i], ctx, opts, &exited);
		if (jl_wthread_start(&w[i]) < 0) {
			atomic_store(&ctx->stop, 1);
			n = i;
			rc = jl_fail(ctx, JETL_ERROR, "worker: cannot start thread %d", i);
			break;
		}
	}
	jl_progress_init(&prog, ctx, 0, NULL, opts->progress, opts->progress_userdata, 0, 0);
	do {
		int64_t done = 0, failed = 0, foreign = 0;
		alive = 0;
		for (int i = 0; i < n; i++) {
			alive += atomic_load(&w[i].running);
			done += atomic_load(&w[i].transformed);
			failed += atomic_load(&w[i].failed);
			foreign += atomic_load(&w[i].foreign);
		}
		if (alive && opts->progress) {
			char msg[160];
			int k = snprintf(msg, sizeof(msg), "worker: %lld raw rows transformed, %lld failed",
				(long long)done, (long long)failed);

			if (foreign && k > 0 && (size_t)k < sizeof(msg))
				snprintf(msg + k, sizeof(msg) - (size_t)k, ", %lld message(s) of another deployment "
					"passed to its queue", (long long)foreign);
			if (jl_progress_emit(&prog, JETL_PHASE_TRANSFORM, done, 0, msg, 0))
				atomic_store(&ctx->stop, 1);
		}
		if (alive && jl_now() - swept >= SWEEP_EVERY_S) {
			worker_sweep(ctx);
			swept = jl_now();
		}
		/* Progress every 100 ms; a thread that ends wakes the loop at
		 * once (--until-idle left up to 100 ms late before). */
		if (alive)
			jl_wthread_wait_exit(&exited, 100);
	} while (alive);
	for (int i = 0; i < n; i++) {
		int trc = jl_wthread_join(&w[i]);
		if (trc != JETL_OK && rc == JETL_OK)
			rc = jl_fail(ctx, trc, "worker thread %d: %s", i, w[i].err);
	}
	free(w);
	sem_destroy(&exited);
	atomic_store(&ctx->stop, 0);
	return rc;
}
