/* load_parts.h - the write of the types an issue carries (links, versions,
 * components, accounts: src/model/issue_types.h), built from their
 * descriptors alone: no statement here names a type. Part of a raw row's
 * write (load.c): the statements go into its multi-statement string. */
#ifndef JL_STORE_LOAD_PARTS_H
#define JL_STORE_LOAD_PARTS_H

#include <stdint.h>

#include "../core/buf.h"
#include "../model/issue_types.h"
#include "stmts.h"

/* At most this many statements per type. */
/* Raw rows written together at most (load.h JL_LOAD_GROUP_MAX). */
#define JL_PARTS_GROUP_MAX 4
#define JL_PARTS_STMTS_PER 6
#define JL_PARTS_MAX_STMTS (3 + JL_PARTS_STMTS_PER * JL_PART_N)

/* Where the counts of a sent plan are read (indexes into its stmts). */
typedef struct jl_parts_plan {
	int first;                    /* index of the plan's first stmt in the caller's array */
	int stale[JL_PART_N];         /* the DELETE of stale issues' rows, or -1 */
	int insert[JL_PART_N];        /* the upsert (or -1: direct COPY) */
	int64_t rows[JL_PART_N];      /* rows sent, over every rowset */
} jl_parts_plan;

/*
 * Append the statements that write sets[p][0..n-1] of every type p to sql
 * and their jl_stmt to st (first: st's index in the caller's array).
 * upsert: the issues of the batch may be stored (load.c's upsert path, after
 * its stale issues left jl_t_work_items): an owned type's rows of stale
 * issues are dropped, its stored rows of the batch's issues no longer in
 * the batch are deleted, the rest upserted (unchanged rows not rewritten).
 * Only the issues of read (jl_transform_out.parts_read: which issue's part
 * was read) lose their stored rows; read is used on the upsert path only.
 * Otherwise (a first load) an owned type is COPied straight into its table.
 * A shared type (accounts) is always upserted through a temp table.
 * t, i: tenant and integration as SQL text; prefix: "t\ti\t" for COPY.
 * Returns how many stmts, or -1 on OOM.
 */
int jl_parts_sql(jl_buf *sql, jl_stmt *st, int first, const jl_rowset *sets[JL_PART_N][JL_PARTS_GROUP_MAX], int n,
	int upsert, const jl_rowset *read, const char *t, const char *i, const char *prefix, jl_parts_plan *plan);

/* The count of type p after the plan ran (results kept in st): owned,
 * the rows of the batch's issues written; shared, the rows added or
 * changed. */
int64_t jl_parts_count(const jl_parts_plan *plan, const jl_stmt *st, int p);

#endif
