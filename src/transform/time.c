/* time.c - Jira timestamps into exact ISO 8601 text. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "time.h"
#include "../model/jtime.h"

/* Whether s is exactly a valid "YYYY-MM-DD". */
int jl_date_iso(const char *s, char *out)
{
	jl_jtime t;

	if (!s || strlen(s) != 10 || jl_jtime_lex(s, &t) != 0)
		return -1;
	memcpy(out, s, 11);
	return 0;
}

/* v (0 <= v < 10^w) as w decimal digits at p; returns p + w. */
static char *digits(char *p, int v, int w)
{
	for (int i = w - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + w;
}

/* Written digit by digit, not with snprintf: every timestamp of every
 * changelog item goes through here, and the formatting was 4 % of the pure
 * transform's CPU (perf, 20,000 issues). The lexer bounds every part
 * (year 1..9999, offset under 16 h), so the widths are exact. */
int jl_time_iso(const char *s, char *out)
{
	jl_jtime t;
	char *p = out;
	size_t nf;
	int a;

	/* An offset is required: a zone-less time would be read in the
	 * session's zone. */
	if (jl_jtime_lex(s, &t) != 0 || !t.has_time || !t.has_offset)
		return -1;
	p = digits(p, t.y, 4);
	*p++ = '-';
	p = digits(p, t.mo, 2);
	*p++ = '-';
	p = digits(p, t.d, 2);
	*p++ = 'T';
	p = digits(p, t.h, 2);
	*p++ = ':';
	p = digits(p, t.mi, 2);
	*p++ = ':';
	p = digits(p, t.s, 2);
	if ((nf = strlen(t.frac)) > 0) {
		*p++ = '.';
		memcpy(p, t.frac, nf);
		p += nf;
	}
	a = t.off < 0 ? -t.off : t.off;
	*p++ = t.off < 0 ? '-' : '+';
	p = digits(p, a / 3600, 2);
	*p++ = ':';
	p = digits(p, a % 3600 / 60, 2);
	*p = '\0';
	return 0;
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
