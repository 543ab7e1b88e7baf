/* catalog.h - what Jira has besides issues: fields, projects, and the census
 * of issue ids used to notice deleted issues. */
#ifndef JL_STORE_CATALOG_H
#define JL_STORE_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

/* Upsert jira_fields from the JSON text of Jira's /field array; *count gets
 * the number of fields. One statement whatever the size. */
int jl_catalog_fields(PGconn *pg, int tenant, int integration, const char *fields_json,
	int64_t *count, char *err, size_t errlen);

/* Upsert projects from a JSON array of {id, key, name, projectTypeKey}. */
int jl_catalog_projects(PGconn *pg, int tenant, int integration, const char *projects_json,
	char *err, size_t errlen);


/* Census of a project's issue ids, kept in a session temp table. */
int jl_census_begin(PGconn *pg, char *err, size_t errlen);
int jl_census_add(PGconn *pg, const char *ids_json_array, char *err, size_t errlen);
/* Mark live work_items of the project that the census did not see as
 * deleted (deleted_at = now()); *marked gets how many. */
int jl_census_mark_deleted(PGconn *pg, int tenant, int integration, const char *project,
	int64_t *marked, char *err, size_t errlen);

/* The synced fields with their slot (0: none): columns field_id, name,
 * type, custom ('t'/'f'), slot; standard fields first. 0 with *out (caller
 * PQclear()s) or a status. */
int jl_catalog_list(PGconn *pg, int tenant, int integration, PGresult **out, char *err, size_t errlen);

#endif
