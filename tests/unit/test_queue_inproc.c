/* test_queue_inproc.c - the in-process queue: the same contract as RabbitMQ
 * (publish, consume, ack, requeue, dead-letter, prefetch, timeouts), and
 * handles of several threads sharing messages without loss or duplicates.
 * Criterion runs each test in its own process, so the registry starts
 * empty every time. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jetl/common.h"
#include "core/util.h"
#include "queue/queue.h"
#include "../support/queue_calls.h"

Test(queue_inproc, publish_consume_ack)
{
	jl_queue *q = qt_open(NULL);
	jl_queue_msg m;
	const char *from;

	qt_pub(q, JL_QUEUE_TRANSFORM, "{\"raw_id\": 1}");
	qt_pub(q, JL_QUEUE_TRANSFORM, "{\"raw_id\": 2}");
	cr_assert_eq(jl_queue_depth(q, JL_QUEUE_TRANSFORM), 2);
	qt_consume1(q, JL_QUEUE_TRANSFORM, 10);
	cr_assert_eq(jl_queue_next(q, &m, &from, 100), JETL_OK);
	cr_assert_str_eq(m.body, "{\"raw_id\": 1}");
	cr_assert_eq(m.len, strlen(m.body));
	cr_assert_str_eq(from, JL_QUEUE_TRANSFORM);
	cr_assert_eq(m.redelivered, 0);
	cr_assert_eq(jl_queue_depth(q, JL_QUEUE_TRANSFORM), 1, "unacked messages are not ready");
	cr_assert_eq(jl_queue_ack(q, &m), JETL_OK);
	cr_assert_eq(jl_queue_ack(q, &m), JETL_ESTATE, "a second ack is refused");
	jl_queue_msg_free(&m);
	cr_assert_eq(jl_queue_next(q, &m, NULL, 100), JETL_OK);
	cr_assert_str_eq(m.body, "{\"raw_id\": 2}");
	cr_assert_eq(jl_queue_ack(q, &m), JETL_OK);
	jl_queue_msg_free(&m);
	cr_assert_eq(jl_queue_depth(q, JL_QUEUE_TRANSFORM), 0);
	jl_queue_close(q);
}

Test(queue_inproc, timeout_when_empty)
{
	jl_queue *q = qt_open(NULL);
	jl_queue_msg m;
	double t0;

	qt_consume1(q, JL_QUEUE_EXTRACT, 1);
	t0 = jl_now();
	cr_assert_eq(jl_queue_next(q, &m, NULL, 150), JETL_ETIMEOUT);
	cr_assert_geq(jl_now() - t0, 0.14);
	cr_assert_lt(jl_now() - t0, 2.0);
	cr_assert_null(m.body);
	cr_assert_eq(jl_queue_next(q, &m, NULL, 0), JETL_ETIMEOUT, "0 polls");
	jl_queue_close(q);
}

Test(queue_inproc, requeue_comes_back_redelivered_first)
{
	jl_queue *q = qt_open(NULL);
	jl_queue_msg m;

	qt_pub(q, JL_QUEUE_TRANSFORM, "a");
	qt_pub(q, JL_QUEUE_TRANSFORM, "b");
	qt_consume1(q, JL_QUEUE_TRANSFORM, 0);
	cr_assert_eq(jl_queue_next(q, &m, NULL, 100), JETL_OK);
	cr_assert_str_eq(m.body, "a");
	cr_assert_eq(jl_queue_reject(q, &m, 1), JETL_OK);
	jl_queue_msg_free(&m);
	cr_assert_eq(jl_queue_next(q, &m, NULL, 100), JETL_OK);
	cr_assert_str_eq(m.body, "a");
	cr_assert_eq(m.redelivered, 1);
	cr_assert_eq(jl_queue_ack(q, &m), JETL_OK);
	jl_queue_msg_free(&m);
	cr_assert_eq(jl_queue_next(q, &m, NULL, 100), JETL_OK);
	cr_assert_str_eq(m.body, "b");
	cr_assert_eq(m.redelivered, 0);
	jl_queue_msg_free(&m);
	jl_queue_close(q);
}

Test(queue_inproc, reject_dead_letters)
{
	jl_queue *q = qt_open(NULL), *d = qt_open(NULL);
	jl_queue_msg m;
	const char *from;

	qt_pub(q, JL_QUEUE_TRANSFORM, "poison");
	qt_consume1(q, JL_QUEUE_TRANSFORM, 1);
	cr_assert_eq(jl_queue_next(q, &m, NULL, 100), JETL_OK);
	cr_assert_eq(jl_queue_reject(q, &m, 0), JETL_OK);
	jl_queue_msg_free(&m);
	cr_assert_eq(jl_queue_depth(q, JL_QUEUE_TRANSFORM), 0);
	cr_assert_eq(jl_queue_depth(q, JL_QUEUE_TRANSFORM ".dead"), 1);
	qt_consume1(d, JL_QUEUE_TRANSFORM ".dead", 1);
	cr_assert_eq(jl_queue_next(d, &m, &from, 100), JETL_OK);
	cr_assert_str_eq(m.body, "poison");
	cr_assert_str_eq(from, "jetl.transform.dead");
	cr_assert_eq(jl_queue_ack(d, &m), JETL_OK);
	jl_queue_msg_free(&m);
	jl_queue_close(q);
	jl_queue_close(d);
}

Test(queue_inproc, prefetch_limits_unacked)
{
	jl_queue *q = qt_open(NULL);
	jl_queue_msg a, b, c;

	qt_pub(q, JL_QUEUE_TRANSFORM, "1");
	qt_pub(q, JL_QUEUE_TRANSFORM, "2");
	qt_pub(q, JL_QUEUE_TRANSFORM, "3");
	qt_consume1(q, JL_QUEUE_TRANSFORM, 2);
	cr_assert_eq(jl_queue_next(q, &a, NULL, 50), JETL_OK);
	cr_assert_eq(jl_queue_next(q, &b, NULL, 50), JETL_OK);
	cr_assert_eq(jl_queue_next(q, &c, NULL, 50), JETL_ETIMEOUT, "prefetch 2 reached");
	cr_assert_eq(jl_queue_ack(q, &a), JETL_OK);
	cr_assert_eq(jl_queue_next(q, &c, NULL, 50), JETL_OK);
	cr_assert_str_eq(c.body, "3");
	jl_queue_msg_free(&a);
	jl_queue_msg_free(&b);
	jl_queue_msg_free(&c);
	jl_queue_close(q);
}

Test(queue_inproc, close_returns_unacked_messages)
{
	jl_queue *w = qt_open(NULL), *w2;
	jl_queue_msg m;

	qt_pub(w, JL_QUEUE_TRANSFORM, "x");
	qt_pub(w, JL_QUEUE_TRANSFORM, "y");
	qt_consume1(w, JL_QUEUE_TRANSFORM, 0);
	cr_assert_eq(jl_queue_next(w, &m, NULL, 50), JETL_OK);
	jl_queue_msg_free(&m);
	cr_assert_eq(jl_queue_next(w, &m, NULL, 50), JETL_OK);
	jl_queue_msg_free(&m);
	jl_queue_close(w);   /* a worker that goes away without acking */
	w2 = qt_open(NULL);
	qt_consume1(w2, JL_QUEUE_TRANSFORM, 0);
	cr_assert_eq(jl_queue_next(w2, &m, NULL, 50), JETL_OK);
	cr_assert_str_eq(m.body, "x", "order kept");
	cr_assert_eq(m.redelivered, 1);
	jl_queue_msg_free(&m);
	cr_assert_eq(jl_queue_next(w2, &m, NULL, 50), JETL_OK);
	cr_assert_str_eq(m.body, "y");
	jl_queue_msg_free(&m);
	jl_queue_close(w2);
}

