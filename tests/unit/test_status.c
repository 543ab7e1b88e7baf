/* test_status.c - the status table, versions and options versioning. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "jetl.h"

Test(status, every_code_has_a_distinct_message_and_name)
{
	for (int s = 0; s >= JETL_STATUS_MIN; s--) {
		cr_assert_str_neq(jetl_strerror(s), "unknown status", "status %d has no message", s);
		cr_assert(strncmp(jetl_status_name(s), "JETL_", 5) == 0);
		for (int t = s - 1; t >= JETL_STATUS_MIN; t--) {
			cr_assert_str_neq(jetl_strerror(s), jetl_strerror(t), "%d and %d share a message", s, t);
			cr_assert_str_neq(jetl_status_name(s), jetl_status_name(t));
		}
	}
}

Test(status, codes_are_stable)
{
	/* The ABI promise: these numbers never change. */
	cr_assert_eq(JETL_OK, 0);
	cr_assert_eq(JETL_EINVAL, -2);
	cr_assert_eq(JETL_EVERSION, -3);
	cr_assert_eq(JETL_EDBCONN, -6);
	cr_assert_eq(JETL_EAUTH, -12);
	cr_assert_eq(JETL_ECANCELLED, -20);
	cr_assert_str_eq(jetl_status_name(JETL_EAUTH), "JETL_EAUTH");
	cr_assert_str_eq(jetl_status_name(JETL_EIO), "JETL_EIO");
	cr_assert_eq(JETL_EDBRETRY, -25);
	cr_assert_eq(JETL_EBUSY, -26);
	cr_assert_str_eq(jetl_status_name(JETL_EBUSY), "JETL_EBUSY");
}

Test(status, unknown_codes_never_give_null)
{
	cr_assert_str_eq(jetl_strerror(1), "unknown status");
	cr_assert_str_eq(jetl_strerror(-9999), "unknown status");
	cr_assert_str_eq(jetl_strerror(JETL_STATUS_MIN - 1), "unknown status");
	cr_assert_str_eq(jetl_status_name(42), "JETL_UNKNOWN");
}

Test(status, retriable_only_for_transient_failures)
{
	cr_assert(jetl_status_is_retriable(JETL_ENETWORK));
	cr_assert(jetl_status_is_retriable(JETL_ERATELIMIT));
	cr_assert(jetl_status_is_retriable(JETL_EDBRETRY));
	cr_assert(jetl_status_is_retriable(JETL_EBUSY));
	cr_assert_not(jetl_status_is_retriable(JETL_EDATA));
	cr_assert_not(jetl_status_is_retriable(JETL_EAUTH));
	cr_assert_not(jetl_status_is_retriable(JETL_EGONE));
	cr_assert_not(jetl_status_is_retriable(JETL_OK));
}

Test(version, string_matches_numbers)
{
	char want[32];

	snprintf(want, sizeof(want), "%d.%d.%d", JETL_VERSION_MAJOR, JETL_VERSION_MINOR, JETL_VERSION_PATCH);
	cr_assert_str_eq(jetl_version(), want);
	cr_assert_eq(jetl_version_number(),
		JETL_VERSION_MAJOR * 10000 + JETL_VERSION_MINOR * 100 + JETL_VERSION_PATCH);
}

Test(phase, names)
{
	cr_assert_str_eq(jetl_phase_name(JETL_PHASE_CENSUS), "census");
	cr_assert_str_eq(jetl_phase_name(JETL_PHASE_DEV_STATUS), "dev_status");
	cr_assert_str_eq(jetl_phase_name(JETL_PHASE_DONE), "done");
	cr_assert_str_eq(jetl_phase_name(99), "unknown");
}

Test(options, init_fills_defaults)
{
	jetl_options o;

	memset(&o, 0xab, sizeof(o));
	cr_assert_eq(jetl_options_init(&o, JETL_OPTIONS_VERSION), JETL_OK);
	cr_assert_eq(o.version, JETL_OPTIONS_VERSION);
	cr_assert_null(o.db);
	cr_assert_eq(o.tenant_id, 1);
	cr_assert_eq(o.integration_id, 1);
	cr_assert_eq(o.concurrency, 8);
	cr_assert_eq(o.batch_size, 100);
	cr_assert_null(o.log_cb);
}

Test(options, init_rejects_zero_too_new_and_null)
{
	jetl_options o;
	jetl_extract_options e;
	jetl_worker_options w;

	cr_assert_eq(jetl_options_init(&o, 0), JETL_EVERSION);
	cr_assert_eq(jetl_options_init(&o, JETL_OPTIONS_VERSION + 1), JETL_EVERSION);
	cr_assert_eq(jetl_options_init(NULL, JETL_OPTIONS_VERSION), JETL_EINVAL);
	cr_assert_eq(jetl_extract_options_init(&e, 0), JETL_EVERSION);
	cr_assert_eq(jetl_extract_options_init(&e, 99), JETL_EVERSION);
	cr_assert_eq(jetl_extract_options_init(&e, JETL_EXTRACT_OPTIONS_VERSION), JETL_OK);
	cr_assert_eq(e.dev_status, 1);
	cr_assert_eq(jetl_worker_options_init(&w, 0), JETL_EVERSION);
	cr_assert_eq(jetl_worker_options_init(&w, JETL_WORKER_OPTIONS_VERSION), JETL_OK);
	cr_assert_eq(w.threads, 1);
}

Test(open, rejects_null_and_bad_versions_without_touching_the_network)
{
	jetl_ctx *ctx = (jetl_ctx *)0x1;
	jetl_options o = JETL_OPTIONS_INIT;
	char err[256];

	cr_assert_eq(jetl_open(NULL, &o), JETL_EINVAL);
	cr_assert_eq(jetl_open_err(&ctx, NULL, err, sizeof(err)), JETL_EINVAL);
	cr_assert_null(ctx);
	cr_assert(strstr(err, "NULL"), "message: %s", err);
	o.version = 0;
	cr_assert_eq(jetl_open_err(&ctx, &o, err, sizeof(err)), JETL_EVERSION);
	cr_assert(strstr(err, "version 0"), "message: %s", err);
	o.version = JETL_OPTIONS_VERSION + 7;
	cr_assert_eq(jetl_open_err(&ctx, &o, err, sizeof(err)), JETL_EVERSION);
	cr_assert_null(ctx);
	cr_assert_null(strchr(err, '\n'));
}

Test(open, null_context_calls_are_harmless)
{
	jetl_close(NULL);
	jetl_worker_stop(NULL);
	cr_assert_eq(jetl_migrate(NULL), JETL_EINVAL);
	cr_assert_eq(jetl_transform_batch(NULL, 1, NULL), JETL_EINVAL);
	cr_assert_eq(jetl_extract_project(NULL, "A", NULL, NULL), JETL_EINVAL);
	cr_assert_eq(jetl_job_get(NULL, 1, NULL), JETL_EINVAL);
	cr_assert_not_null(jetl_last_error(NULL));
}
