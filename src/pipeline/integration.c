/*
 * integration.c - integrations: the public calls of jetl/integration.h and
 * the pipeline's side of them (a context's connection from its row,
 * discovery of projects, issue types and statuses, the keys an extraction
 * without keys takes). Secrets are sealed here, with src/core/secret.c,
 * before the store sees them, and opened only into the context's token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"
#include "integration.h"
#include "webhook_int.h"
#include "../core/secret.h"
#include "../store/db.h"
#include "../store/integrations.h"

static const char *const flavor_names[] = { "auto", "cloud", "server" };
static const char *const auth_names[] = { "basic", "bearer" };

static int name_index(const char *const *names, int n, const char *s)
{
	for (int k = 0; k < n; k++)
		if (s && strcmp(names[k], s) == 0)
			return k;
	return 0;
}

/* The AAD of a row's envelope: a sealed secret opens only on its own row. */
static void aad_of(char *out, size_t n, int tenant, int id)
{
	snprintf(out, n, "jetl integration %d/%d", tenant, id);
}

/* What a row gives a connection. */
struct conn {
	char *url, *user, *token;
	int auth, flavor;
	char *settings;
};

static void conn_free(struct conn *c)
{
	free(c->url);
	free(c->user);
	jl_secret_free(c->token);
	free(c->settings);
	memset(c, 0, sizeof(*c));
}

/* Open or dereference a stored secret into *plain. */
static int secret_plain(jetl_ctx *ctx, int tenant, int id, const char *stored, char **plain)
{
	char err[400], aad[64];
	jl_secret_key key;
	int rc;

	*plain = NULL;
	if (!stored || !*stored)
		return jl_fail(ctx, JETL_ECONFIG, "integration %d of tenant %d has no secret: set one with "
			       "jetl integration set-secret", id, tenant);
	if (jl_secret_is_ref(stored)) {
		rc = jl_secret_deref(stored, plain, err, sizeof(err));
		if (rc != JETL_OK)
			return jl_fail(ctx, JETL_ECONFIG, "integration %d of tenant %d: %s", id, tenant, err);
		return JETL_OK;
	}
	rc = jl_secret_key_load(&key, err, sizeof(err));
	if (rc != JETL_OK)
		return jl_fail(ctx, JETL_ECONFIG, "integration %d of tenant %d: its secret is encrypted and %s",
			       id, tenant, err);
	aad_of(aad, sizeof(aad), tenant, id);
	rc = jl_secret_open(&key, aad, stored, plain, err, sizeof(err));
	jl_secret_wipe(&key, sizeof(key));
	if (rc != JETL_OK)
		return jl_fail(ctx, rc == JETL_ENOMEM ? rc : JETL_ECONFIG, "integration %d of tenant %d: %s",
			       id, tenant, err);
	return JETL_OK;
}

/* Read row (tenant, id) into *c (secret opened when with_secret). */
static int load_conn(jetl_ctx *ctx, int tenant, int id, int with_secret, struct conn *c)
{
	char err[512];
	PGresult *r;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	r = jl_integrations_select(ctx->pg, tenant, id, &rc, err, sizeof(err));
	if (!r)
		return jl_fail(ctx, rc, "%s", err);
	if (PQntuples(r) == 0) {
		PQclear(r);
		return jl_fail(ctx, JETL_ENOENT, "integration %d of tenant %d not found: add it (jetl integration "
			       "add) or give the Jira URL (--jira-url, JETL_JIRA_URL)", id, tenant);
	}
	if (PQgetvalue(r, 0, JL_INT_ACTIVE)[0] != 't') {
		PQclear(r);
		return jl_fail(ctx, JETL_ENOENT, "integration %d of tenant %d is inactive", id, tenant);
	}
	c->url = strdup(PQgetvalue(r, 0, JL_INT_URL));
	c->user = *PQgetvalue(r, 0, JL_INT_USER) ? strdup(PQgetvalue(r, 0, JL_INT_USER)) : NULL;
	c->settings = strdup(PQgetvalue(r, 0, JL_INT_SETTINGS));
	c->flavor = name_index(flavor_names, 3, PQgetvalue(r, 0, JL_INT_FLAVOR));
	c->auth = name_index(auth_names, 2, PQgetvalue(r, 0, JL_INT_AUTH));
	rc = JETL_OK;
	if (!c->url || !c->settings)
		rc = jl_fail(ctx, JETL_ENOMEM, "integration: out of memory");
	else if (with_secret)
		rc = secret_plain(ctx, tenant, id, PQgetvalue(r, 0, JL_INT_SECRET), &c->token);
	PQclear(r);
	if (rc != JETL_OK)
		conn_free(c);
	return rc;
}

static int settings_int(const char *settings, const char *key, int dflt)
{
	json_t *doc = settings ? json_loads(settings, 0, NULL) : NULL;
	json_t *v = json_object_get(doc, key);
	int out = dflt;

	if (json_is_integer(v))
		out = (int)json_integer_value(v);
	else if (json_is_boolean(v))
		out = json_is_true(v);
	json_decref(doc);
	return out;
}

