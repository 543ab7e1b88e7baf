/* version.c - library version and process-wide set-up. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdatomic.h>

#include "jetl/common.h"
#include "jetl/version.h"
#include "jetl/progress.h"

const char *jetl_version(void)
{
	return JETL_VERSION_STRING;
}

int jetl_version_number(void)
{
	return JETL_VERSION_MAJOR * 10000 + JETL_VERSION_MINOR * 100 + JETL_VERSION_PATCH;
}

/* Counts jetl_global_init() calls so that jetl_open()'s implicit call and an
 * explicit one pair up with cleanups. */
static atomic_int global_refs;

int jetl_global_init(void)
{
	if (atomic_fetch_add(&global_refs, 1) == 0) {
		/* jansson seeds its hash function lazily, which races when the
		 * first objects are made on several threads at once. */
		json_object_seed(0);
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			atomic_fetch_sub(&global_refs, 1);
			return JETL_ERROR;
		}
	}
	return JETL_OK;
}

void jetl_global_cleanup(void)
{
	if (atomic_load(&global_refs) > 0 && atomic_fetch_sub(&global_refs, 1) == 1)
		curl_global_cleanup();
}

static const char *const phase_names[] = {
	"discover", "census", "issues", "changelogs", "dev_status",
	"store", "queue", "transform", "done",
};

const char *jetl_phase_name(int phase)
{
	if (phase < 0 || phase > JETL_PHASE_DONE)
		return "unknown";
	return phase_names[phase];
}
