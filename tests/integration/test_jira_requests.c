/*
 * test_jira_requests.c - what the Jira client asks the simulator, beyond
 * getting the data right: on Server, a capped changelog is completed with only
 * the pages of the histories that were not embedded (the embedded ones are the
 * newest, the endpoint pages oldest first), and census pages read ahead stay
 * complete when a page comes back short.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl.h"
#include "jira/jira.h"
#include "jirasim.h"

#define USER "sim@example.com"
#define TOKEN "s3cr3t-t0ken-value"
#define SERVER_CAP 100

typedef struct got {
	json_t *hist;    /* id -> number of histories delivered */
	json_t *census;  /* id -> true */
} got;

static int on_census(void *ud, const char *const *ids, size_t n)
{
	got *g = ud;

	for (size_t i = 0; i < n; i++)
		json_object_set_new(g->census, ids[i], json_true());
	return 0;
}

static int on_batch(void *ud, json_t *raw, size_t n_issues, size_t n_hist)
{
	got *g = ud;
	json_t *issues = json_object_get(raw, "issues"), *logs = json_object_get(raw, "changelogs"), *issue;
	size_t i;

	(void)n_issues;
	(void)n_hist;
	json_array_foreach(issues, i, issue) {
		const char *id = json_string_value(json_object_get(issue, "id"));
		json_t *hl = json_object_get(logs, id);
		size_t n = hl ? json_array_size(hl)
			      : json_array_size(json_object_get(json_object_get(issue, "changelog"), "histories"));

		cr_assert(id);
		json_object_set_new(g->hist, id, json_integer((json_int_t)n));
	}
	return 0;
}

static char *g_data;
static jirasim g_sim;

static void fini(void)
{
	jirasim_stop(&g_sim);
	if (g_data)
		jirasim_rmdir(g_data);
	free(g_data);
	g_data = NULL;
}

static jl_jira *client(const jirasim *s)
{
	jl_jira_config cfg = { 0 };
	jl_jira *j = NULL;
	char err[256] = "";

	cfg.base_url = s->url;
	cfg.user = USER;
	cfg.token = TOKEN;
	cfg.auth = JETL_AUTH_BASIC;
	cfg.flavor = JETL_FLAVOR_SERVER;
	cfg.concurrency = 8;
	cfg.max_attempts = 6;
	cr_assert_eq(jl_jira_new(&j, &cfg, err, sizeof(err)), 0, "%s", err);
	return j;
}

static long changelog_requests(const jirasim *s)
{
	char *body = jirasim_http(s, "/__sim/stats", NULL);
	json_t *st = body ? json_loads(body, 0, NULL) : NULL, *e, *v;
	const char *k;
	long n = 0;

	free(body);
	cr_assert(st, "no stats from the simulator");
	e = json_object_get(json_object_get(st, "requests"), "GET /rest/api/{ver}/issue/{idOrKey}/changelog");
	json_object_foreach(e, k, v)
		n += (long)json_integer_value(v);
	json_decref(st);
	return n;
}

/* Extract ABC and check every issue came with all its histories; returns
 * the fewest changelog pages the data needs (sum of ceil((h - 100) / 100)). */
static long extract_and_check(size_t want_issues)
{
	char path[512], *line = NULL;
	size_t cap = 0, n = 0, capped = 0;
	long pages = 0;
	jl_jira_extract_req req = { 0 };
	got g = { json_object(), json_object() };
	jl_jira_callbacks cb = { on_census, on_batch, NULL, &g, NULL };
	jl_jira *j = client(&g_sim);
	FILE *f;
	int rc;

	req.project_key = "ABC";
	req.census_all = 1;
	req.batch_size = 100;
	rc = jl_jira_extract(j, &req, &cb);
	cr_assert_eq(rc, 0, "extract: %d %s", rc, jl_jira_error(j));
	snprintf(path, sizeof(path), "%s/issues/ABC.jsonl", g_data);
	f = fopen(path, "r");
	cr_assert(f, "cannot read %s", path);
	while (getline(&line, &cap, f) > 0) {
		json_t *rec = json_loads(line, JSON_ALLOW_NUL, NULL);
		const char *id = json_string_value(json_object_get(rec, "id"));
		json_int_t h = (json_int_t)json_array_size(json_object_get(rec, "histories"));

		cr_assert(rec && id);
		cr_assert(json_object_get(g.hist, id), "issue %s missing", id);
		cr_assert_eq(json_integer_value(json_object_get(g.hist, id)), h, "issue %s: %lld histories, want %lld",
			     id, (long long)json_integer_value(json_object_get(g.hist, id)), (long long)h);
		cr_assert(json_object_get(g.census, id), "issue %s not in the census", id);
		if (h > SERVER_CAP) {
			capped++;
			pages += (long)((h - SERVER_CAP + 99) / 100);
		}
		json_decref(rec);
		n++;
	}
	free(line);
	fclose(f);
	cr_assert_eq(n, want_issues);
	cr_assert_eq(json_object_size(g.hist), n);
	cr_assert_eq(json_object_size(g.census), n);
	cr_assert_gt(capped, 0, "the dataset should hold issues above Server's embedded cap");
	json_decref(g.hist);
	json_decref(g.census);
	jl_jira_free(j);
	return pages;
}