int jl_integration_resolve(jetl_ctx *ctx)
{
	int tenant = ctx->opts.tenant_id, id = ctx->opts.integration_id, rc, conc;
	struct conn c;

	if (ctx->jira_explicit)
		return JETL_OK;
	if (ctx->conn_tenant == tenant && ctx->conn_integration == id && ctx->jira_url)
		return JETL_OK;
	rc = load_conn(ctx, tenant, id, 1, &c);
	if (rc == JETL_ESCHEMA)
		return jl_fail(ctx, JETL_ECONFIG, "jira: no Jira URL: set --jira-url or JETL_JIRA_URL, or migrate "
			       "and add integration %d of tenant %d (jetl integration add)", id, tenant);
	if (rc != JETL_OK)
		return rc;
	free(ctx->jira_url);
	free(ctx->jira_user);
	jl_secret_free(ctx->jira_token);
	free(ctx->conn_settings);
	ctx->jira_url = c.url;
	ctx->jira_user = c.user;
	ctx->jira_token = c.token;
	/* opts' pointers may name the strings freed above (a JETL_JIRA_TOKEN
	 * without a URL); they are only read by clones (worker threads), which
	 * read the row themselves. */
	ctx->opts.jira_url = NULL;
	ctx->opts.jira_user = NULL;
	ctx->opts.jira_token = NULL;
	ctx->conn_settings = c.settings;
	ctx->opts.jira_auth = c.auth;
	ctx->opts.jira_flavor = c.flavor;
	conc = settings_int(c.settings, "concurrency", 0);
	if (conc > 0 && conc <= 64)
		ctx->opts.concurrency = conc;
	ctx->conn_tenant = tenant;
	ctx->conn_integration = id;
	return JETL_OK;
}

int jl_integration_require(jetl_ctx *ctx)
{
	struct conn c;
	int rc;

	if (ctx->jira_explicit)
		return JETL_OK;
	rc = load_conn(ctx, ctx->opts.tenant_id, ctx->opts.integration_id, 0, &c);
	if (rc == JETL_ESCHEMA)
		return jl_fail(ctx, JETL_ENOENT, "integration %d of tenant %d not found: migrate, then add it "
			       "(jetl integration add) or give the Jira URL (--jira-url, JETL_JIRA_URL)",
			       ctx->opts.integration_id, ctx->opts.tenant_id);
	if (rc == JETL_OK)
		conn_free(&c);
	return rc;
}

void jl_integration_extract_defaults(jetl_ctx *ctx, char *jql, size_t jql_size, int *dev_status)
{
	json_t *doc = ctx->conn_settings && !ctx->jira_explicit ? json_loads(ctx->conn_settings, 0, NULL) : NULL;
	const char *q = json_string_value(json_object_get(doc, "jql"));
	json_t *d = json_object_get(doc, "dev_status");

	jql[0] = '\0';
	if (q && *q && strlen(q) < jql_size)
		snprintf(jql, jql_size, "%s", q);
	*dev_status = json_is_boolean(d) ? json_is_true(d) : -1;
	json_decref(doc);
}

void jl_keys_free(char **keys, size_t n)
{
	for (size_t k = 0; keys && k < n; k++)
		free(keys[k]);
	free(keys);
}

int jl_integration_extract_keys(jetl_ctx *ctx, char ***keys, size_t *n)
{
	json_t *doc = ctx->conn_settings && !ctx->jira_explicit ? json_loads(ctx->conn_settings, 0, NULL) : NULL;
	json_t *sel = json_object_get(doc, "projects");
	char err[512];
	PGresult *r;
	size_t k;
	int rc = 0;

	*keys = NULL;
	*n = 0;
	if (json_is_array(sel) && json_array_size(sel)) {
		json_t *v;

		*keys = calloc(json_array_size(sel), sizeof(char *));
		json_array_foreach(sel, k, v)
			if (json_is_string(v) && *keys)
				(*keys)[(*n)++] = strdup(json_string_value(v));
		json_decref(doc);
		return *keys ? JETL_OK : jl_fail(ctx, JETL_ENOMEM, "extract: out of memory");
	}
	json_decref(doc);
	r = jl_meta_extract_keys(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, &rc, err, sizeof(err));
	if (!r)
		return jl_fail(ctx, rc, "%s", err);
	*keys = calloc((size_t)PQntuples(r) + 1, sizeof(char *));
	for (int row = 0; *keys && row < PQntuples(r); row++)
		(*keys)[(*n)++] = strdup(PQgetvalue(r, row, 0));
	PQclear(r);
	return *keys ? JETL_OK : jl_fail(ctx, JETL_ENOMEM, "extract: out of memory");
}

/* The row's selected keys as JSON array text (NULL without a row or a selection). */
static char *selected_json(jetl_ctx *ctx)
{
	json_t *doc = ctx->conn_settings && !ctx->jira_explicit ? json_loads(ctx->conn_settings, 0, NULL) : NULL;
	json_t *sel = json_object_get(doc, "projects");
	char *out = json_is_array(sel) ? json_dumps(sel, JSON_COMPACT) : NULL;

	json_decref(doc);
	return out;
}

