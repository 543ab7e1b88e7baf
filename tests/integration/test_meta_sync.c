/* test_meta_sync.c - what discovery writes (projects, issue types,
 * statuses), on the real PostgreSQL: Jira's list upserted and active, what
 * it no longer lists kept but inactive, the selection set or kept, every
 * column from Jira's names, another integration's rows left alone. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl.h"
#include "testdb.h"
#include "store/db.h"
#include "store/integrations.h"

static PGconn *pg;
static char err[512];

static void setup(void)
{
	pg = testdb_create_migrated();
}

static void teardown(void)
{
	PQfinish(pg);
	pg = NULL;
	testdb_drop();
}

TestSuite(meta_sync, .init = setup, .fini = teardown, .timeout = 60);

/* The table's rows of tenant 1 / integration 2 as "col|col|...;" ordered
 * by external_id, a NULL as "-", booleans as t/f. cols: names separated by ", ". */
static char *rows(const char *cols, const char *table)
{
	char sql[2048], expr[1024] = "", *c = strdup(cols), *save = NULL;

	for (char *tok = strtok_r(c, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
		snprintf(expr + strlen(expr), sizeof(expr) - strlen(expr), "%sCASE WHEN %s IS NULL THEN '-' ELSE format('%%s', %s) END",
			expr[0] ? ", " : "", tok, tok);
	free(c);
	snprintf(sql, sizeof(sql), "SELECT coalesce(string_agg(concat_ws('|', %s), ';' ORDER BY external_id), '')"
		" FROM %s WHERE tenant_id = 1 AND integration_id = 2", expr, table);
	return testdb_scalar(sql);
}

static void expect(const char *cols, const char *table, const char *want)
{
	char *got = rows(cols, table);

	cr_expect_str_eq(got, want, "%s:\n got  %s\n want %s", table, got, want);
	free(got);
}

Test(meta_sync, projects_upserted_deactivated_and_selected)
{
	int64_t n = -1;

	/* another integration's project must never change */
	cr_assert_eq(jl_meta_projects(pg, 1, 3, "[{\"id\":\"9\",\"key\":\"OTHER\",\"name\":\"O\"}]", NULL, &n,
		err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(jl_meta_projects(pg, 1, 2,
		"[{\"id\":\"10\",\"key\":\"AAA\",\"name\":\"Alpha\",\"projectTypeKey\":\"software\"},"
		" {\"id\":\"11\",\"key\":\"BBB\",\"name\":\"Beta\",\"projectType\":\"business\"},"
		" {\"id\":\"11\",\"key\":\"BBB\",\"name\":\"Beta again\"}, {\"key\":\"NOID\"}, {\"id\":\"12\"}]",
		"[\"BBB\"]", &n, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(n, 2);
	expect("external_id, key, name, project_type, active, selected", "projects",
		"10|AAA|Alpha|software|t|f;11|BBB|Beta|business|t|t");
	/* Jira lists AAA only, renamed; no selection given: BBB kept inactive, selections kept */
	cr_assert_eq(jl_meta_projects(pg, 1, 2, "[{\"id\":\"10\",\"key\":\"AAB\",\"name\":\"Alpha 2\"}]", NULL, &n,
		err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(n, 1);
	expect("external_id, key, name, project_type, active, selected", "projects",
		"10|AAB|Alpha 2|-|t|f;11|BBB|Beta|business|f|t");
	/* BBB back, a new selection */
	cr_assert_eq(jl_meta_projects(pg, 1, 2, "[{\"id\":\"10\",\"key\":\"AAB\"},{\"id\":\"11\",\"key\":\"BBB\"}]",
		"[\"AAB\"]", &n, err, sizeof(err)), 0, "%s", err);
	expect("key, active, selected", "projects", "AAB|t|t;BBB|t|f");
	cr_expect_eq(testdb_scalar("SELECT count(*) FROM projects WHERE integration_id = 3 AND active AND key = 'OTHER'")[0],
		'1');
}

Test(meta_sync, issue_types_and_statuses)
{
	int64_t n = -1;

	cr_assert_eq(jl_meta_issue_types(pg, 1, 2,
		"[{\"id\":\"1\",\"name\":\"Bug\",\"description\":\"A bug\",\"subtask\":false,\"hierarchyLevel\":0},"
		" {\"id\":\"2\",\"name\":\"Sub\",\"subtask\":true,\"hierarchyLevel\":-1}, {\"name\":\"no id\"}]",
		&n, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(n, 2);
	expect("external_id, name, description, subtask, hierarchy_level, active", "issue_types",
		"1|Bug|A bug|f|0|t;2|Sub|-|t|-1|t");
	cr_assert_eq(jl_meta_issue_types(pg, 1, 2, "[{\"id\":\"2\",\"name\":\"Sub-task\"}]", &n, err, sizeof(err)),
		0, "%s", err);
	expect("external_id, name, subtask, active", "issue_types", "1|Bug|f|f;2|Sub-task|f|t");

	cr_assert_eq(jl_meta_statuses(pg, 1, 2,
		"[{\"id\":\"3\",\"name\":\"In Progress\",\"statusCategory\":{\"key\":\"indeterminate\",\"name\":\"In Progress\"}},"
		" {\"id\":\"6\",\"name\":\"Closed\",\"statusCategory\":{\"key\":\"done\",\"name\":\"Done\"}}]",
		&n, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(n, 2);
	expect("external_id, name, category_key, category_name, active", "statuses",
		"3|In Progress|indeterminate|In Progress|t;6|Closed|done|Done|t");
	cr_assert_eq(jl_meta_statuses(pg, 1, 2, "[]", &n, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(n, 0);
	expect("external_id, active", "statuses", "3|f;6|f");
	/* not JSON: the statement fails, named, and nothing changes */
	cr_expect_lt(jl_meta_statuses(pg, 1, 2, "[{", &n, err, sizeof(err)), 0);
	cr_expect(strstr(err, "storing statuses") != NULL, "%s", err);
	expect("external_id, active", "statuses", "3|f;6|f");
}
