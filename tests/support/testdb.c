/* testdb.c - throwaway databases for integration tests. */
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jetl.h"
#include "testdb.h"

static char dbname[64];
static char conninfo[1024];

const char *testdb_admin(void)
{
	const char *db = getenv("JETL_DB");

	if (!db || !*db)
		cr_assert_fail("JETL_DB is not set: run the integration tests through scripts/test");
	return db;
}

static PGconn *admin_conn(void)
{
	PGconn *pg = PQconnectdb(testdb_admin());

	if (PQstatus(pg) != CONNECTION_OK)
		cr_assert_fail("cannot connect to JETL_DB: %s", PQerrorMessage(pg));
	return pg;
}

const char *testdb_create(void)
{
	PGconn *pg = admin_conn();
	PGresult *r;
	char sql[128];
	PQconninfoOption *opts, *o;
	size_t n = 0;

	if (dbname[0])
		return conninfo;
	snprintf(dbname, sizeof(dbname), "jetl_t_%ld_%ld", (long)getpid(), (long)time(NULL) % 100000);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
	PQclear(PQexec(pg, "SET client_min_messages = warning"));
	r = PQexec(pg, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		cr_assert_fail("CREATE DATABASE failed: %s", PQerrorMessage(pg));
	PQclear(r);
	PQfinish(pg);
	/* Rebuild the admin conninfo with our dbname, as key=value pairs. */
	opts = PQconninfoParse(testdb_admin(), NULL);
	if (!opts)
		cr_assert_fail("JETL_DB is not a valid conninfo");
	conninfo[0] = '\0';
	for (o = opts; o->keyword; o++) {
		const char *v = strcmp(o->keyword, "dbname") == 0 ? dbname : o->val;
		if (!v)
			continue;
		n += (size_t)snprintf(conninfo + n, sizeof(conninfo) - n, "%s='%s' ", o->keyword, v);
	}
	if (!strstr(conninfo, "dbname="))
		snprintf(conninfo + n, sizeof(conninfo) - n, "dbname='%s'", dbname);
	PQconninfoFree(opts);
	return conninfo;
}

void testdb_drop(void)
{
	PGconn *pg;
	char sql[128];

	if (!dbname[0])
		return;
	pg = admin_conn();
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
	PQclear(PQexec(pg, sql));
	PQfinish(pg);
	dbname[0] = '\0';
}

static PGresult *run(const char *sql, PGconn **pgout)
{
	PGconn *pg = PQconnectdb(conninfo);
	PGresult *r;

	if (PQstatus(pg) != CONNECTION_OK)
		cr_assert_fail("cannot connect to the test database: %s", PQerrorMessage(pg));
	r = PQexec(pg, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
		cr_assert_fail("SQL failed (%s): %s", sql, PQerrorMessage(pg));
	*pgout = pg;
	return r;
}

char *testdb_scalar(const char *sql)
{
	PGconn *pg;
	PGresult *r = run(sql, &pg);
	char *v = NULL;

	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(pg);
	return v;
}

char *testdb_scalarf(const char *fmt, ...)
{
	char sql[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	return testdb_scalar(sql);
}

long long testdb_countf(const char *fmt, ...)
{
	char sql[4096], *v;
	va_list ap;
	long long n;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	v = testdb_scalar(sql);
	n = v ? atoll(v) : -1;
	free(v);
	return n;
}

void testdb_exec(const char *sql)
{
	PGconn *pg;

	PQclear(run(sql, &pg));
	PQfinish(pg);
}

struct pg_conn *testdb_create_migrated(void)
{
	jetl_options o = JETL_OPTIONS_INIT;
	jetl_ctx *ctx = NULL;
	char err[512];
	PGconn *pg;

	o.db = testdb_create();
	o.queue_url = "";
	cr_assert_eq(jetl_open_err(&ctx, &o, err, sizeof(err)), JETL_OK, "open: %s", err);
	cr_assert_eq(jetl_migrate(ctx), JETL_OK, "%s", jetl_last_error(ctx));
	jetl_close(ctx);
	pg = PQconnectdb(o.db);
	cr_assert_eq(PQstatus(pg), CONNECTION_OK, "connect: %s", PQerrorMessage(pg));
	return pg;
}
