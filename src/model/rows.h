/* rows.h - the rows a transform makes from one raw row and the store
 * writes: the contract between src/transform and src/store, kept here so
 * that neither includes the other. The column lists and jl_transform_out_init
 * are the transform's (src/transform/transform.h); the store reads the
 * columns from each rowset. */
#ifndef JL_MODEL_ROWS_H
#define JL_MODEL_ROWS_H

#include <stdint.h>

#include "issue_types.h"
#include "rowset.h"

typedef struct jl_transform_out {
	jl_rowset work_items;       /* columns: jl_work_items_cols */
	jl_rowset changelogs;       /* columns: jl_changelogs_cols */
	jl_rowset dev_status;       /* columns: jl_dev_status_cols */
	jl_rowset history_read;     /* column "external_id": issues whose history was read
	                             * (completed or embedded); only theirs is replaced */
	jl_rowset issue_errors;     /* columns: jl_issue_errors_cols; issues left out */
	jl_rowset parts[JL_PART_N]; /* columns: jl_parts[p].cols; what the issues carry */
	jl_rowset parts_read;       /* columns: jl_parts_read_cols; whose owned parts were read */
	int64_t warnings;
	char err[512];              /* one line, set when the call fails */
} jl_transform_out;

#endif
