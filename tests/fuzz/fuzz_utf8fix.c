/* fuzz_utf8fix.c - jl_utf8_json_repair (src/core/utf8fix.c) on any bytes:
 * what it gives back has nothing left to repair, and a text jansson takes
 * as it is comes back byte for byte (the repair only runs on answers that
 * did not parse, but it must never spoil one that would). */
#include <jansson.h>

#include "fuzz.h"
#include "core/utf8fix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jl_buf once = JL_BUF_INIT, twice = JL_BUF_INIT;
	long n = jl_utf8_json_repair((const char *)data, size, &once);
	json_t *ref;

	if (n < 0)
		abort();
	FUZZ_CHECK(jl_utf8_json_repair(once.data ? once.data : "", once.len, &twice) == 0);
	FUZZ_CHECK(twice.len == once.len && (!once.len || memcmp(twice.data, once.data, once.len) == 0));
	ref = json_loadb((const char *)data, size, JSON_ALLOW_NUL | JSON_DECODE_ANY, NULL);
	if (ref) {
		FUZZ_CHECK(n == 0 && once.len == size && (!size || memcmp(once.data, data, size) == 0));
		json_decref(ref);
	}
	jl_buf_free(&once);
	jl_buf_free(&twice);
	return 0;
}
