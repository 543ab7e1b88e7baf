/* work_item.c - an issue's standard fields → the work_items columns. */
#include <stdio.h>
#include <string.h>

#include "adf.h"
#include "dev_status.h"
#include "json.h"
#include "sprint.h"
#include "time.h"
#include "xf.h"

const char *const jl_work_items_cols[] = { "external_id", "key", "project_key", "summary",
	"description", "issue_type", "status", "status_category", "priority", "resolution",
	"assignee_account_id", "assignee_name", "reporter_account_id", "reporter_name", "parent_key",
	"labels", "components", "fix_versions", "sprints", "story_points", "created_at",
	"updated_at", "resolved_at", "due_date", "code_changed",
	"custom_field_01", "custom_field_02", "custom_field_03", "custom_field_04",
	"custom_field_05", "custom_field_06", "custom_field_07", "custom_field_08",
	"custom_field_09", "custom_field_10", "custom_field_11", "custom_field_12",
	"custom_field_13", "custom_field_14", "custom_field_15", "custom_field_16",
	"custom_field_17", "custom_field_18", "custom_field_19", "custom_field_20",
	"custom_fields_overflow", "raw_id" };
const int jl_work_items_ncols = (int)(sizeof(jl_work_items_cols) / sizeof(jl_work_items_cols[0]));

_Static_assert(sizeof(jl_work_items_cols) / sizeof(jl_work_items_cols[0]) == WI_NCOLS,
	"work_items columns and enum jl_wi_col agree");

/* A field that is absent or null: nothing to write. */
static const json_t *present(const json_t *fields, const char *k)
{
	const json_t *v = json_object_get(fields, k);

	return json_is_null(v) ? NULL : v;
}

static int set_text(jl_xf *xf, size_t row, int col, const char *s)
{
	return jl_rowset_sets(&xf->out->work_items, row, col, s) < 0 ? jl_xf_oom(xf) : 0;
}

/* A string field (summary, …). */
static int string_field(jl_xf *xf, const json_t *fields, const char *k, size_t row, int col)
{
	const json_t *v = present(fields, k);

	if (!v)
		return 0;
	if (!json_is_string(v))
		return jl_xf_fail(xf, k, "expected a string, got a %s", jl_json_type_name(v));
	return set_text(xf, row, col, json_string_value(v));
}

/* An object field read for one of its members ({name}, {key}). */
static int member_field(jl_xf *xf, const json_t *fields, const char *k, const char *member, size_t row, int col)
{
	const json_t *v = present(fields, k);

	if (!v)
		return 0;
	if (!json_is_object(v))
		return jl_xf_fail(xf, k, "expected an object, got a %s", jl_json_type_name(v));
	return set_text(xf, row, col, json_string_value(json_object_get(v, member)));
}

/* A user: Cloud accountId, else Server key/name; displayName. */
static int user_field(jl_xf *xf, const json_t *fields, const char *k, size_t row, int col_id, int col_name)
{
	const json_t *v = present(fields, k);
	const char *id;
	int rc;

	if (!v)
		return 0;
	if (!json_is_object(v))
		return jl_xf_fail(xf, k, "expected a user object, got a %s", jl_json_type_name(v));
	id = json_string_value(json_object_get(v, "accountId"));
	if (!id || !*id)
		id = json_string_value(json_object_get(v, "key"));
	if (!id || !*id)
		id = json_string_value(json_object_get(v, "name"));
	if ((rc = set_text(xf, row, col_id, id && *id ? id : NULL)) != 0)
		return rc;
	return set_text(xf, row, col_name, json_string_value(json_object_get(v, "displayName")));
}

static int time_field(jl_xf *xf, const json_t *fields, const char *k, size_t row, int col)
{
	const json_t *v = present(fields, k);
	char t[JL_TIME_MAX];

	if (!v)
		return 0;
	if (jl_time_json(v, t) < 0)
		return jl_xf_fail(xf, k, "expected a date-time with an offset, got %s%s%.40s%s",
			json_is_string(v) ? "\"" : "a ", json_is_string(v) ? "" : jl_json_type_name(v),
			json_is_string(v) ? json_string_value(v) : "", json_is_string(v) ? "\"" : "");
	return set_text(xf, row, col, t);
}

/* Array of strings (labels) or of named objects (components, versions,
 * sprints) → text[]. The arena copies the names; items[] just points. */
