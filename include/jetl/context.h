/*
 * jetl/context.h - options, contexts, errors, schema.
 *
 * Threads: a context is used by one thread at a time (the exception is
 * jetl_worker_stop(), which is async-signal-safe). Separate contexts are
 * independent and may be used from different threads at once.
 */
#ifndef JETL_CONTEXT_H
#define JETL_CONTEXT_H

#include "common.h"
#include "progress.h"

JETL_BEGIN_DECL

/** Opaque handle: a database connection, Jira and queue settings, a tenant. */
typedef struct jetl_ctx jetl_ctx;

/** Jira deployment flavors. */
typedef enum jetl_flavor {
	JETL_FLAVOR_AUTO = 0,   /**< ask /rest/api/2/serverInfo */
	JETL_FLAVOR_CLOUD = 1,
	JETL_FLAVOR_SERVER = 2  /**< Server and Data Center */
} jetl_flavor;

/** Jira authentication schemes. */
typedef enum jetl_auth {
	JETL_AUTH_BASIC = 0,    /**< user/email + API token or password */
	JETL_AUTH_BEARER = 1    /**< personal access token or OAuth token */
} jetl_auth;

#define JETL_OPTIONS_VERSION 1

/**
 * Options of jetl_open(). Fill with jetl_options_init() (or
 * JETL_OPTIONS_INIT) then set what you need; fields are only ever appended.
 * Strings are borrowed: jetl_open() copies them, so they may be freed after.
 */
typedef struct jetl_options {
	unsigned int version;       /**< JETL_OPTIONS_VERSION */
	const char *db;             /**< libpq conninfo or URI; NULL: $JETL_DB, else libpq defaults */
	int tenant_id;              /**< default 1 */
	int integration_id;         /**< default 1 */
	const char *jira_url;       /**< base URL, may carry a path; NULL: $JETL_JIRA_URL, else the
	                                 integration's row (jetl/integration.h) */
	const char *jira_user;      /**< basic auth user/email; NULL: $JETL_JIRA_USER */
	const char *jira_token;     /**< secret; NULL: $JETL_JIRA_TOKEN. Never logged. */
	int jira_auth;              /**< jetl_auth; default basic (bearer when no user) */
	int jira_flavor;            /**< jetl_flavor; default auto */
	const char *queue_url;      /**< amqp://… or amqps://… (TLS: ?cacertfile=,
	                                 certfile=, keyfile=, verify=; password by
	                                 ?passwordfile=: docs/deploy.md#tls); NULL:
	                                 $JETL_QUEUE, else in-process; "" : in-process
	                                 even when $JETL_QUEUE is set */
	int concurrency;            /**< Jira requests in flight; default 8 */
	int connect_timeout_ms;     /**< default 10000 */
	int request_timeout_ms;     /**< whole request, default 120000 */
	int max_attempts;           /**< per request incl. the first; default 6 */
	int batch_size;             /**< issues per raw row; default 100 */
	jetl_log_cb log_cb;         /**< NULL: no logging */
	void *log_userdata;
	int log_level;              /**< highest jetl_log_level passed on; default INFO */
} jetl_options;

#define JETL_OPTIONS_INIT { JETL_OPTIONS_VERSION, NULL, 1, 1, NULL, NULL, NULL, \
	JETL_AUTH_BASIC, JETL_FLAVOR_AUTO, NULL, 8, 10000, 120000, 6, 100, NULL, NULL, JETL_LOG_INFO }

/**
 * Fill opts with defaults for the given struct version.
 * Returns JETL_EINVAL for NULL, JETL_EVERSION for a version this library
 * does not know (0 or newer than JETL_OPTIONS_VERSION). Thread-safe.
 */
JETL_API int jetl_options_init(jetl_options *opts, unsigned int version);

/**
 * Open a context and connect to PostgreSQL. Jira and the queue are contacted
 * lazily, by the calls that need them.
 * On success *out is owned by the caller (free it with jetl_close()).
 * On failure *out is set to NULL; use jetl_open_err() to get the message.
 * Errors: JETL_EINVAL, JETL_EVERSION, JETL_ENOMEM, JETL_EDBCONN.
 */
