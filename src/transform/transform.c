/* transform.c - a raw row → work_items, changelogs and dev_status rows. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jetl/common.h"
#include "../core/util.h"
#include "dev_status.h"
#include "devspans.h"
#include "json.h"
#include "sprint.h"
#include "jparse.h"
#include "jscan.h"
#include "xf.h"

const char *const jl_dev_status_cols[] = { "work_item_external_id", "pr_count", "pr_state",
	"pr_open_count", "pr_merged_count", "pr_declined_count", "commit_count", "branch_count",
	"repository_count", "build_count", "build_failed_count", "build_successful_count",
	"review_count", "providers", "repositories", "last_updated", "is_stale", "source", "detail" };
const int jl_dev_status_ncols = (int)(sizeof(jl_dev_status_cols) / sizeof(jl_dev_status_cols[0]));

enum { D_WID, D_PR, D_PR_STATE, D_PR_OPEN, D_PR_MERGED, D_PR_DECLINED, D_COMMITS, D_BRANCHES,
	D_REPOS, D_BUILDS, D_BUILDS_FAILED, D_BUILDS_OK, D_REVIEWS, D_PROVIDERS, D_REPOSITORIES,
	D_UPDATED, D_STALE, D_SOURCE, D_DETAIL };

static const char *const history_cols[] = { "external_id" };

const char *const jl_issue_errors_cols[] = { "external_id", "key", "position", "error" };
const int jl_issue_errors_ncols = (int)(sizeof(jl_issue_errors_cols) / sizeof(jl_issue_errors_cols[0]));

void jl_transform_out_init(jl_transform_out *out)
{
	memset(out, 0, sizeof(*out));
	jl_rowset_init(&out->work_items, "work_items", jl_work_items_cols, jl_work_items_ncols);
	jl_rowset_init(&out->changelogs, "changelogs", jl_changelogs_cols, jl_changelogs_ncols);
	jl_rowset_init(&out->dev_status, "dev_status", jl_dev_status_cols, jl_dev_status_ncols);
	jl_rowset_init(&out->history_read, "history_read", history_cols, 1);
	jl_rowset_init(&out->issue_errors, "issue_errors", jl_issue_errors_cols, jl_issue_errors_ncols);
	for (int p = 0; p < JL_PART_N; p++)
		jl_rowset_init(&out->parts[p], jl_parts[p].table, jl_parts[p].cols, jl_parts[p].ncols);
	jl_rowset_init(&out->parts_read, "parts_read", jl_parts_read_cols, 2);
}

void jl_transform_out_free(jl_transform_out *out)
{
	if (!out)
		return;
	jl_rowset_free(&out->work_items);
	jl_rowset_free(&out->changelogs);
	jl_rowset_free(&out->dev_status);
	jl_rowset_free(&out->history_read);
	jl_rowset_free(&out->issue_errors);
	for (int p = 0; p < JL_PART_N; p++)
		jl_rowset_free(&out->parts[p]);
	jl_rowset_free(&out->parts_read);
}

const char *jl_json_type_name(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "real number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	default: return v ? "null" : "missing value";
	}
}

static int issue_prefix(const jl_xf *xf, char *dst, size_t n)
{
	return snprintf(dst, n, "issue %s (%s)", xf->issue_id ? xf->issue_id : "?",
		xf->issue_key ? xf->issue_key : "no key");
}

int jl_xf_fail(jl_xf *xf, const char *field, const char *fmt, ...)
{
	char tmp[sizeof(xf->out->err)], why[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	issue_prefix(xf, tmp, sizeof(tmp));
	snprintf(tmp + strlen(tmp), sizeof(tmp) - strlen(tmp), ": field '%s': %s", field, why);
	jl_one_line(xf->out->err, sizeof(xf->out->err), tmp);
	return JETL_EDATA;
}

void jl_xf_warn(jl_xf *xf, const char *fmt, ...)
{
	char tmp[512], line[512];
	int n;
	va_list ap;

	xf->out->warnings++;
	if (!xf->in->warn)
		return;
	n = issue_prefix(xf, tmp, sizeof(tmp));
	snprintf(tmp + n, sizeof(tmp) - (size_t)n, ": ");
	va_start(ap, fmt);
	vsnprintf(tmp + n + 2, sizeof(tmp) - (size_t)n - 2, fmt, ap);
	va_end(ap);
	jl_one_line(line, sizeof(line), tmp);
	xf->in->warn(xf->in->warn_userdata, line);
}

int jl_xf_oom(jl_xf *xf)
{
	snprintf(xf->out->err, sizeof(xf->out->err), "transform: out of memory");
	return JETL_ENOMEM;
}

/*
 * Fields the catalog does not name are detected by their values, over the
 * whole batch (one issue's "{}" says nothing, another's JSON does):
 * Sprint = an array of sprint objects or Server sprint strings;
 * Development = a string in one of the field's non-empty forms.
 * Story Points and Epic Link have no telling shape (a number, a key), so
 * without a synced catalog they are left alone: their values stay in the
 * overflow and parent comes from `parent` only.
 */
