/* test_queue_tls.c - the RabbitMQ backend over amqps://: confirmed publish,
 * consume and ack through the SSL socket, a reconnect after the broker drops
 * the connection (a new SSL socket, checked again), a client certificate,
 * and the refusals of an untrusted CA and of a host name the certificate
 * does not carry.
 *
 * Needs a broker with a TLS listener: JETL_QUEUE_TLS (an amqps URL with
 * ?cacertfile=, as `JETL_SERVICES_TLS=1 scripts/services start` prints it)
 * and JETL_TLS_CLIENT_CERT/KEY. The checkout's default pair has none, so
 * under `meson test` every test skips; tests/e2e/test_tls.py runs this
 * program against a pair of its own and requires every test to pass. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl/common.h"
#include "queue/queue.h"
#include "../support/queue_calls.h"
#include "queue_vhost.h"

static char tls_url[1024];

/* The vhost of this test on the TLS listener: JETL_QUEUE_TLS with its
 * "/%2f?" replaced by "/<vhost>?", plus extra query parameters. */
static const char *url_with(const char *host, const char *extra)
{
	const char *base = getenv("JETL_QUEUE_TLS");
	const char *vh = base ? strstr(base, "/%2f?") : NULL;
	const char *at = base ? strchr(base, '@') : NULL;
	const char *port = at ? strchr(at, ':') : NULL;

	if (!base || !*base)
		cr_skip_test("JETL_QUEUE_TLS is not set (no TLS listener: see tests/e2e/test_tls.py)");
	cr_assert(vh && at && port && port < vh, "JETL_QUEUE_TLS has an unexpected shape: %s", base);
	/* scheme://user:pass@ + host + :port + /vhost?query */
	snprintf(tls_url, sizeof tls_url, "%.*s%s%.*s/%s?%s%s%s", (int)(at + 1 - base), base,
		host ? host : "localhost", (int)(vh - port), port, qv_name, vh + 5, *extra ? "&" : "", extra);
	return tls_url;
}

static void tls_init(void)
{
	if (getenv("JETL_QUEUE_TLS") && *getenv("JETL_QUEUE_TLS"))
		qv_setup();
}

TestSuite(queue_tls, .init = tls_init, .fini = qv_teardown, .timeout = 120);

static void next_ok(jl_queue *q, jl_queue_msg *m, int ms)
{
	int rc = jl_queue_next(q, m, NULL, ms);

	cr_assert_eq(rc, JETL_OK, "next: %d %s", rc, jl_queue_error(q));
}

Test(queue_tls, publish_consume_ack)
{
	jl_queue *p = qt_open(url_with(NULL, "")), *c = qt_open(tls_url);
	jl_queue_msg m;
	char body[64];

	for (int i = 0; i < 3; i++) {
		snprintf(body, sizeof body, "{\"raw_id\": %d}", i);
		qt_pub(p, JL_QUEUE_TRANSFORM, body);
	}
	cr_assert_eq(jl_queue_depth(p, JL_QUEUE_TRANSFORM), 3, "%s", jl_queue_error(p));
	qt_consume1(c, JL_QUEUE_TRANSFORM, 10);
	for (int i = 0; i < 3; i++) {
		next_ok(c, &m, 5000);
		snprintf(body, sizeof body, "{\"raw_id\": %d}", i);
		cr_assert_str_eq(m.body, body);
		cr_assert_eq(jl_queue_ack(c, &m), JETL_OK, "%s", jl_queue_error(c));
		jl_queue_msg_free(&m);
	}
	cr_assert_eq(jl_queue_next(c, &m, NULL, 300), JETL_ETIMEOUT);
	jl_queue_close(c);
	jl_queue_close(p);
}

Test(queue_tls, reconnects_after_the_broker_drops_us)
{
	jl_queue *q = qt_open(url_with(NULL, "")), *p = qt_open(tls_url);
	jl_queue_msg old, m;

	jl_queue_set_reconnect_ms(q, 20000);
	qt_pub(p, JL_QUEUE_TRANSFORM, "first");
	qt_consume1(q, JL_QUEUE_TRANSFORM, 5);
	next_ok(q, &old, 5000);
	qv_kick();
	/* a new SSL socket, verified again, and the unacked message back */
	next_ok(q, &m, 15000);
	cr_assert_str_eq(m.body, "first");
	cr_assert_eq(m.redelivered, 1);
	cr_assert_neq(m.gen, old.gen);
	cr_assert_eq(jl_queue_ack(q, &m), JETL_OK, "%s", jl_queue_error(q));
	jl_queue_msg_free(&old);
	jl_queue_msg_free(&m);
	qt_pub(p, JL_QUEUE_TRANSFORM, "second");
	next_ok(q, &m, 5000);
	cr_assert_str_eq(m.body, "second");
	cr_assert_eq(jl_queue_ack(q, &m), JETL_OK);
	jl_queue_msg_free(&m);
	jl_queue_close(q);
	jl_queue_close(p);
}

Test(queue_tls, client_certificate)
{
	const char *cert = getenv("JETL_TLS_CLIENT_CERT"), *key = getenv("JETL_TLS_CLIENT_KEY");
	char extra[600];
	jl_queue *q;

	url_with(NULL, "");
	cr_assert(cert && key, "JETL_TLS_CLIENT_CERT/KEY are not set");
	snprintf(extra, sizeof extra, "certfile=%s&keyfile=%s", cert, key);
	q = qt_open(url_with(NULL, extra));
	qt_pub(q, JL_QUEUE_TRANSFORM, "with a client certificate");
	cr_assert_eq(jl_queue_depth(q, JL_QUEUE_TRANSFORM), 1);
	jl_queue_close(q);
}

static void refused(const char *url, const char *says)
{
	jl_queue *q = NULL;
	char err[512];
	int rc = jl_queue_open(&q, url, err, sizeof err);

	cr_assert_eq(rc, JETL_EQUEUE, "opened (%d): %s", rc, url);
	cr_assert_null(q);
	cr_assert(strstr(err, says), "'%s' does not say '%s'", err, says);
	cr_assert_null(strchr(err, '\n'), "one line: %s", err);
}

Test(queue_tls, untrusted_ca_and_wrong_host_are_refused)
{
	const char *cert = getenv("JETL_TLS_CLIENT_CERT");
	char extra[600], url[1024];

	url_with(NULL, "");
	cr_assert(cert, "JETL_TLS_CLIENT_CERT is not set");
	/* the URL without its cacertfile, and the client certificate as the
	 * only trust anchor: not the CA that signed the broker's certificate */
	snprintf(url, sizeof url, "%s", url_with(NULL, ""));
	*strchr(url, '?') = '\0';
	snprintf(extra, sizeof extra, "?cacertfile=%s", cert);
	strncat(url, extra, sizeof url - strlen(url) - 1);
	refused(url, "TLS: certificate not trusted");
	/* 127.1 is 127.0.0.1, but neither DNS:localhost nor IP:127.0.0.1 */
	refused(url_with("127.1", ""), "TLS: hostname mismatch");
}