Test(queue_inproc, foreign_or_stale_msg_is_refused)
{
	jl_queue *a = qt_open(NULL), *b = qt_open(NULL);
	jl_queue_msg m;

	qt_pub(a, JL_QUEUE_TRANSFORM, "z");
	qt_consume1(a, JL_QUEUE_TRANSFORM, 0);
	qt_consume1(b, JL_QUEUE_TRANSFORM, 0);
	cr_assert_eq(jl_queue_next(a, &m, NULL, 50), JETL_OK);
	cr_assert_eq(jl_queue_ack(b, &m), JETL_ESTATE, "b never delivered it");
	cr_assert_eq(jl_queue_reject(b, &m, 0), JETL_ESTATE);
	cr_assert_eq(jl_queue_ack(a, &m), JETL_OK);
	jl_queue_msg_free(&m);
	jl_queue_close(a);
	jl_queue_close(b);
}

Test(queue_inproc, unknown_queue_and_bad_calls)
{
	jl_queue *q = qt_open(NULL);
	const char *qs[] = { "nope" };
	jl_queue_msg m;

	cr_assert_eq(jl_queue_publish(q, "nope", "x", 1), JETL_ENOENT);
	cr_assert(strstr(jl_queue_error(q), "nope"), "%s", jl_queue_error(q));
	cr_assert_eq(jl_queue_depth(q, "nope"), -1);
	cr_assert_eq(jl_queue_consume(q, qs, 1, 1), JETL_ENOENT);
	cr_assert_eq(jl_queue_next(q, &m, NULL, 0), JETL_ESTATE, "not consuming");
	cr_assert_eq(jl_queue_publish(q, "", "x", 1), JETL_EINVAL);
	cr_assert_eq(jl_queue_declare(q, "mine"), JETL_OK);
	cr_assert_eq(jl_queue_declare(q, "mine"), JETL_OK, "idempotent");
	cr_assert_eq(jl_queue_publish(q, "mine", "x", 1), JETL_OK);
	cr_assert_eq(jl_queue_depth(q, "mine.dead"), 0);
	jl_queue_close(q);
	jl_queue_close(NULL);
}

