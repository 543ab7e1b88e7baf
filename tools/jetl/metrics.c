/* metrics.c - `jetl worker --metrics-listen ADDR`: GET /metrics in the
 * Prometheus text format (version 0.0.4), served by one thread of the worker.
 *
 * Why a hand-written listener and not libmicrohttpd: the endpoint answers
 * one path to a scraper every few seconds, one connection at a time, with a
 * body of a few kilobytes; a poll()ed socket and a request line read under a
 * deadline are some eighty lines, where the library would be one more
 * run-time dependency (and one more attack surface) of every worker.
 *
 * What it reports are the job totals of the worker's tenant and integration
 * (jetl_job_list() + jetl_job_get(), on a context of its own: a context is
 * used by one thread at a time), so every worker of a pool reports the same
 * figures (docs/deploy.md, 'Monitoring'). */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "metrics.h"

/* The most recent jobs summed; older ones leave the sums (docs/cli.md). */
#define METRICS_MAX_JOBS 1000
#define REQUEST_MAX 4096
#define REQUEST_TIMEOUT_S 5

struct metrics {
	jetl_ctx *ctx;             /* the metrics thread's own context */
	int fd;                    /* the listening socket */
	int wake[2];               /* a byte on wake[1] ends the thread */
	pthread_t thread;
	double started;
};

