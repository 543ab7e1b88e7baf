/* issue_types.c - the descriptors of the types an issue carries. The
 * column lists are the final tables' (src/store/schema_issue_parts.c). */
#include <stdio.h>
#include <string.h>

#include "issue_types.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *const links_cols[] = { "work_item_external_id", "link_id", "link_type_id", "link_type",
	"direction", "description", "other_issue_id", "other_issue_key" };
static const char *const versions_cols[] = { "work_item_external_id", "relation", "version_id",
	"version_name", "released", "release_date" };
static const char *const components_cols[] = { "work_item_external_id", "component_id", "component_name" };
static const char *const comments_cols[] = { "work_item_external_id", "comment_id", "author_account_id",
	"author_name", "update_author_account_id", "created_at", "updated_at", "body", "body_raw" };
static const char *const worklogs_cols[] = { "work_item_external_id", "worklog_id", "author_account_id",
	"author_name", "started_at", "time_spent_seconds", "created_at", "updated_at", "comment", "comment_raw" };
const char *const jl_parts_read_cols[] = { "part", "external_id" };
static const char *const accounts_cols[] = { "account_id", "display_name", "email_address", "active",
	"time_zone", "account_type" };

const jl_part_desc jl_parts[JL_PART_N] = {
	[JL_PART_LINKS] = { "issue_links", "issue_links", links_cols, N(links_cols), 2, JL_PART_OWNED },
	[JL_PART_VERSIONS] = { "issue_versions", "issue_versions", versions_cols, N(versions_cols), 3,
		JL_PART_OWNED },
	[JL_PART_COMPONENTS] = { "issue_components", "issue_components", components_cols, N(components_cols), 2,
		JL_PART_OWNED },
	[JL_PART_ACCOUNTS] = { "accounts", "accounts", accounts_cols, N(accounts_cols), 1, JL_PART_SHARED },
	[JL_PART_COMMENTS] = { "comments", "comments", comments_cols, N(comments_cols), 2, JL_PART_OWNED },
	[JL_PART_WORKLOGS] = { "worklogs", "worklogs", worklogs_cols, N(worklogs_cols), 2, JL_PART_OWNED },
};

int jl_parts_parse(const char *types, unsigned *fetch, char *err, size_t errlen)
{
	const char *p = types;

	*fetch = JL_PARTS_FETCHED;
	if (!types || strcmp(types, "all") == 0)
		return 0;
	*fetch = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		int known = (n == 6 && strncmp(p, "issues", 6) == 0) || (n == 3 && strncmp(p, "all", 3) == 0);

		if (n == 3 && strncmp(p, "all", 3) == 0)
			*fetch = JL_PARTS_FETCHED;
		for (int k = 0; k < JL_PART_N && !known; k++)
			if (strlen(jl_parts[k].name) == n && strncmp(p, jl_parts[k].name, n) == 0) {
				known = 1;
				*fetch |= (1u << k) & JL_PARTS_FETCHED;
			}
		if (!known) {
			snprintf(err, errlen, "unknown data type '%.*s' (known: issues, comments, worklogs, issue_links, "
				"issue_versions, issue_components, accounts, all)", (int)(n > 40 ? 40 : n), p);
			return -1;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}