static void detect(jl_xf *xf, const json_t *issues)
{
	size_t i;
	json_t *issue;

	json_array_foreach(issues, i, issue) {
		const char *k;
		json_t *v;

		if (xf->cat.sprint && xf->cat.development)
			return;
		json_object_foreach(json_object_get(issue, "fields"), k, v) {
			if (strncmp(k, "customfield_", 12) != 0)
				continue;
			if (!xf->cat.sprint && jl_sprint_looks_like(v))
				xf->cat.sprint = (char *)k;
			else if (!xf->cat.development && json_is_string(v) &&
				 jl_dev_field_looks_like(json_string_value(v)))
				xf->cat.development = (char *)k;
		}
	}
}

/* The detail as compact JSON in xf->tmp: from its text sp when the tree
 * is a trimmed one (per_issue: its text needs a tree of its own, a number
 * to convert), else from the tree. */
static int detail_compact(jl_xf *xf, const json_t *tree, const jl_jspan *sp)
{
	json_t *whole = sp ? jl_json_parse(sp->p, sp->n, NULL, NULL, 0) : NULL;
	int rc;

	if (sp && !whole)
		return jl_xf_oom(xf);   /* the trimmed parse took this very text */
	jl_buf_clear(&xf->tmp);
	rc = jl_json_compact(&xf->tmp, whole ? whole : tree);
	json_decref(whole);
	return rc < 0 ? jl_xf_fail(xf, "dev_status", "detail holds a non-finite number") : 0;
}

static int dev_row(jl_xf *xf, const jl_dev *d)
{
	jl_rowset *rs = &xf->out->dev_status;
	long lrow = jl_rowset_add_row(rs);
	size_t r;
	int bad = 0;

	if (lrow < 0)
		return jl_xf_oom(xf);
	r = (size_t)lrow;
	bad |= jl_rowset_sets(rs, r, D_WID, xf->issue_id);
	bad |= jl_rowset_set_int(rs, r, D_PR, d->pr_count);
	bad |= jl_rowset_sets(rs, r, D_PR_STATE, d->pr_state[0] ? d->pr_state : NULL);
	bad |= jl_rowset_set_int(rs, r, D_PR_OPEN, d->pr_open);
	bad |= jl_rowset_set_int(rs, r, D_PR_MERGED, d->pr_merged);
	bad |= jl_rowset_set_int(rs, r, D_PR_DECLINED, d->pr_declined);
	bad |= jl_rowset_set_int(rs, r, D_COMMITS, d->commits);
	bad |= jl_rowset_set_int(rs, r, D_BRANCHES, d->branches);
	bad |= jl_rowset_set_int(rs, r, D_REPOS, d->repos);
	bad |= jl_rowset_set_int(rs, r, D_BUILDS, d->builds);
	bad |= jl_rowset_set_int(rs, r, D_BUILDS_FAILED, d->builds_failed);
	bad |= jl_rowset_set_int(rs, r, D_BUILDS_OK, d->builds_ok);
	bad |= jl_rowset_set_int(rs, r, D_REVIEWS, d->reviews);
	bad |= jl_rowset_set_array(rs, r, D_PROVIDERS, (const char *const *)d->providers, (size_t)d->nproviders);
	bad |= jl_rowset_set_array(rs, r, D_REPOSITORIES, (const char *const *)d->repositories,
		(size_t)d->nrepositories);
	bad |= jl_rowset_sets(rs, r, D_UPDATED, d->last_updated[0] ? d->last_updated : NULL);
	bad |= jl_rowset_sets(rs, r, D_STALE, d->is_stale ? "t" : "f");
	bad |= jl_rowset_sets(rs, r, D_SOURCE, d->source);
	if (d->detail) {
		const jl_jspan *sp = xf->dev_spans && xf->lookup_id ?
			jl_dev_spans_detail(xf->dev_spans, xf->lookup_id) : NULL;
		int rc;

		if (sp && jl_json_check(sp->p, sp->n, NULL, NULL, 0) == JL_JSON_TEXT_OK)
			bad |= jl_rowset_set(rs, r, D_DETAIL, sp->p, sp->n);
		else if ((rc = detail_compact(xf, d->detail, sp)) != 0)
			return rc;
		else
			bad |= jl_rowset_set(rs, r, D_DETAIL, xf->tmp.data, xf->tmp.len);
	}
	return bad ? jl_xf_oom(xf) : 0;
}

