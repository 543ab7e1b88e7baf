/* issue_parts.c - what an issue carries beyond its work_items row: its links,
 * versions, components and the accounts it names, one rowset per type of
 * src/model/issue_types.h. One map function per type in one table, driven
 * by jl_issue_parts_map: the load side needs nothing but the descriptors.
 *
 * A malformed element (a link without id, a version that is not an object)
 * is left out with a warning, never the issue: these are secondary to the
 * issue's own row, and the raw row keeps the element. */
#include <stdio.h>
#include <string.h>

#include "../model/issue_types.h"
#include "jetl/common.h"
#include "time.h"
#include "xf.h"

_Static_assert(JL_PART_N == 6, "issue_parts.c maps every type of issue_types.h");

/* A string member, or an integer member as decimal text in buf; NULL when
 * neither (an empty string is NULL too: ids are never empty). */
static const char *id_text(const json_t *o, const char *k, char buf[32])
{
	const json_t *v = json_object_get(o, k);

	if (json_is_string(v) && json_string_length(v) > 0)
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	return NULL;
}

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

int jl_part_read(jl_xf *xf, enum jl_part p)
{
	jl_rowset *rs = &xf->out->parts_read;
	long r = jl_rowset_add_row(rs);

	if (r < 0 || jl_rowset_sets(rs, (size_t)r, 0, jl_parts[p].name) < 0 ||
	    jl_rowset_sets(rs, (size_t)r, 1, xf->issue_id) < 0)
		return jl_xf_oom(xf);
	return 0;
}

/* A new row of part p starting with the issue's id (owned types). */
static long owned_row(jl_xf *xf, enum jl_part p)
{
	jl_rowset *rs = &xf->out->parts[p];
	long r = jl_rowset_add_row(rs);

	if (r >= 0 && jl_rowset_sets(rs, (size_t)r, 0, xf->issue_id) < 0)
		return -1;
	return r;
}

/* An array field of the issue, or NULL (absent/null); warns when the
 * field is there but not an array. */
static const json_t *array_of(jl_xf *xf, const json_t *fields, const char *k)
{
	const json_t *v = json_object_get(fields, k);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_array(v)) {
		jl_xf_warn(xf, "field '%s': expected an array, got a %s: not stored", k, jl_json_type_name(v));
		return NULL;
	}
	return v;
}

static int links(jl_xf *xf, const json_t *fields)
{
	const json_t *arr = array_of(xf, fields, "issuelinks"), *l;
	jl_rowset *rs = &xf->out->parts[JL_PART_LINKS];
	size_t i;

	if (json_object_get(fields, "issuelinks") && jl_part_read(xf, JL_PART_LINKS))
		return JETL_ENOMEM;
	json_array_foreach(arr, i, l) {
		const json_t *type = json_object_get(l, "type");
		const json_t *out = json_object_get(l, "outwardIssue"), *in = json_object_get(l, "inwardIssue");
		const json_t *other = json_is_object(out) ? out : in;
		char b1[32], b2[32], b3[32];
		const char *id = id_text(l, "id", b1);
		int outward = json_is_object(out), bad = 0;
		long r;

		if (!id || !json_is_object(other)) {
			jl_xf_warn(xf, "field 'issuelinks': link #%zu has no id or no linked issue: not stored", i);
			continue;
		}
		if ((r = owned_row(xf, JL_PART_LINKS)) < 0)
			return jl_xf_oom(xf);
		bad |= jl_rowset_sets(rs, (size_t)r, 1, id);
		bad |= jl_rowset_sets(rs, (size_t)r, 2, id_text(type, "id", b2));
		bad |= jl_rowset_sets(rs, (size_t)r, 3, str(type, "name"));
		bad |= jl_rowset_sets(rs, (size_t)r, 4, outward ? "outward" : "inward");
		bad |= jl_rowset_sets(rs, (size_t)r, 5, str(type, outward ? "outward" : "inward"));
		bad |= jl_rowset_sets(rs, (size_t)r, 6, id_text(other, "id", b3));
		bad |= jl_rowset_sets(rs, (size_t)r, 7, str(other, "key"));
		if (bad)
			return jl_xf_oom(xf);
	}
	return 0;
}

