/* load.h - raw rows in, transformed rows out: the SQL side
 * of the transform. libpq only; every function works inside the caller's
 * transaction unless it says otherwise, and never makes a round trip per
 * row. A connection serves one thread at a time. Errors: a negative jetl
 * status classified by SQLSTATE (jl_store_error: JETL_EDBRETRY and
 * JETL_EDBCONN are worth a retry, JETL_EDATA is the data's fault), or
 * JETL_ENOMEM, with "what: cause" (one line) in err. */
#ifndef JL_STORE_LOAD_H
#define JL_STORE_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "../model/catalog.h"
#include "../model/rows.h"

/*
 * Send, without waiting (one libpq pipeline), the reads a transform needs:
 * the raw row of the tenant/integration (raw_data's text, verbatim, \u0000
 * escapes kept, in binary format: json's binary form is the same bytes) and
 * the field catalog. No transaction: a raw row's text never changes once
 * written. Sets the session's client encoding to UTF-8. The connection is in
 * pipeline mode until jl_load_fetch_recv, and must not be used for anything
 * else before it. Returns 0 or a status.
 */
int jl_load_fetch_send(PGconn *pg, int tenant, int integration, int64_t raw_id, char *err, size_t errlen);

/*
 * Wait for what jl_load_fetch_send asked: *raw holds raw_data (column 0) and
 * project_key (column 1, may be NULL) and job_id (column 2, as text, may be
 * NULL), all NUL-terminated text (PQgetvalue,
 * PQgetlength), the caller PQclears it; the catalog
 * (custom_field_mappings, then jira_fields) goes into cat. Returns 0, 1 when
 * there is no such row (*raw NULL), or a status. The connection is idle and
 * out of pipeline mode after.
 */
int jl_load_fetch_recv(PGconn *pg, PGresult **raw, jl_catalog *cat, char *err, size_t errlen);

/*
 * Open the write transaction of a raw row in one round trip: BEGIN (client
 * encoding UTF-8 for its duration) and the raw row locked (SELECT … FOR
 * UPDATE, so two workers on the same row take turns). With out (may be
 * NULL) holding issues, the same round trip asks whether any of them is
 * stored yet: *fresh = 1 when none is (a first load: jl_load_commit may COPY
 * straight into the final tables), else 0. *analyzed (the caller's, kept
 * per database) says whether the final tables have planner statistics: while
 * 0, the round trip also analyzes a table grown past 1,000 rows, and sets it
 * once both have them. Returns 0, 1 when there is no such row, or a status;
 * on 1 and on failure the transaction is open or aborted: the caller rolls
 * back.
 */
int jl_load_lock(PGconn *pg, int tenant, int integration, int64_t raw_id, const jl_transform_out *out,
	int *analyzed, int *fresh, char *err, size_t errlen);

typedef struct jl_load_counts {
	int64_t work_items;       /* upserted */
	int64_t changelog_items;  /* rows of the batch's issues now in changelogs */
	int64_t dev_status;       /* upserted */
	int64_t stale;            /* issues skipped: the table holds a newer `updated` */
	int64_t issue_errors;     /* issues recorded in issue_errors, not stored */
	int64_t parts[JL_PART_N]; /* per type an issue carries: jl_parts_count */
} jl_load_counts;

/*
 * Write a transform's rows, mark the raw row completed and COMMIT, in one
 * multi-statement string (one round trip plus one per COPY): COPY into the
 * session temp tables, then one statement per table. An issue already
 * stored with a newer `updated` is left alone (a late, older raw row must
 * not undo a newer one). For the other issues: work_items upserted;
 * changelog rows of issues whose history was read are replaced (items no
 * longer in Jira's history are deleted, unchanged rows are not rewritten);
 * dev_status upserted; analyzed: jl_load_lock's *analyzed (while 0 the
 * final tables' statistics are checked here too). With direct (jl_load_lock found none of the batch's
 * issues stored: a first load) the rows are COPied straight into the final
 * tables instead. On failure (a negative status) nothing
 * is committed and the transaction may be open and aborted: the caller rolls
 * back. 1: the direct COPY met a key stored meanwhile (or an issue twice in
 * the batch): roll back and run the batch again with direct = 0.
 */
int jl_load_commit(PGconn *pg, int tenant, int integration, int64_t raw_id, const jl_transform_out *out,
	int analyzed, int direct, jl_load_counts *counts, char *err, size_t errlen);

/* At most this many raw rows in one jl_load_fresh_group. */
#define JL_LOAD_GROUP_MAX 4

/*
 * A first load of n raw rows (1 to JL_LOAD_GROUP_MAX, all of one tenant and
 * integration) in one transaction and one string: BEGIN, the raw rows
 * locked, each final table's rows of all of them in one COPY straight into
 * it (as jl_load_commit's direct path), each raw row's issue_errors and
 * completion, COMMIT. For when the batches are expected new: no probe is
 * made, and any of the issues already stored (or twice in the group) fails
 * the COPY on its key. counts[k]: raw row k's rows. On any failure (a
 * negative status: a raw row missing, a key stored, the data refused, the
 * connection) nothing is committed and the transaction may be open and
 * aborted: the caller rolls back and writes the rows one at a time
 * (jl_load_lock, jl_load_commit), which tells the causes apart. The
 * connection serves one thread.
 */
int jl_load_fresh_group(PGconn *pg, int tenant, int integration, int n, const int64_t *raw_ids,
	const jl_transform_out *const *outs, jl_load_counts *counts, char *err, size_t errlen);

#endif
