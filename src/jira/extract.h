/*
 * extract.h - the state of one jl_jira_extract() run, shared by the files
 * that drive it (extract.c, search.c, bulkfetch.c, changelog.c, devstatus.c).
 * Private to src/jira/. Everything runs on the caller's thread.
 */
#ifndef JL_JIRA_EXTRACT_H
#define JL_JIRA_EXTRACT_H

#include "internal.h"

/* A set of positive ids: 64-id words keyed by id / 64 (open addressing), so
 * the dense ids of a Jira site cost about a bit each (a project's share of a
 * site's ids: a few bits), and a scattered set at most 32 bytes an id. */
typedef struct jl_idword {
	int64_t key;            /* id / 64 + 1; 0: free */
	uint64_t bits;
} jl_idword;

typedef struct jl_idset {
	jl_idword *slot;
	size_t cap, used;       /* slots, slots in use */
	size_t n;               /* ids */
} jl_idset;

int jl_idset_add(jl_idset *s, int64_t id);     /* 1 added, 0 already there, -1 OOM */
int jl_idset_has(const jl_idset *s, int64_t id);
void jl_idset_free(jl_idset *s);

typedef struct jl_run jl_run;

typedef struct jl_batch {
	int64_t seq;
	jl_run *run;
	int kind;               /* JL_BATCH_IDS (ids known) or JL_BATCH_PAGE (Server startAt) */
	int64_t *ids;           /* ids asked (kind IDS) */
	size_t nids;
	int64_t start_at;       /* kind PAGE */
	int64_t expect;         /* issues expected on the page */
	int tails;              /* re-reads of a short page (kind IDS on Server: of a capped answer) */
	int64_t upto;           /* streamed listing: its last id's place in the listing, plus one */
	int bodies_done;
	int outstanding;        /* requests in flight for this batch */
	json_t *issues;         /* a stub per issue taken, in order: its "id", the
	                           "changelog" only when capped, "fields" only the
	                           Development field (issues.c) */
	jl_buf text;            /* the issues as compact JSON, ',' between them */
	int64_t max_updated_ms; /* highest `updated` of the issues taken */
	size_t n_future;        /* issues dated in the future (req->future_after_ms) */
	json_t *changelogs;     /* id → every history, oldest first */
	json_t *dev;            /* id → {summary, detail, detail_requests} */
	json_t *items[2];       /* comments, worklogs: id → every item, where the page was cut (items.c) */
	json_t *cl_ids;         /* Cloud: ids whose logs are completed by /changelog/bulkfetch */
	json_t *cl_acc;         /* id → histories fetched so far */
	json_t *cl_tokens;      /* tokens seen, to refuse a loop */
	size_t n_histories;
	struct jl_batch *next;
} jl_batch;

enum { JL_BATCH_IDS = 0, JL_BATCH_PAGE = 1 };

struct jl_run {
	jl_jira *j;
	const jl_jira_extract_req *req;
	const jl_jira_callbacks *cb;
	int cloud;
	int rc;                 /* first failure; the message is on j */
	int batch_size;
	int window;             /* batches alive at once (memory bound) */
	int dev_disabled;       /* dev-status API absent (404): stop asking */
	double t0;              /* jl_now() at the start: future_after_ms moves with it */

	/* ids to fetch (Cloud, or Server reconciliation) */
	int64_t *ids;
	size_t nids, capids, next_id;
	jl_idset seen;          /* every id collected or emitted */

	/* Cloud: the selection's listing streams while batches run (search.c).
	 * ids[next_id, ready) may be fetched, the newest page's too; but a batch
	 * holding ids of the newest page is emitted only once the page after it
	 * (or the end) came, so that nothing is emitted from a page whose
	 * successor shows the listing broken. ids[] holds about two pages. */
	int streaming;
	int census_done;        /* the last page is taken */
	int census_inflight;    /* a page request is in the engine */
	int census_cb;          /* pages go to cb->census */
	int dedupe;             /* pages carry `updated` for cb->known */
	char *sel;              /* the listing's JQL */
	char *tok;              /* token of the next page */
	json_t *tokens;         /* tokens seen, to refuse a loop */
	json_t *census_doc;     /* a page answered, not yet taken */
	size_t ready;
	int64_t base;           /* place of ids[0] in the listing */
	int64_t confirmed;      /* places before this are on pages that have a successor */
	int64_t listed;         /* ids listed (new ones, kept for fetching) */
	int64_t skipped;        /* ids cb->known said are stored unchanged */
	int64_t pages;
	int64_t approx;         /* /search/approximate-count; -1 unknown */
	int approx_inflight;

