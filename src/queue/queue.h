/*
 * queue.h - message queues: RabbitMQ (AMQP 0-9-1, rabbitmq-c) or in-process.
 *
 * The same interface for both so that the pipeline does not care. A handle is
 * used by one thread at a time; open one per thread. Every function returns a
 * jetl_status; on failure jl_queue_error() holds a one-line cause (never the
 * password of the URL).
 */
#ifndef JL_QUEUE_H
#define JL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#define JL_QUEUE_EXTRACT "jetl.extract"
#define JL_QUEUE_TRANSFORM "jetl.transform"

typedef struct jl_queue jl_queue;

/*
 * url: "amqp://user:pass@host:port/vhost" for RabbitMQ, NULL or "" for the
 * in-process queue (shared by every handle of the process). Declares the
 * durable queues jetl.extract, jetl.transform and their dead-letter queues
 * (*.dead) on first use; idempotent.
 */
int jl_queue_open(jl_queue **out, const char *url, char *err, size_t errlen);
void jl_queue_close(jl_queue *q);
const char *jl_queue_error(const jl_queue *q);
int jl_queue_is_inprocess(const jl_queue *q);

/* Persistent, application/json, waits for the broker's confirm. Reconnects
 * (bounded attempts) when the connection broke. */
int jl_queue_publish(jl_queue *q, const char *queue, const char *body, size_t len);

typedef struct jl_queue_msg {
	char *body;          /* NUL-terminated copy, owned by the msg until jl_queue_msg_free */
	size_t len;
	uint64_t tag;        /* delivery tag for ack/reject */
	int redelivered;     /* the broker delivered it before (a worker died?) */
} jl_queue_msg;

/* Start consuming from these queues with a prefetch (unacked messages). */
int jl_queue_consume(jl_queue *q, const char *const *queues, size_t n, int prefetch);

/*
 * Wait up to timeout_ms for the next message. Returns JETL_OK with *msg
 * filled, JETL_ETIMEOUT when nothing came, or a failure. After a broker
 * restart it reconnects and resumes consuming (unacked messages come back
 * redelivered). *queue_out (may be NULL) gets the queue's name (static).
 */
int jl_queue_next(jl_queue *q, jl_queue_msg *msg, const char **queue_out, int timeout_ms);

/* Acknowledge (after the database commit). */
int jl_queue_ack(jl_queue *q, const jl_queue_msg *msg);

/* Give back: requeue = 1 for another try, 0 to dead-letter it. */
int jl_queue_reject(jl_queue *q, const jl_queue_msg *msg, int requeue);

void jl_queue_msg_free(jl_queue_msg *msg);

/* Messages ready in a queue (for "until idle" and tests); -1 on failure. */
int64_t jl_queue_depth(jl_queue *q, const char *queue);

#endif
