/*
 * internal.h - what the files of src/jira/ share (private to the module).
 *
 * The request engine (http.c) runs every request through one curl multi
 * handle. A request is a jl_req: whoever submits it hands it to the engine,
 * and gets it back, finished (success or final failure), through its done
 * callback, which then owns it. Callbacks run on the thread that drives the
 * engine (jl_http_step), never concurrently.
 */
#ifndef JL_JIRA_INTERNAL_H
#define JL_JIRA_INTERNAL_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>

#include "../core/buf.h"
#include "jira.h"

typedef struct jl_req jl_req;
typedef void (*jl_req_done)(jl_jira *j, jl_req *r);

/* Request flags */
#define JL_REQ_ALLOW_404 0x1   /* a 404 is an answer for the caller, not worth a log line */
/* A 2xx answer whose text is one JSON object by its structure (jspan.h)
 * stays text for the caller to parse in parts: r->resp, r->json NULL.
 * Otherwise it is parsed whole as usual (r->json, or the usual failure). */
#define JL_REQ_TEXT 0x2

struct jl_req {
	/* set by the submitter (jl_req_new) */
	const char *method;     /* "GET", "POST" or "DELETE" (static string) */
	char *path;             /* owned: path + query, relative to the base URL */
	char *body;             /* owned JSON text for POST, or NULL */
	int64_t prio;           /* lower starts first (the batch sequence number) */
	unsigned flags;
	jl_req_done done;
	void *ud;               /* submitter's context */
	void *ud2;              /* owned by the request when ud2_free is set */
	void (*ud2_free)(void *);
	int64_t tag;

	/* results, valid in done */
	int rc;                 /* 0 or a jetl_status */
	long http;              /* last HTTP status (0: none) */
	json_t *json;           /* decoded answer on success (owned by the request);
	                           NULL with JL_REQ_TEXT when the text is left to the caller */
	char err[400];          /* one-line cause when rc != 0 */

	/* engine state */
	jl_buf resp;
	int attempts;           /* sent so far */
	int limited;            /* 429s so far */
	double not_before;      /* monotonic time before which it must not start */
	double retry_after;     /* from the last answer; < 0 none */
	double reset_wait;      /* from X-RateLimit-Reset; < 0 none */
	int rl_remaining;       /* X-RateLimit-Remaining; < 0 none */
	int rl_limit;           /* X-RateLimit-Limit; < 0 none */
	unsigned char rl_reason;   /* a RateLimit-Reason header came: the budget is spent */
	char ctype[96];
	double started;         /* when the last attempt started */
	CURL *easy;
	jl_req *next;
	int64_t seq;
};

struct jl_jira {
	jl_jira_config cfg;     /* strings below are owned copies */
	char *base_url;
	char *user;
	char *token;            /* secret: only ever put into the Authorization header */
	int flavor;             /* JETL_FLAVOR_*, AUTO until detected */
	const char *api;        /* "/rest/api/3" or "/rest/api/2" once the flavor is known */

	CURLM *multi;
	struct curl_slist *headers;   /* shared: auth, accept, content type */
	CURL **pool;            /* idle easy handles, reused (connections live in the multi) */
	int npool, cappool;
	jl_req *pending;        /* sorted by (prio, seq) */
	jl_req *running;        /* in the multi (for abort) */
	int active;             /* requests in the multi */
	int64_t seq;

