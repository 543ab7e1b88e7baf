/* xf.h - state shared by the transform's files while one raw row is mapped
 * (private to src/transform/). One xf per call: no globals, so calls on
 * different threads never meet. */
#ifndef JL_TRANSFORM_XF_H
#define JL_TRANSFORM_XF_H

#include <jansson.h>

#include "../core/buf.h"
#include "../model/catalog.h"
#include "../model/issue_types.h"
#include "../model/rowset.h"
#include "transform.h"

/* Columns of work_items rows, in jl_work_items_cols order. */
enum jl_wi_col {
	WI_ID, WI_KEY, WI_PROJECT, WI_SUMMARY, WI_DESCRIPTION, WI_TYPE, WI_STATUS, WI_STATUS_CAT,
	WI_PRIORITY, WI_RESOLUTION, WI_ASSIGNEE_ID, WI_ASSIGNEE_NAME, WI_REPORTER_ID,
	WI_REPORTER_NAME, WI_PARENT, WI_LABELS, WI_COMPONENTS, WI_FIX_VERSIONS, WI_SPRINTS,
	WI_STORY_POINTS, WI_CREATED, WI_UPDATED, WI_RESOLVED, WI_DUE, WI_CODE_CHANGED,
	WI_CF01, WI_OVERFLOW = WI_CF01 + 20, WI_RAW_ID, WI_NCOLS
};

typedef struct jl_xf_span {
	const char *p;             /* into the raw row */
	size_t n;
} jl_xf_span;

typedef struct jl_xf {
	const jl_transform_in *in;
	jl_transform_out *out;
	jl_catalog cat;            /* borrowed strings: in->catalog plus detected fields */
	const char *issue_id;      /* current issue, for messages */
	const char *issue_key;     /* both as written: escaped when they hold U+0000 or '%' (json.h) */
	const char *lookup_id;     /* the id as the changelogs/dev_status parts key it; NULL: none can */
	jl_buf idesc, keyesc, hidesc; /* escaped issue id, key, history id (json.h jl_id_escape) */
	char idbuf[32];            /* issue_id when made here ("#<position>", an integer id):
	                            * lives as long as the xf, for isolate() after one_issue */
	int id_read;               /* issue_id is the issue's own id, not "#<position>" */
	jl_buf tmp;                /* scratch text, reused */
	jl_buf tmp2;               /* second scratch (overflow JSON, array names) */
	int may_have_nul;          /* raw text holds "\u0000": strings need stripping */
	int issue_nul;             /* the issue parse_issue built holds \u0000 (jparse.h saw_nul) */
	/* per_issue: each detail's text, the "dev_status" trees being trimmed
	 * (devspans.h); NULL: whole trees. */
	const struct jl_dev_spans *dev_spans;
	const char *items[256];    /* scratch for array cells */
	/* Custom fields bound for the overflow, kept as text by the parser
	 * (jl_json_lazy, per_issue): span i of the current issue is the text
	 * of the value whose place marks[i] holds in its "fields". */
	jl_xf_span *spans;
	size_t nspans, spans_cap;
	json_t **marks;            /* owned, one reference each; nmarks made */
	size_t nmarks;
	/* The raw row's "comments" and "worklogs": issue id → every item, for
	 * the issues whose embedded page was cut (borrowed; NULL: none). */
	json_t *items_done[2];
	/* accounts.c: rows of out->parts[JL_PART_ACCOUNTS] by id (row + 1; 0 empty) */
	size_t *acct_slots;
	size_t acct_cap, acct_used;
} jl_xf;

/* Record "issue <id> (<key>): field '<field>': <why>" as the row's error;
 * returns JETL_EDATA. */
int jl_xf_fail(jl_xf *xf, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Count a warning and hand "issue <id> (<key>): <msg>" to the callback. */
void jl_xf_warn(jl_xf *xf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* JETL_ENOMEM with a message. */
int jl_xf_oom(jl_xf *xf);

/* Name of a JSON type for messages ("string", "object", …). */
const char *jl_json_type_name(const json_t *v);

/* work_item.c: one issue → one row of out->work_items (dev gives
 * code_changed). Returns 0 or a jetl_status with the error recorded. */
struct jl_dev;
int jl_work_item_map(jl_xf *xf, const json_t *issue, const struct jl_dev *dev);

/* work_item.c: whether jl_work_item_map (or what it calls) reads the
 * standard field key of "fields": the parser leaves the others out of the
 * issue's tree (jl_xf_keep_text answers JL_LAZY_SKIP). */
int jl_work_item_reads(const char *key, size_t klen);

/* custom_fields.c: the issue's custom fields → slots and overflow of row. */
int jl_custom_fields_map(jl_xf *xf, const json_t *fields, size_t row);

/* custom_fields.c: the parser hooks that keep overflow-bound custom fields
 * as text (jl_json_lazy's keep_text and stand_in, ud = the xf). Spans are
 * the current issue's: nspans is reset before each issue is parsed. */
int jl_xf_keep_text(void *xf, const char *key, size_t klen);
json_t *jl_xf_stand_in(void *xf, const char *key, size_t klen, const char *text, size_t n);
/* The span v stands in for, or NULL when v is an ordinary value. */
const jl_xf_span *jl_xf_span_of(const jl_xf *xf, const json_t *v);
/* Free the stand-ins and the span table. */
void jl_xf_spans_free(jl_xf *xf);

/* changelog.c: histories (oldest first when !newest_first) → rows of
 * out->changelogs. */
int jl_changelog_map(jl_xf *xf, const json_t *histories, int newest_first);

/* issue_parts.c: the issue's links, versions, components and the people
 * its fields name → out->parts. Malformed elements warn and are left out.
 * Returns 0 or JETL_ENOMEM. */
int jl_issue_parts_map(jl_xf *xf, const json_t *issue);

/* issue_parts.c: issue xf->issue_id's part p was read (its stored rows
 * not in this batch are deleted). 0 or JETL_ENOMEM. */
int jl_part_read(jl_xf *xf, enum jl_part p);

/* issue_items.c: the issue's comments / worklogs (the completed list of
 * xf->items_done, else the embedded page) → out->parts. 0 or a status. */
int jl_comments_map(jl_xf *xf, const json_t *fields);
int jl_worklogs_map(jl_xf *xf, const json_t *fields);

/* accounts.c: a user object (Cloud or Server) → one accounts row per id
 * and raw row; anything without an id is ignored. 0 or JETL_ENOMEM. */
int jl_account_add(jl_xf *xf, const json_t *user);
/* Forget which ids have rows (after rows were undone). */
void jl_accounts_forget(jl_xf *xf);
void jl_accounts_free(jl_xf *xf);

#endif
