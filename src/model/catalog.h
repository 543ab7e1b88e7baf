/* catalog.h - what the transform knows about the site's fields: the slot
 * mappings (custom_field_mappings) and which custom field is Sprint, Story
 * Points, Epic Link and Development (from jira_fields). Pure; a catalog is
 * built by one thread, then may be read by many. */
#ifndef JL_TRANSFORM_CATALOG_H
#define JL_TRANSFORM_CATALOG_H

#include "jetl/fields.h"

typedef struct jl_slot_map {
	char *field_id;   /* owned; NULL = slot free */
	char *type;       /* owned; Jira schema type ("number", "option", …) or NULL = any */
} jl_slot_map;

typedef struct jl_catalog {
	jl_slot_map slots[JETL_FIELD_SLOTS];   /* index = slot - 1 */
	char *sprint;          /* field ids, owned, NULL = unknown */
	char *story_points;
	char *epic_link;
	char *development;
	int development_rank;  /* how development was recognised: 2 schema, 1 name (see add_field) */
} jl_catalog;

void jl_catalog_init(jl_catalog *cat);
/* Free every string; the catalog may be initialised again. NULL-safe. */
void jl_catalog_free(jl_catalog *cat);

/* Map slot 1..20 to a field (type may be NULL). Copies the strings.
 * Returns 0, -1 on OOM or a slot out of range. */
int jl_catalog_set_slot(jl_catalog *cat, int slot, const char *field_id, const char *type);

/*
 * Learn one field of jira_fields: name and schema (its JSON text, may be
 * NULL). Recognises Sprint (schema custom …:gh-sprint or name "Sprint"),
 * Story Points (name "Story Points" / "Story point estimate"), Epic Link
 * (…:gh-epic-link or name "Epic Link") and Development; gives a mapped slot
 * without a type the schema's type. Call after the slots are set.
 * Development, the one rule (the store and the transform each had their
 * own, with case sensitivity reversed): a schema custom containing
 * "devsummary" (any case) beats the name "Development" (any case), since the
 * name can be renamed and the plugin key cannot; among equals the lowest
 * field id wins, so the answer does not depend on the order fields come in.
 * Returns 0, -1 on OOM.
 */
int jl_catalog_add_field(jl_catalog *cat, const char *field_id, const char *name, const char *schema_json);

/* Slot (1..20) a field is mapped to, or 0. */
int jl_catalog_slot_of(const jl_catalog *cat, const char *field_id);

#endif
