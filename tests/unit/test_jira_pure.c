/*
 * test_jira_pure.c - the pure parts of the Jira client, over recorded values:
 * timestamps, time zones and JQL dates, Retry-After /
 * X-RateLimit-Reset, backoff bounds, URL joining, history merging.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl.h"
#include "jira/internal.h"
#include "jira/retry.h"
#include "jira/tz.h"

Test(time, jira_timestamps)
{
	int64_t ms;
	int off;

	cr_assert_eq(jl_jira_time_parse("2020-06-12T08:24:56.048+0800", &ms, &off), 0);
	cr_assert_eq(ms, 1591921496048LL);
	cr_assert_eq(off, 8 * 3600);
	cr_assert_eq(jl_jira_time_parse("2020-06-12T00:24:56.048Z", &ms, &off), 0);
	cr_assert_eq(ms, 1591921496048LL);
	cr_assert_eq(off, 0);
	cr_assert_eq(jl_jira_time_parse("2020-06-12T08:24:56.048+08:00", &ms, &off), 0);
	cr_assert_eq(ms, 1591921496048LL);
	cr_assert_eq(jl_jira_time_parse("2018-05-04T19:14:51.500-0700", &ms, &off), 0);
	cr_assert_eq(ms, 1525486491500LL);
	cr_assert_eq(off, -7 * 3600);
	cr_assert_eq(jl_jira_time_parse("2021-03-04T10:00:00.000+0530", &ms, &off), 0);
	cr_assert_eq(off, 5 * 3600 + 1800);
	cr_assert_eq(jl_jira_time_parse("2020-06-12T08:24:56+0800", &ms, NULL), 0);
	cr_assert_eq(ms, 1591921496000LL);
	cr_assert_eq(jl_jira_time_parse("1591921496048", &ms, &off), 0);
	cr_assert_eq(ms, 1591921496048LL);
	cr_assert_eq(jl_jira_time_parse("2020-06-12", &ms, NULL), 0);
	cr_assert_eq(ms, 1591920000000LL);
	cr_assert_eq(jl_jira_time_parse("2020-13-12T08:24:56.048+0800", &ms, NULL), JETL_EINVAL);
	cr_assert_eq(jl_jira_time_parse("yesterday", &ms, NULL), JETL_EINVAL);
	cr_assert_eq(jl_jira_time_parse("2020-06-12T08:24:56.048+08xx", &ms, NULL), JETL_EINVAL);
}

Test(time, zone_offsets)
{
	int off;

	cr_assert_eq(jl_tz_offset("Asia/Shanghai", 1591921496, &off), 0);
	cr_assert_eq(off, 8 * 3600);
	cr_assert_eq(jl_tz_offset("Asia/Kolkata", 1591921496, &off), 0);
	cr_assert_eq(off, 5 * 3600 + 1800);
	cr_assert_eq(jl_tz_offset("UTC", 1591921496, &off), 0);
	cr_assert_eq(off, 0);
	cr_assert_eq(jl_tz_offset("Etc/UTC", 1591921496, &off), 0);
	cr_assert_eq(off, 0);
	/* Los Angeles across DST: 2024-03-10 02:00 PST = 10:00 UTC */
	cr_assert_eq(jl_tz_offset("America/Los_Angeles", 1710064799, &off), 0);
	cr_assert_eq(off, -8 * 3600);
	cr_assert_eq(jl_tz_offset("America/Los_Angeles", 1710064800, &off), 0);
	cr_assert_eq(off, -7 * 3600);
	/* 2024-11-03 02:00 PDT = 09:00 UTC: back to PST */
	cr_assert_eq(jl_tz_offset("America/Los_Angeles", 1730624399, &off), 0);
	cr_assert_eq(off, -7 * 3600);
	cr_assert_eq(jl_tz_offset("America/Los_Angeles", 1730624400, &off), 0);
	cr_assert_eq(off, -8 * 3600);
	/* past the table (2050): the POSIX footer rule */
	cr_assert_eq(jl_tz_offset("America/Los_Angeles", 2540246400LL /* 2050-07-01 */, &off), 0);
	cr_assert_eq(off, -7 * 3600);
	cr_assert_eq(jl_tz_offset("America/Los_Angeles", 2524608000LL /* 2050-01-01 */, &off), 0);
	cr_assert_eq(off, -8 * 3600);
	/* southern hemisphere past the table: Sydney in January is daylight time */
	cr_assert_eq(jl_tz_offset("Australia/Sydney", 2524608000LL, &off), 0);
	cr_assert_eq(off, 11 * 3600);
	cr_assert_eq(jl_tz_offset("Australia/Sydney", 2540246400LL, &off), 0);
	cr_assert_eq(off, 10 * 3600);
	/* refused names */
	cr_assert_eq(jl_tz_offset("../../etc/passwd", 0, &off), JETL_EINVAL);
	cr_assert_eq(jl_tz_offset("/etc/passwd", 0, &off), JETL_EINVAL);
	cr_assert_eq(jl_tz_offset("Mars/Olympus_Mons", 0, &off), JETL_ENOENT);
}

