/* log.c - the command's log lines: a UTC timestamp and a level on each, as
 * text or one JSON object per line; repeated warnings counted and summed up;
 * an error said once.
 *
 * Why here and not in the library's logger (src/core/ctx.c): the library
 * hands each message to the application's callback and keeps no state
 * between messages, which is what an embedding program wants (it may send
 * them to syslog, journald or its own logger and count them there). How many
 * repeats are worth showing and when to print the tally ("at the end") are
 * decisions of the program that owns the terminal, so they are made here,
 * where every message of every context and thread of the command arrives. */
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "cli.h"

#define SHOWN_PER_KIND 5
#define MAX_KINDS 256
#define MAX_ERRORS 16

struct kind {
	char key[200];         /* the message with its numbers and quoted values blanked */
	char first[300];       /* the first message of the kind, shown in the tally */
	int level;
	long long count;
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_json;
static int log_level = JETL_LOG_WARNING;
static struct kind kinds[MAX_KINDS];
static int nkinds;
static char errors[MAX_ERRORS][300];  /* errors already printed, to say each once */
static int nerrors;
static double last_tally;             /* when the counted warnings were last told */

/* A worker runs for weeks: what it counted is told every so often, not
 * only when it stops. JETL_LOG_TALLY_SECONDS changes the period (tests). */
static double tally_period(void)
{
	static double period;
	const char *e;

	if (period <= 0) {
		e = getenv("JETL_LOG_TALLY_SECONDS");
		period = e && atof(e) > 0 ? atof(e) : 600;
	}
	return period;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void tally_locked(void);

void cli_log_setup(int json, int level)
{
	log_json = json;
	log_level = level;
}

static void now_iso(char *out, size_t n)
{
	struct timeval tv;
	struct tm tm;
	char s[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, n, "%.20s.%03dZ", s, (int)(tv.tv_usec / 1000) % 1000);
}

static const char *level_name(int level)
{
	return level <= JETL_LOG_ERROR ? "error" : level == JETL_LOG_WARNING ? "warning" :
		level == JETL_LOG_INFO ? "info" : "debug";
}

/* Print one line; the caller holds log_lock. repeated > 0 marks a tally. */
static void emit(int level, const char *message, long long repeated)
{
	char ts[64], line[1400];

	now_iso(ts, sizeof(ts));
	if (log_json) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "time", ts, "level", level_name(level), "message", message);
		char *s;

		if (!o)
			return;
		if (repeated > 0)
			json_object_set_new(o, "repeated", json_integer(repeated));
		s = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		if (!s)
			return;
		snprintf(line, sizeof(line), "%s\n", s);
		free(s);
	} else {
		snprintf(line, sizeof(line), "%s %s: %s\n", ts, level_name(level), message);
	}
	cli_log_line(line);
}

/* "transform: issue ABC-123 (10023): '\u0000' stripped" and the same of
 * ABC-124 are one kind: digits and quoted values are blanked. */
