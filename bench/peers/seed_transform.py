#!/usr/bin/python3
"""Peer 1, "what the seed did": the transform written plainly in Python, as a
team would: every pending raw row is read, loaded with json.loads, and its
issues, changelog items and dev status are written with one upsert statement
per row, in one transaction per raw row; then the raw row is marked completed.

    seed_transform.py DSN        prints one JSON line: issues, changelog items, seconds

The mapping follows jetl's columns (docs/design.md, 'Tables') (ADF flattened to text, option/user
display names, sprints by name, story points, Epic Link as parent, every
unmapped custom field into custom_fields_overflow, dev status from the fetched
summary, else "present" from the Development field). It is the same shape of
work as jetl's transform; rule-for-rule identity is not the point.
"""
import json
import sys
import time

import psycopg2
import psycopg2.extras

TENANT, INTEGRATION = 1, 1

WORK_ITEM_SQL = """
INSERT INTO work_items (tenant_id, integration_id, external_id, key, project_key, summary, description,
    issue_type, status, status_category, priority, resolution, assignee_account_id, assignee_name,
    reporter_account_id, reporter_name, parent_key, labels, components, fix_versions, sprints,
    story_points, created_at, updated_at, resolved_at, due_date, code_changed, custom_fields_overflow,
    raw_id, synced_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
    %s, %s, %s, %s, %s, %s, %s, %s, now())
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
    raw_id = EXCLUDED.raw_id, synced_at = now()
"""

CHANGELOG_SQL = """
INSERT INTO changelogs (tenant_id, integration_id, work_item_external_id, work_item_key, history_id,
    item_index, author_account_id, author_name, changed_at, field, field_id, field_type, from_value,
    from_string, to_value, to_string)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (tenant_id, integration_id, history_id, item_index) DO UPDATE SET
    work_item_external_id = EXCLUDED.work_item_external_id, work_item_key = EXCLUDED.work_item_key,
    author_account_id = EXCLUDED.author_account_id, author_name = EXCLUDED.author_name,
    changed_at = EXCLUDED.changed_at, field = EXCLUDED.field, field_id = EXCLUDED.field_id,
    field_type = EXCLUDED.field_type, from_value = EXCLUDED.from_value,
    from_string = EXCLUDED.from_string, to_value = EXCLUDED.to_value, to_string = EXCLUDED.to_string
"""

DEV_SQL = """
INSERT INTO dev_status (tenant_id, integration_id, work_item_external_id, pr_count, pr_state,
    pr_open_count, pr_merged_count, pr_declined_count, commit_count, branch_count, repository_count,
    build_count, build_failed_count, build_successful_count, review_count, providers, repositories,
    last_updated, is_stale, source, detail, synced_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())
ON CONFLICT (tenant_id, integration_id, work_item_external_id) DO UPDATE SET
    pr_count = EXCLUDED.pr_count, pr_state = EXCLUDED.pr_state, pr_open_count = EXCLUDED.pr_open_count,
    pr_merged_count = EXCLUDED.pr_merged_count, pr_declined_count = EXCLUDED.pr_declined_count,
    commit_count = EXCLUDED.commit_count, branch_count = EXCLUDED.branch_count,
    repository_count = EXCLUDED.repository_count, build_count = EXCLUDED.build_count,
    build_failed_count = EXCLUDED.build_failed_count,
    build_successful_count = EXCLUDED.build_successful_count, review_count = EXCLUDED.review_count,
    providers = EXCLUDED.providers, repositories = EXCLUDED.repositories,
    last_updated = EXCLUDED.last_updated, is_stale = EXCLUDED.is_stale, source = EXCLUDED.source,
    detail = EXCLUDED.detail, synced_at = now()
"""


def clean(s):
    """PostgreSQL text cannot hold NUL."""
    if isinstance(s, str) and "\x00" in s:
        return s.replace("\x00", "")
    return s


def adf_text(node):
    if node is None:
        return None
    if isinstance(node, str):
        return node
    out = []

    def walk(n):
        if isinstance(n, dict):
            if n.get("type") == "text":
                out.append(n.get("text", ""))
            for c in n.get("content", []) or []:
                walk(c)
            if n.get("type") in ("paragraph", "heading", "listItem", "codeBlock"):
                out.append("\n")
        elif isinstance(n, list):
            for c in n:
                walk(c)
    walk(node)
    return "".join(out).strip()


def name_of(v, *keys):
    if not isinstance(v, dict):
        return v if isinstance(v, str) else None
    for k in keys:
        if v.get(k) is not None:
            return v[k]
    return None


def sprint_names(v):
    names = []
    for s in v or []:
        if isinstance(s, dict):
            names.append(s.get("name"))
        elif isinstance(s, str) and "name=" in s:
            names.append(s.split("name=", 1)[1].split(",", 1)[0])
    return [n for n in names if n]


def load_fields(cur):
    cur.execute("SELECT field_id, name, schema FROM jira_fields WHERE tenant_id = %s AND integration_id = %s",
                (TENANT, INTEGRATION))
    f = {"sprint": None, "points": [], "epic": None, "dev": None}
    for fid, name, schema in cur.fetchall():
        custom = (schema or {}).get("custom", "") or ""
        if custom.endswith("gh-sprint"):
            f["sprint"] = fid
        elif name in ("Story point estimate", "Story Points"):
            f["points"].append(fid)
        elif custom.endswith("gh-epic-link"):
            f["epic"] = fid
        elif "devsummary" in custom:
            f["dev"] = fid
    return f


