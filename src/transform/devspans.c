/* devspans.c - each issue's dev-status detail found in the text (see
 * devspans.h): two walks of core's member scanner, no allocation but the
 * table. */
#include <stdlib.h>
#include <string.h>

#include "devspans.h"

/* Inside one entry: the last "detail" member. */
static const char *entry_member(void *ud, const jl_jspan *key, const char *v, const char *e)
{
	jl_jspan *detail = ud;
	const char *end = jl_jscan_value(v, e);

	if (end && key->n == 6 && memcmp(key->p, "detail", 6) == 0)
		*detail = (jl_jspan){ v, (size_t)(end - v) };
	return end;
}

/* One issue's member of "dev_status": its key, and its entry walked when it
 * is an object (anything else has no detail). */
static const char *issue_member(void *ud, const jl_jspan *key, const char *v, const char *e)
{
	jl_dev_spans *ds = ud;
	const char *end = jl_jscan_value(v, e);
	jl_dev_span sp = { *key, { NULL, 0 } };

	if (!end)
		return NULL;
	if (*v == '{' && jl_jscan_members(v, (size_t)(end - v), entry_member, &sp.detail) < 0)
		return NULL;
	if (ds->n == ds->cap) {
		size_t cap = ds->cap ? 2 * ds->cap : 128;
		jl_dev_span *nv = realloc(ds->v, cap * sizeof(*nv));

		if (!nv) {
			ds->cap = (size_t)-1;   /* marks the failure for jl_dev_spans_index */
			return NULL;
		}
		ds->v = nv;
		ds->cap = cap;
	}
	ds->v[ds->n++] = sp;
	return end;
}

int jl_dev_spans_index(jl_dev_spans *ds, const char *text, size_t n)
{
	ds->n = 0;
	if (jl_jscan_members(text, n, issue_member, ds) == 0)
		return 0;
	if (ds->cap == (size_t)-1) {
		ds->cap = 0;
		free(ds->v);
		ds->v = NULL;
		return JL_DEVSPANS_NOMEM;
	}
	return -1;
}

const jl_jspan *jl_dev_spans_detail(const jl_dev_spans *ds, const char *id)
{
	size_t len = strlen(id);

	for (size_t i = ds->n; i-- > 0;)
		if (ds->v[i].id.n == len && memcmp(ds->v[i].id.p, id, len) == 0)
			return ds->v[i].detail.p ? &ds->v[i].detail : NULL;
	return NULL;
}

void jl_dev_spans_free(jl_dev_spans *ds)
{
	free(ds->v);
	ds->v = NULL;
	ds->n = ds->cap = 0;
}
