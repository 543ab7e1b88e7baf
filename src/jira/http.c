/*
 * http.c - the request engine: one curl multi handle, reused easy handles,
 * bounded in-flight requests paced by the site's budget (X-RateLimit-*) and
 * by AIMD on 429s our pace caused, retries with Retry-After /
 * X-RateLimit-Reset or backoff with jitter, and the mapping of answers to
 * jetl statuses with one-line messages that name the endpoint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../core/jspan.h"
#include "../core/utf8fix.h"
#include "../core/util.h"
#include "jetl/version.h"
#include "internal.h"
#include "retry.h"

jl_req *jl_req_new(const char *method, char *path, char *body)
{
	jl_req *r = calloc(1, sizeof(*r));

	if (!r || !path) {
		free(path);
		free(body);
		free(r);
		return NULL;
	}
	r->method = method;
	r->path = path;
	r->body = body;
	r->retry_after = r->reset_wait = -1;
	r->rl_remaining = r->rl_limit = -1;
	return r;
}

void jl_req_free(jl_req *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->body);
	jl_buf_free(&r->resp);
	json_decref(r->json);
	if (r->ud2_free && r->ud2)
		r->ud2_free(r->ud2);
	free(r);
}

char *jl_strdupf(const char *fmt, ...)
{
	jl_buf b = JL_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	jl_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (b.oom) {
		jl_buf_free(&b);
		return NULL;
	}
	return jl_buf_detach(&b);
}

char *jl_urlencode(const char *s)
{
	jl_buf b = JL_BUF_INIT;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			jl_buf_putc(&b, (char)c);
		else
			jl_buf_printf(&b, "%%%02X", c);
	}
	if (b.oom) {
		jl_buf_free(&b);
		return NULL;
	}
	return jl_buf_detach(&b);
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void jl_http_trace(jl_jira *j, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!j->trace)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(j->trace, "%.6f %s\n", jl_now(), line);
}

static double rnd(jl_jira *j)
{
	/* xorshift64*: jitter only, not security */
	j->rng ^= j->rng >> 12;
	j->rng ^= j->rng << 25;
	j->rng ^= j->rng >> 27;
	return (double)((j->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	jl_req *r = ud;

	if (jl_buf_put(&r->resp, p, sz * n) < 0)
		return 0; /* curl reports CURLE_WRITE_ERROR */
	return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	jl_req *r = ud;
	size_t len = sz * n, nl;
	char val[128];
	const char *colon;

	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		/* a new header block (after a 100 Continue, say) */
		r->retry_after = r->reset_wait = -1;
		r->rl_remaining = r->rl_limit = -1;
		r->rl_reason = 0;
		r->ctype[0] = '\0';
		return len;
	}
	colon = memchr(p, ':', len);
	if (!colon)
		return len;
	nl = (size_t)(colon - p);
	{
		const char *v = colon + 1;
		size_t vl = len - nl - 1;

		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		if (vl >= sizeof(val))
			vl = sizeof(val) - 1;
		memcpy(val, v, vl);
		val[vl] = '\0';
	}
	if (nl == 11 && !strncasecmp(p, "Retry-After", 11)) {
		double s;

		if (jl_retry_after_parse(val, wall_now(), &s) == 0)
			r->retry_after = s;
	} else if (nl == 17 && !strncasecmp(p, "X-RateLimit-Reset", 17)) {
		double s;

		if (jl_ratelimit_reset_parse(val, wall_now(), 300, &s) == 0)
			r->reset_wait = s;
	} else if (nl == 21 && !strncasecmp(p, "X-RateLimit-Remaining", 21)) {
		r->rl_remaining = val[0] >= '0' && val[0] <= '9' ? atoi(val) : -1;
	} else if (nl == 17 && !strncasecmp(p, "X-RateLimit-Limit", 17)) {
		r->rl_limit = val[0] >= '0' && val[0] <= '9' ? atoi(val) : -1;
	} else if (nl == 16 && !strncasecmp(p, "RateLimit-Reason", 16)) {
		r->rl_reason = 1;
	} else if (nl == 12 && !strncasecmp(p, "Content-Type", 12)) {
		snprintf(r->ctype, sizeof(r->ctype), "%.95s", val);
	}
	return len;
}

