/* jscan.c - JSON value boundaries (see jscan.h). */
#include <string.h>

#include "jscan.h"

const char *jl_jscan_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* Past the closing quote of a string whose opening quote is at p[-1]. */
static const char *skip_string(const char *p, const char *e)
{
	while (p < e) {
		const char *q = memchr(p, '"', (size_t)(e - p));
		const char *b;

		if (!q)
			return NULL;
		/* Escaped when preceded by an odd run of backslashes. */
		for (b = q; b > p && b[-1] == '\\'; b--)
			;
		if (((q - b) & 1) == 0)
			return q + 1;
		p = q + 1;
	}
	return NULL;
}

static int delimiter(char c)
{
	return c == ',' || c == ':' || c == ']' || c == '}' || c == '[' || c == '{' || c == '"' || c == ' ' ||
	       c == '\n' || c == '\r' || c == '\t';
}

const char *jl_jscan_value(const char *p, const char *e)
{
	size_t depth = 0;

	do {
		if (p >= e)
			return NULL;
		switch (*p) {
		case '"':
			if (!(p = skip_string(p + 1, e)))
				return NULL;
			break;
		case '{':
		case '[':
			depth++;
			p++;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return NULL;
			depth--;
			p++;
			break;
		case ',':
		case ':':
		case ' ':
		case '\n':
		case '\r':
		case '\t':
			/* Between the parts of an object or array only. */
			if (depth == 0)
				return NULL;
			p++;
			break;
		default:
			/* A number or literal: up to the next delimiter. */
			while (p < e && !delimiter(*p))
				p++;
			break;
		}
	} while (depth > 0);
	return p;
}

int jl_jscan_raw_row(const char *raw, size_t len, jl_jspan *issues, jl_jspan *logs, jl_jspan *devs)
{
	const char *p = raw, *e = raw + len;

	issues->p = logs->p = devs->p = NULL;
	issues->n = logs->n = devs->n = 0;
	if (!raw)
		return -1;
	p = jl_jscan_ws(p, e);
	if (p < e && *p == '[') {
		const char *end = jl_jscan_value(p, e);

		if (!end || jl_jscan_ws(end, e) != e)
			return -1;
		issues->p = p;
		issues->n = (size_t)(end - p);
		return 0;
	}
	if (p >= e || *p != '{')
		return -1;
	p = jl_jscan_ws(p + 1, e);
	if (p < e && *p == '}')
		return jl_jscan_ws(p + 1, e) == e ? 0 : -1;
	for (;;) {
		const char *k, *kend, *v, *vend;
		jl_jspan *dst;

		if (p >= e || *p != '"')
			return -1;
		k = p + 1;
		if (!(kend = skip_string(k, e)))
			return -1;
		kend--;   /* the closing quote */
		if (memchr(k, '\\', (size_t)(kend - k)))
			return -1;
		if (kend - k == 6 && memcmp(k, "issues", 6) == 0)
			dst = issues;
		else if (kend - k == 10 && memcmp(k, "changelogs", 10) == 0)
			dst = logs;
		else if (kend - k == 10 && memcmp(k, "dev_status", 10) == 0)
			dst = devs;
		else
			return -1;
		p = jl_jscan_ws(kend + 1, e);
		if (p >= e || *p != ':')
			return -1;
		v = jl_jscan_ws(p + 1, e);
		if (v >= e || !(vend = jl_jscan_value(v, e)))
			return -1;
		dst->p = v;
		dst->n = (size_t)(vend - v);
		p = jl_jscan_ws(vend, e);
		if (p < e && *p == ',') {
			p = jl_jscan_ws(p + 1, e);
			continue;
		}
		if (p < e && *p == '}')
			return jl_jscan_ws(p + 1, e) == e ? 0 : -1;
		return -1;
	}
}