/*
 * Where the strip walk stops: the identifiers (an issue's id and key, each
 * history's id) are escaped where they are written (jl_id_escape), never
 * stripped, so two ids stay two. Everything else loses its U+0000.
 */
static const char *const issue_ids[] = { "id", "key", "changelog", NULL };
static const char *const log_parts[] = { "histories", "values", NULL };
static const char *const history_ids[] = { "id", NULL };

static long strip_histories(json_t *hs)
{
	long n = 0, r;
	size_t i;
	json_t *h;

	if (!json_is_array(hs))
		return hs ? jl_json_strip_nul(hs) : 0;
	json_array_foreach(hs, i, h) {
		if ((r = jl_json_strip_nul_except(h, history_ids)) < 0)
			return -1;
		n += r;
	}
	return n;
}

/* A changelog: an array of histories, or an object holding them in
 * "histories" (embedded) or "values" (a changelog page). */
static long strip_log(json_t *log)
{
	long a, b, c;

	if (!log || json_is_array(log))
		return strip_histories(log);
	if ((a = jl_json_strip_nul_except(log, log_parts)) < 0 || !json_is_object(log))
		return a;
	b = strip_histories(json_object_get(log, "histories"));
	c = strip_histories(json_object_get(log, "values"));
	return b < 0 || c < 0 ? -1 : a + b + c;
}

static long strip_issue(json_t *issue)
{
	long a = jl_json_strip_nul_except(issue, issue_ids), b;

	if (a < 0 || !json_is_object(issue))
		return a;
	b = strip_log(json_object_get(issue, "changelog"));
	return b < 0 ? -1 : a + b;
}

/* Remove \u0000 from the values of v (walk: which of them), one warning
 * per repaired string. The strings of the ids xf holds are never among
 * them. */
static int strip(jl_xf *xf, json_t *v, const char *what, long (*walk)(json_t *))
{
	long n = v && xf->may_have_nul ? walk(v) : 0;

	if (n < 0)
		return jl_xf_oom(xf);
	if (n > 0) {
		jl_xf_warn(xf, "%s: \\u0000 removed from %ld string value(s) (PostgreSQL text cannot hold it)",
			what, n);
		xf->out->warnings += n - 1;
	}
	return 0;
}

/* The id or key s (len bytes) as written: itself, or escaped into b when
 * it holds a U+0000 or a '%' (jl_id_escape), with a warning for a U+0000.
 * NULL on OOM. */
static const char *id_text(jl_xf *xf, jl_buf *b, const char *s, size_t len, const char *what)
{
	if (!jl_id_needs_escape(s, len))
		return s;
	jl_buf_clear(b);
	if (jl_id_escape(b, s, len) < 0)
		return NULL;
	if (memchr(s, '\0', len))
		jl_xf_warn(xf, "%s %s: \\u0000 written as %%00 (an id is escaped, not stripped)", what, b->data);
	return b->data;
}