static void setup(const char *const *sim_args)
{
	/* every 10th issue has 120-250 histories: many capped logs of 1-2 missing pages */
	const char *gen_args[] = { "--long-every", "10", "--seed", "11", NULL };

	setenv("JETL_JIRA_BACKOFF_MS", "20", 1);
	jetl_global_init();
	g_data = jirasim_gen("ABC:300", "server", gen_args);
	jirasim_start(&g_sim, g_data, "server", sim_args);
}

Test(jira_requests, server_capped_logs_ask_only_the_missing_pages, .fini = fini, .timeout = 120)
{
	long need, asked;

	setup(NULL);
	need = extract_and_check(300);
	asked = changelog_requests(&g_sim);
	cr_log_info("server changelog pages: %ld asked, %ld needed", asked, need);
	cr_assert_eq(asked, need, "%ld changelog pages asked, the missing histories need %ld", asked, need);
}

Test(jira_requests, server_census_read_ahead_survives_short_pages, .fini = fini, .timeout = 120)
{
	/* pages of 25 ids: 12 census pages read ahead; two of them come back short */
	const char *args[] = { "--server-max-results", "25", NULL };
	char *ans;

	setup(args);
	ans = jirasim_http(&g_sim, "/__sim/faults", "{\"shrink_page\": 2}");
	cr_assert(ans, "cannot arm the trap");
	free(ans);
	extract_and_check(300);
	ans = jirasim_http(&g_sim, "/__sim/faults", NULL);
	cr_assert(ans && strstr(ans, "\"shrink_page\":0"), "both traps should have sprung: %s", ans ? ans : "");
	free(ans);
}

static int g_error_lines;

static void count_errors(int level, const char *message, void *userdata)
{
	(void)message;
	(void)userdata;
	if (level <= JETL_LOG_ERROR)
		g_error_lines++;
}

/* A client with these credentials asks who it is; the status. */
static int myself_as(const jirasim *s, int auth, const char *token)
{
	jl_jira_config cfg = { 0 };
	jl_jira *j = NULL;
	json_t *me = NULL;
	char err[256] = "";
	int rc;

	cfg.base_url = s->url;
	cfg.user = USER;
	cfg.token = token;
	cfg.auth = auth;
	cfg.flavor = JETL_FLAVOR_SERVER;
	cfg.max_attempts = 1;
	cfg.log_cb = count_errors;
	cfg.log_level = JETL_LOG_DEBUG;
	cr_assert_eq(jl_jira_new(&j, &cfg, err, sizeof(err)), 0, "%s", err);
	rc = jl_jira_myself(j, &me);
	json_decref(me);
	jl_jira_free(j);
	return rc;
}

/* Basic and bearer credentials go through libcurl (CURLOPT_USERNAME/
 * PASSWORD, CURLOPT_XOAUTH2_BEARER) with the first request: a simulator
 * that checks them takes the right ones and answers 401 to the others. */
Test(jira_requests, credentials_go_out_as_jira_expects, .fini = fini, .timeout = 120)
{
	const char *basic[] = { "--user", USER, "--token", TOKEN, NULL };
	const char *bearer[] = { "--bearer", TOKEN, NULL };

	setup(basic);
	cr_assert_eq(myself_as(&g_sim, JETL_AUTH_BASIC, TOKEN), JETL_OK);
	cr_assert_eq(myself_as(&g_sim, JETL_AUTH_BASIC, "wrong"), JETL_EAUTH);
	cr_assert_eq(myself_as(&g_sim, JETL_AUTH_BEARER, TOKEN), JETL_EAUTH);
	jirasim_stop(&g_sim);
	jirasim_start(&g_sim, g_data, "server", bearer);
	cr_assert_eq(myself_as(&g_sim, JETL_AUTH_BEARER, TOKEN), JETL_OK);
	cr_assert_eq(myself_as(&g_sim, JETL_AUTH_BEARER, "wrong"), JETL_EAUTH);
	cr_assert_eq(myself_as(&g_sim, JETL_AUTH_BASIC, TOKEN), JETL_EAUTH);
	/* The client returns its failures and never logs them as errors: the
	 * caller decides (a 404 on an optional endpoint is tolerated, and
	 * `jetl -q` must stay silent then), and reports a real one once. */
	cr_assert_eq(g_error_lines, 0, "%d error lines from the Jira client", g_error_lines);
}
