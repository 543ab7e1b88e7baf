/* issue_types.h - the Jira data types that come inside each issue (links,
 * the people it names, its versions and components): one descriptor each,
 * the contract the layers share. The transform fills one rowset per type
 * (src/transform/issue_parts.c, a table of map functions indexed by the
 * same enum); the store writes every type from its descriptor alone
 * (src/store/load_parts.c builds the SQL from the columns and the key), so
 * a new type of this kind is a row here, a map function and a migration,
 * not a branch in each file. Pure data; no I/O. */
#ifndef JL_MODEL_ISSUE_TYPES_H
#define JL_MODEL_ISSUE_TYPES_H

#include <stddef.h>

/* How the stored rows of a type relate to the issues of a batch. */
/* Columns of the rowset of issues whose part was read ("part" = the
 * descriptor's name, "external_id"): only theirs are replaced. */
extern const char *const jl_parts_read_cols[];
enum jl_part_scope {
	/* Column 0 is the issue's id: the batch holds every row of each issue
	 * whose part it read (jl_transform_out.parts_read), so the issue's
	 * stored rows that are not in it are deleted (a link removed in Jira
	 * goes), the rest upserted. */
	JL_PART_OWNED,
	/* Shared by many issues (an account): upserted, never deleted. */
	JL_PART_SHARED,
};

typedef struct jl_part_desc {
	const char *name;           /* key of the job totals: "issue_links" */
	const char *table;          /* the final table */
	const char *const *cols;    /* columns after tenant_id, integration_id */
	int ncols;
	int nkey;                   /* the first nkey columns are the primary key's rest */
	enum jl_part_scope scope;
} jl_part_desc;

enum jl_part {
	JL_PART_LINKS,              /* issue_links: fields.issuelinks */
	JL_PART_VERSIONS,           /* issue_versions: fixVersions, versions */
	JL_PART_COMPONENTS,         /* issue_components: components */
	JL_PART_ACCOUNTS,           /* accounts: every user an issue names */
	JL_PART_COMMENTS,           /* comments: fields.comment, completed past its page */
	JL_PART_WORKLOGS,           /* worklogs: fields.worklog, completed past its page */
	JL_PART_N
};

extern const jl_part_desc jl_parts[JL_PART_N];

/* The types fetched by requests of their own, as bits 1 << part. */
#define JL_PARTS_FETCHED ((1u << JL_PART_COMMENTS) | (1u << JL_PART_WORKLOGS))

/* A --types list ("comments,worklogs", "issues", "all"; NULL = all) → the
 * bits of JL_PARTS_FETCHED to fetch. The other descriptors' names are
 * accepted (they come with the issues). 0, or -1 with the unknown name in
 * err. Pure. */
int jl_parts_parse(const char *types, unsigned *fetch, char *err, size_t errlen);

#endif
