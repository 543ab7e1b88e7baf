/*
 * jetl/extract.h - extraction from Jira into raw rows and transform messages.
 */
#ifndef JETL_EXTRACT_H
#define JETL_EXTRACT_H

#include "context.h"

JETL_BEGIN_DECL

/** Version 2 added allow_mass_delete, version 3 wait_seconds, version 4 types. */
#define JETL_EXTRACT_OPTIONS_VERSION 4

/** Options of one extraction. Strings are borrowed for the call. */
typedef struct jetl_extract_options {
	unsigned int version;        /**< JETL_EXTRACT_OPTIONS_VERSION */
	int full;                    /**< ignore the sync watermark, re-read everything */
	const char *jql;             /**< extra JQL, ANDed with the project in parentheses;
	                                  NULL = none. It can only narrow: unbalanced
	                                  parentheses, an unclosed string, a backslash
	                                  outside quotes or ORDER BY give JETL_EINVAL */
	int distribute;              /**< jetl_extract: publish one extract message per
	                                  project for workers instead of extracting here */
	int wait;                    /**< with a queue: return only when every raw row
	                                  is transformed (by workers); pending rows that
	                                  stop moving while the queue is empty are
	                                  published again */
	int dev_status;              /**< fetch dev status: 1 (default) or 0 */
	jetl_progress_cb progress;   /**< NULL: none */
	void *progress_userdata;
	int allow_mass_delete;       /**< version 2: let a project's census mark more than half of
	                                  its stored issues deleted (more than 10); by
	                                  default such a census marks none and says so
	                                  (job totals' deleted_refused, a warning) */
	int wait_seconds;            /**< version 3: with wait, give up after this many
	                                  seconds (0: no limit): JETL_ETIMEOUT, the job
	                                  marked failed saying how many raw rows are
	                                  still pending (their messages stay queued) */
	const char *types;           /**< version 4: the data types that cost requests of their
	                                  own to fetch, comma-separated: "comments", "worklogs";
	                                  "issues" for none of them; NULL or "all" for every one
	                                  (the default). Issues, changelogs, links, versions,
	                                  components and accounts always come with the issues;
	                                  dev status has `dev_status`. An unknown name is
	                                  JETL_EINVAL */
} jetl_extract_options;

#define JETL_EXTRACT_OPTIONS_INIT { JETL_EXTRACT_OPTIONS_VERSION, 0, NULL, 0, 0, 1, NULL, NULL, 0, 0, NULL }

/** Fill defaults. JETL_EINVAL for NULL, JETL_EVERSION for an unknown version. */
JETL_API int jetl_extract_options_init(jetl_extract_options *opts, unsigned int version);

#define JETL_EXTRACT_RESULT_VERSION 1

/** Counts of one extraction; set version (or use the INIT macro) before the call. */
typedef struct jetl_extract_result {
	unsigned int version;        /**< JETL_EXTRACT_RESULT_VERSION */
	int64_t job_id;
	int64_t issues;              /**< issues fetched */
	int64_t histories;           /**< change histories fetched (complete) */
	int64_t changelogs_completed;/**< issues whose embedded log was capped */
	int64_t dev_status_fetched;  /**< issues whose dev status was fetched by API */
	int64_t deleted;             /**< issues found gone from Jira and marked */
	int64_t raw_rows;            /**< raw rows written */
	int64_t transformed;         /**< raw rows transformed before returning */
	int64_t requests;            /**< HTTP requests made */
	int64_t retries;             /**< requests retried */
	int64_t rate_limited;        /**< 429 answers received */
	double seconds;              /**< wall time */
} jetl_extract_result;

#define JETL_EXTRACT_RESULT_INIT { JETL_EXTRACT_RESULT_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0 }

/**
 * Extract one project: issues (incrementally unless opts->full), complete
 * changelogs and dev status, written as raw rows, one transform message per
 * raw row. Without a queue the rows are transformed in-process before the
 * call returns. Creates a job (result->job_id).
 * opts and result may be NULL. Progress runs on the calling thread.
 * Errors: JETL_ECONFIG, JETL_EAUTH, JETL_EFORBIDDEN, JETL_ENETWORK, …,
 * JETL_ECANCELLED (job marked cancelled; the watermark does not move),
 * JETL_EBUSY: another running job of the tenant/integration (any process,
 * any machine) is extracting the project; no job is created, the message
 * names that job and result->job_id holds its id.
 */
JETL_API int jetl_extract_project(jetl_ctx *ctx, const char *project_key,
	const jetl_extract_options *opts, jetl_extract_result *result);

/**
 * A whole job over n projects (every visible project when n == 0). Writes
 * the job id to *job_id (may be NULL) as soon as the job exists, also on
 * failure. Returns when extraction is done (and, without a queue or with
 * opts->wait, when every raw row is transformed).
 * JETL_EBUSY: another running job of the tenant/integration (any process,
 * any machine) is extracting one of the projects (with n == 0: of the
 * projects it resolved to); no job is created, the message names that job
 * and *job_id holds its id. Errors otherwise as jetl_extract_project.
 */
JETL_API int jetl_extract(jetl_ctx *ctx, const char *const *project_keys, size_t n,
	const jetl_extract_options *opts, int64_t *job_id);

JETL_END_DECL

#endif
