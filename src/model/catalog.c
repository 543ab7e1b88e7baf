/* catalog.c - slots and special custom fields. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "catalog.h"

void jl_catalog_init(jl_catalog *cat)
{
	memset(cat, 0, sizeof(*cat));
}

void jl_catalog_free(jl_catalog *cat)
{
	if (!cat)
		return;
	for (int i = 0; i < JETL_FIELD_SLOTS; i++) {
		free(cat->slots[i].field_id);
		free(cat->slots[i].type);
	}
	free(cat->sprint);
	free(cat->story_points);
	free(cat->epic_link);
	free(cat->development);
	memset(cat, 0, sizeof(*cat));
}

static int set(char **dst, const char *s)
{
	char *p = s ? strdup(s) : NULL;

	if (s && !p)
		return -1;
	free(*dst);
	*dst = p;
	return 0;
}

int jl_catalog_set_slot(jl_catalog *cat, int slot, const char *field_id, const char *type)
{
	if (slot < 1 || slot > JETL_FIELD_SLOTS)
		return -1;
	if (set(&cat->slots[slot - 1].field_id, field_id) < 0 ||
	    set(&cat->slots[slot - 1].type, type && *type ? type : NULL) < 0)
		return -1;
	return 0;
}

int jl_catalog_slot_of(const jl_catalog *cat, const char *field_id)
{
	for (int i = 0; i < JETL_FIELD_SLOTS; i++)
		if (cat->slots[i].field_id && strcmp(cat->slots[i].field_id, field_id) == 0)
			return i + 1;
	return 0;
}

int jl_catalog_add_field(jl_catalog *cat, const char *field_id, const char *name, const char *schema_json)
{
	json_t *schema = schema_json ? json_loads(schema_json, 0, NULL) : NULL;
	const char *custom = json_string_value(json_object_get(schema, "custom"));
	const char *type = json_string_value(json_object_get(schema, "type"));
	int slot, rc = 0, dev_rank;

	if (!field_id)
		goto out;
	if (!name)
		name = "";
	if ((custom && strstr(custom, ":gh-sprint")) || (!cat->sprint && strcasecmp(name, "Sprint") == 0))
		rc |= set(&cat->sprint, field_id);
	else if (strcasecmp(name, "Story Points") == 0 || strcasecmp(name, "Story point estimate") == 0) {
		/* Both can exist (team- and company-managed projects); the
		 * classic "Story Points" wins, it is the one most sites fill. */
		if (!cat->story_points || strcasecmp(name, "Story Points") == 0)
			rc |= set(&cat->story_points, field_id);
	} else if ((custom && strstr(custom, ":gh-epic-link")) || strcasecmp(name, "Epic Link") == 0)
		rc |= set(&cat->epic_link, field_id);
	else if ((dev_rank = custom && strcasestr(custom, "devsummary") ? 2 : strcasecmp(name, "Development") == 0) &&
		 (dev_rank > cat->development_rank ||
		  (dev_rank == cat->development_rank && strcmp(field_id, cat->development) < 0))) {
		rc |= set(&cat->development, field_id);
		cat->development_rank = dev_rank;
	}
	slot = jl_catalog_slot_of(cat, field_id);
	if (slot && !cat->slots[slot - 1].type && type)
		rc |= set(&cat->slots[slot - 1].type, type);
out:
	json_decref(schema);
	return rc ? -1 : 0;
}
