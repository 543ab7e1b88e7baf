/* testdb.h - throwaway databases on the private PostgreSQL for integration tests. */
#ifndef JETL_TESTDB_H
#define JETL_TESTDB_H

/* Conninfo of the server (from $JETL_DB); aborts the test when unset. */
const char *testdb_admin(void);
/* Create an empty database with a unique name; returns its conninfo (static
 * storage per process; one per test process is enough). */
const char *testdb_create(void);
/* testdb_create(), migrated by jetl_migrate(), and a libpq connection to it
 * for tests of src/store's functions (the caller PQfinish()es it). Aborts
 * the test on failure. */
struct pg_conn *testdb_create_migrated(void);
/* Drop the database made by testdb_create() (ignores failures). */
void testdb_drop(void);
/* Run SQL on the test database and return the first value as a malloc'd
 * string (NULL for SQL NULL or no row); aborts the test on error. */
char *testdb_scalar(const char *sql);
/* Run SQL (several statements allowed); aborts the test on error. */
void testdb_exec(const char *sql);

#endif