Test(queue_inproc, consume_from_two_queues)
{
	jl_queue *q = qt_open(NULL);
	const char *qs[] = { JL_QUEUE_EXTRACT, JL_QUEUE_TRANSFORM };
	jl_queue_msg m;
	const char *from;
	int seen_e = 0, seen_t = 0;

	qt_pub(q, JL_QUEUE_EXTRACT, "e");
	qt_pub(q, JL_QUEUE_TRANSFORM, "t");
	cr_assert_eq(jl_queue_consume(q, qs, 2, 0), JETL_OK);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(jl_queue_next(q, &m, &from, 50), JETL_OK);
		if (!strcmp(from, JL_QUEUE_EXTRACT) && !strcmp(m.body, "e"))
			seen_e++;
		if (!strcmp(from, JL_QUEUE_TRANSFORM) && !strcmp(m.body, "t"))
			seen_t++;
		cr_assert_eq(jl_queue_ack(q, &m), JETL_OK);
		jl_queue_msg_free(&m);
	}
	cr_assert(seen_e == 1 && seen_t == 1);
	jl_queue_close(q);
}

/* --- several threads, one handle each -------------------------------- */

#define N_MSG 2000
#define N_WORKERS 4

static unsigned char g_seen[N_MSG];
static pthread_mutex_t g_seen_mu = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
	jl_queue *q = qt_open(NULL);
	jl_queue_msg m;
	long n = 0;
	int idle = 0;

	(void)arg;
	qt_consume1(q, JL_QUEUE_TRANSFORM, 5);
	while (idle < 3) {
		int rc = jl_queue_next(q, &m, NULL, 100);

		if (rc == JETL_ETIMEOUT) {
			idle++;
			continue;
		}
		cr_assert_eq(rc, JETL_OK);
		idle = 0;
		int id = atoi(m.body);
		/* every 7th first delivery is given back: it must come again */
		if (!m.redelivered && id % 7 == 0) {
			cr_assert_eq(jl_queue_reject(q, &m, 1), JETL_OK);
		} else {
			pthread_mutex_lock(&g_seen_mu);
			g_seen[id]++;
			pthread_mutex_unlock(&g_seen_mu);
			cr_assert_eq(jl_queue_ack(q, &m), JETL_OK);
			n++;
		}
		/* some work, so that one thread cannot drain the queue alone */
		nanosleep(&(struct timespec){ 0, 100000 }, NULL);
		jl_queue_msg_free(&m);
	}
	jl_queue_close(q);
	return (void *)n;
}

static void *publisher(void *arg)
{
	jl_queue *q = qt_open(NULL);
	char body[32];
	int from = (int)(long)arg;

	for (int i = from; i < N_MSG; i += 2) {
		snprintf(body, sizeof body, "%d", i);
		qt_pub(q, JL_QUEUE_TRANSFORM, body);
	}
	jl_queue_close(q);
	return NULL;
}

Test(queue_inproc, threads_share_messages_without_loss_or_dup, .timeout = 60)
{
	pthread_t w[N_WORKERS], p[2];
	long total = 0, busy = 0;
	jl_queue *q = qt_open(NULL);

	for (int i = 0; i < N_WORKERS; i++)
		pthread_create(&w[i], NULL, worker, NULL);
	for (long i = 0; i < 2; i++)
		pthread_create(&p[i], NULL, publisher, (void *)i);
	for (int i = 0; i < 2; i++)
		pthread_join(p[i], NULL);
	for (int i = 0; i < N_WORKERS; i++) {
		void *n;

		pthread_join(w[i], &n);
		total += (long)n;
		busy += (long)n > 0;
	}
	cr_assert_eq(total, N_MSG);
	for (int i = 0; i < N_MSG; i++)
		cr_assert_eq(g_seen[i], 1, "message %d seen %d times", i, g_seen[i]);
	cr_assert_geq(busy, 2, "the work was shared");
	cr_assert_eq(jl_queue_depth(q, JL_QUEUE_TRANSFORM), 0);
	jl_queue_close(q);
}

Test(queue_inproc, url_redaction)
{
	char out[128];

	jl_queue_url_redact(out, sizeof out, "amqp://jetl:s3cret@127.0.0.1:5672/%2f");
	cr_assert_str_eq(out, "amqp://jetl:***@127.0.0.1:5672/%2f");
	jl_queue_url_redact(out, sizeof out, "amqp://host/v");
	cr_assert_str_eq(out, "amqp://host/v");
	jl_queue_url_redact(out, sizeof out, "amqp://u@host/v");
	cr_assert_str_eq(out, "amqp://u@host/v");
}

Test(queue_inproc, bad_url_does_not_leak_password)
{
	jl_queue *q = NULL;
	char err[256];

	cr_assert_eq(jl_queue_open(&q, "amqp://u:s3cret@127.0.0.1:1/%2f", err, sizeof err), JETL_EQUEUE);
	cr_assert_null(q);
	cr_assert_null(strstr(err, "s3cret"), "%s", err);
	cr_assert(strstr(err, "127.0.0.1:1/%2f"), "%s", err);
	cr_assert_eq(jl_queue_open(&q, "http://nope", err, sizeof err), JETL_ECONFIG);
}
