-- Peer 2, "ELT in SQL": the transform inside PostgreSQL, as a dbt model would
-- write it: INSERT ... SELECT over the pending raw rows' JSON, one statement
-- per final table, in one transaction.
--
--   psql -v ON_ERROR_STOP=1 -f bench/peers/elt.sql DSN
--
-- raw_data is json (it keeps Jira's \u0000 escapes, which jsonb rejects), so
-- the model first strips that escape and casts to jsonb, as such a model must.
-- Same columns as jetl's (docs/design.md, 'Tables'); the rules are the plain SQL ones (ADF flattened by
-- a jsonb_path_query over its text nodes, sprints by name, unmapped custom
-- fields into custom_fields_overflow, dev status counts from the fetched
-- summary, else "present" from the Development field).
BEGIN;

CREATE TEMP TABLE elt_raw ON COMMIT DROP AS
SELECT r.id AS raw_id, r.project_key,
       replace(r.raw_data::text, '\u0000', '')::jsonb AS doc
FROM raw_extraction_data r
WHERE r.status = 'pending' AND r.type = 'jira_issues_changelogs_dev_status';

CREATE TEMP TABLE elt_fields ON COMMIT DROP AS
SELECT
  (SELECT field_id FROM jira_fields WHERE schema->>'custom' LIKE '%gh-sprint' LIMIT 1) AS sprint,
  (SELECT field_id FROM jira_fields WHERE schema->>'custom' LIKE '%gh-epic-link' LIMIT 1) AS epic,
  (SELECT field_id FROM jira_fields WHERE schema->>'custom' LIKE '%devsummary%' LIMIT 1) AS dev,
  (SELECT array_agg(field_id ORDER BY name) FROM jira_fields
    WHERE name IN ('Story point estimate', 'Story Points')) AS points;

-- The fetched changelogs and dev status, keyed by issue id (taken out of each
-- raw document once: looking them up per issue would detoast the document again
-- for every issue).
CREATE TEMP TABLE elt_logs ON COMMIT DROP AS
SELECT e.raw_id, l.key AS id, l.value AS histories
FROM elt_raw e, jsonb_each(e.doc->'changelogs') l;

CREATE TEMP TABLE elt_dev ON COMMIT DROP AS
SELECT e.raw_id, d.key AS id, d.value AS dev
FROM elt_raw e, jsonb_each(e.doc->'dev_status') d;

-- One row per issue (the newest raw row wins when an issue occurs twice).
CREATE TEMP TABLE elt_issue ON COMMIT DROP AS
SELECT DISTINCT ON (i.id)
       i.raw_id, i.project_key, i.id, i.key, i.f, i.embedded, l.histories AS fetched_logs, d.dev AS fetched_dev
FROM (SELECT e.raw_id, e.project_key, i->>'id' AS id, i->>'key' AS key, i->'fields' AS f,
             i->'changelog'->'histories' AS embedded
      FROM elt_raw e, jsonb_array_elements(e.doc->'issues') i) i
LEFT JOIN elt_logs l ON l.raw_id = i.raw_id AND l.id = i.id
LEFT JOIN elt_dev d ON d.raw_id = i.raw_id AND d.id = i.id
ORDER BY i.id, i.raw_id DESC;

INSERT INTO work_items (tenant_id, integration_id, external_id, key, project_key, summary, description,
    issue_type, status, status_category, priority, resolution, assignee_account_id, assignee_name,
    reporter_account_id, reporter_name, parent_key, labels, components, fix_versions, sprints,
    story_points, created_at, updated_at, resolved_at, due_date, code_changed, custom_fields_overflow,
    raw_id, synced_at)