static int array_field(jl_xf *xf, const json_t *v, const char *k, size_t row, int col, int sprints)
{
	jl_rowset *rs = &xf->out->work_items;
	size_t i, n = 0;
	json_t *x;
	jl_buf *names = &xf->tmp2;   /* reused: no malloc per array */
	size_t offs[256];
	int rc = 0;

	if (v && !json_is_array(v))
		return jl_xf_fail(xf, k, "expected an array, got a %s", jl_json_type_name(v));
	jl_buf_clear(names);
	json_array_foreach(v, i, x) {
		const char *s = NULL;
		size_t start = names->len;

		if (n == sizeof(offs) / sizeof(offs[0]))
			break;   /* 256 names is far beyond any real issue; the overflow/raw keep the rest */
		if (sprints) {
			if (jl_sprint_name(names, x) == 1) {
				rc = jl_xf_fail(xf, k, "element %zu is not a sprint (%s)", i, jl_json_type_name(x));
				goto out;
			}
		} else {
			if (json_is_string(x))
				s = json_string_value(x);
			else if (json_is_object(x))
				s = json_string_value(json_object_get(x, "name"));
			if (!s) {
				rc = jl_xf_fail(xf, k, "element %zu is a %s without a name", i, jl_json_type_name(x));
				goto out;
			}
			jl_buf_puts(names, s);
		}
		(void)start;
		offs[n++] = start;
		jl_buf_putc(names, '\0');
	}
	if (names->oom) {
		rc = jl_xf_oom(xf);
		goto out;
	}
	for (i = 0; i < n; i++)
		xf->items[i] = names->data + offs[i];
	if (jl_rowset_set_array(rs, row, col, xf->items, n) < 0)
		rc = jl_xf_oom(xf);
out:
	return rc;
}

/* Story points: a number, or a numeric string (some plugins store text). */
static int story_points(jl_xf *xf, const json_t *fields, size_t row)
{
	const char *k = xf->cat.story_points;
	const json_t *v = k ? present(fields, k) : NULL;
	char *end;

	if (!v)
		return 0;
	jl_buf_clear(&xf->tmp);
	if (json_is_number(v)) {
		if (jl_json_scalar_text(&xf->tmp, v) < 0)
			return jl_xf_fail(xf, k, "story points are not a finite number");
	} else if (json_is_string(v) && *json_string_value(v) &&
		   (strtod(json_string_value(v), &end), *end == '\0')) {
		jl_buf_puts(&xf->tmp, json_string_value(v));
	} else {
		return jl_xf_fail(xf, k, "story points: expected a number, got a %s", jl_json_type_name(v));
	}
	if (strpbrk(xf->tmp.data, "nN"))   /* inf/nan text: numeric would take NaN */
		return jl_xf_fail(xf, k, "story points are not a finite number");
	return set_text(xf, row, WI_STORY_POINTS, xf->tmp.data);
}

static int parent(jl_xf *xf, const json_t *fields, size_t row)
{
	const json_t *p = present(fields, "parent");
	const json_t *epic = xf->cat.epic_link ? present(fields, xf->cat.epic_link) : NULL;

	if (p) {
		if (!json_is_object(p))
			return jl_xf_fail(xf, "parent", "expected an object, got a %s", jl_json_type_name(p));
		if (json_is_string(json_object_get(p, "key")))
			return set_text(xf, row, WI_PARENT, json_string_value(json_object_get(p, "key")));
	}
	if (epic) {
		if (!json_is_string(epic))
			return jl_xf_fail(xf, xf->cat.epic_link, "Epic Link: expected an issue key, got a %s",
				jl_json_type_name(epic));
		return set_text(xf, row, WI_PARENT, json_string_value(epic));
	}
	return 0;
}

static int description(jl_xf *xf, const json_t *fields, size_t row)
{
	const json_t *v = present(fields, "description");

	if (!v)
		return 0;
	if (json_is_string(v))   /* Server, API v2: wiki markup, kept as is */
		return set_text(xf, row, WI_DESCRIPTION, json_string_value(v));
	if (!json_is_object(v))
		return jl_xf_fail(xf, "description", "expected ADF or text, got a %s", jl_json_type_name(v));
	jl_buf_clear(&xf->tmp);
	if (jl_adf_text(&xf->tmp, v) < 0)
		return jl_xf_oom(xf);
	return set_text(xf, row, WI_DESCRIPTION, xf->tmp.data ? xf->tmp.data : "");
}

static int sprints(jl_xf *xf, const json_t *fields, size_t row)
{
	const json_t *v = xf->cat.sprint ? present(fields, xf->cat.sprint) : NULL;
	json_t *merged;
	int rc;

	if (v || xf->cat.sprint)
		return array_field(xf, v, xf->cat.sprint, row, WI_SPRINTS, 1);
	/* No Sprint custom field (agile API without one): its sprint and
	 * closedSprints fields say the same. */
	merged = json_array();
	if (!merged)
		return jl_xf_oom(xf);
	if (json_is_array(present(fields, "closedSprints")))
		json_array_extend(merged, json_object_get(fields, "closedSprints"));
	if (json_is_object(present(fields, "sprint")))
		json_array_append(merged, json_object_get(fields, "sprint"));
	rc = array_field(xf, merged, "sprint", row, WI_SPRINTS, 1);
	json_decref(merged);
	return rc;
}

/* Every standard field the functions above read: keep in step with them
 * (test_jscan's per_issue test compares the rows with the whole-page path,
 * which builds every field). */