int jl_http_init(jl_jira *j)
{
	j->multi = curl_multi_init();
	if (!j->multi)
		return JETL_ENOMEM;
	curl_multi_setopt(j->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)j->cfg.concurrency);
	curl_multi_setopt(j->multi, CURLMOPT_MAXCONNECTS, (long)j->cfg.concurrency * 2);
	j->limit = j->cfg.concurrency;
	j->rng = (uint64_t)(jl_now() * 1e9) ^ (uint64_t)(uintptr_t)j ^ 0x9E3779B97F4A7C15ULL;
	if (!j->rng)
		j->rng = 1;
	return 0;
}

void jl_http_cleanup(jl_jira *j)
{
	jl_http_abort(j);
	for (int i = 0; i < j->npool; i++)
		curl_easy_cleanup(j->pool[i]);
	free(j->pool);
	j->pool = NULL;
	j->npool = j->cappool = 0;
	if (j->multi)
		curl_multi_cleanup(j->multi);
	j->multi = NULL;
}

static void pending_insert(jl_jira *j, jl_req *r)
{
	jl_req **pp = &j->pending;

	while (*pp && ((*pp)->prio < r->prio || ((*pp)->prio == r->prio && (*pp)->seq < r->seq)))
		pp = &(*pp)->next;
	r->next = *pp;
	*pp = r;
}

void jl_http_submit(jl_jira *j, jl_req *r)
{
	r->seq = j->seq++;
	r->not_before = 0;
	pending_insert(j, r);
}

static const char *path_only(const jl_req *r, char *buf, size_t n)
{
	const char *q = strchr(r->path, '?');
	size_t len = q ? (size_t)(q - r->path) : strlen(r->path);

	if (len >= n)
		len = n - 1;
	memcpy(buf, r->path, len);
	buf[len] = '\0';
	return buf;
}

static void finish(jl_jira *j, jl_req *r)
{
	r->done(j, r);
}

static void fail_now(jl_jira *j, jl_req *r, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void fail_now(jl_jira *j, jl_req *r, int rc, const char *fmt, ...)
{
	va_list ap;
	char tmp[400];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	jl_one_line(r->err, sizeof(r->err), tmp);
	r->rc = rc;
	(void)j;
}

static int start(jl_jira *j, jl_req *r)
{
	CURL *e = j->npool ? j->pool[--j->npool] : curl_easy_init();
	char *url;

	if (!e)
		return JETL_ENOMEM;
	curl_easy_reset(e);
	url = jl_url_join(j->base_url, r->path);
	if (!url) {
		curl_easy_cleanup(e);
		return JETL_ENOMEM;
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->headers);
	jl_jira_handle_auth(j, e);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* gzip/deflate/br as built */
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)j->cfg.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)j->cfg.request_timeout_ms);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "jetl/" JETL_VERSION_STRING);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect is a login page, not data */
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	/* a handle from the pool may have run a DELETE: every request says its own */
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, !strcmp(r->method, "DELETE") ? "DELETE" : NULL);
	if (!strcmp(r->method, "POST")) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(r->body ? strlen(r->body) : 0));
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
	jl_buf_clear(&r->resp);
	json_decref(r->json);
	r->json = NULL;
	r->http = 0;
	r->retry_after = r->reset_wait = -1;
	r->rl_remaining = r->rl_limit = -1;
	r->rl_reason = 0;
	r->ctype[0] = '\0';
	r->rc = 0;
	r->err[0] = '\0';
	r->attempts++;
	r->easy = e;
	r->started = jl_now();
	if (j->rate > 0)
		j->next_start = (j->next_start > r->started ? j->next_start : r->started) + 1.0 / j->rate;
	if (curl_multi_add_handle(j->multi, e) != CURLM_OK) {
		r->easy = NULL;
		curl_easy_cleanup(e);
		return JETL_ERROR;
	}
	r->next = j->running;
	j->running = r;
	j->active++;
	j->stats.requests++;
	jl_http_trace(j, "S %lld %lld %d %s %.200s", (long long)r->seq, (long long)r->prio, j->active, r->method,
		      r->path);
	return 0;
}

