/* dev_status.h - development status (commits, branches, PRs, builds) from
 * the dev-status API's summary/detail or from the Development field in each
 * of its forms (docs/jira.md, 'The Development field'). Pure, thread-safe.
 *
 * The field and the summary are read by src/model/devfield.c, the one parser
 * the extractor uses too; this file turns its counts into the row (a count
 * not said is 0) and adds what only the row needs: providers, repositories,
 * the latest lastUpdated as a normalised time, and the counts of the detail. */
#ifndef JL_TRANSFORM_DEV_STATUS_H
#define JL_TRANSFORM_DEV_STATUS_H

#include <jansson.h>

#include "time.h"

#define JL_DEV_MAX_NAMES 64

typedef struct jl_dev {
	int present;                 /* anything was read: write a dev_status row */
	long pr_count, pr_open, pr_merged, pr_declined;
	long commits, branches, repos, builds, builds_failed, builds_ok, reviews;
	char pr_state[16];           /* OPEN|MERGED|DECLINED or "" */
	char *providers[JL_DEV_MAX_NAMES];      /* owned, de-duplicated */
	int nproviders;
	char *repositories[JL_DEV_MAX_NAMES];   /* owned, de-duplicated */
	int nrepositories;
	char last_updated[JL_TIME_MAX];         /* "" = unknown */
	double last_updated_epoch;
	int is_stale;
	const char *source;          /* static: "field" | "summary" | "detail" */
	json_t *detail;              /* owned reference to the detail input, or NULL */
} jl_dev;

void jl_dev_init(jl_dev *d);
void jl_dev_free(jl_dev *d);

/*
 * Read the Development field's string. Returns 0 (d filled, source
 * "field"), 1 when the form is unknown (d untouched: the caller warns),
 * -1 on OOM.
 */
int jl_dev_from_field(jl_dev *d, const char *s, size_t len);

/* Read a summary: the dev-status response {errors, summary{…}}, the
 * field's {"cachedValue":…,"isStale":…} or the inner summary object.
 * Returns 0, 1 when v holds no summary, -1 on OOM. */
int jl_dev_from_summary(jl_dev *d, const json_t *v);

/*
 * Read detail responses (an array of {errors, detail[…]}, one such
 * response, or an array of detail entries). Counts from the data types the
 * detail covers replace the summary's (the detail lists the items). Keeps a
 * reference to v for the detail jsonb column. Returns 0, 1 when v holds no
 * detail, -1 on OOM.
 */
int jl_dev_from_detail(jl_dev *d, json_t *v);

/* Whether a string value looks like a Development field (for sites whose
 * field catalog is not synced): "{…json={"cachedValue"…", "{summaryBean=…",
 * "PullRequestOverallDetails{…". "{}" alone is too common to tell. */
int jl_dev_field_looks_like(const char *s);

#endif
