/* bar.c - progress for people (a bar on a terminal, on stderr) and for
 * programs (one JSON object per event on stdout). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct bar {
	enum progress_mode mode;
	int phase;
	double phase_t0;         /* elapsed at the phase's first event */
	int64_t phase_done0;
	double last_draw;
	int drawn;               /* a bar line is on screen */
};

struct bar *bar_new(enum progress_mode mode)
{
	struct bar *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	if (mode == PROGRESS_AUTO)
		mode = isatty(STDERR_FILENO) ? PROGRESS_BAR : PROGRESS_NONE;
	b->mode = mode;
	b->phase = -1;
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

static void draw(struct bar *b, const jetl_progress *p)
{
	char eta[32] = "", line[256], cells[64];
	double dt = p->elapsed - b->phase_t0, rate = 0;
	int width = 24, filled = 0, k = 0;

	if (dt > 0.2)
		rate = (double)(p->done - b->phase_done0) / dt;
	if (p->total > 0) {
		double frac = (double)p->done / (double)p->total;
		if (frac > 1)
			frac = 1;
		filled = (int)(frac * width + 0.5);
		if (rate > 0 && p->done < p->total) {
			char d[24];
			fmt_duration(d, sizeof(d), (double)(p->total - p->done) / rate);
			snprintf(eta, sizeof(eta), " ETA %s", d);
		}
	}
	for (int i = 0; i < width; i++) {
		/* '#' and '.' keep it readable on any terminal encoding. */
		cells[k++] = p->total > 0 ? (i < filled ? '#' : '.') : (i == (int)(p->elapsed * 4) % width ? '#' : '.');
	}
	cells[k] = '\0';
	if (p->total > 0)
		snprintf(line, sizeof(line), "%-8s %-10s [%s] %lld/%lld %3d%% %7.0f/s%s",
			p->project_key ? p->project_key : "", p->phase_name, cells, (long long)p->done,
			(long long)p->total, (int)(100.0 * (double)p->done / (double)p->total), rate, eta);
	else
		snprintf(line, sizeof(line), "%-8s %-10s [%s] %lld %7.0f/s",
			p->project_key ? p->project_key : "", p->phase_name, cells, (long long)p->done, rate);
	fprintf(stderr, "\r%-100.100s", line);
	fflush(stderr);
	b->drawn = 1;
}

int bar_callback(const jetl_progress *p, void *userdata)
{
	struct bar *b = userdata;

	if (p->phase != b->phase) {
		if (b->mode == PROGRESS_BAR && b->drawn && b->phase >= 0) {
			fputc('\n', stderr);
			b->drawn = 0;
		}
		b->phase = p->phase;
		b->phase_t0 = p->elapsed;
		b->phase_done0 = p->done;
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
	} else if (b->mode == PROGRESS_BAR) {
		/* Redraw at most 10 times a second. */
		if (p->elapsed - b->last_draw >= 0.1 || p->phase == JETL_PHASE_DONE || p->done == p->total) {
			draw(b, p);
			b->last_draw = p->elapsed;
		}
	}
	return cli_interrupted ? 1 : 0;
}

void bar_finish(struct bar *b)
{
	if (b && b->mode == PROGRESS_BAR && b->drawn) {
		fputc('\n', stderr);
		b->drawn = 0;
	}
}