int jl_integration_catalog(jetl_ctx *ctx, jl_jira *j, int strict, int64_t *nprojects)
{
	json_t *arr = NULL;
	char err[512], *text, *sel;
	int64_t n = 0, ntypes = 0, nstatuses = 0;
	int rc, t = ctx->opts.tenant_id, i = ctx->opts.integration_id;

	if (nprojects)
		*nprojects = 0;
	rc = jl_jira_projects(j, &arr);
	if (rc != JETL_OK) {
		if (strict)
			return jl_pipeline_jira_fail(ctx, j, rc);
		jl_log(ctx, JETL_LOG_WARNING, "discover: projects not listed: %s", jl_jira_error(j));
	} else {
		text = json_dumps(arr, JSON_COMPACT);
		json_decref(arr);
		sel = selected_json(ctx);
		rc = text ? jl_meta_projects(ctx->pg, t, i, text, sel, &n, err, sizeof(err)) : JETL_ENOMEM;
		free(text);
		free(sel);
		if (rc != JETL_OK)
			return jl_fail(ctx, rc, "%s", rc == JETL_ENOMEM ? "discover: out of memory" : err);
	}
	/* The catalogue helps reading the data; an extraction does not need it. */
	if (jl_jira_issue_types(j, &arr) == JETL_OK) {
		text = json_dumps(arr, JSON_COMPACT);
		json_decref(arr);
		rc = text ? jl_meta_issue_types(ctx->pg, t, i, text, &ntypes, err, sizeof(err)) : JETL_ENOMEM;
		free(text);
		if (rc != JETL_OK)
			return jl_fail(ctx, rc, "%s", rc == JETL_ENOMEM ? "discover: out of memory" : err);
	} else {
		jl_log(ctx, JETL_LOG_WARNING, "discover: issue types not listed: %s", jl_jira_error(j));
	}
	if (jl_jira_statuses(j, &arr) == JETL_OK) {
		text = json_dumps(arr, JSON_COMPACT);
		json_decref(arr);
		rc = text ? jl_meta_statuses(ctx->pg, t, i, text, &nstatuses, err, sizeof(err)) : JETL_ENOMEM;
		free(text);
		if (rc != JETL_OK)
			return jl_fail(ctx, rc, "%s", rc == JETL_ENOMEM ? "discover: out of memory" : err);
	} else {
		jl_log(ctx, JETL_LOG_WARNING, "discover: statuses not listed: %s", jl_jira_error(j));
	}
	jl_log(ctx, JETL_LOG_INFO, "discover: %lld projects, %lld issue types, %lld statuses",
	       (long long)n, (long long)ntypes, (long long)nstatuses);
	if (nprojects)
		*nprojects = n;
	return JETL_OK;
}

/* ---- the public calls ---- */

int jetl_integration_init(jetl_integration *in, unsigned int version)
{
	static const jetl_integration defaults = JETL_INTEGRATION_INIT;

	if (!in)
		return JETL_EINVAL;
	if (version == 0 || version > JETL_INTEGRATION_VERSION)
		return JETL_EVERSION;
	*in = defaults;
	in->version = version;
	return JETL_OK;
}

#define TERMINATED(field) (memchr((field), '\0', sizeof(field)) != NULL)

/* Check *in and build its settings JSON (*settings, malloc'd). */
static int check_in(jetl_ctx *ctx, const jetl_integration *in, char **settings)
{
	json_t *doc, *keys;
	char err[300];

	*settings = NULL;
	if (!in)
		return jl_fail(ctx, JETL_EINVAL, "integration: NULL");
	if (in->version == 0 || in->version > JETL_INTEGRATION_VERSION)
		return jl_fail(ctx, JETL_EVERSION, "integration: version %u is not supported", in->version);
	if (!TERMINATED(in->name) || !TERMINATED(in->base_url) || !TERMINATED(in->user) ||
	    !TERMINATED(in->projects) || !TERMINATED(in->jql))
		return jl_fail(ctx, JETL_EINVAL, "integration: a string field is not NUL-terminated");
	if (!in->name[0])
		return jl_fail(ctx, JETL_EINVAL, "integration: no name");
	if (strncmp(in->base_url, "http://", 7) && strncmp(in->base_url, "https://", 8))
		return jl_fail(ctx, JETL_EINVAL, "integration '%s': the base URL must start with http:// or https://",
			       in->name);
	{
		/* the URL is stored and shown in clear: no user:password@ in it */
		const char *a = strstr(in->base_url, "://") + 3;
		size_t alen = strcspn(a, "/?#");

		if (memchr(a, '@', alen))
			return jl_fail(ctx, JETL_EINVAL, "integration '%s': the base URL holds credentials (user@ or "
				       "user:password@): give them as the user and the secret", in->name);
	}
	if (in->flavor < JETL_FLAVOR_AUTO || in->flavor > JETL_FLAVOR_SERVER)
		return jl_fail(ctx, JETL_EINVAL, "integration '%s': flavor %d is not a jetl_flavor", in->name, in->flavor);
	if (in->auth < JETL_AUTH_BASIC || in->auth > JETL_AUTH_BEARER)
		return jl_fail(ctx, JETL_EINVAL, "integration '%s': auth %d is not a jetl_auth", in->name, in->auth);
	if (in->concurrency < 0 || in->concurrency > 64)
		return jl_fail(ctx, JETL_EINVAL, "integration '%s': concurrency must be 0..64", in->name);
	if (in->jql[0] && jl_jql_check_extra(in->jql, err, sizeof(err)) != 0)
		return jl_fail(ctx, JETL_EINVAL, "integration '%s': %s", in->name, err);
	doc = json_object();
	keys = json_array();
	if (!doc || !keys) {
		json_decref(doc);
		json_decref(keys);
		return jl_fail(ctx, JETL_ENOMEM, "integration: out of memory");
	}
	for (const char *p = in->projects; *p;) {
		size_t len = strcspn(p, ", ");
		char key[256];

		if (len) {
			if (len >= sizeof(key)) {
				json_decref(doc);
				json_decref(keys);
				return jl_fail(ctx, JETL_EINVAL, "integration '%s': a project key is too long", in->name);
			}
			memcpy(key, p, len);
			key[len] = '\0';
			json_array_append_new(keys, json_string(key));
		}
		p += len;
		p += strspn(p, ", ");
	}
	json_object_set_new(doc, "projects", keys);
	if (in->jql[0])
		json_object_set_new(doc, "jql", json_string(in->jql));
	if (in->concurrency)
		json_object_set_new(doc, "concurrency", json_integer(in->concurrency));
	json_object_set_new(doc, "dev_status", json_boolean(in->dev_status != 0));
	*settings = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return *settings ? JETL_OK : jl_fail(ctx, JETL_ENOMEM, "integration: out of memory");
}

