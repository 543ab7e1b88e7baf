/* migrate.c - apply the numbered migrations under an advisory lock. */
#include <stdio.h>
#include <stdlib.h>

#include "jetl/common.h"
#include "db.h"
#include "migrate.h"
#include "schema.h"

/* Arbitrary but fixed: every jetl process agrees on it ("jetl" in ASCII). */
#define MIGRATE_LOCK_KEY "1785029740"

int jl_store_schema_version(void)
{
	return jl_migration_count;
}

static int current_version(PGconn *pg, int *version, char *err, size_t errlen)
{
	PGresult *r = jl_store_exec(pg, "reading schema_migrations",
		"SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL, err, errlen);

	if (!r)
		return -1;
	*version = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

static int apply(PGconn *pg, const struct jl_migration *m, char *err, size_t errlen)
{
	char what[128], ver[16];
	const char *params[2];

	snprintf(what, sizeof(what), "migration %d (%s)", m->version, m->name);
	snprintf(ver, sizeof(ver), "%d", m->version);
	params[0] = ver;
	params[1] = m->name;
	if (jl_store_cmd(pg, what, "BEGIN", 0, NULL, err, errlen) < 0)
		return -1;
	/* PQexec (not PQexecParams) because a migration holds several statements. */
	PGresult *r = PQexec(pg, m->sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		jl_store_error(pg, r, what, err, errlen);
		PQclear(r);
		PQclear(PQexec(pg, "ROLLBACK"));
		return -1;
	}
	PQclear(r);
	if (jl_store_cmd(pg, what, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
			2, params, err, errlen) < 0 ||
	    jl_store_cmd(pg, what, "COMMIT", 0, NULL, err, errlen) < 0) {
		PQclear(PQexec(pg, "ROLLBACK"));
		return -1;
	}
	return 0;
}

int jl_store_migrate(PGconn *pg, char *err, size_t errlen)
{
	int version = 0, rc = JETL_OK;

	if (jl_store_cmd(pg, "taking the migration lock",
			"SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL, err, errlen) < 0)
		return JETL_EDB;
	/* Two processes may both try to create this table: the lock makes the
	 * second one wait, then see it. */
	if (jl_store_cmd(pg, "creating schema_migrations",
			"CREATE TABLE IF NOT EXISTS schema_migrations ("
			" version integer PRIMARY KEY, name text NOT NULL,"
			" applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL, err, errlen) < 0 ||
	    current_version(pg, &version, err, errlen) < 0) {
		rc = JETL_EDB;
		goto unlock;
	}
	if (version > jl_migration_count) {
		snprintf(err, errlen, "postgresql: schema version %d is newer than this library's %d: "
			"upgrade jetl", version, jl_migration_count);
		rc = JETL_ESCHEMA;
		goto unlock;
	}
	for (int i = 0; i < jl_migration_count; i++) {
		if (jl_migrations[i].version <= version)
			continue;
		if (apply(pg, &jl_migrations[i], err, errlen) < 0) {
			rc = JETL_EDB;
			break;
		}
	}
unlock:
	PQclear(PQexec(pg, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
	return rc;
}

int jl_store_schema_check(PGconn *pg, char *err, size_t errlen)
{
	PGresult *r = PQexec(pg, "SELECT coalesce(max(version), 0) FROM schema_migrations");
	int version;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		snprintf(err, errlen, "postgresql: no jetl schema in this database: run `jetl migrate`");
		return JETL_ESCHEMA;
	}
	version = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (version < jl_migration_count) {
		snprintf(err, errlen, "postgresql: schema version %d is older than this library's %d: "
			"run `jetl migrate`", version, jl_migration_count);
		return JETL_ESCHEMA;
	}
	if (version > jl_migration_count) {
		snprintf(err, errlen, "postgresql: schema version %d is newer than this library's %d: "
			"upgrade jetl", version, jl_migration_count);
		return JETL_ESCHEMA;
	}
	return JETL_OK;
}
