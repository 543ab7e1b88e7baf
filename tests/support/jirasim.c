/* jirasim.c - spawn and stop the Jira simulator for tests. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jetl.h"
#include "jirasim.h"

static const char *src_root(void)
{
	const char *r = getenv("JETL_SOURCE_ROOT");

	if (!r || !*r)
		cr_assert_fail("JETL_SOURCE_ROOT is not set (run through meson test)");
	return r;
}

static int run_wait(char *const argv[], const char *log)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *jirasim_gen(const char *projects, const char *flavor, const char *const *extra)
{
	char tmpl[] = "/tmp/jetl-sim-data-XXXXXX", gen[512], log[600];
	char *argv[40];
	int n = 0;

	if (!mkdtemp(tmpl))
		cr_assert_fail("mkdtemp: %s", strerror(errno));
	snprintf(gen, sizeof(gen), "%s/sim/gen.py", src_root());
	snprintf(log, sizeof(log), "%s/gen.log", tmpl);
	argv[n++] = "/usr/bin/python3";
	argv[n++] = gen;
	argv[n++] = "--out";
	argv[n++] = tmpl;
	argv[n++] = "--projects";
	argv[n++] = (char *)projects;
	argv[n++] = "--flavor";
	argv[n++] = (char *)flavor;
	for (; extra && *extra && n < 38; extra++)
		argv[n++] = (char *)*extra;
	argv[n] = NULL;
	cr_assert_eq(run_wait(argv, log), 0, "sim/gen.py failed (see %s)", log);
	return strdup(tmpl);
}

void jirasim_start(jirasim *s, const char *data, const char *flavor, const char *const *extra)
{
	char tmpl[] = "/tmp/jetl-sim-run-XXXXXX", prog[512], pf[300], log[300];
	char *argv[60];
	int n = 0;

	memset(s, 0, sizeof(*s));
	if (!mkdtemp(tmpl))
		cr_assert_fail("mkdtemp: %s", strerror(errno));
	snprintf(s->dir, sizeof(s->dir), "%s", tmpl);
	snprintf(prog, sizeof(prog), "%s/sim/jirasim.py", src_root());
	snprintf(pf, sizeof(pf), "%s/port", tmpl);
	snprintf(log, sizeof(log), "%s/sim.log", tmpl);
	argv[n++] = "/usr/bin/python3";
	argv[n++] = prog;
	argv[n++] = "--data";
	argv[n++] = (char *)data;
	argv[n++] = "--port";
	argv[n++] = "0";
	argv[n++] = "--port-file";
	argv[n++] = pf;
	argv[n++] = "--flavor";
	argv[n++] = (char *)flavor;
	argv[n++] = "--quiet";
	for (; extra && *extra && n < 58; extra++)
		argv[n++] = (char *)*extra;
	argv[n] = NULL;
	s->pid = fork();
	if (s->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	cr_assert_gt(s->pid, 0, "fork failed");
	for (int i = 0; i < 600; i++) {
		FILE *f = fopen(pf, "r");

		if (f) {
			int ok = fscanf(f, "%d", &s->port) == 1;

			fclose(f);
			if (ok && s->port > 0)
				break;
		}
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
			s->pid = 0;
			cr_assert_fail("the simulator exited early (see %s)", log);
		}
		usleep(50000);
	}
	cr_assert_gt(s->port, 0, "the simulator did not start within 30 s (see %s)", log);
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
}

void jirasim_stop(jirasim *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		for (int i = 0; i < 100; i++) {
			if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
				s->pid = 0;
				break;
			}
			usleep(50000);
		}
		if (s->pid > 0) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, NULL, 0);
		}
		s->pid = 0;
	}
	if (s->dir[0]) {
		jirasim_rmdir(s->dir);
		s->dir[0] = '\0';
	}
}

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
	char **buf = ud;
	size_t old = *buf ? strlen(*buf) : 0;
	char *q = realloc(*buf, old + sz * n + 1);

	if (!q)
		return 0;
	memcpy(q + old, p, sz * n);
	q[old + sz * n] = '\0';
	*buf = q;
	return sz * n;
}

char *jirasim_http(const jirasim *s, const char *path, const char *body)
{
	CURL *c = curl_easy_init();
	char url[512], *out = NULL;
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	CURLcode rc;

	snprintf(url, sizeof(url), "%s%s", s->url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	rc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		free(out);
		return NULL;
	}
	return out;
}

void jirasim_rmdir(const char *dir)
{
	char *argv[] = { "/bin/rm", "-rf", (char *)dir, NULL };

	if (dir && !strncmp(dir, "/tmp/jetl-sim-", 14))
		run_wait(argv, NULL);
}

void jirasim_up(jirasim *s, char **data, const char *projects, const char *flavor,
		const char *const *gen_args, const char *const *sim_args)
{
	setenv("JETL_JIRA_BACKOFF_MS", "20", 1);
	jetl_global_init();
	*data = jirasim_gen(projects, flavor, gen_args);
	jirasim_start(s, *data, flavor, sim_args);
}

void jirasim_down(jirasim *s, char **data)
{
	jirasim_stop(s);
	if (*data)
		jirasim_rmdir(*data);
	free(*data);
	*data = NULL;
}
