/* fuzz_tzif.c - the TZif reader and POSIX TZ footer of src/jira/tz.c: the
 * input is written as a zone file under a private $TZDIR and its offset
 * asked at a few instants (before, inside and past any transition table). */
#include <stdio.h>
#include <unistd.h>

#include "fuzz.h"
#include "jetl/common.h"
#include "jira/tz.h"

static char g_path[256];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/jetl-fuzz-tzif-XXXXXX";

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	setenv("TZDIR", dir, 1);
	snprintf(g_path, sizeof(g_path), "%s/Fuzz_Zone", dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t when[] = { INT64_MIN / 2, -2208988800LL, 0, 1591921496, 1710064800, 4102444800LL,
		INT64_MAX / 2 };
	FILE *f = fopen(g_path, "wb");

	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
		int off = 0, rc = jl_tz_offset("Fuzz_Zone", when[i], &off);

		FUZZ_CHECK(rc == 0 || rc == JETL_EPROTOCOL || rc == JETL_ENOMEM);
	}
	return 0;
}
