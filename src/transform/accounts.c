/* accounts.c - every user a raw row names, once: assignee, reporter,
 * creator, history authors (and comment and worklog authors). No admin
 * call lists Jira's users; these are the ones the data shows. A raw row
 * names the same few people hundreds of times, so each id is looked up in
 * a small hash of the rows made so far; the store's DISTINCT ON remains
 * the rule (the index is emptied when an issue's rows are undone). */
#include <stdlib.h>
#include <string.h>

#include "../model/issue_types.h"
#include "xf.h"

enum { A_ID, A_NAME, A_EMAIL, A_ACTIVE, A_TZ, A_TYPE };

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* The slot of id: the one holding it, or the empty one where it goes. */
static size_t *slot_of(jl_xf *xf, const char *id)
{
	const jl_rowset *rs = &xf->out->parts[JL_PART_ACCOUNTS];
	size_t mask = xf->acct_cap - 1, i = hash(id) & mask;

	for (;; i = (i + 1) & mask) {
		size_t *s = &xf->acct_slots[i];

		if (*s == 0 || strcmp(jl_rowset_cget(rs, *s - 1, A_ID)->v.s, id) == 0)
			return s;
	}
}

/* Room for one more id at a load of at most 1/2. 0 or -1 on OOM. */
static int grow(jl_xf *xf)
{
	const jl_rowset *rs = &xf->out->parts[JL_PART_ACCOUNTS];
	size_t cap = xf->acct_cap ? xf->acct_cap * 2 : 64;
	size_t *old = xf->acct_slots, oldcap = xf->acct_cap;

	if (xf->acct_used + 1 <= xf->acct_cap / 2)
		return 0;
	if (!(xf->acct_slots = calloc(cap, sizeof(size_t)))) {
		xf->acct_slots = old;
		return -1;
	}
	xf->acct_cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i] && old[i] <= rs->nrows)
			*slot_of(xf, jl_rowset_cget(rs, old[i] - 1, A_ID)->v.s) = old[i];
	free(old);
	return 0;
}

void jl_accounts_forget(jl_xf *xf)
{
	if (xf->acct_slots)
		memset(xf->acct_slots, 0, xf->acct_cap * sizeof(size_t));
	xf->acct_used = 0;
}

void jl_accounts_free(jl_xf *xf)
{
	free(xf->acct_slots);
	xf->acct_slots = NULL;
	xf->acct_cap = xf->acct_used = 0;
}

int jl_account_add(jl_xf *xf, const json_t *user)
{
	jl_rowset *rs = &xf->out->parts[JL_PART_ACCOUNTS];
	const json_t *active;
	const char *id;
	size_t *s;
	long r;
	int bad = 0;

	if (!json_is_object(user))
		return 0;
	/* Cloud's accountId; Server has none: its user key (else name) is
	 * the stable id, as in work_items and changelogs. */
	id = json_string_value(json_object_get(user, "accountId"));
	if (!id || !*id)
		id = json_string_value(json_object_get(user, "key"));
	if (!id || !*id)
		id = json_string_value(json_object_get(user, "name"));
	if (!id || !*id)
		return 0;
	if (grow(xf) < 0)
		return jl_xf_oom(xf);
	if (*(s = slot_of(xf, id)) != 0)
		return 0;
	if ((r = jl_rowset_add_row(rs)) < 0)
		return jl_xf_oom(xf);
	active = json_object_get(user, "active");
	bad |= jl_rowset_sets(rs, (size_t)r, A_ID, id);
	bad |= jl_rowset_sets(rs, (size_t)r, A_NAME, json_string_value(json_object_get(user, "displayName")));
	bad |= jl_rowset_sets(rs, (size_t)r, A_EMAIL, json_string_value(json_object_get(user, "emailAddress")));
	bad |= jl_rowset_sets(rs, (size_t)r, A_ACTIVE, json_is_boolean(active) ? (json_is_true(active) ? "t" : "f") : NULL);
	bad |= jl_rowset_sets(rs, (size_t)r, A_TZ, json_string_value(json_object_get(user, "timeZone")));
	bad |= jl_rowset_sets(rs, (size_t)r, A_TYPE, json_string_value(json_object_get(user, "accountType")));
	if (bad)
		return jl_xf_oom(xf);
	*s = (size_t)r + 1;
	xf->acct_used++;
	return 0;
}
