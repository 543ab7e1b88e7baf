/* dev_status.c - dev status counts from summary, detail or the field. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jetl/common.h"
#include "../model/devfield.h"
#include "../model/jtime.h"
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

/* Seconds since the epoch of a normalised time, for "latest of": read by
 * the one lexer of Jira's time text (src/model/jtime.c). */
static double epoch_of(const char *iso)
{
	jl_jtime t;

	return jl_jtime_lex(iso, &t) == 0 ? jl_jtime_epoch_s(&t) : 0;
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

/* A count the summary does not say (-1) is stored as 0: the row's columns
 * are NOT NULL (src/model/devfield.h, the rules). */
static long said(long v)
{
	return v < 0 ? 0 : v;
}

/* The row's counts, state and staleness from the one reading of a summary;
 * the names (providers) and the latest lastUpdated from its items. */
static int take_summary(jl_dev *d, const jl_devfield *f)
{
	const char *k, *t;
	json_t *x, *inst;

	d->present = 1;
	d->is_stale |= f->stale;
	d->pr_count = said(f->pr_count);
	d->pr_open = said(f->pr_open);
	d->pr_merged = said(f->pr_merged);
	d->pr_declined = said(f->pr_declined);
	memcpy(d->pr_state, f->pr_state, sizeof(d->pr_state));
	d->commits = said(f->commit_count);
	d->branches = said(f->branch_count);
	d->builds = said(f->build_count);
	d->builds_failed = said(f->build_failed);
	d->builds_ok = said(f->build_successful);
	d->reviews = said(f->review_count);
	json_object_foreach(f->summary, k, x) {
		const json_t *o = json_object_get(x, "overall");

		if (!json_is_object(o))
			continue;
		take_updated(d, o);
		json_object_foreach(json_object_get(x, "byInstanceType"), t, inst)
			if (add_name(d->providers, &d->nproviders, t) < 0)
				return -1;
	}
	return 0;
}

int jl_dev_from_summary(jl_dev *d, const json_t *v)
{
	jl_devfield f;
	int rc = jl_devfield_summary(&f, v);

	if (rc == 0 && (rc = take_summary(d, &f)) == 0)
		d->source = "summary";
	jl_devfield_clear(&f);
	return rc == JETL_ENOMEM ? -1 : rc;
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

int jl_dev_field_looks_like(const char *s)
{
	return s && ((s[0] == '{' && (strstr(s, "json={\"cachedValue\"") || strstr(s, "devSummaryJson="))) ||
		strncmp(s, "{summaryBean=", 13) == 0 || strncmp(s, "PullRequestOverallDetails{", 26) == 0);
}

int jl_dev_from_field(jl_dev *d, const char *s, size_t len)
{
	jl_devfield f;
	int rc = jl_devfield_parse(s, len, &f);

	if (rc == JETL_ENOMEM) {
		rc = -1;
	} else if (rc || f.form == JL_DEVFIELD_ABSENT) {
		rc = 1;
	} else {
		/* "{}" and PullRequestOverallDetails{…} carry their counts without a summary */
		rc = take_summary(d, &f);
		if (rc == 0)
			d->source = "field";
	}
	jl_devfield_clear(&f);
	return rc;
}