JETL_API int jetl_open(jetl_ctx **out, const jetl_options *opts);

/**
 * Like jetl_open(), and on failure writes a one-line message naming the
 * cause into errbuf (errbuf_size bytes, always NUL-terminated when
 * errbuf_size > 0). errbuf may be NULL.
 */
JETL_API int jetl_open_err(jetl_ctx **out, const jetl_options *opts, char *errbuf, size_t errbuf_size);

/** Close a context and free everything it owns. NULL is harmless. */
JETL_API void jetl_close(jetl_ctx *ctx);

/**
 * One-line message of the last failure on this context ("" when none).
 * Borrowed: valid until the next call on the context. Never holds a secret.
 * Per context, not per thread, so bindings that move between threads see it.
 */
JETL_API const char *jetl_last_error(const jetl_ctx *ctx);

/** Tenant and integration of a context (getters; 0 for NULL). */
JETL_API int jetl_tenant_id(const jetl_ctx *ctx);
JETL_API int jetl_integration_id(const jetl_ctx *ctx);

/**
 * Create or upgrade the schema to this library's version. Idempotent; safe
 * when several processes run it at once (an advisory lock serialises them).
 * Errors: JETL_EDB, JETL_ESCHEMA (the database is newer than this library).
 */
JETL_API int jetl_migrate(jetl_ctx *ctx);

/** Schema version this library writes (number of its migrations). */
JETL_API int jetl_schema_version(void);

/** Where the jetl command looks for its configuration when given none. */
#define JETL_CONFIG_DEFAULT_PATH "/etc/jetl/jetl.conf"

/**
 * A configuration file: `key = value` lines, blank lines and whole-line
 * `#` comments. Keys: db, queue, tenant, integration, jira_url, jira_user,
 * jira_token_file, jira_auth (basic|bearer), jira_flavor
 * (auto|cloud|server), concurrency, connect_timeout_ms, request_timeout_ms,
 * max_attempts, batch_size, log_level (error|warning|info|debug) and
 * log_format (text|json, for the application's own logger). The token is
 * only ever named by file (jira_token_file); a jira_token line is an error.
 * Opaque; read it with jetl_config_get(), put it into options with
 * jetl_config_apply().
 */
typedef struct jetl_config jetl_config;

/**
 * Read and check a configuration file. Every line is checked here (key
 * known, set once, value of the right kind), so a bad file fails at once
 * with one message naming it: "FILE:LINE: cause".
 * On success *out is owned by the caller (free it with jetl_config_free()).
 * Thread-safe (touches nothing shared). errbuf (errbuf_size bytes) gets the
 * message, and may be NULL.
 * Errors: JETL_EINVAL (NULL out or path), JETL_ENOENT (no such file),
 * JETL_ECONFIG (unreadable, or a bad line), JETL_ENOMEM.
 */
JETL_API int jetl_config_load(jetl_config **out, const char *path, char *errbuf, size_t errbuf_size);

/**
 * The value of key as written in the file, or NULL when the file does not
 * set it (or for NULL arguments). Borrowed: valid until jetl_config_free().
 */
JETL_API const char *jetl_config_get(const jetl_config *cfg, const char *key);

/**
 * Put the file's settings into opts, except those whose environment
 * variable is set and not empty (JETL_DB, JETL_QUEUE, JETL_TENANT,
 * JETL_INTEGRATION, JETL_JIRA_URL, JETL_JIRA_USER, and JETL_JIRA_TOKEN for
 * jira_token_file): the environment overrides the file. Apply the
 * application's own flags after this call so that they override both.
 * jira_token_file is read here (the whole file minus trailing blanks).
 * Strings put into opts are borrowed from cfg: keep cfg until jetl_open()
 * has copied them. One thread at a time per cfg.
 * Errors: JETL_EINVAL, JETL_ECONFIG (the token file is missing or empty;
 * the message names the file's line), JETL_ENOMEM.
 */
JETL_API int jetl_config_apply(jetl_config *cfg, jetl_options *opts, char *errbuf, size_t errbuf_size);

/** Free a configuration, wiping the token read from its file. NULL is harmless. */
JETL_API void jetl_config_free(jetl_config *cfg);

JETL_END_DECL

#endif
