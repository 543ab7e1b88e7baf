/* devfield.c - parsing every recorded form of the Development field (pure). */
#include <ctype.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

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
	json_decref(f->providers);
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

static int int_of(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	/* a count outside int (a broken summary) is "unknown", not undefined behaviour */
	if (json_is_integer(v))
		return json_integer_value(v) >= 0 && json_integer_value(v) <= INT_MAX ? (int)json_integer_value(v) : -1;
	if (json_is_real(v))
		return json_real_value(v) >= 0 && json_real_value(v) <= INT_MAX ? (int)json_real_value(v) : -1;
	return -1;
}

static void add_provider(json_t *arr, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (!strcmp(json_string_value(v), name))
			return;
	json_array_append_new(arr, json_string(name));
}

void jl_devfield_from_summary(jl_devfield *out, json_t *summary)
{
	static const char *types[] = { "pullrequest", "repository", "branch", "build", "review",
				       "deployment-environment" };
	int any = 0;

	if (!out->providers)
		out->providers = json_array();
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		json_t *item = json_object_get(summary, types[t]);
		json_t *ov = json_object_get(item, "overall");
		json_t *bit = json_object_get(item, "byInstanceType");
		const char *k, *lu;
		json_t *v;
		int count;

		if (!json_is_object(ov))
			continue;
		count = int_of(ov, "count");
		if (count > 0)
			any = 1;
		lu = json_string_value(json_object_get(ov, "lastUpdated"));
		if (lu && strcmp(lu, out->last_updated) > 0 && strlen(lu) < sizeof(out->last_updated))
			strcpy(out->last_updated, lu); /* same site, same offset: string order is time order */
		json_object_foreach(bit, k, v)
			if (out->providers)
				add_provider(out->providers, k);
		switch (t) {
		case 0: {
			const char *st = json_string_value(json_object_get(ov, "state"));
			json_t *det = json_object_get(ov, "details");
			int sc = int_of(ov, "stateCount");

			out->pr_count = count;
			if (count > 0 && st && strlen(st) < sizeof(out->pr_state))
				strcpy(out->pr_state, st);
			if (json_is_object(det)) {
				out->pr_open = int_of(det, "openCount");
				out->pr_merged = int_of(det, "mergedCount");
				out->pr_declined = int_of(det, "declinedCount");
			} else if (count == 0) {
				out->pr_open = out->pr_merged = out->pr_declined = 0;
			} else if (st && sc == count) {
				/* every PR is in the overall state */
				out->pr_open = !strcmp(st, "OPEN") ? count : 0;
				out->pr_merged = !strcmp(st, "MERGED") ? count : 0;
				out->pr_declined = !strcmp(st, "DECLINED") ? count : 0;
			}
			break;
		}
		case 1: out->commit_count = count; break;
		case 2: out->branch_count = count; break;
		case 3:
			out->build_count = count;
			out->build_failed = int_of(ov, "failedBuildCount");
			out->build_successful = int_of(ov, "successfulBuildCount");
			break;
		case 4: out->review_count = count; break;
		default: break;
		}
	}
	out->has_data = any;
}

/* "key=value, key=value" integers inside PullRequestOverallDetails{…}. */
static int kv_int(const char *s, size_t len, const char *key)
{
	const char *p = find_n(s, len, key);

	if (!p || p + strlen(key) >= s + len || p[strlen(key)] != '=')
		return -1;
	p += strlen(key) + 1;
	if (!isdigit((unsigned char)*p))
		return -1;
	return atoi(p);
}

/* The JSON after json= / devSummaryJson=, up to the field's final '}'. */
static int parse_embedded(jl_devfield *out, const char *s, size_t len, const char *marker)
{
	const char *p = find_n(s, len, marker);
	json_error_t err;
	json_t *doc, *cv;
	size_t off, used;

	if (!p)
		return JETL_EPROTOCOL;
	p += strlen(marker);
	off = (size_t)(p - s);
	doc = json_loadb(p, len - off, JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &err);
	if (!doc)
		return JETL_EPROTOCOL;
	used = (size_t)err.position;
	/* what is left must be the closing brace of the outer {…} */
	p += used;
	while (p < s + len && isspace((unsigned char)*p))
		p++;
	if (p >= s + len || *p != '}') {
		json_decref(doc);
		return JETL_EPROTOCOL;
	}
	out->stale = json_is_true(json_object_get(doc, "isStale"));
	cv = json_object_get(doc, "cachedValue");
	if (!json_is_object(cv) || !json_is_object(json_object_get(cv, "summary"))) {
		json_decref(doc);
		return JETL_EPROTOCOL;
	}
	out->summary = json_incref(json_object_get(cv, "summary"));
	json_decref(doc);
	jl_devfield_from_summary(out, out->summary);
	return 0;
}

int jl_devfield_parse(const char *s, size_t len, jl_devfield *out)
{
	int rc = 0;

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
		out->providers = json_array();
		return out->providers ? 0 : JETL_ENOMEM;
	}
	if (len > 26 && !memcmp(s, "PullRequestOverallDetails{", 26)) {
		out->form = JL_DEVFIELD_OVERALL;
		out->pr_open = kv_int(s, len, "openCount");
		out->pr_merged = kv_int(s, len, "mergedCount");
		out->pr_declined = kv_int(s, len, "declinedCount");
		out->providers = json_array();
		if (out->pr_open < 0 || out->pr_merged < 0 || out->pr_declined < 0) {
			out->form = JL_DEVFIELD_UNKNOWN;
			return JETL_EPROTOCOL;
		}
		out->pr_count = out->pr_open + out->pr_merged + out->pr_declined;
		strcpy(out->pr_state, out->pr_open ? "OPEN" : out->pr_merged ? "MERGED" :
				      out->pr_declined ? "DECLINED" : "");
		/* this form says nothing about commits: ask the API unless PRs show up */
		out->has_data = 1;
		return 0;
	}
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
	if (rc) {
		out->has_data = 1;
		if (!out->providers)
			out->providers = json_array();
	}
	return rc;
}
