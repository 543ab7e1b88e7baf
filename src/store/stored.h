/* stored.h - questions the extraction asks about issues already stored.
 * One connection per thread; errors as jl_store_error gives them. */
#ifndef JL_STORE_STORED_H
#define JL_STORE_STORED_H

#include <stddef.h>
#include <libpq-fe.h>

/*
 * Of a page of issues (ids_json, updated_json: JSON arrays of strings, same
 * length, "" for an unknown `updated`), the 0-based positions of those
 * stored live with exactly that `updated` (PostgreSQL reads the timestamp).
 * Returns 0 with *out one row per position (caller PQclear()s), or a
 * negative status with err set.
 */
int jl_stored_unchanged(PGconn *pg, int tenant, int integration, const char *ids_json, const char *updated_json,
	PGresult **out, char *err, size_t errlen);

/* *any = whether the project has a live stored issue. 0 or a status. */
int jl_stored_project_live(PGconn *pg, int tenant, int integration, const char *project, int *any,
	char *err, size_t errlen);

#endif
