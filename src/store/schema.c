/* schema.c - the DDL of each migration, in order. Never edit a migration
 * that has shipped: append a new one. */
#include "schema.h"

static const char m1_core[] =
"CREATE TABLE raw_extraction_data ("
"  id bigserial PRIMARY KEY,"
"  tenant_id integer NOT NULL,"
"  integration_id integer NOT NULL,"
"  job_id bigint,"
"  type text NOT NULL,"
"  project_key text,"
/* json, not jsonb: keeps Jira's text verbatim, including \\u0000 escapes
 * that jsonb rejects. */
"  raw_data json NOT NULL,"
"  item_count integer NOT NULL DEFAULT 0,"
"  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','processing','completed','failed')),"
"  error text,"
"  attempts integer NOT NULL DEFAULT 0,"
"  created_at timestamptz NOT NULL DEFAULT now(),"
"  processed_at timestamptz,"
"  active boolean NOT NULL DEFAULT true"
");"
/* Every primary key starts with tenant/integration (docs/design.md); id alone is
 * unique already, so this unique index carries the tenant-first order. */
"CREATE UNIQUE INDEX raw_extraction_data_tenant_id ON raw_extraction_data (tenant_id, integration_id, id);"
"CREATE INDEX raw_extraction_data_job ON raw_extraction_data (job_id, status);"
"CREATE TABLE etl_job_queue ("
"  id bigserial PRIMARY KEY,"
"  tenant_id integer NOT NULL,"
"  integration_id integer NOT NULL,"
"  job_type text NOT NULL,"
"  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued','running','finished','failed','cancelled')),"
"  params jsonb NOT NULL DEFAULT '{}',"
"  step integer NOT NULL DEFAULT 0,"
"  total_steps integer NOT NULL DEFAULT 0,"
"  step_name text,"
"  items_done bigint NOT NULL DEFAULT 0,"
"  items_total bigint NOT NULL DEFAULT 0,"
"  message text,"
"  error text,"
"  created_at timestamptz NOT NULL DEFAULT now(),"
"  started_at timestamptz,"
"  updated_at timestamptz NOT NULL DEFAULT now(),"
"  finished_at timestamptz"
");"
"CREATE UNIQUE INDEX etl_job_queue_tenant_id ON etl_job_queue (tenant_id, integration_id, id);"
"CREATE INDEX etl_job_queue_status ON etl_job_queue (tenant_id, integration_id, status);"
"CREATE TABLE work_items ("
"  tenant_id integer NOT NULL,"
"  integration_id integer NOT NULL,"
"  external_id text NOT NULL,"
"  key text NOT NULL,"
"  project_key text,"
"  summary text,"
"  description text,"
"  issue_type text,"
"  status text,"
"  status_category text,"
"  priority text,"
"  resolution text,"
"  assignee_account_id text,"
"  assignee_name text,"
"  reporter_account_id text,"
"  reporter_name text,"
"  parent_key text,"
"  labels text[] NOT NULL DEFAULT '{}',"
"  components text[] NOT NULL DEFAULT '{}',"
"  fix_versions text[] NOT NULL DEFAULT '{}',"
"  sprints text[] NOT NULL DEFAULT '{}',"
"  story_points numeric,"
"  created_at timestamptz,"
"  updated_at timestamptz,"
"  resolved_at timestamptz,"
"  due_date date,"
"  code_changed boolean NOT NULL DEFAULT false,"
"  custom_field_01 text, custom_field_02 text, custom_field_03 text, custom_field_04 text,"
"  custom_field_05 text, custom_field_06 text, custom_field_07 text, custom_field_08 text,"
"  custom_field_09 text, custom_field_10 text, custom_field_11 text, custom_field_12 text,"
"  custom_field_13 text, custom_field_14 text, custom_field_15 text, custom_field_16 text,"
"  custom_field_17 text, custom_field_18 text, custom_field_19 text, custom_field_20 text,"
"  custom_fields_overflow jsonb NOT NULL DEFAULT '{}',"
"  raw_id bigint,"
"  synced_at timestamptz NOT NULL DEFAULT now(),"
"  PRIMARY KEY (tenant_id, integration_id, external_id)"
");"
"CREATE INDEX work_items_key ON work_items (tenant_id, integration_id, key);"
"CREATE INDEX work_items_project ON work_items (tenant_id, integration_id, project_key);"
"CREATE TABLE custom_field_mappings ("
"  tenant_id integer NOT NULL,"
"  integration_id integer NOT NULL,"
"  slot smallint NOT NULL CHECK (slot BETWEEN 1 AND 20),"
"  jira_field_id text NOT NULL,"
"  name text,"
"  field_type text,"
"  PRIMARY KEY (tenant_id, integration_id, slot),"
"  UNIQUE (tenant_id, integration_id, jira_field_id)"
");"
"CREATE TABLE jira_fields ("
"  tenant_id integer NOT NULL,"
"  integration_id integer NOT NULL,"
"  field_id text NOT NULL,"
"  name text,"
"  custom boolean NOT NULL DEFAULT false,"
"  schema jsonb,"
"  PRIMARY KEY (tenant_id, integration_id, field_id)"
");"
"CREATE TABLE changelogs ("
"  tenant_id integer NOT NULL,"
"  integration_id integer NOT NULL,"
"  work_item_external_id text NOT NULL,"
"  work_item_key text,"
"  history_id text NOT NULL,"
"  item_index smallint NOT NULL,"
"  author_account_id text,"
"  author_name text,"
"  changed_at timestamptz,"
"  field text,"
"  field_id text,"
"  field_type text,"
"  from_value text,"
"  from_string text,"
"  to_value text,"
"  to_string text,"
"  PRIMARY KEY (tenant_id, integration_id, history_id, item_index)"
");"
"CREATE INDEX changelogs_work_item ON changelogs (tenant_id, integration_id, work_item_external_id);"
"CREATE TABLE dev_status ("
"  tenant_id integer NOT NULL,"
"  integration_id integer NOT NULL,"
"  work_item_external_id text NOT NULL,"
"  pr_count integer NOT NULL DEFAULT 0,"
"  pr_state text,"
"  pr_open_count integer NOT NULL DEFAULT 0,"
"  pr_merged_count integer NOT NULL DEFAULT 0,"
"  pr_declined_count integer NOT NULL DEFAULT 0,"
"  commit_count integer NOT NULL DEFAULT 0,"
"  branch_count integer NOT NULL DEFAULT 0,"
"  repository_count integer NOT NULL DEFAULT 0,"
"  build_count integer NOT NULL DEFAULT 0,"
"  build_failed_count integer NOT NULL DEFAULT 0,"
"  build_successful_count integer NOT NULL DEFAULT 0,"
"  review_count integer NOT NULL DEFAULT 0,"
"  providers text[] NOT NULL DEFAULT '{}',"
"  repositories text[] NOT NULL DEFAULT '{}',"
"  last_updated timestamptz,"
"  is_stale boolean NOT NULL DEFAULT false,"
"  source text NOT NULL CHECK (source IN ('field','summary','detail')),"
"  detail jsonb,"
"  synced_at timestamptz NOT NULL DEFAULT now(),"
"  PRIMARY KEY (tenant_id, integration_id, work_item_external_id)"
");"
"CREATE TABLE sync_state ("
"  tenant_id integer NOT NULL,"
"  integration_id integer NOT NULL,"
"  project_key text NOT NULL,"
"  watermark timestamptz,"
"  last_job_id bigint,"
"  updated_at timestamptz NOT NULL DEFAULT now(),"
"  PRIMARY KEY (tenant_id, integration_id, project_key)"
");"
"CREATE TABLE projects ("
"  tenant_id integer NOT NULL,"
"  integration_id integer NOT NULL,"
"  external_id text NOT NULL,"
"  key text NOT NULL,"
"  name text,"
"  project_type text,"
"  PRIMARY KEY (tenant_id, integration_id, external_id)"
");";