static void start_ready(jl_jira *j)
{
	double now = jl_now();

	while (j->pending && j->active < (int)j->limit && now >= j->pause_until &&
	       (j->rate <= 0 || now >= j->next_start)) {
		jl_req **pp = &j->pending, *r;
		int rc;

		while (*pp && (*pp)->not_before > now)
			pp = &(*pp)->next;
		if (!*pp)
			break;
		r = *pp;
		*pp = r->next;
		r->next = NULL;
		rc = start(j, r);
		if (rc) {
			fail_now(j, r, rc, "jira: cannot start %s %s", r->method, r->path);
			finish(j, r);
		}
	}
}

static int curl_retriable(CURLcode c)
{
	switch (c) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_LOGIN_DENIED:
	case CURLE_WRITE_ERROR: /* out of memory on our side */
	case CURLE_OUT_OF_MEMORY:
	case CURLE_TOO_MANY_REDIRECTS:
		return 0;
	default:
		return 1;
	}
}

/* Nothing at the URL takes the connection: refused, a name that does not
 * resolve, a TLS handshake or certificate that fails. */
static int cannot_connect(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return 1;
	default:
		return 0;
	}
}

/*
 * A request that got no answer. Retried (network blips, a restarting
 * proxy) unless libcurl says retrying cannot help, or unless nothing at this
 * URL has answered yet and it could not even connect: a wrong URL, a host
 * that is down, a TLS setup that does not match fail the run at once with
 * the cause, instead of after six tries and a minute of backoff. A Jira
 * that answered before gets the retries.
 */
static int no_answer(jl_jira *j, jl_req *r, CURLcode res, long oserr, const char *path)
{
	char cause[160];

	if (oserr > 0)
		snprintf(cause, sizeof(cause), "%s (%s)", curl_easy_strerror(res), strerror((int)oserr));
	else
		snprintf(cause, sizeof(cause), "%s", curl_easy_strerror(res));
	if (!j->answered && cannot_connect(res)) {
		fail_now(j, r, JETL_ENETWORK, "jira: cannot reach Jira: %s on %s %s; nothing has answered at "
			 "this URL, so not retried: check the Jira URL, the host's name and TLS", cause,
			 r->method, path);
		return 0;
	}
	fail_now(j, r, res == CURLE_OPERATION_TIMEDOUT ? JETL_ETIMEOUT : JETL_ENETWORK,
		 "jira: %s on %s %s", cause, r->method, path);
	return curl_retriable(res);
}