/* Dev status of one issue: fetched summary/detail first, else the field. */
static int dev_of(jl_xf *xf, const json_t *fields, json_t *fetched, jl_dev *d)
{
	const json_t *f = xf->cat.development ? json_object_get(fields, xf->cat.development) : NULL;
	int rc;

	/* A fetched entry of the wrong shape warns, as a field of the wrong
	 * type does: the issue is kept, its dev status comes from the field. */
	if (json_is_object(fetched)) {
		json_t *s = json_object_get(fetched, "summary");
		json_t *det = json_object_get(fetched, "detail");

		if (s && !json_is_null(s)) {
			if ((rc = jl_dev_from_summary(d, s)) < 0)
				return jl_xf_oom(xf);
			if (rc == 1)
				jl_xf_warn(xf, "dev_status: summary in an unknown form (a %s): ignored",
					jl_json_type_name(s));
		}
		if (det && !json_is_null(det)) {
			if ((rc = jl_dev_from_detail(d, det)) < 0)
				return jl_xf_oom(xf);
			if (rc == 1)
				jl_xf_warn(xf, "dev_status: detail in an unknown form (a %s): ignored",
					jl_json_type_name(det));
		}
		if ((!s || json_is_null(s)) && (!det || json_is_null(det)))
			jl_xf_warn(xf, "dev_status: an object with neither \"summary\" nor \"detail\": ignored");
		if (d->present)
			return 0;
	} else if (fetched && !json_is_null(fetched)) {
		jl_xf_warn(xf, "dev_status: expected an object, got a %s: ignored", jl_json_type_name(fetched));
	}
	if (!f || json_is_null(f))
		return 0;
	if (!json_is_string(f))
		return jl_xf_fail(xf, xf->cat.development, "Development: expected a string, got a %s",
			jl_json_type_name(f));
	rc = jl_dev_from_field(d, json_string_value(f), json_string_length(f));
	if (rc < 0)
		return jl_xf_oom(xf);
	if (rc == 1)
		jl_xf_warn(xf, "field '%s': Development value in an unknown form: no dev status from it",
			xf->cat.development);
	return 0;
}

/* The issue's id and key into xf (issue_id, issue_key as written,
 * lookup_id), or JETL_EDATA when one is missing or of the wrong type. */
static int read_ids(jl_xf *xf, const json_t *issue, size_t idx)
{
	const json_t *id = json_object_get(issue, "id"), *key = json_object_get(issue, "key");

	xf->lookup_id = NULL;
	xf->issue_key = json_string_value(key);
	if (json_is_string(id) && json_string_length(id) > 0) {
		const char *s = json_string_value(id);

		if (!memchr(s, '\0', json_string_length(id)))
			xf->lookup_id = s;
		if (!(xf->issue_id = id_text(xf, &xf->idesc, s, json_string_length(id), "id")))
			return jl_xf_oom(xf);
	} else if (json_is_integer(id)) {
		snprintf(xf->idbuf, sizeof(xf->idbuf), "%" JSON_INTEGER_FORMAT, json_integer_value(id));
		xf->issue_id = xf->lookup_id = xf->idbuf;
	} else {
		snprintf(xf->idbuf, sizeof(xf->idbuf), "#%zu", idx);
		xf->issue_id = xf->idbuf;
		return jl_xf_fail(xf, "id", "%s", id ? "not a string or integer" : "missing");
	}
	xf->id_read = 1;
	if (!json_is_string(key) || json_string_length(key) == 0)
		return jl_xf_fail(xf, "key", "%s", key ? "not a non-empty string" : "missing");
	if (!(xf->issue_key = id_text(xf, &xf->keyesc, xf->issue_key, json_string_length(key), "key")))
		return jl_xf_oom(xf);
	return 0;
}