/* Issues that vanish from Jira are marked, never silently kept as live. */
static const char m2_deleted[] =
"ALTER TABLE work_items ADD COLUMN deleted_at timestamptz;"
"CREATE INDEX work_items_live ON work_items (tenant_id, integration_id, project_key) WHERE deleted_at IS NULL;";

/* The large values (raw JSON, overflow fields, dev details) compressed with
 * lz4 where the server has it: PostgreSQL's default pglz cost ~2 s of
 * server CPU per 20,000 issues to decompress the raw rows the transform
 * reads, and it compresses every COPYed overflow/detail value. lz4 does both
 * several times faster (and the raw rows came out smaller: 59 vs 96 MB).
 * Values already stored keep their method; a server without lz4 (or older
 * than 14) keeps pglz. */
static const char m3_lz4[] =
"DO $jl$BEGIN "
"IF current_setting('server_version_num')::int >= 140000 AND EXISTS ("
"  SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN "
"  ALTER TABLE raw_extraction_data ALTER COLUMN raw_data SET COMPRESSION lz4;"
"  ALTER TABLE work_items ALTER COLUMN custom_fields_overflow SET COMPRESSION lz4,"
"    ALTER COLUMN description SET COMPRESSION lz4;"
"  ALTER TABLE dev_status ALTER COLUMN detail SET COMPRESSION lz4;"
"END IF; END$jl$;";

