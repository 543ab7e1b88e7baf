/*
 * retry.h - when and how long to wait before asking Jira again (pure: no I/O,
 * no clock reads; the caller passes "now" and the random draw).
 */
#ifndef JL_RETRY_H
#define JL_RETRY_H

#include <stdint.h>

/*
 * Retry-After header value → seconds to wait (≥ 0). Accepts delta-seconds
 * ("5", "0", "1.5") and an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT", read
 * against now_epoch). Returns 0 on success, -1 when the value is unusable.
 */
int jl_retry_after_parse(const char *v, double now_epoch, double *seconds);

/*
 * X-RateLimit-Reset (ISO 8601, "2025-01-01T10:00:00.123Z" or with an offset)
 * → seconds to wait from now_epoch (≥ 0; capped at cap_s because a skewed
 * clock must not stall a run for hours). Returns 0 or -1.
 */
int jl_ratelimit_reset_parse(const char *v, double now_epoch, double cap_s, double *seconds);

/*
 * Exponential backoff for the attempt-th retry (1 = first retry):
 * base_s * 2^(attempt-1), capped at cap_s, times a jitter in [0.7, 1.3)
 * picked by u in [0, 1). Atlassian's advice (docs/jira.md, 'Rate limits').
 */
double jl_backoff_delay(int attempt, double base_s, double cap_s, double u);

/* Whether an HTTP status is worth retrying: 429, 500, 502, 503, 504, other 5xx. */
int jl_http_status_retriable(long status);

/*
 * Join a base URL (which may carry a path, e.g. https://api.atlassian.com/ex/jira/<id>
 * or "https://x/jira/") and a path ("/rest/api/3/myself") with exactly one
 * slash between them. Returns a malloc'd string (caller frees) or NULL.
 */
char *jl_url_join(const char *base, const char *path);

#endif