static int one_issue(jl_xf *xf, json_t *issue, size_t idx, json_t *logs, json_t *devs)
{
	const json_t *fields, *cl;
	json_t *completed, *fetched;
	jl_dev d;
	int rc, history_read = 0;

	xf->issue_id = NULL;
	xf->issue_key = NULL;
	xf->id_read = 0;
	if (!json_is_object(issue)) {
		snprintf(xf->idbuf, sizeof(xf->idbuf), "#%zu", idx);
		xf->issue_id = xf->idbuf;
		return jl_xf_fail(xf, "issue", "expected an object, got a %s", jl_json_type_name(issue));
	}
	if ((rc = read_ids(xf, issue, idx)) != 0)
		return rc;
	if ((rc = strip(xf, issue, "fields", strip_issue)) != 0)
		return rc;
	/* An id holding a U+0000 is no key of these objects (jansson refuses
	 * one in a key): looked up by its stripped text, it would take
	 * another issue's. */
	completed = xf->lookup_id ? json_object_get(logs, xf->lookup_id) : NULL;
	fetched = xf->lookup_id ? json_object_get(devs, xf->lookup_id) : NULL;
	if ((rc = strip(xf, completed, "changelog", strip_log)) != 0 ||
	    (rc = strip(xf, fetched, "dev_status", jl_json_strip_nul)) != 0)
		return rc;
	fields = json_object_get(issue, "fields");
	jl_dev_init(&d);
	if (json_is_object(fields) && (rc = dev_of(xf, fields, fetched, &d)) != 0)
		goto out;
	if ((rc = jl_work_item_map(xf, issue, &d)) != 0 || (rc = jl_issue_parts_map(xf, issue)) != 0)
		goto out;
	if (d.present && (rc = dev_row(xf, &d)) != 0)
		goto out;
	/* The completed log (oldest first) wins over the embedded one (newest
	 * first, capped by Jira). Accept a changelog page object too. */
	if (json_is_object(completed) && json_is_array(json_object_get(completed, "values")))
		completed = json_object_get(completed, "values");
	if (completed && !json_is_null(completed)) {
		rc = jl_changelog_map(xf, completed, 0);
		history_read = 1;
	} else if ((cl = json_object_get(issue, "changelog")) && !json_is_null(cl)) {
		const json_t *h = json_object_get(cl, "histories");
		json_int_t total = json_integer_value(json_object_get(cl, "total"));

		if (!json_is_object(cl))
			rc = jl_xf_fail(xf, "changelog", "expected an object, got a %s", jl_json_type_name(cl));
		else if (h && (rc = jl_changelog_map(xf, h, 1)) == 0 && (history_read = 1) &&
			 total > (json_int_t)json_array_size(h))
			jl_xf_warn(xf, "changelog: only %zu of %" JSON_INTEGER_FORMAT
				" histories embedded and none completed: history is partial",
				json_array_size(h), total);
	}
	if (rc == 0 && history_read) {
		long r = jl_rowset_add_row(&xf->out->history_read);

		if (r < 0 || jl_rowset_sets(&xf->out->history_read, (size_t)r, 0, xf->issue_id) < 0)
			rc = jl_xf_oom(xf);
	}
out:
	jl_dev_free(&d);
	return rc;
}

/* Row counts of the output before an issue, to undo it if it fails. */
typedef struct mark {
	size_t wi, cl, ds, hr;
	size_t parts[JL_PART_N], parts_read;
} mark;

static mark mark_now(const jl_transform_out *out)
{
	mark m = { out->work_items.nrows, out->changelogs.nrows, out->dev_status.nrows, out->history_read.nrows,
		{ 0 } };

	for (int p = 0; p < JL_PART_N; p++)
		m.parts[p] = out->parts[p].nrows;
	m.parts_read = out->parts_read.nrows;
	return m;
}

/*
 * The issue at position idx failed with out->err (JETL_EDATA): drop the rows
 * it had made, record it in issue_errors, warn, clear the error so the next
 * issue goes on. id is NULL when the issue's id could not be read. Returns 0
 * or JETL_ENOMEM.
 */
static int isolate(jl_xf *xf, const mark *m, size_t idx, const char *id, const char *key)
{
	jl_transform_out *out = xf->out;
	jl_rowset *rs = &out->issue_errors;
	long r;
	int bad;

	jl_rowset_truncate(&out->work_items, m->wi);
	jl_rowset_truncate(&out->changelogs, m->cl);
	jl_rowset_truncate(&out->dev_status, m->ds);
	jl_rowset_truncate(&out->history_read, m->hr);
	for (int p = 0; p < JL_PART_N; p++)
		jl_rowset_truncate(&out->parts[p], m->parts[p]);
	jl_rowset_truncate(&out->parts_read, m->parts_read);
	jl_accounts_forget(xf);
	if ((r = jl_rowset_add_row(rs)) < 0)
		return jl_xf_oom(xf);
	bad = jl_rowset_sets(rs, (size_t)r, 0, id);
	bad |= jl_rowset_sets(rs, (size_t)r, 1, key);
	bad |= jl_rowset_set_int(rs, (size_t)r, 2, (long long)idx);
	bad |= jl_rowset_sets(rs, (size_t)r, 3, out->err);
	if (bad)
		return jl_xf_oom(xf);
	if (xf->in->warn) {
		char line[sizeof(out->err) + 64];

		snprintf(line, sizeof(line), "%s: issue not stored (recorded in issue_errors)", out->err);
		xf->in->warn(xf->in->warn_userdata, line);
	}
	out->warnings++;
	out->err[0] = '\0';
	return 0;
}

/* The id one_issue read, or NULL when it could not read one (the
 * messages then say "#<position>"). */
