/* test_store_pure.c - the parts of src/store that need no server: how a
 * failed statement's SQLSTATE becomes a jetl status. */
#include <criterion/criterion.h>

#include "jetl.h"
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