int jl_work_item_reads(const char *key, size_t klen)
{
	static const char *const reads[] = { "project", "summary", "description", "issuetype", "status",
		"priority", "resolution", "assignee", "reporter", "parent", "labels", "components", "fixVersions",
		"sprint", "closedSprints", "created", "updated", "resolutiondate", "duedate",
		/* issue_parts.c */
		"issuelinks", "versions", "creator",
		/* issue_items.c */
		"comment", "worklog" };

	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
		if (klen && reads[i][0] == key[0] && strncmp(reads[i], key, klen) == 0 && reads[i][klen] == '\0')
			return 1;
	return 0;
}

int jl_work_item_map(jl_xf *xf, const json_t *issue, const jl_dev *dev)
{
	jl_rowset *rs = &xf->out->work_items;
	const json_t *fields = json_object_get(issue, "fields");
	const json_t *status, *project;
	long lrow;
	size_t row;
	int rc;

	if (!json_is_object(fields))
		return jl_xf_fail(xf, "fields", "expected an object, got a %s", jl_json_type_name(fields));
	if ((lrow = jl_rowset_add_row(rs)) < 0)
		return jl_xf_oom(xf);
	row = (size_t)lrow;
	if ((rc = set_text(xf, row, WI_ID, xf->issue_id)) || (rc = set_text(xf, row, WI_KEY, xf->issue_key)))
		return rc;
	project = present(fields, "project");
	if (project && !json_is_object(project))
		return jl_xf_fail(xf, "project", "expected an object, got a %s", jl_json_type_name(project));
	if (json_is_string(json_object_get(project, "key"))) {
		rc = set_text(xf, row, WI_PROJECT, json_string_value(json_object_get(project, "key")));
	} else if (xf->in->project_key) {
		rc = set_text(xf, row, WI_PROJECT, xf->in->project_key);
	} else {
		/* The key's prefix is the project key ("EE-17" → "EE"). */
		const char *dash = strrchr(xf->issue_key, '-');

		jl_buf_clear(&xf->tmp);
		jl_buf_put(&xf->tmp, xf->issue_key, dash ? (size_t)(dash - xf->issue_key) : strlen(xf->issue_key));
		rc = set_text(xf, row, WI_PROJECT, xf->tmp.data);
	}
	if (rc)
		return rc;
	status = present(fields, "status");
	if ((rc = string_field(xf, fields, "summary", row, WI_SUMMARY)) ||
	    (rc = description(xf, fields, row)) ||
	    (rc = member_field(xf, fields, "issuetype", "name", row, WI_TYPE)) ||
	    (rc = member_field(xf, fields, "status", "name", row, WI_STATUS)) ||
	    (rc = member_field(xf, fields, "priority", "name", row, WI_PRIORITY)) ||
	    (rc = member_field(xf, fields, "resolution", "name", row, WI_RESOLUTION)) ||
	    (rc = user_field(xf, fields, "assignee", row, WI_ASSIGNEE_ID, WI_ASSIGNEE_NAME)) ||
	    (rc = user_field(xf, fields, "reporter", row, WI_REPORTER_ID, WI_REPORTER_NAME)) ||
	    (rc = parent(xf, fields, row)) ||
	    (rc = array_field(xf, present(fields, "labels"), "labels", row, WI_LABELS, 0)) ||
	    (rc = array_field(xf, present(fields, "components"), "components", row, WI_COMPONENTS, 0)) ||
	    (rc = array_field(xf, present(fields, "fixVersions"), "fixVersions", row, WI_FIX_VERSIONS, 0)) ||
	    (rc = sprints(xf, fields, row)) ||
	    (rc = story_points(xf, fields, row)) ||
	    (rc = time_field(xf, fields, "created", row, WI_CREATED)) ||
	    (rc = time_field(xf, fields, "updated", row, WI_UPDATED)) ||
	    (rc = time_field(xf, fields, "resolutiondate", row, WI_RESOLVED)))
		return rc;
	if (status) {
		const json_t *cat = json_object_get(json_object_get(status, "statusCategory"), "key");

		if (json_is_string(cat) && (rc = set_text(xf, row, WI_STATUS_CAT, json_string_value(cat))))
			return rc;
	}
	if (present(fields, "duedate")) {
		const json_t *v = present(fields, "duedate");
		char d[JL_TIME_MAX];

		if (!json_is_string(v) || jl_date_iso(json_string_value(v), d) < 0)
			return jl_xf_fail(xf, "duedate", "expected a date YYYY-MM-DD, got a %s",
				jl_json_type_name(v));
		if ((rc = set_text(xf, row, WI_DUE, d)))
			return rc;
	}
	if ((rc = set_text(xf, row, WI_CODE_CHANGED, dev && (dev->commits > 0 || dev->pr_count > 0) ? "t" : "f")))
		return rc;
	if (jl_rowset_set_int(rs, row, WI_RAW_ID, (long long)xf->in->raw_id) < 0)
		return jl_xf_oom(xf);
	return jl_custom_fields_map(xf, fields, row);
}