static void kind_key(const char *m, char *out, size_t n)
{
	size_t o = 0;

	for (const char *p = m; *p && o + 2 < n; p++) {
		if (*p >= '0' && *p <= '9') {
			while (p[1] >= '0' && p[1] <= '9')
				p++;
			out[o++] = '#';
		} else if (*p == '\'' || *p == '"') {
			const char *end = strchr(p + 1, *p);
			out[o++] = '?';
			if (end)
				p = end;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

/* 2345 -> "2,345" */
static void grouped(long long v, char *out, size_t n)
{
	char digits[32];
	size_t len, o = 0;

	snprintf(digits, sizeof(digits), "%lld", v);
	len = strlen(digits);
	for (size_t i = 0; i < len && o + 2 < n; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

static int error_seen(const char *message)
{
	for (int i = 0; i < nerrors; i++)
		if (strncmp(errors[i], message, sizeof(errors[i]) - 1) == 0)
			return 1;
	return 0;
}

static void error_remember(const char *message)
{
	snprintf(errors[nerrors % MAX_ERRORS], sizeof(errors[0]), "%s", message);
	nerrors++;
	if (nerrors >= 2 * MAX_ERRORS)
		nerrors = MAX_ERRORS;
}

/* --progress auto off a terminal (bar.c): an info line whatever the level,
 * since it is the progress the user asked for, not a log message; as JSON
 * under --log-format json like every other line on stderr. */
void cli_log_progress(const char *message)
{
	pthread_mutex_lock(&log_lock);
	emit(JETL_LOG_INFO, message, 0);
	pthread_mutex_unlock(&log_lock);
}

/* After Ctrl-C (or SIGTERM) the library logs the cancellation as an error
 * of each layer it stops ("ABC: cancelled"); the command says it once, as
 * "jetl: extract: cancelled" (cli_fail), so those lines are not shown. */
static int cancel_said_later(int level, const char *message)
{
	size_t n = strlen(message);

	return level <= JETL_LOG_ERROR && cli_interrupted && n >= 9 && strcmp(message + n - 9, "cancelled") == 0;
}

void cli_log(int level, const char *message)
{
	if (level > log_level || cancel_said_later(level, message))
		return;
	pthread_mutex_lock(&log_lock);
	if (level <= JETL_LOG_ERROR) {
		/* A failure is recorded by each layer it passes through (the Jira
		 * client, then the pipeline), and each logs it: say it once. */
		if (!error_seen(message)) {
			error_remember(message);
			emit(level, message, 0);
		}
	} else if (level == JETL_LOG_WARNING) {
		char key[200];
		int k;

		kind_key(message, key, sizeof(key));
		for (k = 0; k < nkinds && strcmp(kinds[k].key, key) != 0; k++)
			;
		if (k == nkinds && nkinds < MAX_KINDS) {
			snprintf(kinds[k].key, sizeof(kinds[k].key), "%s", key);
			snprintf(kinds[k].first, sizeof(kinds[k].first), "%s", message);
			kinds[k].level = level;
			nkinds++;
		}
		if (last_tally <= 0)
			last_tally = now_seconds();
		if (k < MAX_KINDS && ++kinds[k].count > SHOWN_PER_KIND) {
			/* Counted; the tally (at the end, or after a period) says how many. */
			if (now_seconds() - last_tally >= tally_period())
				tally_locked();
		} else {
			emit(level, message, 0);
		}
	} else {
		emit(level, message, 0);
	}
	pthread_mutex_unlock(&log_lock);
}

void cli_logf(int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_log(level, msg);
}

void cli_log_cb(int level, const char *message, void *userdata)
{
	(void)userdata;
	cli_log(level, message);
}

/* Tell each kind counted past its first five since the last tally; the
 * caller holds log_lock. */
static void tally_locked(void)
{
	last_tally = now_seconds();
	for (int k = 0; k < nkinds; k++) {
		if (kinds[k].count > SHOWN_PER_KIND) {
			char n[40], msg[600];
			grouped(kinds[k].count - SHOWN_PER_KIND, n, sizeof(n));
			snprintf(msg, sizeof(msg), "… and %s more like this: %s", n, kinds[k].first);
			emit(kinds[k].level, msg, kinds[k].count - SHOWN_PER_KIND);
			kinds[k].count = SHOWN_PER_KIND;
		}
	}
}

void cli_log_summary(void)
{
	pthread_mutex_lock(&log_lock);
	tally_locked();
	pthread_mutex_unlock(&log_lock);
}

int cli_error_said(const char *message)
{
	int seen;

	pthread_mutex_lock(&log_lock);
	seen = error_seen(message) || (nerrors > 0 && !*message);
	pthread_mutex_unlock(&log_lock);
	return seen;
}

int cli_errors_logged(void)
{
	int n;

	pthread_mutex_lock(&log_lock);
	n = nerrors;
	pthread_mutex_unlock(&log_lock);
	return n;
}
