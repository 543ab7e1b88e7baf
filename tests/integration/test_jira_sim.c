/*
 * test_jira_sim.c - the Jira client against the simulator (sim/jirasim.py):
 * completeness on both flavors, fault storms, fail-fast errors, bad input
 * (HTML pages, invalid JSON, a repeated nextPageToken, a shrinking page), and
 * that dev status is fetched only where the Development field says so.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jetl.h"
#include "model/devfield.h"
#include "jirasim_client.h"

typedef struct got {
	json_t *issues;        /* id → array of history ids, oldest first */
	json_t *order;         /* ids in emission order */
	json_t *dev;           /* id → dev_status entry */
	json_t *census;        /* id → true */
	size_t batches, n_histories_cb;
	int64_t last[9][2];
	const jirasim *arm;    /* when set: POST arm_body to /__sim/faults after the first batch */
	const char *arm_body;
	const jirasim *del;    /* when set: delete the issues of the first del_upto batches, */
	size_t del_upto;       /* once they are emitted (offsets shift under the read) */
	json_t *del_keys;
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
	json_t *issues = json_object_get(raw, "issues"), *logs = json_object_get(raw, "changelogs");
	json_t *dev = json_object_get(raw, "dev_status"), *issue, *v;
	const char *k;
	size_t i;

	cr_assert_eq(json_array_size(issues), n_issues);
	g->batches++;
	g->n_histories_cb += n_hist;
	json_array_foreach(issues, i, issue) {
		const char *id = json_string_value(json_object_get(issue, "id"));
		json_t *hl = json_object_get(logs, id), *ids = json_array(), *h;
		size_t m;

		cr_assert(id);
		cr_assert_null(json_object_get(g->issues, id), "issue %s emitted twice", id);
		if (hl) {
			json_array_foreach(hl, m, h)
				json_array_append(ids, json_object_get(h, "id"));
		} else {
			json_t *emb = json_object_get(json_object_get(issue, "changelog"), "histories");
			/* embedded: newest first */
			for (m = json_array_size(emb); m > 0; m--)
				json_array_append(ids, json_object_get(json_array_get(emb, m - 1), "id"));
		}
		json_object_set_new(g->issues, id, ids);
		json_array_append_new(g->order, json_string(id));
	}
	json_object_foreach(dev, k, v)
		json_object_set(g->dev, k, v);
	if (g->del && g->batches <= g->del_upto) {
		json_array_foreach(issues, i, issue)
			json_array_append(g->del_keys, json_object_get(issue, "key"));
		if (g->batches == g->del_upto) {
			json_t *req = json_pack("{s:O}", "keys", g->del_keys);
			char *text = json_dumps(req, JSON_COMPACT), *ans = jirasim_http(g->del, "/__sim/delete", text);

			cr_assert(ans, "cannot delete issues");
			free(ans);
			free(text);
			json_decref(req);
		}
	}
	if (g->arm && g->batches == 1) {
		/* arm a simulator trap mid-run: it springs on a page still to come */
		char *ans = jirasim_http(g->arm, "/__sim/faults", g->arm_body);

		cr_assert(ans, "cannot arm %s", g->arm_body);
		free(ans);
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

static int on_progress(void *ud, int phase, int64_t done, int64_t total)
{
	got *g = ud;

	cr_assert(phase >= 0 && phase < 9);
	g->last[phase][0] = done;
	g->last[phase][1] = total;
	return 0;
}

static void got_init(got *g)
{
	memset(g, 0, sizeof(*g));
	g->issues = json_object();
	g->order = json_array();
	g->dev = json_object();
	g->census = json_object();
	g->del_keys = json_array();
}

static void got_free(got *g)
{
	json_decref(g->issues);
	json_decref(g->order);
	json_decref(g->dev);
	json_decref(g->census);
	json_decref(g->del_keys);
}

static void log_stderr(int level, const char *msg, void *ud)
{
	(void)ud;
	fprintf(stderr, "[%d] %s\n", level, msg);
}

/* Attempts per request; the bad-input storms raise it (see there). */
static int g_max_attempts = 6;

static jl_jira *client(const jirasim *s, int flavor, const char *token, int concurrency)
{
	jl_jira_config cfg;

	jirasim_client_config(&cfg, s, flavor);
	cfg.token = token;
	cfg.concurrency = concurrency;
	cfg.connect_timeout_ms = 5000;
	cfg.request_timeout_ms = 30000;
	cfg.max_attempts = g_max_attempts;
	if (getenv("JETL_TEST_LOG")) {
		/* JETL_TEST_LOG=7 shows every retry */
		cfg.log_cb = log_stderr;
		cfg.log_level = atoi(getenv("JETL_TEST_LOG"));
	}
	return jirasim_client_new(&cfg);
}

static int run_extract(jl_jira *j, const char *key, int census_all, got *g)
{
	jl_jira_extract_req req = { 0 };
	jl_jira_callbacks cb = { on_census, on_batch, on_progress, g };

	req.project_key = key;
	req.dev_field_id = "customfield_10000";
	req.dev_status = 1;
	req.census_all = census_all;
	req.batch_size = 100;
	return jl_jira_extract(j, &req, &cb);
}

/* Every issue of the dataset once, with every history once and in order. */
static void check_complete(const char *data, const char *key, got *g)
{
	char path[512], *line = NULL;
	size_t cap = 0, n = 0, capped = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/issues/%s.jsonl", data, key);
	f = fopen(path, "r");
	cr_assert(f, "cannot read %s", path);
	while (getline(&line, &cap, f) > 0) {
		json_t *rec = json_loads(line, JSON_ALLOW_NUL, NULL), *want, *have, *h;
		const char *id = json_string_value(json_object_get(rec, "id"));
		size_t i;

		cr_assert(rec && id);
		have = json_object_get(g->issues, id);
		cr_assert(have, "issue %s missing", id);
		want = json_object_get(rec, "histories");
		if (json_array_size(want) > 40)
			capped++;
		cr_assert_eq(json_array_size(have), json_array_size(want), "issue %s: %zu histories, want %zu", id,
			     json_array_size(have), json_array_size(want));
		json_array_foreach(want, i, h)
			cr_assert_str_eq(json_string_value(json_array_get(have, i)),
					 json_string_value(json_object_get(h, "id")), "issue %s history %zu", id, i);
		if (!json_is_null(json_object_get(rec, "dev")) && json_object_get(rec, "dev"))
			cr_assert(json_object_get(g->dev, id), "issue %s has dev data but none was fetched", id);
		json_decref(rec);
		n++;
	}
	free(line);
	fclose(f);
	cr_assert_eq(json_object_size(g->issues), n, "%zu issues emitted, dataset has %zu",
		     json_object_size(g->issues), n);
	cr_assert_gt(capped, 0, "the dataset should hold issues above the embedded cap");
}

static json_t *sim_stats(const jirasim *s)
{
	char *body = jirasim_http(s, "/__sim/stats", NULL);
	json_t *doc = body ? json_loads(body, 0, NULL) : NULL;

	free(body);
	cr_assert(doc, "no stats from the simulator");
	return doc;
}

static long stat_of(json_t *st, const char *endpoint, const char *status)
{
	json_t *e = json_object_get(json_object_get(st, "requests"), endpoint);

	if (!status) {
		const char *k;
		json_t *v;
		long n = 0;

		json_object_foreach(e, k, v)
			n += (long)json_integer_value(v);
		return n;
	}
	return (long)json_integer_value(json_object_get(e, status));
}

static char *g_data;
static jirasim g_sim;

static void fini(void)
{
	jirasim_down(&g_sim, &g_data);
}

static void setup(const char *flavor, const char *const *sim_args)
{
	const char *gen_args[] = { "--long-every", "40", "--seed", "7", NULL };

	/* small pages so 450 issues span many census and body pages */
	setenv("JETL_JIRA_ID_PAGE", "120", 1);
	jirasim_up(&g_sim, &g_data, "ABC:450,XYZ:30", flavor, gen_args, sim_args);
}

/* The whole of ABC arrives; *st_out (may be NULL) gets the client's counters.
 * before (may be NULL): faults to POST to the simulator before the run;
 * mid (may be NULL): faults to POST after the first batch is emitted. */
static void complete_run_x(const char *flavor, int jflavor, const char *const *sim_args, int concurrency,
			   const char *before, const char *mid, jl_jira_stats *st_out)
{
	got g;
	jl_jira *j;
	int rc;

	setup(flavor, sim_args);
	got_init(&g);
	if (before) {
		char *ans = jirasim_http(&g_sim, "/__sim/faults", before);

		cr_assert(ans, "cannot set %s", before);
		free(ans);
	}
	g.arm = mid ? &g_sim : NULL;
	g.arm_body = mid;
	j = client(&g_sim, jflavor, JIRASIM_TOKEN, concurrency);
	rc = run_extract(j, "ABC", 1, &g);
	cr_assert_eq(rc, 0, "extract: %d %s", rc, jl_jira_error(j));
	check_complete(g_data, "ABC", &g);
	cr_assert_eq(json_object_size(g.census), 450, "census reported %zu ids", json_object_size(g.census));
	cr_assert_eq(g.last[JETL_PHASE_ISSUES][0], 450);
	cr_assert_eq(g.last[JETL_PHASE_ISSUES][1], 450);
	cr_assert_eq(g.last[JETL_PHASE_CHANGELOGS][0], g.last[JETL_PHASE_CHANGELOGS][1]);
	cr_assert_gt(g.last[JETL_PHASE_CHANGELOGS][0], 0);
	cr_assert_gt(g.batches, 4);
	{
		jl_jira_stats st;

		jl_jira_get_stats(j, &st);
		cr_log_info("%s: %lld requests, %lld retries, %lld 429s, %lld 5xx, %.2f s waited", flavor,
			    (long long)st.requests, (long long)st.retries, (long long)st.rate_limited,
			    (long long)st.server_errors, st.wait_seconds);
		if (st_out)
			*st_out = st;
	}
	jl_jira_free(j);
	got_free(&g);
}

static void complete_run(const char *flavor, int jflavor, const char *const *sim_args, int concurrency)
{
	complete_run_x(flavor, jflavor, sim_args, concurrency, NULL, NULL, NULL);
}

Test(jira_sim, cloud_project_arrives_complete, .fini = fini, .timeout = 120)
{
	complete_run("cloud", JETL_FLAVOR_AUTO, NULL, 8);
	{
		json_t *st = sim_stats(&g_sim);

		/* never the legacy search on Cloud */
		cr_assert_eq(stat_of(st, "POST /rest/api/{ver}/search", NULL), 0);
		cr_assert_gt(stat_of(st, "POST /rest/api/{ver}/changelog/bulkfetch", "200"), 0);
		json_decref(st);
	}
}

Test(jira_sim, server_project_arrives_complete, .fini = fini, .timeout = 120)
{
	complete_run("server", JETL_FLAVOR_AUTO, NULL, 8);
	{
		json_t *st = sim_stats(&g_sim);

		cr_assert_gt(stat_of(st, "GET /rest/api/{ver}/issue/{idOrKey}/changelog", "200"), 0);
		json_decref(st);
	}
}

/* The bucket's answers carry its budget, which the client now paces by before
 * any 429: the 3 % of 429s that follow no pace keep the 429 path in the storm. */
static const char *const storm[] = { "--rate", "40", "--burst", "8", "--fail-503", "0.05", "--reset", "0.04",
				     "--truncate", "0.04", "--fail-429", "0.03", "--seed", "3", NULL };

Test(jira_sim, cloud_storm_still_complete, .fini = fini, .timeout = 300)
{
	complete_run("cloud", JETL_FLAVOR_CLOUD, storm, 8);
	{
		json_t *st = sim_stats(&g_sim);
		json_t *bs = json_object_get(st, "by_status");
		long n429 = (long)json_integer_value(json_object_get(bs, "429"));
		long n200 = (long)json_integer_value(json_object_get(bs, "200"));

		cr_log_info("cloud storm: sim saw %ld 200s, %ld 429s, %ld 503s, %ld resets, %ld truncated", n200, n429,
			    (long)json_integer_value(json_object_get(bs, "503")),
			    (long)json_integer_value(json_object_get(bs, "reset")),
			    (long)json_integer_value(json_object_get(bs, "truncated")));
		cr_assert_gt(n429, 0, "the storm should have rate limited us");
		/* honouring Retry-After keeps 429s a small share; hammering makes them most answers */
		cr_assert_lt(n429 * 2, n200, "%ld 429s for %ld 200s: Retry-After was not honoured", n429, n200);
		json_decref(st);
	}
}

Test(jira_sim, server_storm_still_complete, .fini = fini, .timeout = 300)
{
	complete_run("server", JETL_FLAVOR_SERVER, storm, 8);
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One full extraction of ABC on the running simulator: its wall seconds. */
static double timed_run(jl_jira_stats *st)
{
	got g;
	jl_jira *j;
	double t0 = mono_now();
	int rc;

	got_init(&g);
	j = client(&g_sim, JETL_FLAVOR_CLOUD, JIRASIM_TOKEN, 8);
	rc = run_extract(j, "ABC", 1, &g);
	cr_assert_eq(rc, 0, "extract: %d %s", rc, jl_jira_error(j));
	check_complete(g_data, "ABC", &g);
	jl_jira_get_stats(j, st);
	jl_jira_free(j);
	got_free(&g);
	return mono_now() - t0;
}

/* Issue 18: 429s that do not follow our pace (Retry-After: 1 only, another
 * client spent the quota) cost only the request that met them. Pausing every
 * request and halving the client on each made such a run 27x the clean one. */
Test(jira_sim, random_429s_cost_only_their_request, .fini = fini, .timeout = 120)
{
	const char *args[] = { "--latency-ms", "40", NULL };
	jl_jira_stats st;
	double clean, faulty;
	char *ans;

	setup("cloud", args);
	unsetenv("JETL_JIRA_BACKOFF_MS"); /* the real backoff: a 503 without Retry-After waits it */
	clean = timed_run(&st);
	ans = jirasim_http(&g_sim, "/__sim/faults", "{\"fail_429\": 0.15, \"fail_503\": 0.05, \"seed\": 3}");
	cr_assert(ans);
	free(ans);
	faulty = timed_run(&st);
	cr_log_info("clean %.2f s; random 15 %% 429 + 5 %% 503: %.2f s (%lld 429s, %lld 5xx, %lld requests)", clean,
		    faulty, (long long)st.rate_limited, (long long)st.server_errors, (long long)st.requests);
	cr_assert_gt(st.rate_limited, 10, "the faults should have answered 429s");
	/* 2.3-2.7x measured on this small set (each 429 still costs its request a
	 * second, and the longest chain of retries weighs on a 4 s run); 27x before.
	 * The 2 s spare absorbs a loaded machine's jitter on so short a run. */
	cr_assert_lt(faulty, 3 * clean + 2.0, "%.2f s with random 429s against %.2f s clean", faulty, clean);
}

/* A token bucket slower than the client, with the budget in every answer: the
 * pace follows X-RateLimit-Remaining, so few requests meet a 429. */
Test(jira_sim, token_bucket_paced_before_429s, .fini = fini, .timeout = 120)
{
	const char *args[] = { "--latency-ms", "40", "--rate", "60", "--burst", "60", NULL };
	jl_jira_stats st;
	double secs;

	setup("cloud", args);
	secs = timed_run(&st);
	cr_log_info("token bucket 60/s: %.2f s, %lld requests, %lld 429s", secs, (long long)st.requests,
		    (long long)st.rate_limited);
	cr_assert_lt(st.rate_limited * 50, st.requests, "%lld 429s in %lld requests: 2 %% or more",
		     (long long)st.rate_limited, (long long)st.requests);
}

Test(jira_sim, bad_token_fails_fast_with_the_cause, .fini = fini, .timeout = 60)
{
	const char *args[] = { "--user", JIRASIM_USER, "--token", JIRASIM_TOKEN, NULL };
	got g;
	jl_jira *j;
	char *tz = NULL;
	int rc;

	setup("cloud", args);
	got_init(&g);
	j = client(&g_sim, JETL_FLAVOR_CLOUD, "wrong-token-123", 4);
	rc = jl_jira_myself_tz(j, &tz);
	cr_assert_eq(rc, JETL_EAUTH, "rc %d: %s", rc, jl_jira_error(j));
	cr_assert(strstr(jl_jira_error(j), "HTTP 401 on GET /rest/api/3/myself"), "%s", jl_jira_error(j));
	cr_assert(strstr(jl_jira_error(j), "check the user and token"), "%s", jl_jira_error(j));
	cr_assert_null(strstr(jl_jira_error(j), "wrong-token"));
	rc = run_extract(j, "ABC", 0, &g);
	cr_assert_eq(rc, JETL_EAUTH);
	{
		json_t *st = sim_stats(&g_sim);
		cr_assert_eq(json_integer_value(json_object_get(json_object_get(st, "by_status"), "401")), 2,
			     "401 must not be retried");
		json_decref(st);
	}
	jl_jira_free(j);
	/* the right token works */
	j = client(&g_sim, JETL_FLAVOR_CLOUD, JIRASIM_TOKEN, 4);
	cr_assert_eq(jl_jira_myself_tz(j, &tz), 0, "%s", jl_jira_error(j));
	cr_assert_str_eq(tz, "Asia/Shanghai");
	free(tz);
	jl_jira_free(j);
	got_free(&g);
}

/* Issue 25, item 6: a URL where nothing answers (connection refused, and
 * a TLS handshake with a plain HTTP port) fails on its first request, not
 * after six tries and a minute of backoff, and says why. Once the site has
 * answered, the same refusal is a blip: retried as before. */
Test(jira_sim, unreachable_site_fails_at_once_but_a_site_that_answered_is_retried, .fini = fini, .timeout = 60)
{
	jirasim tls_probe;
	jl_jira_stats st;
	json_t *info = NULL;
	jl_jira *j;
	int rc;

	setup("cloud", NULL);
	/* TLS against the simulator's plain port: the handshake fails. */
	tls_probe = g_sim;
	snprintf(tls_probe.url, sizeof(tls_probe.url), "https://127.0.0.1:%d", g_sim.port);
	j = client(&tls_probe, JETL_FLAVOR_CLOUD, JIRASIM_TOKEN, 4);
	rc = jl_jira_server_info(j, &info);
	cr_assert_eq(rc, JETL_ENETWORK, "rc %d: %s", rc, jl_jira_error(j));
	cr_assert(strstr(jl_jira_error(j), "not retried"), "%s", jl_jira_error(j));
	jl_jira_get_stats(j, &st);
	cr_assert_eq(st.requests, 1, "%lld requests", (long long)st.requests);
	jl_jira_free(j);
	/* A client that had an answer, then the site goes away: retried. */
	j = client(&g_sim, JETL_FLAVOR_CLOUD, JIRASIM_TOKEN, 4);
	cr_assert_eq(jl_jira_server_info(j, &info), 0, "%s", jl_jira_error(j));
	json_decref(info);
	info = NULL;
	jirasim_stop(&g_sim);
	rc = jl_jira_server_info(j, &info);
	cr_assert_eq(rc, JETL_ENETWORK, "rc %d: %s", rc, jl_jira_error(j));
	cr_assert(strstr(jl_jira_error(j), "Connection refused") && strstr(jl_jira_error(j), "after 6 attempts"),
		  "%s", jl_jira_error(j));
	jl_jira_get_stats(j, &st);
	cr_assert_eq(st.requests, 1 + 6);
	cr_assert_eq(st.retries, 5);
	jl_jira_free(j);
	/* A fresh client on the dead URL: one request, the cause, no retry. */
	j = client(&g_sim, JETL_FLAVOR_CLOUD, JIRASIM_TOKEN, 4);
	rc = jl_jira_server_info(j, &info);
	cr_assert_eq(rc, JETL_ENETWORK);
	cr_assert(strstr(jl_jira_error(j), "Connection refused") && strstr(jl_jira_error(j), "not retried"),
		  "%s", jl_jira_error(j));
	jl_jira_get_stats(j, &st);
	cr_assert_eq(st.requests, 1);
	cr_assert_eq(st.retries, 0);
	jl_jira_free(j);
}

Test(jira_sim, legacy_search_on_cloud_is_410_not_retried, .fini = fini, .timeout = 60)
{
	got g;
	jl_jira *j;
	int rc;

	setup("cloud", NULL);
	got_init(&g);
	/* a client wrongly configured as Server calls the removed /search */
	j = client(&g_sim, JETL_FLAVOR_SERVER, JIRASIM_TOKEN, 4);
	rc = run_extract(j, "ABC", 0, &g);
	cr_assert_eq(rc, JETL_EGONE, "rc %d: %s", rc, jl_jira_error(j));
	cr_assert(strstr(jl_jira_error(j), "HTTP 410 on POST /rest/api/2/search"), "%s", jl_jira_error(j));
	{
		json_t *st = sim_stats(&g_sim);
		cr_assert_eq(stat_of(st, "POST /rest/api/{ver}/search", "410"), 1);
		json_decref(st);
	}
	jl_jira_free(j);
	got_free(&g);
}

Test(jira_sim, no_dev_permission_names_view_dev_tools, .fini = fini, .timeout = 60)
{
	const char *args[] = { "--no-dev-permission", NULL };
	got g;
	jl_jira *j;
	int rc;

	setup("cloud", args);
	got_init(&g);
	j = client(&g_sim, JETL_FLAVOR_CLOUD, JIRASIM_TOKEN, 4);
	rc = run_extract(j, "ABC", 0, &g);
	cr_assert_eq(rc, JETL_EFORBIDDEN, "rc %d: %s", rc, jl_jira_error(j));
	cr_assert(strstr(jl_jira_error(j), "VIEW_DEV_TOOLS"), "%s", jl_jira_error(j));
	jl_jira_free(j);
	got_free(&g);
}

/* Count the issues whose Development field says there is something. */
static long dev_wanted(const char *data, const char *key)
{
	char path[512], *line = NULL;
	size_t cap = 0;
	long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/issues/%s.jsonl", data, key);
	f = fopen(path, "r");
	cr_assert(f);
	while (getline(&line, &cap, f) > 0) {
		json_t *rec = json_loads(line, JSON_ALLOW_NUL, NULL);
		json_t *v = json_object_get(json_object_get(json_object_get(rec, "issue"), "fields"), "customfield_10000");
		jl_devfield df;

		jl_devfield_parse(json_string_value(v), json_string_length(v), &df);
		n += df.has_data;
		jl_devfield_clear(&df);
		json_decref(rec);
	}
	free(line);
	fclose(f);
	return n;
}

Test(jira_sim, dev_status_only_where_the_field_says_so, .fini = fini, .timeout = 120)
{
	const char *flavors[] = { "cloud", "server" };

	for (int k = 0; k < 2; k++) {
		got g;
		jl_jira *j;
		json_t *st;
		long want;

		setup(flavors[k], NULL);
		got_init(&g);
		j = client(&g_sim, JETL_FLAVOR_AUTO, JIRASIM_TOKEN, 8);
		cr_assert_eq(run_extract(j, "ABC", 0, &g), 0, "%s", jl_jira_error(j));
		want = dev_wanted(g_data, "ABC");
		st = sim_stats(&g_sim);
		cr_assert_gt(want, 0);
		cr_assert_lt(want, 450);
		cr_assert_eq(stat_of(st, "GET /rest/dev-status/{ver}/issue/summary", NULL), want, "%s: %ld summaries, want %ld",
			     flavors[k], stat_of(st, "GET /rest/dev-status/{ver}/issue/summary", NULL), want);
		cr_assert_eq((long)json_object_size(g.dev), want);
		cr_assert_gt(stat_of(st, "GET /rest/dev-status/{ver}/issue/detail", "200"), 0);
		json_decref(st);
		jl_jira_free(j);
		got_free(&g);
		fini();
	}
}

/* Issue 18: a Server field holding a fresh summary of every data type stands
 * for the summary answer; its details are still asked, so the raw entry (and
 * the row made from it) is what the summary request would have given. */
Test(jira_sim, fresh_field_summaries_save_the_summary_request, .fini = fini, .timeout = 120)
{
	const char *gen_args[] = { "--long-every", "40", "--seed", "7", "--fresh-dev", "1", NULL };
	got g;
	jl_jira *j;
	json_t *st, *e;
	const char *id;
	long details = 0;

	setenv("JETL_JIRA_ID_PAGE", "120", 1);
	jirasim_up(&g_sim, &g_data, "ABC:200", "server", gen_args, NULL);
	got_init(&g);
	j = client(&g_sim, JETL_FLAVOR_SERVER, JIRASIM_TOKEN, 8);
	cr_assert_eq(run_extract(j, "ABC", 0, &g), 0, "%s", jl_jira_error(j));
	st = sim_stats(&g_sim);
	cr_assert_eq(stat_of(st, "GET /rest/dev-status/{ver}/issue/summary", NULL), 0);
	cr_assert_gt(json_object_size(g.dev), 20);
	json_object_foreach(g.dev, id, e) {
		cr_assert_str_eq(json_string_value(json_object_get(e, "summary_from")), "field", "issue %s", id);
		cr_assert(json_is_object(json_object_get(json_object_get(e, "summary"), "summary")));
		details += (long)json_array_size(json_object_get(e, "detail_requests"));
	}
	cr_assert_gt(details, 0);
	cr_assert_eq(stat_of(st, "GET /rest/dev-status/{ver}/issue/detail", NULL), details);
	json_decref(st);
	jl_jira_free(j);
	got_free(&g);
}

/* --- bad input from Jira ----------------------------------------------------- */

static long by_status(json_t *st, const char *status)
{
	return (long)json_integer_value(json_object_get(json_object_get(st, "by_status"), status));
}

static void set_faults(const char *body)
{
	char *ans = jirasim_http(&g_sim, "/__sim/faults", body);

	cr_assert(ans, "cannot set %s", body);
	free(ans);
}

/* HTML pages (a 502 from the gateway, a 200 login page) and JSON cut inside a
 * string: each retried, and the project still arrives whole. */
static const char *const html_storm[] = { "--html", "0.08", "--bad-json", "0.08", "--seed", "5", NULL };

static void bad_input_storm(const char *flavor, int jflavor)
{
	jl_jira_stats cs;
	json_t *st;
	long html, gw, bad;

	/* 16 % of answers are spoiled and request order varies with timing, so
	 * with 6 attempts one request in a run failing six times in a row is a
	 * real (about 1 %) chance; 10 makes it negligible, and the point here is
	 * that every spoiled answer is retried until the data is complete. */
	g_max_attempts = 10;
	complete_run_x(flavor, jflavor, html_storm, 8, NULL, NULL, &cs);
	g_max_attempts = 6;
	st = sim_stats(&g_sim);
	html = by_status(st, "html");
	gw = by_status(st, "502");
	bad = by_status(st, "badjson");
	cr_log_info("%s bad-input storm: sim sent %ld HTML 200s, %ld HTML 502s, %ld bad JSON; client retried %lld",
		    flavor, html, gw, bad, (long long)cs.retries);
	cr_assert_gt(html, 0, "the storm should have sent HTML 200s");
	cr_assert_gt(gw, 0, "the storm should have sent HTML 502s");
	cr_assert_gt(bad, 0, "the storm should have sent bad JSON");
	/* every spoiled answer was retried (the data is complete), each counted */
	cr_assert_geq(cs.retries, html + gw + bad, "%lld retries for %ld spoiled answers", (long long)cs.retries,
		      html + gw + bad);
	cr_assert_geq(cs.server_errors, gw);
	json_decref(st);
}

Test(jira_sim, cloud_html_and_bad_json_storm_still_complete, .fini = fini, .timeout = 300)
{
	bad_input_storm("cloud", JETL_FLAVOR_CLOUD);
}

Test(jira_sim, server_html_and_bad_json_storm_still_complete, .fini = fini, .timeout = 300)
{
	bad_input_storm("server", JETL_FLAVOR_SERVER);
}

/* A login page answered 200 on every call, then JSON that never parses: a
 * clear protocol error naming the endpoint and what came back, after the
 * bounded number of attempts. */
Test(jira_sim, persistent_html_or_bad_json_fails_with_protocol_error, .fini = fini, .timeout = 60)
{
	static const struct {
		const char *faults, *want, *stat;
	} cases[] = {
		{ "{\"html\": 1, \"html_ok\": 1}", "HTML", "html" },
		{ "{\"bad_json\": 1}", "invalid JSON", "badjson" },
	};

	setup("cloud", NULL);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		got g;
		jl_jira *j;
		json_t *st;
		const char *err;
		int rc;

		set_faults(cases[k].faults);
		free(jirasim_http(&g_sim, "/__sim/reset-stats", "{}"));
		got_init(&g);
		j = client(&g_sim, JETL_FLAVOR_CLOUD, JIRASIM_TOKEN, 4);
		rc = run_extract(j, "ABC", 0, &g);
		err = jl_jira_error(j);
		cr_log_info("%s", err);
		cr_assert_eq(rc, JETL_EPROTOCOL, "rc %d: %s", rc, err);
		cr_assert(strstr(err, "POST /rest/api/3/search/jql"), "the message should name the endpoint: %s", err);
		cr_assert(strstr(err, cases[k].want), "the message should say %s: %s", cases[k].want, err);
		cr_assert(strstr(err, "after 6 attempts"), "%s", err);
		cr_assert_null(strchr(err, '\n'), "one line: %s", err);
		cr_assert_eq(g.batches, 0);
		st = sim_stats(&g_sim);
		cr_assert_eq(by_status(st, cases[k].stat), 6, "6 attempts, then give up (%ld)", by_status(st, cases[k].stat));
		cr_assert_eq(json_integer_value(json_object_get(st, "total")), 6);
		json_decref(st);
		jl_jira_free(j);
		got_free(&g);
		set_faults("{\"html\": 0, \"html_ok\": 0.5, \"bad_json\": 0}");
	}
}

/* /search/jql hands back the token it was given: fail at once, never loop. */
Test(jira_sim, repeated_next_page_token_fails_fast, .fini = fini, .timeout = 60)
{
	const int census[] = { 0, 1 };

	setup("cloud", NULL);
	for (size_t k = 0; k < 2; k++) {
		got g;
		jl_jira *j;
		json_t *st;
		const char *err;
		double t0;
		int rc;

		set_faults("{\"repeat_token\": true}");
		free(jirasim_http(&g_sim, "/__sim/reset-stats", "{}"));
		got_init(&g);
		j = client(&g_sim, JETL_FLAVOR_CLOUD, JIRASIM_TOKEN, 4);
		t0 = mono_now();
		rc = run_extract(j, "ABC", census[k], &g);
		err = jl_jira_error(j);
		cr_log_info("%.3f s: %s", mono_now() - t0, err);
		cr_assert_lt(mono_now() - t0, 10.0, "a repeated token must not be followed");
		cr_assert_eq(rc, JETL_EPROTOCOL, "rc %d: %s", rc, err);
		cr_assert(strstr(err, "POST /rest/api/3/search/jql repeated a nextPageToken"), "%s", err);
		cr_assert_null(strchr(err, '\n'), "one line: %s", err);
		cr_assert_eq(g.batches, 0, "nothing emitted from a listing known to be broken");
		st = sim_stats(&g_sim);
		/* the first page, then the one that answered with its own token */
		cr_assert_eq(stat_of(st, "POST /rest/api/{ver}/search/jql", NULL), 2);
		json_decref(st);
		jl_jira_free(j);
		got_free(&g);
	}
}

/* A Server page shorter than asked although more remain (total unchanged):
 * once on the census, once on a body page in mid-run. The short part is
 * re-read; every issue arrives once. */
Test(jira_sim, server_shrinking_page_is_reread, .fini = fini, .timeout = 120)
{
	json_t *st, *f;
	char *ans;

	complete_run_x("server", JETL_FLAVOR_SERVER, NULL, 8, "{\"shrink_page\": 1}", "{\"shrink_page\": 1}", NULL);
	ans = jirasim_http(&g_sim, "/__sim/faults", NULL);
	f = ans ? json_loads(ans, 0, NULL) : NULL;
	free(ans);
	cr_assert(f);
	cr_assert_eq(json_integer_value(json_object_get(f, "shrink_page")), 0, "both traps should have sprung");
	json_decref(f);
	st = sim_stats(&g_sim);
	cr_log_info("server shrink: %ld search requests", stat_of(st, "POST /rest/api/{ver}/search", NULL));
	json_decref(st);
}

/* Pages that keep shrinking: the extraction either completes or says which
 * page shrank; it never ends "successfully" with issues missing. */
Test(jira_sim, server_pages_that_keep_shrinking_fail_clearly, .fini = fini, .timeout = 120)
{
	const int traps[] = { 8, 1000 };

	for (size_t k = 0; k < 2; k++) {
		char body[64];
		got g;
		jl_jira *j;
		const char *err;
		int rc;

		setup("server", NULL);
		snprintf(body, sizeof(body), "{\"shrink_page\": %d}", traps[k]);
		set_faults(body);
		got_init(&g);
		j = client(&g_sim, JETL_FLAVOR_SERVER, JIRASIM_TOKEN, 8);
		rc = run_extract(j, "ABC", 0, &g);
		err = jl_jira_error(j);
		cr_log_info("%d shrinking pages: rc %d %s", traps[k], rc, err);
		if (rc == 0) {
			check_complete(g_data, "ABC", &g);
		} else {
			cr_assert_eq(rc, JETL_EPROTOCOL, "rc %d: %s", rc, err);
			cr_assert(strstr(err, "POST /rest/api/2/search page at startAt"), "%s", err);
			cr_assert(strstr(err, "shrank"), "%s", err);
			cr_assert_null(strchr(err, '\n'), "one line: %s", err);
		}
		if (traps[k] == 1000)
			cr_assert_eq(rc, JETL_EPROTOCOL, "every page short: that cannot end complete");
		jl_jira_free(j);
		got_free(&g);
		fini();
	}
}

/* A Server/DC site whose admin capped search pages at 50, and 100 issues
 * deleted behind the read: the offsets shift, the client lists the ids again
 * and re-reads the skipped ones with "id in (…)" searches, which the cap cuts
 * short. Those issues matched (total says so): they are not "vanished". */
Test(jira_sim, server_capped_reread_after_offset_shift_is_complete, .fini = fini, .timeout = 120)
{
	const char *args[] = { "--server-max-results", "50", NULL };
	got g;
	jl_jira *j;
	json_t *st;
	int rc;

	setup("server", args);
	got_init(&g);
	g.del = &g_sim;
	g.del_upto = 2;
	j = client(&g_sim, JETL_FLAVOR_SERVER, JIRASIM_TOKEN, 8);
	rc = run_extract(j, "ABC", 0, &g);
	cr_assert_eq(rc, 0, "extract: %d %s", rc, jl_jira_error(j));
	cr_assert_eq(json_array_size(g.del_keys), 100);
	/* the deleted issues were emitted before they went; the dataset files still hold them */
	check_complete(g_data, "ABC", &g);
	st = sim_stats(&g_sim);
	cr_log_info("capped re-read: %ld search requests", stat_of(st, "POST /rest/api/{ver}/search", NULL));
	json_decref(st);
	jl_jira_free(j);
	got_free(&g);
}

/* Issue 12: the extra JQL went into "project = K AND (<extra>)" unchecked, so
 * "key = ABC-1) OR (project = XYZ" closed jetl's parenthesis and read XYZ too.
 * Now it is refused before any search, and a proper one still only narrows. */
static void extra_jql_stays_in_project(const char *flavor, int jflavor)
{
	static const char *const widen[] = { "key = ABC-1) OR (project = XYZ", "key = ABC-1 ORDER BY key",
					     "key = ABC-1) OR (project = XYZ) OR (key = ABC-2" };
	const char *gen_args[] = { "--seed", "11", NULL };
	jl_jira_extract_req req = { 0 };
	got g;
	jl_jira *j;
	int rc;

	jirasim_up(&g_sim, &g_data, "ABC:12,XYZ:6", flavor, gen_args, NULL);
	j = client(&g_sim, jflavor, JIRASIM_TOKEN, 4);
	req.project_key = "ABC";
	req.batch_size = 100;
	for (size_t i = 0; i < sizeof(widen) / sizeof(widen[0]); i++) {
		jl_jira_callbacks cb = { on_census, on_batch, on_progress, &g };

		got_init(&g);
		cb.ud = &g;
		req.jql_extra = widen[i];
		rc = jl_jira_extract(j, &req, &cb);
		cr_expect_eq(json_array_size(g.order), 0, "[%s]: %zu issues read", widen[i], json_array_size(g.order));
		cr_assert_eq(rc, JETL_EINVAL, "[%s]: rc %d %s", widen[i], rc, jl_jira_error(j));
		cr_assert(strstr(jl_jira_error(j), "jql: "), "%s", jl_jira_error(j));
		got_free(&g);
	}
	{
		json_t *st = sim_stats(&g_sim);

		cr_assert_eq(stat_of(st, "POST /rest/api/{ver}/search/jql", NULL) +
			     stat_of(st, "POST /rest/api/{ver}/search", NULL), 0, "a refused JQL was sent");
		json_decref(st);
	}
	/* an OR inside the extra JQL stays inside the project */
	{
		jl_jira_callbacks cb = { on_census, on_batch, on_progress, NULL };

		got_init(&g);
		cb.ud = &g;
		req.jql_extra = "key = ABC-1 OR key = XYZ-1 OR (key in (ABC-2, XYZ-2))";
		rc = jl_jira_extract(j, &req, &cb);
		cr_assert_eq(rc, 0, "rc %d %s", rc, jl_jira_error(j));
		cr_assert_eq(json_array_size(g.order), 2, "%zu issues (ABC-1 and ABC-2 only)", json_array_size(g.order));
		got_free(&g);
	}
	jl_jira_free(j);
}

Test(jira_sim, cloud_extra_jql_cannot_widen_the_project, .fini = fini, .timeout = 60)
{
	extra_jql_stays_in_project("cloud", JETL_FLAVOR_CLOUD);
}

Test(jira_sim, server_extra_jql_cannot_widen_the_project, .fini = fini, .timeout = 60)
{
	extra_jql_stays_in_project("server", JETL_FLAVOR_SERVER);
}
