/* test_overflow_text.c - custom fields bound for custom_fields_overflow are
 * kept as Jira's text by the parser (jparse.h, jl_json_lazy) instead of a
 * tree written out again. Each case is mapped twice: one issue at a time
 * (the lazy path: the catalog names Sprint and Development) and as a whole
 * page (an extra top-level key sends the row through json_loadb and the
 * trees). Both must give the same rows, warnings and errors, and overflows
 * that are the same JSON (jsonb equality is checked against PostgreSQL in
 * tests/integration/test_transform_db.c). No servers. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl.h"
#include "core/buf.h"
#include "transform/jparse.h"
#include "transform/transform.h"

/* What every case's overflow starts with: Sprint and Story Points go there
 * too, from their trees (custom_fields.c). */
#define PRE "{\"customfield_10020\":[{\"id\":1,\"name\":\"S1\"}],\"customfield_10016\":3.5,"

static void catalog(jl_catalog *cat)
{
	jl_catalog_init(cat);
	jl_catalog_set_slot(cat, 1, "customfield_10019", "number");
	jl_catalog_set_slot(cat, 2, "customfield_10015", "option");
	jl_catalog_add_field(cat, "customfield_10020", "Sprint", NULL);
	jl_catalog_add_field(cat, "customfield_10000", "Development", NULL);
	jl_catalog_add_field(cat, "customfield_10016", "Story Points", NULL);
	jl_catalog_add_field(cat, "customfield_10014", "Epic Link", NULL);
	cr_assert_not_null(cat->sprint);
	cr_assert_not_null(cat->development);
	cr_assert_not_null(cat->story_points);
	cr_assert_not_null(cat->epic_link);
}

static int transform(const char *raw, const jl_catalog *cat, jl_transform_out *out)
{
	jl_transform_in in = { raw, strlen(raw), 9, NULL, cat, NULL, NULL };

	jl_transform_out_init(out);
	return jl_transform_raw(&in, out);
}

static const char *overflow(const jl_transform_out *out, size_t row)
{
	const jl_cell *c = jl_rowset_cget(&out->work_items, row, jl_rowset_col(&out->work_items, "custom_fields_overflow"));

	return c->kind == JL_CELL_TEXT ? c->v.s : NULL;
}

/* Same rows; the overflow the same JSON, every other cell the same bytes. */
static void same_rows(const jl_rowset *a, const jl_rowset *b, const char *what)
{
	cr_assert_eq(a->nrows, b->nrows, "%s: %s: %zu vs %zu rows", what, a->table, a->nrows, b->nrows);
	for (size_t r = 0; r < a->nrows; r++)
		for (int c = 0; c < a->ncols; c++) {
			const jl_cell *x = jl_rowset_cget(a, r, c), *y = jl_rowset_cget(b, r, c);

			cr_assert_eq(x->kind, y->kind, "%s: %s row %zu %s", what, a->table, r, a->cols[c]);
			if (x->kind == JL_CELL_TEXT && strcmp(a->cols[c], "custom_fields_overflow") == 0) {
				json_t *jx = json_loads(x->v.s, 0, NULL), *jy = json_loads(y->v.s, 0, NULL);

				cr_assert(jx && jy && json_equal(jx, jy), "%s: overflow differs:\n%s\n%s", what,
					x->v.s, y->v.s);
				json_decref(jx);
				json_decref(jy);
			} else if (x->kind == JL_CELL_TEXT) {
				cr_assert_str_eq(x->v.s, y->v.s, "%s: %s row %zu %s", what, a->table, r, a->cols[c]);
			} else if (x->kind == JL_CELL_ARRAY) {
				cr_assert_eq(x->n, y->n, "%s: %s", what, a->cols[c]);
				for (uint32_t i = 0; i < x->n; i++)
					cr_assert_str_eq(x->v.items[i], y->v.items[i], "%s", what);
			}
		}
}

/* One issue with these custom fields, mapped both ways; the lazy path's
 * overflow text in *lazy_ov (malloc'd, NULL when no row). */
static void both_ways(const char *fields, char **lazy_ov, jl_transform_out *lazy)
{
	jl_buf one = JL_BUF_INIT, whole = JL_BUF_INIT;
	jl_transform_out tree;
	jl_catalog cat;

	catalog(&cat);
	jl_buf_puts(&one, "{\"issues\":[{\"id\":\"10\",\"key\":\"A-10\",\"fields\":{\"summary\":\"s\","
		"\"customfield_10020\":[{\"id\":1,\"name\":\"S1\"}],\"customfield_10016\":3.5,"
		"\"customfield_10019\":2,");
	jl_buf_puts(&one, fields);
	jl_buf_puts(&one, "}}]}");
	jl_buf_put(&whole, one.data, one.len - 1);
	jl_buf_puts(&whole, ",\"x\":0}");
	cr_assert_eq(transform(one.data, &cat, lazy), JETL_OK, "%s: %s", fields, lazy->err);
	cr_assert_eq(transform(whole.data, &cat, &tree), JETL_OK, "%s: %s", fields, tree.err);
	same_rows(&lazy->work_items, &tree.work_items, fields);
	same_rows(&lazy->issue_errors, &tree.issue_errors, fields);
	cr_assert_eq(lazy->warnings, tree.warnings, "%s: %d vs %d warnings", fields, lazy->warnings,
		tree.warnings);
	*lazy_ov = lazy->work_items.nrows ? strdup(overflow(lazy, 0)) : NULL;
	jl_transform_out_free(&tree);
	jl_catalog_free(&cat);
	jl_buf_free(&one);
	jl_buf_free(&whole);
}

