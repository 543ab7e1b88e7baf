/*
 * jetl/webhook.h - the secret with which Jira signs the webhooks it sends
 * for an integration (docs/webhooks.md).
 *
 * Jira signs each delivery of a webhook registered with a secret:
 * "X-Hub-Signature: sha256=<hex of HMAC-SHA256(secret, raw body)>". jetl
 * generates that secret (256 random bits as 64 hex digits), seals it with
 * AES-256-GCM under the operator's key as it seals the integration's Jira
 * secret (bound to the row, re-sealed by jetl_secret_rotate()), and gives
 * it back only to the caller that verifies deliveries or registers the
 * webhook. Where Jira sends no signature, the endpoint takes the path
 * token instead: 32 hex digits derived from the secret (HMAC-SHA256 of
 * "jetl webhook path"), unguessable without it and changed with it.
 *
 * Threads: as every context call, one thread at a time per context.
 */
#ifndef JETL_WEBHOOK_H
#define JETL_WEBHOOK_H

#include "context.h"

JETL_BEGIN_DECL

/** Bytes of the buffers that receive a webhook secret (64 hex digits and NUL). */
#define JETL_WEBHOOK_SECRET_SIZE 65
/** Bytes of the buffers that receive a path token (32 hex digits and NUL). */
#define JETL_WEBHOOK_PATH_SIZE 33

/**
 * Generate a new webhook secret for integration id (0: the context's) of
 * the context's tenant, seal it and store it in place of any earlier one
 * (deliveries signed with the old one are refused from then on). secret
 * (JETL_WEBHOOK_SECRET_SIZE bytes) gets it in clear text, to register
 * with Jira; path (JETL_WEBHOOK_PATH_SIZE bytes, may be NULL) gets the
 * path token. The caller owns both buffers and should wipe them.
 * Errors: JETL_EINVAL (a NULL or short buffer), JETL_ENOENT (no such
 * integration of this tenant), JETL_ECONFIG (no operator key, or a
 * malformed one), JETL_ENOMEM (no randomness), JETL_EDB; message on ctx,
 * never the secret.
 */
JETL_API int jetl_webhook_secret_new(jetl_ctx *ctx, int id, char *secret, size_t secret_size, char *path,
	size_t path_size);

/**
 * The stored webhook secret of integration id (0: the context's), opened,
 * and its path token; buffers as for jetl_webhook_secret_new (path may be
 * NULL). For the endpoint that verifies deliveries and for registering.
 * Errors: JETL_ENOENT (no such integration, or it has no webhook secret:
 * the message says which), JETL_ECONFIG (no key, or sealed with another
 * key), JETL_EDATA (an envelope altered or copied from another row),
 * JETL_EINVAL, JETL_EDB.
 */
JETL_API int jetl_webhook_secret_get(jetl_ctx *ctx, int id, char *secret, size_t secret_size, char *path,
	size_t path_size);

/**
 * Remove integration id's webhook secret (0: the context's): every
 * delivery is refused from then on. Removing none is JETL_OK.
 * Errors: JETL_ENOENT (no such integration), JETL_EDB.
 */
JETL_API int jetl_webhook_secret_remove(jetl_ctx *ctx, int id);

/** One webhook Jira has registered (borrowed for the callback). */
typedef struct jetl_webhook_info {
	const char *name;
	const char *url;            /**< where Jira sends it */
	const char *self;           /**< the webhook's own URL in Jira */
	int enabled;
} jetl_webhook_info;

typedef int (*jetl_webhook_cb)(const jetl_webhook_info *webhook, void *userdata);

/**
 * Register a webhook in the Jira of the context's connection (its
 * integration, or the jira_* options), through Server/Data Center's admin
 * API (POST /rest/webhooks/1.0/webhook): name, url, the events
 * jira:issue_created, jira:issue_updated, jira:issue_deleted, and secret
 * (NULL: none), with which Jira then signs its deliveries. self (may be
 * NULL) gets the webhook's URL in Jira. Needs an administrator's
 * credentials; Cloud sites answer 401/403/404 for most credentials, and the
 * webhook is then created on Jira's admin page instead (docs/webhooks.md).
 * Errors: JETL_EINVAL (no url), the Jira failures (JETL_EAUTH,
 * JETL_EFORBIDDEN, JETL_ENOTFOUND, JETL_EHTTP, JETL_ENETWORK, ...), and the
 * integration's (JETL_ENOENT, JETL_ECONFIG). The secret is never in a message.
 */
JETL_API int jetl_webhook_register(jetl_ctx *ctx, const char *name, const char *url, const char *secret,
	char *self, size_t self_size);

/**
 * The webhooks Jira has registered (GET /rest/webhooks/1.0/webhook), one
 * callback each, in Jira's order; a non-zero return stops the listing (and
 * is returned). Errors as for jetl_webhook_register.
 */
JETL_API int jetl_webhook_list(jetl_ctx *ctx, jetl_webhook_cb cb, void *userdata);

/**
 * Remove from Jira every registered webhook whose url is url or starts with
 * url followed by "/" (its path-token form); *removed (may be NULL) gets
 * how many. Errors as for jetl_webhook_register.
 */
JETL_API int jetl_webhook_unregister(jetl_ctx *ctx, const char *url, int *removed);

JETL_END_DECL

#endif
