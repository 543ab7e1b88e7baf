/*
 * devfield.h - the Development field and the dev-status summary, read once
 * for every layer (docs/jira.md, 'The Development field').
 *
 * src/model/ holds Jira's data shapes that more than one layer reads: it sits
 * beside src/core/ under jira/ and transform/ and includes neither. The
 * extractor asks it whether the field makes a request needless; the
 * transform takes its counts for the dev_status row. Pure: no I/O, no
 * globals, thread-safe.
 *
 * The rules, decided once (the two copies this replaces disagreed):
 * - A count the summary does not give (a data type missing, no `count`, a
 *   value that is not a non-negative integer within int) is -1, "not said",
 *   never 0: no PRs and unknown PRs are different answers. The dev_status
 *   row stores 0 for a count not said (its columns are NOT NULL).
 * - `stateCount` is the number of PRs in `state` (Jira's PullRequestOverall
 *   bean), so that state's count is stateCount; the other two states are 0
 *   when stateCount equals count (every PR is in that state), else -1.
 * - The field's text is trimmed of white space at both ends; the summary
 *   follows `json=` or `devSummaryJson=` (in that order of precedence:
 *   devSummaryJson= first), must open with '{' and be followed by nothing but
 *   the field's closing '}'. PullRequestOverallDetails{…} needs all three of
 *   openCount, mergedCount and declinedCount. Anything else is an unknown
 *   form, which the extractor answers by asking the API and the transform by
 *   a warning and no row.
 */
#ifndef JL_MODEL_DEVFIELD_H
#define JL_MODEL_DEVFIELD_H

#include <stddef.h>
#include <jansson.h>

typedef enum jl_devfield_form {
	JL_DEVFIELD_ABSENT = 0,  /* no value at all (NULL / empty string) */
	JL_DEVFIELD_EMPTY,       /* "{}": nothing linked */
	JL_DEVFIELD_CLOUD,       /* "{pullrequest={…}, json={"cachedValue":…,"isStale":…}}" */
	JL_DEVFIELD_OVERALL,     /* "PullRequestOverallDetails{openCount=…, mergedCount=…, declinedCount=…}" */
	JL_DEVFIELD_SERVER,      /* "{summaryBean=…, devSummaryJson={…}}" */
	JL_DEVFIELD_UNKNOWN,     /* anything else: the API must be asked */
	JL_DEVFIELD_API          /* not the field: a summary read by jl_devfield_summary() */
} jl_devfield_form;

/* The data types whose detail jetl asks (the summary's keys). */
#define JL_DEVFIELD_DETAIL_TYPES { "pullrequest", "repository", "branch", "build" }

typedef struct jl_devfield {
	int form;               /* jl_devfield_form */
	int has_data;           /* something is linked, or the field cannot tell: ask the API */
	int stale;              /* "isStale": Jira has not refreshed the counts lately */
	int items;              /* data types with an "overall" object in the summary */
	int detail_types;       /* of pullrequest, repository, branch, build: how many the summary has */
	long pr_count, pr_open, pr_merged, pr_declined;   /* -1: not said */
	char pr_state[16];      /* OPEN | MERGED | DECLINED as written, "" when no PRs or unknown */
	long commit_count;      /* repository.overall.count */
	long branch_count;
	long build_count, build_failed, build_successful;
	long review_count;
	json_t *summary;        /* owned: the inner summary object ({"pullrequest":…}), or NULL */
} jl_devfield;

/*
 * Parse one Development field value (s, len bytes; s may be NULL for an
 * absent field). Always fills *out (free with jl_devfield_clear()), even on
 * failure, with has_data = 1 so that a caller asks the API rather than
 * recording "no code". Returns 0, JETL_EPROTOCOL (form not recognised or its
 * JSON broken) or JETL_ENOMEM.
 */
int jl_devfield_parse(const char *s, size_t len, jl_devfield *out);

/*
 * Read a summary in any of its wrappings: the dev-status answer {errors,
 * configErrors, summary{…}}, the field's {"cachedValue":{…},"isStale":…}, or
 * the inner summary itself. Fills *out as jl_devfield_parse() does (form
 * JL_DEVFIELD_API; free with jl_devfield_clear()). Returns 0, 1 when v holds
 * no summary (not an object, or no item and no "summary" object), or
 * JETL_ENOMEM.
 */
int jl_devfield_summary(jl_devfield *out, const json_t *v);

/*
 * Whether the summary can stand for the dev-status summary answer: not stale,
 * and holding every data type whose detail jetl asks (the Server form does;
 * the Cloud form carries one type only, so the API still has to be asked).
 */
int jl_devfield_complete(const jl_devfield *f);

/* Release what the parser allocated; NULL-safe; leaves *f zeroed. */
void jl_devfield_clear(jl_devfield *f);

#endif
