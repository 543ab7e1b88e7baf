/* fuzz_devfield.c - the Development field in all its forms: the client's
 * parser (src/jira/devfield.c) and the transform's (src/transform/
 * dev_status.c) on the same text; when the input is JSON, the summary and
 * detail readers of both. */
#include <jansson.h>

#include "fuzz.h"
#include "jetl/common.h"
#include "jira/devfield.h"
#include "transform/dev_status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	jl_devfield f;
	jl_dev d;
	json_t *v;
	int rc;

	rc = jl_devfield_parse(s, size, &f);
	FUZZ_CHECK(rc == 0 || rc == JETL_EPROTOCOL || rc == JETL_ENOMEM);
	jl_devfield_clear(&f);

	jl_dev_init(&d);
	rc = jl_dev_from_field(&d, s, size);
	FUZZ_CHECK(rc >= -1 && rc <= 1);
	FUZZ_CHECK(d.nproviders >= 0 && d.nproviders <= JL_DEV_MAX_NAMES);
	FUZZ_CHECK(d.nrepositories >= 0 && d.nrepositories <= JL_DEV_MAX_NAMES);
	jl_dev_free(&d);
	(void)jl_dev_field_looks_like(s);

	v = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (v) {
		jl_devfield g;

		memset(&g, 0, sizeof(g));
		jl_devfield_from_summary(&g, v);
		jl_devfield_clear(&g);
		jl_dev_init(&d);
		jl_dev_from_summary(&d, v);
		jl_dev_from_detail(&d, v);
		FUZZ_CHECK(d.nproviders <= JL_DEV_MAX_NAMES && d.nrepositories <= JL_DEV_MAX_NAMES);
		jl_dev_free(&d);
		json_decref(v);
	}
	free(s);
	return 0;
}