static const char *read_id(const jl_xf *xf)
{
	return xf->id_read ? xf->issue_id : NULL;
}

/* "invalid JSON at line L column C" of a byte offset of the raw text. */
static int bad_json_at(const jl_transform_in *in, jl_transform_out *out, size_t off, const char *why)
{
	char tmp[sizeof(out->err)];
	int line = 1, col = 1;

	for (size_t k = 0; k < off && k < in->raw_len; k++, col++)
		if (in->raw[k] == '\n') {
			line++;
			col = 0;
		}
	snprintf(tmp, sizeof(tmp), "raw row %lld: invalid JSON at line %d column %d: %s",
		(long long)in->raw_id, line, col, why);
	jl_one_line(out->err, sizeof(out->err), tmp);
	return JETL_EDATA;
}

/* Parse one span of the raw text; NULL (error recorded) when invalid. */
static json_t *parse_span(const jl_transform_in *in, jl_transform_out *out, const jl_jspan *sp)
{
	char why[160];
	size_t at = 0;
	json_t *v = jl_json_parse(sp->p, sp->n, &at, why, sizeof(why));

	if (!v)
		bad_json_at(in, out, (size_t)(sp->p - in->raw) + at, why);
	return v;
}

/* "comments" and "worklogs", when there, are objects keyed by issue id. */
static int check_items(jl_xf *xf, json_t *const items[2])
{
	for (int k = 0; k < 2; k++)
		if (items[k] && !json_is_object(items[k]) && !json_is_null(items[k])) {
			snprintf(xf->out->err, sizeof(xf->out->err),
				"raw row %lld: \"comments\"/\"worklogs\" must be objects keyed by issue id",
				(long long)xf->in->raw_id);
			return JETL_EDATA;
		}
	return 0;
}

static int check_parts(jl_xf *xf, const json_t *logs, const json_t *devs)
{
	if ((logs && !json_is_object(logs) && !json_is_null(logs)) ||
	    (devs && !json_is_object(devs) && !json_is_null(devs))) {
		snprintf(xf->out->err, sizeof(xf->out->err),
			"raw row %lld: \"changelogs\"/\"dev_status\" must be objects keyed by issue id",
			(long long)xf->in->raw_id);
		return JETL_EDATA;
	}
	return 0;
}

/* The issue at the start of p (jl_json_parse_prefix), its overflow-bound
 * custom fields kept as text (custom_fields.c). Only on this path: the
 * whole-page one needs every value for detect(). */
static json_t *parse_issue(jl_xf *xf, const char *p, size_t n, size_t *used)
{
	/* Never read anywhere in an issue: REST addresses, avatar links (four
	 * per user, one user per history) and history metadata. Left out of
	 * the tree, with the standard fields nothing reads (jl_xf_keep_text):
	 * 25 % of the nodes of the benchmark's small issues. */
	static const char *const unread[] = { "self", "avatarUrls", "historyMetadata", NULL };
	const jl_json_lazy lazy = { "fields", jl_xf_keep_text, jl_xf_stand_in, xf, unread, &xf->issue_nul };

	xf->nspans = 0;
	xf->issue_nul = 0;
	return jl_json_parse_prefix_lazy(p, n, used, &lazy);
}

/* Never read in a dev-status summary or detail (dev_status.c, devfield.c):
 * commit files and messages, people, links. */
static const char *const dev_unread[] = { "files", "author", "message", "url", "avatar", "lastCommit",
	"reviewers", "source", "destination", "displayId", "authorTimestamp", "fileCount",
	"createPullRequestUrl", "id", "commentCount", "lastUpdate", NULL };

/* The "dev_status" part of a raw row as a tree. Unless a \u0000 is in it
 * (nul: the strip walk needs whole trees), with each detail's text indexed
 * in spans, xf->dev_spans set, and the tree trimmed of dev_unread: dev_row
 * copies a detail's text instead of writing its tree out. Returns 0, or a
 * status with the error recorded. */