static int is_json_answer(const jl_req *r)
{
	const char *p = r->resp.data;
	size_t n = r->resp.len;

	while (n && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++, n--;
	if (r->ctype[0] && strcasestr(r->ctype, "json"))
		return 1;
	/* no content type at all but a JSON-looking body: accept; HTML is never JSON */
	return !r->ctype[0] && n && (*p == '{' || *p == '[');
}

/* An HTML page where JSON was due: a proxy's error page or an SSO login page
 * (by content type, or by a body that opens with a tag whatever the label). */
static int is_html_answer(const jl_req *r)
{
	const char *p = r->resp.data;
	size_t n = r->resp.len;

	if (r->ctype[0] && strcasestr(r->ctype, "html"))
		return 1;
	while (n && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++, n--;
	return n && *p == '<';
}

/*
 * The body of a 2xx answer as JSON. A body no parser takes because of bad
 * bytes (invalid UTF-8, an unpaired surrogate escape: a truncated emoji in
 * an issue's text) gets them replaced with U+FFFD and is parsed again, with
 * a warning: the same bytes come back on every try, and refusing them failed
 * the project on every run. Only tried after a failed parse, so a good body
 * costs nothing more. NULL with jerr set when it is not JSON even so.
 */
static json_t *parse_answer(jl_jira *j, const jl_req *r, const char *path, json_error_t *jerr)
{
	json_t *doc = json_loadb(r->resp.data ? r->resp.data : "", r->resp.len, JSON_ALLOW_NUL, jerr);
	jl_buf fixed = JL_BUF_INIT;
	json_error_t e2;
	long n;

	if (doc || !r->resp.len)
		return doc;
	n = jl_utf8_json_repair(r->resp.data, r->resp.len, &fixed);
	if (n > 0 && (doc = json_loadb(fixed.data, fixed.len, JSON_ALLOW_NUL, &e2)) != NULL)
		jl_jira_log(j, JETL_LOG_WARNING, "jira: %s %s: %ld invalid UTF-8 byte(s) or unpaired "
			"surrogate(s) replaced with U+FFFD", r->method, path, n);
	jl_buf_free(&fixed);
	return doc;
}

/* The first of Jira's errorMessages / errors values, for the message. */
static void jira_message(const jl_req *r, char *out, size_t n)
{
	json_t *doc;
	json_t *em, *v;
	const char *k;

	out[0] = '\0';
	if (!r->resp.len || !is_json_answer(r))
		return;
	doc = json_loadb(r->resp.data, r->resp.len, JSON_ALLOW_NUL, NULL);
	if (!doc)
		return;
	em = json_object_get(doc, "errorMessages");
	if (json_is_array(em) && json_array_size(em) && json_is_string(json_array_get(em, 0)))
		snprintf(out, n, "%s", json_string_value(json_array_get(em, 0)));
	else
		json_object_foreach(json_object_get(doc, "errors"), k, v) {
			if (json_is_string(v)) {
				snprintf(out, n, "%s: %s", k, json_string_value(v));
				break;
			}
		}
	json_decref(doc);
}

static const char *hint_for(long code)
{
	switch (code) {
	case 401: return "check the user and token";
	case 403: return "the user lacks permission";
	case 404: return "not found";
	case 410: return "the endpoint was removed";
	default: return NULL;
	}
}

static int status_for(long code)
{
	switch (code) {
	case 401: return JETL_EAUTH;
	case 403: return JETL_EFORBIDDEN;
	case 404: return JETL_ENOTFOUND;
	case 410: return JETL_EGONE;
	case 429: return JETL_ERATELIMIT;
	default: return JETL_EHTTP;
	}
}

/*
 * Pacing (docs/jira.md, 'Rate limits'). Two kinds of 429 call for opposite
 * answers:
 * - rate-based: our own pace spent the site's budget. Every request would
 *   meet the same wall, so everything waits for Retry-After and the pace is
 *   cut. Told by RateLimit-Reason, by X-RateLimit-Remaining at 0, or by 429s
 *   coming thick (rate_based_429: most of the last answers), as they do right
 *   after a burst of ours.
 * - not ours: another client of the tenant spent the quota, a gateway sheds
 *   load. Only that request waits its Retry-After; slowing the whole client
 *   would not make the next answer a 200 any sooner, only the run longer.
 * Where the site tells its budget (X-RateLimit-Limit/Remaining on answers
 * that got through) the pace follows it before any 429: budget_note()
 * estimates the refill from the answers and keeps a reserve of tokens.
 */
#define JL_RECENT 16    /* answers looked back on to call 429s thick */
#define JL_QUIET 2.0    /* seconds without a rate-based 429 before the limits come back */

/* recent429[]: 0 an answer, 1 a 429, 2 another retriable failure (5xx, network) */
static void note_outcome(jl_jira *j, int kind)
{
	j->recent429[j->nrecent++ % JL_RECENT] = (unsigned char)kind;
}

/* Few of the recent answers failed (429s aside, which say nothing of the
 * site's health): a failure now is a blip of one request, not a site in
 * trouble, and its first retries need not wait as long. */
static int site_healthy(const jl_jira *j)
{
	unsigned n = j->nrecent < JL_RECENT ? j->nrecent : JL_RECENT, bad = 0;

	for (unsigned k = 0; k < n; k++)
		bad += j->recent429[k] == 2;
	return n >= 8 && bad * 4 < n;
}

static int rate_based_429(const jl_jira *j, const jl_req *r)
{
	unsigned n = j->nrecent < JL_RECENT ? j->nrecent : JL_RECENT, thick = 0;

	if (r->rl_reason || r->rl_remaining == 0)
		return 1;
	for (unsigned k = 0; k < n; k++)
		thick += j->recent429[k] == 1;
	/* random 429s at 15 % give ~2 in 16; a spent budget answers most requests 429 */
	return n >= 8 && thick * 2 > n;
}

/* The refill rate from two samples a second or more apart: tokens that came
 * back = what Remaining rose + what the answers between them spent. */
static double budget_refill(const jl_jira *j, double now)
{
	unsigned n = j->nbud < 32 ? j->nbud : 32;
	const struct jl_budget_sample *last = &j->bud[(j->nbud - 1) % 32], *old = NULL;

	for (unsigned k = 0; k < n; k++) {
		const struct jl_budget_sample *b = &j->bud[(j->nbud - 1 - k) % 32];

		if (now - b->t > 4.0)
			break;
		if (last->t - b->t >= 1.0)
			old = b;
	}
	if (!old)
		return 0;
	return ((double)(last->remaining - old->remaining) + (double)(last->used - old->used)) / (last->t - old->t);
}

static void budget_note(jl_jira *j, const jl_req *r, double now)
{
	double refill, reserve, rem, want;

	if (r->rl_remaining < 0 || r->rl_limit <= 0)
		return;
	j->bud_limit = r->rl_limit;
	j->bud_seen = now;
	if (!r->rl_reason)
		j->bud_used++; /* an answer that got through spent one token */
	j->bud[j->nbud % 32] = (struct jl_budget_sample){ now, r->rl_remaining, j->bud_used };
	/* one sample per 100 ms is enough for a rate; keeps the ring spanning seconds */
	if (j->nbud == 0 || now - j->bud[(j->nbud - 1) % 32].t >= 0.1)
		j->nbud++;
	if ((refill = budget_refill(j, now)) > 0)
		j->bud_refill = j->bud_refill > 0 ? 0.7 * j->bud_refill + 0.3 * refill : refill;
	/* what is left once the requests already in flight have spent theirs */
	rem = (double)r->rl_remaining - j->active;
	/* A small reserve: the tokens above it are what a stall of ours (a batch
	 * boundary) can bank before the bucket is full and its refill is lost. */
	reserve = 0.1 * r->rl_limit;
	if (reserve < 2)
		reserve = 2;
	if (reserve > j->cfg.concurrency)
		reserve = j->cfg.concurrency;
	if (rem >= reserve + j->cfg.concurrency) {
		j->rate = 0; /* plenty left: no pace */
		return;
	}
	if (j->bud_refill <= 0)
		return; /* not known yet: the 429 path still guards */
	/* the refill, plus or minus what is above or below the reserve, over a second */
	want = j->bud_refill + (rem - reserve);
	if (want < 0.25 * j->bud_refill)
		want = 0.25 * j->bud_refill;
	j->rate = want < 0.5 ? 0.5 : want;
	j->limit = j->cfg.concurrency; /* the pace governs, not the in-flight cap */
}

static int budget_known(const jl_jira *j, double now)
{
	return j->bud_limit > 0 && j->bud_refill > 0 && now - j->bud_seen < 5.0;
}

/* A success: additive increase, and the limits back at once after a quiet spell. */
static void pace_success(jl_jira *j, double now)
{
	j->oks[j->noks++ % 256] = now;
	if (budget_known(j, now))
		return; /* budget_note() set the pace */
	if (now - j->last_cut > JL_QUIET) {
		j->rate = 0;
		j->limit = j->cfg.concurrency;
		return;
	}
	/* about one more slot per window of successes, and about +2 requests/s per
	 * second on the pace, unpaced past 1000/s */
	if (j->rate > 0) {
		j->rate += 2.0 / j->rate;
		if (j->rate > 1000)
			j->rate = 0;
	}
	if (j->limit < j->cfg.concurrency) {
		j->limit += 1.0 / j->limit;
		if (j->limit > j->cfg.concurrency)
			j->limit = j->cfg.concurrency;
	}
}

/* A rate-based 429: multiplicative decrease, once per window. */
static void pace_cut(jl_jira *j, const jl_req *r, double now)
{
	double from = now - 2.0, first = now, target;
	unsigned n = 0;

	/* only a request sent after the last cut tells us the new pace is still too fast */
	if (r->started < j->last_cut)
		return;
	j->last_cut = now;
	if (budget_known(j, now)) {
		/* the site told us its refill: pace at it, a little under */
		j->rate = 0.9 * j->bud_refill < 0.5 ? 0.5 : 0.9 * j->bud_refill;
		jl_jira_log(j, JETL_LOG_INFO, "jira: rate limited; pacing at the site's %.1f requests/s", j->rate);
		return;
	}
	for (unsigned k = 0; k < 256 && k < j->noks; k++)
		if (j->oks[k] >= from) {
			n++;
			if (j->oks[k] < first)
				first = j->oks[k];
		}
	/* what got through while we were too fast is the server's pace; both the
	 * in-flight limit and the start rate halve (on a fast link one request in
	 * flight can still outrun a burst limit) */
	target = 0.85 * n / (now - first > 0.25 ? now - first : 0.25);
	if (j->rate > 0 && target >= j->rate)
		target = j->rate / 2; /* already below that: someone else shares the budget */
	j->rate = target < 0.5 ? 0.5 : target;
	j->limit = j->limit / 2 < 1 ? 1 : j->limit / 2;
	jl_jira_log(j, JETL_LOG_INFO, "jira: rate limited; pacing at %.1f requests/s, %d in flight", j->rate,
		    (int)j->limit);
}

/*
 * Queue a failed request again if its budget allows: 1 when it was (the
 * caller is done with it), 0 when it has run out (its message says after how
 * many attempts). wait < 0: the backoff. ours: a rate-based 429, which holds
 * every request until the budget refills; anything else holds this one only.
 */
static int retry_later(jl_jira *j, jl_req *r, long code, double wait, int ours, double now)
{
	int max = j->cfg.max_attempts;
	/* 429s are the server pacing us, not failures: they get their own, larger budget */
	int faults = r->attempts - r->limited - (code == 429);
	int ok = code == 429 ? r->limited + 1 < max * 4 : faults < max;
	char tmp[400];

	if (!ok) {
		snprintf(tmp, sizeof(tmp), "%.360s after %d attempts", r->err, r->attempts);
		jl_one_line(r->err, sizeof(r->err), tmp);
		return 0;
	}
	if (code == 429)
		r->limited++;
	if (wait < 0)
		/* a lone 5xx or reset among good answers: retried after a quarter
		 * of the backoff (0.5 s, 1 s, …) rather than 2 s, 4 s, 8 s */
		wait = jl_backoff_delay(code == 429 ? r->limited : faults,
					code != 429 && site_healthy(j) ? j->backoff_base / 4 : j->backoff_base,
					j->backoff_cap, rnd(j));
	if (code == 429 && ours) {
		/* the budget is spent for everyone: nothing starts before it refills */
		double until = now + wait;

		if (until > j->pause_until) {
			j->stats.wait_seconds += until - (j->pause_until > now ? j->pause_until : now);
			j->pause_until = until;
		}
	} else {
		j->stats.wait_seconds += wait; /* this request alone waits */
	}
	jl_jira_log(j, JETL_LOG_DEBUG, "%s; retrying in %.2f s (attempt %d)", r->err, wait, r->attempts + 1);
	j->stats.retries++;
	r->not_before = now + wait;
	pending_insert(j, r);
	return 1;
}

/* A finished handle back: off the multi handle and the running list, into
 * the pool (or cleaned up); its request, with the HTTP status in *code. */
static jl_req *take_back(jl_jira *j, CURL *e, long *code)
{
	jl_req *r = NULL, **pp;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, code);
	curl_multi_remove_handle(j->multi, e);
	for (pp = &j->running; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	r->next = NULL;
	r->easy = NULL;
	j->active--;
	if (j->npool < j->cappool)
		j->pool[j->npool++] = e;
	else
		curl_easy_cleanup(e);
	return r;
}

/* A 2xx: the body must be JSON (r->json) or the request fails, retriable
 * (a proxy's page or a truncated body may pass on another try; a login
 * page that stays ends as EPROTOCOL). Returns whether to retry. */
static const char *skip_member(void *ud, const jl_jspan *key, const char *v, const char *e)
{
	(void)ud;
	(void)key;
	return jl_jscan_value(v, e);
}

/* JL_REQ_TEXT: the body is one object as far as its structure goes, with
 * plain keys (a pass of ~3 ms per 2.4 MB page where parsing it takes ~60
 * times as long). A truncated or cut body fails here, so it is retried as
 * before. */
static int text_scans(const jl_req *r)
{
	return r->resp.len && jl_jscan_members(r->resp.data, r->resp.len, skip_member, NULL) == 0;
}

static int check_body(jl_jira *j, jl_req *r, const char *path, long code, double now)
{
	json_error_t jerr;

	if (code == 204) {      /* No Content (a webhook removed): nothing to parse, *out stays NULL */
		pace_success(j, now);
		return 0;
	}

	if (!is_json_answer(r)) {
		fail_now(j, r, JETL_EPROTOCOL, "jira: %s %s answered %s (%s, HTTP %ld), not JSON",
			 r->method, path, is_html_answer(r) ? "an HTML page" : "a body",
			 r->ctype[0] ? r->ctype : "no content type", code);
		return 1;
	}
	if ((r->flags & JL_REQ_TEXT) && text_scans(r)) {
		pace_success(j, now);
		return 0;
	}
	if (!(r->json = parse_answer(j, r, path, &jerr))) {
		if (is_html_answer(r)) /* labelled JSON, but a page all the same */
			fail_now(j, r, JETL_EPROTOCOL, "jira: %s %s answered an HTML page (%s, HTTP %ld), not JSON",
				 r->method, path, r->ctype, code);
		else
			fail_now(j, r, JETL_EPROTOCOL, "jira: invalid JSON from %s %s (%s at byte %d)",
				 r->method, path, jerr.text, jerr.position);
		return 1;
	}
	pace_success(j, now);
	return 0;
}

/* Any other status than 2xx and 429: the failure named (with Jira's own
 * message and a hint), whether to retry and after how long (*wait). */
static int http_failure(jl_jira *j, jl_req *r, const char *path, long code, double *wait)
{
	const char *hint = hint_for(code);
	char jmsg[200];
	int retry;

	if (code >= 500)
		j->stats.server_errors++;
	retry = jl_http_status_retriable(code);
	if (retry && r->retry_after >= 0)
		*wait = r->retry_after;
	jira_message(r, jmsg, sizeof(jmsg));
	if (!code)
		fail_now(j, r, JETL_EPROTOCOL, "jira: no HTTP status from %s %s", r->method, path);
	else
		fail_now(j, r, status_for(code), "jira: HTTP %ld on %s %s%s%s%s%s", code, r->method, path,
			 hint ? ": " : "", hint ? hint : "", jmsg[0] ? ": " : "", jmsg);
	return retry;
}

static void complete(jl_jira *j, CURL *e, CURLcode res)
{
	double now = jl_now(), wait = -1;
	char path[256];
	int retry = 0, ours = 0;
	long code = 0, oserr = 0;
	jl_req *r;

	curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &oserr);   /* before the handle may be reused */
	r = take_back(j, e, &code);
	r->http = code;
	j->last_curl = (int)res;
	if (res == CURLE_OK)
		j->answered = 1;
	note_outcome(j, res != CURLE_OK || code >= 500 ? 2 : code == 429);
	if (res == CURLE_OK)
		budget_note(j, r, now);
	j->stats.bytes += (int64_t)r->resp.len;
	jl_http_trace(j, "E %lld %ld %d %zu", (long long)r->seq, code, (int)res, r->resp.len);
	path_only(r, path, sizeof(path));
	if (res != CURLE_OK) {
		retry = no_answer(j, r, res, oserr, path);
	} else if (code >= 200 && code < 300) {
		retry = check_body(j, r, path, code, now);
	} else if (code == 429) {
		j->stats.rate_limited++;
		retry = 1;
		wait = r->retry_after;
		if (r->reset_wait > wait)
			wait = r->reset_wait;
		ours = rate_based_429(j, r);
		if (ours)
			pace_cut(j, r, now);
		fail_now(j, r, JETL_ERATELIMIT, "jira: HTTP 429 on %s %s", r->method, path);
	} else {
		retry = http_failure(j, r, path, code, &wait);
	}
	if (r->rc && retry && retry_later(j, r, code, wait, ours, now))
		return;
	if (r->rc && !(r->rc == JETL_ENOTFOUND && (r->flags & JL_REQ_ALLOW_404)))
		jl_jira_log(j, JETL_LOG_DEBUG, "%s", r->err);
	finish(j, r);
}

static void drain(jl_jira *j)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(j->multi, &left))) {
		if (m->msg == CURLMSG_DONE) {
			CURL *e = m->easy_handle;
			CURLcode res = m->data.result;

			complete(j, e, res);
		}
	}
}

