/* tz.c - TZif reading, POSIX TZ rules, Jira timestamp parsing (pure). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl/common.h"
#include "tz.h"

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Years 0001..9999, the range of a "yyyy/MM/dd" date. */
#define JQL_EPOCH_MIN INT64_C(-62135596800)
#define JQL_EPOCH_MAX INT64_C(253402300799)

void jl_tz_jql_date(char out[32], int64_t utc_epoch, int offset_seconds)
{
	int64_t local;

	/* Clamped first: near INT64_MIN/MAX the sum below overflowed (UBSan,
	 * found by fuzz_time); a watermark is never near either end. */
	if (utc_epoch < JQL_EPOCH_MIN)
		utc_epoch = JQL_EPOCH_MIN;
	else if (utc_epoch > JQL_EPOCH_MAX)
		utc_epoch = JQL_EPOCH_MAX;
	local = utc_epoch + offset_seconds;
	if (local < JQL_EPOCH_MIN)
		local = JQL_EPOCH_MIN;
	else if (local > JQL_EPOCH_MAX)
		local = JQL_EPOCH_MAX;
	int64_t days = floor_div(local, 86400);
	int64_t secs = local - days * 86400;
	int64_t y;
	int m, d;

	civil_from_days(days, &y, &m, &d);
	snprintf(out, 32, "%04lld/%02d/%02d %02d:%02d", (long long)y, m, d,
		 (int)(secs / 3600), (int)(secs % 3600 / 60));
}

/* ---- Jira timestamps ---------------------------------------------------- */

int jl_jira_time_parse(const char *s, int64_t *epoch_ms, int *offset_seconds)
{
	jl_jtime t;

	if (!s)
		return JETL_EINVAL;
	/* An epoch number (Atlassian's bulkfetch example writes created that way). */
	if (*s && (isdigit((unsigned char)*s) || *s == '-') && strlen(s) >= 9 && !strchr(s + 1, '-')) {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno || *end)
			return JETL_EINVAL;
		if (epoch_ms)
			*epoch_ms = v;
		if (offset_seconds)
			*offset_seconds = 0;
		return 0;
	}
	if (jl_jtime_lex(s, &t) != 0)
		return JETL_EINVAL;
	if (epoch_ms)
		*epoch_ms = jl_jtime_epoch_ms(&t);
	if (offset_seconds)
		*offset_seconds = t.off;
	return 0;
}

/* ---- POSIX TZ strings (the TZif footer) ----------------------------------- */

typedef struct tzrule {
	char kind;     /* 'J' (1..365, no leap day), 'D' (0..365), 'M' (month.week.day) */
	int a, b, c;   /* J/D: day in a; M: month a, week b, weekday c */
	int time;      /* seconds after local midnight; may be negative or > 24 h */
} tzrule;

typedef struct posixtz {
	int std_off;   /* seconds east of UTC */
	int dst_off;
	int has_dst;
	tzrule start, end;
} posixtz;

static const char *tz_name(const char *p)
{
	if (*p == '<') {
		const char *q = strchr(p, '>');
		return q ? q + 1 : NULL;
	}
	while (isalpha((unsigned char)*p))
		p++;
	return p;
}

/* [+-]hh[:mm[:ss]] → seconds; returns the end or NULL. */
static const char *tz_hms(const char *p, int *out)
{
	int sign = 1, v = 0, part = 0, n;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (n = 0; n < 3; n++) {
		if (!isdigit((unsigned char)*p))
			return n ? NULL : NULL;
		part = 0;
		while (isdigit((unsigned char)*p)) {
			part = part * 10 + (*p++ - '0');
			if (part > 167)     /* POSIX allows hours up to 167 (and 24.7 h rule times) */
				return NULL;
		}
		v += part * (n == 0 ? 3600 : n == 1 ? 60 : 1);
		if (*p != ':')
			break;
		p++;
	}
	*out = sign * v;
	return p;
}

