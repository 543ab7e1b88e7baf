/* test_store_pure.c - the parts of src/store that need no server: how a
 * failed statement's SQLSTATE becomes a jetl status, COPY's text escaping
 * and text[] elements (one rule for the rowsets' COPY and the raw rows'). */
#include <criterion/criterion.h>
#include <string.h>

#include "jetl.h"
#include "store/copy.h"
#include "store/db.h"

Test(pg_classify, transient_classes_are_retriable)
{
	/* 57014 query_canceled (pg_cancel_backend, statement_timeout),
	 * 57P01 admin_shutdown, 40001 serialization, 40P01 deadlock,
	 * 53100 disk full, 53200 out of memory, 53300 too many connections. */
	const char *transient[] = { "57014", "57P01", "40001", "40P01", "53100", "53200", "53300" };

	for (size_t k = 0; k < sizeof(transient) / sizeof(transient[0]); k++) {
		cr_assert_eq(jl_pg_classify(transient[k]), JETL_EDBRETRY, "%s", transient[k]);
		cr_assert(jetl_status_is_retriable(jl_pg_classify(transient[k])), "%s", transient[k]);
	}
	cr_assert_eq(jl_pg_classify("08006"), JETL_EDBCONN);
	cr_assert_eq(jl_pg_classify("08000"), JETL_EDBCONN);
	cr_assert(jetl_status_is_retriable(JETL_EDBCONN));
}

Test(pg_classify, data_errors_are_the_data)
{
	/* 22021 bad byte sequence, 22P02 invalid text, 22003 out of range,
	 * 22P05 untranslatable character, 23505 unique, 23502 not null,
	 * XX001 data corrupted. */
	const char *data[] = { "22021", "22P02", "22003", "22P05", "23505", "23502", "XX000", "XX001" };

	for (size_t k = 0; k < sizeof(data) / sizeof(data[0]); k++) {
		cr_assert_eq(jl_pg_classify(data[k]), JETL_EDATA, "%s", data[k]);
		cr_assert_not(jetl_status_is_retriable(jl_pg_classify(data[k])), "%s", data[k]);
	}
}

Test(pg_classify, anything_else_is_a_database_failure)
{
	/* 42P01 undefined table, 42501 permission, 25P02 in failed transaction. */
	cr_assert_eq(jl_pg_classify("42P01"), JETL_EDB);
	cr_assert_eq(jl_pg_classify("42501"), JETL_EDB);
	cr_assert_eq(jl_pg_classify("25P02"), JETL_EDB);
	cr_assert_eq(jl_pg_classify(NULL), JETL_EDB);
	cr_assert_eq(jl_pg_classify(""), JETL_EDB);
	cr_assert_eq(jl_pg_classify("57"), JETL_EDB, "not a SQLSTATE");
}

/* The bytes COPY's text format escapes, and only those: what copy.c wrote
 * for rowsets and raw_insert.c for raw rows, each with its own copy before. */
Test(copy_text, escapes_backslash_tab_newline_return_only)
{
	static const char all[] = "a\\b\tc\nd\re\"f\x01{}, \xc3\xa9";

	cr_assert_eq(jl_copy_escape_code('\\'), '\\');
	cr_assert_eq(jl_copy_escape_code('\t'), 't');
	cr_assert_eq(jl_copy_escape_code('\n'), 'n');
	cr_assert_eq(jl_copy_escape_code('\r'), 'r');
	for (int c = 1; c < 256; c++)
		if (c != '\\' && c != '\t' && c != '\n' && c != '\r')
			cr_assert_eq(jl_copy_escape_code((char)c), 0, "byte %d", c);
	cr_assert_eq(jl_copy_plain_len(all, sizeof(all) - 1), 1);
	cr_assert_eq(jl_copy_plain_len(all + 2, sizeof(all) - 3), 1);
	cr_assert_eq(jl_copy_plain_len("plain \"text\" {x}", 16), 16);
	cr_assert_eq(jl_copy_plain_len("", 0), 0);
}

/* jl_copy_plain_len scans eight bytes at a time: for every byte value at
 * every offset of a 40-byte run (whole words, a tail, both), it stops where a
 * byte-by-byte scan stops; bytes >= 0x80 and controls that need no escape
 * (0x01, 0x0B, 0x0C) do not stop it. */
Test(copy_text, word_scan_stops_where_a_byte_scan_does)
{
	char buf[40];

	for (int c = 1; c < 256; c++) {
		for (size_t at = 0; at < sizeof(buf); at++) {
			size_t want = jl_copy_escape_code((char)c) ? at : sizeof(buf);

			memset(buf, 'x', sizeof(buf));
			buf[at] = (char)c;
			cr_assert_eq(jl_copy_plain_len(buf, sizeof(buf)), want, "byte %d at %zu", c, at);
			/* high bytes around it: never a false stop */
			memset(buf, 0xC3, sizeof(buf));
			buf[at] = (char)c;
			want = jl_copy_escape_code((char)c) ? at : sizeof(buf);
			cr_assert_eq(jl_copy_plain_len(buf, sizeof(buf)), want, "byte %d at %zu among 0xC3", c, at);
		}
	}
}

/* Elements of a text[] literal: always quoted, " and \ escaped; the same
 * for the COPY of array cells and the "= ANY ('{…}')" id lists of load.c. */
Test(copy_text, array_elements_are_quoted)
{
	jl_buf b = JL_BUF_INIT;

	jl_buf_putc(&b, '{');
	jl_array_elem_put(&b, "plain", 5);
	jl_buf_putc(&b, ',');
	jl_array_elem_put(&b, "q\"uote", 6);
	jl_buf_putc(&b, ',');
	jl_array_elem_put(&b, "back\\slash", 10);
	jl_buf_putc(&b, ',');
	jl_array_elem_put(&b, "NULL", 4);
	jl_buf_putc(&b, ',');
	jl_array_elem_put(&b, "", 0);
	jl_buf_putc(&b, ',');
	jl_array_elem_put(&b, "a, {b}", 6);
	jl_buf_putc(&b, '}');
	cr_assert_eq(b.oom, 0);
	cr_assert_str_eq(b.data, "{\"plain\",\"q\\\"uote\",\"back\\\\slash\",\"NULL\",\"\",\"a, {b}\"}");
	jl_buf_free(&b);
}
