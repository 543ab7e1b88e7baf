/* jtime.c - the one reader of Jira's timestamp text (see jtime.h). */
#include <ctype.h>
#include <string.h>

#include "jtime.h"

int64_t jl_days_from_civil(int64_t y, int m, int d)
{
	/* Howard Hinnant's days_from_civil: exact for the whole int64 range we use. */
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* n digits at s as a number, or -1 when one is not a digit. */
static int num(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int valid_date(int y, int m, int d)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	return !(m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

/* The zone after the time at p: 0 with t->off set, -1 when malformed. */
static int zone(const char *p, jl_jtime *t)
{
	int oh, om = 0, sign;

	if (*p == '\0')
		return 0;
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		t->has_offset = 1;
		return 0;
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p == '-' ? -1 : 1;
	if ((oh = num(p + 1, 2)) < 0)
		return -1;
	p += 3;
	if (*p == ':')
		p++;
	if (*p && ((om = num(p, 2)) < 0 || p[2] != '\0'))
		return -1;
	if (oh > 15 || om > 59 || (p[-1] == ':' && !*p))
		return -1;
	t->off = sign * (oh * 3600 + om * 60);
	t->has_offset = 1;
	return 0;
}

int jl_jtime_lex(const char *s, jl_jtime *t)
{
	const char *p;

	memset(t, 0, sizeof(*t));
	if (!s || strlen(s) < 10 || (t->y = num(s, 4)) < 0 || s[4] != '-' || (t->mo = num(s + 5, 2)) < 0 ||
	    s[7] != '-' || (t->d = num(s + 8, 2)) < 0 || !valid_date(t->y, t->mo, t->d))
		return -1;
	p = s + 10;
	if (*p == '\0')
		return 0;
	if (*p != 'T' && *p != ' ')
		return -1;
	if ((t->h = num(p + 1, 2)) < 0 || p[3] != ':' || (t->mi = num(p + 4, 2)) < 0 || t->h > 23 || t->mi > 59)
		return -1;
	t->has_time = 1;
	p += 6;
	if (*p == ':') {
		if ((t->s = num(p + 1, 2)) < 0 || t->s > 60)
			return -1;
		p += 3;
		if (*p == '.' || *p == ',') {
			int n = 0;

			while (isdigit((unsigned char)p[1 + n]) && n < 10)
				n++;
			if (n == 0 || n > 9)
				return -1;
			memcpy(t->frac, p + 1, (size_t)n);
			t->frac[n] = '\0';
			p += 1 + n;
		}
	}
	return zone(p, t);
}

int64_t jl_jtime_epoch_ms(const jl_jtime *t)
{
	int ms = 0;

	/* frac is zero-filled past its digits */
	for (int i = 0; i < 3; i++)
		ms = ms * 10 + (t->frac[i] ? t->frac[i] - '0' : 0);
	return ((jl_days_from_civil(t->y, t->mo, t->d) * 86400 + t->h * 3600 + t->mi * 60 + t->s) - t->off) *
		1000 + ms;
}

double jl_jtime_epoch_s(const jl_jtime *t)
{
	double frac = 0, scale = 0.1;

	for (int i = 0; t->frac[i]; i++, scale /= 10)
		frac += (t->frac[i] - '0') * scale;
	return (double)((jl_days_from_civil(t->y, t->mo, t->d) * 86400 + t->h * 3600 + t->mi * 60 + t->s) - t->off) +
		frac;
}
