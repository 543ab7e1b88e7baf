/* display.h - the display text of a custom field value (docs/design.md, 'custom_field_mappings'), pure. */
#ifndef JL_TRANSFORM_DISPLAY_H
#define JL_TRANSFORM_DISPLAY_H

#include <jansson.h>

#include "../core/buf.h"

/*
 * Whether v has a JSON type a field of Jira schema type `type` ("number",
 * "option", "array", "user", "date", "datetime", "string", "any", a
 * plugin's own; NULL or unknown = anything goes) can hold. A value that
 * fails goes to the overflow verbatim with a warning instead of its slot.
 */
int jl_display_fits(const json_t *v, const char *type);

/*
 * Append the display text of v: option → its value ("Parent - Child" for
 * cascading), user → displayName, other named objects (version, component,
 * sprint) → name, multi-values → display texts joined by ", ", number →
 * shortest exact decimal, datetime → ISO 8601 with a colon in the offset,
 * date/string → as is, anything else → compact JSON.
 * Returns 0, or -1 on OOM.
 */
int jl_display_text(jl_buf *out, const json_t *v, const char *type);

#endif
