/* test_queue_amqp.c - the RabbitMQ backend against the private broker
 * (scripts/services): confirms, acks, dead letters, prefetch, redelivery to
 * another consumer after a worker dies, and reconnection. Each test gets
 * its own vhost. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jetl/common.h"
#include "queue/queue.h"
#include "../support/queue_calls.h"
#include "queue_vhost.h"

TestSuite(queue_amqp, .init = qv_setup, .fini = qv_teardown, .timeout = 120);

static void next_ok(jl_queue *q, jl_queue_msg *m, const char **from, int ms)
{
	int rc = jl_queue_next(q, m, from, ms);

	cr_assert_eq(rc, JETL_OK, "next: %d %s", rc, jl_queue_error(q));
}

Test(queue_amqp, publish_confirmed_then_consume_and_ack)
{
	jl_queue *p = qt_open(qv_url), *c = qt_open(qv_url);
	jl_queue_msg m;
	const char *from;
	char body[64];

	for (int i = 0; i < 3; i++) {
		snprintf(body, sizeof body, "{\"raw_id\": %d}", i);
		qt_pub(p, JL_QUEUE_TRANSFORM, body);
	}
	/* confirmed = stored: the depth shows all of them at once */
	cr_assert_eq(jl_queue_depth(p, JL_QUEUE_TRANSFORM), 3);
	qt_consume1(c, JL_QUEUE_TRANSFORM, 10);
	for (int i = 0; i < 3; i++) {
		next_ok(c, &m, &from, 5000);
		snprintf(body, sizeof body, "{\"raw_id\": %d}", i);
		cr_assert_str_eq(m.body, body);
		cr_assert_eq(m.len, strlen(body));
		cr_assert_str_eq(from, JL_QUEUE_TRANSFORM);
		cr_assert_eq(m.redelivered, 0);
		cr_assert_eq(jl_queue_ack(c, &m), JETL_OK, "%s", jl_queue_error(c));
		cr_assert_eq(jl_queue_ack(c, &m), JETL_ESTATE, "a second ack is refused locally");
		jl_queue_msg_free(&m);
	}
	cr_assert_eq(jl_queue_next(c, &m, NULL, 300), JETL_ETIMEOUT);
	jl_queue_close(c);
	/* acked means gone: a new consumer gets nothing */
	c = qt_open(qv_url);
	qt_consume1(c, JL_QUEUE_TRANSFORM, 10);
	cr_assert_eq(jl_queue_next(c, &m, NULL, 500), JETL_ETIMEOUT);
	cr_assert_eq(jl_queue_depth(c, JL_QUEUE_TRANSFORM), 0);
	jl_queue_close(c);
	jl_queue_close(p);
}

Test(queue_amqp, reject_lands_in_dead_letter_queue)
{
	jl_queue *q = qt_open(qv_url), *d = qt_open(qv_url);
	jl_queue_msg m;
	const char *from;

	qt_pub(q, JL_QUEUE_TRANSFORM, "{\"raw_id\": 13}");
	qt_consume1(q, JL_QUEUE_TRANSFORM, 1);
	next_ok(q, &m, NULL, 5000);
	cr_assert_eq(jl_queue_reject(q, &m, 0), JETL_OK);
	jl_queue_msg_free(&m);
	qt_consume1(d, JL_QUEUE_TRANSFORM ".dead", 1);
	next_ok(d, &m, &from, 5000);
	cr_assert_str_eq(m.body, "{\"raw_id\": 13}");
	cr_assert_str_eq(from, "jetl.transform.dead");
	cr_assert_eq(jl_queue_ack(d, &m), JETL_OK);
	jl_queue_msg_free(&m);
	cr_assert_eq(jl_queue_depth(q, JL_QUEUE_TRANSFORM), 0);
	cr_assert_eq(jl_queue_depth(q, JL_QUEUE_TRANSFORM ".dead"), 0);
	jl_queue_close(q);
	jl_queue_close(d);
}

