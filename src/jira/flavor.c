/* flavor.c - Cloud or Server/Data Center, from /rest/api/2/serverInfo. */
#include <string.h>

#include "internal.h"

int jl_jira_flavor(jl_jira *j, int *flavor)
{
	json_t *doc;
	const char *dep;
	int rc;

	if (j->flavor == JETL_FLAVOR_AUTO) {
		/* serverInfo exists under /rest/api/2 on both flavors */
		if ((rc = jl_http_call(j, "GET", strdup("/rest/api/2/serverInfo"), NULL, &doc)))
			return rc;
		dep = json_string_value(json_object_get(doc, "deploymentType"));
		if (!dep) {
			json_decref(doc);
			return jl_jira_fail(j, JETL_EPROTOCOL,
					    "jira: GET /rest/api/2/serverInfo has no deploymentType");
		}
		/* "Cloud" vs "Server" / "DataCenter"; anything else is self-hosted too */
		j->flavor = !strcmp(dep, "Cloud") ? JETL_FLAVOR_CLOUD : JETL_FLAVOR_SERVER;
		json_decref(doc);
	}
	j->api = j->flavor == JETL_FLAVOR_CLOUD ? "/rest/api/3" : "/rest/api/2";
	if (flavor)
		*flavor = j->flavor;
	return 0;
}

int jl_jira_api(jl_jira *j, const char **api)
{
	int rc = 0;

	if (!j->api)
		rc = jl_jira_flavor(j, NULL);
	*api = j->api;
	return rc;
}
