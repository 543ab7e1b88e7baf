/*
 * jira.h - the Jira REST client (libcurl + jansson; knows nothing of PostgreSQL).
 *
 * One client = one curl multi handle with a shared connection pool. A client
 * is used by one thread at a time; every callback runs on that thread, from
 * inside the call that was given it. Every function returns a jetl_status;
 * on failure jl_jira_error() holds a one-line cause naming the endpoint and
 * the HTTP status, never a secret.
 */
#ifndef JL_JIRA_H
#define JL_JIRA_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "jetl/context.h"

typedef struct jl_jira jl_jira;

typedef struct jl_jira_config {
	const char *base_url;       /* may carry a path (…/ex/jira/<cloudId>) */
	const char *user;           /* basic auth */
	const char *token;          /* secret */
	int auth;                   /* jetl_auth */
	int flavor;                 /* jetl_flavor; AUTO detects via serverInfo */
	int concurrency;            /* requests in flight, ≥ 1 */
	int connect_timeout_ms;
	int request_timeout_ms;
	int max_attempts;           /* per request, including the first */
	jetl_log_cb log_cb;         /* may be NULL */
	void *log_userdata;
	int log_level;
} jl_jira_config;

/* Counters since the client was made (all requests of all calls). */
typedef struct jl_jira_stats {
	int64_t requests;           /* HTTP requests sent (retries included) */
	int64_t retries;
	int64_t rate_limited;       /* 429s received */
	int64_t server_errors;      /* 5xx received */
	int64_t bytes;              /* response bytes (decoded) */
	double wait_seconds;        /* time spent waiting on Retry-After/backoff */
} jl_jira_stats;

/* 1 when url is plain http:// to a host that is not loopback (127.0.0.0/8,
 * ::1, localhost): credentials sent there can be read on the network. Pure. */
int jl_url_cleartext_remote(const char *url);

/* Strings in cfg are copied. Contacts nobody. */
int jl_jira_new(jl_jira **out, const jl_jira_config *cfg, char *err, size_t errlen);
void jl_jira_free(jl_jira *j);
const char *jl_jira_error(const jl_jira *j);
void jl_jira_get_stats(const jl_jira *j, jl_jira_stats *out);

/* The flavor in use (detected on first need, or as configured). */
int jl_jira_flavor(jl_jira *j, int *flavor);

/* GET /myself → the user's time zone ("Asia/Shanghai"); caller frees *tz. */
int jl_jira_myself_tz(jl_jira *j, char **tz);

/* GET /field → array of field objects (caller decrefs). */
int jl_jira_fields(jl_jira *j, json_t **out);

/* Every visible project → array of {id, key, name, projectTypeKey} (caller decrefs). */
int jl_jira_projects(jl_jira *j, json_t **out);

/* GET /rest/api/2/serverInfo → the object (caller decrefs); both flavors. */
int jl_jira_server_info(jl_jira *j, json_t **out);

/* GET /myself → the object (caller decrefs). */
int jl_jira_myself(jl_jira *j, json_t **out);

/* GET /issuetype and GET /status → arrays as Jira answers them (caller decrefs). */
/* Server/DC's admin webhooks, /rest/webhooks/1.0/webhook[suffix]: method
 * "GET" (the list: an array), "POST" (body: the registration; the answer
 * is the webhook) or "DELETE" (suffix "/<id>"; *out NULL on 204). */
int jl_jira_webhooks(jl_jira *j, const char *method, const char *suffix, const char *body, json_t **out);
int jl_jira_issue_types(jl_jira *j, json_t **out);
int jl_jira_statuses(jl_jira *j, json_t **out);

/* How the last request failed below HTTP: "dns", "unreachable" (refused),
 * "timeout", "tls" (handshake or certificate), "network" (anything else),
 * or "" when it got an HTTP answer. Static string. */
const char *jl_jira_transport_class(const jl_jira *j);

/* What one extraction reads. Strings are borrowed for the call. */
typedef struct jl_jira_extract_req {
	const char *project_key;
	const char *jql_extra;      /* ANDed in parentheses; NULL = none; must pass
	                               jl_jql_check_extra (jl_jira_extract refuses it) */
	const char *updated_since;  /* JQL literal "yyyy/MM/dd HH:mm" already in the
	                               user's zone (see jl_tz_jql_date); NULL = all */
	const char *dev_field_id;   /* the Development field's id; NULL if unknown */
	int dev_status;             /* fetch dev status where the field says so */
	unsigned skip_items;        /* bits 1 << JL_PART_COMMENTS / _WORKLOGS: their lists are not
	                               read past the embedded page (0: every one is) */
	int census_all;             /* report every issue id of the project (deletions) */
	int batch_size;             /* issues per batch; ≤ 100 */
	int resume;                 /* list `updated` with the ids and skip what
	                               cb->known says is stored unchanged, even
	                               without updated_since (a run after one that
	                               stopped halfway: its issues are stored) */
	int64_t future_after_ms;    /* epoch ms: issues whose `updated` is later, by
	                               more than the run has lasted, are counted in
	                               their batch's n_future (0: not checked) */
} jl_jira_extract_req;

/* 0 when jql (the request's jql_extra; NULL or "" = none) can only narrow the
 * project once put in "project = K AND (jql)": parentheses balanced outside
 * quoted strings, every string closed, no backslash outside a string, no
 * ORDER BY, not blank. Else JETL_EINVAL with a one-line cause in err. Pure. */
