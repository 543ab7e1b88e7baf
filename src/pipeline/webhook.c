/*
 * webhook.c - the public calls of jetl/webhook.h: each integration's
 * webhook secret generated, sealed (src/core/secret.c, under the same
 * operator key as its Jira secret but bound to another label, so neither
 * envelope opens in the other's column), opened for the endpoint, and
 * re-sealed by key rotation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "webhook_int.h"
#include "../core/secret.h"
#include "../store/db.h"
#include "../store/webhooks.h"
#include "../jira/jira.h"

#define PATH_LABEL "jetl webhook path"

static void aad_of(char *out, size_t n, int tenant, int id)
{
	snprintf(out, n, "jetl webhook %d/%d", tenant, id);
}

static int check_bufs(jetl_ctx *ctx, const char *what, char *secret, size_t secret_size, char *path,
	size_t path_size)
{
	if (!secret || secret_size < JETL_WEBHOOK_SECRET_SIZE || (path && path_size < JETL_WEBHOOK_PATH_SIZE))
		return jl_fail(ctx, JETL_EINVAL, "%s: the buffers must hold %d and %d bytes", what,
			       JETL_WEBHOOK_SECRET_SIZE, JETL_WEBHOOK_PATH_SIZE);
	secret[0] = 0;
	if (path)
		path[0] = 0;
	return JETL_OK;
}

/* The path token of a secret: the first 32 hex digits of its HMAC of a label. */
static int path_of(jetl_ctx *ctx, const char *secret, char *path)
{
	char mac[65];

	if (!path)
		return JETL_OK;
	if (jl_secret_hmac_hex(secret, PATH_LABEL, mac) != 0)
		return jl_fail(ctx, JETL_ENOMEM, "webhook: HMAC failed");
	memcpy(path, mac, JETL_WEBHOOK_PATH_SIZE - 1);
	path[JETL_WEBHOOK_PATH_SIZE - 1] = 0;
	return JETL_OK;
}

static int load_key(jetl_ctx *ctx, int tenant, int id, jl_secret_key *key)
{
	char err[400];
	int rc = jl_secret_key_load(key, err, sizeof(err));

	if (rc != JETL_OK)
		return jl_fail(ctx, JETL_ECONFIG, "integration %d of tenant %d: webhook secrets are encrypted and %s",
			       id, tenant, err);
	return JETL_OK;
}

int jetl_webhook_secret_new(jetl_ctx *ctx, int id, char *secret, size_t secret_size, char *path,
	size_t path_size)
{
	char err[512], aad[64], *sealed;
	jl_secret_key key;
	int rc, found = 0, tenant;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if ((rc = check_bufs(ctx, "webhook secret", secret, secret_size, path, path_size)) != JETL_OK)
		return rc;
	id = id > 0 ? id : ctx->opts.integration_id;
	tenant = ctx->opts.tenant_id;
	if ((rc = load_key(ctx, tenant, id, &key)) != JETL_OK)
		return rc;
	if (jl_secret_random_hex(secret, 32) != 0) {
		jl_secret_wipe(&key, sizeof(key));
		return jl_fail(ctx, JETL_ENOMEM, "webhook secret: no randomness");
	}
	aad_of(aad, sizeof(aad), tenant, id);
	sealed = jl_secret_seal(&key, aad, secret);
	jl_secret_wipe(&key, sizeof(key));
	if (!sealed)
		rc = jl_fail(ctx, JETL_ENOMEM, "webhook secret: cannot seal (out of memory)");
	else if ((rc = jl_webhook_secret_store(ctx->pg, tenant, id, sealed, &found, err, sizeof(err))) != 0)
		rc = jl_fail(ctx, rc, "%s", err);
	else if (!found)
		rc = jl_fail(ctx, JETL_ENOENT, "integration %d of tenant %d not found", id, tenant);
	else
		rc = path_of(ctx, secret, path);
	jl_secret_free(sealed);
	if (rc != JETL_OK)
		jl_secret_wipe(secret, secret_size);
	return rc;
}