static const char *tz_rule(const char *p, tzrule *r)
{
	char *end;

	r->time = 7200;
	if (*p == 'M') {
		r->kind = 'M';
		r->a = (int)strtol(p + 1, &end, 10);
		if (*end != '.')
			return NULL;
		r->b = (int)strtol(end + 1, &end, 10);
		if (*end != '.')
			return NULL;
		r->c = (int)strtol(end + 1, &end, 10);
		if (r->a < 1 || r->a > 12 || r->b < 1 || r->b > 5 || r->c < 0 || r->c > 6)
			return NULL;
	} else if (*p == 'J') {
		r->kind = 'J';
		r->a = (int)strtol(p + 1, &end, 10);
	} else if (isdigit((unsigned char)*p)) {
		r->kind = 'D';
		r->a = (int)strtol(p, &end, 10);
	} else {
		return NULL;
	}
	p = end;
	if (*p == '/') {
		p = tz_hms(p + 1, &r->time);
		if (!p)
			return NULL;
	}
	return p;
}

static int posix_parse(const char *s, posixtz *tz)
{
	const char *p = tz_name(s);
	int v;

	memset(tz, 0, sizeof(*tz));
	if (!p || p == s)
		return -1;
	p = tz_hms(p, &v);
	if (!p)
		return -1;
	tz->std_off = -v; /* POSIX counts west as positive */
	if (!*p)
		return 0;
	s = p;
	p = tz_name(p);
	if (!p || p == s)
		return -1;
	tz->has_dst = 1;
	tz->dst_off = tz->std_off + 3600;
	if (*p && *p != ',') {
		p = tz_hms(p, &v);
		if (!p)
			return -1;
		tz->dst_off = -v;
	}
	if (*p != ',')
		return -1; /* no rule: POSIX leaves it implementation-defined */
	p = tz_rule(p + 1, &tz->start);
	if (!p || *p != ',')
		return -1;
	p = tz_rule(p + 1, &tz->end);
	return p && !*p ? 0 : -1;
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Local seconds since the epoch (at local midnight of the rule's day + time). */
static int64_t rule_local(const tzrule *r, int64_t y)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int64_t day;

	if (r->kind == 'J') {
		day = jl_days_from_civil(y, 1, 1) + r->a - 1 + (is_leap(y) && r->a >= 60);
	} else if (r->kind == 'D') {
		day = jl_days_from_civil(y, 1, 1) + r->a;
	} else {
		int64_t first = jl_days_from_civil(y, r->a, 1);
		int dow = (int)(((first + 4) % 7 + 7) % 7);
		int md = mdays[r->a - 1] + (r->a == 2 && is_leap(y));
		int dom = 1 + (r->c - dow + 7) % 7 + (r->b - 1) * 7;

		while (dom > md)
			dom -= 7;
		day = first + dom - 1;
	}
	return day * 86400 + r->time;
}

static int posix_offset(const posixtz *tz, int64_t t)
{
	int64_t y, days;
	int m, d;

	if (!tz->has_dst)
		return tz->std_off;
	days = floor_div(t + tz->std_off, 86400);
	civil_from_days(days, &y, &m, &d);
	/* Check the neighbouring years too: a rule can fall near New Year. */
	for (int64_t yy = y - 1; yy <= y + 1; yy++) {
		int64_t start = rule_local(&tz->start, yy) - tz->std_off;
		int64_t end = rule_local(&tz->end, yy) - tz->dst_off;

		if (start < end) {
			if (t >= start && t < end)
				return tz->dst_off;
		} else if (yy == y) {
			/* Southern hemisphere: DST spans New Year. */
			return (t >= end && t < start) ? tz->std_off : tz->dst_off;
		}
	}
	return tz->std_off;
}

/* ---- TZif files -------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int zone_name_ok(const char *z)
{
	if (!z || !*z || *z == '/' || strlen(z) > 200)
		return 0;
	for (const char *p = z; *p; p++) {
		if (!(isalnum((unsigned char)*p) || strchr("/_-+", *p)))
			return 0;
		if (p[0] == '/' && p[1] == '/')
			return 0;
	}
	return !strstr(z, "..");
}

static int tzif_offset(const unsigned char *f, size_t n, int64_t t, int *off)
{
	uint32_t cnt[6];
	size_t pos = 0, need;
	int tsize = 4;

	if (n < 44 || memcmp(f, "TZif", 4))
		return JETL_EPROTOCOL;
	for (int i = 0; i < 6; i++)
		cnt[i] = be32(f + 20 + 4 * i);
	/* isutcnt isstdcnt leapcnt timecnt typecnt charcnt */
	if (f[4] >= '2') {
		pos = 44 + (size_t)cnt[3] * 5 + (size_t)cnt[4] * 6 + cnt[5] + (size_t)cnt[2] * 8 + cnt[1] + cnt[0];
		if (pos + 44 > n || memcmp(f + pos, "TZif", 4))
			return JETL_EPROTOCOL;
		for (int i = 0; i < 6; i++)
			cnt[i] = be32(f + pos + 20 + 4 * i);
		tsize = 8;
	}
	pos += 44;
	need = (size_t)cnt[3] * (tsize + 1) + (size_t)cnt[4] * 6 + cnt[5] + (size_t)cnt[2] * (tsize + 4) +
	       cnt[1] + cnt[0];
	if (cnt[4] == 0 || pos + need > n)
		return JETL_EPROTOCOL;
	{
		const unsigned char *times = f + pos;
		const unsigned char *idx = times + (size_t)cnt[3] * tsize;
		const unsigned char *types = idx + cnt[3];
		uint32_t timecnt = cnt[3], typecnt = cnt[4];
		int type = 0;
		int64_t last = 0;

		if (timecnt) {
			/* binary search for the last transition <= t */
			uint32_t lo = 0, hi = timecnt;

			last = tsize == 8 ? be64(times + (size_t)(timecnt - 1) * 8)
					  : (int32_t)be32(times + (size_t)(timecnt - 1) * 4);
			while (lo < hi) {
				uint32_t mid = lo + (hi - lo) / 2;
				int64_t tm = tsize == 8 ? be64(times + (size_t)mid * 8)
							: (int32_t)be32(times + (size_t)mid * 4);
				if (tm <= t)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo > 0)
				type = idx[lo - 1];
			if (type >= (int)typecnt)
				return JETL_EPROTOCOL;
		}
		*off = (int32_t)be32(types + (size_t)type * 6);
		if (tsize == 8 && (!timecnt || t >= last)) {
			/* Past the table: the footer rule governs (slim TZif files rely on it). */
			const unsigned char *foot = f + pos + need;
			if (foot < f + n && *foot == '\n') {
				const unsigned char *e = memchr(foot + 1, '\n', (size_t)(f + n - foot - 1));
				if (e && e > foot + 1) {
					char buf[128];
					posixtz ptz;
					size_t len = (size_t)(e - foot - 1);

					if (len < sizeof(buf)) {
						memcpy(buf, foot + 1, len);
						buf[len] = '\0';
						if (posix_parse(buf, &ptz) == 0)
							*off = posix_offset(&ptz, t);
					}
				}
			}
		}
	}
	return 0;
}