int jl_jql_check_extra(const char *jql, char *err, size_t errlen);

/*
 * One finished batch, as the client holds it: its issues already as compact
 * JSON text (parsed one at a time as they came and dumped; their trees are
 * not kept), its completed logs and dev status as trees. Its raw-row text
 * (below) is written by jl_jira_batch_dump. Borrowed for the callback.
 */
typedef struct jl_jira_batch {
	size_t n_issues;
	size_t n_histories;         /* complete histories */
	int64_t max_updated_ms;     /* the highest `updated` of its issues (epoch ms); 0: none */
	const char *issues_text;    /* the issues, compact JSON separated by ',', no brackets */
	size_t issues_len;
	json_t *changelogs;         /* id → every history, oldest first */
	json_t *dev;                /* id → dev-status entry */
	json_t *items[2];           /* comments, worklogs: id → every item (issues whose page was cut) */
	size_t n_future;            /* issues dated in the future (req future_after_ms) */
} jl_jira_batch;

/* Write the batch's raw-row text through put (jansson's dump callback; any
 * split): exactly json_dumps(JSON_COMPACT) of {"issues": […], "changelogs":
 * …, "dev_status": …} with "comments" and "worklogs" after them when the
 * batch has some. Returns 0, or -1 when put failed. */
int jl_jira_batch_dump(const jl_jira_batch *b, json_dump_callback_t put, void *data);

typedef struct jl_jira_callbacks {
	/* Ids of every issue of the project (only with census_all), page by page. */
	int (*census)(void *ud, const char *const *ids, size_t n);
	/* One finished batch; jl_jira_batch_dump writes it in the raw layout
	 * (docs/design.md, 'raw_extraction_data'):
	 * {"issues": [as Jira returned them], "changelogs": {"<id>": [every history,
	 * oldest first]} (only for issues whose embedded log was capped),
	 * "dev_status": {"<id>": {"summary": …, "detail": […]}} (only where fetched)}.
	 * All three keys are always present (the last two may be {}).
	 * dev_status entries: "summary" is the /issue/summary answer verbatim
	 * ({errors, configErrors, summary}), or where the Development field held
	 * a fresh summary of every data type that summary in the same wrapping,
	 * with "summary_from": "field" (no request made); "detail" the /issue/detail answers
	 * verbatim ({errors, detail[]}), one per element of "detail_requests"
	 * ([{"applicationType": "GitHub", "dataType": "pullrequest"}, …], same
	 * order; a detail that answered 404 is null).
	 * Borrowed for the call. */
	int (*batch)(void *ud, const jl_jira_batch *b);
	/* Progress of a phase (jetl_phase); total 0 = unknown. */
	int (*progress)(void *ud, int phase, int64_t done, int64_t total);
	void *ud;
	/* Incremental Cloud selections only (updated_since set): one page of
	 * candidate ids with their `updated` text; set skip[i] = 1 for each issue
	 * already stored with exactly that `updated` (the overlap window re-reads
	 * them), so its body is never fetched. May be NULL. */
	int (*known)(void *ud, const char *const *ids, const char *const *updated, size_t n,
		unsigned char *skip);
} jl_jira_callbacks;

/*
 * Stream one project's issues. Batches arrive in order, each complete. Any
 * callback returning non-zero stops the run: JETL_ECANCELLED. Memory stays
 * bounded by a few batches (~2.5 MB of issue text each, see issues.c)
 * whatever the project's size, plus about two census pages of ids and a
 * seen-set of about a bit per issue id.
 * Errors: JETL_EAUTH (401), JETL_EFORBIDDEN (403; on dev status the message
 * names VIEW_DEV_TOOLS), JETL_ENOTFOUND, JETL_EGONE (410, never retried),
 * JETL_ERATELIMIT / JETL_EHTTP / JETL_ENETWORK / JETL_ETIMEOUT after
 * cfg.max_attempts, JETL_EPROTOCOL (HTML or invalid JSON after retries, a
 * repeated nextPageToken, a page that shrinks for good, an incomplete log).
 * A dev-status API that answers 404 (no plugin) is logged once and skipped.
 * Environment (tests): JETL_JIRA_BACKOFF_MS sets the backoff base (default
 * 2000 ms, doubling, capped at 16× or 30 s, jitter ×0.7–1.3);
 * JETL_JIRA_ID_PAGE the ids asked per census page (default 5000);
 * JETL_JIRA_TRACE a file to append a line to per request started ("S seq
 * prio in-flight method path") and answered ("E seq http curlcode bytes"),
 * and per batch handed to cb->batch ("B seq issues" before, "b seq" after),
 * each after the monotonic time in seconds.
 */
int jl_jira_extract(jl_jira *j, const jl_jira_extract_req *req, const jl_jira_callbacks *cb);

/*
 * One turn of j's request engine that never waits: answers that came are
 * taken (the work they unlock is queued) and free slots get the next
 * requests. For a long cb->batch (storing a batch takes 0.1-0.2 s, during
 * which the 8 requests in flight finish and the slots sat idle): call it
 * every so often from inside the callback. Same thread as jl_jira_extract;
 * never from any other callback. Errors land on the run, as usual.
 */
void jl_jira_pump(jl_jira *j);

#endif
