/*
 * jetl/integration.h - each tenant's Jira connections ("integrations"),
 * stored in PostgreSQL, tested, and used by id; and the metadata discovery
 * keeps per integration (projects, issue types, statuses).
 *
 * Every call works in the context's tenant: an integration of another
 * tenant is as absent as one that does not exist (JETL_ENOENT).
 *
 * Secrets: a token passed to jetl_integration_add(), _update() or
 * _set_secret() is sealed with AES-256-GCM under the operator's key
 * ($JETL_SECRET_KEY: 64 hex digits or base64 of 32 bytes; or the file named
 * by $JETL_SECRET_KEY_FILE) before it reaches the database, bound to its
 * (tenant, id) so it cannot be copied onto another row. A secret written
 * "env:NAME" or "file:/path" is stored as that reference and read when a
 * connection is made. Secrets are never read back through this API, never
 * logged and never put into messages.
 *
 * A context opened without jira_url (neither the option nor
 * $JETL_JIRA_URL) takes its Jira connection from its (tenant_id,
 * integration_id) row the first time it needs one; the calls that would
 * write for an integration (extractions, field and project sync) fail with
 * JETL_ENOENT, naming it, before writing anything when the row is missing
 * or inactive. An explicit jira_url wins over any row.
 *
 * Threads: as every context call, one thread at a time per context.
 */
#ifndef JETL_INTEGRATION_H
#define JETL_INTEGRATION_H

#include "context.h"

JETL_BEGIN_DECL

#define JETL_INTEGRATION_VERSION 1

/**
 * One integration. Filled by jetl_integration_get() / _list(); read by
 * jetl_integration_add() / _update(). Fixed-size strings, so a struct
 * copies and crosses into bindings without ownership questions; values too
 * long for a field are refused (JETL_EINVAL), never cut.
 */
typedef struct jetl_integration {
	unsigned int version;       /**< JETL_INTEGRATION_VERSION */
	int tenant_id;              /**< owner (read only: the context's tenant) */
	int id;                     /**< add: 0 picks a fresh one; update: which */
	char name[128];             /**< required */
	char base_url[512];         /**< http(s)://…, may carry a path; required */
	int flavor;                 /**< jetl_flavor */
	int auth;                   /**< jetl_auth */
	char user[256];             /**< basic auth user/email ("" for bearer) */
	int active;                 /**< 0: refused by every call that would use it */
	char projects[1024];        /**< selected project keys, comma-separated: what an
	                                 extraction without keys takes ("" = every active
	                                 project discovery found) */
	char jql[1024];             /**< extra JQL of its extractions ("" = none) */
	int concurrency;            /**< Jira requests in flight; 0 = the context's */
	int dev_status;             /**< fetch dev status: 1 or 0 */
	char secret_kind[16];       /**< read only: "encrypted", "env", "file" or "none" */
	char secret_key_id[16];     /**< read only: id of the key that sealed it (a hash, not the key) */
	char secret_ref[512];       /**< read only: the env:/file: reference ("" otherwise) */
	double created_at;          /**< read only: Unix seconds */
	double updated_at;          /**< read only: Unix seconds */
} jetl_integration;

#define JETL_INTEGRATION_INIT { JETL_INTEGRATION_VERSION, 0, 0, "", "", JETL_FLAVOR_AUTO, JETL_AUTH_BASIC, \
	"", 1, "", "", 0, 1, "", "", "", 0.0, 0.0 }

/** Fill defaults. JETL_EINVAL for NULL, JETL_EVERSION for an unknown version. */
JETL_API int jetl_integration_init(jetl_integration *integration, unsigned int version);

/**
 * Add an integration to the context's tenant. secret: the token in clear
 * (sealed with the operator's key; JETL_ECONFIG when no key is set or it is
 * malformed), an "env:NAME"/"file:/path" reference, or NULL for none yet.
 * *id (may be NULL) gets the id, picked when integration->id is 0.
 * Errors: JETL_EINVAL (missing name or URL, a URL holding credentials, bad
 * flavor/auth, a string too long, a token with a newline), JETL_ECONFIG,
 * JETL_EDATA (the id is taken),
 * JETL_EDB, JETL_ESCHEMA (not migrated).
 */
JETL_API int jetl_integration_add(jetl_ctx *ctx, const jetl_integration *integration, const char *secret,
	int *id);

/**
 * Replace every non-secret field of integration->id (get, change, update);
 * secret as for add, NULL keeps the stored one. Errors as for add, and
 * JETL_ENOENT (no such integration in this tenant).
 */
JETL_API int jetl_integration_update(jetl_ctx *ctx, const jetl_integration *integration, const char *secret);

/** Replace the secret only (NULL removes it). Errors as for update. */
JETL_API int jetl_integration_set_secret(jetl_ctx *ctx, int id, const char *secret);

/**
 * Read integration id (0: the context's integration_id) of the context's
 * tenant into *out (set out->version first, or use JETL_INTEGRATION_INIT).
 * Errors: JETL_ENOENT with "integration 7 of tenant 3 not found", JETL_EDB,
 * JETL_ESCHEMA.
 */
JETL_API int jetl_integration_get(jetl_ctx *ctx, int id, jetl_integration *out);

