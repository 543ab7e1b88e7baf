/*
 * jetl/job.h - job status and progress (the etl_job_queue row).
 */
#ifndef JETL_JOB_H
#define JETL_JOB_H

#include "context.h"

JETL_BEGIN_DECL

#define JETL_JOB_VERSION 1

/** A job's row. Text is copied in (truncated to fit), so the struct owns nothing. */
typedef struct jetl_job {
	unsigned int version;      /**< JETL_JOB_VERSION */
	int64_t id;
	char job_type[48];
	char status[16];           /**< queued|running|finished|failed|cancelled */
	int step;
	int total_steps;
	char step_name[48];
	int64_t items_done;
	int64_t items_total;
	char message[256];
	char error[256];
	double created_at;         /**< Unix seconds; 0 when unset */
	double started_at;
	double updated_at;
	double finished_at;
	int64_t raw_pending;       /**< raw rows of the job not yet completed */
	int64_t raw_failed;        /**< raw rows of the job that failed */
} jetl_job;

#define JETL_JOB_INIT { JETL_JOB_VERSION, 0, "", "", 0, 0, "", 0, 0, "", "", 0, 0, 0, 0, 0, 0 }

/**
 * Read a job of the context's tenant/integration into *job (version set by
 * the caller). Errors: JETL_EINVAL, JETL_EVERSION, JETL_ENOENT, JETL_EDB.
 */
JETL_API int jetl_job_get(jetl_ctx *ctx, int64_t job_id, jetl_job *job);

/**
 * Ids of the most recent jobs of the context's tenant/integration, newest
 * first: up to max ids into ids[], their number into *count.
 * Errors: JETL_EINVAL, JETL_EDB.
 */
JETL_API int jetl_job_list(jetl_ctx *ctx, int64_t *ids, size_t max, size_t *count);

JETL_END_DECL

#endif
