/* dev_status.c - dev status counts from summary, detail or the field. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dev_status.h"

void jl_dev_init(jl_dev *d)
{
	memset(d, 0, sizeof(*d));
}

void jl_dev_free(jl_dev *d)
{
	if (!d)
		return;
	for (int i = 0; i < d->nproviders; i++)
		free(d->providers[i]);
	for (int i = 0; i < d->nrepositories; i++)
		free(d->repositories[i]);
	json_decref(d->detail);
	jl_dev_init(d);
}

static int add_name(char **list, int *n, const char *s)
{
	if (!s || !*s)
		return 0;
	for (int i = 0; i < *n; i++)
		if (strcmp(list[i], s) == 0)
			return 0;
	if (*n == JL_DEV_MAX_NAMES)
		return 0;   /* a list for people, not an inventory: the detail jsonb keeps all */
	if (!(list[*n] = strdup(s)))
		return -1;
	(*n)++;
	return 0;
}

static long count_of(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	if (json_is_integer(v))
		return (long)json_integer_value(v);
	if (json_is_real(v))   /* out of long's range (1e70) would be undefined: 0 */
		return json_real_value(v) >= 0 && json_real_value(v) < 9.2e18 ? (long)json_real_value(v) : 0;
	return 0;
}

/* Seconds since the epoch of a normalised time, for "latest of". */
static double epoch_of(const char *iso)
{
	struct tm tm;
	int oh = 0, om = 0;
	char sign = '+';
	const char *off;
	double frac = 0;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = atoi(iso) - 1900;
	tm.tm_mon = atoi(iso + 5) - 1;
	tm.tm_mday = atoi(iso + 8);
	tm.tm_hour = atoi(iso + 11);
	tm.tm_min = atoi(iso + 14);
	tm.tm_sec = atoi(iso + 17);
	if (iso[19] == '.')
		frac = strtod(iso + 19, NULL);
	off = iso + strlen(iso) - 6;
	sign = off[0];
	oh = atoi(off + 1);
	om = atoi(off + 4);
	return (double)timegm(&tm) + frac - (sign == '-' ? -1 : 1) * (oh * 3600.0 + om * 60.0);
}

static void take_updated(jl_dev *d, const json_t *overall)
{
	char t[JL_TIME_MAX];
	double e;

	if (jl_time_json(json_object_get(overall, "lastUpdated"), t) < 0)
		return;
	e = epoch_of(t);
	if (!d->last_updated[0] || e > d->last_updated_epoch) {
		memcpy(d->last_updated, t, sizeof(t));
		d->last_updated_epoch = e;
	}
}

static void set_state(jl_dev *d, const char *s)
{
	if (s) {
		strncpy(d->pr_state, s, sizeof(d->pr_state) - 1);
		d->pr_state[sizeof(d->pr_state) - 1] = '\0';
	}
}

int jl_dev_from_summary(jl_dev *d, const json_t *v)
{
	const json_t *s, *x;
	const char *k;

	if (!json_is_object(v))
		return 1;
	if ((x = json_object_get(v, "isStale")) && json_is_true(x))
		d->is_stale = 1;
	if (json_is_object(json_object_get(v, "cachedValue")))
		v = json_object_get(v, "cachedValue");
	s = json_object_get(v, "summary");
	if (!json_is_object(s))
		s = v;   /* the inner summary itself */
	json_object_foreach((json_t *)s, k, x) {
		const json_t *o = json_object_get(x, "overall");
		const json_t *by = json_object_get(x, "byInstanceType");
		const char *t;
		json_t *inst;

		if (!json_is_object(o))
			continue;
		d->present = 1;
		take_updated(d, o);
		json_object_foreach((json_t *)by, t, inst)
			if (add_name(d->providers, &d->nproviders, t) < 0)
				return -1;
		if (strcmp(k, "pullrequest") == 0) {
			const json_t *det = json_object_get(o, "details");
			const char *st = json_string_value(json_object_get(o, "state"));
			long sc = count_of(o, "stateCount");

			d->pr_count = count_of(o, "count");
			if (d->pr_count > 0)   /* Server says state=OPEN with no PRs at all */
				set_state(d, st);
			if (json_is_object(det)) {
				d->pr_open = count_of(det, "openCount");
				d->pr_merged = count_of(det, "mergedCount");
				d->pr_declined = count_of(det, "declinedCount");
			} else if (st) {
				/* Only the dominant state's count is known. */
				if (strcasecmp(st, "OPEN") == 0)
					d->pr_open = sc;
				else if (strcasecmp(st, "MERGED") == 0)
					d->pr_merged = sc;
				else if (strcasecmp(st, "DECLINED") == 0)
					d->pr_declined = sc;
			}
		} else if (strcmp(k, "repository") == 0) {
			d->commits = count_of(o, "count");   /* the summary counts commits here */
		} else if (strcmp(k, "branch") == 0) {
			d->branches = count_of(o, "count");
		} else if (strcmp(k, "build") == 0) {
			d->builds = count_of(o, "count");
			d->builds_failed = count_of(o, "failedBuildCount");
			d->builds_ok = count_of(o, "successfulBuildCount");
		} else if (strcmp(k, "review") == 0) {
			d->reviews = count_of(o, "count");
		}
	}
	if (!d->present && json_is_object(json_object_get(v, "summary")))
		d->present = 1;   /* an empty summary: known to have nothing */
	if (!d->present)
		return 1;
	d->source = "summary";
	return 0;
}

