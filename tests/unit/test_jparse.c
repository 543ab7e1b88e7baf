/* test_jparse.c - jl_json_parse accepts what json_loadb(JSON_ALLOW_NUL |
 * JSON_DECODE_ANY) accepts and builds an equal tree, keys in the same
 * order: over every recorded JSON file and CSV value, crafted edge cases,
 * and thousands of corrupted copies of a recorded issue. No servers. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transform/jparse.h"
#include "transform/jscan.h"
#include "fixtures_csv.h"

/* Same value, and objects' keys in the same order (the transform writes
 * overflow JSON in Jira's order). */
static int same(const json_t *a, const json_t *b)
{
	if (!json_equal(a, b) || json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_object(a)) {
		void *ia = json_object_iter((json_t *)a), *ib = json_object_iter((json_t *)b);

		for (; ia && ib; ia = json_object_iter_next((json_t *)a, ia), ib = json_object_iter_next((json_t *)b, ib))
			if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) != 0 ||
			    !same(json_object_iter_value(ia), json_object_iter_value(ib)))
				return 0;
		return !ia && !ib;
	}
	if (json_is_array(a))
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!same(json_array_get(a, i), json_array_get(b, i)))
				return 0;
	return 1;
}

/* Lazy hooks that keep every value of "fields" as text, with one stand-in
 * for all (its count says how many were kept). */
static json_t *stand_in_one;
static int kept;

static int keep_all(void *ud, const char *key, size_t klen)
{
	(void)ud;
	(void)key;
	(void)klen;
	return 1;
}

static json_t *stand_in(void *ud, const char *key, size_t klen, const char *text, size_t n)
{
	(void)ud;
	(void)key;
	(void)klen;
	(void)text;
	(void)n;
	kept++;
	return stand_in_one;
}

/* Every kind by the key's length: tree, text, skipped, trimmed. */
static int keep_by_length(void *ud, const char *key, size_t klen)
{
	(void)ud;
	(void)key;
	return (int)(klen % 4);
}

/* The prefix parse with values kept as text, skipped or trimmed takes
 * exactly what the tree prefix parse takes, up to the same end: an issue
 * fails or stands alike whichever way the transform reads its fields. */
static void agree_lazy(const char *text, size_t n, const char *what)
{
	static const char *const drop[] = { "self", "a", "", NULL };
	const jl_json_lazy lazies[] = {
		{ "fields", keep_all, stand_in, NULL, NULL, NULL },
		{ "fields", keep_by_length, stand_in, NULL, drop, NULL },
	};
	size_t u1 = 0;
	json_t *a;

	if (!stand_in_one)
		stand_in_one = json_string("stand-in");
	a = jl_json_parse_prefix(text, n, &u1);
	for (size_t i = 0; i < sizeof(lazies) / sizeof(lazies[0]); i++) {
		size_t u2 = 0;
		json_t *b = jl_json_parse_prefix_lazy(text, n, &u2, &lazies[i]);

		cr_assert_eq(a != NULL, b != NULL, "%s: lazy prefix parse %zu %s", what, i, a ? "refuses" : "accepts");
		if (a)
			cr_assert_eq(u1, u2, "%s: lazy prefix parse %zu ends elsewhere", what, i);
		json_decref(b);
	}
	json_decref(a);
}

/* Both accept with the same tree, or both refuse. */
static void agree(const char *text, size_t n, const char *what)
{
	json_error_t e;
	json_t *ref = json_loadb(text, n, JSON_ALLOW_NUL | JSON_DECODE_ANY, &e);
	char why[160];
	size_t at = 0;
	json_t *got = jl_json_parse(text, n, &at, why, sizeof(why));
	/* The check-only path (values the transform keeps as text): never
	 * refuses what the tree accepts nor passes what it refuses; it may
	 * only defer to the tree (NEEDS_TREE). */
	int chk = jl_json_check(text, n, NULL, NULL, 0);

	if (ref)
		cr_assert_neq(chk, JL_JSON_INVALID, "%s: check-only refuses what jansson accepts", what);
	else
		cr_assert_neq(chk, JL_JSON_TEXT_OK, "%s: check-only accepts what jansson refuses (%s)", what, e.text);
	if (ref) {
		cr_assert_not_null(got, "%s: refused (%s at %zu) what jansson accepts", what, why, at);
		cr_assert(same(ref, got), "%s: a different tree", what);
	} else {
		cr_assert_null(got, "%s: accepted what jansson refuses (%s)", what, e.text);
		cr_assert_leq(at, n, "%s", what);
		cr_assert_gt(strlen(why), 0);
	}
	json_decref(ref);
	json_decref(got);
	agree_lazy(text, n, what);
}