int jl_http_step(jl_jira *j)
{
	int running = 0, n = 0;
	long timeout;
	double now;

	start_ready(j);
	curl_multi_perform(j->multi, &running);
	drain(j);
	start_ready(j);
	if (!j->active && !j->pending)
		return 0;
	now = jl_now();
	if (j->active) {
		timeout = 100;
		if (j->pending && j->rate > 0 && j->active < (int)j->limit) {
			/* wake for the next paced start, not only for network activity */
			long t = (long)((j->next_start - now) * 1000) + 1;

			if (t < timeout)
				timeout = t < 0 ? 0 : t;
		}
	} else {
		double next = 1e18;

		for (jl_req *r = j->pending; r; r = r->next)
			if (r->not_before < next)
				next = r->not_before;
		if (j->pause_until > next)
			next = j->pause_until;
		if (j->rate > 0 && j->next_start > next)
			next = j->next_start;
		timeout = (long)((next - now) * 1000) + 1;
		if (timeout > 1000)
			timeout = 1000;
		if (timeout < 0)
			timeout = 0;
	}
	curl_multi_poll(j->multi, NULL, 0, (int)timeout, NULL);
	curl_multi_perform(j->multi, &running);
	drain(j);
	start_ready(j);
	for (jl_req *r = j->pending; r; r = r->next)
		n++;
	return n + j->active;
}

