/* schema_integrations.c - the DDL of the integrations migration: each
 * tenant's Jira connections, and what discovery learns of each site
 * (projects, issue types, statuses). Kept apart from schema.c so the
 * migration list there stays one line per migration. Never edit once
 * shipped: append a new migration. */
#include "schema.h"

/*
 * integrations: one Jira site of one tenant. (tenant_id, id) is the key the
 * data tables carry as (tenant_id, integration_id); id comes from a sequence
 * unless the caller picks it. secret is never clear text: the CHECK admits
 * only an AES-256-GCM envelope ("enc:v1:<key id>:<base64>", made by
 * src/core/secret.c with the operator's key) or a reference resolved when
 * the connection is made ("env:NAME", "file:/path"). settings holds the
 * defaults of an extraction: {"projects": [...], "jql": "...",
 * "concurrency": n, "dev_status": bool}.
 *
 * projects (created by migration 1) gains active (false once Jira stops
 * listing it) and selected (the projects an extraction without keys
 * takes). issue_types and statuses are the site's catalogue as discovery
 * last saw it.
 */
const char jl_schema_integrations[] =
"CREATE SEQUENCE integrations_id_seq;"
"CREATE TABLE integrations ("
"  tenant_id integer NOT NULL CHECK (tenant_id > 0),"
"  id integer NOT NULL DEFAULT nextval('integrations_id_seq') CHECK (id > 0),"
"  name text NOT NULL,"
"  provider text NOT NULL DEFAULT 'jira' CHECK (provider = 'jira'),"
"  base_url text NOT NULL CHECK (base_url ~ '^https?://'),"
"  flavor text NOT NULL DEFAULT 'auto' CHECK (flavor IN ('auto','cloud','server')),"
"  auth text NOT NULL DEFAULT 'basic' CHECK (auth IN ('basic','bearer')),"
"  username text,"
"  secret text CHECK (secret IS NULL OR secret ~ '^(enc:v1:[0-9a-f]{8}:|env:.|file:/)'),"
"  active boolean NOT NULL DEFAULT true,"
"  settings jsonb NOT NULL DEFAULT '{}',"
"  created_at timestamptz NOT NULL DEFAULT now(),"
"  updated_at timestamptz NOT NULL DEFAULT now(),"
"  PRIMARY KEY (tenant_id, id)"
");"
"ALTER SEQUENCE integrations_id_seq OWNED BY integrations.id;"
"ALTER TABLE projects ADD COLUMN active boolean NOT NULL DEFAULT true,"
"  ADD COLUMN selected boolean NOT NULL DEFAULT false,"
"  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();"
"CREATE INDEX projects_key ON projects (tenant_id, integration_id, key);"
"CREATE TABLE issue_types ("
"  tenant_id integer NOT NULL,"
"  integration_id integer NOT NULL,"
"  external_id text NOT NULL,"
"  name text,"
"  description text,"
"  subtask boolean NOT NULL DEFAULT false,"
"  hierarchy_level integer,"
"  active boolean NOT NULL DEFAULT true,"
"  updated_at timestamptz NOT NULL DEFAULT now(),"
"  PRIMARY KEY (tenant_id, integration_id, external_id)"
");"
"CREATE TABLE statuses ("
"  tenant_id integer NOT NULL,"
"  integration_id integer NOT NULL,"
"  external_id text NOT NULL,"
"  name text,"
"  category_key text,"
"  category_name text,"
"  active boolean NOT NULL DEFAULT true,"
"  updated_at timestamptz NOT NULL DEFAULT now(),"
"  PRIMARY KEY (tenant_id, integration_id, external_id)"
");";
