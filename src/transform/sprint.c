/* sprint.c - sprint names from Cloud objects and old Server strings. */
#include <string.h>

#include "sprint.h"

/* Attributes GreenHopper's Sprint.toString() writes after name=, in the
 * versions seen; the name ends at the first ",<attr>=" among them. */
static const char *const after_name[] = { ",startDate=", ",endDate=", ",completeDate=",
	",activatedDate=", ",sequence=", ",goal=", ",autoStartStop=", ",synced=",
	",incompleteIssuesDestinationId=", ",rapidViewId=", ",state=", NULL };

static int server_name(jl_buf *out, const char *s)
{
	const char *b = strchr(s, '['), *p, *end = NULL;

	if (!b)
		return 1;
	/* "name=" as an attribute: right after '[' or a comma. */
	for (p = b; (p = strstr(p, "name=")) != NULL; p++)
		if (p[-1] == '[' || p[-1] == ',')
			break;
	if (!p)
		return 1;
	p += 5;
	for (int i = 0; after_name[i]; i++) {
		const char *e = strstr(p, after_name[i]);

		if (e && (!end || e < end))
			end = e;
	}
	if (!end) {
		end = strrchr(p, ']');
		if (!end)
			end = p + strlen(p);
	}
	return jl_buf_put(out, p, (size_t)(end - p));
}

int jl_sprint_name(jl_buf *out, const json_t *v)
{
	if (json_is_object(v)) {
		const json_t *n = json_object_get(v, "name");

		if (!json_is_string(n))
			return 1;
		return jl_buf_put(out, json_string_value(n), json_string_length(n));
	}
	if (json_is_string(v) && strncmp(json_string_value(v), JL_SPRINT_PREFIX, strlen(JL_SPRINT_PREFIX)) == 0)
		return server_name(out, json_string_value(v));
	return 1;
}

int jl_sprint_looks_like(const json_t *v)
{
	size_t i;
	json_t *x;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return 0;
	json_array_foreach(v, i, x) {
		if (json_is_object(x)) {
			if (!json_object_get(x, "id") || !json_is_string(json_object_get(x, "name")) ||
			    !json_object_get(x, "state"))
				return 0;
		} else if (!json_is_string(x) ||
			   strncmp(json_string_value(x), JL_SPRINT_PREFIX, strlen(JL_SPRINT_PREFIX)) != 0) {
			return 0;
		}
	}
	return 1;
}