void jl_jira_pump(jl_jira *j)
{
	int running = 0;

	if (!j || !j->multi)
		return;
	start_ready(j);
	curl_multi_perform(j->multi, &running);
	drain(j);
	start_ready(j);
}

int jl_http_waiting(const jl_jira *j)
{
	double now = jl_now();
	int n = 0;

	for (const jl_req *r = j->pending; r; r = r->next)
		n += r->not_before > now;
	return n;
}

void jl_http_abort(jl_jira *j)
{
	while (j->pending) {
		jl_req *r = j->pending;

		j->pending = r->next;
		jl_req_free(r);
	}
	while (j->running) {
		jl_req *r = j->running;

		j->running = r->next;
		if (r->easy) {
			curl_multi_remove_handle(j->multi, r->easy);
			curl_easy_cleanup(r->easy);
		}
		jl_req_free(r);
		j->active--;
	}
	j->active = 0;
}

typedef struct call_state {
	int done;
	int rc;
	json_t *json;
} call_state;

static void call_done(jl_jira *j, jl_req *r)
{
	call_state *cs = r->ud;

	cs->done = 1;
	cs->rc = r->rc;
	if (r->rc) {
		jl_jira_fail(j, r->rc, "%s", r->err);
	} else {
		cs->json = r->json;
		r->json = NULL;
	}
	jl_req_free(r);
}

int jl_http_call(jl_jira *j, const char *method, char *path, char *body, json_t **out)
{
	call_state cs = { 0, 0, NULL };
	jl_req *r = jl_req_new(method, path, body);

	*out = NULL;
	if (!r)
		return jl_jira_fail(j, JETL_ENOMEM, "jira: out of memory");
	r->done = call_done;
	r->ud = &cs;
	r->prio = -1; /* ahead of any batch work */
	jl_http_submit(j, r);
	while (!cs.done)
		jl_http_step(j);
	*out = cs.json;
	return cs.rc;
}