def dev_counts(summary):
    c = dict(pr=0, state=None, open=0, merged=0, declined=0, commits=0, branches=0, repos=0, builds=0,
             failed=0, ok=0, reviews=0, providers=[], updated=None, stale=False)
    if not isinstance(summary, dict):
        return c
    if summary.get("isStale"):
        c["stale"] = True
    s = summary.get("cachedValue", summary)
    s = s.get("summary", s) if isinstance(s, dict) else {}
    for kind, v in (s or {}).items():
        o = (v or {}).get("overall") if isinstance(v, dict) else None
        if not isinstance(o, dict):
            continue
        for t in (v.get("byInstanceType") or {}):
            if t not in c["providers"]:
                c["providers"].append(t)
        if o.get("lastUpdated") and (c["updated"] is None or o["lastUpdated"] > c["updated"]):
            c["updated"] = o["lastUpdated"]
        if kind == "pullrequest":
            c["pr"] = o.get("count", 0)
            c["state"] = o.get("state") if c["pr"] else None
            d = o.get("details") or {}
            c["open"], c["merged"], c["declined"] = (d.get("openCount", 0), d.get("mergedCount", 0),
                                                     d.get("declinedCount", 0))
        elif kind == "repository":
            c["commits"] = o.get("count", 0)
        elif kind == "branch":
            c["branches"] = o.get("count", 0)
        elif kind == "build":
            c["builds"], c["failed"], c["ok"] = (o.get("count", 0), o.get("failedBuildCount", 0),
                                                 o.get("successfulBuildCount", 0))
        elif kind == "review":
            c["reviews"] = o.get("count", 0)
    return c


def transform_row(cur, raw_id, project, doc, fmap):
    issues = items = 0
    logs = doc.get("changelogs") or {}
    devs = doc.get("dev_status") or {}
    for issue in doc.get("issues", []):
        iid, key, f = str(issue["id"]), issue["key"], issue.get("fields") or {}
        overflow = {}
        for k, v in f.items():
            if k.startswith("customfield_") and v is not None:
                overflow[k] = v
        points = None
        for pf in fmap["points"]:
            if f.get(pf) is not None:
                points = f[pf]
                break
        parent = (f.get("parent") or {}).get("key") or (f.get(fmap["epic"]) if fmap["epic"] else None)
        fetched = devs.get(iid)
        dev = dev_counts(fetched.get("summary") if isinstance(fetched, dict) else None)
        field_dev = f.get(fmap["dev"]) if fmap["dev"] else None
        has_dev = bool(fetched) or (isinstance(field_dev, str) and field_dev not in ("", "{}"))
        status = f.get("status") or {}
        cur.execute(WORK_ITEM_SQL, (
            TENANT, INTEGRATION, iid, key, project, clean(f.get("summary")), clean(adf_text(f.get("description"))),
            name_of(f.get("issuetype"), "name"), name_of(status, "name"),
            (status.get("statusCategory") or {}).get("key"), name_of(f.get("priority"), "name"),
            name_of(f.get("resolution"), "name"),
            name_of(f.get("assignee"), "accountId", "key"), name_of(f.get("assignee"), "displayName"),
            name_of(f.get("reporter"), "accountId", "key"), name_of(f.get("reporter"), "displayName"),
            parent, f.get("labels") or [], [c.get("name") for c in f.get("components") or []],
            [v.get("name") for v in f.get("fixVersions") or []],
            sprint_names(f.get(fmap["sprint"]) if fmap["sprint"] else None), points,
            f.get("created"), f.get("updated"), f.get("resolutiondate"), f.get("duedate"),
            dev["commits"] > 0 or dev["pr"] > 0,
            clean(json.dumps(overflow, ensure_ascii=False)), raw_id))
        issues += 1
        histories = logs.get(iid)
        if histories is None:
            histories = (issue.get("changelog") or {}).get("histories") or []
        for h in histories:
            author = h.get("author") or {}
            for n, it in enumerate(h.get("items") or []):
                cur.execute(CHANGELOG_SQL, (
                    TENANT, INTEGRATION, iid, key, str(h["id"]), n,
                    author.get("accountId") or author.get("key"), author.get("displayName"), h.get("created"),
                    it.get("field"), it.get("fieldId"), it.get("fieldtype"), clean(it.get("from")),
                    clean(it.get("fromString")), clean(it.get("to")), clean(it.get("toString"))))
                items += 1
        if has_dev:
            detail = fetched.get("detail") if isinstance(fetched, dict) else None
            cur.execute(DEV_SQL, (
                TENANT, INTEGRATION, iid, dev["pr"], dev["state"], dev["open"], dev["merged"], dev["declined"],
                dev["commits"], dev["branches"], dev["repos"], dev["builds"], dev["failed"], dev["ok"],
                dev["reviews"], dev["providers"], [], dev["updated"], dev["stale"],
                "summary" if fetched else "field",
                clean(json.dumps(detail, ensure_ascii=False)) if detail is not None else None))
    return issues, items


def main():
    dsn = sys.argv[1]
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    fmap = load_fields(cur)
    cur.execute("SELECT id, project_key FROM raw_extraction_data WHERE status = 'pending' "
                "AND type = 'jira_issues_changelogs_dev_status' ORDER BY id")
    rows = cur.fetchall()
    conn.commit()
    t0 = time.monotonic()
    issues = items = 0
    for raw_id, project in rows:
        cur.execute("SELECT raw_data::text FROM raw_extraction_data WHERE id = %s", (raw_id,))
        doc = json.loads(cur.fetchone()[0])
        i, n = transform_row(cur, raw_id, project, doc, fmap)
        cur.execute("UPDATE raw_extraction_data SET status = 'completed', processed_at = now() WHERE id = %s",
                    (raw_id,))
        conn.commit()
        issues += i
        items += n
    print(json.dumps({"issues": issues, "changelog_items": items, "seconds": time.monotonic() - t0}))


if __name__ == "__main__":
    main()
