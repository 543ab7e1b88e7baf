/* queue_calls.h - asserting wrappers around the queue calls, shared by the
 * in-process and RabbitMQ queue tests so both exercise the same contract the
 * same way. Header-only. */
#ifndef JETL_TEST_QUEUE_CALLS_H
#define JETL_TEST_QUEUE_CALLS_H

#include <criterion/criterion.h>
#include <string.h>

#include "jetl/common.h"
#include "queue/queue.h"

/* Open a handle: url NULL = the in-process queue, else RabbitMQ. */
static inline jl_queue *qt_open(const char *url)
{
	jl_queue *q = NULL;
	char err[512];

	cr_assert_eq(jl_queue_open(&q, url, err, sizeof err), JETL_OK, "%s", err);
	cr_assert_eq(jl_queue_is_inprocess(q), url == NULL);
	return q;
}

static inline void qt_consume1(jl_queue *q, const char *name, int prefetch)
{
	const char *qs[] = { name };

	cr_assert_eq(jl_queue_consume(q, qs, 1, prefetch), JETL_OK, "%s", jl_queue_error(q));
}

static inline void qt_pub(jl_queue *q, const char *name, const char *body)
{
	cr_assert_eq(jl_queue_publish(q, name, body, strlen(body)), JETL_OK, "%s", jl_queue_error(q));
}

#endif
