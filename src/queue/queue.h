/*
 * queue.h - message queues: RabbitMQ (AMQP 0-9-1, rabbitmq-c) or in-process.
 *
 * The same interface for both so that the pipeline does not care.
 *
 * Threads: a handle is used by one thread at a time; open one per thread.
 * In-process handles of one process share their queues (a mutex-protected
 * registry), so several threads exchange messages like separate RabbitMQ
 * consumers would. Handles are not inherited across fork().
 *
 * Errors: every int function returns a jetl_status; on failure
 * jl_queue_error() holds a one-line cause. It names the broker as
 * host:port/vhost and never holds the password of the URL.
 *
 * Delivery: at least once. A message is removed only by jl_queue_ack();
 * anything unacknowledged when a handle closes, a process dies or the
 * connection breaks comes back (redelivered = 1), possibly to another
 * consumer. A publish that is retried after a broken connection may be
 * stored twice. Consumers must therefore be idempotent (every write is an upsert:
 * docs/design.md, 'Tables').
 */
#ifndef JL_QUEUE_H
#define JL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#define JL_QUEUE_EXTRACT "jetl.extract"
#define JL_QUEUE_TRANSFORM "jetl.transform"
/* Dead-letter queues: "<name>" JL_QUEUE_DEAD_SUFFIX. */
#define JL_QUEUE_DEAD_SUFFIX ".dead"

/* AMQP heartbeat asked of the broker, seconds. rabbitmq-c answers heartbeats
 * only inside queue calls, so a consumer must come back to jl_queue_next /
 * ack within about twice this time or the broker drops the connection (its
 * unacked messages are then redelivered, and the late ack returns
 * JETL_ESTATE). */
#define JL_QUEUE_HEARTBEAT_S 30

/* How long a handle keeps trying to reconnect before calls fail, ms. */
#define JL_QUEUE_RECONNECT_MS_DEFAULT 60000

typedef struct jl_queue jl_queue;

/*
 * url: "amqp://user:pass@host:port/vhost" (vhost %-encoded: "/" is %2f) for
 * RabbitMQ; NULL or "" for the in-process queue (shared by every handle of
 * the process). "amqps://…" is TLS (default port 5671), the broker's
 * certificate checked against the host of the URL and, unless the query
 * says ?cacertfile=PATH, the system's CA certificates; &certfile=PEM and
 * &keyfile=PEM (unencrypted) add a client certificate; &verify=verify_none
 * turns the checks off. ?passwordfile=PATH (amqp or amqps, instead of a
 * password in the URL) reads the password from the file's first line. Unknown parameters are refused (JETL_ECONFIG), as
 * is a file that cannot be read. Declares the durable queues jetl.extract, jetl.transform and
 * their dead-letter queues (*.dead) on every (re)connection; idempotent.
 * Connects once: an unreachable broker fails here (JETL_EQUEUE) rather than
 * being retried, so a wrong URL shows at once. err (may be NULL) gets the
 * cause on failure; *out is owned by the caller (jl_queue_close).
 */
int jl_queue_open(jl_queue **out, const char *url, char *err, size_t errlen);

/* NULL-safe. Unacked messages go back to their queues (redelivered). */
void jl_queue_close(jl_queue *q);
const char *jl_queue_error(const jl_queue *q);
int jl_queue_is_inprocess(const jl_queue *q);

/*
 * Declare one more durable queue `name` with its dead-letter queue
 * `name.dead` (both idempotent; re-declared after each reconnect of this
 * handle). The standard queues need no call. Useful for tests and tools.
 */
int jl_queue_declare(jl_queue *q, const char *name);

/* Total time a handle tries to reconnect (bounded exponential backoff,
 * 100 ms .. 2 s) before calls fail with JETL_EQUEUE; <= 0 = default. */
void jl_queue_set_reconnect_ms(jl_queue *q, int ms);

/* Persistent, application/json, mandatory (a queue that does not exist gives
 * JETL_ENOENT instead of a silent drop), and waits for the broker's confirm
 * (one publish in flight per handle: simple, and fast enough for messages of
 * one per raw row). Reconnects (bounded) when the connection broke and then
 * publishes again, so a message may be stored twice (see Delivery above). */
int jl_queue_publish(jl_queue *q, const char *queue, const char *body, size_t len);

typedef struct jl_queue_msg {
	char *body;          /* NUL-terminated copy, owned by the msg until jl_queue_msg_free */
	size_t len;
	uint64_t tag;        /* delivery tag for ack/reject */
	int redelivered;     /* the broker delivered it before (a worker died?) */
	/* Added: the connection (generation) that delivered the message. A tag is
	 * meaningful only on the connection that gave it: after a reconnect the
	 * old tags are void (the broker redelivers those messages), and ack or
	 * reject of such a msg returns JETL_ESTATE without touching the broker,
	 * so it can never acknowledge another message. Unique in the process,
	 * so a msg of another handle is refused the same way. */
	uint64_t gen;
} jl_queue_msg;

/* Start consuming from these queues (names are copied) with a prefetch:
 * the most unacked messages this handle holds (0 = unlimited). Once per
 * handle; resumed automatically after a reconnect. */
int jl_queue_consume(jl_queue *q, const char *const *queues, size_t n, int prefetch);

/*
 * Wait up to timeout_ms (0 = just poll) for the next message. Returns
 * JETL_OK with *msg filled, JETL_ETIMEOUT when nothing came, or a failure.
 * After a broker restart it reconnects and resumes consuming (unacked
 * messages come back redelivered); while the broker is away it returns
 * JETL_ETIMEOUT, and JETL_EQUEUE once the reconnect time is used up.
 * *queue_out (may be NULL) gets the queue's name, borrowed from the handle,
 * valid until jl_queue_close.
 */
int jl_queue_next(jl_queue *q, jl_queue_msg *msg, const char **queue_out, int timeout_ms);

/* Acknowledge (after the database commit). JETL_ESTATE when the msg is from
 * an earlier connection or was already acked/rejected: nothing is done, and
 * the broker will deliver it again (harmless for an idempotent consumer). */
int jl_queue_ack(jl_queue *q, const jl_queue_msg *msg);

/* Give back: requeue = 1 for another try (redelivered = 1), 0 to
 * dead-letter it (to <queue>.dead). Same JETL_ESTATE rule as ack. */
int jl_queue_reject(jl_queue *q, const jl_queue_msg *msg, int requeue);

/* NULL-safe; frees the body and zeroes the msg. */
void jl_queue_msg_free(jl_queue_msg *msg);

/* Messages ready in a queue, not counting unacked ones (for "until idle"
 * and tests); -1 on failure (no such queue: the error says so). */
int64_t jl_queue_depth(jl_queue *q, const char *queue);

/*
 * URL helpers (url.c). Redacts the password of an amqp URL for logs
 * ("amqp://user:***@host:port/vhost"); other text is copied as is.
 */
void jl_queue_url_redact(char *dst, size_t n, const char *url);

#endif