	double limit;           /* AIMD in-flight limit, 1 .. cfg.concurrency */
	double last_cut;        /* when the limit was last halved */
	double rate;            /* paced starts per second after 429s; 0 = unpaced */
	double next_start;      /* earliest start of the next request when paced */
	double oks[256];        /* ring of recent success times: what the server let through */
	unsigned noks;
	double pause_until;     /* no request starts before this (Retry-After) */
	/* The site's budget as its answers tell it (X-RateLimit-Limit/Remaining),
	 * sampled to estimate the refill rate; see http.c, 'Pacing'. */
	struct jl_budget_sample { double t; int remaining; uint64_t used; } bud[32];
	unsigned nbud;
	uint64_t bud_used;      /* answers that spent a token (carried Remaining) */
	int bud_limit;          /* last X-RateLimit-Limit; 0 = the site says nothing */
	double bud_seen;        /* when the last such answer came */
	double bud_refill;      /* estimated tokens per second; 0 = not known yet */
	unsigned char recent429[32];   /* ring: 1 where an answer was a 429 */
	unsigned nrecent;
	double backoff_base;    /* seconds; JETL_JIRA_BACKOFF_MS overrides */
	double backoff_cap;
	int id_page;            /* ids asked per census page; JETL_JIRA_ID_PAGE overrides (tests) */
	uint64_t rng;

	jl_jira_stats stats;
	FILE *trace;            /* JETL_JIRA_TRACE: a line per request started and finished */
	int last_curl;           /* CURLcode of the last finished request (0: it got an answer) */
	int answered;            /* some request got an HTTP answer: the URL reaches a server, so
	                          * failing to connect from now on is a blip worth retrying (http.c) */
	char err[512];
};

static inline const char *jl_str_or(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

/* --- client.c ------------------------------------------------------------ */
int jl_jira_fail(jl_jira *j, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void jl_jira_log(const jl_jira *j, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Set the Basic credentials on an easy handle (nothing for bearer tokens,
 * which travel in j->headers, or without a token). libcurl copies them;
 * call once per handle before it is added. */
void jl_jira_handle_auth(const jl_jira *j, CURL *e);
/* "/rest/api/3" on Cloud, "/rest/api/2" on Server; detects the flavor if needed. */
int jl_jira_api(jl_jira *j, const char **api);

/* --- http.c -------------------------------------------------------------- */
/* One line on j->trace (nothing when tracing is off): "<monotonic s> " then
 * the text. For finding where an extraction's time goes (jira.h). */
void jl_http_trace(jl_jira *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int jl_http_init(jl_jira *j);
void jl_http_cleanup(jl_jira *j);
/* New request; takes ownership of path and body (malloc'd) even on failure. NULL on OOM. */
jl_req *jl_req_new(const char *method, char *path, char *body);
void jl_req_free(jl_req *r);
/* Hand r to the engine. Never fails: problems show up as r->rc in done. */
void jl_http_submit(jl_jira *j, jl_req *r);
/* One turn of the engine: start what may start, wait up to ~100 ms for
 * network activity, finish what finished (calling done callbacks).
 * Returns the number of requests still pending or active. */
int jl_http_step(jl_jira *j);
/* Drop every pending and active request without calling done. */
void jl_http_abort(jl_jira *j);
/* Requests waiting out a retry delay (Retry-After, backoff) right now. */
int jl_http_waiting(const jl_jira *j);
/* Synchronous call: *out gets the decoded answer (caller decrefs).
 * Takes ownership of path and body. On failure the message is on j. */
int jl_http_call(jl_jira *j, const char *method, char *path, char *body, json_t **out);
/* printf into a fresh malloc'd string (NULL on OOM). */
char *jl_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Percent-encode for a query component (malloc'd). */
char *jl_urlencode(const char *s);

/* --- search.c ------------------------------------------------------------ */
/* JQL of one extraction: project = "KEY" [AND updated >= "…"] [AND (extra)] ORDER BY …; malloc'd. */
char *jl_jql_for(const jl_jira_extract_req *req, int with_filters, int ordered);
/* Quote a JQL string literal ("…" with \" and \\ escaped); malloc'd. */
char *jl_jql_quote(const char *s);

/* --- changelog.c --------------------------------------------------------- */
/* Merge embedded + fetched histories: unique by id, oldest first (by created, then id).
 * Returns a new array (caller decrefs) or NULL on OOM. Borrows both inputs (either may be NULL). */
json_t *jl_histories_merge(json_t *a, json_t *b);

#endif
