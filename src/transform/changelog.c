/* changelog.c - histories → one changelogs row per history item.
 *
 * Recorded data (docs/jira.md, 'Changelogs'): fieldId is missing on most items, from
 * may be "" or null, to may be an object (a description's ADF pointer),
 * author.accountId may be "", created may be an epoch number (bulk fetch).
 * Values are kept as given; objects become compact JSON text. */
#include <string.h>

#include "jetl/common.h"
#include "json.h"
#include "time.h"
#include "xf.h"

enum { C_WID, C_WKEY, C_HID, C_IDX, C_AID, C_ANAME, C_AT, C_FIELD, C_FID, C_FTYPE,
	C_FROMV, C_FROMS, C_TOV, C_TOS };

const char *const jl_changelogs_cols[] = { "work_item_external_id", "work_item_key", "history_id",
	"item_index", "author_account_id", "author_name", "changed_at", "field", "field_id",
	"field_type", "from_value", "from_string", "to_value", "to_string" };
const int jl_changelogs_ncols = (int)(sizeof(jl_changelogs_cols) / sizeof(jl_changelogs_cols[0]));

/* Scalars as text, objects/arrays as compact JSON, null → NULL. */
static int put_value(jl_xf *xf, size_t row, int col, const json_t *v)
{
	jl_rowset *rs = &xf->out->changelogs;

	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v))   /* the common case: straight into the arena */
		return jl_rowset_set(rs, row, col, json_string_value(v), json_string_length(v));
	jl_buf_clear(&xf->tmp);
	if (json_is_object(v) || json_is_array(v)) {
		if (jl_json_compact(&xf->tmp, v) < 0)
			return -1;
	} else if (jl_json_scalar_text(&xf->tmp, v) < 0) {
		return -1;
	}
	return jl_rowset_set(rs, row, col, xf->tmp.data ? xf->tmp.data : "", xf->tmp.len);
}

/* The history id as written (hid: room for an integer's text): escaped,
 * not stripped, when it holds a U+0000 or a '%' (json.h), so "5\u00001"
 * is not history "51". NULL when there is none (xf->out->err empty) or on
 * OOM (err set). */
