/* retry.c - Retry-After / X-RateLimit-Reset parsing, backoff, URL joining (pure). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "retry.h"
#include "tz.h"

static int month_of(const char *m)
{
	static const char *names[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

	for (int i = 0; i < 12; i++)
		if (!strncasecmp(m, names[i], 3))
			return i + 1;
	return 0;
}

int jl_retry_after_parse(const char *v, double now_epoch, double *seconds)
{
	char *end;
	double d;

	if (!v || !seconds)
		return -1;
	while (isspace((unsigned char)*v))
		v++;
	if (isdigit((unsigned char)*v)) {
		d = strtod(v, &end);
		while (isspace((unsigned char)*end))
			end++;
		if (*end || !isfinite(d) || d < 0)
			return -1;
		*seconds = d;
		return 0;
	}
	{
		/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
		char wd[8], mon[8], zone[8];
		int day, year, h, mi, s, mo;

		if (sscanf(v, "%7[A-Za-z], %d %7s %d %d:%d:%d %7s", wd, &day, mon, &year, &h, &mi, &s, zone) != 8)
			return -1;
		mo = month_of(mon);
		if (!mo || strcasecmp(zone, "GMT") || day < 1 || day > 31 || h > 23 || mi > 59 || s > 60)
			return -1;
		d = (double)(jl_days_from_civil(year, mo, day) * 86400 + h * 3600 + mi * 60 + s) - now_epoch;
		*seconds = d > 0 ? d : 0;
		return 0;
	}
}

int jl_ratelimit_reset_parse(const char *v, double now_epoch, double cap_s, double *seconds)
{
	int64_t ms;
	double d;

	if (!v || !seconds)
		return -1;
	while (isspace((unsigned char)*v))
		v++;
	/* Only ISO timestamps: a bare number here is ambiguous (epoch? delta?). */
	if (!strchr(v, 'T') || jl_jira_time_parse(v, &ms, NULL) != 0)
		return -1;
	d = (double)ms / 1000.0 - now_epoch;
	if (d < 0)
		d = 0;
	if (d > cap_s)
		d = cap_s;
	*seconds = d;
	return 0;
}

double jl_backoff_delay(int attempt, double base_s, double cap_s, double u)
{
	double d = base_s;

	if (attempt < 1)
		attempt = 1;
	for (int i = 1; i < attempt && d < cap_s; i++)
		d *= 2;
	if (d > cap_s)
		d = cap_s;
	if (u < 0)
		u = 0;
	if (u >= 1)
		u = 0.999999;
	return d * (0.7 + 0.6 * u);
}

int jl_http_status_retriable(long status)
{
	return status == 429 || (status >= 500 && status <= 599 && status != 501 && status != 505);
}

char *jl_url_join(const char *base, const char *path)
{
	size_t bl, pl;
	char *out;

	if (!base || !path)
		return NULL;
	bl = strlen(base);
	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	while (*path == '/')
		path++;
	pl = strlen(path);
	out = malloc(bl + pl + 2);
	if (!out)
		return NULL;
	memcpy(out, base, bl);
	out[bl] = '/';
	memcpy(out + bl + 1, path, pl + 1);
	return out;
}
