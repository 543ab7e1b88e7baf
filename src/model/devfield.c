/* devfield.c - the Development field and the dev-status summary (pure). */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jetl/common.h"
#include "devfield.h"

static void reset(jl_devfield *f)
{
	memset(f, 0, sizeof(*f));
	f->pr_count = f->pr_open = f->pr_merged = f->pr_declined = -1;
	f->commit_count = f->branch_count = -1;
	f->build_count = f->build_failed = f->build_successful = -1;
	f->review_count = -1;
	f->has_data = 1;
}

void jl_devfield_clear(jl_devfield *f)
{
	if (!f)
		return;
	json_decref(f->summary);
	memset(f, 0, sizeof(*f));
}

static const char *find_n(const char *s, size_t len, const char *needle)
{
	size_t nl = strlen(needle);

	for (size_t i = 0; i + nl <= len; i++)
		if (!memcmp(s + i, needle, nl))
			return s + i;
	return NULL;
}

/* A count: a non-negative integer within int, else -1 ("not said"): a
 * broken summary's 1e70 or -3 is no count at all. */
static long count_of(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	if (json_is_integer(v))
		return json_integer_value(v) >= 0 && json_integer_value(v) <= INT_MAX ? (long)json_integer_value(v) : -1;
	if (json_is_real(v))
		return json_real_value(v) >= 0 && json_real_value(v) <= INT_MAX ? (long)json_real_value(v) : -1;
	return -1;
}

static void pull_requests(jl_devfield *out, const json_t *ov)
{
	const char *st = json_string_value(json_object_get(ov, "state"));
	const json_t *det = json_object_get(ov, "details");
	long count = count_of(ov, "count"), sc = count_of(ov, "stateCount");
	long *in_state = NULL;

	out->pr_count = count;
	/* Server says state=OPEN with no PRs at all */
	if (count > 0 && st && strlen(st) < sizeof(out->pr_state))
		strcpy(out->pr_state, st);
	if (json_is_object(det)) {
		out->pr_open = count_of(det, "openCount");
		out->pr_merged = count_of(det, "mergedCount");
		out->pr_declined = count_of(det, "declinedCount");
		return;
	}
	if (!st)
		return;
	if (!strcasecmp(st, "OPEN"))
		in_state = &out->pr_open;
	else if (!strcasecmp(st, "MERGED"))
		in_state = &out->pr_merged;
	else if (!strcasecmp(st, "DECLINED"))
		in_state = &out->pr_declined;
	if (!in_state)
		return;
	if (sc >= 0 && sc == count)
		out->pr_open = out->pr_merged = out->pr_declined = 0; /* every PR is in that state */
	*in_state = sc;
}

/* Counts from the inner summary object; borrows it. */
static void read_items(jl_devfield *out, const json_t *summary)
{
	static const char *const detail[] = JL_DEVFIELD_DETAIL_TYPES;
	const char *k;
	json_t *item;

	json_object_foreach((json_t *)summary, k, item) {
		const json_t *ov = json_object_get(item, "overall");

		if (!json_is_object(ov))
			continue;
		out->items++;
		for (size_t t = 0; t < sizeof(detail) / sizeof(detail[0]); t++)
			out->detail_types += !strcmp(k, detail[t]);
		if (count_of(ov, "count") > 0)
			out->has_data = 1;
		if (!strcmp(k, "pullrequest")) {
			pull_requests(out, ov);
		} else if (!strcmp(k, "repository")) {
			out->commit_count = count_of(ov, "count"); /* the summary counts commits here */
		} else if (!strcmp(k, "branch")) {
			out->branch_count = count_of(ov, "count");
		} else if (!strcmp(k, "build")) {
			out->build_count = count_of(ov, "count");
			out->build_failed = count_of(ov, "failedBuildCount");
			out->build_successful = count_of(ov, "successfulBuildCount");
		} else if (!strcmp(k, "review")) {
			out->review_count = count_of(ov, "count");
		}
	}
}

int jl_devfield_summary(jl_devfield *out, const json_t *v)
{
	const json_t *s;

	reset(out);
	out->form = JL_DEVFIELD_API;
	out->has_data = 0;
	if (!json_is_object(v))
		return 1;
	out->stale = json_is_true(json_object_get(v, "isStale"));
	if (json_is_object(json_object_get(v, "cachedValue")))
		v = json_object_get(v, "cachedValue");
	s = json_object_get(v, "summary");
	if (!json_is_object(s))
		s = v; /* the inner summary itself */
	read_items(out, s);
	if (!out->items && s == v)
		return 1; /* neither an item nor a "summary" object: not a summary */
	out->summary = json_incref((json_t *)s);
	return 0;
}

