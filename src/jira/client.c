/*
 * client.c - the client object: configuration, credentials, the last error,
 * logging, and the small one-shot calls (myself, field, project).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "../core/util.h"
#include "internal.h"

static void wipe_free(char *s)
{
	if (s) {
		volatile char *p = s;

		while (*p)
			*p++ = '\0';
		free(s);
	}
}

int jl_url_cleartext_remote(const char *url)
{
	const char *a, *end, *at, *h, *he;
	char host[256];

	if (!url || strncasecmp(url, "http://", 7) != 0)
		return 0;
	a = url + 7;
	end = a + strcspn(a, "/?#");
	at = NULL;
	for (const char *p = a; p < end; p++)
		if (*p == '@')
			at = p;
	h = at ? at + 1 : a;
	if (*h == '[') {
		h++;
		he = memchr(h, ']', (size_t)(end - h));
		if (!he)
			return 1;
	} else {
		he = memchr(h, ':', (size_t)(end - h));
		if (!he)
			he = end;
	}
	if (he <= h || (size_t)(he - h) >= sizeof(host))
		return 1;
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';
	if (strcasecmp(host, "localhost") == 0)
		return 0;
	{
		struct in_addr v4;
		struct in6_addr v6;

		if (inet_pton(AF_INET, host, &v4) == 1)
			return (ntohl(v4.s_addr) >> 24) != 127;
		if (inet_pton(AF_INET6, host, &v6) == 1)
			return !IN6_IS_ADDR_LOOPBACK(&v6) &&
			       !(IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
	}
	return 1;
}

int jl_jira_fail(jl_jira *j, int status, const char *fmt, ...)
{
	char tmp[sizeof(j->err)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	jl_one_line(j->err, sizeof(j->err), tmp);
	/* At debug: the caller decides whether it is an error (a 404 on an
	 * optional endpoint is tolerated), and reports it once if so. */
	jl_jira_log(j, JETL_LOG_DEBUG, "%s", j->err);
	return status;
}

void jl_jira_log(const jl_jira *j, int level, const char *fmt, ...)
{
	char tmp[1024], line[1024];
	va_list ap;

	if (!j->cfg.log_cb || level > j->cfg.log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	jl_one_line(line, sizeof(line), tmp);
	j->cfg.log_cb(level, line, j->cfg.log_userdata);
}

/* The headers every request sends. The credentials are not among them:
 * libcurl sets those per handle (jl_jira_handle_auth). */
static int build_headers(jl_jira *j)
{
	struct curl_slist *h = NULL, *t;
	/* "Expect:" off: a 100-continue round trip per POST costs latency for nothing */
	const char *fixed[] = { "Accept: application/json", "Content-Type: application/json", "Expect:",
				"X-Atlassian-Token: no-check" };

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		t = curl_slist_append(h, fixed[i]);
		if (!t) {
			curl_slist_free_all(h);
			return JETL_ENOMEM;
		}
		h = t;
	}
	j->headers = h;
	return 0;
}

/* Defaults for what the configuration left at 0, and the bounds. */
static void apply_defaults(jl_jira *j)
{
	if (j->cfg.concurrency < 1)
		j->cfg.concurrency = 8;
	if (j->cfg.concurrency > 64)
		j->cfg.concurrency = 64;
	if (j->cfg.max_attempts < 1)
		j->cfg.max_attempts = 6;
	if (j->cfg.connect_timeout_ms <= 0)
		j->cfg.connect_timeout_ms = 10000;
	if (j->cfg.request_timeout_ms <= 0)
		j->cfg.request_timeout_ms = 120000;
	if (!j->cfg.log_level)
		j->cfg.log_level = JETL_LOG_INFO;
	j->flavor = j->cfg.flavor;
	j->api = j->flavor == JETL_FLAVOR_CLOUD ? "/rest/api/3" : j->flavor == JETL_FLAVOR_SERVER ? "/rest/api/2" : NULL;
	/* Atlassian advises 2-5 s doubling to ~30 s. */
	j->backoff_base = 2.0;
	j->backoff_cap = 30.0;
	/* ids-only pages are cheap: ask for the most Cloud grants */
	j->id_page = 5000;
}

