/* fuzz_jparse.c - the transform's JSON lexer (src/transform/jparse.c) on
 * any bytes, held to its contract: it accepts exactly what
 * json_loadb(JSON_ALLOW_NUL) accepts and builds an equal tree. */
#include <jansson.h>

#include "fuzz.h"
#include "transform/jparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	size_t pos = 0;
	json_t *mine = jl_json_parse((const char *)data, size, &pos, why, sizeof(why));
	json_t *ref = json_loadb((const char *)data, size, JSON_ALLOW_NUL | JSON_DECODE_ANY, NULL);

	FUZZ_CHECK(!mine || pos <= size);
	/* A slip of jansson's: a bare top-level number, true, false or null whose
	 * last byte is a NUL ("1\0") loads (its lexer takes that NUL for the end).
	 * jparse refuses it, rightly; raw rows are objects, where both refuse. */
	if (ref && !mine && size && data[size - 1] == '\0' && !json_is_object(ref) && !json_is_array(ref) &&
	    !json_is_string(ref)) {
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
