/*
 * jetl/issue_errors.h - the issues a transform could not store (the
 * issue_errors table), listed, and read again from Jira.
 */
#ifndef JETL_ISSUE_ERRORS_H
#define JETL_ISSUE_ERRORS_H

#include "extract.h"

JETL_BEGIN_DECL

/** One issue not stored: its newest record (strings borrowed for the callback). */
typedef struct jetl_issue_error {
	const char *external_id;   /**< Jira's issue id; "" when it could not be read */
	const char *key;           /**< "ABC-12"; "" when it could not be read */
	const char *project_key;   /**< the project of the raw row it came in */
	int64_t raw_id;            /**< that raw row (raw_extraction_data.id) */
	int64_t job_id;            /**< the job that wrote the raw row; 0: none */
	const char *error;         /**< one line naming the issue and the field */
	double created_at;         /**< Unix seconds of the record */
} jetl_issue_error;

/** Called once per issue; return non-zero to stop early (not an error). */
typedef int (*jetl_issue_error_cb)(const jetl_issue_error *e, void *userdata);

/**
 * List the issues of the context's tenant/integration that could not be
 * stored and are still missing, newest first, at most max (0: all), of
 * project_key (NULL: every project). Runs cb on the calling thread.
 * Errors: JETL_EINVAL, JETL_EDB.
 */
JETL_API int jetl_issue_errors_list(jetl_ctx *ctx, const char *project_key, size_t max,
	jetl_issue_error_cb cb, void *userdata);

/**
 * Read every issue listed by jetl_issue_errors_list again from Jira, by id,
 * and transform it: stored ones leave the list, ones that fail again stay
 * (with the new cause). Each chunk of up to 500 ids is one job of the
 * projects concerned, narrowed by `id in (…)` and read in full, so it never
 * moves a project's watermark. opts (may be NULL) gives the queue wait,
 * dev status and progress; its full, jql and distribute are ignored.
 * *job_id (may be NULL) gets the last job's id, *issues (may be NULL) how
 * many issues were asked for (0: nothing to retry, no job made).
 * Errors: those of jetl_extract().
 */
JETL_API int jetl_issue_errors_retry(jetl_ctx *ctx, const jetl_extract_options *opts, int64_t *job_id,
	int64_t *issues);

JETL_END_DECL

#endif
