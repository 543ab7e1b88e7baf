/* transform_bench.c - issues/s and changelog items/s of jetl_transform_batch
 * over generated realistic issues, beside a bare COPY of the same rows.
 *
 *   JETL_DB=postgresql://… build/bench/transform_bench [issues] [per_raw_row]
 *
 * Creates and drops its own database (jetl_bench_<pid>) on that server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libpq-fe.h>

#include "jetl.h"
#include "core/buf.h"
#include "core/util.h"
#include "store/copy.h"
#include "transform/transform.h"

static PGconn *connect_or_die(const char *conninfo)
{
	PGconn *pg = PQconnectdb(conninfo);

	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "connect: %s", PQerrorMessage(pg));
		exit(1);
	}
	return pg;
}

static void exec_or_die(PGconn *pg, const char *sql)
{
	PGresult *r = PQexec(pg, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(pg));
		exit(1);
	}
	PQclear(r);
}

/* One issue shaped like the recorded Cloud ones: ~110 custom fields, most
 * null; sprint objects; a Development field; 10 histories of 1-3 items,
 * newest first; ADF description. About 9 KB. */
static void gen_issue(jl_buf *b, long n, unsigned *seed)
{
	jl_buf_printf(b, "{\"id\":\"%ld\",\"key\":\"BEN-%ld\",\"self\":\"https://bench.atlassian.net/rest/api/3/issue/%ld\","
		"\"fields\":{\"summary\":\"Issue %ld: 排序图 of the \\\"pareto\\\" chart\\twith tabs\","
		"\"description\":{\"type\":\"doc\",\"version\":1,\"content\":[{\"type\":\"paragraph\",\"content\":"
		"[{\"type\":\"text\",\"text\":\"Steps to reproduce the problem seen in build %ld, see attached logs.\"}]},"
		"{\"type\":\"bulletList\",\"content\":[{\"type\":\"listItem\",\"content\":[{\"type\":\"paragraph\","
		"\"content\":[{\"type\":\"text\",\"text\":\"open the report\"}]}]}]}]},"
		"\"status\":{\"name\":\"In Progress\",\"id\":\"3\",\"statusCategory\":{\"key\":\"indeterminate\",\"id\":4}},"
		"\"issuetype\":{\"name\":\"Story\",\"id\":\"10001\",\"subtask\":false},"
		"\"priority\":{\"name\":\"Medium\",\"id\":\"3\"},\"resolution\":null,"
		"\"project\":{\"id\":\"10000\",\"key\":\"BEN\",\"name\":\"Bench\"},"
		"\"assignee\":{\"accountId\":\"5e%06ld\",\"displayName\":\"Dev %ld\",\"active\":true,\"timeZone\":\"Asia/Shanghai\"},"
		"\"reporter\":{\"accountId\":\"5f000001\",\"displayName\":\"Reporter\",\"active\":true},"
		"\"labels\":[\"backend\",\"perf\"],\"components\":[{\"id\":\"1\",\"name\":\"api\"}],"
		"\"fixVersions\":[{\"id\":\"2\",\"name\":\"v2.7.0\",\"released\":true}],"
		"\"created\":\"2020-06-12T08:13:13.360+0800\",\"updated\":\"2021-03-28T16:06:%02ld.713+0800\","
		"\"resolutiondate\":null,\"duedate\":\"2025-03-09\",",
		n, n, n, n, n, n % 1000000, n % 50, n % 60);
	jl_buf_puts(b, "\"customfield_10020\":[{\"id\":7,\"name\":\"Sprint 7\",\"state\":\"closed\",\"boardId\":8,"
		"\"startDate\":\"2020-06-12T00:38:50.000Z\",\"endDate\":\"2020-06-26T00:38:00.000Z\"}],");
	jl_buf_printf(b, "\"customfield_10000\":\"%s\",", n % 5 ? "{}" :
		"{repository={count=1, dataType=repository}, json={\\\"cachedValue\\\":{\\\"errors\\\":[],\\\"summary\\\":"
		"{\\\"repository\\\":{\\\"overall\\\":{\\\"count\\\":3,\\\"lastUpdated\\\":\\\"2020-06-15T18:59:35.000+0800\\\","
		"\\\"dataType\\\":\\\"repository\\\"},\\\"byInstanceType\\\":{\\\"bitbucket\\\":{\\\"count\\\":1,\\\"name\\\":"
		"\\\"Bitbucket Cloud\\\"}}}}},\\\"isStale\\\":true}}");
	jl_buf_printf(b, "\"customfield_10016\":%g,\"customfield_10019\":\"0|i000%lx:\",", (double)(n % 8) + 0.5, n);
	jl_buf_puts(b, "\"customfield_10030\":{\"self\":\"x\",\"value\":\"High\",\"id\":\"10021\"},");
	for (int c = 10100; c < 10206; c++)
		jl_buf_printf(b, "\"customfield_%d\":null,", c);
	jl_buf_puts(b, "\"watches\":{\"watchCount\":1,\"isWatching\":false}},\"changelog\":{\"startAt\":0,"
		"\"maxResults\":10,\"total\":10,\"histories\":[");
	for (int h = 9; h >= 0; h--) {
		int items = 1 + (int)(rand_r(seed) % 3);

		jl_buf_printf(b, "%s{\"id\":\"%ld\",\"author\":{\"accountId\":\"5e%06ld\",\"displayName\":\"Dev\","
			"\"active\":true},\"created\":\"2020-07-%02dT05:35:54.638+0800\",\"items\":[",
			h == 9 ? "" : ",", n * 10 + h, n % 1000000, h + 1);
		for (int i = 0; i < items; i++)
			jl_buf_printf(b, "%s{\"field\":\"status\",\"fieldtype\":\"jira\",\"fieldId\":\"status\","
				"\"from\":\"10067\",\"fromString\":\"To Do\",\"to\":\"3\",\"toString\":\"In Progress\"}",
				i ? "," : "");
		jl_buf_puts(b, "]}");
	}
	jl_buf_puts(b, "]}}");
}

