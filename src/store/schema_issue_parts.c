/* schema_issue_parts.c - migration 8: the tables of the types each issue carries
 * (src/model/issue_types.h names their columns). */
#include "schema.h"

const char jl_schema_issue_parts[] =
/* One row per link per side: Jira lists a link under both issues, once as
 * outward and once as inward, each with the other issue. */
"CREATE TABLE issue_links ("
"  tenant_id integer NOT NULL, integration_id integer NOT NULL,"
"  work_item_external_id text NOT NULL, link_id text NOT NULL,"
"  link_type_id text, link_type text,"
"  direction text NOT NULL CHECK (direction IN ('inward','outward')),"
"  description text, other_issue_id text, other_issue_key text,"
"  synced_at timestamptz NOT NULL DEFAULT now(),"
"  PRIMARY KEY (tenant_id, integration_id, work_item_external_id, link_id));"
"CREATE INDEX issue_links_other ON issue_links (tenant_id, integration_id, other_issue_id);"
"CREATE TABLE issue_versions ("
"  tenant_id integer NOT NULL, integration_id integer NOT NULL,"
"  work_item_external_id text NOT NULL,"
"  relation text NOT NULL CHECK (relation IN ('fix','affects')),"
"  version_id text NOT NULL, version_name text, released boolean, release_date date,"
"  synced_at timestamptz NOT NULL DEFAULT now(),"
"  PRIMARY KEY (tenant_id, integration_id, work_item_external_id, relation, version_id));"
"CREATE INDEX issue_versions_version ON issue_versions (tenant_id, integration_id, version_id);"
"CREATE TABLE issue_components ("
"  tenant_id integer NOT NULL, integration_id integer NOT NULL,"
"  work_item_external_id text NOT NULL, component_id text NOT NULL, component_name text,"
"  synced_at timestamptz NOT NULL DEFAULT now(),"
"  PRIMARY KEY (tenant_id, integration_id, work_item_external_id, component_id));"
"CREATE INDEX issue_components_component ON issue_components (tenant_id, integration_id, component_id);"
/* Every account an issue names; no admin call lists them. */
"CREATE TABLE accounts ("
"  tenant_id integer NOT NULL, integration_id integer NOT NULL,"
"  account_id text NOT NULL, display_name text, email_address text, active boolean,"
"  time_zone text, account_type text,"
"  synced_at timestamptz NOT NULL DEFAULT now(),"
"  PRIMARY KEY (tenant_id, integration_id, account_id));";

/* Migration 10: comments and worklogs, complete (the embedded page and the
 * rest, fetched per issue). body/comment: ADF flattened to text (Server's
 * text as is); *_raw: the value as Jira sent it. */
const char jl_schema_issue_items[] =
"CREATE TABLE comments ("
"  tenant_id integer NOT NULL, integration_id integer NOT NULL,"
"  work_item_external_id text NOT NULL, comment_id text NOT NULL,"
"  author_account_id text, author_name text, update_author_account_id text,"
"  created_at timestamptz, updated_at timestamptz, body text, body_raw jsonb,"
"  synced_at timestamptz NOT NULL DEFAULT now(),"
"  PRIMARY KEY (tenant_id, integration_id, work_item_external_id, comment_id));"
"CREATE TABLE worklogs ("
"  tenant_id integer NOT NULL, integration_id integer NOT NULL,"
"  work_item_external_id text NOT NULL, worklog_id text NOT NULL,"
"  author_account_id text, author_name text, started_at timestamptz, time_spent_seconds bigint,"
"  created_at timestamptz, updated_at timestamptz, comment text, comment_raw jsonb,"
"  synced_at timestamptz NOT NULL DEFAULT now(),"
"  PRIMARY KEY (tenant_id, integration_id, work_item_external_id, worklog_id));"
"CREATE INDEX worklogs_author ON worklogs (tenant_id, integration_id, author_account_id, started_at);";
