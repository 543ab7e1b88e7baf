/*
 * devstatus.c - development status through the undocumented dev-status API:
 * the summary where the Development field does not already hold a fresh one,
 * then /detail per provider (byInstanceType key) and data type with a count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/devfield.h"
#include "extract.h"

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

/* The count of an object's "count", or -1 when it gives none. */
static json_int_t count_in(const json_t *o)
{
	const json_t *v = json_object_get(o, "count");

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

/*
 * Record an issue's summary answer in the batch and ask its details: one per
 * data type whose overall count is above zero, and within it per instance
 * type (byInstanceType key) whose own count is not 0: an instance with none
 * of that type has nothing to list. from (NULL: the API) names where the
 * summary came from when it was not asked.
 */
static void take_summary(jl_run *run, jl_batch *b, int64_t issue, json_t *answer, const char *from)
{
	static const char *const data_types[] = JL_DEVFIELD_DETAIL_TYPES;
	json_t *entry = json_object(), *details = json_array(), *asked = json_array();
	json_t *sum = json_object_get(answer, "summary");
	char id[24];

	snprintf(id, sizeof(id), "%lld", (long long)issue);
	json_object_set(entry, "summary", answer);
	json_object_set_new(entry, "detail", details);
	json_object_set_new(entry, "detail_requests", asked);
	if (from)
		json_object_set_new(entry, "summary_from", json_string(from));
	json_object_set_new(b->dev, id, entry);
	for (size_t t = 0; t < sizeof(data_types) / sizeof(data_types[0]); t++) {
		json_t *item = json_object_get(sum, data_types[t]);
		json_t *bit = json_object_get(item, "byInstanceType"), *v;
		const char *app;

		if (count_in(json_object_get(item, "overall")) <= 0)
			continue;
		json_object_foreach(bit, app, v) {
			size_t idx = json_array_size(details);

			if (count_in(v) == 0)
				continue;
			json_array_append_new(details, json_null());
			json_array_append_new(asked, json_pack("{s:s,s:s}", "applicationType", app, "dataType",
							       data_types[t]));
			submit_detail(run, b, entry, issue, app, data_types[t], idx);
		}
	}
}

static void on_summary(jl_jira *j, jl_req *r)
{
	jl_batch *b = r->ud;
	jl_run *run = b->run;

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
	take_summary(run, b, r->tag, r->json, NULL);
	run->dev_done++;
out:
	jl_req_free(r);
	jl_batch_request_done(b);
}

/*
 * What the Development field says decides the requests: nothing linked ("{}",
 * an all-zero summary) asks nothing; a fresh summary of every data type
 * (jl_devfield_complete: the Server form with isStale false) stands for the
 * summary answer, so only its details are asked; anything else (stale, the
 * Cloud form's one data type, the old PR-only form, absent, unknown) asks the
 * summary first.
 */
void jl_dev_submit(jl_run *run, jl_batch *b, json_t *issue, const char *issue_id)
{
	const char *fid = run->req->dev_field_id;
	int64_t id;
	jl_devfield f = { 0 };
	json_t *v = NULL;
	jl_req *r;

	if (!run->req->dev_status || run->dev_disabled)
		return;
	if (fid && *fid)
		v = json_object_get(json_object_get(issue, "fields"), fid);
	if (json_is_string(v)) {
		jl_devfield_parse(json_string_value(v), json_string_length(v), &f);
		if (!f.has_data) {
			jl_devfield_clear(&f);
			return;
		}
	}
	id = strtoll(issue_id, NULL, 10);
	if (id <= 0) {
		jl_devfield_clear(&f);
		jl_run_fail(run, JETL_EPROTOCOL, "jira: an issue without a numeric id");
		return;
	}
	run->dev_found++;
	if (jl_devfield_complete(&f)) {
		json_t *answer = json_pack("{s:[],s:[],s:O}", "errors", "configErrors", "summary", f.summary);

		jl_devfield_clear(&f);
		if (!answer) {
			jl_run_fail(run, JETL_ENOMEM, "jira: out of memory");
			return;
		}
		take_summary(run, b, id, answer, "field");
		json_decref(answer);
		run->dev_done++;
		return;
	}
	jl_devfield_clear(&f);
	/* issueId is the numeric id, never the key */
	r = jl_req_new("GET", jl_strdupf("/rest/dev-status/latest/issue/summary?issueId=%lld", (long long)id), NULL);
	if (r) {
		r->flags = JL_REQ_ALLOW_404;
		r->tag = id;
	}
	if (jl_batch_submit(run, b, r, on_summary) != 0)
		run->dev_found--;
}
