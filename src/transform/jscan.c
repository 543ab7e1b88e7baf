/* jscan.c - a raw row's parts (see jscan.h). */
#include <string.h>

#include "jscan.h"

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
		if (!(kend = jl_jscan_string(k, e)))
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