static char *check(const char *fields)
{
	jl_transform_out out;
	char *ov;

	both_ways(fields, &ov, &out);
	cr_assert_eq(out.work_items.nrows, 1, "%s", fields);
	jl_transform_out_free(&out);
	return ov;
}

/* The lazy path keeps the text: Jira's spacing and spelling are still in
 * the overflow (the tree path writes compact JSON). */
static void kept_as_text(const char *fields, const char *text)
{
	char *ov = check(fields);

	cr_assert(strstr(ov, text), "%s: '%s' not kept as text in %s", fields, text, ov);
	free(ov);
}

/* Converted (through the tree): the text is not in the overflow. */
static void not_kept(const char *fields, const char *text)
{
	char *ov = check(fields);

	cr_assert_null(strstr(ov, text), "%s: '%s' kept as text in %s", fields, text, ov);
	free(ov);
}

Test(overflow_text, structure_spacing_and_escapes)
{
	kept_as_text("\"customfield_30001\":{\"a\":[1,{\"b\":[[],{}]}],\"c\":{\"d\":null},\"e\":\"\"}",
		"{\"a\":[1,{\"b\":[[],{}]}],\"c\":{\"d\":null},\"e\":\"\"}");
	kept_as_text("\"customfield_30001\" :  {  \"a\" :\n\t[ 1 ,\r\n 2 ] }  ,\"customfield_30002\":[ ]",
		"{  \"a\" :\n\t[ 1 ,\r\n 2 ] }");
	kept_as_text("\"customfield_30001\":\"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\u001f\"",
		"\\/\\b\\f");
	kept_as_text("\"customfield_30001\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \xe4\xb8\xad\"", "caf\xc3\xa9");
	kept_as_text("\"customfield_30001\":[true,false,null,\"\"]", "[true,false,null,\"\"]");
	/* An escaped key is the same key. */
	kept_as_text("\"customfield_3000\\u0031\":[ 7 ]", "\"customfield_30001\":[ 7 ]");
}

Test(overflow_text, numbers)
{
	/* Exact as written: jsonb compares them equal to the tree's spelling
	 * (1E2 = 100.0, 5.00 = 5.0, -0 = 0). */
	kept_as_text("\"customfield_30001\":[1E2,1.0,-0,-0.0,1.5e-7,0.1,5.00,1e+2,0e0,-1.25E-3]",
		"[1E2,1.0,-0,-0.0,1.5e-7,0.1,5.00,1e+2,0e0,-1.25E-3]");
	kept_as_text("\"customfield_30001\":[123456789012345678,123456789012345,1e280,1.23456789012345e-280]",
		"123456789012345678,123456789012345,1e280");
	/* Only their conversion can tell: the tree writes them (compact). */
	not_kept("\"customfield_30001\":[ 0.10000000000000001 ]", "[ 0.10000000000000001");
	not_kept("\"customfield_30001\":[ 1234567890123456789 ]", "[ 1234567890123456789");
	not_kept("\"customfield_30001\":[ 1e-400 ]", "[ 1e-400");
	not_kept("\"customfield_30001\":[ 1e281 ]", "[ 1e281");
	not_kept("\"customfield_30001\":[ 1.7976931348623157e308 ]", "[ 1.7976931348623157e308");
	not_kept("\"customfield_30001\":[ -9223372036854775808 ]", "[ -9223372036854775808");
	not_kept("\"customfield_30001\":[ 1234567890.123456 ]", "[ 1234567890.123456");
}

Test(overflow_text, repeated_keys)
{
	char *ov;

	/* Inside a value: jsonb keeps the last, as jansson does. */
	kept_as_text("\"customfield_30001\":{\"a\":1,\"a\":{\"b\":2},\"a\":[3]}", "{\"a\":1,\"a\":{\"b\":2},\"a\":[3]}");
	/* In "fields": the last wins, null included (then the field is gone). */
	ov = check("\"customfield_30001\":[1],\"customfield_30001\":null,\"customfield_30002\":null,"
		   "\"customfield_30002\":[ 2 ],\"customfield_30003\":\"x\",\"customfield_30003\":\"y\"");
	cr_assert_str_eq(ov, PRE "\"customfield_30002\":[ 2 ],\"customfield_30003\":\"y\"}");
	free(ov);
}