int jetl_webhook_secret_get(jetl_ctx *ctx, int id, char *secret, size_t secret_size, char *path,
	size_t path_size)
{
	char err[512], aad[64], *sealed = NULL, *plain = NULL;
	jl_secret_key key;
	int rc, found = 0, tenant;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if ((rc = check_bufs(ctx, "webhook secret", secret, secret_size, path, path_size)) != JETL_OK)
		return rc;
	id = id > 0 ? id : ctx->opts.integration_id;
	tenant = ctx->opts.tenant_id;
	if ((rc = jl_webhook_secret_load(ctx->pg, tenant, id, &sealed, &found, err, sizeof(err))) != 0)
		return jl_fail(ctx, rc, "%s", err);
	if (!found || !*sealed) {
		free(sealed);
		return jl_fail(ctx, JETL_ENOENT, found ? "integration %d of tenant %d has no webhook secret: "
			       "make one with jetl integration webhook register" :
			       "integration %d of tenant %d not found", id, tenant);
	}
	if ((rc = load_key(ctx, tenant, id, &key)) == JETL_OK) {
		aad_of(aad, sizeof(aad), tenant, id);
		rc = jl_secret_open(&key, aad, sealed, &plain, err, sizeof(err));
		jl_secret_wipe(&key, sizeof(key));
		if (rc != JETL_OK)
			rc = jl_fail(ctx, rc, "integration %d of tenant %d: webhook secret: %s", id, tenant, err);
	}
	free(sealed);
	if (rc == JETL_OK && strlen(plain) >= secret_size)
		rc = jl_fail(ctx, JETL_EDATA, "integration %d of tenant %d: the webhook secret is too long", id, tenant);
	if (rc == JETL_OK) {
		memcpy(secret, plain, strlen(plain) + 1);
		rc = path_of(ctx, secret, path);
	}
	jl_secret_free(plain);
	return rc;
}

int jetl_webhook_secret_remove(jetl_ctx *ctx, int id)
{
	char err[512];
	int rc, found = 0, tenant;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	id = id > 0 ? id : ctx->opts.integration_id;
	tenant = ctx->opts.tenant_id;
	if ((rc = jl_webhook_secret_store(ctx->pg, tenant, id, NULL, &found, err, sizeof(err))) != 0)
		return jl_fail(ctx, rc, "%s", err);
	if (!found)
		return jl_fail(ctx, JETL_ENOENT, "integration %d of tenant %d not found", id, tenant);
	return JETL_OK;
}

int jl_webhook_reseal(jetl_ctx *ctx, const jl_secret_key *oldk, const jl_secret_key *newk, int64_t *n)
{
	char err[512];
	PGresult *r = NULL;
	int rc = jl_webhook_secrets_sealed(ctx->pg, &r, err, sizeof(err));

	if (rc != JETL_OK)
		return jl_fail(ctx, rc, "%s", err);
	for (int row = 0; rc == JETL_OK && row < PQntuples(r); row++) {
		int t = atoi(PQgetvalue(r, row, 0)), id = atoi(PQgetvalue(r, row, 1)), found = 0;
		const char *sealed = PQgetvalue(r, row, 2);
		char kid[9], aad[64], *plain = NULL, *fresh = NULL;

		jl_secret_sealed_key_id(sealed, kid);
		if (strcmp(kid, newk->id) == 0)
			continue;
		if (strcmp(kid, oldk->id) != 0) {
			rc = jl_fail(ctx, JETL_ECONFIG, "rotate: the webhook secret of integration %d of tenant %d is "
				     "sealed with key %s, neither the old key (%s) nor the new one (%s): nothing changed",
				     id, t, kid, oldk->id, newk->id);
			break;
		}
		aad_of(aad, sizeof(aad), t, id);
		if ((rc = jl_secret_open(oldk, aad, sealed, &plain, err, sizeof(err))) != JETL_OK) {
			rc = jl_fail(ctx, rc, "rotate: webhook secret of integration %d of tenant %d: %s: nothing changed",
				     id, t, err);
			break;
		}
		fresh = jl_secret_seal(newk, aad, plain);
		jl_secret_free(plain);
		if (!fresh)
			rc = jl_fail(ctx, JETL_ENOMEM, "rotate: cannot seal (out of memory)");
		else if ((rc = jl_webhook_secret_store(ctx->pg, t, id, fresh, &found, err, sizeof(err))) != 0)
			rc = jl_fail(ctx, rc, "%s", err);
		else
			(*n)++;
		jl_secret_free(fresh);
	}
	PQclear(r);
	return rc;
}

/* ---- registration in Jira (Server/DC's admin API) ---- */

