/*
 * site.c - what a Jira site says about itself: serverInfo and myself (for
 * a connection test), its issue types and statuses (for discovery), and
 * the transport failure of the last request, so a test can tell DNS, a
 * refused connection, TLS and a timeout apart.
 */
#include <string.h>

#include "internal.h"

int jl_jira_server_info(jl_jira *j, json_t **out)
{
	int rc;

	*out = NULL;
	/* serverInfo exists under /rest/api/2 on both flavors */
	if ((rc = jl_http_call(j, "GET", strdup("/rest/api/2/serverInfo"), NULL, out)))
		return rc;
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return jl_jira_fail(j, JETL_EPROTOCOL, "jira: GET /rest/api/2/serverInfo did not answer an object");
	}
	return 0;
}

/* GET {api}/<what>, which must answer an array. */
static int get_array(jl_jira *j, const char *what, json_t **out)
{
	const char *api;
	int rc;

	*out = NULL;
	if ((rc = jl_jira_api(j, &api)))
		return rc;
	if ((rc = jl_http_call(j, "GET", jl_strdupf("%s/%s", api, what), NULL, out)))
		return rc;
	if (!json_is_array(*out)) {
		json_decref(*out);
		*out = NULL;
		return jl_jira_fail(j, JETL_EPROTOCOL, "jira: GET %s/%s did not answer an array", api, what);
	}
	return 0;
}

int jl_jira_myself(jl_jira *j, json_t **out)
{
	const char *api;
	int rc;

	*out = NULL;
	if ((rc = jl_jira_api(j, &api)))
		return rc;
	if ((rc = jl_http_call(j, "GET", jl_strdupf("%s/myself", api), NULL, out)))
		return rc;
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return jl_jira_fail(j, JETL_EPROTOCOL, "jira: GET %s/myself did not answer an object", api);
	}
	return 0;
}

int jl_jira_webhooks(jl_jira *j, const char *method, const char *suffix, const char *body, json_t **out)
{
	*out = NULL;
	return jl_http_call(j, method, jl_strdupf("/rest/webhooks/1.0/webhook%s", suffix ? suffix : ""),
		body ? strdup(body) : NULL, out);
}

int jl_jira_issue_types(jl_jira *j, json_t **out)
{
	return get_array(j, "issuetype", out);
}

int jl_jira_statuses(jl_jira *j, json_t **out)
{
	return get_array(j, "status", out);
}

const char *jl_jira_transport_class(const jl_jira *j)
{
	switch ((CURLcode)j->last_curl) {
	case CURLE_OK:
		return "";
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return "dns";
	case CURLE_COULDNT_CONNECT:
		return "unreachable";
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
		return "tls";
	default:
		return "network";
	}
}
