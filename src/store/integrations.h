/* integrations.h - the integrations table and the per-integration metadata
 * discovery writes (projects, issue_types, statuses). libpq only: secrets
 * arrive here already sealed (src/core/secret.c) or as references. */
#ifndef JL_STORE_INTEGRATIONS_H
#define JL_STORE_INTEGRATIONS_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

/* Columns of jl_integrations_select, in order. */
enum {
	JL_INT_TENANT, JL_INT_ID, JL_INT_NAME, JL_INT_PROVIDER, JL_INT_URL, JL_INT_FLAVOR,
	JL_INT_AUTH, JL_INT_USER, JL_INT_SECRET, JL_INT_ACTIVE, JL_INT_SETTINGS,
	JL_INT_CREATED, JL_INT_UPDATED
};

/* The rows of one tenant (id > 0: that one only), ordered by id. Caller
 * PQclear()s; NULL on failure with *rc set (JETL_EDB…, or JETL_ESCHEMA when
 * the table does not exist yet: not migrated). */
PGresult *jl_integrations_select(PGconn *pg, int tenant, int id, int *rc, char *err, size_t errlen);

/* Inside a transaction: a fresh id (never handed out to any tenant, above
 * every id picked by hand), held for this transaction by a lock until its
 * end. Nothing is used up: jl_integrations_take_id() after the row's insert
 * moves the sequence past it, and a rollback leaves it free. */
int jl_integrations_peek_id(PGconn *pg, int *id, char *err, size_t errlen);
int jl_integrations_take_id(PGconn *pg, int id, char *err, size_t errlen);

/* Insert one row; settings is JSON text. 0, or a status (JETL_EDATA for a
 * duplicate (tenant, id) or a value the table refuses). */
int jl_integrations_insert(PGconn *pg, int tenant, int id, const char *name, const char *base_url,
	const char *flavor, const char *auth, const char *user, const char *secret, int active,
	const char *settings, char *err, size_t errlen);

/* Replace the non-secret columns. *found gets 0 when no such row. */
int jl_integrations_update(PGconn *pg, int tenant, int id, const char *name, const char *base_url,
	const char *flavor, const char *auth, const char *user, int active, const char *settings,
	int *found, char *err, size_t errlen);

/* Set the secret column (sealed envelope, reference, or NULL). */
int jl_integrations_set_secret(PGconn *pg, int tenant, int id, const char *secret, int *found,
	char *err, size_t errlen);

int jl_integrations_delete(PGconn *pg, int tenant, int id, int *found, char *err, size_t errlen);

/* Every sealed ("enc:") secret, locked FOR UPDATE in the caller's
 * transaction (key rotation): columns tenant_id, id, secret. 0 with *out
 * (caller PQclear()s) or a status. */
int jl_integrations_sealed(PGconn *pg, PGresult **out, char *err, size_t errlen);
/* The row's settings.projects = keys_json (a JSON array of keys); no row
 * (or no table): nothing. 0 or a status. */
int jl_integrations_set_projects(PGconn *pg, int tenant, int id, const char *keys_json, char *err, size_t errlen);

/* Upsert what discovery read (JSON text of Jira's arrays) and mark the rows
 * Jira no longer lists inactive; *n gets how many it listed. projects also
 * refreshes selected from selected_keys (JSON array text; NULL keeps). */
int jl_meta_projects(PGconn *pg, int tenant, int integration, const char *json, const char *selected_keys,
	int64_t *n, char *err, size_t errlen);
int jl_meta_issue_types(PGconn *pg, int tenant, int integration, const char *json, int64_t *n,
	char *err, size_t errlen);
int jl_meta_statuses(PGconn *pg, int tenant, int integration, const char *json, int64_t *n,
	char *err, size_t errlen);

/* Set projects.selected to exactly the keys of the JSON array. */
int jl_meta_select(PGconn *pg, int tenant, int integration, const char *keys_json, char *err, size_t errlen);

/* Keys of the projects an extraction without keys takes: the selected
 * active ones, else every active one (ordered). Caller PQclear()s. */
PGresult *jl_meta_extract_keys(PGconn *pg, int tenant, int integration, int *rc, char *err, size_t errlen);

/* Projects of one integration: key, external_id, name, project_type,
 * active, selected (ordered by key). Caller PQclear()s. */
PGresult *jl_meta_project_rows(PGconn *pg, int tenant, int integration, int *rc, char *err, size_t errlen);

#endif
