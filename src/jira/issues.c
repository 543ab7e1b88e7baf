/*
 * issues.c - the issues of an answer (Cloud /issue/bulkfetch, Server /search)
 * into their batch, one at a time.
 *
 * A batch lives until it is emitted in order, and up to `window` batches
 * live at once. It used to hold the jansson trees of its ~100 issues, about
 * 11 MB (a tree costs ~4.5 times its text), and the answer was parsed whole
 * first, another ~11 MB: those trees were most of `jetl extract`'s heap
 * (heaptrack, 10,000 issues: 26 of 32 MB at the peak in jansson). Now each
 * issue is parsed alone from the answer's text, dumped compact onto the
 * batch's text, and its tree freed: the batch keeps ~2.5 MB of text and a
 * stub per issue with only what the rest of the run reads (its id, its
 * embedded log when that is capped, its Development field). The raw row
 * comes out byte for byte as before (jl_jira_batch_dump).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/jspan.h"
#include "../core/utf8fix.h"
#include "../core/util.h"
#include "../model/issue_types.h"
#include "extract.h"
#include "tz.h"

typedef struct take {
	jl_batch *b;
	jl_req *r;
	jl_issue_admit admit;
	void *ud;
	json_t *rest;       /* the answer's other members */
	size_t count;       /* issues in the answer */
	long repaired;      /* bytes replaced with U+FFFD */
	int arrays;         /* "issues" arrays seen */
	int failed;         /* the run failed (message recorded) */
} take;

static int buf_put(const char *data, size_t len, void *ud)
{
	return jl_buf_put(ud, data, len);
}

/* Parse one value of the answer's text; bytes no parser takes are replaced
 * as a whole answer's would be (http.c, parse_answer). NULL: the run failed. */
static json_t *parse_part(take *t, const char *p, size_t n)
{
	json_error_t e, e2;
	jl_buf fixed = JL_BUF_INIT;
	/* any value: the answer's other members may be strings or numbers */
	json_t *v = json_loadb(p, n, JSON_ALLOW_NUL | JSON_DECODE_ANY, &e);
	long k;
	char msg[400];

	if (v)
		return v;
	k = jl_utf8_json_repair(p, n, &fixed);
	if (k > 0 && (v = json_loadb(fixed.data, fixed.len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &e2)) != NULL)
		t->repaired += k;
	jl_buf_free(&fixed);
	if (v)
		return v;
	snprintf(msg, sizeof(msg), "jira: invalid JSON from %s %s (%s at byte %ld)", t->r->method, t->r->path,
		 e.text, (long)(p - t->r->resp.data) + (long)e.position);
	jl_run_fail(t->b->run, JETL_EPROTOCOL, msg);
	t->failed = 1;
	return NULL;
}

/* The stub the rest of the run reads instead of the issue (extract.h). */
static json_t *stub_of(jl_run *run, jl_batch *b, json_t *issue)
{
	json_t *stub = json_object(), *id = json_object_get(issue, "id");
	json_t *cl = json_object_get(issue, "changelog"), *hist = json_object_get(cl, "histories");
	json_t *total = json_object_get(cl, "total");
	const char *fid = run->req->dev_field_id;

	if (!stub)
		return NULL;
	if (id)
		json_object_set(stub, "id", id);
	if (json_is_array(hist) && json_is_integer(total) &&
	    json_integer_value(total) > (json_int_t)json_array_size(hist))
		json_object_set(stub, "changelog", cl);   /* capped: completed later */
	else
		b->n_histories += json_array_size(hist);
	/* comment / worklog pages cut by Jira: their whole lists are read */
	for (int k = 0; k < 2; k++)
		if (!(run->req->skip_items & (1u << (k ? JL_PART_WORKLOGS : JL_PART_COMMENTS))) &&
		    jl_items_cut(json_object_get(issue, "fields"), k)) {
			json_t *cut = json_object_get(stub, "cut");

			if (!cut)
				json_object_set_new(stub, "cut", cut = json_object());
			json_object_set_new(cut, k ? "worklogs" : "comments", json_true());
		}
	if (run->req->dev_status && fid && *fid) {
		json_t *dev = json_object_get(json_object_get(issue, "fields"), fid);

		if (dev)
			json_object_set_new(stub, "fields", json_pack("{s:O}", fid, dev));
	}
	return stub;
}

/* One issue of the answer: admitted, dumped onto the batch's text, reduced
 * to its stub. 0, or -1 with the run failed. */