/* What the test suites shrink to stay fast (jira.h, "Environment"): the
 * backoff base (JETL_JIRA_BACKOFF_MS) and the ids page (JETL_JIRA_ID_PAGE,
 * to exercise token paging on small data); and JETL_JIRA_TRACE, a file that
 * gets a line per request started and finished (where the time goes). */
static void test_knobs(jl_jira *j)
{
	const char *env = getenv("JETL_JIRA_BACKOFF_MS");

	if (env && *env) {
		double ms = atof(env);

		if (ms >= 0) {
			j->backoff_base = ms / 1000.0;
			if (j->backoff_cap < j->backoff_base * 16)
				j->backoff_cap = j->backoff_base * 16;
		}
	}
	env = getenv("JETL_JIRA_ID_PAGE");
	if (env && atoi(env) > 0)
		j->id_page = atoi(env);
	env = getenv("JETL_JIRA_TRACE");
	if (env && *env && (j->trace = fopen(env, "a")) != NULL)
		setvbuf(j->trace, NULL, _IOLBF, 0); /* whole lines: several clients may share the file */
}

int jl_jira_new(jl_jira **out, const jl_jira_config *cfg, char *err, size_t errlen)
{
	jl_jira *j;
	int rc;

	if (!out || !cfg) {
		if (err && errlen)
			snprintf(err, errlen, "jira: invalid arguments");
		return JETL_EINVAL;
	}
	*out = NULL;
	if (!cfg->base_url || !*cfg->base_url) {
		if (err && errlen)
			snprintf(err, errlen, "jira: no base URL (set jira_url or JETL_JIRA_URL)");
		return JETL_ECONFIG;
	}
	if (strncmp(cfg->base_url, "http://", 7) && strncmp(cfg->base_url, "https://", 8)) {
		if (err && errlen)
			snprintf(err, errlen, "jira: the base URL must start with http:// or https://");
		return JETL_ECONFIG;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return JETL_ENOMEM;
	j->cfg = *cfg;
	j->cfg.base_url = j->cfg.user = j->cfg.token = NULL;
	j->base_url = strdup(cfg->base_url);
	j->user = cfg->user ? strdup(cfg->user) : NULL;
	j->token = cfg->token ? strdup(cfg->token) : NULL;
	apply_defaults(j);
	test_knobs(j);
	j->cappool = j->cfg.concurrency + 4;
	j->pool = calloc((size_t)j->cappool, sizeof(CURL *));
	if (!j->base_url || (cfg->user && !j->user) || (cfg->token && !j->token) || !j->pool) {
		jl_jira_free(j);
		return JETL_ENOMEM;
	}
	rc = build_headers(j);
	if (!rc)
		rc = jl_http_init(j);
	if (rc) {
		jl_jira_free(j);
		if (err && errlen)
			snprintf(err, errlen, "jira: cannot set up the HTTP client");
		return rc;
	}
	*out = j;
	return 0;
}

void jl_jira_handle_auth(const jl_jira *j, CURL *e)
{
	if (!j->token || !*j->token)
		return;
	/* One method only, so libcurl sends the credentials with the first
	 * request instead of waiting for a 401 challenge (Jira Cloud sends
	 * none). libcurl builds the header (base64 of user:token, or
	 * "Bearer <token>") and keeps its own copy of the strings. */
	if (j->cfg.auth == JETL_AUTH_BEARER) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, j->token);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, j->user ? j->user : "");
		curl_easy_setopt(e, CURLOPT_PASSWORD, j->token);
	}
}

void jl_jira_free(jl_jira *j)
{
	if (!j)
		return;
	jl_http_cleanup(j);
	curl_slist_free_all(j->headers);
	free(j->base_url);
	free(j->user);
	wipe_free(j->token);
	if (j->trace)
		fclose(j->trace);
	free(j);
}

