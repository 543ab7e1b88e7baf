/* bar.c - progress for people (a bar on a terminal, on stderr) and for
 * programs (one JSON object per event on stdout). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include "cli.h"

/* Log lines come from worker threads too; they and the bar share stderr. */
static pthread_mutex_t term_lock = PTHREAD_MUTEX_INITIALIZER;
static int bar_on_screen;

void cli_log_line(const char *line)
{
	pthread_mutex_lock(&term_lock);
	if (bar_on_screen) {
		/* Clear the bar; the next redraw brings it back under the message. */
		fputs("\r\033[K", stderr);
		bar_on_screen = 0;
	}
	fputs(line, stderr);
	fflush(stderr);
	pthread_mutex_unlock(&term_lock);
}

struct bar {
	enum progress_mode mode;
	char project[64];        /* the project of the line being drawn */
	int64_t done[JETL_PHASE_DONE + 1], total[JETL_PHASE_DONE + 1];
	double t_issues;         /* elapsed at the first issue of the project */
	int64_t issues0;
	double last_draw;
	int last_phase;
	int drawn;               /* a bar line is on screen */
	int64_t last_line_done;  /* PROGRESS_LINES: the issues count of the last "done" line */
};

struct bar *bar_new(enum progress_mode mode)
{
	struct bar *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	/* Off a terminal (a CI log, a pipe, journald) a redrawn bar is noise and
	 * silence until the end looks like a hang: a plain line every few seconds. */
	if (mode == PROGRESS_AUTO)
		mode = isatty(STDERR_FILENO) ? PROGRESS_BAR : PROGRESS_LINES;
	b->mode = mode;
	b->last_phase = -1;
	b->t_issues = -1;
	return b;
}

void bar_free(struct bar *b)
{
	free(b);
}