/* A running job's lease: the process driving it renews lease_until every
 * few seconds (heartbeat_at says when it last did). A running job whose
 * lease ran out lost its process (SIGKILL, crash, a machine gone): the
 * sweep ends it. A job with no lease (NULL) is not held by one process:
 * created before this migration, or handed to workers. */
static const char m4_lease[] =
"ALTER TABLE etl_job_queue ADD COLUMN heartbeat_at timestamptz, ADD COLUMN lease_until timestamptz;"
"CREATE INDEX etl_job_queue_lease ON etl_job_queue (lease_until) WHERE lease_until IS NOT NULL;";

/* Issues a transform could not store: the rest of their raw row is stored,
 * these are recorded here (docs/design.md "Issues that could not be
 * stored"). One row per issue and raw row; a later store of the issue (any
 * raw row) deletes its rows, so what is here is what is still missing.
 * external_id is NULL when the issue's id itself could not be read (then
 * position says which element of the raw row's issues it was). */
static const char m5_issue_errors[] =
"CREATE TABLE issue_errors ("
"  tenant_id integer NOT NULL,"
"  integration_id integer NOT NULL,"
"  raw_id bigint NOT NULL,"
"  external_id text,"
"  key text,"
"  position integer NOT NULL,"
"  error text NOT NULL,"
"  created_at timestamptz NOT NULL DEFAULT now()"
");"
"CREATE INDEX issue_errors_issue ON issue_errors (tenant_id, integration_id, external_id);"
"CREATE INDEX issue_errors_raw ON issue_errors (tenant_id, integration_id, raw_id);";

/* schema_integrations.c */
extern const char jl_schema_integrations[];
extern const char jl_schema_issue_parts[];
extern const char jl_schema_issue_items[];

/* The job's totals as the run goes (issues, histories, changelog items,
 * dev-status rows, raw rows, requests, retries, 429s, deleted): one jsonb
 * object that every process of the job adds to key by key, so a counter
 * added later needs no migration. */
static const char m7_job_totals[] =
"ALTER TABLE etl_job_queue ADD COLUMN totals jsonb NOT NULL DEFAULT '{}';";

/* One running extraction per (tenant, integration, project): the claim of
 * the job extracting it (docs/design.md "Overlapping extractions"). Jobs
 * are created together with their claims under an advisory lock, so the
 * database decides between processes and machines. project_key is upper
 * case (Jira's keys are; JQL ignores case). lease_until: the lease of the
 * worker that took a distributed project (NULL: held by the job's own
 * lease, or waiting in the queue). */
static const char m9_project_claims[] =
"CREATE TABLE etl_project_claims ("
"  tenant_id integer NOT NULL,"
"  integration_id integer NOT NULL,"
"  project_key text NOT NULL,"
"  job_id bigint NOT NULL,"
"  claimed_at timestamptz NOT NULL DEFAULT now(),"
"  heartbeat_at timestamptz,"
"  lease_until timestamptz,"
"  PRIMARY KEY (tenant_id, integration_id, project_key)"
");"
"CREATE INDEX etl_project_claims_job ON etl_project_claims (job_id);"
"CREATE INDEX etl_project_claims_lease ON etl_project_claims (lease_until) WHERE lease_until IS NOT NULL;";
/* Jira webhooks (docs/webhooks.md): each integration's webhook secret, sealed
 * as its Jira secret is (never a reference: jetl generates it), and the
 * deliveries accepted, one row per X-Atlassian-Webhook-Identifier, so a
 * replay finds its row and changes nothing, and an accepted event outlives
 * a restart until the issue is refreshed (status 'done'). */