static const double buckets[] = { 1, 5, 15, 60, 300, 900, 3600, 14400 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct sums {
	int64_t v[10];             /* in the order of counter_names */
	int64_t raw_pending, raw_failed;
	int64_t by_status[5];      /* in the order of job_statuses */
	int64_t hist[NBUCKETS];
	int64_t finished;
	double dur_sum, last_success;
};

static const char *const job_statuses[] = { "queued", "running", "finished", "failed", "cancelled" };

/* The job totals' keys, exported as jetl_KEY_total as the service does
 * (bindings/python/jetl/web/metrics.py). */
static const char *const counter_names[][2] = {
	{ "issues", "Issues fetched from Jira" },
	{ "histories", "Change histories fetched" },
	{ "changelog_items", "Changelog rows stored" },
	{ "dev_status", "dev_status rows written" },
	{ "work_items", "work_items rows written" },
	{ "raw_rows", "Raw rows written" },
	{ "requests", "HTTP requests to Jira, retries included" },
	{ "retries", "HTTP requests to Jira retried" },
	{ "rate_limited", "429 answers from Jira" },
	{ "deleted", "Issues found gone from Jira and marked" },
};

static void add_job(struct sums *s, const jetl_job *j)
{
	const int64_t v[10] = { j->issues, j->histories, j->changelog_items, j->dev_status,
		j->work_items, j->raw_rows, j->requests, j->retries, j->rate_limited, j->deleted };

	for (size_t i = 0; i < 10; i++)
		s->v[i] += v[i];
	s->raw_pending += j->raw_pending;
	s->raw_failed += j->raw_failed;
	for (size_t i = 0; i < 5; i++)
		if (strcmp(j->status, job_statuses[i]) == 0)
			s->by_status[i]++;
	if (strcmp(j->status, "finished") != 0 || j->finished_at <= 0)
		return;
	double d = j->finished_at - (j->started_at > 0 ? j->started_at : j->created_at);
	if (d < 0)
		d = 0;
	for (size_t i = 0; i < NBUCKETS; i++)
		if (d <= buckets[i])
			s->hist[i]++;
	s->finished++;
	s->dur_sum += d;
	if (j->finished_at > s->last_success)
		s->last_success = j->finished_at;
}

/* 0, or -1 when the database did not answer (jetl_up 0). */
static int collect(jetl_ctx *ctx, struct sums *s)
{
	int64_t *ids = calloc(METRICS_MAX_JOBS, sizeof(*ids));
	size_t n = 0;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (!ids || jetl_job_list(ctx, ids, METRICS_MAX_JOBS, &n) != JETL_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		jetl_job j = JETL_JOB_INIT;

		if (jetl_job_get(ctx, ids[i], &j) == JETL_OK)
			add_job(s, &j);
	}
	rc = 0;
out:
	free(ids);
	return rc;
}

/* lb: the series' labels, tenant="T",integration="I". */
static void print_sums(FILE *f, const char *lb, const struct sums *s)
{
	for (size_t i = 0; i < 10; i++)
		fprintf(f, "# HELP jetl_%s_total %s.\n# TYPE jetl_%s_total counter\njetl_%s_total{%s} %lld\n", counter_names[i][0],
			counter_names[i][1], counter_names[i][0], counter_names[i][0], lb, (long long)s->v[i]);
	fputs("# HELP jetl_jobs Jobs by status.\n# TYPE jetl_jobs gauge\n", f);
	for (size_t i = 0; i < 5; i++)
		if (s->by_status[i])
			fprintf(f, "jetl_jobs{%s,status=\"%s\"} %lld\n", lb, job_statuses[i], (long long)s->by_status[i]);
	fputs("# HELP jetl_raw_rows_by_status Raw rows by status (pending: waiting or being transformed).\n"
		"# TYPE jetl_raw_rows_by_status gauge\n", f);
	fprintf(f, "jetl_raw_rows_by_status{%s,status=\"completed\"} %lld\n", lb,
		(long long)(s->v[5] - s->raw_pending - s->raw_failed));
	fprintf(f, "jetl_raw_rows_by_status{%s,status=\"failed\"} %lld\n", lb, (long long)s->raw_failed);
	fprintf(f, "jetl_raw_rows_by_status{%s,status=\"pending\"} %lld\n", lb, (long long)s->raw_pending);
	fputs("# HELP jetl_job_duration_seconds Duration of the finished jobs.\n"
		"# TYPE jetl_job_duration_seconds histogram\n", f);
	for (size_t i = 0; i < NBUCKETS; i++)
		fprintf(f, "jetl_job_duration_seconds_bucket{%s,le=\"%g\"} %lld\n", lb, buckets[i], (long long)s->hist[i]);
	fprintf(f, "jetl_job_duration_seconds_bucket{%s,le=\"+Inf\"} %lld\n", lb, (long long)s->finished);
	fprintf(f, "jetl_job_duration_seconds_count{%s} %lld\njetl_job_duration_seconds_sum{%s} %.3f\n",
		lb, (long long)s->finished, lb, s->dur_sum);
	fputs("# HELP jetl_last_success_timestamp_seconds End of the last finished job.\n"
		"# TYPE jetl_last_success_timestamp_seconds gauge\n", f);
	if (s->finished)
		fprintf(f, "jetl_last_success_timestamp_seconds{%s} %.3f\n", lb, s->last_success);
}

/* The body of one scrape; NULL when out of memory. */
static char *render(struct metrics *m, size_t *len)
{
	struct sums s;
	char lb[64], *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int up;

	if (!f)
		return NULL;
	up = collect(m->ctx, &s) == 0;
	snprintf(lb, sizeof(lb), "tenant=\"%d\",integration=\"%d\"", jetl_tenant_id(m->ctx),
		jetl_integration_id(m->ctx));
	fprintf(f, "# HELP jetl_info The worker's library.\n# TYPE jetl_info gauge\n"
		"jetl_info{%s,version=\"%s\"} 1\n", lb, jetl_version());
	fprintf(f, "# HELP jetl_up Whether the database answered this scrape.\n# TYPE jetl_up gauge\n"
		"jetl_up{%s} %d\n", lb, up);
	fprintf(f, "# HELP jetl_worker_start_time_seconds When this worker started.\n"
		"# TYPE jetl_worker_start_time_seconds gauge\njetl_worker_start_time_seconds{%s} %.3f\n", lb, m->started);
	if (up)
		print_sums(f, lb, &s);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Reads the request head (the deadline is SO_RCVTIMEO) and answers it. */
static void serve(struct metrics *m, int fd)
{
	struct timeval tv = { REQUEST_TIMEOUT_S, 0 };
	char req[REQUEST_MAX + 1], head[256];
	size_t got = 0;
	char *body = NULL;
	size_t len = 0;
	const char *status = "404 Not Found";

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (got < REQUEST_MAX) {
		ssize_t r = recv(fd, req + got, REQUEST_MAX - got, 0);

		if (r <= 0)
			return;
		got += (size_t)r;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	if (strncmp(req, "GET /metrics ", 13) == 0 || strncmp(req, "GET /metrics?", 13) == 0) {
		body = render(m, &len);
		status = body ? "200 OK" : "500 Internal Server Error";
	}
	snprintf(head, sizeof(head), "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		"Content-Length: %zu\r\nConnection: close\r\n\r\n", status, len);
	write_all(fd, head, strlen(head));
	if (body)
		write_all(fd, body, len);
	free(body);
}

static void *metrics_thread(void *arg)
{
	struct metrics *m = arg;
	struct pollfd p[2] = { { m->fd, POLLIN, 0 }, { m->wake[0], POLLIN, 0 } };

	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN) {
			int c = accept(m->fd, NULL, NULL);

			if (c >= 0) {
				serve(m, c);
				close(c);
			}
		}
	}
	return NULL;
}

/* HOST:PORT, [V6]:PORT or :PORT (all addresses) into a listening socket. */
static int listen_on(const char *addr, char *err, size_t n)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = { 0 }, *ai = NULL;
	int fd = -1, one = 1, rc;

	if (!colon || !colon[1] || (size_t)(colon - addr) >= sizeof(host)) {
		snprintf(err, n, "--metrics-listen: '%s' is not HOST:PORT", addr);
		return -1;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai)) != 0) {
		snprintf(err, n, "--metrics-listen: %s: %s", addr, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0) {
		snprintf(err, n, "--metrics-listen: %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

struct metrics *metrics_start(const jetl_options *opts, const char *addr, char *err, size_t n)
{
	struct metrics *m = calloc(1, sizeof(*m));
	jetl_options o = *opts;
	struct timespec now;

	if (!m) {
		snprintf(err, n, "--metrics-listen: out of memory");
		return NULL;
	}
	m->wake[0] = m->wake[1] = -1;
	o.queue_url = NULL;        /* it reads jobs only */
	if ((m->fd = listen_on(addr, err, n)) < 0)
		goto fail;
	if (jetl_open_err(&m->ctx, &o, err, n) != JETL_OK || pipe(m->wake) < 0)
		goto fail;
	clock_gettime(CLOCK_REALTIME, &now);
	m->started = (double)now.tv_sec + now.tv_nsec / 1e9;
	if (pthread_create(&m->thread, NULL, metrics_thread, m) != 0) {
		snprintf(err, n, "--metrics-listen: cannot start its thread");
		goto fail;
	}
	return m;
fail:
	if (m->fd >= 0)
		close(m->fd);
	if (m->wake[0] >= 0) {
		close(m->wake[0]);
		close(m->wake[1]);
	}
	jetl_close(m->ctx);
	free(m);
	return NULL;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	/* The pipe is empty and ours: the byte cannot fail to fit. */
	(void)!write(m->wake[1], "x", 1);
	pthread_join(m->thread, NULL);
	close(m->fd);
	close(m->wake[0]);
	close(m->wake[1]);
	jetl_close(m->ctx);
	free(m);
}
