/* test_queue_amqp_restart.c - a real broker restart under a consumer.
 *
 * Stops and starts the RabbitMQ node, which cuts every other user of that
 * node too, so under `meson test` it runs only when JETL_TEST_RESTART_BROKER=1.
 * scripts/test runs it by default in the fault suite (tests/faults), against
 * the private pair that suite starts for itself (JETL_SERVICES_DIR and ports
 * of its own), so no other suite's broker is restarted. The vhost-scoped
 * variant (connections closed by the broker) runs always in test_queue_amqp.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl/common.h"
#include "core/util.h"
#include "queue/queue.h"
#include "queue_vhost.h"

static void restart_broker(void)
{
	char cmd[2200];

	snprintf(cmd, sizeof cmd, "'%s' stop rabbit >&2 && '%s' start rabbit >/dev/null", qv_script(), qv_script());
	cr_assert_eq(system(cmd), 0, "restarting the broker failed: %s", cmd);
}

/* No .init: a skipped test does not run its .fini, so the vhost is made
 * only once we know the test runs. */
Test(queue_amqp_restart, consumer_survives_a_broker_restart, .fini = qv_teardown, .timeout = 300)
{
	const char *flag = getenv("JETL_TEST_RESTART_BROKER");
	const char *qs[] = { JL_QUEUE_TRANSFORM };
	jl_queue *q = NULL, *p = NULL;
	jl_queue_msg old, m;
	char err[512], body[16];
	int seen[3] = { 0 }, n = 0, rc;
	double t0;

	if (!flag || strcmp(flag, "1"))
		cr_skip_test("set JETL_TEST_RESTART_BROKER=1 to restart the broker (cuts its other users)");
	qv_setup();
	cr_assert_eq(jl_queue_open(&p, qv_url, err, sizeof err), JETL_OK, "%s", err);
	cr_assert_eq(jl_queue_open(&q, qv_url, err, sizeof err), JETL_OK, "%s", err);
	jl_queue_set_reconnect_ms(q, 120000);
	jl_queue_set_reconnect_ms(p, 120000);
	for (int i = 0; i < 3; i++) {
		snprintf(body, sizeof body, "m%d", i);
		cr_assert_eq(jl_queue_publish(p, JL_QUEUE_TRANSFORM, body, strlen(body)), JETL_OK, "%s",
			jl_queue_error(p));
	}
	cr_assert_eq(jl_queue_consume(q, qs, 1, 1), JETL_OK, "%s", jl_queue_error(q));
	cr_assert_eq(jl_queue_next(q, &old, NULL, 5000), JETL_OK, "%s", jl_queue_error(q));
	cr_assert_str_eq(old.body, "m0");

	restart_broker();

	/* durable queues + persistent messages: all three are still there */
	t0 = jl_now();
	while (n < 3 && jl_now() - t0 < 120) {
		rc = jl_queue_next(q, &m, NULL, 2000);
		if (rc == JETL_ETIMEOUT)
			continue;
		cr_assert_eq(rc, JETL_OK, "%s", jl_queue_error(q));
		cr_assert(m.body[0] == 'm' && m.body[1] >= '0' && m.body[1] <= '2', "%s", m.body);
		if (!strcmp(m.body, "m0"))
			cr_assert_eq(m.redelivered, 1, "m0 was delivered before the restart");
		seen[m.body[1] - '0']++;
		n++;
		cr_assert_eq(jl_queue_ack(q, &m), JETL_OK, "%s", jl_queue_error(q));
		jl_queue_msg_free(&m);
	}
	cr_assert_eq(n, 3, "got %d of 3 after the restart", n);
	cr_assert(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
	cr_assert_eq(jl_queue_ack(q, &old), JETL_ESTATE, "a tag from before the restart is void");
	jl_queue_msg_free(&old);
	/* the publisher reconnects by itself */
	cr_assert_eq(jl_queue_publish(p, JL_QUEUE_TRANSFORM, "after", 5), JETL_OK, "%s", jl_queue_error(p));
	cr_assert_eq(jl_queue_next(q, &m, NULL, 5000), JETL_OK, "%s", jl_queue_error(q));
	cr_assert_str_eq(m.body, "after");
	cr_assert_eq(jl_queue_ack(q, &m), JETL_OK);
	jl_queue_msg_free(&m);
	jl_queue_close(q);
	jl_queue_close(p);
}
