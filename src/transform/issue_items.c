/* issue_items.c - an issue's comments and worklogs → rows of out->parts.
 * The list is the completed one the extraction fetched past the embedded
 * page (the raw row's "comments"/"worklogs", keyed by issue id) when there
 * is one, else the embedded page (fields.comment.comments,
 * fields.worklog.worklogs; a bare array is read too). Either way it is every
 * item of the issue, so the issue's stored items not in it are deleted
 * (jl_part_read): an edited item is rewritten, a deleted one goes. */
#include <stdio.h>
#include <string.h>

#include "jetl/common.h"
#include "adf.h"
#include "json.h"
#include "time.h"
#include "xf.h"

/* The issue's items (NULL: no list at all); *whole: they are every item
 * of the issue (a completed list, or a page holding its total), so the
 * stored ones not among them may go. A cut page without its completion (the
 * extraction did not read the rest) is written but deletes nothing. */
static const json_t *items_of(jl_xf *xf, const json_t *fields, int k, const char *field, const char *member,
	int *whole)
{
	const json_t *done = xf->items_done[k] ? json_object_get(xf->items_done[k], xf->issue_id) : NULL;
	const json_t *v = json_object_get(fields, field);

	*whole = 1;
	if (json_is_array(done)) {
		if (xf->may_have_nul && jl_json_strip_nul((json_t *)done) > 0)
			jl_xf_warn(xf, "%s: \\u0000 removed (PostgreSQL text cannot hold it)", member);
		return done;
	}
	if (json_is_array(v))
		return v;
	if (json_is_object(v) && json_is_array(json_object_get(v, member))) {
		const json_t *total = json_object_get(v, "total");

		*whole = !json_is_integer(total) ||
			 json_integer_value(total) <= (json_int_t)json_array_size(json_object_get(v, member));
		return json_object_get(v, member);
	}
	if (v && !json_is_null(v))
		jl_xf_warn(xf, "field '%s': expected a page of %s, got a %s: not stored", field, member,
			jl_json_type_name(v));
	return NULL;
}

static const char *user_id(const json_t *u)
{
	const char *id = json_string_value(json_object_get(u, "accountId"));

	if (!id || !*id)
		id = json_string_value(json_object_get(u, "key"));
	if (!id || !*id)
		id = json_string_value(json_object_get(u, "name"));
	return id && *id ? id : NULL;
}

/* A time member as timestamptz text, or NULL (a bad one warns). */
static int put_time(jl_xf *xf, jl_rowset *rs, size_t r, int col, const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	char t[JL_TIME_MAX];

	if (!v || json_is_null(v))
		return 0;
	if (jl_time_json(v, t) < 0) {
		jl_xf_warn(xf, "%s: '%s' is not a time: left empty", rs->table, k);
		return 0;
	}
	return jl_rowset_sets(rs, r, col, t);
}

/* The text of a body (ADF flattened, a string as is) in col, and the value
 * as Jira sent it (compact JSON) in col + 1. */
static int put_body(jl_xf *xf, jl_rowset *rs, size_t r, int col, const json_t *body)
{
	int bad = 0;

	if (!body || json_is_null(body))
		return 0;
	if (json_is_string(body)) {
		bad |= jl_rowset_sets(rs, r, col, json_string_value(body));
	} else if (json_is_object(body)) {
		jl_buf_clear(&xf->tmp);
		if (jl_adf_text(&xf->tmp, body) < 0)
			return -1;
		bad |= jl_rowset_set(rs, r, col, xf->tmp.data ? xf->tmp.data : "", xf->tmp.len);
	}
	jl_buf_clear(&xf->tmp2);
	if (jl_json_compact(&xf->tmp2, body) < 0)
		return 0;   /* a non-finite number: the raw row keeps it */
	return bad | jl_rowset_set(rs, r, col + 1, xf->tmp2.data, xf->tmp2.len);
}

/* The item's id (string or integer) in buf; NULL without one. */
static const char *item_id(const json_t *it, char buf[32])
{
	const json_t *v = json_object_get(it, "id");

	if (json_is_string(v) && json_string_length(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	return NULL;
}

/* Start item it's row (issue, id, author): -1 OOM, 1 skipped (no id), 0. */
static int item_row(jl_xf *xf, enum jl_part p, const json_t *it, size_t i, size_t *row)
{
	jl_rowset *rs = &xf->out->parts[p];
	const json_t *a = json_object_get(it, "author");
	char b[32];
	const char *id = json_is_object(it) ? item_id(it, b) : NULL;
	long r;

	if (!id) {
		jl_xf_warn(xf, "%s: item #%zu has no id: not stored", rs->table, i);
		return 1;
	}
	if ((r = jl_rowset_add_row(rs)) < 0 || jl_rowset_sets(rs, (size_t)r, 0, xf->issue_id) < 0 ||
	    jl_rowset_sets(rs, (size_t)r, 1, id) < 0 || jl_rowset_sets(rs, (size_t)r, 2, user_id(a)) < 0 ||
	    jl_rowset_sets(rs, (size_t)r, 3, json_string_value(json_object_get(a, "displayName"))) < 0 ||
	    jl_account_add(xf, a) || jl_account_add(xf, json_object_get(it, "updateAuthor")))
		return -1;
	*row = (size_t)r;
	return 0;
}

int jl_comments_map(jl_xf *xf, const json_t *fields)
{
	int whole = 0;
	const json_t *arr = items_of(xf, fields, 0, "comment", "comments", &whole), *c;
	jl_rowset *rs = &xf->out->parts[JL_PART_COMMENTS];
	size_t i, r;

	if (arr && whole && jl_part_read(xf, JL_PART_COMMENTS))
		return JETL_ENOMEM;
	json_array_foreach(arr, i, c) {
		int rc = item_row(xf, JL_PART_COMMENTS, c, i, &r);

		if (rc > 0)
			continue;
		if (rc < 0 || jl_rowset_sets(rs, r, 4, user_id(json_object_get(c, "updateAuthor"))) < 0 ||
		    put_time(xf, rs, r, 5, c, "created") < 0 || put_time(xf, rs, r, 6, c, "updated") < 0 ||
		    put_body(xf, rs, r, 7, json_object_get(c, "body")) < 0)
			return jl_xf_oom(xf);
	}
	return 0;
}

int jl_worklogs_map(jl_xf *xf, const json_t *fields)
{
	int whole = 0;
	const json_t *arr = items_of(xf, fields, 1, "worklog", "worklogs", &whole), *w;
	jl_rowset *rs = &xf->out->parts[JL_PART_WORKLOGS];
	size_t i, r;

	if (arr && whole && jl_part_read(xf, JL_PART_WORKLOGS))
		return JETL_ENOMEM;
	json_array_foreach(arr, i, w) {
		const json_t *sec = json_object_get(w, "timeSpentSeconds");
		int rc = item_row(xf, JL_PART_WORKLOGS, w, i, &r);

		if (rc > 0)
			continue;
		if (rc < 0 || put_time(xf, rs, r, 4, w, "started") < 0 ||
		    (json_is_integer(sec) && jl_rowset_set_int(rs, r, 5, (long long)json_integer_value(sec)) < 0) ||
		    put_time(xf, rs, r, 6, w, "created") < 0 || put_time(xf, rs, r, 7, w, "updated") < 0 ||
		    put_body(xf, rs, r, 8, json_object_get(w, "comment")) < 0)
			return jl_xf_oom(xf);
	}
	return 0;
}