static void fmt_duration(char *out, size_t n, double s)
{
	long t = s < 0 ? 0 : (long)(s + 0.5);

	if (t >= 3600)
		snprintf(out, n, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
	else
		snprintf(out, n, "%ld:%02ld", t / 60, t % 60);
}

/* "done/total", or "done" while the total is unknown. */
static void count_of(char *out, size_t n, int64_t done, int64_t total)
{
	if (total > 0)
		snprintf(out, n, "%lld/%lld", (long long)done, (long long)total);
	else
		snprintf(out, n, "%lld", (long long)done);
}

/* One line per project: the phases of an extraction overlap (bodies,
 * changelogs and dev status of different batches are in flight at once), so
 * the bar follows the issues and the other phases ride along as counters. */
static void compose(struct bar *b, const jetl_progress *p, char *line, size_t n)
{
	char eta[32] = "", cells[32], extra[160] = "";
	int main_phase = p->phase == JETL_PHASE_TRANSFORM ? JETL_PHASE_TRANSFORM :
		p->phase <= JETL_PHASE_CENSUS ? p->phase : JETL_PHASE_ISSUES;
	int64_t done = b->done[main_phase], total = b->total[main_phase];
	const char *what = main_phase == JETL_PHASE_TRANSFORM ? "raw rows transformed" :
		main_phase == JETL_PHASE_ISSUES ? "issues" : jetl_phase_name(main_phase);
	double rate = 0, dt;
	int width = 24, filled;

	if (main_phase == JETL_PHASE_ISSUES && b->t_issues >= 0 && (dt = p->elapsed - b->t_issues) > 0.3)
		rate = (double)(done - b->issues0) / dt;
	filled = total > 0 ? (int)((double)width * (double)(done < total ? done : total) / (double)total + 0.5) : 0;
	for (int i = 0; i < width; i++)
		cells[i] = total > 0 ? (i < filled ? '#' : '.') : (i == (int)(p->elapsed * 8) % width ? '#' : '.');
	cells[width] = '\0';
	if (rate > 0 && total > done) {
		char d[24];
		fmt_duration(d, sizeof(d), (double)(total - done) / rate);
		snprintf(eta, sizeof(eta), " ETA %s", d);
	}
	if (main_phase == JETL_PHASE_ISSUES) {
		char l[48], d[48];
		count_of(l, sizeof(l), b->done[JETL_PHASE_CHANGELOGS], b->total[JETL_PHASE_CHANGELOGS]);
		count_of(d, sizeof(d), b->done[JETL_PHASE_DEV_STATUS], b->total[JETL_PHASE_DEV_STATUS]);
		snprintf(extra, sizeof(extra), " | logs %s, dev %s, stored %lld", l, d,
			(long long)b->done[JETL_PHASE_STORE]);
	}
	if (total > 0)
		snprintf(line, n, "%-6s [%s] %lld/%lld %s %3d%% %5.0f/s%s%s", b->project, cells,
			(long long)done, (long long)total, what, (int)(100.0 * (double)done / (double)total), rate, eta, extra);
	else
		snprintf(line, n, "%-6s [%s] %s %lld%s", b->project, cells, what, (long long)done, extra);
}

static void draw(struct bar *b, const jetl_progress *p)
{
	char line[320];

	compose(b, p, line, sizeof(line));
	pthread_mutex_lock(&term_lock);
	fprintf(stderr, "\r%-110.110s", line);
	fflush(stderr);
	bar_on_screen = 1;
	pthread_mutex_unlock(&term_lock);
	b->drawn = 1;
}

/* PROGRESS_LINES: the bar's line, without the redraws, every
 * $JETL_PROGRESS_SECONDS (default 5; tests shorten it), and the last one of
 * each project when it is done. */
static double lines_period(void)
{
	const char *e = getenv("JETL_PROGRESS_SECONDS");

	return e && atof(e) > 0 ? atof(e) : 5.0;
}

static void print_line(struct bar *b, const jetl_progress *p)
{
	char line[320], out[360];
	int due = p->elapsed - b->last_draw >= lines_period();

	if (p->phase == JETL_PHASE_DONE || !(due || (p->phase == JETL_PHASE_ISSUES && p->total > 0 &&
			p->done == p->total && b->last_line_done != p->done)))
		return;
	if (p->phase == JETL_PHASE_ISSUES)
		b->last_line_done = p->done;
	compose(b, p, line, sizeof(line));
	snprintf(out, sizeof(out), "progress: %s (%.0f s)", line, p->elapsed);
	cli_log_progress(out);
	b->last_draw = p->elapsed;
}

/* Keep the finished line on screen and start a new one. */
static void end_line(struct bar *b)
{
	pthread_mutex_lock(&term_lock);
	if (bar_on_screen)
		fputc('\n', stderr);
	bar_on_screen = 0;
	pthread_mutex_unlock(&term_lock);
	b->drawn = 0;
}

int bar_callback(const jetl_progress *p, void *userdata)
{
	struct bar *b = userdata;
	const char *proj = p->project_key ? p->project_key : "";

	if (strcmp(proj, b->project) != 0) {
		if (b->mode == PROGRESS_BAR && b->drawn)
			end_line(b);
		snprintf(b->project, sizeof(b->project), "%s", proj);
		memset(b->done, 0, sizeof(b->done));
		memset(b->total, 0, sizeof(b->total));
		b->t_issues = -1;
		b->last_line_done = -1;
	}
	if (p->phase >= 0 && p->phase <= JETL_PHASE_DONE) {
		b->done[p->phase] = p->done;
		b->total[p->phase] = p->total;
	}
	if (p->phase == JETL_PHASE_ISSUES && b->t_issues < 0) {
		b->t_issues = p->elapsed;
		b->issues0 = p->done;
	}
	if (b->mode == PROGRESS_JSON) {
		json_t *o = json_pack("{s:I, s:s?, s:s, s:i, s:i, s:I, s:I, s:s, s:f}",
			"job_id", (json_int_t)p->job_id, "project", p->project_key, "phase", p->phase_name,
			"step", p->step, "total_steps", p->total_steps, "done", (json_int_t)p->done,
			"total", (json_int_t)p->total, "message", p->message, "elapsed", p->elapsed);
		if (o) {
			json_dumpf(o, stdout, JSON_COMPACT);
			fputc('\n', stdout);
			fflush(stdout);
			json_decref(o);
		}
	} else if (b->mode == PROGRESS_LINES) {
		print_line(b, p);
	} else if (b->mode == PROGRESS_BAR) {
		int phase_line_ends = b->last_phase != p->phase &&
			(p->phase == JETL_PHASE_TRANSFORM || p->phase == JETL_PHASE_DONE);

		if (phase_line_ends && b->drawn)
			end_line(b);
		/* Redraw at most 10 times a second. */
		if (p->phase != JETL_PHASE_DONE && (p->elapsed - b->last_draw >= 0.1 || phase_line_ends ||
				(p->total > 0 && p->done == p->total))) {
			draw(b, p);
			b->last_draw = p->elapsed;
		}
		b->last_phase = p->phase;
	}
	return cli_interrupted ? 1 : 0;
}

void bar_finish(struct bar *b)
{
	if (b && b->mode == PROGRESS_BAR && b->drawn)
		end_line(b);
}
