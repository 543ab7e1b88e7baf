/* custom_fields.c - the custom fields → 20 slots + overflow.
 *
 * Rule (docs/design.md, 'custom_field_mappings'): a mapped field's value goes to its slot as display
 * text; every other non-null custom field goes to custom_fields_overflow
 * exactly as Jira gave it. A mapped value whose JSON type does not fit the
 * slot's field type also goes to the overflow (with a warning) so that
 * nothing is lost and nothing is mis-rendered. */
#include <stdio.h>
#include <string.h>

#include "display.h"
#include "json.h"
#include "xf.h"

int jl_custom_fields_map(jl_xf *xf, const json_t *fields, size_t row)
{
	jl_rowset *rs = &xf->out->work_items;
	jl_buf *ov = &xf->tmp2;   /* reused across issues: no malloc per issue */
	const char *k;
	json_t *v;
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
		if (jl_json_compact(ov, v) < 0)
			return jl_xf_fail(xf, k, "value cannot be written as JSON (non-finite number)");
	}
	jl_buf_putc(ov, '}');
	if (ov->oom || jl_rowset_set(rs, row, WI_OVERFLOW, ov->data, ov->len) < 0)
		rc = jl_xf_oom(xf);
out:
	return rc;
}
