/*
 * jetl/transform.h - raw rows into work_items, changelogs, dev_status.
 */
#ifndef JETL_TRANSFORM_H
#define JETL_TRANSFORM_H

#include "context.h"

JETL_BEGIN_DECL

#define JETL_TRANSFORM_RESULT_VERSION 1

/** What one transform wrote; set version (or use the INIT macro) first. */
typedef struct jetl_transform_result {
	unsigned int version;     /**< JETL_TRANSFORM_RESULT_VERSION */
	int64_t raw_id;
	int64_t work_items;       /**< rows upserted into work_items */
	int64_t changelog_items;  /**< rows in changelogs */
	int64_t dev_status;       /**< rows upserted into dev_status */
	int64_t warnings;         /**< values repaired (\u0000 dropped, type moved to overflow) */
	double seconds;
} jetl_transform_result;

#define JETL_TRANSFORM_RESULT_INIT { JETL_TRANSFORM_RESULT_VERSION, 0, 0, 0, 0, 0, 0.0 }

/**
 * Transform one raw row in one transaction: upsert its issues, replace their
 * change history and dev status, mark the row completed. Idempotent.
 * On bad data the row is marked failed (error and attempts recorded), nothing
 * else is written, and JETL_EDATA is returned. result may be NULL.
 * Errors: JETL_ENOENT (no such raw row), JETL_EDATA, JETL_EDB.
 */
JETL_API int jetl_transform_batch(jetl_ctx *ctx, int64_t raw_id, jetl_transform_result *result);

JETL_END_DECL

#endif