int jetl_webhook_register(jetl_ctx *ctx, const char *name, const char *url, const char *secret,
	char *self, size_t self_size)
{
	json_t *body, *out = NULL;
	jl_jira *j = NULL;
	char *text;
	int rc;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (self && self_size)
		self[0] = 0;
	if (!url || !*url)
		return jl_fail(ctx, JETL_EINVAL, "webhook register: no url");
	body = json_pack("{s:s, s:s, s:[sss], s:b}", "name", name && *name ? name : "jetl", "url", url, "events",
			 "jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "excludeBody", 0);
	if (body && secret)
		json_object_set_new(body, "secret", json_string(secret));
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return jl_fail(ctx, JETL_ENOMEM, "webhook register: out of memory");
	rc = jl_pipeline_jira(ctx, &j);
	if (rc == JETL_OK && (rc = jl_jira_webhooks(j, "POST", NULL, text, &out)) != JETL_OK)
		rc = jl_pipeline_jira_fail(ctx, j, rc);
	jl_secret_free(text);
	if (rc == JETL_OK && self && self_size) {
		const char *s = json_string_value(json_object_get(out, "self"));

		snprintf(self, self_size, "%s", s ? s : "");
	}
	json_decref(out);
	jl_jira_free(j);
	return rc;
}

/* Jira's list of webhooks into *out (an array). */
static int webhooks_of(jetl_ctx *ctx, jl_jira **j, json_t **out)
{
	int rc = jl_pipeline_jira(ctx, j);

	*out = NULL;
	if (rc == JETL_OK && (rc = jl_jira_webhooks(*j, "GET", NULL, NULL, out)) != JETL_OK)
		rc = jl_pipeline_jira_fail(ctx, *j, rc);
	if (rc == JETL_OK && !json_is_array(*out)) {
		json_decref(*out);
		*out = NULL;
		rc = jl_fail(ctx, JETL_EPROTOCOL, "jira: GET /rest/webhooks/1.0/webhook did not answer an array");
	}
	return rc;
}

int jetl_webhook_list(jetl_ctx *ctx, jetl_webhook_cb cb, void *userdata)
{
	jl_jira *j = NULL;
	json_t *all = NULL, *w;
	size_t k;
	int rc;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	rc = webhooks_of(ctx, &j, &all);
	json_array_foreach(all, k, w) {
		jetl_webhook_info in;
		const char *name = json_string_value(json_object_get(w, "name"));
		const char *url = json_string_value(json_object_get(w, "url"));
		const char *self = json_string_value(json_object_get(w, "self"));

		in.name = name ? name : "";
		in.url = url ? url : "";
		in.self = self ? self : "";
		in.enabled = json_is_true(json_object_get(w, "enabled"));
		if (cb && (rc = cb(&in, userdata)) != 0)
			break;
	}
	json_decref(all);
	jl_jira_free(j);
	return rc;
}

/* Whether a registered webhook's url is ours: url itself or url + "/...". */
static int same_hook(const char *have, const char *url)
{
	size_t n = strlen(url);

	return have && strncmp(have, url, n) == 0 && (have[n] == 0 || have[n] == '/');
}

int jetl_webhook_unregister(jetl_ctx *ctx, const char *url, int *removed)
{
	jl_jira *j = NULL;
	json_t *all = NULL, *w, *gone;
	size_t k;
	int rc;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (removed)
		*removed = 0;
	if (!url || !*url)
		return jl_fail(ctx, JETL_EINVAL, "webhook unregister: no url");
	rc = webhooks_of(ctx, &j, &all);
	json_array_foreach(all, k, w) {
		const char *self = json_string_value(json_object_get(w, "self"));
		const char *at = self ? strstr(self, "/rest/webhooks/1.0/webhook/") : NULL;

		if (rc != JETL_OK)
			break;
		if (!same_hook(json_string_value(json_object_get(w, "url")), url) || !at)
			continue;
		gone = NULL;
		rc = jl_jira_webhooks(j, "DELETE", at + strlen("/rest/webhooks/1.0/webhook"), NULL, &gone);
		json_decref(gone);
		if (rc != JETL_OK)
			rc = jl_pipeline_jira_fail(ctx, j, rc);
		else if (removed)
			(*removed)++;
	}
	json_decref(all);
	jl_jira_free(j);
	return rc;
}