static int take_one(take *t, json_t *issue)
{
	jl_batch *b = t->b;
	const char *ids = json_string_value(json_object_get(issue, "id"));
	const char *upd = json_string_value(json_object_get(json_object_get(issue, "fields"), "updated"));
	int64_t ms;
	json_t *stub;
	int a;

	t->count++;
	a = t->admit(b, ids ? strtoll(ids, NULL, 10) : 0, t->ud);
	if (a <= 0) {
		t->failed = a < 0;
		return a;
	}
	if ((b->text.len && jl_buf_putc(&b->text, ',')) ||
	    json_dump_callback(issue, buf_put, &b->text, JSON_COMPACT) || !(stub = stub_of(b->run, b, issue)) ||
	    json_array_append_new(b->issues, stub)) {
		jl_run_fail(b->run, JETL_ENOMEM, "jira: out of memory");
		t->failed = 1;
		return -1;
	}
	if (upd && jl_jira_time_parse(upd, &ms, NULL) == 0) {
		const jl_run *run = b->run;

		if (ms > b->max_updated_ms)
			b->max_updated_ms = ms;
		/* later than Jira's clock at the start plus the run so far: an
		 * edit made during the run is not in the future */
		if (run->req->future_after_ms > 0 &&
		    ms > run->req->future_after_ms + (int64_t)((jl_now() - run->t0) * 1000))
			b->n_future++;
	}
	return 0;
}

/* The "issues" array of the text, element by element; its end, or NULL. */
static const char *take_array(take *t, const char *p, const char *e)
{
	if (t->arrays++) {
		jl_run_fail(t->b->run, JETL_EPROTOCOL, "jira: an answer with two \"issues\" arrays");
		t->failed = 1;
		return NULL;
	}
	/* the issues dumped are about as long as the rest of the answer: one
	 * allocation instead of a doubling series (up to twice the size) */
	if (jl_buf_reserve(&t->b->text, (size_t)(e - p))) {
		jl_run_fail(t->b->run, JETL_ENOMEM, "jira: out of memory");
		t->failed = 1;
		return NULL;
	}
	p = jl_jscan_ws(p + 1, e);
	if (p < e && *p == ']')
		return p + 1;
	for (;;) {
		const char *end = jl_jscan_value(p, e);
		json_t *issue;

		if (!end || !(issue = parse_part(t, p, (size_t)(end - p))))
			return NULL;
		if (take_one(t, issue) < 0) {
			json_decref(issue);
			return NULL;
		}
		json_decref(issue);
		p = jl_jscan_ws(end, e);
		if (p < e && *p == ',') {
			p = jl_jscan_ws(p + 1, e);
			continue;
		}
		return p < e && *p == ']' ? p + 1 : NULL;
	}
}

static const char *take_member(void *ud, const jl_jspan *key, const char *v, const char *e)
{
	take *t = ud;
	const char *end;
	char name[64];
	json_t *val;

	if (key->n == 6 && !memcmp(key->p, "issues", 6) && *v == '[')
		return take_array(t, v, e);
	if (!(end = jl_jscan_value(v, e)) || key->n >= sizeof(name))
		return end;   /* a long key is none the callers read */
	memcpy(name, key->p, key->n);
	name[key->n] = '\0';
	if (!(val = parse_part(t, v, (size_t)(end - v))))
		return NULL;
	json_object_set_new(t->rest, name, val);
	return end;
}

/* The answer parsed whole (no JL_REQ_TEXT, or a text the scan refused). */
static int take_tree(take *t, json_t *doc)
{
	json_t *issues = json_object_get(doc, "issues"), *v;
	const char *name;
	size_t i;

	if (!json_is_array(issues))
		return 1;
	json_array_foreach(issues, i, v)
		if (take_one(t, v) < 0)
			return -1;
	json_object_foreach(doc, name, v)
		if (strcmp(name, "issues"))
			json_object_set(t->rest, name, v);
	return 0;
}

int jl_batch_take(jl_batch *b, jl_req *r, jl_issue_admit admit, void *ud, json_t **rest, size_t *count)
{
	take t = { b, r, admit, ud, json_object(), 0, 0, 0, 0 };
	int rc;

	*rest = NULL;
	*count = 0;
	if (!t.rest) {
		jl_run_fail(b->run, JETL_ENOMEM, "jira: out of memory");
		return -1;
	}
	if (r->json) {
		rc = take_tree(&t, r->json);
	} else if (jl_jscan_members(r->resp.data, r->resp.len, take_member, &t) == 0) {
		rc = t.arrays ? 0 : 1;
	} else {
		if (!t.failed)
			jl_run_fail(b->run, JETL_EPROTOCOL, "jira: an answer's issues are not JSON");
		rc = -1;
	}
	if (t.repaired)
		jl_jira_log(b->run->j, JETL_LOG_WARNING, "jira: %s %s: %ld invalid UTF-8 byte(s) or unpaired "
			    "surrogate(s) replaced with U+FFFD", r->method, r->path, t.repaired);
	if (rc) {
		json_decref(t.rest);
		return rc;
	}
	*rest = t.rest;
	*count = t.count;
	return 0;
}
