/* migrate.h - the schema (docs/design.md, 'Tables') as numbered migrations. */
#ifndef JL_STORE_MIGRATE_H
#define JL_STORE_MIGRATE_H

#include <stddef.h>
#include <libpq-fe.h>

/*
 * Apply every migration not yet recorded in schema_migrations, each in its
 * own transaction, under a session advisory lock so that concurrent callers
 * wait for each other instead of racing. Returns a jetl_status; on failure a
 * one-line cause is in err.
 */
int jl_store_migrate(PGconn *pg, char *err, size_t errlen);

/* Number of migrations this library knows (its schema version). */
int jl_store_schema_version(void);

/*
 * JETL_OK when the database's schema is exactly this library's version,
 * JETL_ESCHEMA with a message when it is missing, older or newer.
 */
int jl_store_schema_check(PGconn *pg, char *err, size_t errlen);

#endif
