/* url.c - amqp URLs: parse into the parts rabbitmq-c wants, and show them
 * without the password.
 *
 * TLS settings ride in the URL's query, with the names of RabbitMQ's own
 * URI spec (cacertfile, certfile, keyfile, verify), so that one string set
 * anywhere a URL is taken (JETL_QUEUE, --queue, jetl_options.queue_url, a
 * config file, the bindings) carries them all, and a URL copied from a
 * RabbitMQ client's configuration works as it is. One more of jetl's own,
 * passwordfile=PATH, keeps the password out of the URL (and so out of a
 * configuration file, the environment and `ps`): the file's first line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amqp.h>

#include "jetl/common.h"
#include "queue_int.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %-decode in place; -1 on a broken escape. */
static int pct_decode(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '%') {
			int hi = hexval((unsigned char)s[1]), lo = hi < 0 ? -1 : hexval((unsigned char)s[2]);

			if (hi < 0 || lo < 0)
				return -1;
			*w++ = (char)(hi * 16 + lo);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return 0;
}

/* The query: key=value pairs split by '&' (or ';'). Values are never
 * repeated in a message except verify's: a path is harmless, but the rule
 * "no URL text in errors" is simpler to keep whole. */
static int parse_query(jl_queue_url *u, char *query, char *err, size_t errlen)
{
	char *save = NULL;

	for (char *kv = strtok_r(query, "&;", &save); kv; kv = strtok_r(NULL, "&;", &save)) {
		char *val = strchr(kv, '=');

		if (!val || val == kv) {
			snprintf(err, errlen, "queue: bad URL parameter: expected name=value after '?'");
			return JETL_ECONFIG;
		}
		*val++ = '\0';
		if (pct_decode(val) || !*val) {
			snprintf(err, errlen, "queue: URL parameter %.40s: %s", kv,
				*val ? "bad %-escape" : "empty value");
			return JETL_ECONFIG;
		}
		if (!strcmp(kv, "cacertfile")) {
			u->cacert = val;
		} else if (!strcmp(kv, "certfile")) {
			u->cert = val;
		} else if (!strcmp(kv, "keyfile")) {
			u->key = val;
		} else if (!strcmp(kv, "passwordfile")) {
			u->passfile = val;
		} else if (!strcmp(kv, "verify")) {
			if (!strcmp(val, "verify_peer")) {
				u->verify = 1;
			} else if (!strcmp(val, "verify_none")) {
				u->verify = 0;
			} else {
				snprintf(err, errlen, "queue: URL parameter verify must be verify_peer or verify_none");
				return JETL_ECONFIG;
			}
		} else {
			/* a misspelt security setting must not be ignored */
			snprintf(err, errlen, "queue: unknown URL parameter %.40s "
				"(known: cacertfile, certfile, keyfile, verify, passwordfile)", kv);
			return JETL_ECONFIG;
		}
	}
	if (!u->tls && (u->cacert || u->cert || u->key)) {
		snprintf(err, errlen, "queue: cacertfile, certfile and keyfile need an amqps:// URL");
		return JETL_ECONFIG;
	}
	if (u->key && !u->cert) {
		snprintf(err, errlen, "queue: keyfile without certfile (the client certificate)");
		return JETL_ECONFIG;
	}
	return JETL_OK;
}

/* amqp_parse_url makes "guest" of a missing password: only a ':' in the
 * userinfo (before the last '@' of the authority) tells one was given. */
static int has_password(const char *url)
{
	const char *p = strstr(url, "://"), *end, *at = NULL;

	if (!p)
		return 0;
	p += 3;
	end = p + strcspn(p, "/?#");
	for (const char *c = p; c < end; c++)
		if (*c == '@')
			at = c;
	return at && memchr(p, ':', (size_t)(at - p)) != NULL;
}

/* The first line of path, without its line end, into u->passbuf. */
static int read_password(jl_queue_url *u, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	size_t n;

	if (!f) {
		snprintf(err, errlen, "queue: cannot read the password file (passwordfile) %s: %s", path, strerror(errno));
		return JETL_ECONFIG;
	}
	if (!fgets(line, sizeof line, f))
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (!n) {
		snprintf(err, errlen, "queue: the password file (passwordfile) %s is empty", path);
		return JETL_ECONFIG;
	}
	u->passbuf = strdup(line);
	memset(line, 0, sizeof line);
	if (!u->passbuf) {
		snprintf(err, errlen, "queue: out of memory");
		return JETL_ENOMEM;
	}
	return JETL_OK;
}

int jl_queue_url_parse(jl_queue_url *u, const char *url, char *err, size_t errlen)
{
	struct amqp_connection_info ci;
	char *copy, *query;
	int rc = JETL_OK;

	memset(u, 0, sizeof *u);
	copy = strdup(url ? url : "");
	if (!copy) {
		snprintf(err, errlen, "queue: out of memory");
		return JETL_ENOMEM;
	}
	/* amqp_parse_url refuses a query: take it off first. A '?' cannot be
	 * in the userinfo unescaped, so the first one starts the query. */
	query = strchr(copy, '?');
	if (query)
		*query++ = '\0';
	/* amqp_parse_url decodes %-escapes in place and points into copy; the
	 * URL itself is never repeated in a message (it may hold a password). */
	if (amqp_parse_url(copy, &ci) != AMQP_STATUS_OK) {
		free(copy);
		snprintf(err, errlen, "queue: bad URL: expected amqp[s]://user:pass@host:port/vhost[?cacertfile=…]");
		return JETL_ECONFIG;
	}
	u->tls = ci.ssl;
	u->verify = 1;
	if (query && (rc = parse_query(u, query, err, errlen)) == JETL_OK && u->passfile) {
		if (has_password(url)) {
			snprintf(err, errlen, "queue: a password in the URL and a passwordfile: give one");
			rc = JETL_ECONFIG;
		} else {
			rc = read_password(u, u->passfile, err, errlen);
		}
	}
	if (query && rc) {
		free(copy);
		free(u->passbuf);
		memset(u, 0, sizeof *u);
		return rc;
	}
	u->buf = copy;
	u->host = ci.host;
	u->port = ci.port;
	u->vhost = ci.vhost && *ci.vhost ? ci.vhost : "/";
	u->user = ci.user;
	u->pass = u->passbuf ? u->passbuf : ci.password;
	snprintf(u->where, sizeof u->where, "%s:%d/%s", u->host, u->port,
		strcmp(u->vhost, "/") ? u->vhost : "%2f");
	return JETL_OK;
}

void jl_queue_url_free(jl_queue_url *u)
{
	if (u) {
		if (u->passbuf) {
			memset(u->passbuf, 0, strlen(u->passbuf));
			free(u->passbuf);
		}
		free(u->buf);
		memset(u, 0, sizeof *u);
	}
}

void jl_queue_url_redact(char *dst, size_t n, const char *url)
{
	const char *scheme, *at, *colon, *slash;

	if (!n)
		return;
	snprintf(dst, n, "%s", url ? url : "");
	if (!url || !(scheme = strstr(url, "://")))
		return;
	scheme += 3;
	slash = strchr(scheme, '/');
	/* the userinfo ends at the last '@' before the path */
	at = NULL;
	for (const char *p = scheme; *p && (!slash || p < slash); p++)
		if (*p == '@')
			at = p;
	if (!at)
		return;
	colon = memchr(scheme, ':', (size_t)(at - scheme));
	if (!colon)
		return;
	snprintf(dst, n, "%.*s***%s", (int)(colon + 1 - url), url, at);
}
