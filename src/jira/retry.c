/* retry.c - Retry-After / X-RateLimit-Reset parsing, backoff, URL joining (pure:
 * libcurl's date and URL parsers do no I/O). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "retry.h"
#include "tz.h"

int jl_retry_after_parse(const char *v, double now_epoch, double *seconds)
{
	char *end;
	double d;

	if (!v || !seconds)
		return -1;
	while (isspace((unsigned char)*v))
		v++;
	if (isdigit((unsigned char)*v)) {
		d = strtod(v, &end);
		while (isspace((unsigned char)*end))
			end++;
		if (*end || !isfinite(d) || d < 0)
			return -1;
		*seconds = d;
		return 0;
	}
	{
		/* An HTTP-date (IMF-fixdate, and the obsolete RFC 850 and asctime
		 * forms HTTP still allows): libcurl's parser reads them all. */
		time_t t = curl_getdate(v, NULL);

		if (t == (time_t)-1)
			return -1;
		d = (double)t - now_epoch;
		*seconds = d > 0 ? d : 0;
		return 0;
	}
}

int jl_ratelimit_reset_parse(const char *v, double now_epoch, double cap_s, double *seconds)
{
	int64_t ms;
	double d;

	if (!v || !seconds)
		return -1;
	while (isspace((unsigned char)*v))
		v++;
	/* Only ISO timestamps: a bare number here is ambiguous (epoch? delta?). */
	if (!strchr(v, 'T') || jl_jira_time_parse(v, &ms, NULL) != 0)
		return -1;
	d = (double)ms / 1000.0 - now_epoch;
	if (d < 0)
		d = 0;
	if (d > cap_s)
		d = cap_s;
	*seconds = d;
	return 0;
}

double jl_backoff_delay(int attempt, double base_s, double cap_s, double u)
{
	double d = base_s;

	if (attempt < 1)
		attempt = 1;
	for (int i = 1; i < attempt && d < cap_s; i++)
		d *= 2;
	if (d > cap_s)
		d = cap_s;
	if (u < 0)
		u = 0;
	if (u >= 1)
		u = 0.999999;
	return d * (0.7 + 0.6 * u);
}

int jl_http_status_retriable(long status)
{
	return status == 429 || (status >= 500 && status <= 599 && status != 501 && status != 505);
}

/* Append s (n bytes) to the growing string *out; -1 on OOM (freed). */
static int cat(char **out, size_t *len, const char *s, size_t n)
{
	char *p = realloc(*out, *len + n + 1);

	if (!p) {
		free(*out);
		*out = NULL;
		return -1;
	}
	memcpy(p + *len, s, n);
	*len += n;
	p[*len] = '\0';
	*out = p;
	return 0;
}

/*
 * libcurl's URL API parses the base (scheme, host, port, path, query) and
 * puts the parts back; joining the paths stays ours because a relative
 * reference resolved by RFC 3986 would replace the base path's last segment
 * (https://x/jira + rest/api → https://x/rest/api). A query on the base is
 * kept before the request's own parameters: a base of http://h:1/?x=1 gave
 * "http://h:1/?x=1/rest/api/3/myself" by string joining, which Jira answers 404.
 */
char *jl_url_join(const char *base, const char *path)
{
	CURLU *u;
	char *bpath = NULL, *bquery = NULL, *npath = NULL, *nquery = NULL, *url = NULL;
	const char *q;
	size_t bl, nl = 0, ql = 0;

	if (!base || !path || !(u = curl_url()))
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &bpath, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_QUERY, &bquery, 0) != CURLUE_OK)
		bquery = NULL;
	while (*path == '/')
		path++;
	q = strchr(path, '?');
	bl = strlen(bpath);
	while (bl > 0 && bpath[bl - 1] == '/')
		bl--;
	if (cat(&npath, &nl, bpath, bl) < 0 || cat(&npath, &nl, "/", 1) < 0 ||
	    cat(&npath, &nl, path, q ? (size_t)(q - path) : strlen(path)) < 0)
		goto out;
	if (bquery && *bquery && cat(&nquery, &ql, bquery, strlen(bquery)) < 0)
		goto out;
	if (q && q[1] && ((ql && cat(&nquery, &ql, "&", 1) < 0) || cat(&nquery, &ql, q + 1, strlen(q + 1)) < 0))
		goto out;
	if (curl_url_set(u, CURLUPART_PATH, npath, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, nquery, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
		url = NULL;
out:
	curl_free(bpath);
	curl_free(bquery);
	free(npath);
	free(nquery);
	curl_url_cleanup(u);
	/* curl_free()d strings are malloc'd by libcurl's default allocator, but
	 * callers free() what this returns: hand them a copy. */
	if (url) {
		char *copy = strdup(url);

		curl_free(url);
		return copy;
	}
	return NULL;
}
