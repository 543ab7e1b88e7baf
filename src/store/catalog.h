/* catalog.h - what Jira has besides issues: fields and their slots, and the census
 * of issue ids used to notice deleted issues. */
#ifndef JL_STORE_CATALOG_H
#define JL_STORE_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "../model/catalog.h"

/* Upsert jira_fields from the JSON text of Jira's /field array; *count gets
 * the number of fields. One statement whatever the size. */
int jl_catalog_fields(PGconn *pg, int tenant, int integration, const char *fields_json,
	int64_t *count, char *err, size_t errlen);


/* Census of a project's issue ids, kept in a session temp table. */
int jl_census_begin(PGconn *pg, char *err, size_t errlen);
int jl_census_add(PGconn *pg, const char *ids_json_array, char *err, size_t errlen);
/* A census missing more than this share (%) of a project's live stored
 * issues, and more than JL_CENSUS_FEW of them, marks none deleted unless
 * confirmed: an empty or short answer (a Jira hiccup, a permission blip)
 * looks like that, and real mass deletions are rare. */
#define JL_CENSUS_MAX_SHARE 50
#define JL_CENSUS_FEW 10

/* Mark live work_items of the project that the census did not see as
 * deleted (deleted_at = now()), except those written from a raw row of
 * job_id: the run saw them alive (created after its census was listed);
 * *marked gets how many. When that would be more than the share above and
 * allow_mass is 0, none is marked and *refused gets how many would have
 * been. Rows marked deleted that the census shows again are cleared
 * (*healed). One statement on the caller's connection (the census is its
 * temp table); 0, or a negative status (jl_store_error) with err. */
int jl_census_mark_deleted(PGconn *pg, int tenant, int integration, const char *project, int64_t job_id,
	int allow_mass, int64_t *marked, int64_t *refused, int64_t *healed, char *err, size_t errlen);

/* The synced fields with their slot (0: none): columns field_id, name,
 * type, custom ('t'/'f'), slot; standard fields first. 0 with *out (caller
 * PQclear()s) or a status. */
int jl_catalog_list(PGconn *pg, int tenant, int integration, PGresult **out, char *err, size_t errlen);

/* The catalog's two reads (parameters $1 tenant, $2 integration): slot
 * mappings first (add_field fills their types from the schema), then the
 * custom fields of jira_fields. */
extern const char jl_catalog_sql_mappings[];
extern const char jl_catalog_sql_fields[];

/* Fill cat from the results of those two reads. 0 or JETL_ENOMEM. */
int jl_catalog_fill(jl_catalog *cat, const PGresult *maps, const PGresult *fields, char *err, size_t errlen);

/* Fill cat from custom_field_mappings, then jira_fields (custom fields). */
int jl_catalog_read(PGconn *pg, int tenant, int integration, jl_catalog *cat, char *err, size_t errlen);

/* Map a Jira field to slot 1..20 (0: unmap it), in its own transaction: the
 * field's old slot and the slot's old field are freed first; name and type
 * come from jira_fields when present. 0 or a status. */
int jl_field_mapping_set(PGconn *pg, int tenant, int integration, const char *field_id, int slot,
	char *err, size_t errlen);

#endif
