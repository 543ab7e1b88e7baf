/*
 * minimal.c - the smallest useful jetl program: open a context on the
 * database in $JETL_DB, create or upgrade the schema, print the version.
 *
 *   cc minimal.c $(pkg-config --cflags --libs jetl) -o minimal && ./minimal
 */
#include <stdio.h>
#include <jetl.h>

int main(void)
{
	jetl_options opts;
	jetl_ctx *ctx;
	char err[512];
	int rc;

	jetl_options_init(&opts, JETL_OPTIONS_VERSION);
	/* opts.db = "postgresql://…";  NULL reads $JETL_DB, then libpq's PG* variables. */
	rc = jetl_open_err(&ctx, &opts, err, sizeof(err));
	if (rc != JETL_OK) {
		fprintf(stderr, "jetl_open: %s (%s)\n", err, jetl_status_name(rc));
		return 1;
	}
	rc = jetl_migrate(ctx);
	if (rc != JETL_OK) {
		fprintf(stderr, "jetl_migrate: %s\n", jetl_last_error(ctx));
		jetl_close(ctx);
		return 1;
	}
	printf("jetl %s: schema version %d ready\n", jetl_version(), jetl_schema_version());
	jetl_close(ctx);
	return 0;
}
