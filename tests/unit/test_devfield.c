/*
 * test_devfield.c - the one reader of the Development field and the dev-status
 * summary (src/model/devfield.c), over the recorded values, with the cases
 * both former copies (src/jira/devfield.c, src/transform/dev_status.c)
 * handled and the rules they disagreed on (src/model/devfield.h).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl.h"
#include "model/devfield.h"

static char *slurp_line(const char *path, int n)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len = -1;

	cr_assert(f, "cannot open %s", path);
	for (int i = 0; i <= n; i++)
		len = getline(&line, &cap, f);
	fclose(f);
	cr_assert_gt(len, 0);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	return line;
}

static const char *fixtures(void)
{
	const char *d = getenv("JETL_FIXTURES");

	cr_assert(d, "JETL_FIXTURES not set");
	return d;
}

Test(devfield, server_form_with_instances)
{
	char path[512], *v;
	jl_devfield f;

	snprintf(path, sizeof(path), "%s/server_development_field_values_jqtr.txt", fixtures());
	v = slurp_line(path, 0);
	cr_assert_eq(jl_devfield_parse(v, strlen(v), &f), 0);
	cr_assert_eq(f.form, JL_DEVFIELD_SERVER);
	cr_assert_eq(f.has_data, 1);
	cr_assert_eq(f.stale, 1);
	cr_assert_eq(f.build_count, 3);
	cr_assert_eq(f.build_successful, 3);
	cr_assert_eq(f.build_failed, 0);
	cr_assert_eq(f.review_count, 1);
	cr_assert_eq(f.pr_count, 0);
	cr_assert_str_eq(f.pr_state, "");
	cr_assert(f.summary && json_is_object(json_object_get(f.summary, "build")));
	cr_assert(json_object_get(json_object_get(json_object_get(f.summary, "build"), "byInstanceType"), "bamboo"));
	cr_assert(json_object_get(json_object_get(json_object_get(f.summary, "review"), "byInstanceType"), "fecru"));
	cr_assert_eq(f.detail_types, 4);
	cr_assert_not(jl_devfield_complete(&f), "stale: the API is asked");
	jl_devfield_clear(&f);
	free(v);
}

Test(devfield, server_form_empty)
{
	char path[512], *v;
	jl_devfield f;

	snprintf(path, sizeof(path), "%s/server_development_field_values_jqtr.txt", fixtures());
	v = slurp_line(path, 1);
	cr_assert_eq(jl_devfield_parse(v, strlen(v), &f), 0);
	cr_assert_eq(f.form, JL_DEVFIELD_SERVER);
	cr_assert_eq(f.has_data, 0, "an all-zero summary says nothing is linked");
	cr_assert_eq(f.commit_count, 0);
	jl_devfield_clear(&f);
	free(v);
}

Test(devfield, every_recorded_cloud_value)
{
	char path[512];
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	int empty = 0, filled = 0;
	const char *root = getenv("JETL_SOURCE_ROOT");

	cr_assert(root);
	snprintf(path, sizeof(path), "%s/tests/data/jira_devfield_cloud_devlake.txt", root);
	f = fopen(path, "r");
	cr_assert(f);
	while (getline(&line, &cap, f) > 0) {
		char *v = strchr(line, '\t') + 1;
		jl_devfield d;

		v[strcspn(v, "\n")] = '\0';
		cr_assert_eq(jl_devfield_parse(v, strlen(v), &d), 0, "value %s", v);
		if (d.form == JL_DEVFIELD_EMPTY) {
			empty++;
			cr_assert_eq(d.has_data, 0);
		} else {
			filled++;
			cr_assert_eq(d.form, JL_DEVFIELD_CLOUD);
			cr_assert_eq(d.has_data, 1);
			cr_assert_eq(d.stale, 1);
			cr_assert_eq(d.commit_count, 1);
			cr_assert_eq(d.pr_count, -1, "the field does not say anything about PRs");
			cr_assert(json_object_get(json_object_get(json_object_get(d.summary, "repository"),
				"byInstanceType"), "bitbucket"));
			cr_assert_eq(d.detail_types, 1, "the Cloud form carries one data type");
			cr_assert_not(jl_devfield_complete(&d));
		}
		jl_devfield_clear(&d);
	}
	free(line);
	fclose(f);
	cr_assert_eq(empty, 31);
	cr_assert_eq(filled, 2);
}

Test(devfield, other_forms)
{
	const char *pr = "{pullrequest={dataType=pullrequest, state=MERGED, stateCount=15}, json={\"cachedValue\":"
			 "{\"errors\":[],\"summary\":{\"pullrequest\":{\"overall\":{\"count\":15,\"lastUpdated\":"
			 "\"2021-01-02T10:00:00.000+0800\",\"stateCount\":15,\"state\":\"MERGED\",\"dataType\":"
			 "\"pullrequest\",\"open\":false},\"byInstanceType\":{\"GitHub\":{\"count\":15,\"name\":"
			 "\"GitHub\"}}}}},\"isStale\":false}}";
	const char *old = "PullRequestOverallDetails{openCount=1, mergedCount=2, declinedCount=0}";
	jl_devfield f;

	cr_assert_eq(jl_devfield_parse(pr, strlen(pr), &f), 0);
	cr_assert_eq(f.form, JL_DEVFIELD_CLOUD);
	cr_assert_eq(f.pr_count, 15);
	cr_assert_eq(f.pr_merged, 15);
	cr_assert_eq(f.pr_open, 0);
	cr_assert_str_eq(f.pr_state, "MERGED");
	cr_assert_eq(f.stale, 0);
	cr_assert_eq(f.has_data, 1);
	jl_devfield_clear(&f);

	cr_assert_eq(jl_devfield_parse(old, strlen(old), &f), 0);
	cr_assert_eq(f.form, JL_DEVFIELD_OVERALL);
	cr_assert_eq(f.pr_count, 3);
	cr_assert_eq(f.pr_open, 1);
	cr_assert_eq(f.pr_merged, 2);
	cr_assert_str_eq(f.pr_state, "OPEN");
	cr_assert_eq(f.has_data, 1);
	jl_devfield_clear(&f);

	cr_assert_eq(jl_devfield_parse(" {} ", 4, &f), 0);
	cr_assert_eq(f.form, JL_DEVFIELD_EMPTY);
	cr_assert_eq(f.has_data, 0);
	jl_devfield_clear(&f);

	cr_assert_eq(jl_devfield_parse(NULL, 0, &f), 0);
	cr_assert_eq(f.form, JL_DEVFIELD_ABSENT);
	cr_assert_eq(f.has_data, 1, "absent: ask the API");
	jl_devfield_clear(&f);

	/* broken: never a crash, and the API gets asked */
	cr_assert_eq(jl_devfield_parse("{repository={count=1}, json={\"cachedValue\":{", 44, &f), JETL_EPROTOCOL);
	cr_assert_eq(f.has_data, 1);
	jl_devfield_clear(&f);
	cr_assert_eq(jl_devfield_parse("whatever", 8, &f), JETL_EPROTOCOL);
	cr_assert_eq(f.form, JL_DEVFIELD_UNKNOWN);
	jl_devfield_clear(&f);
	/* every count of the old form is needed */
	cr_assert_eq(jl_devfield_parse("PullRequestOverallDetails{openCount=1, mergedCount=2}", 53, &f), JETL_EPROTOCOL);
	cr_assert_eq(f.form, JL_DEVFIELD_UNKNOWN);
	cr_assert_eq(f.has_data, 1);
	jl_devfield_clear(&f);
	/* text after the summary other than the field's '}' is not the field */
	{
		static const char trail[] = "{json={\"cachedValue\":{\"summary\":{}}} trailing}";

		cr_assert_eq(jl_devfield_parse(trail, sizeof(trail) - 1, &f), JETL_EPROTOCOL);
	}
	jl_devfield_clear(&f);
}