/** Called once per integration, borrowed for the call; non-zero stops (not an error). */
typedef int (*jetl_integration_cb)(const jetl_integration *integration, void *userdata);

/** The tenant's integrations, by id, on the calling thread. Errors: JETL_EDB, JETL_ESCHEMA. */
JETL_API int jetl_integration_list(jetl_ctx *ctx, jetl_integration_cb cb, void *userdata);

/**
 * Remove an integration row (its extracted data, jobs and metadata stay,
 * under its id). Errors: JETL_ENOENT, JETL_EDB.
 */
JETL_API int jetl_integration_remove(jetl_ctx *ctx, int id);

#define JETL_INTEGRATION_TEST_VERSION 1

/** What jetl_integration_test() found. */
typedef struct jetl_integration_test_result {
	unsigned int version;       /**< JETL_INTEGRATION_TEST_VERSION */
	int status;                 /**< JETL_OK, or the failure's status */
	char failure[16];           /**< "" when it worked, else one of: "auth" (HTTP 401),
	                                 "forbidden" (403), "not_found" (404: wrong URL or path),
	                                 "http" (other HTTP status), "tls" (handshake or
	                                 certificate), "dns" (name does not resolve),
	                                 "unreachable" (connection refused), "timeout",
	                                 "network" (other transport failure), "protocol" (not
	                                 Jira's JSON: a login page, a proxy), "secret" (the
	                                 stored secret cannot be read), "config" */
	int http_status;            /**< last HTTP status (0: none) */
	int flavor;                 /**< jetl_flavor the site reports */
	char deployment[32];        /**< serverInfo deploymentType ("Cloud", "Server", "DataCenter") */
	char server_version[64];    /**< serverInfo version */
	char user[256];             /**< the user the credentials are: display name (account id or name) */
	char time_zone[64];         /**< the user's time zone */
	char message[512];          /**< one line: what worked or the precise cause; never a secret */
	double seconds;             /**< wall time */
} jetl_integration_test_result;

#define JETL_INTEGRATION_TEST_INIT { JETL_INTEGRATION_TEST_VERSION, 0, "", 0, 0, "", "", "", "", "", 0.0 }

/**
 * Test integration id (0: the context's own connection, options or row):
 * GET serverInfo and myself, one attempt each, no retries. Fills *out
 * (version set by the caller) either way and returns out->status: JETL_OK,
 * or the failure (JETL_EAUTH, JETL_EFORBIDDEN, JETL_ENETWORK, JETL_ETIMEOUT,
 * JETL_ENOTFOUND, JETL_EHTTP, JETL_EPROTOCOL, JETL_ECONFIG) with
 * out->failure naming its class; JETL_ENOENT (no such integration, failure
 * "") and JETL_EDB are failures of the lookup. Writes nothing.
 */
JETL_API int jetl_integration_test(jetl_ctx *ctx, int id, jetl_integration_test_result *out);

/**
 * Key rotation: re-seal every encrypted secret of every tenant that
 * old_key (64 hex digits or base64, as $JETL_SECRET_KEY) opens with the
 * current key ($JETL_SECRET_KEY / $JETL_SECRET_KEY_FILE), in one
 * transaction; secrets already under the current key and references are
 * left alone. *count (may be NULL) gets how many were re-sealed.
 * Errors: JETL_ECONFIG (a key missing or malformed; a secret neither key
 * opens, named: nothing is changed then), JETL_EDATA (an envelope that
 * fails authentication, named), JETL_EDB.
 */
JETL_API int jetl_secret_rotate(jetl_ctx *ctx, const char *old_key, int64_t *count);

/** One project of the context's integration as discovery stored it (borrowed for the callback). */
typedef struct jetl_project_info {
	const char *key;
	const char *id;             /**< Jira's project id */
	const char *name;
	const char *type;           /**< projectTypeKey ("software", …) or "" */
	int active;                 /**< Jira still lists it */
	int selected;               /**< taken by an extraction without keys */
} jetl_project_info;

typedef int (*jetl_project_cb)(const jetl_project_info *project, void *userdata);

/**
 * Discovery of the context's integration: its projects, issue types and
 * statuses from Jira into projects, issue_types and statuses (upserted;
 * what Jira no longer lists is marked inactive). *count (may be NULL) gets
 * the number of projects. Every extraction does this at its start too.
 * Errors: JETL_ENOENT (unknown integration), the Jira ones, JETL_EDB.
 */
JETL_API int jetl_projects_sync(jetl_ctx *ctx, int64_t *count);

/** The stored projects of the context's integration, by key. Errors: JETL_EINVAL, JETL_EDB. */
JETL_API int jetl_projects_list(jetl_ctx *ctx, jetl_project_cb cb, void *userdata);

/**
 * Select exactly these projects (n == 0: none, so every active project is
 * taken) for extractions without keys; stored in the integration's row
 * (when it has one) and in projects.selected. Keys need not be discovered
 * yet. Errors: JETL_EINVAL (an empty or malformed key), JETL_EDB.
 */
JETL_API int jetl_projects_select(jetl_ctx *ctx, const char *const *keys, size_t n);

JETL_END_DECL

#endif
