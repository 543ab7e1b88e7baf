/* fuzz_time.c - timestamps: the transform's normaliser (src/transform/
 * time.c) and the client's parser and JQL dates (src/jira/tz.c). Whatever
 * one accepts must come out as text the other reads back to the same instant. */
#include <jansson.h>
#include <stdio.h>

#include "fuzz.h"
#include "jira/tz.h"
#include "transform/time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	char out[JL_TIME_MAX], jql[32];
	int64_t ms = 0, ms2 = 0;
	int off = 0, off2 = 0;
	json_t *v;

	if (jl_time_iso(s, out) == 0) {
		FUZZ_CHECK(memchr(out, '\0', JL_TIME_MAX));
		/* what the transform writes, the client reads, at the same instant;
		 * sub-millisecond digits are kept by one and dropped by the other */
		if (jl_jira_time_parse(s, &ms, &off) == 0 && jl_jira_time_parse(out, &ms2, &off2) == 0)
			FUZZ_CHECK(ms == ms2 && off == off2);
	}
	if (jl_date_iso(s, out) == 0)
		FUZZ_CHECK(strlen(out) == 10);
	if (jl_jira_time_parse(s, &ms, &off) == 0) {
		FUZZ_CHECK(off > -86400 && off < 86400);
		jl_tz_jql_date(jql, ms / 1000, off);
		FUZZ_CHECK(memchr(jql, '\0', sizeof(jql)));
	}
	v = json_stringn_nocheck(s, size);
	if (v) {
		(void)jl_time_json(v, out);
		json_decref(v);
	}
	if (size >= 8) {
		int64_t n;

		memcpy(&n, data, sizeof(n));
		v = json_integer(n);
		(void)jl_time_json(v, out);
		json_decref(v);
		v = json_real((double)n / 7.0);
		(void)jl_time_json(v, out);
		json_decref(v);
		jl_tz_jql_date(jql, n, (int)(n % 86400));
		FUZZ_CHECK(memchr(jql, '\0', sizeof(jql)));
	}
	free(s);
	return 0;
}
