/*
 * items.c - comments and worklogs past the page embedded in the issue.
 * Jira embeds a page of each in fields.comment / fields.worklog (worklogs
 * at most 20); when its total says more exist, the issue's whole list is
 * read from GET /issue/{id}/comment (or /worklog) page by page, oldest
 * first, and goes to the raw row's "comments" / "worklogs" under the
 * issue's id. Pages are read from the start: the embedded ones are not
 * assumed to be any particular slice, and an issue rarely needs more than
 * one page (100 comments, 1,000 worklogs a request).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract.h"

static const struct {
	const char *field, *member, *path;
	int page;
} kinds[2] = {
	{ "comment", "comments", "comment", 100 },
	{ "worklog", "worklogs", "worklog", 1000 },
};

typedef struct one_list {
	json_t *issue;   /* the stub, borrowed from b->issues */
	json_t *acc;     /* items read so far */
	int kind;        /* 0 comments, 1 worklogs */
} one_list;

static void list_free(void *p)
{
	one_list *st = p;

	json_decref(st->acc);
	free(st);
}

static void list_submit(jl_run *run, jl_batch *b, one_list *st, int64_t start);

static void on_page(jl_jira *j, jl_req *r)
{
	jl_batch *b = r->ud;
	one_list *st = r->ud2;
	jl_run *run = b->run;
	const char *id = json_string_value(json_object_get(st->issue, "id"));
	json_t *vals = json_object_get(r->json, kinds[st->kind].member);
	json_int_t total = json_integer_value(json_object_get(r->json, "total"));
	char msg[200];

	(void)j;
	if (r->rc) {
		jl_run_fail(run, r->rc, r->err);
		goto out;
	}
	if (!json_is_array(vals)) {
		snprintf(msg, sizeof(msg), "jira: GET /issue/%s/%s answered without %s", id, kinds[st->kind].path,
			 kinds[st->kind].member);
		jl_run_fail(run, JETL_EPROTOCOL, msg);
		goto out;
	}
	json_array_extend(st->acc, vals);
	/* The total of the last answer rules: items deleted or added while
	 * the pages are read move it. An empty page ends the list. */
	if (json_array_size(vals) > 0 && (json_int_t)json_array_size(st->acc) < total) {
		r->ud2 = NULL;   /* the state goes on with the next page */
		r->ud2_free = NULL;
		list_submit(run, b, st, r->tag + (int64_t)json_array_size(vals));
		goto out;
	}
	json_object_set(b->items[st->kind], id, st->acc);
	run->items_done++;
out:
	jl_req_free(r);
	jl_batch_request_done(b);
}

static void list_submit(jl_run *run, jl_batch *b, one_list *st, int64_t start)
{
	const char *id = json_string_value(json_object_get(st->issue, "id"));
	jl_req *r = jl_req_new("GET", jl_strdupf("%s/issue/%s/%s?startAt=%lld&maxResults=%d", run->j->api, id,
						 kinds[st->kind].path, (long long)start, kinds[st->kind].page), NULL);

	if (r) {
		r->tag = start;
		r->ud2 = st;
		r->ud2_free = list_free;
	} else {
		list_free(st);
	}
	jl_batch_submit(run, b, r, on_page);
}

int jl_items_cut(const json_t *fields, int kind)
{
	const json_t *page = json_object_get(fields, kinds[kind].field);
	const json_t *items = json_object_get(page, kinds[kind].member);
	const json_t *total = json_object_get(page, "total");

	return json_is_object(page) && json_is_array(items) && json_is_integer(total) &&
	       json_integer_value(total) > (json_int_t)json_array_size(items);
}

void jl_items_submit(jl_run *run, jl_batch *b, json_t *issue)
{
	const json_t *cut = json_object_get(issue, "cut");

	for (int k = 0; k < 2; k++) {
		one_list *st;

		if (!json_is_true(json_object_get(cut, kinds[k].member)))
			continue;
		if (!(st = calloc(1, sizeof(*st))) || !(st->acc = json_array())) {
			free(st);
			jl_run_fail(run, JETL_ENOMEM, "jira: out of memory");
			return;
		}
		st->issue = issue;
		st->kind = k;
		run->items_found++;
		list_submit(run, b, st, 0);
	}
}