/* What the secret column gets for secret (NULL stays NULL). */
static int secret_stored(jetl_ctx *ctx, int tenant, int id, const char *secret, char **stored)
{
	char err[400], aad[64];
	jl_secret_key key;
	int rc;

	*stored = NULL;
	if (!secret)
		return JETL_OK;
	if (jl_secret_is_ref(secret)) {
		*stored = strdup(secret);
		return *stored ? JETL_OK : jl_fail(ctx, JETL_ENOMEM, "integration: out of memory");
	}
	if (!*secret)
		return jl_fail(ctx, JETL_EINVAL, "integration %d of tenant %d: the secret is empty", id, tenant);
	for (const char *p = secret; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return jl_fail(ctx, JETL_EINVAL, "integration %d of tenant %d: the secret holds a control "
				       "character (a trailing newline?)", id, tenant);
	rc = jl_secret_key_load(&key, err, sizeof(err));
	if (rc != JETL_OK)
		return jl_fail(ctx, JETL_ECONFIG, "integration %d of tenant %d: cannot seal the secret: %s",
			       id, tenant, err);
	aad_of(aad, sizeof(aad), tenant, id);
	*stored = jl_secret_seal(&key, aad, secret);
	jl_secret_wipe(&key, sizeof(key));
	return *stored ? JETL_OK : jl_fail(ctx, JETL_ENOMEM, "integration: cannot seal the secret (out of memory)");
}

/* Seal the secret and insert the row, in the caller's transaction; an id
 * peeked (auto) is taken only once the row is in. */
static int add_row(jetl_ctx *ctx, const jetl_integration *in, const char *secret, const char *settings,
	int nid, int auto_id)
{
	char err[512], *stored = NULL;
	int tenant = ctx->opts.tenant_id, rc;

	rc = secret_stored(ctx, tenant, nid, secret, &stored);
	if (rc != JETL_OK)
		return rc;
	rc = jl_integrations_insert(ctx->pg, tenant, nid, in->name, in->base_url, flavor_names[in->flavor],
		auth_names[in->auth], in->user, stored, in->active != 0, settings, err, sizeof(err));
	if (rc == JETL_OK && auto_id)
		rc = jl_integrations_take_id(ctx->pg, nid, err, sizeof(err));
	if (rc == JETL_EDATA)
		rc = jl_fail(ctx, rc, "integration %d of tenant %d exists already (or a value is refused): %s",
			     nid, tenant, err);
	else if (rc != JETL_OK)
		rc = jl_fail(ctx, rc, "%s", err);
	jl_secret_free(stored);
	return rc;
}

/*
 * One transaction: a failed add (no secret key, a refused value) leaves no
 * row and uses up no id, so the next add gets the id this one would have
 * had (issue 25: a failed first add made every later one integration 2,
 * while commands defaulted to an integration 1 that never existed).
 */
int jetl_integration_add(jetl_ctx *ctx, const jetl_integration *in, const char *secret, int *id)
{
	char err[512], *settings = NULL;
	int rc, nid;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (id)
		*id = 0;
	if ((rc = check_in(ctx, in, &settings)) != JETL_OK)
		return rc;
	nid = in->id;
	if (nid < 0) {
		free(settings);
		return jl_fail(ctx, JETL_EINVAL, "integration '%s': id must be positive (0 picks one)", in->name);
	}
	rc = jl_store_begin(ctx->pg, "adding the integration", err, sizeof(err));
	if (rc == JETL_OK && nid == 0)
		rc = jl_integrations_peek_id(ctx->pg, &nid, err, sizeof(err));
	if (rc != JETL_OK)
		rc = jl_fail(ctx, rc, "%s", err);
	else
		rc = add_row(ctx, in, secret, settings, nid, in->id == 0);
	if (rc == JETL_OK && (rc = jl_store_commit(ctx->pg, "adding the integration", err, sizeof(err))) != JETL_OK)
		rc = jl_fail(ctx, rc, "%s", err);
	if (rc != JETL_OK)
		jl_store_rollback(ctx->pg);
	free(settings);
	if (rc == JETL_OK && id)
		*id = nid;
	return rc;
}

int jetl_integration_update(jetl_ctx *ctx, const jetl_integration *in, const char *secret)
{
	char err[512], *settings = NULL, *stored = NULL;
	int rc, tenant, found = 0;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if ((rc = check_in(ctx, in, &settings)) != JETL_OK)
		return rc;
	tenant = ctx->opts.tenant_id;
	rc = secret_stored(ctx, tenant, in->id, secret, &stored);
	if (rc == JETL_OK) {
		rc = jl_store_begin(ctx->pg, "updating the integration", err, sizeof(err));
		if (rc == JETL_OK)
			rc = jl_integrations_update(ctx->pg, tenant, in->id, in->name, in->base_url,
				flavor_names[in->flavor], auth_names[in->auth], in->user, in->active != 0, settings,
				&found, err, sizeof(err));
		if (rc == JETL_OK && found && stored)
			rc = jl_integrations_set_secret(ctx->pg, tenant, in->id, stored, &found, err, sizeof(err));
		if (rc == JETL_OK && found)
			rc = jl_store_commit(ctx->pg, "updating the integration", err, sizeof(err));
		else
			jl_store_rollback(ctx->pg);
		if (rc != JETL_OK)
			rc = jl_fail(ctx, rc, "%s", err);
		else if (!found)
			rc = jl_fail(ctx, JETL_ENOENT, "integration %d of tenant %d not found", in->id, tenant);
	}
	/* a context using this row reads it again on its next need */
	if (rc == JETL_OK && ctx->conn_tenant == tenant && ctx->conn_integration == in->id)
		ctx->conn_integration = 0;
	free(settings);
	jl_secret_free(stored);
	return rc;
}

static int id_or_ctx(const jetl_ctx *ctx, int id)
{
	return id > 0 ? id : ctx->opts.integration_id;
}

int jetl_integration_set_secret(jetl_ctx *ctx, int id, const char *secret)
{
	char err[512], *stored = NULL;
	int rc, found = 0, tenant;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	id = id_or_ctx(ctx, id);
	tenant = ctx->opts.tenant_id;
	rc = secret_stored(ctx, tenant, id, secret, &stored);
	if (rc != JETL_OK)
		return rc;
	rc = jl_integrations_set_secret(ctx->pg, tenant, id, stored, &found, err, sizeof(err));
	jl_secret_free(stored);
	if (rc != JETL_OK)
		return jl_fail(ctx, rc, "%s", err);
	if (!found)
		return jl_fail(ctx, JETL_ENOENT, "integration %d of tenant %d not found", id, tenant);
	if (ctx->conn_tenant == tenant && ctx->conn_integration == id)
		ctx->conn_integration = 0;
	return JETL_OK;
}

/* Row r of a jl_integrations_select result into *out (version kept). */
static void fill(jetl_integration *out, PGresult *r, int row)
{
	unsigned int version = out->version;
	const char *secret = PQgetvalue(r, row, JL_INT_SECRET);
	json_t *doc = json_loads(PQgetvalue(r, row, JL_INT_SETTINGS), 0, NULL), *v;
	size_t k, used = 0;

	jetl_integration_init(out, JETL_INTEGRATION_VERSION);
	out->version = version;
	out->tenant_id = atoi(PQgetvalue(r, row, JL_INT_TENANT));
	out->id = atoi(PQgetvalue(r, row, JL_INT_ID));
	snprintf(out->name, sizeof(out->name), "%s", PQgetvalue(r, row, JL_INT_NAME));
	snprintf(out->base_url, sizeof(out->base_url), "%s", PQgetvalue(r, row, JL_INT_URL));
	out->flavor = name_index(flavor_names, 3, PQgetvalue(r, row, JL_INT_FLAVOR));
	out->auth = name_index(auth_names, 2, PQgetvalue(r, row, JL_INT_AUTH));
	snprintf(out->user, sizeof(out->user), "%s", PQgetvalue(r, row, JL_INT_USER));
	out->active = PQgetvalue(r, row, JL_INT_ACTIVE)[0] == 't';
	json_array_foreach(json_object_get(doc, "projects"), k, v) {
		const char *key = json_string_value(v);

		if (key && used + strlen(key) + 2 < sizeof(out->projects))
			used += (size_t)snprintf(out->projects + used, sizeof(out->projects) - used, "%s%s",
						 used ? "," : "", key);
	}
	if (json_is_string(json_object_get(doc, "jql")))
		snprintf(out->jql, sizeof(out->jql), "%s", json_string_value(json_object_get(doc, "jql")));
	if (json_is_integer(json_object_get(doc, "concurrency")))
		out->concurrency = (int)json_integer_value(json_object_get(doc, "concurrency"));
	v = json_object_get(doc, "dev_status");
	out->dev_status = json_is_boolean(v) ? json_is_true(v) : 1;
	json_decref(doc);
	if (!*secret) {
		snprintf(out->secret_kind, sizeof(out->secret_kind), "none");
	} else if (strncmp(secret, "env:", 4) == 0 || strncmp(secret, "file:", 5) == 0) {
		snprintf(out->secret_kind, sizeof(out->secret_kind), "%s", secret[0] == 'e' ? "env" : "file");
		snprintf(out->secret_ref, sizeof(out->secret_ref), "%s", secret);
	} else {
		char kid[9];

		jl_secret_sealed_key_id(secret, kid);
		snprintf(out->secret_kind, sizeof(out->secret_kind), "encrypted");
		snprintf(out->secret_key_id, sizeof(out->secret_key_id), "%s", kid);
	}
	out->created_at = atof(PQgetvalue(r, row, JL_INT_CREATED));
	out->updated_at = atof(PQgetvalue(r, row, JL_INT_UPDATED));
}

int jetl_integration_get(jetl_ctx *ctx, int id, jetl_integration *out)
{
	char err[512];
	PGresult *r;
	int rc = 0;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (!out)
		return jl_fail(ctx, JETL_EINVAL, "integration: out is NULL");
	if (out->version == 0 || out->version > JETL_INTEGRATION_VERSION)
		return jl_fail(ctx, JETL_EVERSION, "integration: version %u is not supported", out->version);
	id = id_or_ctx(ctx, id);
	r = jl_integrations_select(ctx->pg, ctx->opts.tenant_id, id, &rc, err, sizeof(err));
	if (!r)
		return jl_fail(ctx, rc, "%s", err);
	if (PQntuples(r) == 0) {
		PQclear(r);
		return jl_fail(ctx, JETL_ENOENT, "integration %d of tenant %d not found", id, ctx->opts.tenant_id);
	}
	fill(out, r, 0);
	PQclear(r);
	return JETL_OK;
}

int jetl_integration_list(jetl_ctx *ctx, jetl_integration_cb cb, void *userdata)
{
	char err[512];
	PGresult *r;
	int rc = 0;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (!cb)
		return jl_fail(ctx, JETL_EINVAL, "integration: no callback");
	r = jl_integrations_select(ctx->pg, ctx->opts.tenant_id, 0, &rc, err, sizeof(err));
	if (!r)
		return jl_fail(ctx, rc, "%s", err);
	for (int row = 0; row < PQntuples(r); row++) {
		jetl_integration in = JETL_INTEGRATION_INIT;

		fill(&in, r, row);
		if (cb(&in, userdata) != 0)
			break;
	}
	PQclear(r);
	return JETL_OK;
}

int jetl_integration_remove(jetl_ctx *ctx, int id)
{
	char err[512];
	int rc, found = 0;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	id = id_or_ctx(ctx, id);
	rc = jl_integrations_delete(ctx->pg, ctx->opts.tenant_id, id, &found, err, sizeof(err));
	if (rc != JETL_OK)
		return jl_fail(ctx, rc, "%s", err);
	if (!found)
		return jl_fail(ctx, JETL_ENOENT, "integration %d of tenant %d not found", id, ctx->opts.tenant_id);
	if (ctx->conn_tenant == ctx->opts.tenant_id && ctx->conn_integration == id)
		ctx->conn_integration = 0;
	return JETL_OK;
}

/* ---- test ---- */

static const char *failure_of(int rc, const jl_jira *j)
{
	switch (rc) {
	case JETL_EAUTH: return "auth";
	case JETL_EFORBIDDEN: return "forbidden";
	case JETL_ENOTFOUND: return "not_found";
	case JETL_EPROTOCOL: return "protocol";
	case JETL_ENETWORK:
	case JETL_ETIMEOUT: {
		const char *c = j ? jl_jira_transport_class(j) : "";
		return *c ? c : rc == JETL_ETIMEOUT ? "timeout" : "network";
	}
	case JETL_ECONFIG: return "config";
	default: return "http";
	}
}

static int test_end(jetl_ctx *ctx, jetl_integration_test_result *out, int rc, const char *failure,
	const char *msg, double t0)
{
	out->status = rc;
	snprintf(out->failure, sizeof(out->failure), "%s", rc == JETL_OK ? "" : failure);
	jl_one_line(out->message, sizeof(out->message), msg);
	out->seconds = jl_now() - t0;
	if (rc != JETL_OK)
		return jl_fail(ctx, rc, "%s", out->message);
	return JETL_OK;
}

/* The connection a test uses: the context's own (id <= 0) or the row's. */
static int test_conn(jetl_ctx *ctx, int id, struct conn *c)
{
	int rc;

	memset(c, 0, sizeof(*c));
	if (id > 0)
		return load_conn(ctx, ctx->opts.tenant_id, id, 1, c);
	rc = jl_integration_resolve(ctx);
	if (rc == JETL_OK && (!ctx->jira_url || !ctx->jira_token))
		rc = jl_fail(ctx, JETL_ECONFIG, "jira: no %s: set JETL_JIRA_URL and JETL_JIRA_TOKEN, or use an "
			     "integration", ctx->jira_url ? "token" : "Jira URL");
	if (rc == JETL_OK) {
		c->url = strdup(ctx->jira_url);
		c->user = ctx->jira_user ? strdup(ctx->jira_user) : NULL;
		c->token = strdup(ctx->jira_token);
		c->auth = ctx->opts.jira_auth;
		c->flavor = ctx->opts.jira_flavor;
	}
	return rc;
}

/* A client for one quick try: one request at a time, no retry, at most
 * 30 s per request, no log lines (the outcome is the result). */
static void test_cfg(const jetl_ctx *ctx, const struct conn *c, jl_jira_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->base_url = c->url;
	cfg->user = c->user;
	cfg->token = c->token;
	cfg->auth = c->user || c->auth == JETL_AUTH_BEARER ? c->auth : JETL_AUTH_BEARER;
	cfg->flavor = c->flavor;
	cfg->concurrency = 1;
	cfg->connect_timeout_ms = ctx->opts.connect_timeout_ms;
	cfg->request_timeout_ms = ctx->opts.request_timeout_ms < 30000 ? ctx->opts.request_timeout_ms : 30000;
	cfg->max_attempts = 1;
	cfg->log_level = JETL_LOG_ERROR - 1;
}

/* serverInfo into out (also when myself then fails: the site answered). */
static void test_read_info(jetl_integration_test_result *out, const json_t *info)
{
	const char *s = json_string_value(json_object_get(info, "deploymentType"));

	snprintf(out->deployment, sizeof(out->deployment), "%s", s ? s : "");
	s = json_string_value(json_object_get(info, "version"));
	snprintf(out->server_version, sizeof(out->server_version), "%s", s ? s : "");
	out->flavor = out->deployment[0] ? (strcmp(out->deployment, "Cloud") == 0 ? JETL_FLAVOR_CLOUD :
					    JETL_FLAVOR_SERVER) : JETL_FLAVOR_AUTO;
}

/* myself into out. */
static void test_read_me(jetl_integration_test_result *out, const json_t *me)
{
	const char *name = json_string_value(json_object_get(me, "displayName"));
	const char *acct = json_string_value(json_object_get(me, "accountId"));
	const char *login = json_string_value(json_object_get(me, "name"));
	const char *tz = json_string_value(json_object_get(me, "timeZone"));

	snprintf(out->user, sizeof(out->user), "%.120s (%.120s)", name ? name : "?",
		 acct ? acct : login ? login : "?");
	snprintf(out->time_zone, sizeof(out->time_zone), "%s", tz ? tz : "");
	out->http_status = 200;
}

/* A failed try: its class, the HTTP status behind it, a readable message. */
static const char *test_failure(int rc, jl_jira *j, jetl_integration_test_result *out, char *msg, size_t n)
{
	const char *f = failure_of(rc, j);
	const char *what = strcmp(f, "tls") == 0 ? "TLS failure" :
		strcmp(f, "dns") == 0 ? "the host name does not resolve" :
		strcmp(f, "unreachable") == 0 ? "connection refused" :
		strcmp(f, "timeout") == 0 ? "timed out" :
		strcmp(f, "auth") == 0 ? "HTTP 401, the credentials are refused" :
		strcmp(f, "forbidden") == 0 ? "HTTP 403, the user may not do this" : f;
	const char *why = jl_jira_error(j);

	/* (GCC's -Wformat-truncation at -O2 with sanitizers took a %s here
	 * for NULL through the inlined chain: both are checked) */
	snprintf(msg, n, "%s: %s", what ? what : "?", why ? why : "");
	out->http_status = strcmp(f, "auth") == 0 ? 401 : strcmp(f, "forbidden") == 0 ? 403 :
			   strcmp(f, "not_found") == 0 ? 404 : 0;
	return f;
}

int jetl_integration_test(jetl_ctx *ctx, int id, jetl_integration_test_result *out)
{
	struct conn c;
	jl_jira_config cfg;
	jl_jira *j = NULL;
	json_t *info = NULL, *me = NULL;
	char err[512], msg[700];
	unsigned int version;
	double t0 = jl_now();
	int rc;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (!out)
		return jl_fail(ctx, JETL_EINVAL, "integration test: out is NULL");
	if (out->version == 0 || out->version > JETL_INTEGRATION_TEST_VERSION)
		return jl_fail(ctx, JETL_EVERSION, "integration test: version %u is not supported", out->version);
	version = out->version;
	memset(out, 0, sizeof(*out));
	out->version = version;
	if ((rc = test_conn(ctx, id, &c)) != JETL_OK) {
		/* a missing row is the lookup's failure; an unreadable secret the test's */
		const char *f = rc == JETL_ECONFIG ? (strstr(jetl_last_error(ctx), "secret") ? "secret" : "config") : "";

		snprintf(msg, sizeof(msg), "%s", jetl_last_error(ctx));
		conn_free(&c);
		test_end(ctx, out, rc, f, msg, t0);
		if (!*f)
			out->failure[0] = '\0';
		return rc;
	}
	if (!c.url || !c.token) {
		conn_free(&c);
		return test_end(ctx, out, JETL_ENOMEM, "config", "integration test: out of memory", t0);
	}
	test_cfg(ctx, &c, &cfg);
	rc = jl_jira_new(&j, &cfg, err, sizeof(err));
	conn_free(&c);
	if (rc != JETL_OK)
		return test_end(ctx, out, rc, "config", err, t0);
	if ((rc = jl_jira_server_info(j, &info)) == JETL_OK) {
		test_read_info(out, info);
		rc = jl_jira_myself(j, &me);
	}
	if (rc != JETL_OK) {
		const char *f = test_failure(rc, j, out, msg, sizeof(msg));

		json_decref(info);
		jl_jira_free(j);
		return test_end(ctx, out, rc, f, msg, t0);
	}
	test_read_me(out, me);
	json_decref(info);
	json_decref(me);
	jl_jira_free(j);
	snprintf(msg, sizeof(msg), "Jira %s %s, user %s, time zone %s", out->deployment[0] ? out->deployment : "?",
		 out->server_version, out->user, out->time_zone[0] ? out->time_zone : "?");
	return test_end(ctx, out, JETL_OK, "", msg, t0);
}

/* ---- key rotation ---- */

int jetl_secret_rotate(jetl_ctx *ctx, const char *old_key, int64_t *count)
{
	jl_secret_key oldk, newk;
	char err[512];
	PGresult *r = NULL;
	int64_t n = 0;
	int rc;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (count)
		*count = 0;
	rc = jl_secret_key_parse(&oldk, old_key, "the old key", err, sizeof(err));
	if (rc != JETL_OK)
		return jl_fail(ctx, rc, "rotate: %s", err);
	rc = jl_secret_key_load(&newk, err, sizeof(err));
	if (rc != JETL_OK) {
		jl_secret_wipe(&oldk, sizeof(oldk));
		return jl_fail(ctx, JETL_ECONFIG, "rotate: the new key: %s", err);
	}
	rc = jl_store_begin(ctx->pg, "rotating the key", err, sizeof(err));
	if (rc == JETL_OK)
		rc = jl_integrations_sealed(ctx->pg, &r, err, sizeof(err));
	if (rc != JETL_OK)
		rc = jl_fail(ctx, rc, "%s", err);
	for (int row = 0; rc == JETL_OK && row < PQntuples(r); row++) {
		int t = atoi(PQgetvalue(r, row, 0)), id = atoi(PQgetvalue(r, row, 1));
		const char *sealed = PQgetvalue(r, row, 2);
		char kid[9], aad[64], *plain = NULL, *fresh = NULL;

		jl_secret_sealed_key_id(sealed, kid);
		if (strcmp(kid, newk.id) == 0)
			continue;
		if (strcmp(kid, oldk.id) != 0) {
			rc = jl_fail(ctx, JETL_ECONFIG, "rotate: integration %d of tenant %d is sealed with key %s, "
				     "neither the old key (%s) nor the new one (%s): nothing changed", id, t, kid,
				     oldk.id, newk.id);
			break;
		}
		aad_of(aad, sizeof(aad), t, id);
		rc = jl_secret_open(&oldk, aad, sealed, &plain, err, sizeof(err));
		if (rc != JETL_OK) {
			rc = jl_fail(ctx, rc, "rotate: integration %d of tenant %d: %s: nothing changed", id, t, err);
			break;
		}
		fresh = jl_secret_seal(&newk, aad, plain);
		jl_secret_free(plain);
		if (!fresh) {
			rc = jl_fail(ctx, JETL_ENOMEM, "rotate: cannot seal (out of memory)");
			break;
		}
		rc = jl_integrations_set_secret(ctx->pg, t, id, fresh, NULL, err, sizeof(err));
		jl_secret_free(fresh);
		if (rc != JETL_OK)
			rc = jl_fail(ctx, rc, "%s", err);
		else
			n++;
	}
	PQclear(r);
	if (rc == JETL_OK)
		rc = jl_webhook_reseal(ctx, &oldk, &newk, &n);
	if (rc == JETL_OK && (rc = jl_store_commit(ctx->pg, "rotating the key", err, sizeof(err))))
		rc = jl_fail(ctx, rc, "%s", err);
	if (rc != JETL_OK)
		jl_store_rollback(ctx->pg);
	jl_secret_wipe(&oldk, sizeof(oldk));
	jl_secret_wipe(&newk, sizeof(newk));
	ctx->conn_integration = 0;
	if (rc == JETL_OK && count)
		*count = n;
	return rc;
}

/* ---- projects ---- */

int jetl_projects_sync(jetl_ctx *ctx, int64_t *count)
{
	jl_jira *j = NULL;
	int rc;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (count)
		*count = 0;
	rc = jl_pipeline_jira(ctx, &j);
	if (rc == JETL_OK)
		rc = jl_integration_catalog(ctx, j, 1, count);
	jl_jira_free(j);
	return rc;
}

int jetl_projects_list(jetl_ctx *ctx, jetl_project_cb cb, void *userdata)
{
	char err[512];
	PGresult *r;
	int rc = 0;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (!cb)
		return jl_fail(ctx, JETL_EINVAL, "projects: no callback");
	r = jl_meta_project_rows(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, &rc, err, sizeof(err));
	if (!r)
		return jl_fail(ctx, rc, "%s", err);
	for (int row = 0; row < PQntuples(r); row++) {
		jetl_project_info p;

		p.key = PQgetvalue(r, row, 0);
		p.id = PQgetvalue(r, row, 1);
		p.name = PQgetvalue(r, row, 2);
		p.type = PQgetvalue(r, row, 3);
		p.active = PQgetvalue(r, row, 4)[0] == 't';
		p.selected = PQgetvalue(r, row, 5)[0] == 't';
		if (cb(&p, userdata) != 0)
			break;
	}
	PQclear(r);
	return JETL_OK;
}

int jetl_projects_select(jetl_ctx *ctx, const char *const *keys, size_t n)
{
	json_t *arr;
	char err[512], *text;
	int rc;

	if (!ctx)
		return JETL_EINVAL;
	jl_clear_error(ctx);
	if (n && !keys)
		return jl_fail(ctx, JETL_EINVAL, "projects: keys is NULL");
	arr = json_array();
	for (size_t k = 0; arr && k < n; k++) {
		if (!keys[k] || !*keys[k] || strcspn(keys[k], ", \t\r\n\"") != strlen(keys[k])) {
			json_decref(arr);
			return jl_fail(ctx, JETL_EINVAL, "projects: key %zu is empty or malformed", k);
		}
		json_array_append_new(arr, json_string(keys[k]));
	}
	text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
	json_decref(arr);
	if (!text)
		return jl_fail(ctx, JETL_ENOMEM, "projects: out of memory");
	rc = jl_integration_require(ctx);
	if (rc != JETL_OK) {
		free(text);
		return rc;
	}
	rc = jl_store_begin(ctx->pg, "selecting projects", err, sizeof(err));
	/* the row's settings (when there is a row: none without) */
	if (rc == JETL_OK)
		rc = jl_integrations_set_projects(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, text,
			err, sizeof(err));
	if (rc == JETL_OK)
		rc = jl_meta_select(ctx->pg, ctx->opts.tenant_id, ctx->opts.integration_id, text, err, sizeof(err));
	if (rc == JETL_OK)
		rc = jl_store_commit(ctx->pg, "selecting projects", err, sizeof(err));
	if (rc != JETL_OK) {
		jl_store_rollback(ctx->pg);
		rc = jl_fail(ctx, rc, "%s", err);
	}
	free(text);
	ctx->conn_integration = 0; /* settings changed: read the row again */
	return rc;
}
