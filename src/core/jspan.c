/* jspan.c - JSON value boundaries (see jspan.h). */
#include <string.h>

#include "jspan.h"

const char *jl_jscan_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

const char *jl_jscan_string(const char *p, const char *e)
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
			if (!(p = jl_jscan_string(p + 1, e)))
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

int jl_jscan_members(const char *text, size_t len, jl_jscan_member_fn each, void *ud)
{
	const char *p, *e = text + len;

	if (!text)
		return -1;
	p = jl_jscan_ws(text, e);
	if (p >= e || *p != '{')
		return -1;
	p = jl_jscan_ws(p + 1, e);
	if (p < e && *p == '}')
		return jl_jscan_ws(p + 1, e) == e ? 0 : -1;
	for (;;) {
		jl_jspan k;
		const char *kend, *v;

		if (p >= e || *p != '"' || !(kend = jl_jscan_string(p + 1, e)))
			return -1;
		k.p = p + 1;
		k.n = (size_t)(kend - 1 - k.p);
		if (memchr(k.p, '\\', k.n))
			return -1;
		p = jl_jscan_ws(kend, e);
		if (p >= e || *p != ':')
			return -1;
		v = jl_jscan_ws(p + 1, e);
		if (v >= e || !(p = each(ud, &k, v, e)))
			return -1;
		p = jl_jscan_ws(p, e);
		if (p < e && *p == ',') {
			p = jl_jscan_ws(p + 1, e);
			continue;
		}
		if (p < e && *p == '}')
			return jl_jscan_ws(p + 1, e) == e ? 0 : -1;
		return -1;
	}
}
