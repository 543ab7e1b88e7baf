/*
 * test_jira_requests.c - what the Jira client asks the simulator, beyond
 * getting the data right: on Server, a capped changelog is completed with only
 * the pages of the histories that were not embedded (the embedded ones are the
 * newest, the endpoint pages oldest first), census pages are read ahead
 * (several in flight) and stay complete when a page comes back short, and
 * jl_jira_pump keeps requests going inside a long batch callback.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jetl.h"
#include "jirasim_client.h"

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

static int on_raw(void *ud, json_t *raw, size_t n_issues, size_t n_hist)
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

static int on_batch(void *ud, const jl_jira_batch *b)
{
	json_t *raw = jirasim_batch_json(b);
	int rc = on_raw(ud, raw, b->n_issues, b->n_histories);

	json_decref(raw);
	return rc;
}

static char *g_data;
static jirasim g_sim;

static void fini(void)
{
	jirasim_down(&g_sim, &g_data);
}

static jl_jira *client(const jirasim *s)
{
	jl_jira_config cfg;

	jirasim_client_config(&cfg, s, JETL_FLAVOR_SERVER);
	cfg.concurrency = 8;
	cfg.max_attempts = 6;
	return jirasim_client_new(&cfg);
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

	jirasim_up(&g_sim, &g_data, "ABC:300", "server", gen_args, sim_args);
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

/* The most requests whose [arrival, end] overlap among the first n answers of
 * the simulator's trace for endpoint ep (times as the trace wrote them). */
static int max_overlap(const char *trace, const char *ep, int n)
{
	double a[64], e[64];
	int k = 0, best = 0;
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen(trace, "r");

	cr_assert(f, "no trace at %s", trace);
	while (k < n && k < 64 && getline(&line, &cap, f) > 0) {
		json_t *r = json_loads(line, 0, NULL);

		cr_assert(r, "bad trace line %s", line);
		if (!strcmp(json_string_value(json_object_get(r, "ep")), ep)) {
			a[k] = json_number_value(json_object_get(r, "a"));
			e[k] = json_number_value(json_object_get(r, "e"));
			k++;
		}
		json_decref(r);
	}
	free(line);
	fclose(f);
	for (int i = 0; i < k; i++) {
		int in = 0;

		for (int m = 0; m < k; m++)
			in += a[m] <= a[i] && a[i] < e[m];
		if (in > best)
			best = in;
	}
	return best;
}

Test(jira_requests, server_census_pages_are_read_ahead, .fini = fini, .timeout = 120)
{
	/* 300 issues in pages of 25: the census is 12 pages, and nothing else is
	 * asked of /search before it ends. One at a time they never overlap (100
	 * pages cost 100 round trips before the first body on 10,000 issues). */
	char trace[600], *ans;
	const char *args[] = { "--server-max-results", "25", "--latency-ms", "50", "--trace", trace, NULL };
	int most;

	g_data = jirasim_gen("ABC:300", "server", (const char *[]){ "--seed", "11", NULL });
	snprintf(trace, sizeof(trace), "%s/trace.jsonl", g_data);
	setenv("JETL_JIRA_BACKOFF_MS", "20", 1);
	jetl_global_init();
	jirasim_start(&g_sim, g_data, "server", args);
	{
		jl_jira_extract_req req = { 0 };
		got g = { json_object(), json_object() };
		jl_jira_callbacks cb = { on_census, on_batch, NULL, &g, NULL };
		jl_jira *j = client(&g_sim);

		req.project_key = "ABC";
		req.census_all = 1;
		cr_assert_eq(jl_jira_extract(j, &req, &cb), 0, "%s", jl_jira_error(j));
		cr_assert_eq(json_object_size(g.census), 300);
		json_decref(g.hist);
		json_decref(g.census);
		jl_jira_free(j);
	}
	ans = jirasim_http(&g_sim, "/__sim/stats", NULL); /* flushes the trace */
	free(ans);
	most = max_overlap(trace, "POST /rest/api/{ver}/search", 12);
	cr_log_info("census pages in flight at once: %d", most);
	cr_assert_geq(most, 4, "census pages were asked %d at a time", most);
}

/* The arrival of the first request of endpoint ep and the end of its k-th
 * (from 1), as the simulator's trace wrote them. */
static void trace_times(const char *trace, const char *ep, int k, double *first_a, double *kth_e)
{
	char *line = NULL;
	size_t cap = 0;
	int seen = 0;
	FILE *f = fopen(trace, "r");

	cr_assert(f, "no trace at %s", trace);
	*first_a = *kth_e = -1;
	while (getline(&line, &cap, f) > 0) {
		json_t *r = json_loads(line, 0, NULL);

		if (r && !strcmp(json_string_value(json_object_get(r, "ep")), ep)) {
			if (++seen == 1)
				*first_a = json_number_value(json_object_get(r, "a"));
			if (seen == k)
				*kth_e = json_number_value(json_object_get(r, "e"));
		}
		json_decref(r);
	}
	free(line);
	fclose(f);
}

