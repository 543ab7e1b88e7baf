/* fuzz_transform.c - the issue mapping (jl_transform_raw) on one raw page,
 * with and without a catalog like a synced site's, so the slots, Sprint,
 * Epic Link and Development paths run too. */
#include "fuzz.h"
#include "jetl/common.h"
#include "transform/transform.h"

static jl_catalog g_cat;

static void warn(void *ud, const char *msg)
{
	(void)ud;
	FUZZ_CHECK(msg && !strchr(msg, '\n'));
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const slots[] = { "customfield_10019", "customfield_10020", "customfield_10000",
		"customfield_10015", "customfield_10023", "customfield_10016", "customfield_10014", NULL };
	static const char *const types[] = { "string", "array", "string", "date", "datetime", "number",
		NULL, NULL };

	(void)argc;
	(void)argv;
	jl_catalog_init(&g_cat);
	for (int i = 0; slots[i]; i++)
		jl_catalog_set_slot(&g_cat, i + 1, slots[i], types[i]);
	jl_catalog_add_field(&g_cat, "customfield_10020", "Sprint",
		"{\"type\":\"array\",\"items\":\"json\",\"custom\":\"com.pyxis.greenhopper.jira:gh-sprint\"}");
	jl_catalog_add_field(&g_cat, "customfield_10000", "Development",
		"{\"type\":\"any\",\"custom\":\"com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf\"}");
	jl_catalog_add_field(&g_cat, "customfield_10014", "Epic Link",
		"{\"type\":\"any\",\"custom\":\"com.pyxis.greenhopper.jira:gh-epic-link\"}");
	jl_catalog_add_field(&g_cat, "customfield_10016", "Story point estimate", "{\"type\":\"number\"}");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int pass = 0; pass < 2; pass++) {
		jl_transform_in in = { 0 };
		jl_transform_out out;
		int rc;

		in.raw = (const char *)data;
		in.raw_len = size;
		in.raw_id = 7;
		in.project_key = "FZ";
		in.catalog = pass ? &g_cat : NULL;
		in.warn = warn;
		jl_transform_out_init(&out);
		rc = jl_transform_raw(&in, &out);
		FUZZ_CHECK(rc == JETL_OK || rc == JETL_EDATA || rc == JETL_ENOMEM);
		FUZZ_CHECK(rc == JETL_OK || (out.err[0] && !strchr(out.err, '\n')));
		jl_transform_out_free(&out);
	}
	return 0;
}
