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
/* testdb_scalar of printf-formatted SQL (up to 4 KB). */
char *testdb_scalarf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The first value of printf-formatted SQL as a number; -1 for SQL NULL or
 * no row. Aborts the test on error. */
long long testdb_countf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Assert that testdb_scalarf(...) is the string want ("(null)" for NULL). */
#define SCALAR_IS(want, ...) do { char *got_ = testdb_scalarf(__VA_ARGS__); \
	cr_assert_str_eq(got_ ? got_ : "(null)", want); free(got_); } while (0)

#endif