static void agree_s(const char *text)
{
	agree(text, strlen(text), text);
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	buf[len] = '\0';
	*n = (size_t)len;
	return buf;
}

Test(jparse, recorded_json_files)
{
	const char *dir = getenv("JETL_FIXTURES");
	struct dirent *d;
	DIR *dp;
	int files = 0;

	cr_assert_not_null(dir);
	cr_assert_not_null(dp = opendir(dir));
	while ((d = readdir(dp)) != NULL) {
		char path[1024];
		size_t n;
		char *text;

		if (!strstr(d->d_name, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		text = slurp(path, &n);
		agree(text, n, d->d_name);
		free(text);
		files++;
	}
	closedir(dp);
	cr_assert_geq(files, 15, "%d recorded JSON files", files);
}

Test(jparse, recorded_csv_values)
{
	static const char *const csvs[] = { "devlake_raw_jira_api_issues.csv", "devlake_raw_jira_api_issue_changelogs.csv",
		"devlake_raw_jira_api_development_panels.csv", "devlake_raw_jira_api_issue_fields.csv" };
	int values = 0;

	for (size_t c = 0; c < sizeof(csvs) / sizeof(csvs[0]); c++) {
		csv_row *rows;
		long n = csv_read(csvs[c], &rows);

		for (long r = 0; r < n; r++)
			for (size_t f = 0; f < rows[r].n; f++)
				if (rows[r].f[f][0] == '{' || rows[r].f[f][0] == '[') {
					agree_s(rows[r].f[f]);
					values++;
				}
		csv_free(rows, n);
	}
	cr_assert_geq(values, 40, "%d JSON values in the CSVs", values);
}

Test(jparse, edge_cases)
{
	static const char *const cases[] = {
		/* accepted */
		"{}", "[]", " [ 1 , -0 , 0.5 , -1.25e-3 , 1E+2 , 9223372036854775807 , -9223372036854775808 ] ",
		"\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", "\"\\u00e9\\u4e2d\\ud83d\\ude00\"", "\"nul \\u0000 inside\"",
		"\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"", "{\"a\":1,\"b\":2,\"a\":3}", "{\"\\u0061b\":true}",
		"true", "false", "null", "1e400x", "{\"k\":{\"k\":[{\"k\":null}]}}", "1.7976931348623157e308",
		"4.9e-324", "1e-400", "\"\"", "{\"\":\"\"}",
		/* refused */
		"", " ", "[1,]", "{\"a\":1,}", "[01]", "[1.]", "[.5]", "[-]", "[+1]", "[1e]", "[1e+]", "tru", "nul",
		"truex", "[true false]", "{\"a\" 1}", "{a:1}", "\"open", "\"bad \\x escape\"", "\"\\u12\"",
		"\"\\ud83d alone\"", "\"\\ude00 alone\"", "\"ctl \x01\"", "\"tab \t raw\"", "{\"k\\u0000ey\":1}",
		"[9223372036854775808]", "[-9223372036854775809]", "[1e400]", "[-1e400]", "\"\xc0\xaf\"",
		"\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"", "\"\x80\"", "\"\xff\"", "[1] [2]",
		"{\"a\":1}}", "[[[", "]", "\xef\xbb\xbf{}",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		agree_s(cases[i]);
	/* NUL bytes in the text itself. */
	agree("[1,\0 2]", 7, "raw NUL between values");
	agree("\"a\0b\"", 5, "raw NUL in a string");
}

Test(jparse, nesting_limit)
{
	for (int depth = 2046; depth <= 2050; depth++) {
		char *t = malloc((size_t)depth * 2 + 1);

		memset(t, '[', (size_t)depth);
		memset(t + depth, ']', (size_t)depth);
		agree(t, (size_t)depth * 2, "deep arrays");
		free(t);
	}
}

/* Corrupted copies of a recorded issue: every kind of damage a truncated
 * or garbled page brings must be judged as jansson judges it. */
Test(jparse, corrupted_issues)
{
	csv_row *rows;
	long n = csv_read("devlake_raw_jira_api_issues.csv", &rows);
	unsigned seed = 7;
	static const char pokes[] = "\"\\{}[],:0-.eE+utfn \x01\x80\xc3\xff";

	cr_assert_gt(n, 0);
	for (int k = 0; k < 3000; k++) {
		const char *src = rows[k % n].f[2];
		size_t len = strlen(src);
		char *t = malloc(len + 1);
		size_t at = (size_t)rand_r(&seed) % len;

		memcpy(t, src, len + 1);
		switch (k % 3) {
		case 0:   /* one byte changed */
			t[at] = pokes[(size_t)rand_r(&seed) % (sizeof(pokes) - 1)];
			agree(t, len, "a byte changed");
			break;
		case 1:   /* cut short */
			agree(t, at, "truncated");
			break;
		default:  /* a byte removed */
			memmove(t + at, t + at + 1, len - at);
			agree(t, len - 1, "a byte removed");
			break;
		}
		free(t);
	}
	cr_assert_gt(kept, 1000, "the lazy path kept %d values as text", kept);
	csv_free(rows, n);
}

/* Found by tests/fuzz/fuzz_jparse: json_loadb takes a raw NUL right after
 * a number, true, false or null for the end of its input and then closes
 * what is open: "0.11e309\0", "1\0", "[1\0]" (loads [1]) and
 * {"count":153\0} (loads {"count":153}) all load, while jparse refuses them.
 * Kept as the one known difference: a raw NUL is never valid JSON, and raw
 * rows are jansson's own dumps, which never hold one. The fuzz target skips
 * inputs with a raw NUL that only jansson takes. */
Test(jparse, scalar_then_a_final_nul_is_refused)
{
	static const struct {
		const char *text;
		size_t n;
	} cases[] = { { "0.11e309\0", 9 }, { "1\0", 2 }, { "true\0", 5 }, { "null\0", 5 },
		{ "{\"count\":153\0}", 14 }, { "[1\0]", 4 } };
	char why[160];
	size_t at = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *got = jl_json_parse(cases[i].text, cases[i].n, &at, why, sizeof(why));

		cr_assert_null(got, "case %zu accepted", i);
		cr_assert(at < cases[i].n && cases[i].text[at] == '\0', "case %zu stopped at %zu", i, at);
	}
	agree("{}\0", 3, "object then a NUL");
	agree("\"s\"\0", 4, "string then a NUL");
	agree("1\0\0", 3, "number then two NULs");
}

/* The plain-run scan reads eight bytes at a time: every byte that ends a run
 * or needs a check (quote, backslash escape, control byte, UTF-8 lead,
 * invalid byte) at every position of strings of every length around a
 * word must still be judged as jansson judges it. */
Test(jparse, string_stops_at_every_position)
{
	static const char *const specials[] = { "\"", "\\n", "\\u00e9", "\x01", "\xc3\xa9", "\xff", "\t", "\x7f",
		"~", " " };
	char t[80];

	for (size_t len = 0; len < 34; len++)
		for (size_t at = 0; at <= len; at++)
			for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
				size_t n = 0, sl = strlen(specials[k]);

				t[n++] = '"';
				memset(t + n, 'a', at);
				n += at;
				memcpy(t + n, specials[k], sl);
				n += sl;
				memset(t + n, 'b', len - at);
				n += len - at;
				t[n++] = '"';
				agree(t, n, "a string with one special byte");
				agree(t, n - 1, "the same string, unterminated");
			}
}

/* jl_json_parse_prefix reads a value and leaves what follows: for an object
 * or array that parses, its extent is the one jl_jscan_value finds and the
 * tree is jl_json_parse's of that extent; what does not parse is refused.
 * Over corrupted copies of recorded issues followed by more text. */
Test(jparse, prefix_extent_is_the_scanned_extent)
{
	csv_row *rows;
	long n = csv_read("devlake_raw_jira_api_issues.csv", &rows);
	unsigned seed = 11;
	static const char pokes[] = "\"\\{}[],:0-.eE+utfn \x01\x80\xc3\xff";
	int parsed = 0, refused = 0;

	cr_assert_gt(n, 0);
	for (int k = 0; k < 2000; k++) {
		const char *src = rows[k % n].f[2];
		size_t len = strlen(src), used = 0;
		char *t = malloc(len + 8);
		json_t *got;

		memcpy(t, src, len);
		memcpy(t + len, ", {]x", 6);
		if (k % 2)
			t[(size_t)rand_r(&seed) % len] = pokes[(size_t)rand_r(&seed) % (sizeof(pokes) - 1)];
		got = jl_json_parse_prefix(t, len + 5, &used);
		if (got && (json_is_object(got) || json_is_array(got))) {
			const char *end = jl_jscan_value(t, t + len + 5);
			json_t *whole = jl_json_parse(t, used, NULL, NULL, 0);

			cr_assert(end && end == t + used, "copy %d: extent %zu, the scan's %td", k, used,
				end ? end - t : -1);
			cr_assert(whole && same(whole, got), "copy %d: a different tree", k);
			json_decref(whole);
			parsed++;
		} else if (!got) {
			cr_assert_null(jl_json_parse(t, len, NULL, NULL, 0), "copy %d: refused, yet it parses", k);
			refused++;
		}
		json_decref(got);
		free(t);
	}
	cr_assert(parsed > 0 && refused > 0, "parsed %d, refused %d", parsed, refused);
	csv_free(rows, n);
}

/* What each kind leaves in the tree: under "fields", a tree member whole
 * (drop does not reach in), a text member as its stand-in, a skipped member
 * gone, a trimmed member without the dropped keys at any depth; outside
 * "fields", the dropped keys gone at any depth; and a \u0000 reported only
 * when a string of the tree holds it. */
Test(jparse, skipped_and_trimmed_members)
{
	static const char *const drop[] = { "self", NULL };
	int nul = 0;
	const jl_json_lazy lazy = { "fields", keep_by_length, stand_in, NULL, drop, &nul };
	const char *text = "{\"self\":1,\"id\":\"7\",\"log\":[{\"self\":2,\"x\":{\"self\":3,\"y\":4}}],"
		"\"fields\":{\"tree\":{\"self\":5},\"texts\":{\"self\":6},\"skip12\":{\"z\":\"\\u0000\"},"
		"\"trm\":{\"self\":7,\"n\":[{\"self\":8,\"k\":9}]}}}";
	const char *want = "{\"id\":\"7\",\"log\":[{\"x\":{\"y\":4}}],"
		"\"fields\":{\"tree\":{\"self\":5},\"texts\":\"stand-in\",\"trm\":{\"n\":[{\"k\":9}]}}}";
	size_t used = 0;
	json_t *got, *ref;

	if (!stand_in_one)
		stand_in_one = json_string("stand-in");
	/* keep_by_length: "tree" (4) a tree, "texts" (5) text, "skip12" (6)
	 * skipped, "trm" (3) trimmed. */
	got = jl_json_parse_prefix_lazy(text, strlen(text), &used, &lazy);
	ref = json_loads(want, 0, NULL);
	cr_assert_not_null(got);
	cr_assert_not_null(ref);
	cr_assert(json_equal(got, ref), "got %s", json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS));
	cr_assert_eq(nul, 0, "the \\u0000 was in a skipped member only");
	json_decref(got);
	json_decref(ref);
	text = "{\"fields\":{\"trm\":{\"n\":\"a\\u0000b\"}}}";
	got = jl_json_parse_prefix_lazy(text, strlen(text), &used, &lazy);
	cr_assert_not_null(got);
	cr_assert_eq(nul, 1, "a \\u0000 in the tree is reported");
	json_decref(got);
}