Test(time, jql_dates)
{
	char out[32];

	/* 2020-06-12T00:24:56Z */
	jl_tz_jql_date(out, 1591921496, 8 * 3600);
	cr_assert_str_eq(out, "2020/06/12 08:24");
	jl_tz_jql_date(out, 1591921496, 0);
	cr_assert_str_eq(out, "2020/06/12 00:24");
	jl_tz_jql_date(out, 1591921496, -7 * 3600);
	cr_assert_str_eq(out, "2020/06/11 17:24");
	jl_tz_jql_date(out, 1591921496, 5 * 3600 + 1800);
	cr_assert_str_eq(out, "2020/06/12 05:54");
	/* floored, never rounded up */
	jl_tz_jql_date(out, 1591921499 + 59, 0);
	cr_assert_str_eq(out, "2020/06/12 00:25");
	jl_tz_jql_date(out, 0, -3600);
	cr_assert_str_eq(out, "1969/12/31 23:00");
	/* The ends of int64 (fuzz_time: the sum with the offset overflowed)
	 * are taken as years 1 and 9999. */
	jl_tz_jql_date(out, INT64_MIN, -50400);
	cr_assert_str_eq(out, "0001/01/01 00:00");
	jl_tz_jql_date(out, INT64_MAX, 50400);
	cr_assert_str_eq(out, "9999/12/31 23:59");
	jl_tz_jql_date(out, INT64_MAX, 0);
	cr_assert_str_eq(out, "9999/12/31 23:59");
	{
		int off;

		cr_assert_eq(jl_tz_offset("America/Los_Angeles", 1710064800, &off), 0);
		jl_tz_jql_date(out, 1710064800, off);
		cr_assert_str_eq(out, "2024/03/10 03:00");
	}
}

