/* queue_vhost.h - a private RabbitMQ vhost per test, through
 * `scripts/services vhost`, so that queue tests of several people on the
 * same broker never see each other's messages. Header-only: shared by the
 * queue integration tests. JETL_SERVICES_SCRIPT may name another copy of
 * scripts/services (e.g. one running a broker the restart test may stop). */
#ifndef JETL_TEST_QUEUE_VHOST_H
#define JETL_TEST_QUEUE_VHOST_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char qv_name[64];
static char qv_url[256];

static inline const char *qv_script(void)
{
	static char path[1024];
	const char *s = getenv("JETL_SERVICES_SCRIPT");
	const char *root = getenv("JETL_SOURCE_ROOT");

	if (s && *s)
		return s;
	snprintf(path, sizeof path, "%s/scripts/services", root && *root ? root : ".");
	return path;
}

/* Run `scripts/services vhost <flag> <name>`; first output line into out. */
static inline int qv_run(const char *flag, const char *name, char *out, size_t n)
{
	char cmd[1400];
	FILE *p;
	int rc;

	snprintf(cmd, sizeof cmd, "'%s' vhost %s %s", qv_script(), flag, name);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (out && n) {
		out[0] = '\0';
		if (fgets(out, (int)n, p))
			out[strcspn(out, "\r\n")] = '\0';
	}
	while (fgetc(p) != EOF)
		;
	rc = pclose(p);
	return rc;
}

/* .init of every queue test: a new vhost, its URL in qv_url. */
static inline void qv_setup(void)
{
	const char *base = getenv("JETL_QUEUE");

	cr_assert(base && *base, "JETL_QUEUE is not set: eval \"$(scripts/services start)\" first");
	snprintf(qv_name, sizeof qv_name, "jetlq-%ld-%ld", (long)getpid(), (long)time(NULL));
	cr_assert_eq(qv_run("", qv_name, qv_url, sizeof qv_url), 0, "scripts/services vhost %s failed", qv_name);
	cr_assert(!strncmp(qv_url, "amqp://", 7), "unexpected output: %s", qv_url);
}

static inline void qv_teardown(void)
{
	if (qv_name[0])
		qv_run("-d", qv_name, NULL, 0);
}

/* What a broker restart does to our clients, for this vhost only. */
static inline void qv_kick(void)
{
	cr_assert_eq(qv_run("-k", qv_name, NULL, 0), 0, "closing the vhost's connections failed");
}

#endif
