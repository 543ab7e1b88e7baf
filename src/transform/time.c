/* time.c - Jira timestamps into exact ISO 8601 text. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "time.h"

static int digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int num(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int valid_date(int y, int m, int d)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 0;
	return 1;
}

/* Whether s starts with a valid "YYYY-MM-DD" (s has at least 10 bytes). */
static int date_prefix(const char *s)
{
	return digits(s, 4) && s[4] == '-' && digits(s + 5, 2) && s[7] == '-' && digits(s + 8, 2) &&
		valid_date(num(s, 4), num(s + 5, 2), num(s + 8, 2));
}

int jl_date_iso(const char *s, char *out)
{
	if (!s || strlen(s) != 10 || !date_prefix(s))
		return -1;
	memcpy(out, s, 11);
	return 0;
}

int jl_time_iso(const char *s, char *out)
{
	const char *p;
	int n = 0, fl = 0;

	if (!s || strlen(s) < 19 || !date_prefix(s))
		return -1;
	if ((s[10] != 'T' && s[10] != ' ') || !digits(s + 11, 2) || s[13] != ':' ||
	    !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2) ||
	    num(s + 11, 2) > 23 || num(s + 14, 2) > 59 || num(s + 17, 2) > 60)
		return -1;
	p = s + 19;
	if (*p == '.' || *p == ',') {
		while (isdigit((unsigned char)p[1 + fl]))
			fl++;
		if (fl == 0 || fl > 9)
			return -1;
	}
	n = snprintf(out, JL_TIME_MAX, "%.10sT%.8s", s, s + 11);
	if (fl) {
		out[n++] = '.';
		memcpy(out + n, p + 1, (size_t)fl);
		n += fl;
		p += 1 + fl;
	}
	if (*p == 'Z' && p[1] == '\0') {
		memcpy(out + n, "+00:00", 7);
		return 0;
	}
	if ((*p != '+' && *p != '-') || !digits(p + 1, 2))
		return -1;
	/* +HH, +HHMM, +HH:MM → +HH:MM */
	if (p[3] == '\0') {
		snprintf(out + n, JL_TIME_MAX - (size_t)n, "%c%.2s:00", *p, p + 1);
		return num(p + 1, 2) <= 15 ? 0 : -1;
	}
	if (digits(p + 3, 2) && p[5] == '\0') {
		snprintf(out + n, JL_TIME_MAX - (size_t)n, "%c%.2s:%.2s", *p, p + 1, p + 3);
	} else if (p[3] == ':' && digits(p + 4, 2) && p[6] == '\0') {
		snprintf(out + n, JL_TIME_MAX - (size_t)n, "%.6s", p);
	} else {
		return -1;
	}
	return num(p + 1, 2) <= 15 && num(p + (p[3] == ':' ? 4 : 3), 2) <= 59 ? 0 : -1;
}

int jl_time_json(const json_t *v, char *out)
{
	if (json_is_string(v))
		return jl_time_iso(json_string_value(v), out);
	if (json_is_integer(v)) {
		json_int_t ms = json_integer_value(v);
		time_t secs = (time_t)(ms / 1000);
		int frac = (int)(ms % 1000);
		struct tm tm;

		if (frac < 0) {
			frac += 1000;
			secs--;
		}
		if (!gmtime_r(&secs, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
			return -1;
		snprintf(out, JL_TIME_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+00:00", tm.tm_year + 1900,
			tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
		return 0;
	}
	return -1;
}