/* The rules the two old copies disagreed on (src/model/devfield.h). */
Test(devfield, state_count_and_counts_not_said)
{
	json_t *v = json_loads("{\"pullrequest\":{\"overall\":{\"count\":5,\"state\":\"OPEN\",\"stateCount\":3},"
			       "\"byInstanceType\":{}},\"branch\":{\"overall\":{\"lastUpdated\":null}},"
			       "\"build\":{\"overall\":{\"count\":-3}}}", 0, NULL);
	jl_devfield f;

	cr_assert_eq(jl_devfield_summary(&f, v), 0);
	cr_assert_eq(f.form, JL_DEVFIELD_API);
	cr_assert_eq(f.pr_count, 5);
	cr_assert_eq(f.pr_open, 3, "stateCount is the PRs in the state, equal to count or not");
	cr_assert_eq(f.pr_merged, -1, "5 PRs, 3 open: the other 2 are not said");
	cr_assert_eq(f.pr_declined, -1);
	cr_assert_str_eq(f.pr_state, "OPEN");
	cr_assert_eq(f.branch_count, -1, "no count: not said, not 0");
	cr_assert_eq(f.build_count, -1, "a negative count is no count");
	cr_assert_eq(f.commit_count, -1, "no repository item");
	cr_assert_eq(f.items, 3);
	cr_assert_eq(f.has_data, 1);
	jl_devfield_clear(&f);
	json_decref(v);

	/* stateCount == count: every PR in that state, the others 0 */
	v = json_loads("{\"pullrequest\":{\"overall\":{\"count\":4,\"state\":\"merged\",\"stateCount\":4}}}", 0, NULL);
	cr_assert_eq(jl_devfield_summary(&f, v), 0);
	cr_assert_eq(f.pr_merged, 4);
	cr_assert_eq(f.pr_open, 0);
	cr_assert_eq(f.pr_declined, 0);
	jl_devfield_clear(&f);
	json_decref(v);
}