Test(jira_requests, cloud_bodies_start_before_the_next_listing_page, .fini = fini, .timeout = 120)
{
	/* Listing pages of 100 ids: the bodies of the first page's ids are asked
	 * while the second page is read (its arrival still gates their emission) */
	char trace[600], *ans;
	const char *args[] = { "--latency-ms", "80", "--trace", trace, NULL };
	jl_jira_config cfg;
	jl_jira_extract_req req = { 0 };
	got g = { json_object(), json_object() };
	jl_jira_callbacks cb = { on_census, on_batch, NULL, &g, NULL };
	jl_jira *j;
	double bodies_a, page2_e;

	g_data = jirasim_gen("ABC:300", "cloud", (const char *[]){ "--seed", "11", NULL });
	snprintf(trace, sizeof(trace), "%s/trace.jsonl", g_data);
	setenv("JETL_JIRA_ID_PAGE", "100", 1);
	jetl_global_init();
	jirasim_start(&g_sim, g_data, "cloud", args);
	jirasim_client_config(&cfg, &g_sim, JETL_FLAVOR_CLOUD);
	cfg.concurrency = 8;
	j = jirasim_client_new(&cfg);
	unsetenv("JETL_JIRA_ID_PAGE");
	req.project_key = "ABC";
	req.census_all = 1;
	cr_assert_eq(jl_jira_extract(j, &req, &cb), 0, "%s", jl_jira_error(j));
	cr_assert_eq(json_object_size(g.census), 300);
	cr_assert_eq(json_object_size(g.hist), 300);
	json_decref(g.hist);
	json_decref(g.census);
	jl_jira_free(j);
	ans = jirasim_http(&g_sim, "/__sim/stats", NULL); /* flushes the trace */
	free(ans);
	trace_times(trace, "POST /rest/api/{ver}/issue/bulkfetch", 1, &bodies_a, &page2_e);
	trace_times(trace, "POST /rest/api/{ver}/search/jql", 2, &page2_e, &page2_e);
	cr_log_info("first bodies asked at %.3f, second listing page answered at %.3f", bodies_a, page2_e);
	cr_assert(bodies_a > 0 && page2_e > 0);
	cr_assert_lt(bodies_a, page2_e, "the first bodies waited for the second listing page");
}

/* A batch callback that takes 300 ms, turning the engine meanwhile. */
static jl_jira *g_pump_j;
static int g_pumped_batches;
static int64_t g_started_inside;

static int on_slow_batch(void *ud, const jl_jira_batch *raw)
{
	jl_jira_stats a, b;
	double until;
	struct timespec ts;

	(void)ud;
	(void)raw;
	jl_jira_get_stats(g_pump_j, &a);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	until = (double)ts.tv_sec + ts.tv_nsec / 1e9 + 0.3;
	do {
		jl_jira_pump(g_pump_j);
		usleep(5000);
		clock_gettime(CLOCK_MONOTONIC, &ts);
	} while ((double)ts.tv_sec + ts.tv_nsec / 1e9 < until);
	jl_jira_get_stats(g_pump_j, &b);
	g_started_inside += b.requests - a.requests;
	g_pumped_batches++;
	return 0;
}

Test(jira_requests, pump_starts_requests_inside_a_batch_callback, .fini = fini, .timeout = 120)
{
	/* 300 issues in batches of 50, dev status on: while a batch is stored, the
	 * batches behind it have requests to make (a summary per issue with dev data) */
	const char *args[] = { "--latency-ms", "20", NULL };
	jl_jira_extract_req req = { 0 };
	jl_jira_callbacks cb = { NULL, on_slow_batch, NULL, NULL, NULL };

	jirasim_up(&g_sim, &g_data, "ABC:300", "server", (const char *[]){ "--seed", "11", NULL }, args);
	g_pump_j = client(&g_sim);
	req.project_key = "ABC";
	req.batch_size = 50;
	req.dev_status = 1;
	cr_assert_eq(jl_jira_extract(g_pump_j, &req, &cb), 0, "%s", jl_jira_error(g_pump_j));
	jl_jira_free(g_pump_j);
	cr_log_info("%d batches, %lld requests started inside their callbacks", g_pumped_batches,
		    (long long)g_started_inside);
	cr_assert_eq(g_pumped_batches, 6);
	cr_assert_gt(g_started_inside, 20, "only %lld requests started while batches were stored",
		     (long long)g_started_inside);
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
	jl_jira_config cfg;
	jl_jira *j;
	json_t *me = NULL;
	int rc;

	jirasim_client_config(&cfg, s, JETL_FLAVOR_SERVER);
	cfg.token = token;
	cfg.auth = auth;
	cfg.max_attempts = 1;
	cfg.log_cb = count_errors;
	cfg.log_level = JETL_LOG_DEBUG;
	j = jirasim_client_new(&cfg);
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
	const char *basic[] = { "--user", JIRASIM_USER, "--token", JIRASIM_TOKEN, NULL };
	const char *bearer[] = { "--bearer", JIRASIM_TOKEN, NULL };

	setup(basic);
	cr_assert_eq(myself_as(&g_sim, JETL_AUTH_BASIC, JIRASIM_TOKEN), JETL_OK);
	cr_assert_eq(myself_as(&g_sim, JETL_AUTH_BASIC, "wrong"), JETL_EAUTH);
	cr_assert_eq(myself_as(&g_sim, JETL_AUTH_BEARER, JIRASIM_TOKEN), JETL_EAUTH);
	jirasim_stop(&g_sim);
	jirasim_start(&g_sim, g_data, "server", bearer);
	cr_assert_eq(myself_as(&g_sim, JETL_AUTH_BEARER, JIRASIM_TOKEN), JETL_OK);
	cr_assert_eq(myself_as(&g_sim, JETL_AUTH_BEARER, "wrong"), JETL_EAUTH);
	cr_assert_eq(myself_as(&g_sim, JETL_AUTH_BASIC, JIRASIM_TOKEN), JETL_EAUTH);
	/* The client returns its failures and never logs them as errors: the
	 * caller decides (a 404 on an optional endpoint is tolerated, and
	 * `jetl -q` must stay silent then), and reports a real one once. */
	cr_assert_eq(g_error_lines, 0, "%d error lines from the Jira client", g_error_lines);
}
