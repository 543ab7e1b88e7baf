/* fuzz_changelog.c - changelog items (src/transform/changelog.c) through
 * the transform's entry: the input is an issue's histories, given both as a
 * completed log ("changelogs": {id: [oldest first]}) and as the embedded one
 * (issue.changelog.histories, newest first). */
#include "fuzz.h"
#include "jetl/common.h"
#include "core/buf.h"
#include "transform/transform.h"

static void run(const char *pre, const uint8_t *data, size_t size, const char *post)
{
	jl_buf b = JL_BUF_INIT;
	jl_transform_in in = { 0 };
	jl_transform_out out;
	int rc;

	jl_buf_puts(&b, pre);
	jl_buf_put(&b, (const char *)data, size);
	jl_buf_puts(&b, post);
	FUZZ_CHECK(!b.oom);
	in.raw = b.data;
	in.raw_len = b.len;
	in.raw_id = 1;
	in.project_key = "FZ";
	jl_transform_out_init(&out);
	rc = jl_transform_raw(&in, &out);
	FUZZ_CHECK(rc == JETL_OK || rc == JETL_EDATA || rc == JETL_ENOMEM);
	jl_transform_out_free(&out);
	jl_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run("{\"issues\":[{\"id\":\"10001\",\"key\":\"FZ-1\",\"fields\":{\"project\":{\"key\":\"FZ\"}},"
	    "\"changelog\":{\"startAt\":0,\"maxResults\":100,\"total\":1,\"histories\":", data, size, "}}]}");
	run("{\"issues\":[{\"id\":\"10001\",\"key\":\"FZ-1\",\"fields\":{\"project\":{\"key\":\"FZ\"},"
	    "\"summary\":\"s\",\"created\":\"2020-06-12T08:24:56.048+0800\"}}],\"changelogs\":{\"10001\":",
	    data, size, "}}");
	return 0;
}