Test(devfield, summary_wrappings)
{
	const char *inner = "{\"pullrequest\":{\"overall\":{\"count\":1,\"state\":\"OPEN\",\"stateCount\":1}},"
			    "\"repository\":{\"overall\":{\"count\":7}},\"branch\":{\"overall\":{\"count\":0}},"
			    "\"build\":{\"overall\":{\"count\":0,\"failedBuildCount\":0,\"successfulBuildCount\":0}}}";
	char buf[1024];
	json_t *v;
	jl_devfield f;

	/* the API's answer, the field's cachedValue, the inner summary: the same counts */
	for (int form = 0; form < 3; form++) {
		snprintf(buf, sizeof(buf), form == 0 ? "{\"errors\":[],\"configErrors\":[],\"summary\":%s}" :
			 form == 1 ? "{\"cachedValue\":{\"errors\":[],\"summary\":%s},\"isStale\":false}" : "%s", inner);
		v = json_loads(buf, 0, NULL);
		cr_assert_eq(jl_devfield_summary(&f, v), 0, "form %d", form);
		cr_assert_eq(f.pr_open, 1);
		cr_assert_eq(f.commit_count, 7);
		cr_assert_eq(f.branch_count, 0);
		cr_assert_eq(f.detail_types, 4);
		cr_assert(jl_devfield_complete(&f), "fresh and every detail type: no summary request needed");
		jl_devfield_clear(&f);
		json_decref(v);
	}
	/* an empty summary is a summary (nothing linked); an object without one is not */
	v = json_loads("{\"errors\":[],\"summary\":{}}", 0, NULL);
	cr_assert_eq(jl_devfield_summary(&f, v), 0);
	cr_assert_eq(f.has_data, 0);
	jl_devfield_clear(&f);
	json_decref(v);
	v = json_loads("{\"summary\":\"no\"}", 0, NULL);
	cr_assert_eq(jl_devfield_summary(&f, v), 1);
	jl_devfield_clear(&f);
	json_decref(v);
	cr_assert_eq(jl_devfield_summary(&f, NULL), 1);
	jl_devfield_clear(&f);
}

/* Found by tests/fuzz/fuzz_devfield: a count of 1e70 in the field's summary
 * was converted to int (undefined behaviour); now it reads as unknown. */
Test(devfield, count_out_of_int_range_is_unknown)
{
	const char *v = "{pullrequest={dataType=pullrequest, state=OPEN, stateCount=1}, json={\"cachedValue\":"
			"{\"errors\":[],\"summary\":{\"pullrequest\":{\"overall\":{\"count\":1e70,\"state\":\"OPEN\","
			"\"dataType\":\"pullrequest\"},\"byInstanceType\":{}}}},\"isStale\":false}}";
	jl_devfield f;

	jl_devfield_parse(v, strlen(v), &f);
	cr_assert_eq(f.pr_count, -1);
	jl_devfield_clear(&f);
}
