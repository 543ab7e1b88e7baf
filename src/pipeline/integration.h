/* integration.h - the pipeline's use of integration rows (private). */
#ifndef JL_PIPELINE_INTEGRATION_H
#define JL_PIPELINE_INTEGRATION_H

#include <stddef.h>
#include <stdint.h>

#include "jetl.h"
#include "../jira/jira.h"

/* Make sure ctx has its Jira settings: explicit ones (options, environment)
 * as they are, else those of its (tenant, integration) row, read once per
 * pair (a worker's context changes pair per message). JETL_ENOENT naming the
 * integration when the row is missing or inactive; JETL_ECONFIG when its
 * secret cannot be read (no key, wrong key), naming it. Message on ctx. */
int jl_integration_resolve(jetl_ctx *ctx);

/* For calls that write under the context's (tenant, integration) without
 * reading Jira (a slot mapping, a project selection): JETL_OK when the Jira
 * was given (options, environment: the caller names the site), else the
 * row must exist and be active: JETL_ENOENT naming it and how to add it.
 * There is no implicit integration (issue 25). Message on ctx. */
int jl_integration_require(jetl_ctx *ctx);

/* Discovery of the site's catalogue through j: projects, issue types and
 * statuses into their tables. strict: a failure to list projects is the
 * call's failure (else a warning, as issue types and statuses always are).
 * *nprojects (may be NULL) gets how many projects Jira listed. */
int jl_integration_catalog(jetl_ctx *ctx, jl_jira *j, int strict, int64_t *nprojects);

/* The keys an extraction without keys takes: the row's selected projects,
 * else the selected active ones of projects, else every active one.
 * *keys is a malloc'd array of malloc'd strings (jl_keys_free). */
int jl_integration_extract_keys(jetl_ctx *ctx, char ***keys, size_t *n);
void jl_keys_free(char **keys, size_t n);

/* The row's extraction defaults: its JQL (NULL: none; borrowed from a
 * buffer of jql_size bytes) and its dev status switch (1/0, or -1 unset). */
void jl_integration_extract_defaults(jetl_ctx *ctx, char *jql, size_t jql_size, int *dev_status);

#endif