Test(retry, retry_after_and_reset)
{
	double s;
	int64_t ms;

	cr_assert_eq(jl_retry_after_parse("5", 0, &s), 0);
	cr_assert_float_eq(s, 5.0, 1e-9);
	cr_assert_eq(jl_retry_after_parse("0", 0, &s), 0);
	cr_assert_float_eq(s, 0.0, 1e-9);
	cr_assert_eq(jl_retry_after_parse(" 12 ", 0, &s), 0);
	cr_assert_float_eq(s, 12.0, 1e-9);
	cr_assert_eq(jl_jira_time_parse("2015-10-21T07:28:00Z", &ms, NULL), 0);
	cr_assert_eq(jl_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", (double)ms / 1000 - 10, &s), 0);
	cr_assert_float_eq(s, 10.0, 1e-6);
	cr_assert_eq(jl_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", (double)ms / 1000 + 10, &s), 0);
	cr_assert_float_eq(s, 0.0, 1e-9);
	/* the obsolete forms HTTP-date still allows (RFC 9110 5.6.7) */
	cr_assert_eq(jl_retry_after_parse("Wednesday, 21-Oct-15 07:28:00 GMT", (double)ms / 1000 - 10, &s), 0);
	cr_assert_float_eq(s, 10, 1e-9);
	cr_assert_eq(jl_retry_after_parse("Wed Oct 21 07:28:00 2015", (double)ms / 1000 - 10, &s), 0);
	cr_assert_float_eq(s, 10, 1e-9);
	cr_assert_eq(jl_retry_after_parse("soon", 0, &s), -1);
	cr_assert_eq(jl_retry_after_parse("-3", 0, &s), -1);
	cr_assert_eq(jl_retry_after_parse("", 0, &s), -1);

	cr_assert_eq(jl_jira_time_parse("2025-01-01T10:00:00Z", &ms, NULL), 0);
	cr_assert_eq(jl_ratelimit_reset_parse("2025-01-01T10:00:00.500Z", (double)ms / 1000, 300, &s), 0);
	cr_assert_float_eq(s, 0.5, 1e-6);
	cr_assert_eq(jl_ratelimit_reset_parse("2025-01-01T18:00:02.000+0800", (double)ms / 1000, 300, &s), 0);
	cr_assert_float_eq(s, 2.0, 1e-6);
	cr_assert_eq(jl_ratelimit_reset_parse("2025-01-01T09:00:00Z", (double)ms / 1000, 300, &s), 0);
	cr_assert_float_eq(s, 0.0, 1e-9, "a reset in the past means now");
	cr_assert_eq(jl_ratelimit_reset_parse("2025-01-02T10:00:00Z", (double)ms / 1000, 300, &s), 0);
	cr_assert_float_eq(s, 300.0, 1e-9, "a skewed clock is capped");
	cr_assert_eq(jl_ratelimit_reset_parse("1735725600", 0, 300, &s), -1);
	cr_assert_eq(jl_ratelimit_reset_parse("garbage", 0, 300, &s), -1);
}

Test(retry, backoff_bounds)
{
	for (int i = 0; i <= 100; i++) {
		double u = i / 100.0;
		double d1 = jl_backoff_delay(1, 2.0, 30.0, u);
		double d3 = jl_backoff_delay(3, 2.0, 30.0, u);
		double d9 = jl_backoff_delay(9, 2.0, 30.0, u);

		cr_assert(d1 >= 1.4 && d1 < 2.6, "attempt 1: %f", d1);
		cr_assert(d3 >= 5.6 && d3 < 10.4, "attempt 3: %f", d3);
		cr_assert(d9 >= 21.0 && d9 < 39.0, "capped: %f", d9);
	}
	cr_assert(jl_backoff_delay(1, 0.02, 0.32, 0.5) < 0.03);
	cr_assert(jl_http_status_retriable(429));
	cr_assert(jl_http_status_retriable(503));
	cr_assert(jl_http_status_retriable(502));
	for (long s = 400; s < 500; s++)
		if (s != 429)
			cr_assert(!jl_http_status_retriable(s), "%ld", s);
}

Test(retry, url_join)
{
	const char *cases[][3] = {
		{ "https://x.atlassian.net", "/rest/api/3/myself", "https://x.atlassian.net/rest/api/3/myself" },
		{ "https://x.atlassian.net/", "/rest/api/3/myself", "https://x.atlassian.net/rest/api/3/myself" },
		{ "https://api.atlassian.com/ex/jira/abc-123", "/rest/api/3/field",
		  "https://api.atlassian.com/ex/jira/abc-123/rest/api/3/field" },
		{ "https://api.atlassian.com/ex/jira/abc-123//", "rest/api/3/field",
		  "https://api.atlassian.com/ex/jira/abc-123/rest/api/3/field" },
		{ "http://jira.local:8080/jira", "/rest/api/2/search?startAt=0",
		  "http://jira.local:8080/jira/rest/api/2/search?startAt=0" },
		/* a query on the base stays a query (string joining put the path
		 * after it: Jira answered 404) */
		{ "http://127.0.0.1:8080/?x=1", "/rest/api/3/myself", "http://127.0.0.1:8080/rest/api/3/myself?x=1" },
		{ "http://127.0.0.1:8080/jira/?x=1", "/rest/api/2/search?startAt=50",
		  "http://127.0.0.1:8080/jira/rest/api/2/search?x=1&startAt=50" },
		{ "HTTPS://X.atlassian.net:443", "/rest/api/3/field", "https://X.atlassian.net:443/rest/api/3/field" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *u = jl_url_join(cases[i][0], cases[i][1]);

		cr_assert_str_eq(u, cases[i][2]);
		free(u);
	}
}

Test(changelog, merge_dedupes_and_orders_oldest_first)
{
	/* embedded: newest first; fetched: oldest first, overlapping, one with an epoch number */
	json_t *emb = json_loads("[{\"id\":\"30\",\"created\":\"2020-06-12T10:00:00.000+0800\"},"
				 "{\"id\":\"20\",\"created\":\"2020-06-12T09:00:00.000+0800\"}]", 0, NULL);
	json_t *got = json_loads("[{\"id\":\"5\",\"created\":1591920000000},"
				 "{\"id\":\"10\",\"created\":\"2020-06-12T08:00:00.000+0800\"},"
				 "{\"id\":\"11\",\"created\":\"2020-06-12T00:00:00.000Z\"},"
				 "{\"id\":\"20\",\"created\":\"2020-06-12T09:00:00.000+0800\"}]", 0, NULL);
	json_t *all = jl_histories_merge(emb, got);
	const char *want[] = { "5", "10", "11", "20", "30" };

	cr_assert_eq(json_array_size(all), 5);
	for (size_t i = 0; i < 5; i++)
		cr_assert_str_eq(json_string_value(json_object_get(json_array_get(all, i), "id")), want[i]);
	json_decref(emb);
	json_decref(got);
	json_decref(all);
}

Test(search, jql_quoting)
{
	jl_jira_extract_req req = { 0 };
	char *q;

	req.project_key = "AB\"C";
	req.updated_since = "2024/03/10 03:00";
	req.jql_extra = "issuetype = Bug";
	q = jl_jql_for(&req, 1, 1);
	cr_assert_str_eq(q, "project = \"AB\\\"C\" AND updated >= \"2024/03/10 03:00\" AND (issuetype = Bug) "
			    "ORDER BY created ASC, key ASC");
	free(q);
	q = jl_jql_for(&req, 0, 0);
	cr_assert_str_eq(q, "project = \"AB\\\"C\"");
	free(q);
}

/* Issue 12: "--jql 'key = A-1) OR (project = B'" closed jetl's parenthesis
 * and widened the search past the project. The extra JQL may only narrow. */
Test(search, extra_jql_can_only_narrow)
{
	static const char *const ok[] = {
		NULL, "", "issuetype = Bug", "key = A-1 OR key = A-2", "(status = Done) AND (labels in (a, b))",
		"summary ~ \"a ) OR ( project = B\"", "summary ~ 'it''s (x'", "summary ~ \"quote \\\" ) x\"",
		"summary ~ 'a \\' ) b'", "labels = border", "orders = 1", "cf[10010] = x", "labels = \"order by\"",
		"fixVersion = order", "reorder by = 1",
	};
	static const char *const bad[] = {
		"key = A-1) OR (project = B", ")", "(", "a = 1) OR (b = 2", "((a = 1)", "a = 1) ORDER BY key (",
		"status = Done ORDER BY created DESC", "status = Done order\n\tby key", "ORDER BY key",
		"(a) order by key", "summary ~ \"open", "summary ~ 'open", "summary ~ \"ends in backslash\\",
		"summary ~ a\\) OR (project = B", "   ", "\"x\" ) OR ( \"y\"",
	};
	char err[256];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		err[0] = '\0';
		cr_expect_eq(jl_jql_check_extra(ok[i], err, sizeof(err)), 0, "refused [%s]: %s", ok[i], err);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_expect_eq(jl_jql_check_extra(bad[i], err, sizeof(err)), JETL_EINVAL, "accepted [%s]", bad[i]);
		cr_expect(strncmp(err, "jql: ", 5) == 0 && !strchr(err, '\n'), "[%s]: message [%s]", bad[i], err);
	}
	jl_jql_check_extra("key = A-1) OR (project = B", err, sizeof(err));
	cr_expect(strstr(err, "unbalanced parentheses") && strstr(err, "offset 9"), "%s", err);
	jl_jql_check_extra("a = 1 ORDER BY key", err, sizeof(err));
	cr_expect(strstr(err, "ORDER BY"), "%s", err);
}

/* Issue 12: credentials over plain http:// are warned about, except to
 * loopback (the simulator and the tests), where the bytes stay on the host. */
Test(client, cleartext_remote_urls)
{
	static const char *const remote[] = {
		"http://jira.example.com", "http://jira.example.com:8080/jira", "HTTP://10.0.0.5/",
		"http://192.0.2.2:9", "http://[fd00::2]:8080/", "http://127.0.0.1.example.com/",
		"http://localhost.example.com", "http://user@jira.example.com/", "http://127.0.0.1@evil.example/",
		"http://[::ffff:10.0.0.1]/", "http://", "http:///x", "http://[::1",
	};
	static const char *const local[] = {
		"https://jira.example.com", "http://127.0.0.1:8081", "http://127.9.8.7/x", "http://localhost:9/",
		"http://LOCALHOST", "http://[::1]:8080/", "http://[::ffff:127.0.0.1]/", "http://me@127.0.0.1:1/",
		"http://jira.example.com@127.0.0.1/x@y", NULL, "ftp://jira.example.com",
	};

	for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++)
		cr_expect_eq(jl_url_cleartext_remote(remote[i]), 1, "%s", remote[i]);
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		cr_expect_eq(jl_url_cleartext_remote(local[i]), 0, "%s", local[i] ? local[i] : "(null)");
}

/* Found by tests/fuzz/fuzz_time: "+94:00" parsed as a 94-hour offset, so one
 * odd `updated` could set the sync watermark days away from the data; the
 * transform (jl_time_iso) and PostgreSQL refuse offsets past 15:59. */
Test(time, offsets_past_15_59_are_refused)
{
	int64_t ms;
	int off;

	cr_assert_eq(jl_jira_time_parse("2024-02-29T23:59:59.999+94:00", &ms, &off), JETL_EINVAL);
	cr_assert_eq(jl_jira_time_parse("2024-02-29T23:59:59.999-16:00", &ms, &off), JETL_EINVAL);
	cr_assert_eq(jl_jira_time_parse("2024-02-29T23:59:59.999+1260", &ms, &off), JETL_EINVAL);
	cr_assert_eq(jl_jira_time_parse("2024-02-29T23:59:59.999+15:59", &ms, &off), 0);
	cr_assert_eq(off, 15 * 3600 + 59 * 60);
	cr_assert_eq(jl_jira_time_parse("2024-02-29T23:59:59.999-12:00", &ms, &off), 0);
	cr_assert_eq(off, -12 * 3600);
}

