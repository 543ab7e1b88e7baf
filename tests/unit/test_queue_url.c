/* test_queue_url.c - amqp[s] URLs (src/queue/url.c): the TLS parameters of
 * RabbitMQ's URI spec in the query, the refusals that keep a misspelt or
 * misplaced security option from being ignored, and no password in any
 * message. No server: the TLS connections themselves are in
 * tests/e2e/test_tls.py. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jetl/common.h"
#include "queue/queue.h"
#include "queue/queue_int.h"

#define SECRET "s3cr%2Ft"

static jl_queue_url u;
static char err[512];

static int parse(const char *url)
{
	err[0] = '\0';
	return jl_queue_url_parse(&u, url, err, sizeof err);
}

static void fini(void)
{
	jl_queue_url_free(&u);
}

TestSuite(queue_url, .fini = fini);

Test(queue_url, plain_amqp_has_no_tls)
{
	cr_assert_eq(parse("amqp://jetl:" SECRET "@broker:5999/v1"), JETL_OK, "%s", err);
	cr_assert_eq(u.tls, 0);
	cr_assert_str_eq(u.host, "broker");
	cr_assert_eq(u.port, 5999);
	cr_assert_str_eq(u.vhost, "v1");
	cr_assert_str_eq(u.pass, "s3cr/t");
	cr_assert_null(u.cacert);
	cr_assert_str_eq(u.where, "broker:5999/v1");
}

Test(queue_url, amqps_defaults_to_5671_and_verifies)
{
	cr_assert_eq(parse("amqps://jetl:" SECRET "@mq.example.com/%2f"), JETL_OK, "%s", err);
	cr_assert_eq(u.tls, 1);
	cr_assert_eq(u.port, 5671);
	cr_assert_eq(u.verify, 1, "verification is on unless the URL turns it off");
	cr_assert_null(u.cacert, "no cacertfile: the system's CA certificates");
	cr_assert_null(u.cert);
	cr_assert_str_eq(u.vhost, "/");
}

Test(queue_url, tls_parameters_are_decoded)
{
	cr_assert_eq(parse("amqps://u:p@h:5671/vh?cacertfile=/etc/jetl/ca%20file.pem"
		"&certfile=/etc/jetl/client.pem;keyfile=/etc/jetl/client.key&verify=verify_peer"), JETL_OK, "%s", err);
	cr_assert_str_eq(u.cacert, "/etc/jetl/ca file.pem");
	cr_assert_str_eq(u.cert, "/etc/jetl/client.pem");
	cr_assert_str_eq(u.key, "/etc/jetl/client.key");
	cr_assert_eq(u.verify, 1);
	cr_assert_str_eq(u.vhost, "vh", "the query is not part of the vhost");
	cr_assert_eq(u.port, 5671);
}

Test(queue_url, query_after_the_host_alone)
{
	cr_assert_eq(parse("amqps://u:p@h?verify=verify_none"), JETL_OK, "%s", err);
	cr_assert_eq(u.verify, 0);
	cr_assert_str_eq(u.host, "h");
	cr_assert_str_eq(u.vhost, "/");
}

Test(queue_url, certfile_alone_holds_the_key_too)
{
	cr_assert_eq(parse("amqps://u:p@h/%2f?certfile=/k/both.pem"), JETL_OK, "%s", err);
	cr_assert_str_eq(u.cert, "/k/both.pem");
	cr_assert_null(u.key, "amqp.c then reads the key from the certfile");
}

/* Each refusal: JETL_ECONFIG, a message that says what to fix, and never
 * the password. */
static void refused(const char *url, const char *says)
{
	cr_assert_eq(parse(url), JETL_ECONFIG, "accepted: %s", url);
	cr_assert(strstr(err, says), "'%s' does not say '%s'", err, says);
	cr_assert_null(strstr(err, "s3cr"), "password in '%s'", err);
	cr_assert_null(u.buf, "nothing kept after a refusal");
}

Test(queue_url, refusals)
{
	refused("amqps://u:" SECRET "@h/%2f?cacert=/x.pem", "unknown URL parameter cacert");
	refused("amqps://u:" SECRET "@h/%2f?verify=yes", "verify_peer or verify_none");
	refused("amqp://u:" SECRET "@h/%2f?cacertfile=/x.pem", "need an amqps:// URL");
	refused("amqps://u:" SECRET "@h/%2f?keyfile=/k.pem", "keyfile without certfile");
	refused("amqps://u:" SECRET "@h/%2f?cacertfile=", "empty value");
	refused("amqps://u:" SECRET "@h/%2f?cacertfile=%zz", "bad %-escape");
	refused("amqps://u:" SECRET "@h/%2f?cacertfile", "expected name=value");
	refused("https://u:" SECRET "@h/", "bad URL");
}

Test(queue_url, passwordfile_keeps_the_password_out_of_the_url)
{
	char path[] = "/tmp/jetl-test-pw-XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "from-file\nsecond line\n", 22), 22);
	close(fd);
	char url[256];

	snprintf(url, sizeof url, "amqp://jetl@h/%%2f?passwordfile=%s", path);
	cr_assert_eq(parse(url), JETL_OK, "%s", err);
	cr_assert_str_eq(u.user, "jetl");
	cr_assert_str_eq(u.pass, "from-file", "the first line, without its end");
	jl_queue_url_free(&u);
	snprintf(url, sizeof url, "%s%s", "amqps://jetl:" SECRET "@h/%2f?passwordfile=", path);
	refused(url, "a password in the URL and a passwordfile");
	unlink(path);
	refused("amqp://jetl@h/%2f?passwordfile=/nonexistent/pw", "cannot read the password file (passwordfile) /nonexistent/pw");
}

Test(queue_url, redact_keeps_the_query)
{
	char out[256];

	jl_queue_url_redact(out, sizeof out, "amqps://jetl:" SECRET "@h:5671/%2f?cacertfile=/ca.pem");
	cr_assert_str_eq(out, "amqps://jetl:***@h:5671/%2f?cacertfile=/ca.pem");
}
