/*
 * jetl/fields.h - Jira field discovery and the 20 custom-field slots.
 */
#ifndef JETL_FIELDS_H
#define JETL_FIELDS_H

#include "context.h"

JETL_BEGIN_DECL

/** Number of custom_field_NN slots in work_items. */
#define JETL_FIELD_SLOTS 20

/**
 * Read Jira's field list (/field) into jira_fields (upsert). Writes the
 * number of fields to *count (may be NULL).
 * Errors: the Jira ones (JETL_EAUTH, JETL_ENETWORK, …), JETL_EDB.
 */
JETL_API int jetl_fields_sync(jetl_ctx *ctx, int64_t *count);

/**
 * Put a custom field into slot 1..20 (replacing what was there), or unmap
 * it with slot 0. The name and type come from jira_fields when synced.
 * Takes effect for issues transformed from then on.
 * Errors: JETL_EINVAL (slot out of range, bad id), JETL_EDB.
 */
JETL_API int jetl_field_map(jetl_ctx *ctx, const char *jira_field_id, int slot);

/** One Jira field as jira_fields knows it (strings borrowed for the callback). */
typedef struct jetl_field_info {
	const char *id;        /**< "customfield_10016" */
	const char *name;      /**< may be "" */
	const char *type;      /**< schema type ("number", "array", …) or "" */
	int custom;            /**< 1 for custom fields */
	int slot;              /**< mapped slot 1..20, or 0 */
} jetl_field_info;

/** Called once per field; return non-zero to stop early (not an error). */
typedef int (*jetl_field_cb)(const jetl_field_info *f, void *userdata);

/**
 * List the synced fields (ordered by id) with their slots, on the calling
 * thread. Errors: JETL_EINVAL, JETL_EDB.
 */
JETL_API int jetl_fields_list(jetl_ctx *ctx, jetl_field_cb cb, void *userdata);

JETL_END_DECL

#endif