const char *jl_jira_error(const jl_jira *j)
{
	return j ? j->err : "";
}

void jl_jira_get_stats(const jl_jira *j, jl_jira_stats *out)
{
	if (j && out)
		*out = j->stats;
}

int jl_jira_myself_tz(jl_jira *j, char **tz)
{
	const char *api;
	json_t *doc;
	const char *z;
	int rc;

	*tz = NULL;
	if ((rc = jl_jira_api(j, &api)))
		return rc;
	if ((rc = jl_http_call(j, "GET", jl_strdupf("%s/myself", api), NULL, &doc)))
		return rc;
	z = json_string_value(json_object_get(doc, "timeZone"));
	if (!z || !*z) {
		json_decref(doc);
		return jl_jira_fail(j, JETL_EPROTOCOL, "jira: GET %s/myself has no timeZone", api);
	}
	*tz = strdup(z);
	json_decref(doc);
	return *tz ? 0 : JETL_ENOMEM;
}

int jl_jira_fields(jl_jira *j, json_t **out)
{
	const char *api;
	int rc;

	*out = NULL;
	if ((rc = jl_jira_api(j, &api)))
		return rc;
	if ((rc = jl_http_call(j, "GET", jl_strdupf("%s/field", api), NULL, out)))
		return rc;
	if (!json_is_array(*out)) {
		json_decref(*out);
		*out = NULL;
		return jl_jira_fail(j, JETL_EPROTOCOL, "jira: GET %s/field did not answer an array", api);
	}
	return 0;
}

static int project_append(json_t *arr, json_t *p)
{
	json_t *o = json_object();

	if (!o)
		return JETL_ENOMEM;
	json_object_set(o, "id", json_object_get(p, "id"));
	json_object_set(o, "key", json_object_get(p, "key"));
	json_object_set(o, "name", json_object_get(p, "name"));
	if (json_object_get(p, "projectTypeKey"))
		json_object_set(o, "projectTypeKey", json_object_get(p, "projectTypeKey"));
	return json_array_append_new(arr, o) ? JETL_ENOMEM : 0;
}

int jl_jira_projects(jl_jira *j, json_t **out)
{
	json_t *all, *doc, *p;
	const char *api;
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = jl_jira_api(j, &api)))
		return rc;
	all = json_array();
	if (!all)
		return JETL_ENOMEM;
	if (j->flavor == JETL_FLAVOR_CLOUD) {
		/* GET /project is deprecated on Cloud; /project/search pages (startAt, isLast) */
		int64_t start = 0;

		for (int guard = 0; guard < 100000; guard++) {
			json_t *vals;

			rc = jl_http_call(j, "GET", jl_strdupf("%s/project/search?startAt=%lld&maxResults=100", api,
						       (long long)start), NULL, &doc);
			if (rc)
				goto fail;
			vals = json_object_get(doc, "values");
			if (!json_is_array(vals)) {
				json_decref(doc);
				rc = jl_jira_fail(j, JETL_EPROTOCOL, "jira: GET %s/project/search has no values", api);
				goto fail;
			}
			json_array_foreach(vals, i, p)
				if ((rc = project_append(all, p))) {
					json_decref(doc);
					goto fail;
				}
			start += (int64_t)json_array_size(vals);
			if (json_is_true(json_object_get(doc, "isLast")) || !json_array_size(vals)) {
				json_decref(doc);
				break;
			}
			json_decref(doc);
		}
	} else {
		if ((rc = jl_http_call(j, "GET", jl_strdupf("%s/project", api), NULL, &doc)))
			goto fail;
		if (!json_is_array(doc)) {
			json_decref(doc);
			rc = jl_jira_fail(j, JETL_EPROTOCOL, "jira: GET %s/project did not answer an array", api);
			goto fail;
		}
		json_array_foreach(doc, i, p)
			if ((rc = project_append(all, p))) {
				json_decref(doc);
				goto fail;
			}
		json_decref(doc);
	}
	*out = all;
	return 0;
fail:
	json_decref(all);
	return rc;
}