static int detail_entry(jl_dev *d, const json_t *e, unsigned *seen)
{
	const json_t *inst = json_object_get(e, "_instance"), *a, *x;
	const char *k;
	size_t i;

	if (!json_is_object(e))
		return 0;
	if (add_name(d->providers, &d->nproviders, json_string_value(json_object_get(inst, "type"))) < 0)
		return -1;
	json_object_foreach((json_t *)e, k, a) {
		if (!json_is_array(a))
			continue;
		if (strcmp(k, "repositories") == 0) {
			if (!(*seen & 1))
				d->commits = d->repos = 0;
			*seen |= 1;
			json_array_foreach(a, i, x) {
				d->repos++;
				d->commits += (long)json_array_size(json_object_get(x, "commits"));
				if (add_name(d->repositories, &d->nrepositories,
						json_string_value(json_object_get(x, "name"))) < 0)
					return -1;
			}
		} else if (strcmp(k, "pullRequests") == 0) {
			if (!(*seen & 2))
				d->pr_count = d->pr_open = d->pr_merged = d->pr_declined = 0;
			*seen |= 2;
			json_array_foreach(a, i, x) {
				const char *st = json_string_value(json_object_get(x, "status"));

				d->pr_count++;
				if (st && strcasecmp(st, "OPEN") == 0)
					d->pr_open++;
				else if (st && strcasecmp(st, "MERGED") == 0)
					d->pr_merged++;
				else if (st && strcasecmp(st, "DECLINED") == 0)
					d->pr_declined++;
				if (add_name(d->repositories, &d->nrepositories,
						json_string_value(json_object_get(x, "repositoryName"))) < 0)
					return -1;
			}
		} else if (strcmp(k, "branches") == 0) {
			if (!(*seen & 4))
				d->branches = 0;
			*seen |= 4;
			d->branches += (long)json_array_size(a);
		} else if (strcmp(k, "builds") == 0) {
			if (!(*seen & 8))
				d->builds = d->builds_failed = d->builds_ok = 0;
			*seen |= 8;
			json_array_foreach(a, i, x) {
				const char *st = json_string_value(json_object_get(x, "state"));

				d->builds++;
				if (st && strcasecmp(st, "SUCCESSFUL") == 0)
					d->builds_ok++;
				else if (st && strcasecmp(st, "FAILED") == 0)
					d->builds_failed++;
			}
		} else if (strcmp(k, "reviews") == 0) {
			if (!(*seen & 16))
				d->reviews = 0;
			*seen |= 16;
			d->reviews += (long)json_array_size(a);
		}
	}
	return 0;
}

static int detail_response(jl_dev *d, const json_t *r, unsigned *seen)
{
	const json_t *list = json_object_get(r, "detail"), *e;
	size_t i;

	if (!json_is_array(list))
		return detail_entry(d, r, seen);
	json_array_foreach(list, i, e)
		if (detail_entry(d, e, seen) < 0)
			return -1;
	return 0;
}

int jl_dev_from_detail(jl_dev *d, json_t *v)
{
	unsigned seen = 0;
	size_t i;
	json_t *r;

	if (json_is_object(v)) {
		if (detail_response(d, v, &seen) < 0)
			return -1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, r)
			if (detail_response(d, r, &seen) < 0)
				return -1;
	} else {
		return 1;
	}
	d->present = 1;
	d->source = "detail";
	json_decref(d->detail);
	d->detail = json_incref(v);
	return 0;
}

/* "key=123" inside a Java toString(), as a number; 0 when absent. */
static long java_attr(const char *s, const char *end, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = s; p && p < end; p++) {
		p = strstr(p, key);
		if (!p || p >= end)
			break;
		if ((p == s || p[-1] == '{' || p[-1] == ' ' || p[-1] == ',' || p[-1] == '[') && p[kl] == '=')
			return strtol(p + kl + 1, NULL, 10);
	}
	return 0;
}

int jl_dev_field_looks_like(const char *s)
{
	return s && ((s[0] == '{' && (strstr(s, "json={\"cachedValue\"") || strstr(s, "devSummaryJson="))) ||
		strncmp(s, "{summaryBean=", 13) == 0 || strncmp(s, "PullRequestOverallDetails{", 26) == 0);
}

int jl_dev_from_field(jl_dev *d, const char *s, size_t len)
{
	const char *end = s + len, *js = NULL;
	size_t skip = 0;

	while (s < end && (*s == ' ' || *s == '\n'))
		s++;
	if (end - s == 2 && s[0] == '{' && s[1] == '}') {
		d->present = 1;   /* "{}": Jira says nothing is linked */
		d->source = "field";
		return 0;
	}
	if (strncmp(s, "PullRequestOverallDetails{", 26) == 0) {
		d->pr_open = java_attr(s, end, "openCount");
		d->pr_merged = java_attr(s, end, "mergedCount");
		d->pr_declined = java_attr(s, end, "declinedCount");
		d->pr_count = d->pr_open + d->pr_merged + d->pr_declined;
		set_state(d, d->pr_open ? "OPEN" : d->pr_merged ? "MERGED" : d->pr_declined ? "DECLINED" : NULL);
		d->present = 1;
		d->source = "field";
		return 0;
	}
	/* The JSON after json= (Cloud) or devSummaryJson= (Server) is the summary;
	 * the field's closing '}' follows it, which the EOF check must allow. */
	if ((js = strstr(s, "devSummaryJson={")))
		skip = 15;
	else if ((js = strstr(s, "json={")))
		skip = 5;
	if (js && js < end) {
		json_error_t e;
		json_t *v = json_loadb(js + skip, (size_t)(end - js - (ptrdiff_t)skip),
			JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &e);
		int rc;

		if (!v)
			return 1;
		rc = jl_dev_from_summary(d, v);
		json_decref(v);
		if (rc == 0)
			d->source = "field";
		return rc;
	}
	return 1;
}