Test(overflow_text, nul_is_still_removed_with_its_warning)
{
	jl_transform_out out;
	char *ov;

	both_ways("\"customfield_30001\":\"a\\u0000b\",\"customfield_30002\":{\"k\":[\"\\u0000\",\"c\"]},"
		  "\"customfield_30003\":[ 1 ]", &ov, &out);
	cr_assert_eq(out.warnings, 2, "%d", out.warnings);
	cr_assert_null(strstr(ov, "\\u0000"), "%s", ov);
	cr_assert(strstr(ov, "\"customfield_30001\":\"ab\""), "%s", ov);
	cr_assert(strstr(ov, "[ 1 ]"), "the others still kept as text: %s", ov);
	free(ov);
	jl_transform_out_free(&out);
}

/* A slot's value of the wrong type reaches the overflow as a tree, beside
 * text kept from other fields: Jira's integer 0 is not stand-in 0. Sprint,
 * Story Points and a fitting slot are read from their trees as before. */
Test(overflow_text, slots_and_catalog_fields_keep_their_trees)
{
	jl_transform_out out;
	char *ov;

	both_ways("\"customfield_30001\":{ \"v\":1 },\"customfield_10015\":0,\"customfield_30002\":[ 0 ]", &ov,
		&out);
	cr_assert_str_eq(ov, PRE "\"customfield_30001\":{ \"v\":1 },\"customfield_10015\":0,\"customfield_30002\":[ 0 ]}");
	cr_assert_eq(out.warnings, 1, "the slot's type warning: %d", out.warnings);
	free(ov);
	jl_transform_out_free(&out);
}

/* A custom field the tree path refuses costs its issue, with the tree's
 * reason, and nothing else. */
Test(overflow_text, an_invalid_value_isolates_its_issue)
{
	static const char *const bad[] = { "\"bad \\x escape\"", "\"\xff\"", "[1,]", "12345678901234567890",
		"[1e400]", "{\"k\\u0000\":1}", "[01]", "\"ctl \x01\"", "nul", "\"\\ud83d alone\"", "{\"a\" 1}",
		"[-]", "\"\xed\xa0\x80\"", NULL };
	jl_catalog cat;

	catalog(&cat);
	for (int i = 0; bad[i]; i++) {
		jl_buf raw = JL_BUF_INIT, issue = JL_BUF_INIT;
		jl_transform_out out;
		char why[160];
		const char *err;
		size_t at;

		jl_buf_puts(&issue, "{\"id\":\"1\",\"key\":\"A-1\",\"fields\":{\"customfield_30001\":");
		jl_buf_puts(&issue, bad[i]);
		jl_buf_puts(&issue, "}}");
		cr_assert_null(jl_json_parse(issue.data, issue.len, &at, why, sizeof(why)), "%s", bad[i]);
		jl_buf_puts(&raw, "{\"issues\":[");
		jl_buf_put(&raw, issue.data, issue.len);
		jl_buf_puts(&raw, ",{\"id\":\"2\",\"key\":\"A-2\",\"fields\":{\"customfield_30001\":[ 1 ]}}]}");
		cr_assert_eq(transform(raw.data, &cat, &out), JETL_OK, "%s: %s", bad[i], out.err);
		cr_assert_eq(out.work_items.nrows, 1, "%s", bad[i]);
		cr_assert_str_eq(overflow(&out, 0), "{\"customfield_30001\":[ 1 ]}");
		cr_assert_eq(out.issue_errors.nrows, 1, "%s", bad[i]);
		err = jl_rowset_cget(&out.issue_errors, 0, 3)->v.s;
		cr_assert(strstr(err, why), "%s: '%s' does not give the tree's reason '%s'", bad[i], err, why);
		jl_transform_out_free(&out);
		jl_buf_free(&raw);
		jl_buf_free(&issue);
	}
	jl_catalog_free(&cat);
}

/* The depth limit counts the same with values kept as text. */
Test(overflow_text, nesting_limit)
{
	jl_catalog cat;

	catalog(&cat);
	/* issue 1, fields 2, the value 3: 2046 arrays reach 2048, 2047 pass it. */
	for (int depth = 2045; depth <= 2048; depth++) {
		jl_buf raw = JL_BUF_INIT;
		jl_transform_out out;

		jl_buf_puts(&raw, "{\"issues\":[{\"id\":\"1\",\"key\":\"A-1\",\"fields\":{\"customfield_30001\":");
		for (int k = 0; k < depth; k++)
			jl_buf_putc(&raw, '[');
		for (int k = 0; k < depth; k++)
			jl_buf_putc(&raw, ']');
		jl_buf_puts(&raw, "}}]}");
		cr_assert_eq(transform(raw.data, &cat, &out), JETL_OK, "%s", out.err);
		cr_assert_eq(out.work_items.nrows, depth <= 2046 ? 1u : 0u, "depth %d", depth);
		cr_assert_eq(out.issue_errors.nrows, depth <= 2046 ? 0u : 1u, "depth %d", depth);
		jl_transform_out_free(&out);
		jl_buf_free(&raw);
	}
	jl_catalog_free(&cat);
}
