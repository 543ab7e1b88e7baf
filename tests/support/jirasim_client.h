/* jirasim_client.h - the Jira client (src/jira) pointed at a running simulator. */
#ifndef JETL_TEST_JIRASIM_CLIENT_H
#define JETL_TEST_JIRASIM_CLIENT_H

#include <jansson.h>

#include "jira/jira.h"
#include "jirasim.h"

/* Fill *cfg for s: everything zero but the simulator's URL, JIRASIM_USER and
 * JIRASIM_TOKEN with basic auth, and flavor. The strings point into s and
 * static storage: s must outlive the jl_jira_new() call that reads cfg (which
 * copies them). The caller then sets what its test varies (token, auth,
 * concurrency, attempts, log). Touches only *cfg: any thread; cannot fail. */
void jirasim_client_config(jl_jira_config *cfg, const jirasim *s, int flavor);

/* jl_jira_new(cfg); the caller owns the client (jl_jira_free) and uses it
 * from one thread at a time. Aborts the test with jl_jira_new's message when
 * the configuration is refused. */
jl_jira *jirasim_client_new(const jl_jira_config *cfg);

/* A batch's raw-row text (jl_jira_batch_dump), parsed: what a raw row would
 * hold. The caller owns the result (json_decref). Call on the thread running
 * the batch callback, while b is valid. Aborts the test when the text cannot
 * be written or is not JSON. */
json_t *jirasim_batch_json(const jl_jira_batch *b);

#endif
