/*
 * devfield.h - the "Development" custom field (docs/jira.md, 'The Development
 * field'), parsed.
 *
 * Pure: no network; used by the extractor (to decide whether to call the
 * dev-status API) and by the transform (dev_status rows with source 'field').
 */
#ifndef JL_DEVFIELD_H
#define JL_DEVFIELD_H

#include <stddef.h>
#include <jansson.h>

typedef enum jl_devfield_form {
	JL_DEVFIELD_ABSENT = 0,  /* no value at all (NULL / empty string) */
	JL_DEVFIELD_EMPTY,       /* "{}": nothing linked */
	JL_DEVFIELD_CLOUD,       /* "{pullrequest={…}, json={"cachedValue":…,"isStale":…}}" */
	JL_DEVFIELD_OVERALL,     /* "PullRequestOverallDetails{openCount=…, mergedCount=…, declinedCount=…}" */
	JL_DEVFIELD_SERVER,      /* "{summaryBean=…, devSummaryJson={…}}" */
	JL_DEVFIELD_UNKNOWN      /* anything else: the API must be asked */
} jl_devfield_form;

/* Counts are -1 where the field does not say (a type missing from the summary). */
typedef struct jl_devfield {
	int form;               /* jl_devfield_form */
	int has_data;           /* something is linked, or the field cannot tell: ask the API */
	int stale;              /* "isStale": counts may lag */
	int pr_count, pr_open, pr_merged, pr_declined;
	char pr_state[16];      /* OPEN | MERGED | DECLINED | "" (unknown or no PRs) */
	int commit_count;       /* repository.overall.count */
	int branch_count;
	int build_count, build_failed, build_successful;
	int review_count;
	char last_updated[40];  /* newest overall.lastUpdated seen, as written; "" when none */
	json_t *summary;        /* owned: cachedValue.summary, or NULL */
	json_t *providers;      /* owned: array of applicationType names (byInstanceType keys) */
} jl_devfield;

/*
 * Parse one Development field value (s, len bytes; s may be NULL for an
 * absent field). Always fills *out (free with jl_devfield_clear()), even on
 * failure, with has_data = 1 so that a caller asks the API rather than
 * recording "no code". Returns 0, JETL_EPROTOCOL (form not recognised or its
 * JSON broken) or JETL_ENOMEM. Thread-safe.
 */
int jl_devfield_parse(const char *s, size_t len, jl_devfield *out);

/* Fill counts, state, providers from a dev-status summary object
 * ({"pullrequest":{"overall":…,"byInstanceType":…},…}); borrows summary. */
void jl_devfield_from_summary(jl_devfield *out, json_t *summary);

/* Release what jl_devfield_parse() allocated; NULL-safe; leaves *f zeroed. */
void jl_devfield_clear(jl_devfield *f);

#endif