static int parse_devs(jl_xf *xf, const jl_jspan *ds, int nul, jl_dev_spans *spans, json_t **devs)
{
	const jl_json_lazy trim = { NULL, NULL, NULL, NULL, dev_unread, NULL };
	int rc = nul ? -1 : jl_dev_spans_index(spans, ds->p, ds->n);
	char why[160];
	size_t at = 0;

	if (rc == JL_DEVSPANS_NOMEM)
		return jl_xf_oom(xf);
	if (rc < 0) {
		*devs = parse_span(xf->in, xf->out, ds);
		return *devs ? 0 : JETL_EDATA;
	}
	if (!(*devs = jl_json_parse_lazy(ds->p, ds->n, &at, why, sizeof(why), &trim))) {
		bad_json_at(xf->in, xf->out, (size_t)(ds->p - xf->in->raw) + at, why);
		return JETL_EDATA;
	}
	xf->dev_spans = spans;
	return 0;
}

/* The changelogs and dev status of a raw row (ls, ds: p NULL when absent)
 * as checked trees in *logs, *devs (the caller releases them, on failure
 * too). *nul: whether either holds a \u0000. Which issues need the strip
 * walk: the ones whose own tree holds one (the parser says so: no pass over
 * the text, which cost 3 % of the worker's CPU), or all when these parts
 * (mapped with any issue) hold one. Returns 0 or a status. */
static int parse_parts(jl_xf *xf, const jl_jspan *sp, jl_dev_spans *spans, json_t **logs, json_t **devs, int *nul)
{
	const jl_jspan *ls = &sp[1], *ds = &sp[2];
	int rc = 0;

	*nul = 0;
	for (int k = 1; k < JL_RAW_NPARTS; k++)
		*nul |= sp[k].p && memmem(sp[k].p, sp[k].n, "\\u0000", 6) != NULL;
	if (ls->p && !(*logs = parse_span(xf->in, xf->out, ls)))
		return JETL_EDATA;
	if (ds->p && (rc = parse_devs(xf, ds, *nul, spans, devs)) != 0)
		return rc;
	/* comments, worklogs: owned by the xf (released in jl_transform_raw) */
	for (int k = 0; k < 2; k++)
		if (sp[3 + k].p && !(xf->items_done[k] = parse_span(xf->in, xf->out, &sp[3 + k])))
			return JETL_EDATA;
	if ((rc = check_items(xf, xf->items_done)) != 0)
		return rc;
	return check_parts(xf, *logs, *devs);
}

/*
 * The issues one at a time (see jscan.h): each element of the issues array
 * is parsed, mapped and freed before the next. Only when the catalog names
 * both the Sprint and the Development field: otherwise detect() needs every
 * issue at once.
 */
static int per_issue(jl_xf *xf, const jl_jspan *sp)
{
	const jl_jspan *is = &sp[0];
	const jl_transform_in *in = xf->in;
	const char *p, *e;
	json_t *logs = NULL, *devs = NULL;
	jl_dev_spans spans = { NULL, 0, 0 };
	size_t idx = 0;
	mark m;
	int rc = 0, nul_in_parts;

	if (!is->p || is->p[0] != '[') {
		snprintf(xf->out->err, sizeof(xf->out->err), "raw row %lld: no \"issues\" array", (long long)in->raw_id);
		return JETL_EDATA;
	}
	if ((rc = parse_parts(xf, sp, &spans, &logs, &devs, &nul_in_parts)) != 0)
		goto out;
	p = jl_jscan_ws(is->p + 1, e = is->p + is->n);
	if (p < e && *p == ']')
		goto out;
	for (;;) {
		jl_jspan el = { p, 0 };
		const char *end;
		json_t *issue;
		int parsed;

		/* Parsed where it starts, so a valid issue is read once; only an
		 * invalid one (or a scalar) is scanned for its extent (jscan.h) and parsed again
		 * for the reason. The scan before every parse cost 7 % of the
		 * worker's CPU. */
		if ((issue = parse_issue(xf, p, (size_t)(e - p), &el.n)) && !json_is_object(issue) &&
		    !json_is_array(issue)) {
			/* A scalar's extent is the scan's (up to a delimiter:
			 * "12x" is one bad issue, not 12 and then junk). */
			json_decref(issue);
			issue = NULL;
		}
		parsed = issue != NULL;
		if (issue) {
			end = p + el.n;
		} else if (!(end = jl_jscan_value(p, e))) {
			rc = bad_json_at(in, xf->out, (size_t)(p - in->raw), "an issue does not end");
			break;
		} else {
			el.n = (size_t)(end - p);
		}
		m = mark_now(xf->out);
		if (!issue && !(issue = parse_span(in, xf->out, &el))) {
			/* Its extent is known (the scan found its end): only
			 * this issue is lost. */
			rc = isolate(xf, &m, idx++, NULL, NULL);
		} else {
			/* A tree parse_span built (after a failed lazy parse) was
			 * not watched: scan its text. */
			xf->may_have_nul = nul_in_parts || xf->issue_nul || (!parsed && memmem(el.p, el.n, "\\u0000", 6));
			rc = one_issue(xf, issue, idx, logs, devs);
			if (rc == JETL_EDATA)
				rc = isolate(xf, &m, idx, read_id(xf), xf->issue_key);
			idx++;
			json_decref(issue);
		}
		if (rc)
			break;
		p = jl_jscan_ws(end, e);
		if (p < e && *p == ',') {
			p = jl_jscan_ws(p + 1, e);
			continue;
		}
		if (p >= e || *p != ']')
			rc = bad_json_at(in, xf->out, (size_t)(p - in->raw), "',' or ']' expected after an issue");
		break;
	}
out:
	xf->dev_spans = NULL;
	jl_dev_spans_free(&spans);
	json_decref(logs);
	json_decref(devs);
	return rc;
}

