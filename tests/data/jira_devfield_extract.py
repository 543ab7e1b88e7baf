#!/usr/bin/python3
"""Derive tests/data/jira_devfield_cloud_devlake.txt from the recorded issues CSV.

One Development field value (customfield_10000) per line, as recorded, with
the issue id first: "<id>\t<value>". Run from the repository root:
  python3 tests/data/jira_devfield_extract.py tests/fixtures/jira-real/devlake_raw_jira_api_issues.csv
"""
import csv
import json
import sys

csv.field_size_limit(1 << 30)
src = sys.argv[1]
out = sys.argv[2] if len(sys.argv) > 2 else 'tests/data/jira_devfield_cloud_devlake.txt'
with open(src, newline='', encoding='utf-8') as f, open(out, 'w', encoding='utf-8') as o:
    for row in csv.DictReader(f):
        d = json.loads(row['data'])
        v = (d.get('fields') or {}).get('customfield_10000')
        if isinstance(v, str):
            assert '\n' not in v and '\t' not in v
            o.write('%s\t%s\n' % (d['id'], v))
