/*
 * devstatus.c - development status through the undocumented dev-status API:
 * the summary where the Development field says something (or is absent),
 * then /detail per provider (byInstanceType key) and data type.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/devfield.h"
#include "extract.h"

static const char *const data_types[] = { "pullrequest", "repository", "branch", "build" };

int jl_dev_wanted(jl_run *run, json_t *issue)
{
	const char *fid = run->req->dev_field_id;
	json_t *v;
	jl_devfield f;
	int want;

	if (!run->req->dev_status || run->dev_disabled)
		return 0;
	if (!fid || !*fid)
		return 1; /* no field to read: ask the API */
	v = json_object_get(json_object_get(issue, "fields"), fid);
	if (!json_is_string(v))
		return 1; /* absent, null or a shape we do not know */
	jl_devfield_parse(json_string_value(v), json_string_length(v), &f);
	want = f.has_data;
	jl_devfield_clear(&f);
	return want;
}

static void dev_fail(jl_run *run, jl_req *r)
{
	char msg[400], path[160];
	const char *q = strchr(r->path, '?');

	snprintf(path, sizeof(path), "%.*s", (int)(q ? q - r->path : (long)strlen(r->path)), r->path);
	if (r->rc == JETL_EFORBIDDEN || r->rc == JETL_EAUTH) {
		/* not "no code": the user cannot see it */
		snprintf(msg, sizeof(msg),
			 "jira: HTTP %ld on GET %s: the user lacks the VIEW_DEV_TOOLS permission, so development "
			 "status cannot be read (grant it, or extract without dev status)", r->http, path);
		jl_run_fail(run, JETL_EFORBIDDEN, msg);
	} else {
		jl_run_fail(run, r->rc, r->err);
	}
}

static void on_detail(jl_jira *j, jl_req *r)
{
	jl_batch *b = r->ud;
	json_t *entry = r->ud2;

	if (r->rc == JETL_ENOTFOUND) {
		jl_jira_log(j, JETL_LOG_WARNING, "%s (detail left out)", r->err);
	} else if (r->rc) {
		dev_fail(b->run, r);
	} else {
		json_array_set(json_object_get(entry, "detail"), (size_t)r->tag, r->json);
	}
	jl_req_free(r);
	jl_batch_request_done(b);
}

static void submit_detail(jl_run *run, jl_batch *b, json_t *entry, int64_t issue, const char *app,
			  const char *dt, size_t idx)
{
	char *a = jl_urlencode(app);
	jl_req *r = a ? jl_req_new("GET", jl_strdupf("/rest/dev-status/latest/issue/detail?issueId=%lld"
						     "&applicationType=%s&dataType=%s",
						     (long long)issue, a, dt), NULL)
		      : NULL;

	free(a);
	if (r) {
		r->flags = JL_REQ_ALLOW_404;
		r->ud2 = entry; /* borrowed: b->dev keeps it alive as long as b */
		r->tag = (int64_t)idx;
	}
	jl_batch_submit(run, b, r, on_detail);
}

static void on_summary(jl_jira *j, jl_req *r)
{
	jl_batch *b = r->ud;
	jl_run *run = b->run;
	json_t *entry, *sum, *details, *asked;
	char id[24];

	if (r->rc == JETL_ENOTFOUND) {
		if (run->dev_done > 0) {
			/* the API works: this one issue went away since its body was read */
			jl_jira_log(j, JETL_LOG_WARNING, "%s: issue %lld gone, no dev status", r->err, (long long)r->tag);
		} else {
			/* no summary has ever worked: no dev-status plugin on this site;
			 * say it once and stop asking */
			if (!run->dev_disabled)
				jl_jira_log(j, JETL_LOG_WARNING, "%s: no development information on this site", r->err);
			run->dev_disabled = 1;
		}
		goto out;
	}
	if (r->rc) {
		dev_fail(run, r);
		goto out;
	}
	snprintf(id, sizeof(id), "%lld", (long long)r->tag);
	entry = json_object();
	details = json_array();
	asked = json_array();
	json_object_set(entry, "summary", r->json);
	json_object_set_new(entry, "detail", details);
	json_object_set_new(entry, "detail_requests", asked);
	json_object_set_new(b->dev, id, entry);
	sum = json_object_get(r->json, "summary");
	for (size_t t = 0; t < sizeof(data_types) / sizeof(data_types[0]); t++) {
		json_t *item = json_object_get(sum, data_types[t]);
		json_t *bit = json_object_get(item, "byInstanceType"), *v;
		json_int_t count = json_integer_value(json_object_get(json_object_get(item, "overall"), "count"));
		const char *app;

		if (count <= 0)
			continue;
		json_object_foreach(bit, app, v) {
			size_t idx = json_array_size(details);

			json_array_append_new(details, json_null());
			json_array_append_new(asked, json_pack("{s:s,s:s}", "applicationType", app, "dataType",
							       data_types[t]));
			submit_detail(run, b, entry, r->tag, app, data_types[t], idx);
		}
	}
	run->dev_done++;
out:
	jl_req_free(r);
	jl_batch_request_done(b);
}

void jl_dev_submit(jl_run *run, jl_batch *b, const char *issue_id)
{
	int64_t id = strtoll(issue_id, NULL, 10);
	jl_req *r;

	if (id <= 0) {
		jl_run_fail(run, JETL_EPROTOCOL, "jira: an issue without a numeric id");
		return;
	}
	/* issueId is the numeric id, never the key */
	r = jl_req_new("GET", jl_strdupf("/rest/dev-status/latest/issue/summary?issueId=%lld", (long long)id), NULL);
	if (r) {
		r->flags = JL_REQ_ALLOW_404;
		r->tag = id;
	}
	if (jl_batch_submit(run, b, r, on_summary) == 0)
		run->dev_found++;
}