int jl_tz_offset(const char *zone, int64_t utc_epoch, int *offset_seconds)
{
	char path[512];
	const char *dir = getenv("TZDIR");
	unsigned char *data = NULL;
	size_t n = 0, cap = 0;
	FILE *fp;
	int rc;

	if (!offset_seconds || !zone_name_ok(zone))
		return JETL_EINVAL;
	if (!strcmp(zone, "UTC") || !strcmp(zone, "Etc/UTC") || !strcmp(zone, "GMT") || !strcmp(zone, "Z")) {
		*offset_seconds = 0;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
	fp = fopen(path, "rb");
	if (!fp)
		return JETL_ENOENT;
	for (;;) {
		size_t got;

		if (n == cap) {
			unsigned char *p;

			cap = cap ? cap * 2 : 4096;
			if (cap > (1u << 22) || !(p = realloc(data, cap))) {
				free(data);
				fclose(fp);
				return cap > (1u << 22) ? JETL_EPROTOCOL : JETL_ENOMEM;
			}
			data = p;
		}
		got = fread(data + n, 1, cap - n, fp);
		n += got;
		if (got == 0)
			break;
	}
	fclose(fp);
	rc = tzif_offset(data, n, utc_epoch, offset_seconds);
	free(data);
	return rc;
}
