/* deployment.c - which database a queue message belongs to, and the queue
 * names that keep deployments apart on one broker (docs/deploy.md, "Sharing
 * a broker"); the re-publish of raw rows that stay pending. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "../store/deployment.h"

int jl_deployment_load(jetl_ctx *ctx)
{
	char id[37], err[512];

	if (ctx->deployment[0])
		return JETL_OK;
	if (!ctx->pg)
		return jl_fail(ctx, JETL_EDBCONN, "deployment: no database connection");
	if (jl_deployment_read(ctx->pg, id, err, sizeof(err)) < 0)
		return jl_fail(ctx, JETL_ESCHEMA, "%s", err);
	memcpy(ctx->deployment, id, sizeof(id));
	jl_queue_names(id, ctx->q_transform, ctx->q_extract);
	return JETL_OK;
}

void jl_queue_names(const char *deployment, char transform[48], char extract[48])
{
	snprintf(transform, 48, "%s.%.8s", JL_QUEUE_TRANSFORM, deployment);
	snprintf(extract, 48, "%s.%.8s", JL_QUEUE_EXTRACT, deployment);
}

int jl_deployment_of(const json_t *body, const char **id)
{
	const json_t *d = json_object_get(body, "deployment");

	*id = json_string_value(d);
	return *id && strlen(*id) == 36;
}

int jl_republish_stale(jetl_ctx *ctx, jl_queue **pub, int64_t job_id, int seconds, int64_t *count)
{
	jl_stale_row *rows = NULL;
	size_t n = 0, k;
	int64_t jobs = 0, depth;
	char err[512];
	int rc = JETL_OK;

	*count = 0;
	if ((rc = jl_deployment_load(ctx)) != JETL_OK)
		return rc;
	if (jl_stale_count(ctx->pg, job_id, seconds, &jobs, err, sizeof(err)) < 0)
		return jl_fail(ctx, JETL_EDB, "%s", err);
	if (jobs == 0)
		return JETL_OK;
	if (!*pub && (rc = jl_queue_open(pub, ctx->queue_url, err, sizeof(err))) != JETL_OK)
		return jl_fail(ctx, rc, "re-queue: %s", err);
	if ((rc = jl_queue_declare(*pub, ctx->q_transform)) != JETL_OK)
		return jl_fail(ctx, rc, "re-queue: %s", jl_queue_error(*pub));
	/* Messages waiting in the queue are not lost: the workers are only
	 * slow (or none runs), and copies would pile up behind them. */
	if ((depth = jl_queue_depth(*pub, ctx->q_transform)) != 0)
		return depth < 0 ? jl_fail(ctx, JETL_EQUEUE, "re-queue: %s", jl_queue_error(*pub)) : JETL_OK;
	if (jl_stale_claim(ctx->pg, job_id, seconds, &rows, &n, err, sizeof(err)) < 0)
		return jl_fail(ctx, JETL_EDB, "%s", err);
	for (k = 0; k < n && rc == JETL_OK; k++) {
		char *msg = jl_msg_transform(ctx->deployment, rows[k].tenant, rows[k].integration, rows[k].job_id,
			rows[k].raw_id);

		rc = msg ? jl_queue_publish(*pub, ctx->q_transform, msg, strlen(msg)) : JETL_ENOMEM;
		free(msg);
		if (rc != JETL_OK)
			rc = jl_fail(ctx, rc, "re-queue: %s", rc == JETL_ENOMEM ? "out of memory" : jl_queue_error(*pub));
	}
	if (n)
		jl_log(ctx, rc == JETL_OK ? JETL_LOG_WARNING : JETL_LOG_ERROR,
			"job %lld%s: %zu raw row(s) pending with no progress for %d s: %s %s (is a `jetl worker` of "
			"this database running?)", (long long)rows[0].job_id,
			rows[n - 1].job_id != rows[0].job_id ? " and others" : "", n, seconds,
			rc == JETL_OK ? "published again to" : "could not publish them again to", ctx->q_transform);
	*count = (int64_t)k;
	free(rows);
	return rc;
}

int jl_republish_seconds(void)
{
	const char *v = getenv("JETL_REQUEUE_SECONDS");
	int s = v ? atoi(v) : 0;

	return s > 0 ? s : JL_REQUEUE_SECONDS_DEFAULT;
}