static const char *history_id(jl_xf *xf, const json_t *id, char hid[32])
{
	const char *s = json_string_value(id);
	size_t n = json_string_length(id);

	if (json_is_integer(id)) {
		snprintf(hid, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
		return hid;
	}
	if (!s)
		return NULL;
	if (!jl_id_needs_escape(s, n))
		return s;
	jl_buf_clear(&xf->hidesc);
	if (jl_id_escape(&xf->hidesc, s, n) < 0) {
		jl_xf_oom(xf);
		return NULL;
	}
	if (memchr(s, '\0', n))
		jl_xf_warn(xf, "changelog: history id %s: \\u0000 written as %%00 (an id is escaped, not stripped)",
			xf->hidesc.data);
	return xf->hidesc.data;
}

static int rc_of_id(jl_xf *xf, size_t hi)
{
	if (xf->out->err[0])
		return JETL_ENOMEM;
	return jl_xf_fail(xf, "changelog", "history #%zu has no id", hi);
}

static int history(jl_xf *xf, const json_t *h, size_t hi)
{
	jl_rowset *rs = &xf->out->changelogs;
	const json_t *id = json_object_get(h, "id"), *items = json_object_get(h, "items");
	const json_t *author = json_object_get(h, "author"), *it;
	const char *aid = NULL, *aname = NULL;
	char hid[32], at[JL_TIME_MAX];
	const char *hid_s;
	int have_at = 0;
	size_t i;

	if (!json_is_object(h))
		return jl_xf_fail(xf, "changelog", "history #%zu is a %s, not an object", hi, jl_json_type_name(h));
	if (!(hid_s = history_id(xf, id, hid)))
		return rc_of_id(xf, hi);
	if (items && !json_is_array(items))
		return jl_xf_fail(xf, "changelog", "history %s: items is a %s", hid_s, jl_json_type_name(items));
	if (json_array_size(items) > 32767)
		return jl_xf_fail(xf, "changelog", "history %s: %zu items exceed item_index", hid_s,
			json_array_size(items));
	if (json_is_object(author)) {
		aid = json_string_value(json_object_get(author, "accountId"));
		/* Server has no accountId: its user key (or name) is the stable id. */
		if (!aid || !*aid)
			aid = json_string_value(json_object_get(author, "key"));
		if (!aid || !*aid)
			aid = json_string_value(json_object_get(author, "name"));
		aname = json_string_value(json_object_get(author, "displayName"));
		if (jl_account_add(xf, author) != 0)
			return JETL_ENOMEM;
	}
	if (json_object_get(h, "created") && !json_is_null(json_object_get(h, "created"))) {
		if (jl_time_json(json_object_get(h, "created"), at) < 0)
			return jl_xf_fail(xf, "changelog", "history %s: created is not a time", hid_s);
		have_at = 1;
	}
	json_array_foreach(items, i, it) {
		long row;
		int bad = 0;

		if (!json_is_object(it))
			return jl_xf_fail(xf, "changelog", "history %s: item %zu is a %s", hid_s, i,
				jl_json_type_name(it));
		if ((row = jl_rowset_add_row(rs)) < 0)
			return jl_xf_oom(xf);
		if (i == 0) {
			bad |= jl_rowset_sets(rs, (size_t)row, C_WID, xf->issue_id);
			bad |= jl_rowset_sets(rs, (size_t)row, C_WKEY, xf->issue_key);
			bad |= jl_rowset_sets(rs, (size_t)row, C_HID, hid_s);
		} else {
			/* Same issue and history as the item before: share its strings. */
			jl_rowset_copy_cells(rs, (size_t)row, (size_t)row - 1, C_WID, C_HID + 1);
		}
		bad |= jl_rowset_set_int(rs, (size_t)row, C_IDX, (long long)i);
		if (i == 0) {
			bad |= jl_rowset_sets(rs, (size_t)row, C_AID, aid && *aid ? aid : NULL);
			bad |= jl_rowset_sets(rs, (size_t)row, C_ANAME, aname);
			bad |= jl_rowset_sets(rs, (size_t)row, C_AT, have_at ? at : NULL);
		} else {
			jl_rowset_copy_cells(rs, (size_t)row, (size_t)row - 1, C_AID, C_AT + 1);
		}
		bad |= put_value(xf, (size_t)row, C_FIELD, json_object_get(it, "field"));
		bad |= put_value(xf, (size_t)row, C_FID, json_object_get(it, "fieldId"));
		bad |= put_value(xf, (size_t)row, C_FTYPE, json_object_get(it, "fieldtype"));
		bad |= put_value(xf, (size_t)row, C_FROMV, json_object_get(it, "from"));
		bad |= put_value(xf, (size_t)row, C_FROMS, json_object_get(it, "fromString"));
		bad |= put_value(xf, (size_t)row, C_TOV, json_object_get(it, "to"));
		bad |= put_value(xf, (size_t)row, C_TOS, json_object_get(it, "toString"));
		if (bad)
			return rs->oom ? jl_xf_oom(xf) :
				jl_xf_fail(xf, "changelog", "history %s: item %zu holds a value that is not JSON text", hid_s, i);
	}
	return 0;
}

int jl_changelog_map(jl_xf *xf, const json_t *histories, int newest_first)
{
	size_t n = json_array_size(histories);
	int rc;

	if (!json_is_array(histories))
		return jl_xf_fail(xf, "changelog", "histories are a %s, not an array", jl_json_type_name(histories));
	/* Rows go out oldest first whatever order Jira used. */
	for (size_t i = 0; i < n; i++) {
		size_t k = newest_first ? n - 1 - i : i;

		if ((rc = history(xf, json_array_get(histories, k), k)) != 0)
			return rc;
	}
	return 0;
}
