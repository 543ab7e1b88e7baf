/* jirasim_client.c - the Jira client against the simulator, for tests. */
#include <criterion/criterion.h>
#include <string.h>

#include "jetl.h"
#include "core/buf.h"
#include "jirasim_client.h"

void jirasim_client_config(jl_jira_config *cfg, const jirasim *s, int flavor)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->base_url = s->url;
	cfg->user = JIRASIM_USER;
	cfg->token = JIRASIM_TOKEN;
	cfg->auth = JETL_AUTH_BASIC;
	cfg->flavor = flavor;
}

jl_jira *jirasim_client_new(const jl_jira_config *cfg)
{
	jl_jira *j = NULL;
	char err[256] = "";

	cr_assert_eq(jl_jira_new(&j, cfg, err, sizeof(err)), 0, "%s", err);
	return j;
}

static int put_text(const char *d, size_t n, void *ud)
{
	return jl_buf_put(ud, d, n);
}

json_t *jirasim_batch_json(const jl_jira_batch *b)
{
	jl_buf t = JL_BUF_INIT;
	json_t *raw;

	cr_assert_eq(jl_jira_batch_dump(b, put_text, &t), 0);
	raw = json_loadb(t.data, t.len, JSON_ALLOW_NUL, NULL);
	cr_assert(raw, "a batch's text is not JSON");
	jl_buf_free(&t);
	return raw;
}
