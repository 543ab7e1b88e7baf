/* queue.c - the jl_queue interface: argument checks, errors, and the choice
 * between the in-process and the RabbitMQ backend. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl/common.h"
#include "../core/util.h"
#include "queue_int.h"

static atomic_uint_fast64_t g_gen;

uint64_t jl_queue_new_gen(void)
{
	return (uint64_t)atomic_fetch_add(&g_gen, 1) + 1;
}

int jl_queue_fail(jl_queue *q, int status, const char *fmt, ...)
{
	char tmp[sizeof q->err];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	jl_one_line(q->err, sizeof q->err, tmp);
	return status;
}

char *jl_queue_dead_name(const char *name)
{
	size_t n = strlen(name);
	char *s = malloc(n + sizeof JL_QUEUE_DEAD_SUFFIX);

	if (s) {
		memcpy(s, name, n);
		memcpy(s + n, JL_QUEUE_DEAD_SUFFIX, sizeof JL_QUEUE_DEAD_SUFFIX);
	}
	return s;
}

/* AMQP limits a queue name to 255 bytes; ".dead" must still fit. */
static int bad_name(const char *name)
{
	return !name || !*name || strlen(name) > 255 - (sizeof JL_QUEUE_DEAD_SUFFIX - 1);
}

int jl_queue_open(jl_queue **out, const char *url, char *err, size_t errlen)
{
	jl_queue *q;
	int rc;

	if (err && errlen)
		*err = '\0';
	if (!out)
		return JETL_EINVAL;
	*out = NULL;
	q = calloc(1, sizeof *q);
	if (!q) {
		if (err && errlen)
			snprintf(err, errlen, "queue: out of memory");
		return JETL_ENOMEM;
	}
	q->reconnect_ms = JL_QUEUE_RECONNECT_MS_DEFAULT;
	if (!url || !*url) {
		q->inprocess = 1;
		rc = jl_queue_inproc_open(q);
	} else {
		rc = jl_queue_amqp_open(q, url);
	}
	if (rc) {
		if (err && errlen)
			snprintf(err, errlen, "%s", q->err);
		free(q);
		return rc;
	}
	*out = q;
	return JETL_OK;
}

void jl_queue_close(jl_queue *q)
{
	if (!q)
		return;
	q->ops->close(q);
	free(q);
}

const char *jl_queue_error(const jl_queue *q)
{
	return q ? q->err : "queue: no handle";
}

int jl_queue_is_inprocess(const jl_queue *q)
{
	return q && q->inprocess;
}

void jl_queue_set_reconnect_ms(jl_queue *q, int ms)
{
	if (q)
		q->reconnect_ms = ms > 0 ? ms : JL_QUEUE_RECONNECT_MS_DEFAULT;
}

int jl_queue_declare(jl_queue *q, const char *name)
{
	if (!q)
		return JETL_EINVAL;
	if (bad_name(name))
		return jl_queue_fail(q, JETL_EINVAL, "queue: invalid queue name");
	return q->ops->declare(q, name);
}

int jl_queue_publish(jl_queue *q, const char *queue, const char *body, size_t len)
{
	if (!q)
		return JETL_EINVAL;
	if (bad_name(queue) || (!body && len))
		return jl_queue_fail(q, JETL_EINVAL, "queue: publish needs a queue name and a body");
	return q->ops->publish(q, queue, body ? body : "", len);
}

int jl_queue_consume(jl_queue *q, const char *const *queues, size_t n, int prefetch)
{
	if (!q)
		return JETL_EINVAL;
	if (!queues || n == 0 || n > 16 || prefetch < 0 || prefetch > 65535)
		return jl_queue_fail(q, JETL_EINVAL, "queue: consume needs 1..16 queues and a prefetch of 0..65535");
	for (size_t i = 0; i < n; i++)
		if (bad_name(queues[i]))
			return jl_queue_fail(q, JETL_EINVAL, "queue: invalid queue name");
	return q->ops->consume(q, queues, n, prefetch);
}

int jl_queue_next(jl_queue *q, jl_queue_msg *msg, const char **queue_out, int timeout_ms)
{
	if (queue_out)
		*queue_out = NULL;
	if (!q || !msg)
		return JETL_EINVAL;
	memset(msg, 0, sizeof *msg);
	return q->ops->next(q, msg, queue_out, timeout_ms < 0 ? 0 : timeout_ms);
}

int jl_queue_ack(jl_queue *q, const jl_queue_msg *msg)
{
	if (!q || !msg)
		return JETL_EINVAL;
	return q->ops->settle(q, msg, JLQ_ACK);
}

int jl_queue_reject(jl_queue *q, const jl_queue_msg *msg, int requeue)
{
	if (!q || !msg)
		return JETL_EINVAL;
	return q->ops->settle(q, msg, requeue ? JLQ_REQUEUE : JLQ_DEAD);
}

void jl_queue_msg_free(jl_queue_msg *msg)
{
	if (!msg)
		return;
	free(msg->body);
	memset(msg, 0, sizeof *msg);
}

int64_t jl_queue_depth(jl_queue *q, const char *queue)
{
	if (!q)
		return -1;
	if (bad_name(queue)) {
		jl_queue_fail(q, JETL_EINVAL, "queue: invalid queue name");
		return -1;
	}
	return q->ops->depth(q, queue);
}