SELECT 1, 1, x.id, x.key, x.project_key, x.f->>'summary',
       CASE jsonb_typeof(x.f->'description')
         WHEN 'string' THEN x.f->>'description'
         WHEN 'object' THEN (SELECT string_agg(t #>> '{}', '')
                             FROM jsonb_path_query(x.f->'description', 'strict $.**.text') t)
       END,
       x.f->'issuetype'->>'name', x.f->'status'->>'name', x.f->'status'->'statusCategory'->>'key',
       x.f->'priority'->>'name', x.f->'resolution'->>'name',
       coalesce(x.f->'assignee'->>'accountId', x.f->'assignee'->>'key'), x.f->'assignee'->>'displayName',
       coalesce(x.f->'reporter'->>'accountId', x.f->'reporter'->>'key'), x.f->'reporter'->>'displayName',
       coalesce(x.f->'parent'->>'key', x.f->>fl.epic),
       coalesce(ARRAY(SELECT jsonb_array_elements_text(x.f->'labels')), '{}'),
       coalesce(ARRAY(SELECT c->>'name' FROM jsonb_array_elements(x.f->'components') c), '{}'),
       coalesce(ARRAY(SELECT v->>'name' FROM jsonb_array_elements(x.f->'fixVersions') v), '{}'),
       coalesce(ARRAY(SELECT CASE jsonb_typeof(s) WHEN 'object' THEN s->>'name'
                                  ELSE substring(s #>> '{}' FROM 'name=([^,]*)') END
                      FROM jsonb_array_elements(CASE jsonb_typeof(x.f->fl.sprint) WHEN 'array'
                                                THEN x.f->fl.sprint ELSE '[]' END) s), '{}'),
       (SELECT (x.f->>p)::numeric FROM unnest(fl.points) p WHERE x.f->>p IS NOT NULL LIMIT 1),
       (x.f->>'created')::timestamptz, (x.f->>'updated')::timestamptz,
       (x.f->>'resolutiondate')::timestamptz, (x.f->>'duedate')::date,
       coalesce((x.fetched_dev->'summary'->'summary'->'repository'->'overall'->>'count')::int, 0) > 0
         OR coalesce((x.fetched_dev->'summary'->'summary'->'pullrequest'->'overall'->>'count')::int, 0) > 0,
       coalesce((SELECT jsonb_object_agg(k, v) FROM jsonb_each(x.f) AS o(k, v)
                 WHERE k LIKE 'customfield\_%' AND jsonb_typeof(v) <> 'null'), '{}'),
       x.raw_id, now()
FROM elt_issue x, elt_fields fl
ON CONFLICT (tenant_id, integration_id, external_id) DO UPDATE SET
    key = EXCLUDED.key, project_key = EXCLUDED.project_key, summary = EXCLUDED.summary,
    description = EXCLUDED.description, issue_type = EXCLUDED.issue_type, status = EXCLUDED.status,
    status_category = EXCLUDED.status_category, priority = EXCLUDED.priority,
    resolution = EXCLUDED.resolution, assignee_account_id = EXCLUDED.assignee_account_id,
    assignee_name = EXCLUDED.assignee_name, reporter_account_id = EXCLUDED.reporter_account_id,
    reporter_name = EXCLUDED.reporter_name, parent_key = EXCLUDED.parent_key, labels = EXCLUDED.labels,
    components = EXCLUDED.components, fix_versions = EXCLUDED.fix_versions, sprints = EXCLUDED.sprints,
    story_points = EXCLUDED.story_points, created_at = EXCLUDED.created_at,
    updated_at = EXCLUDED.updated_at, resolved_at = EXCLUDED.resolved_at, due_date = EXCLUDED.due_date,
    code_changed = EXCLUDED.code_changed, custom_fields_overflow = EXCLUDED.custom_fields_overflow,
    raw_id = EXCLUDED.raw_id, synced_at = now();

INSERT INTO changelogs (tenant_id, integration_id, work_item_external_id, work_item_key, history_id,
    item_index, author_account_id, author_name, changed_at, field, field_id, field_type, from_value,
    from_string, to_value, to_string)
SELECT 1, 1, x.id, x.key, h->>'id', (it.n - 1)::smallint,
       coalesce(h->'author'->>'accountId', h->'author'->>'key'), h->'author'->>'displayName',
       (h->>'created')::timestamptz, it.v->>'field', it.v->>'fieldId', it.v->>'fieldtype',
       it.v->>'from', it.v->>'fromString', it.v->>'to', it.v->>'toString'
FROM elt_issue x,
     jsonb_array_elements(coalesce(x.fetched_logs, x.embedded, '[]')) h,
     jsonb_array_elements(h->'items') WITH ORDINALITY it(v, n)
ON CONFLICT (tenant_id, integration_id, history_id, item_index) DO UPDATE SET
    work_item_external_id = EXCLUDED.work_item_external_id, work_item_key = EXCLUDED.work_item_key,
    author_account_id = EXCLUDED.author_account_id, author_name = EXCLUDED.author_name,
    changed_at = EXCLUDED.changed_at, field = EXCLUDED.field, field_id = EXCLUDED.field_id,
    field_type = EXCLUDED.field_type, from_value = EXCLUDED.from_value,
    from_string = EXCLUDED.from_string, to_value = EXCLUDED.to_value, to_string = EXCLUDED.to_string;

INSERT INTO dev_status (tenant_id, integration_id, work_item_external_id, pr_count, pr_state,
    pr_open_count, pr_merged_count, pr_declined_count, commit_count, branch_count, repository_count,
    build_count, build_failed_count, build_successful_count, review_count, providers, repositories,
    last_updated, is_stale, source, detail, synced_at)
SELECT 1, 1, x.id,
       coalesce((s->'pullrequest'->'overall'->>'count')::int, 0),
       CASE WHEN coalesce((s->'pullrequest'->'overall'->>'count')::int, 0) > 0
            THEN s->'pullrequest'->'overall'->>'state' END,
       coalesce((s->'pullrequest'->'overall'->'details'->>'openCount')::int, 0),
       coalesce((s->'pullrequest'->'overall'->'details'->>'mergedCount')::int, 0),
       coalesce((s->'pullrequest'->'overall'->'details'->>'declinedCount')::int, 0),
       coalesce((s->'repository'->'overall'->>'count')::int, 0),
       coalesce((s->'branch'->'overall'->>'count')::int, 0),
       0,
       coalesce((s->'build'->'overall'->>'count')::int, 0),
       coalesce((s->'build'->'overall'->>'failedBuildCount')::int, 0),
       coalesce((s->'build'->'overall'->>'successfulBuildCount')::int, 0),
       coalesce((s->'review'->'overall'->>'count')::int, 0),
       coalesce(ARRAY(SELECT DISTINCT t FROM jsonb_each(s) k(kind, v), jsonb_object_keys(
                        CASE jsonb_typeof(v->'byInstanceType') WHEN 'object' THEN v->'byInstanceType'
                        ELSE '{}' END) t), '{}'),
       '{}',
       (SELECT max((v->'overall'->>'lastUpdated')::timestamptz) FROM jsonb_each(s) k(kind, v)),
       coalesce((x.fetched_dev->'summary'->>'isStale')::boolean, false),
       CASE WHEN x.fetched_dev IS NOT NULL THEN 'summary' ELSE 'field' END,
       x.fetched_dev->'detail', now()
FROM elt_issue x
CROSS JOIN elt_fields fl
CROSS JOIN LATERAL (SELECT coalesce(x.fetched_dev->'summary'->'summary', '{}') AS s) ss
WHERE x.fetched_dev IS NOT NULL
   OR (jsonb_typeof(x.f->fl.dev) = 'string' AND x.f->>fl.dev NOT IN ('', '{}'))
ON CONFLICT (tenant_id, integration_id, work_item_external_id) DO UPDATE SET
    pr_count = EXCLUDED.pr_count, pr_state = EXCLUDED.pr_state, pr_open_count = EXCLUDED.pr_open_count,
    pr_merged_count = EXCLUDED.pr_merged_count, pr_declined_count = EXCLUDED.pr_declined_count,
    commit_count = EXCLUDED.commit_count, branch_count = EXCLUDED.branch_count,
    repository_count = EXCLUDED.repository_count, build_count = EXCLUDED.build_count,
    build_failed_count = EXCLUDED.build_failed_count,
    build_successful_count = EXCLUDED.build_successful_count, review_count = EXCLUDED.review_count,
    providers = EXCLUDED.providers, repositories = EXCLUDED.repositories,
    last_updated = EXCLUDED.last_updated, is_stale = EXCLUDED.is_stale, source = EXCLUDED.source,
    detail = EXCLUDED.detail, synced_at = now();

UPDATE raw_extraction_data r SET status = 'completed', processed_at = now()
FROM elt_raw e WHERE r.id = e.raw_id;

COMMIT;
