/* fuzz_devfield.c - the Development field in all its forms: the one parser
 * (src/model/devfield.c) and the transform's row built on it (src/transform/
 * dev_status.c) on the same text; when the input is JSON, the summary and
 * detail readers of both. */
#include <jansson.h>

#include "fuzz.h"
#include "jetl/common.h"
#include "model/devfield.h"
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

		rc = jl_devfield_summary(&g, v);
		FUZZ_CHECK(rc == 0 || rc == 1);
		FUZZ_CHECK(g.pr_count >= -1 && g.commit_count >= -1 && g.build_count >= -1);
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