int jl_transform_raw(const jl_transform_in *in, jl_transform_out *out)
{
	json_error_t e;
	json_t *doc = NULL, *issues, *logs, *devs, *issue;
	jl_xf xf;
	size_t i;
	int rc = JETL_OK;

	memset(&xf, 0, sizeof(xf));
	xf.in = in;
	xf.out = out;
	out->err[0] = '\0';
	/* A NUL can only come from the escape \u0000: without one in the text,
	 * no string needs the (whole-tree) strip walk. */
	if (in->catalog && in->catalog->sprint && in->catalog->development) {
		jl_jspan sp[JL_RAW_NPARTS];

		if (jl_jscan_raw_items(in->raw, in->raw_len, sp) == 0) {
			xf.cat = *in->catalog;
			rc = per_issue(&xf, sp);
			goto out;
		}
	}
	/* JSON_ALLOW_NUL: Jira text may carry \u0000; it is removed per value
	 * with a warning rather than failing the whole page. */
	xf.may_have_nul = memmem(in->raw ? in->raw : "", in->raw_len, "\\u0000", 6) != NULL;
	doc = json_loadb(in->raw ? in->raw : "", in->raw_len, JSON_ALLOW_NUL, &e);
	if (!doc) {
		char tmp[sizeof(out->err)];

		snprintf(tmp, sizeof(tmp), "raw row %lld: invalid JSON at line %d column %d: %s",
			(long long)in->raw_id, e.line, e.column, e.text);
		jl_one_line(out->err, sizeof(out->err), tmp);
		return JETL_EDATA;
	}
	issues = json_is_array(doc) ? doc : json_object_get(doc, "issues");
	logs = json_object_get(doc, "changelogs");
	devs = json_object_get(doc, "dev_status");
	if (!json_is_array(issues)) {
		snprintf(out->err, sizeof(out->err), "raw row %lld: no \"issues\" array", (long long)in->raw_id);
		rc = JETL_EDATA;
		goto out;
	}
	if ((rc = check_parts(&xf, logs, devs)) != 0)
		goto out;
	/* borrowed from doc: taken a reference of, as the per-issue path owns its own */
	xf.items_done[0] = json_incref(json_object_get(doc, "comments"));
	xf.items_done[1] = json_incref(json_object_get(doc, "worklogs"));
	if ((rc = check_items(&xf, xf.items_done)) != 0)
		goto out;
	if (in->catalog)
		xf.cat = *in->catalog;   /* shallow: strings stay the caller's */
	detect(&xf, issues);
	json_array_foreach(issues, i, issue) {
		mark m = mark_now(out);

		rc = one_issue(&xf, issue, i, logs, devs);
		if (rc == JETL_EDATA)
			rc = isolate(&xf, &m, i, read_id(&xf), xf.issue_key);
		if (rc)
			break;
	}
out:
	jl_buf_free(&xf.tmp);
	jl_buf_free(&xf.tmp2);
	jl_buf_free(&xf.idesc);
	jl_buf_free(&xf.keyesc);
	jl_buf_free(&xf.hidesc);
	jl_xf_spans_free(&xf);
	jl_accounts_free(&xf);
	json_decref(xf.items_done[0]);
	json_decref(xf.items_done[1]);
	json_decref(doc);
	return rc;
}
