/* test_utf8fix.c - jl_utf8_json_repair: bad bytes and unpaired surrogate
 * escapes become U+FFFD and the text then parses; good text, every recorded
 * Jira answer included, comes out byte for byte. No servers. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8fix.h"

/* Repair in, compare with want (NULL: the same as in) and the count. */
static void fixes(const char *in, size_t n, const char *want, long count)
{
	jl_buf out = JL_BUF_INIT;
	long got = jl_utf8_json_repair(in, n, &out);

	cr_assert_eq(got, count, "repairs of %s: %ld", in, got);
	if (!want)
		want = in;
	cr_assert_eq(out.len, strlen(want), "%.*s", (int)out.len, out.data ? out.data : "");
	cr_assert(out.len == 0 || memcmp(out.data, want, out.len) == 0, "%.*s", (int)out.len, out.data);
	jl_buf_free(&out);
}

/* The repaired text of a JSON document that jansson refused parses. */
static void parses_after(const char *in)
{
	json_error_t e;
	jl_buf out = JL_BUF_INIT;
	json_t *v;

	cr_assert_null(json_loads(in, 0, &e), "jansson took %s", in);
	cr_assert_gt(jl_utf8_json_repair(in, strlen(in), &out), 0);
	v = json_loadb(out.data, out.len, 0, &e);
	cr_assert_not_null(v, "%s: %s", in, e.text);
	cr_assert(strstr(json_string_value(json_object_get(v, "s")), "\xEF\xBF\xBD"));
	json_decref(v);
	jl_buf_free(&out);
}

#define S(x) x, sizeof(x) - 1

Test(utf8fix, good_text_is_unchanged)
{
	fixes(S("{\"s\":\"plain, \xC3\xA9t\xC3\xA9, \xE4\xB8\xAD, \xF0\x9F\x98\x80\"}"), NULL, 0);
	fixes(S("{\"s\":\"\\ud83d\\ude00 a pair, \\u00e9, \\\\ud83d (a backslash), \\\"q\\\"\"}"), NULL, 0);
	fixes(S(""), NULL, 0);
}

Test(utf8fix, bad_bytes_become_fffd)
{
	fixes(S("a\xFF" "b"), "a\xEF\xBF\xBD" "b", 1);
	/* The first three bytes of a four-byte emoji: one per byte. */
	fixes(S("\"\xF0\x9F\x98\""), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"", 3);
	/* Overlong '/', an encoded surrogate, past U+10FFFF, a stray continuation. */
	fixes(S("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD", 2);
	fixes(S("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 3);
	fixes(S("\xF4\x90\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 4);
	fixes(S("\x80"), "\xEF\xBF\xBD", 1);
	/* Cut at the end of the text. */
	fixes(S("x\xE4\xB8"), "x\xEF\xBF\xBD\xEF\xBF\xBD", 2);
}

Test(utf8fix, unpaired_surrogates_become_fffd)
{
	fixes(S("\"\\ud83d\""), "\"\\ufffd\"", 1);
	fixes(S("\"\\uDE00 low alone\""), "\"\\ufffd low alone\"", 1);
	fixes(S("\"\\ud83d\\u0041\""), "\"\\ufffd\\u0041\"", 1);
	fixes(S("\"\\ud83d\\ud83d\\ude00\""), "\"\\ufffd\\ud83d\\ude00\"", 1);
	/* An escaped backslash before "ud83d" is not an escape. */
	fixes(S("\"\\\\ud83d\""), NULL, 0);
	/* Cut inside an escape: left for the parser to refuse. */
	fixes(S("\"\\ud8"), NULL, 0);
}

Test(utf8fix, what_jansson_refused_it_then_takes)
{
	parses_after("{\"s\":\"half an emoji \\ud83d\"}");
	parses_after("{\"s\":\"a byte \xFF here\"}");
	parses_after("{\"s\":\"\xF0\x9F\x98\"}");
}

/* Every recorded answer is valid: not one byte changes. */
Test(utf8fix, recorded_answers_are_untouched)
{
	const char *dir = getenv("JETL_FIXTURES");
	DIR *d;
	struct dirent *de;
	int files = 0;

	cr_assert_not_null(dir, "JETL_FIXTURES is not set");
	cr_assert_not_null(d = opendir(dir), "%s", dir);
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		FILE *f;
		char *text;
		long n;
		jl_buf out = JL_BUF_INIT;

		if (!strstr(de->d_name, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		cr_assert_not_null(f = fopen(path, "rb"), "%s", path);
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		fseek(f, 0, SEEK_SET);
		text = malloc((size_t)n + 1);
		cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
		fclose(f);
		cr_assert_eq(jl_utf8_json_repair(text, (size_t)n, &out), 0, "%s", de->d_name);
		cr_assert(out.len == (size_t)n && memcmp(out.data, text, (size_t)n) == 0, "%s", de->d_name);
		jl_buf_free(&out);
		free(text);
		files++;
	}
	closedir(d);
	cr_assert_gt(files, 10);
}
