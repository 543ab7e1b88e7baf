/* jscan.c - a raw row's parts (see jscan.h). */
#include <string.h>

#include "jscan.h"

/* The raw row's keys, in the order of jl_jscan_raw_items' spans. */
static const char *const raw_keys[JL_RAW_NPARTS] = { "issues", "changelogs", "dev_status", "comments", "worklogs" };

int jl_jscan_raw_row(const char *raw, size_t len, jl_jspan *issues, jl_jspan *logs, jl_jspan *devs)
{
	jl_jspan sp[JL_RAW_NPARTS];

	if (jl_jscan_raw_items(raw, len, sp) < 0 || sp[3].p || sp[4].p)
		return -1;
	*issues = sp[0];
	*logs = sp[1];
	*devs = sp[2];
	return 0;
}

int jl_jscan_raw_items(const char *raw, size_t len, jl_jspan sp[JL_RAW_NPARTS])
{
	const char *p = raw, *e = raw + len;
	jl_jspan *issues = &sp[0];

	for (int k = 0; k < JL_RAW_NPARTS; k++)
		sp[k] = (jl_jspan){ NULL, 0 };
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
		dst = NULL;
		for (int x = 0; x < JL_RAW_NPARTS && !dst; x++)
			if ((size_t)(kend - k) == strlen(raw_keys[x]) && memcmp(k, raw_keys[x], (size_t)(kend - k)) == 0)
				dst = &sp[x];
		if (!dst)
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