Test(queue_amqp, requeue_comes_back_redelivered)
{
	jl_queue *q = qt_open(qv_url);
	jl_queue_msg m;

	qt_pub(q, JL_QUEUE_EXTRACT, "{\"project_key\": \"ABC\"}");
	qt_consume1(q, JL_QUEUE_EXTRACT, 1);
	next_ok(q, &m, NULL, 5000);
	cr_assert_eq(m.redelivered, 0);
	cr_assert_eq(jl_queue_reject(q, &m, 1), JETL_OK);
	jl_queue_msg_free(&m);
	next_ok(q, &m, NULL, 5000);
	cr_assert_str_eq(m.body, "{\"project_key\": \"ABC\"}");
	cr_assert_eq(m.redelivered, 1);
	cr_assert_eq(jl_queue_ack(q, &m), JETL_OK);
	jl_queue_msg_free(&m);
	jl_queue_close(q);
}

Test(queue_amqp, killed_worker_message_goes_to_another_consumer)
{
	jl_queue *q = qt_open(qv_url), *c;
	jl_queue_msg m;
	pid_t pid;
	int st;

	qt_pub(q, JL_QUEUE_TRANSFORM, "{\"raw_id\": 99}");
	jl_queue_close(q);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		/* the worker: takes the message, then dies before its commit */
		jl_queue *w = NULL;
		const char *qs[] = { JL_QUEUE_TRANSFORM };
		jl_queue_msg wm;

		if (jl_queue_open(&w, qv_url, NULL, 0) || jl_queue_consume(w, qs, 1, 1) ||
		    jl_queue_next(w, &wm, NULL, 5000) || strcmp(wm.body, "{\"raw_id\": 99}"))
			_exit(1);
		_exit(9);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 9, "the worker did not get the message");
	c = qt_open(qv_url);
	qt_consume1(c, JL_QUEUE_TRANSFORM, 1);
	next_ok(c, &m, NULL, 10000);
	cr_assert_str_eq(m.body, "{\"raw_id\": 99}");
	cr_assert_eq(m.redelivered, 1);
	cr_assert_eq(jl_queue_ack(c, &m), JETL_OK);
	jl_queue_msg_free(&m);
	jl_queue_close(c);
}

Test(queue_amqp, prefetch_is_respected)
{
	jl_queue *q = qt_open(qv_url);
	jl_queue_msg a, b, c;

	for (int i = 0; i < 5; i++)
		qt_pub(q, JL_QUEUE_TRANSFORM, "{}");
	qt_consume1(q, JL_QUEUE_TRANSFORM, 2);
	next_ok(q, &a, NULL, 5000);
	next_ok(q, &b, NULL, 5000);
	cr_assert_eq(jl_queue_next(q, &c, NULL, 500), JETL_ETIMEOUT, "prefetch 2: no third");
	cr_assert_eq(jl_queue_depth(q, JL_QUEUE_TRANSFORM), 3);
	cr_assert_eq(jl_queue_ack(q, &a), JETL_OK);
	next_ok(q, &c, NULL, 5000);
	cr_assert_eq(jl_queue_ack(q, &b), JETL_OK);
	cr_assert_eq(jl_queue_ack(q, &c), JETL_OK);
	jl_queue_msg_free(&a);
	jl_queue_msg_free(&b);
	jl_queue_msg_free(&c);
	jl_queue_close(q);
}

Test(queue_amqp, publish_while_consuming_keeps_deliveries)
{
	/* a worker that publishes (extract → transform) on its consuming
	 * handle: deliveries that arrive while it waits for a confirm must not
	 * be lost */
	jl_queue *q = qt_open(qv_url);
	const char *qs[] = { JL_QUEUE_EXTRACT, JL_QUEUE_TRANSFORM };
	jl_queue_msg m;
	const char *from;
	int got_t = 0, got_e = 0;

	cr_assert_eq(jl_queue_consume(q, qs, 2, 50), JETL_OK, "%s", jl_queue_error(q));
	for (int i = 0; i < 20; i++)
		qt_pub(q, JL_QUEUE_TRANSFORM, "t");
	qt_pub(q, JL_QUEUE_EXTRACT, "e");
	for (int i = 0; i < 21; i++) {
		next_ok(q, &m, &from, 5000);
		if (!strcmp(from, JL_QUEUE_TRANSFORM) && !strcmp(m.body, "t"))
			got_t++;
		if (!strcmp(from, JL_QUEUE_EXTRACT) && !strcmp(m.body, "e"))
			got_e++;
		cr_assert_eq(jl_queue_ack(q, &m), JETL_OK, "%s", jl_queue_error(q));
		jl_queue_msg_free(&m);
	}
	cr_assert_eq(got_t, 20);
	cr_assert_eq(got_e, 1);
	cr_assert_eq(jl_queue_next(q, &m, NULL, 300), JETL_ETIMEOUT);
	jl_queue_close(q);
}