static const char m11_webhooks[] =
"ALTER TABLE integrations ADD COLUMN webhook_secret text"
"  CHECK (webhook_secret IS NULL OR webhook_secret ~ '^enc:v1:[0-9a-f]{8}:');"
"CREATE TABLE webhook_events ("
"  tenant_id integer NOT NULL,"
"  integration_id integer NOT NULL,"
"  delivery_id text NOT NULL,"
"  event text NOT NULL,"
"  issue_id text,"
"  issue_key text,"
"  project_key text,"
"  secondary boolean NOT NULL DEFAULT false,"
"  event_at timestamptz,"
"  received_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
"  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','done','failed','ignored')),"
"  attempts integer NOT NULL DEFAULT 0,"
"  job_id bigint,"
"  error text,"
"  processed_at timestamptz,"
"  PRIMARY KEY (tenant_id, integration_id, delivery_id)"
");"
"CREATE INDEX webhook_events_pending ON webhook_events (received_at) WHERE status = 'pending';"
"CREATE INDEX webhook_events_issue ON webhook_events (tenant_id, integration_id, issue_id);";
/* The JQL a project's watermark covers ('' = the whole project): a run
 * narrowed by other JQL reads within it but must not move it, and a
 * watermark made by a narrowed run does not bound a whole-project run
 * (docs/design.md, "Incremental sync"). */
static const char m12_sync_scope[] =
"ALTER TABLE sync_state ADD COLUMN scope text NOT NULL DEFAULT '';";
/* The job's five steps (step/total_steps: 1..5 of 5, the message of each,
 * docs/design.md "A job's five steps") beside the finer account they
 * replace there: projects_done/projects_total count the projects (what
 * step/total_steps counted before; NULL total: not yet discovered) and
 * detail is the phase's own text ("SVA: issues 50/100"). Existing rows keep
 * their counts in the new columns. */
static const char m14_job_steps[] =
"ALTER TABLE etl_job_queue ADD COLUMN projects_done integer NOT NULL DEFAULT 0,"
"  ADD COLUMN projects_total integer, ADD COLUMN detail text,"
"  ALTER COLUMN step SET DEFAULT 1, ALTER COLUMN total_steps SET DEFAULT 5;"
"UPDATE etl_job_queue SET projects_done = step, projects_total = total_steps, detail = message,"
"  step = CASE WHEN status = 'finished' THEN 5 ELSE least(greatest(step, 1), 4) END, total_steps = 5;";

/* Which database this is, for the queue messages (docs/deploy.md,
 * "Sharing a broker"): one row, made once with a random uuid. Messages carry
 * it and the queue names derive from it, so two databases behind one
 * RabbitMQ never take each other's messages. Not per tenant: a database is
 * one deployment whatever it holds. A restored copy keeps it (give the copy
 * its own: UPDATE jetl_deployment SET id = gen_random_uuid()). */
static const char m13_deployment[] =
"CREATE TABLE jetl_deployment ("
"  one boolean PRIMARY KEY DEFAULT true CHECK (one),"
"  id uuid NOT NULL DEFAULT gen_random_uuid(),"
"  created_at timestamptz NOT NULL DEFAULT now()"
");"
"INSERT INTO jetl_deployment DEFAULT VALUES;"
/* When a raw row's transform message was last published again because
 * nothing progressed (src/store/deployment.c, jl_stale_claim). */
"ALTER TABLE raw_extraction_data ADD COLUMN requeued_at timestamptz;";

const struct jl_migration jl_migrations[] = {
	{ 1, "core tables", m1_core },
	{ 2, "work_items.deleted_at", m2_deleted },
	{ 3, "lz4 for large values", m3_lz4 },
	{ 4, "etl_job_queue lease", m4_lease },
	{ 5, "issue_errors", m5_issue_errors },
	{ 6, "integrations, issue_types, statuses", jl_schema_integrations },
	{ 7, "etl_job_queue.totals", m7_job_totals },
	{ 8, "issue_links, issue_versions, issue_components, accounts", jl_schema_issue_parts },
	{ 9, "etl_project_claims", m9_project_claims },
	{ 10, "comments, worklogs", jl_schema_issue_items },
	{ 11, "webhooks", m11_webhooks },
	{ 12, "sync_state.scope", m12_sync_scope },
	{ 13, "jetl_deployment, raw_extraction_data.requeued_at", m13_deployment },
	{ 14, "etl_job_queue five steps", m14_job_steps },
};

const int jl_migration_count = (int)(sizeof(jl_migrations) / sizeof(jl_migrations[0]));
