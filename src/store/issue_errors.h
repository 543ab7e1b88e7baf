/* issue_errors.h - the issues a transform could not store (issue_errors,
 * migration 5): which to read again, and the list users see. One
 * connection per thread; errors as jl_store_error gives them, with err. */
#ifndef JL_STORE_ISSUE_ERRORS_H
#define JL_STORE_ISSUE_ERRORS_H

#include <stddef.h>
#include <libpq-fe.h>

/* The Jira ids (column 0, digits only) of the project's issues recorded in
 * issue_errors (project NULL: every project, its key in column 1), each
 * once, the longest waiting first. 0 with *out (caller PQclear()s) or a
 * negative status. */
int jl_issue_errors_ids(PGconn *pg, int tenant, int integration, const char *project, PGresult **out,
	char *err, size_t errlen);

/* The issues not stored, the newest record of each, newest first, at most
 * max (project NULL: all): columns external_id (may be NULL), key (may be
 * NULL), project_key, raw_id, job_id, error, created_at (epoch seconds).
 * 0 with *out or a negative status. */
int jl_issue_errors_list(PGconn *pg, int tenant, int integration, const char *project, size_t max,
	PGresult **out, char *err, size_t errlen);

#endif