Test(queue_amqp, missing_queue_is_an_error_not_a_silent_drop)
{
	jl_queue *q = qt_open(qv_url);
	jl_queue_msg m;

	qt_consume1(q, JL_QUEUE_TRANSFORM, 1);
	cr_assert_eq(jl_queue_publish(q, "jetl.nope", "{}", 2), JETL_ENOENT, "%s", jl_queue_error(q));
	cr_assert_eq(jl_queue_depth(q, "jetl.nope"), -1);
	cr_assert(strstr(jl_queue_error(q), "jetl.nope"), "%s", jl_queue_error(q));
	/* neither failure broke the consumer */
	qt_pub(q, JL_QUEUE_TRANSFORM, "still here");
	next_ok(q, &m, NULL, 5000);
	cr_assert_str_eq(m.body, "still here");
	cr_assert_eq(jl_queue_ack(q, &m), JETL_OK);
	jl_queue_msg_free(&m);
	cr_assert_eq(jl_queue_declare(q, "jetl.extra"), JETL_OK, "%s", jl_queue_error(q));
	qt_pub(q, "jetl.extra", "x");
	cr_assert_eq(jl_queue_depth(q, "jetl.extra"), 1);
	cr_assert_eq(jl_queue_depth(q, "jetl.extra.dead"), 0);
	jl_queue_close(q);
}

Test(queue_amqp, declarations_are_idempotent)
{
	jl_queue *a = qt_open(qv_url), *b = qt_open(qv_url);

	qt_pub(a, JL_QUEUE_TRANSFORM, "{}");
	jl_queue_close(a);
	a = qt_open(qv_url);   /* declares again: same arguments, message kept */
	cr_assert_eq(jl_queue_depth(a, JL_QUEUE_TRANSFORM), 1);
	jl_queue_close(a);
	jl_queue_close(b);
}

Test(queue_amqp, bad_login_names_the_broker_not_the_password)
{
	char url[300], err[512];
	jl_queue *q = NULL;
	const char *at = strchr(qv_url, '@');

	cr_assert_not_null(at);
	snprintf(url, sizeof url, "amqp://jetl:Wr0ngSecret%s", at);
	cr_assert_eq(jl_queue_open(&q, url, err, sizeof err), JETL_EQUEUE);
	cr_assert_null(q);
	cr_assert_null(strstr(err, "Wr0ngSecret"), "%s", err);
	cr_assert(strstr(err, qv_name), "%s", err);
}

Test(queue_amqp, reconnects_after_the_broker_drops_us)
{
	jl_queue *q = qt_open(qv_url), *p = qt_open(qv_url);
	jl_queue_msg old, m;
	int rc;

	jl_queue_set_reconnect_ms(q, 20000);
	qt_pub(p, JL_QUEUE_TRANSFORM, "first");
	qt_consume1(q, JL_QUEUE_TRANSFORM, 5);
	next_ok(q, &old, NULL, 5000);
	qv_kick();   /* connection.close 320 to every client of the vhost */
	/* the consumer notices, reconnects, consumes again; the unacked message
	 * comes back redelivered with a new generation */
	next_ok(q, &m, NULL, 15000);
	cr_assert_str_eq(m.body, "first");
	cr_assert_eq(m.redelivered, 1);
	cr_assert_neq(m.gen, old.gen);
	rc = jl_queue_ack(q, &old);
	cr_assert_eq(rc, JETL_ESTATE, "the tag of the old connection is void (%d)", rc);
	cr_assert_eq(jl_queue_ack(q, &m), JETL_OK, "%s", jl_queue_error(q));
	jl_queue_msg_free(&old);
	jl_queue_msg_free(&m);
	/* the publisher's connection was closed too: publish reconnects */
	qt_pub(p, JL_QUEUE_TRANSFORM, "second");
	next_ok(q, &m, NULL, 5000);
	cr_assert_str_eq(m.body, "second");
	cr_assert_eq(jl_queue_ack(q, &m), JETL_OK);
	jl_queue_msg_free(&m);
	jl_queue_close(q);
	jl_queue_close(p);
}