int jl_devfield_complete(const jl_devfield *f)
{
	static const char *const detail[] = JL_DEVFIELD_DETAIL_TYPES;

	return f->summary && !f->stale && f->detail_types == (int)(sizeof(detail) / sizeof(detail[0]));
}

/* "key=value" integers inside PullRequestOverallDetails{…}: -1 when absent. */
static long kv_int(const char *s, size_t len, const char *key)
{
	const char *p = find_n(s, len, key);

	if (!p || p + strlen(key) >= s + len || p[strlen(key)] != '=')
		return -1;
	p += strlen(key) + 1;
	if (p >= s + len || !isdigit((unsigned char)*p))
		return -1;
	return strtol(p, NULL, 10);
}

/* The JSON after json= / devSummaryJson=, up to the field's final '}'. */
static int parse_embedded(jl_devfield *out, const char *s, size_t len, const char *marker)
{
	const char *p = find_n(s, len, marker);
	json_error_t err;
	json_t *doc;
	size_t off;
	int form = out->form, rc;

	if (!p)
		return JETL_EPROTOCOL;
	p += strlen(marker);
	off = (size_t)(p - s);
	if (off >= len || *p != '{')
		return JETL_EPROTOCOL;
	doc = json_loadb(p, len - off, JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &err);
	if (!doc)
		return JETL_EPROTOCOL;
	/* what is left must be the closing brace of the outer {…} */
	p += (size_t)err.position;
	while (p < s + len && isspace((unsigned char)*p))
		p++;
	if (p >= s + len || *p != '}' || !json_is_object(json_object_get(doc, "cachedValue"))) {
		json_decref(doc);
		return JETL_EPROTOCOL;
	}
	rc = jl_devfield_summary(out, doc);
	json_decref(doc);
	out->form = form;
	return rc == 0 ? 0 : rc == 1 ? JETL_EPROTOCOL : rc;
}

static int parse_overall(jl_devfield *out, const char *s, size_t len)
{
	out->form = JL_DEVFIELD_OVERALL;
	out->pr_open = kv_int(s, len, "openCount");
	out->pr_merged = kv_int(s, len, "mergedCount");
	out->pr_declined = kv_int(s, len, "declinedCount");
	if (out->pr_open < 0 || out->pr_merged < 0 || out->pr_declined < 0 || out->pr_open > INT_MAX ||
	    out->pr_merged > INT_MAX || out->pr_declined > INT_MAX) {
		out->pr_open = out->pr_merged = out->pr_declined = -1;
		out->form = JL_DEVFIELD_UNKNOWN;
		return JETL_EPROTOCOL;
	}
	out->pr_count = out->pr_open + out->pr_merged + out->pr_declined;
	strcpy(out->pr_state, out->pr_open ? "OPEN" : out->pr_merged ? "MERGED" : out->pr_declined ? "DECLINED" : "");
	/* this form says nothing about commits: ask the API */
	out->has_data = 1;
	return 0;
}

int jl_devfield_parse(const char *s, size_t len, jl_devfield *out)
{
	int rc;

	reset(out);
	while (s && len && isspace((unsigned char)*s))
		s++, len--;
	while (s && len && isspace((unsigned char)s[len - 1]))
		len--;
	if (!s || !len) {
		out->form = JL_DEVFIELD_ABSENT;
		return 0;
	}
	if (len == 2 && !memcmp(s, "{}", 2)) {
		out->form = JL_DEVFIELD_EMPTY;
		out->has_data = 0;
		out->pr_count = out->pr_open = out->pr_merged = out->pr_declined = 0;
		out->commit_count = out->branch_count = out->build_count = 0;
		out->build_failed = out->build_successful = out->review_count = 0;
		return 0;
	}
	if (len > 26 && !memcmp(s, "PullRequestOverallDetails{", 26))
		return parse_overall(out, s, len);
	if (s[0] == '{' && find_n(s, len, "devSummaryJson=")) {
		out->form = JL_DEVFIELD_SERVER;
		rc = parse_embedded(out, s, len, "devSummaryJson=");
	} else if (s[0] == '{' && find_n(s, len, "json=")) {
		out->form = JL_DEVFIELD_CLOUD;
		rc = parse_embedded(out, s, len, "json=");
	} else {
		out->form = JL_DEVFIELD_UNKNOWN;
		rc = JETL_EPROTOCOL;
	}
	if (rc)
		out->has_data = 1;
	return rc;
}
