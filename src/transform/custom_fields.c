/* custom_fields.c - the custom fields → 20 slots + overflow.
 *
 * Rule (docs/design.md, 'custom_field_mappings'): a mapped field's value goes to its slot as display
 * text; every other non-null custom field goes to custom_fields_overflow
 * exactly as Jira gave it. A mapped value whose JSON type does not fit the
 * slot's field type also goes to the overflow (with a warning) so that
 * nothing is lost and nothing is mis-rendered.
 *
 * The overflow is most of an issue's custom fields. Their values need no
 * tree: the parser checks them and keeps their text (jl_json_lazy,
 * jparse.h); the stand-in the tree holds in their place says where that
 * text is. Which fields: the ones this file sends to the overflow whatever
 * their value (customfield_*, no slot), and that nothing else reads (not
 * Sprint, Story Points, Epic Link, Development). A slot's value of the
 * wrong type still reaches the overflow, as a tree. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "display.h"
#include "jparse.h"
#include "json.h"
#include "xf.h"

int jl_custom_fields_map(jl_xf *xf, const json_t *fields, size_t row)
{
	jl_rowset *rs = &xf->out->work_items;
	jl_buf *ov = &xf->tmp2;   /* reused across issues: no malloc per issue */
	const char *k;
	json_t *v;
	const jl_xf_span *sp;
	int n = 0, rc = 0;

	jl_buf_clear(ov);
	jl_buf_putc(ov, '{');
	json_object_foreach((json_t *)fields, k, v) {
		int slot;

		if (strncmp(k, "customfield_", 12) != 0 || json_is_null(v))
			continue;
		slot = jl_catalog_slot_of(&xf->cat, k);
		if (slot) {
			const char *type = xf->cat.slots[slot - 1].type;

			if (jl_display_fits(v, type)) {
				jl_buf_clear(&xf->tmp);
				if (jl_display_text(&xf->tmp, v, type) < 0 ||
				    jl_rowset_set(rs, row, WI_CF01 + slot - 1, xf->tmp.data ? xf->tmp.data : "",
						xf->tmp.len) < 0) {
					rc = jl_xf_oom(xf);
					goto out;
				}
				continue;
			}
			jl_xf_warn(xf, "field '%s' (slot %d, type %s) holds a %s: kept in custom_fields_overflow",
				k, slot, type, jl_json_type_name(v));
		}
		if (n++)
			jl_buf_putc(ov, ',');
		/* customfield_N: nothing to escape. */
		jl_buf_putc(ov, '"');
		jl_buf_puts(ov, k);
		jl_buf_put(ov, "\":", 2);
		if ((sp = jl_xf_span_of(xf, v)))
			jl_buf_put(ov, sp->p, sp->n);   /* checked by the parser, see jparse.h */
		else if (jl_json_compact(ov, v) < 0)
			return jl_xf_fail(xf, k, "value cannot be written as JSON (non-finite number)");
	}
	jl_buf_putc(ov, '}');
	if (ov->oom || jl_rowset_set(rs, row, WI_OVERFLOW, ov->data, ov->len) < 0)
		rc = jl_xf_oom(xf);
out:
	return rc;
}

static int same_key(const char *id, const char *key, size_t klen)
{
	return id && strncmp(id, key, klen) == 0 && id[klen] == '\0';
}

int jl_xf_keep_text(void *ud, const char *key, size_t klen)
{
	const jl_xf *xf = ud;
	const jl_catalog *c = &xf->cat;

	if (klen <= 12 || memcmp(key, "customfield_", 12) != 0 || memchr(key, '\0', klen))
		return jl_work_item_reads(key, klen) ? JL_LAZY_TRIM : JL_LAZY_SKIP;
	if (same_key(c->sprint, key, klen) || same_key(c->story_points, key, klen) ||
	    same_key(c->epic_link, key, klen) || same_key(c->development, key, klen))
		return JL_LAZY_TREE;
	for (int i = 0; i < JETL_FIELD_SLOTS; i++)
		if (same_key(c->slots[i].field_id, key, klen))
			return JL_LAZY_TREE;
	return JL_LAZY_TEXT;
}

/* The stand-ins are integers (their own index) made once per call and
 * reused by every issue: told apart from Jira's integers by address. */
json_t *jl_xf_stand_in(void *ud, const char *key, size_t klen, const char *text, size_t n)
{
	jl_xf *xf = ud;
	size_t i = xf->nspans;

	(void)key;
	(void)klen;
	if (i == xf->spans_cap) {
		size_t cap = xf->spans_cap ? 2 * xf->spans_cap : 64;
		jl_xf_span *sp = realloc(xf->spans, cap * sizeof(*sp));
		json_t **mk;

		if (!sp)
			return NULL;
		xf->spans = sp;
		if (!(mk = realloc(xf->marks, cap * sizeof(*mk))))
			return NULL;
		xf->marks = mk;
		xf->spans_cap = cap;
	}
	if (i == xf->nmarks) {
		if (!(xf->marks[i] = json_integer((json_int_t)i)))
			return NULL;
		xf->nmarks++;
	}
	xf->spans[i] = (jl_xf_span){ text, n };
	xf->nspans++;
	return xf->marks[i];
}

const jl_xf_span *jl_xf_span_of(const jl_xf *xf, const json_t *v)
{
	json_int_t i;

	if (!xf->nspans || !json_is_integer(v))
		return NULL;
	i = json_integer_value(v);
	if (i < 0 || (size_t)i >= xf->nspans || xf->marks[i] != v)
		return NULL;
	return &xf->spans[i];
}

void jl_xf_spans_free(jl_xf *xf)
{
	for (size_t i = 0; i < xf->nmarks; i++)
		json_decref(xf->marks[i]);
	free(xf->marks);
	free(xf->spans);
	xf->marks = NULL;
	xf->spans = NULL;
	xf->nmarks = xf->nspans = xf->spans_cap = 0;
}
