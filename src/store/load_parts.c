/* load_parts.c - SQL for the types an issue carries, from their
 * descriptors (see load_parts.h). */
#include <stdlib.h>
#include <string.h>

#include "load_parts.h"

/* "a, b, c" of cols[from, to), each prefixed by pre (NULL: none). */
static void col_list(jl_buf *b, const jl_part_desc *d, int from, int to, const char *pre)
{
	for (int c = from; c < to; c++)
		jl_buf_printf(b, "%s%s%s", c > from ? ", " : "", pre ? pre : "", d->cols[c]);
}

static void copy_into(jl_buf *sql, const char *table, const jl_part_desc *d)
{
	jl_buf_printf(sql, "COPY %s (tenant_id, integration_id, ", table);
	col_list(sql, d, 0, d->ncols, NULL);
	jl_buf_puts(sql, ") FROM STDIN;");
}

/* "(x.k1, x.k2) = (f.k1, f.k2)" */
static void key_match(jl_buf *b, const jl_part_desc *d, const char *x, const char *f)
{
	jl_buf_puts(b, "(");
	col_list(b, d, 0, d->nkey, x);
	jl_buf_puts(b, ") = (");
	col_list(b, d, 0, d->nkey, f);
	jl_buf_puts(b, ")");
}

/* The owned type's rows of stale issues leave the temp table (they are
 * no longer in jl_t_work_items), then the stored rows of the batch's
 * issues whose part was read that the batch no longer has are deleted. */
static void owned_replace(jl_buf *sql, const jl_part_desc *d, const char *t, const char *i)
{
	jl_buf_printf(sql, "DELETE FROM jl_t_%s x WHERE NOT EXISTS (SELECT 1 FROM jl_t_work_items w "
		"WHERE w.external_id = x.%s);", d->table, d->cols[0]);
	jl_buf_printf(sql, "DELETE FROM %s f WHERE f.tenant_id = %s AND f.integration_id = %s "
		"AND f.%s IN (SELECT external_id FROM jl_t_work_items) "
		"AND f.%s IN (SELECT external_id FROM jl_t_parts_read WHERE part = '%s') "
		"AND NOT EXISTS (SELECT 1 FROM jl_t_%s x WHERE ",
		d->table, t, i, d->cols[0], d->cols[0], d->name, d->table);
	key_match(sql, d, "x.", "f.");
	jl_buf_puts(sql, ");");
}

/* INSERT … SELECT DISTINCT ON (key) … ON CONFLICT DO UPDATE the other
 * columns, only where one differs. */
static void upsert(jl_buf *sql, const jl_part_desc *d)
{
	jl_buf_printf(sql, "INSERT INTO %s AS x (tenant_id, integration_id, ", d->table);
	col_list(sql, d, 0, d->ncols, NULL);
	jl_buf_puts(sql, ") SELECT DISTINCT ON (");
	col_list(sql, d, 0, d->nkey, NULL);
	jl_buf_puts(sql, ") tenant_id, integration_id, ");
	col_list(sql, d, 0, d->ncols, NULL);
	jl_buf_printf(sql, " FROM jl_t_%s ORDER BY ", d->table);
	col_list(sql, d, 0, d->nkey, NULL);
	jl_buf_puts(sql, " ON CONFLICT (tenant_id, integration_id, ");
	col_list(sql, d, 0, d->nkey, NULL);
	jl_buf_puts(sql, ") DO UPDATE SET ");
	for (int c = d->nkey; c < d->ncols; c++)
		jl_buf_printf(sql, "%s = EXCLUDED.%s, ", d->cols[c], d->cols[c]);
	jl_buf_printf(sql, "synced_at = now() WHERE (");
	col_list(sql, d, d->nkey, d->ncols, "x.");
	jl_buf_puts(sql, ") IS DISTINCT FROM (");
	col_list(sql, d, d->nkey, d->ncols, "EXCLUDED.");
	jl_buf_puts(sql, ");");
}

int jl_parts_sql(jl_buf *sql, jl_stmt *st, int first, const jl_rowset *sets[JL_PART_N][JL_PARTS_GROUP_MAX], int n,
	int upsert_path, const jl_rowset *read, const char *t, const char *i, const char *prefix, jl_parts_plan *plan)
{
	int ns = 0;

	plan->first = first;
	if (upsert_path) {
		jl_buf_puts(sql, "CREATE TEMP TABLE IF NOT EXISTS jl_t_parts_read (part text NOT NULL, external_id text NOT NULL) "
			"ON COMMIT DELETE ROWS;DELETE FROM jl_t_parts_read;COPY jl_t_parts_read (part, external_id) FROM STDIN;");
		st[ns++] = (jl_stmt){ "create temp tables", NULL, 0, NULL, NULL, NULL, 0 };
		st[ns++] = (jl_stmt){ "create temp tables", NULL, 0, NULL, NULL, NULL, 0 };
		st[ns++] = (jl_stmt){ "COPY jl_t_parts_read", read, 0, NULL, NULL, NULL, 0 };
	}
	for (int p = 0; p < JL_PART_N; p++) {
		const jl_part_desc *d = &jl_parts[p];
		int owned = d->scope == JL_PART_OWNED;
		char tmp[64];

		plan->stale[p] = plan->insert[p] = -1;
		plan->rows[p] = 0;
		for (int k = 0; k < n; k++)
			plan->rows[p] += (int64_t)sets[p][k]->nrows;
		if (owned && !upsert_path) {
			copy_into(sql, d->table, d);
			st[ns++] = (jl_stmt){ d->name, sets[p][0], 0, NULL, prefix, sets[p], n };
			continue;
		}
		snprintf(tmp, sizeof(tmp), "jl_t_%s", d->table);
		/* The final table's columns and defaults; its synced_at is set by
		 * the upsert. */
		jl_buf_printf(sql, "CREATE TEMP TABLE IF NOT EXISTS %s (LIKE %s INCLUDING DEFAULTS) "
			"ON COMMIT DELETE ROWS;DELETE FROM %s;", tmp, d->table, tmp);
		st[ns++] = (jl_stmt){ "create temp tables", NULL, 0, NULL, NULL, NULL, 0 };
		st[ns++] = (jl_stmt){ "create temp tables", NULL, 0, NULL, NULL, NULL, 0 };
		copy_into(sql, tmp, d);
		st[ns++] = (jl_stmt){ d->name, sets[p][0], 0, NULL, prefix, sets[p], n };
		if (owned) {
			owned_replace(sql, d, t, i);
			plan->stale[p] = first + ns;
			st[ns++] = (jl_stmt){ d->name, NULL, 1, NULL, NULL, NULL, 0 };
			st[ns++] = (jl_stmt){ d->name, NULL, 0, NULL, NULL, NULL, 0 };
		}
		upsert(sql, d);
		plan->insert[p] = first + ns;
		st[ns++] = (jl_stmt){ d->name, NULL, 1, NULL, NULL, NULL, 0 };
	}
	return sql->oom ? -1 : ns;
}

static int64_t affected(const jl_stmt *s)
{
	const char *v = s->res ? PQcmdTuples(s->res) : NULL;

	return v && *v ? strtoll(v, NULL, 10) : 0;
}

int64_t jl_parts_count(const jl_parts_plan *plan, const jl_stmt *st, int p)
{
	if (jl_parts[p].scope == JL_PART_SHARED)
		return plan->insert[p] >= 0 ? affected(&st[plan->insert[p]]) : 0;
	if (plan->stale[p] >= 0)
		return plan->rows[p] - affected(&st[plan->stale[p]]);
	return plan->rows[p];
}
