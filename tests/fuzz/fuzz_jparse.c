/* fuzz_jparse.c - the transform's JSON lexer (src/transform/jparse.c) on
 * any bytes, held to its contract: it accepts exactly what
 * json_loadb(JSON_ALLOW_NUL) accepts and builds an equal tree. */
#include <jansson.h>
#include <string.h>

#include "fuzz.h"
#include "transform/jparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	size_t pos = 0;
	json_t *mine = jl_json_parse((const char *)data, size, &pos, why, sizeof(why));
	json_t *ref = json_loadb((const char *)data, size, JSON_ALLOW_NUL | JSON_DECODE_ANY, NULL);

	FUZZ_CHECK(!mine || pos <= size);
	/* A slip of jansson's: a raw NUL byte after a number, true, false or
	 * null ("1\0", "3\0 ", {"count":153\0}) loads: its lexer takes that
	 * NUL for the end of the input. A raw NUL is never valid JSON (in a
	 * string it is an unescaped control character), so jparse refusing it
	 * is right; raw rows are jansson's own dumps and never hold one. */
	if (ref && !mine && memchr(data, '\0', size)) {
		json_decref(ref);
		return 0;
	}
	FUZZ_CHECK(!mine == !ref);
	if (mine && ref)
		FUZZ_CHECK(json_equal(mine, ref));
	json_decref(mine);
	json_decref(ref);
	return 0;
}