	/* Server paging */
	int64_t srv_total;      /* from the first page; -1 before */
	int64_t srv_next;       /* next startAt to ask */
	int64_t srv_ps;         /* page size the server grants */
	int srv_drift;          /* total changed during the read */
	int srv_first_done;
	int paging_done;

	jl_batch *head, *tail;
	int nbatches;
	int64_t next_seq;

	/* progress */
	int64_t total;          /* issues expected */
	int64_t issues_done;
	int64_t capped_found, capped_done;
	int64_t dev_found, dev_done;
	int64_t items_found, items_done;   /* comment/worklog lists read past their page */
	int bodies_all_in;
	int64_t last_p[8][2];
};

/* Record the first failure (message copied onto the client). */
void jl_run_fail(jl_run *run, int rc, const char *msg);
/* Send r for batch b (NULL r: out of memory, recorded as the run's failure).
 * Sets what every batch request shares (priority = the batch's order, done,
 * ud = b) and counts it in b->outstanding. Returns 0, or -1 when r was NULL. */
int jl_batch_submit(jl_run *run, jl_batch *b, jl_req *r, jl_req_done done);
/* The batch's requests changed: account one finished request. */
void jl_batch_request_done(jl_batch *b);
/* After a batch's issue bodies are complete: find capped logs and dev status to fetch. */
void jl_batch_after_bodies(jl_batch *b);

/* issues.c */
/* Whether an issue with this id (0: none or not numeric) joins the batch:
 * 1 yes, 0 skip it, -1 failure (recorded on the run). */
typedef int (*jl_issue_admit)(jl_batch *b, int64_t id, void *ud);
/*
 * Take the issues of answer r into batch b, one at a time: each admitted one
 * is dumped onto b->text and kept as a stub (b->issues). With JL_REQ_TEXT
 * the text is parsed an issue at a time (~100 KB of tree at once instead of
 * ~11 MB for the page); otherwise r->json's issues are used. *rest gets the
 * answer without "issues" (caller decrefs; NULL when it had none) and
 * *count the issues it held (admitted or not). Returns 0; 1 when the answer
 * has no "issues" array (the caller says so, nothing taken); -1 when the run
 * failed (out of memory, an issue that is not JSON even once repaired).
 */
int jl_batch_take(jl_batch *b, jl_req *r, jl_issue_admit admit, void *ud, json_t **rest, size_t *count);

/* search.c */
/* Page an ids-only search over jql; each page's ids go to cb->census (when
 * census) and into run->ids (when collect). Synchronous. */
int jl_search_ids(jl_run *run, const char *jql, int census, int collect);
/* Cloud: start the streamed listing of run->sel (ask its approximate count,
 * read the first page). Synchronous up to the first page. */
int jl_census_start(jl_run *run, int census);
/* Cloud: take a page that arrived and ask the next one when ids run low.
 * Returns 0 or a failure (also recorded on run). */
int jl_census_step(jl_run *run);
/* Release what the streamed listing holds. */
void jl_census_free(jl_run *run);
/* Server: submit the search page of batch b (startAt b->start_at + got, n issues). */
void jl_search_page_submit(jl_run *run, jl_batch *b, int64_t start_at, int64_t n);

/* bulkfetch.c: submit the bodies of batch b (Cloud /issue/bulkfetch, Server id-in search). */
void jl_bulkfetch_submit(jl_run *run, jl_batch *b);

/* changelog.c */
/* Cloud: complete the logs of b->cl_ids through /changelog/bulkfetch. */
void jl_changelog_bulk_submit(jl_run *run, jl_batch *b, const char *token);
/* Server (or fallback): complete one issue's log through /issue/{id}/changelog. */
void jl_changelog_issue_submit(jl_run *run, jl_batch *b, json_t *issue);

/* items.c */
/* Whether the issue's fields hold a cut page of comments (kind 0) or
 * worklogs (1): a total above the items embedded. */
int jl_items_cut(const json_t *fields, int kind);
/* Read the whole lists the stub's "cut" names ({"comments": true, …}). */
void jl_items_submit(jl_run *run, jl_batch *b, json_t *issue);

/* devstatus.c */
/* The dev status of one issue as its Development field calls for: nothing,
 * the details of the fresh summary it holds, or the summary and details. */
void jl_dev_submit(jl_run *run, jl_batch *b, json_t *issue, const char *issue_id);

#endif