/* fixVersions ("fix") and versions ("affects"). */
static int versions_of(jl_xf *xf, const json_t *fields, const char *k, const char *relation)
{
	const json_t *arr = array_of(xf, fields, k), *v;
	jl_rowset *rs = &xf->out->parts[JL_PART_VERSIONS];
	size_t i;

	json_array_foreach(arr, i, v) {
		const json_t *rel = json_object_get(v, "released");
		char b[32], d[JL_TIME_MAX];
		const char *id = id_text(v, "id", b), *rd = str(v, "releaseDate");
		int bad = 0;
		long r;

		if (!id) {
			jl_xf_warn(xf, "field '%s': version #%zu has no id: not stored", k, i);
			continue;
		}
		if ((r = owned_row(xf, JL_PART_VERSIONS)) < 0)
			return jl_xf_oom(xf);
		bad |= jl_rowset_sets(rs, (size_t)r, 1, relation);
		bad |= jl_rowset_sets(rs, (size_t)r, 2, id);
		bad |= jl_rowset_sets(rs, (size_t)r, 3, str(v, "name"));
		bad |= jl_rowset_sets(rs, (size_t)r, 4, json_is_boolean(rel) ? (json_is_true(rel) ? "t" : "f") : NULL);
		bad |= jl_rowset_sets(rs, (size_t)r, 5, rd && jl_date_iso(rd, d) == 0 ? d : NULL);
		if (bad)
			return jl_xf_oom(xf);
	}
	return 0;
}

static int components(jl_xf *xf, const json_t *fields)
{
	const json_t *arr = array_of(xf, fields, "components"), *c;
	jl_rowset *rs = &xf->out->parts[JL_PART_COMPONENTS];
	size_t i;

	if (json_object_get(fields, "components") && jl_part_read(xf, JL_PART_COMPONENTS))
		return JETL_ENOMEM;
	json_array_foreach(arr, i, c) {
		char b[32];
		const char *id = id_text(c, "id", b);
		long r;

		if (!id) {
			jl_xf_warn(xf, "field 'components': component #%zu has no id: not stored", i);
			continue;
		}
		if ((r = owned_row(xf, JL_PART_COMPONENTS)) < 0 ||
		    jl_rowset_sets(rs, (size_t)r, 1, id) < 0 || jl_rowset_sets(rs, (size_t)r, 2, str(c, "name")) < 0)
			return jl_xf_oom(xf);
	}
	return 0;
}

static int versions(jl_xf *xf, const json_t *fields)
{
	int rc;

	if ((json_object_get(fields, "fixVersions") || json_object_get(fields, "versions")) &&
	    jl_part_read(xf, JL_PART_VERSIONS))
		return JETL_ENOMEM;
	rc = versions_of(xf, fields, "fixVersions", "fix");
	return rc ? rc : versions_of(xf, fields, "versions", "affects");
}

/* The people the issue's own fields name (history, comment and worklog
 * authors are added where those are mapped). */
static int people(jl_xf *xf, const json_t *fields)
{
	static const char *const users[] = { "assignee", "reporter", "creator" };
	int rc;

	for (size_t k = 0; k < sizeof(users) / sizeof(users[0]); k++)
		if ((rc = jl_account_add(xf, json_object_get(fields, users[k]))) != 0)
			return rc;
	return 0;
}

typedef int (*part_map_fn)(jl_xf *xf, const json_t *fields);

/* The map function of each type, by the descriptors' enum. */
static const part_map_fn part_maps[JL_PART_N] = {
	[JL_PART_LINKS] = links,
	[JL_PART_VERSIONS] = versions,
	[JL_PART_COMPONENTS] = components,
	[JL_PART_ACCOUNTS] = people,
	[JL_PART_COMMENTS] = jl_comments_map,
	[JL_PART_WORKLOGS] = jl_worklogs_map,
};

int jl_issue_parts_map(jl_xf *xf, const json_t *issue)
{
	const json_t *fields = json_object_get(issue, "fields");
	int rc;

	if (!json_is_object(fields))
		return 0;   /* jl_work_item_map has failed the issue already */
	for (int p = 0; p < JL_PART_N; p++)
		if (part_maps[p] && (rc = part_maps[p](xf, fields)) != 0)
			return rc;
	return 0;
}
