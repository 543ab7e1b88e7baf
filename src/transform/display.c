/* display.c - display text of custom field values. */
#include <string.h>

#include "display.h"
#include "json.h"
#include "sprint.h"
#include "time.h"

int jl_display_fits(const json_t *v, const char *type)
{
	char tmp[JL_TIME_MAX];

	if (!type)
		return 1;
	if (strcmp(type, "number") == 0)
		return json_is_number(v);
	if (strcmp(type, "string") == 0)
		return json_is_string(v);
	if (strcmp(type, "option") == 0 || strcmp(type, "user") == 0 ||
	    strcmp(type, "option-with-child") == 0 || strcmp(type, "version") == 0 ||
	    strcmp(type, "project") == 0 || strcmp(type, "group") == 0)
		return json_is_object(v);
	if (strcmp(type, "array") == 0)
		return json_is_array(v);
	if (strcmp(type, "date") == 0)
		return json_is_string(v) && jl_date_iso(json_string_value(v), tmp) == 0;
	if (strcmp(type, "datetime") == 0)
		return json_is_string(v) && jl_time_iso(json_string_value(v), tmp) == 0;
	return 1;
}

static const char *name_of(const json_t *o)
{
	static const char *const keys[] = { "value", "displayName", "name", "key", NULL };

	for (int i = 0; keys[i]; i++) {
		const char *s = json_string_value(json_object_get(o, keys[i]));

		if (s)
			return s;
	}
	return NULL;
}

int jl_display_text(jl_buf *out, const json_t *v, const char *type)
{
	char tmp[JL_TIME_MAX];

	switch (json_typeof(v)) {
	case JSON_STRING:
		if (type && strcmp(type, "datetime") == 0 && jl_time_iso(json_string_value(v), tmp) == 0)
			return jl_buf_puts(out, tmp);
		if (strncmp(json_string_value(v), JL_SPRINT_PREFIX, strlen(JL_SPRINT_PREFIX)) == 0 &&
		    jl_sprint_name(out, v) == 0)
			return 0;
		return jl_buf_put(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
	case JSON_REAL:
	case JSON_TRUE:
	case JSON_FALSE:
		return jl_json_scalar_text(out, v);
	case JSON_ARRAY: {
		size_t i;
		json_t *x;

		json_array_foreach(v, i, x) {
			if (i)
				jl_buf_puts(out, ", ");
			if (jl_display_text(out, x, NULL) < 0)
				return -1;
		}
		return out->oom ? -1 : 0;
	}
	case JSON_OBJECT: {
		const char *s = name_of(v);
		const json_t *child = json_object_get(v, "child");

		if (!s)
			return jl_json_compact(out, v);
		jl_buf_puts(out, s);
		if (json_is_object(child) && name_of(child)) {
			jl_buf_puts(out, " - ");
			jl_buf_puts(out, name_of(child));
		}
		return out->oom ? -1 : 0;
	}
	case JSON_NULL:
		return 0;
	}
	return 0;
}
