#!/usr/bin/python3
"""Peer of the extraction, as the seed's Python service did it: Debian's
python3-jira (pycontribs `jira`) against a Server/DC Jira, one request at a
time, written plainly as a team would:

- page /rest/api/2/search with expand=changelog (100 issues a page);
- for every issue whose embedded changelog is capped (total > histories),
  read its whole log from GET /issue/{id}/changelog, page by page;
- for every issue, the dev-status summary (the seed asked for each issue; it
  did not read the Development field first), then one /issue/detail per
  instance type of each data type whose count is not zero.

That is the same data jetl stores (complete changelogs, the summary and every
detail answer), in jetl's raw layout, one raw row per search page; jetl asks
summaries only where the Development field shows something and fetches only
the missing part of a capped log, which is part of why it needs fewer requests.

    jira_extract.py URL USER PROJECT LIMIT DSN     (token in JETL_JIRA_TOKEN)

Prints one JSON line: issues, seconds, and the requests made by kind.
"""
import json
import os
import sys
import time

import psycopg2
from jira import JIRA

DATA_TYPES = ("pullrequest", "repository", "branch", "build")


def main():
    url, user, project, limit, dsn = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    t0 = time.monotonic()
    jira = JIRA(server=url, basic_auth=(user, os.environ["JETL_JIRA_TOKEN"]))
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    asked = {"search": 0, "changelog": 0, "summary": 0, "detail": 0}
    start, done = 0, 0
    while done < limit:
        page = jira.search_issues("project = %s ORDER BY id ASC" % project, startAt=start,
                                  maxResults=min(100, limit - done), expand="changelog")
        asked["search"] += 1
        if not page:
            break
        issues, changelogs, dev = [], {}, {}
        for issue in page:
            raw = issue.raw
            issues.append(raw)
            cl = raw.get("changelog") or {}
            if cl.get("total", 0) > len(cl.get("histories") or []):
                histories, at = [], 0
                while True:
                    p = jira._get_json("issue/%s/changelog" % raw["id"], params={"startAt": at, "maxResults": 100})
                    asked["changelog"] += 1
                    histories += p["values"]
                    at += len(p["values"])
                    if p.get("isLast") or not p["values"] or at >= p["total"]:
                        break
                changelogs[raw["id"]] = histories
            r = jira._session.get(url + "/rest/dev-status/latest/issue/summary", params={"issueId": raw["id"]})
            asked["summary"] += 1
            summary = r.json()
            entry = {"summary": summary, "detail": [], "detail_requests": []}
            for dt in DATA_TYPES:
                item = (summary.get("summary") or {}).get(dt) or {}
                if not (item.get("overall") or {}).get("count"):
                    continue
                for app in item.get("byInstanceType") or {}:
                    d = jira._session.get(url + "/rest/dev-status/latest/issue/detail",
                                          params={"issueId": raw["id"], "applicationType": app, "dataType": dt})
                    asked["detail"] += 1
                    entry["detail"].append(d.json())
                    entry["detail_requests"].append({"applicationType": app, "dataType": dt})
            dev[raw["id"]] = entry
        cur.execute("INSERT INTO raw_extraction_data (tenant_id, integration_id, type, project_key, raw_data,"
                    " item_count) VALUES (1, 1, 'jira_issues_changelogs_dev_status', %s, %s, %s)",
                    (project, json.dumps({"issues": issues, "changelogs": changelogs, "dev_status": dev}),
                     len(issues)))
        conn.commit()
        done += len(page)
        start += len(page)
        if start >= page.total:
            break
    print(json.dumps({"issues": done, "seconds": time.monotonic() - t0, "asked": asked}))


if __name__ == "__main__":
    main()
