/* url.c - amqp URLs: parse into the parts rabbitmq-c wants, and show them
 * without the password. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amqp.h>

#include "jetl/common.h"
#include "queue_int.h"

int jl_queue_url_parse(jl_queue_url *u, const char *url, char *err, size_t errlen)
{
	struct amqp_connection_info ci;
	char *copy;

	memset(u, 0, sizeof *u);
	copy = strdup(url ? url : "");
	if (!copy) {
		snprintf(err, errlen, "queue: out of memory");
		return JETL_ENOMEM;
	}
	/* amqp_parse_url decodes %-escapes in place and points into copy; the
	 * URL itself is never repeated in a message (it may hold a password). */
	if (amqp_parse_url(copy, &ci) != AMQP_STATUS_OK) {
		free(copy);
		snprintf(err, errlen, "queue: bad URL: expected amqp://user:pass@host:port/vhost");
		return JETL_ECONFIG;
	}
	if (ci.ssl) {
		free(copy);
		snprintf(err, errlen, "queue: amqps:// (TLS) is not supported by this build");
		return JETL_ECONFIG;
	}
	u->buf = copy;
	u->host = ci.host;
	u->port = ci.port;
	u->vhost = ci.vhost && *ci.vhost ? ci.vhost : "/";
	u->user = ci.user;
	u->pass = ci.password;
	snprintf(u->where, sizeof u->where, "%s:%d/%s", u->host, u->port,
		strcmp(u->vhost, "/") ? u->vhost : "%2f");
	return JETL_OK;
}

void jl_queue_url_free(jl_queue_url *u)
{
	if (u) {
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
