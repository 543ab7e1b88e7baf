/* fuzz_jparse.c - the transform's JSON lexer (src/transform/jparse.c) on
 * any bytes, held to its contract: it accepts exactly what
 * json_loadb(JSON_ALLOW_NUL) accepts and builds an equal tree; its
 * check-only and kept-as-text paths (jparse.h) judge as the tree does. */
#include <jansson.h>
#include <string.h>

#include "fuzz.h"
#include "transform/jparse.h"

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
	return json_true();
}

/* Every kind of jparse.h by the key's length: tree, text, skip, trim. */
static int keep_by_length(void *ud, const char *key, size_t klen)
{
	(void)ud;
	(void)key;
	return (int)(klen % 4);
}

/* Check-only never contradicts the tree; the prefix parses that keep
 * "fields" values as text, skip or trim them take what the tree prefix
 * parse takes, as far. */
static void other_paths(const char *text, size_t size, const json_t *mine)
{
	static const char *const drop[] = { "a", "self", NULL };
	const jl_json_lazy lazies[] = {
		{ "fields", keep_all, stand_in, NULL, NULL, NULL },
		{ "fields", keep_by_length, stand_in, NULL, drop, NULL },
	};
	int chk = jl_json_check(text, size, NULL, NULL, 0);
	size_t u1 = 0;
	json_t *a = jl_json_parse_prefix(text, size, &u1);

	FUZZ_CHECK(mine ? chk != JL_JSON_INVALID : chk != JL_JSON_TEXT_OK);
	for (size_t i = 0; i < sizeof(lazies) / sizeof(lazies[0]); i++) {
		size_t u2 = 0;
		json_t *b = jl_json_parse_prefix_lazy(text, size, &u2, &lazies[i]);

		FUZZ_CHECK(!a == !b);
		FUZZ_CHECK(!a || u1 == u2);
		json_decref(b);
	}
	json_decref(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	size_t pos = 0;
	json_t *mine = jl_json_parse((const char *)data, size, &pos, why, sizeof(why));
	json_t *ref = json_loadb((const char *)data, size, JSON_ALLOW_NUL | JSON_DECODE_ANY, NULL);

	FUZZ_CHECK(!mine || pos <= size);
	other_paths((const char *)data, size, mine);
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
