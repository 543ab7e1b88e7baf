/* messages.c - the queue message bodies (docs/design.md, 'Queue messages'). */
#include <jansson.h>

#include "internal.h"

char *jl_msg_transform(const char *deployment, int tenant, int integration, int64_t job_id, int64_t raw_id)
{
	json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:I, s:I}", "type", JL_RAW_TYPE, "deployment", deployment,
		"tenant_id", tenant, "integration_id", integration,
		"job_id", (json_int_t)job_id, "raw_id", (json_int_t)raw_id);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

char *jl_msg_extract(const char *deployment, int tenant, int integration, int64_t job_id, const char *project,
	int full, const char *jql, int dev_status, int allow_mass_delete, const char *types)
{
	json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:I, s:s, s:b}", "type", JL_EXTRACT_TYPE, "deployment", deployment,
		"tenant_id", tenant, "integration_id", integration, "job_id", (json_int_t)job_id,
		"project_key", project, "full", full);
	char *s;

	if (o && jql)
		json_object_set_new(o, "jql", json_string(jql));
	/* only when off: a message without it (an older jetl's) means on */
	if (o && !dev_status)
		json_object_set_new(o, "dev_status", json_false());
	if (o && allow_mass_delete)
		json_object_set_new(o, "allow_mass_delete", json_true());
	/* only when chosen: without it every type is fetched */
	if (o && types)
		json_object_set_new(o, "types", json_string(types));
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}
