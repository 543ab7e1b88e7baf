#!/usr/bin/python3
"""Peer of the extraction, as the seed's Python service did it: Debian's
python3-jira (pycontribs `jira`) against a Server/DC Jira, paging
/rest/api/2/search with expand=changelog, then the dev-status summary of every
issue, one request at a time; each page is stored as one raw row.

    jira_extract.py URL USER PROJECT LIMIT DSN     (token in JETL_JIRA_TOKEN)

Prints one JSON line: issues, seconds.
"""
import json
import os
import sys
import time

import psycopg2
from jira import JIRA


def main():
    url, user, project, limit, dsn = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    t0 = time.monotonic()
    jira = JIRA(server=url, basic_auth=(user, os.environ["JETL_JIRA_TOKEN"]))
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    start, done = 0, 0
    while done < limit:
        page = jira.search_issues("project = %s ORDER BY id ASC" % project, startAt=start,
                                  maxResults=min(100, limit - done), expand="changelog")
        if not page:
            break
        issues, dev = [], {}
        for issue in page:
            raw = issue.raw
            issues.append(raw)
            r = jira._session.get(url + "/rest/dev-status/latest/issue/summary",
                                  params={"issueId": raw["id"]})
            dev[raw["id"]] = {"summary": r.json()}
        cur.execute("INSERT INTO raw_extraction_data (tenant_id, integration_id, type, project_key, raw_data,"
                    " item_count) VALUES (1, 1, 'jira_issues_changelogs_dev_status', %s, %s, %s)",
                    (project, json.dumps({"issues": issues, "dev_status": dev}), len(issues)))
        conn.commit()
        done += len(page)
        start += len(page)
        if start >= page.total:
            break
    print(json.dumps({"issues": done, "seconds": time.monotonic() - t0}))


if __name__ == "__main__":
    main()