int main(int argc, char **argv)
{
	long nissues = argc > 1 ? atol(argv[1]) : 20000, per = argc > 2 ? atol(argv[2]) : 100;
	const char *admin = getenv("JETL_DB");
	char dbname[64], conninfo[1024], sql[256];
	PGconn *adm, *pg;
	jetl_options o = JETL_OPTIONS_INIT;
	jetl_ctx *ctx;
	char err[512];
	unsigned seed = 42;
	long nraw = (nissues + per - 1) / per;
	long long first_id = 0, items = 0, wi = 0, bytes = 0;
	double t0, t_tx, t_pure = 0, t_copy;
	jl_transform_out *outs;

	if (!admin) {
		fprintf(stderr, "set JETL_DB (eval \"$(scripts/services start)\")\n");
		return 2;
	}
	snprintf(dbname, sizeof(dbname), "jetl_bench_%d", (int)getpid());
	adm = connect_or_die(admin);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
	exec_or_die(adm, sql);
	snprintf(conninfo, sizeof(conninfo), "%s", admin);
	{
		/* Same server, our database: replace the URI's path. */
		char *slash = strrchr(conninfo, '/');
		char *q = strchr(conninfo, '?');
		if (!slash || q) {
			fprintf(stderr, "JETL_DB must be a postgresql:// URI without parameters\n");
			return 2;
		}
		snprintf(slash + 1, sizeof(conninfo) - (size_t)(slash + 1 - conninfo), "%s", dbname);
	}
	o.db = conninfo;
	if (jetl_open_err(&ctx, &o, err, sizeof(err)) != JETL_OK || jetl_migrate(ctx) != JETL_OK) {
		fprintf(stderr, "open/migrate: %s\n", err);
		return 1;
	}
	pg = connect_or_die(conninfo);
	exec_or_die(pg, "INSERT INTO jira_fields (tenant_id, integration_id, field_id, name, custom, schema) VALUES "
		"(1,1,'customfield_10020','Sprint',true,'{\"type\":\"array\",\"custom\":\"com.pyxis.greenhopper.jira:gh-sprint\"}'),"
		"(1,1,'customfield_10000','Development',true,'{\"type\":\"any\"}'),"
		"(1,1,'customfield_10016','Story Points',true,'{\"type\":\"number\"}'),"
		"(1,1,'customfield_10030','Severity',true,'{\"type\":\"option\"}');"
		"INSERT INTO custom_field_mappings VALUES (1,1,1,'customfield_10030','Severity','option'),"
		"(1,1,2,'customfield_10016','Story Points','number')");

	/* Raw rows (not timed). */
	outs = calloc((size_t)nraw, sizeof(*outs));
	for (long r = 0; r < nraw; r++) {
		jl_buf doc = JL_BUF_INIT;
		const char *params[1];
		PGresult *res;

		jl_buf_puts(&doc, "{\"issues\":[");
		for (long i = r * per; i < nissues && i < (r + 1) * per; i++) {
			if (i > r * per)
				jl_buf_putc(&doc, ',');
			gen_issue(&doc, 100000 + i, &seed);
		}
		jl_buf_puts(&doc, "]}");
		bytes += (long long)doc.len;
		params[0] = doc.data;
		res = PQexecParams(pg, "INSERT INTO raw_extraction_data (tenant_id, integration_id, type, project_key, "
			"raw_data, item_count) VALUES (1,1,'jira_issues_changelogs_dev_status','BEN',$1,100) RETURNING id",
			1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			fprintf(stderr, "insert raw: %s", PQerrorMessage(pg));
			return 1;
		}
		if (r == 0)
			first_id = atoll(PQgetvalue(res, 0, 0));
		PQclear(res);
		/* The pure transform alone, kept for the bare COPY below. */
		{
			jl_transform_in in = { doc.data, doc.len, first_id + r, "BEN", NULL, NULL, NULL };
			double p0 = jl_now();

			jl_transform_out_init(&outs[r]);
			if (jl_transform_raw(&in, &outs[r]) != JETL_OK) {
				fprintf(stderr, "transform: %s\n", outs[r].err);
				return 1;
			}
			t_pure += jl_now() - p0;
		}
		jl_buf_free(&doc);
	}

	/* jetl_transform_batch: read, transform, COPY + upserts, mark — per raw row. */
	t0 = jl_now();
	for (long r = 0; r < nraw; r++) {
		jetl_transform_result res = JETL_TRANSFORM_RESULT_INIT;

		if (jetl_transform_batch(ctx, first_id + r, &res) != JETL_OK) {
			fprintf(stderr, "transform_batch: %s\n", jetl_last_error(ctx));
			return 1;
		}
		items += res.changelog_items;
		wi += res.work_items;
	}
	t_tx = jl_now() - t0;

	/* Bare COPY of the same final rows into constraint-free tables. */
	exec_or_die(pg, "CREATE TABLE bare_wi AS SELECT * FROM work_items WITH NO DATA;"
		"CREATE TABLE bare_cl AS SELECT * FROM changelogs WITH NO DATA;"
		"CREATE TABLE bare_ds AS SELECT * FROM dev_status WITH NO DATA");
	t0 = jl_now();
	exec_or_die(pg, "BEGIN");
	for (long r = 0; r < nraw; r++) {
		if (jl_copy_rowset(pg, "bare_wi", &outs[r].work_items, err, sizeof(err)) < 0 ||
		    jl_copy_rowset(pg, "bare_cl", &outs[r].changelogs, err, sizeof(err)) < 0 ||
		    jl_copy_rowset(pg, "bare_ds", &outs[r].dev_status, err, sizeof(err)) < 0) {
			fprintf(stderr, "bare copy: %s\n", err);
			return 1;
		}
	}
	exec_or_die(pg, "COMMIT");
	t_copy = jl_now() - t0;

	printf("issues: %lld in %ld raw rows of %ld (%.1f KB/issue raw JSON); changelog items: %lld\n",
		wi, nraw, per, (double)bytes / (double)nissues / 1024.0, items);
	printf("jetl_transform_batch (read+transform+COPY+upsert+mark, 1 thread): %.2f s = %.0f issues/s, %.0f changelog items/s\n",
		t_tx, (double)wi / t_tx, (double)items / t_tx);
	printf("pure transform only (JSON -> rowsets, no I/O):                  %.2f s = %.0f issues/s\n",
		t_pure, (double)nissues / t_pure);
	printf("bare COPY of the same final rows (no upsert, no indexes):       %.2f s = %.0f issues/s\n",
		t_copy, (double)nissues / t_copy);

	for (long r = 0; r < nraw; r++)
		jl_transform_out_free(&outs[r]);
	free(outs);
	PQfinish(pg);
	jetl_close(ctx);
	snprintf(sql, sizeof(sql), "DROP DATABASE %s", dbname);
	exec_or_die(adm, sql);
	PQfinish(adm);
	return 0;
}
