#!/usr/bin/python3
"""Seed corpora for the libFuzzer targets, cut from the recorded Jira data
(tests/fixtures/jira-real) and tests/data, written under OUT/<target>/.

    seeds.py OUT

Seeds are made, not committed: the recorded data is the source of truth and
a few hundred small files per target would only duplicate it. Each seed is
small (big inputs slow a fuzzer down more than they teach it).
"""
import csv
import glob
import hashlib
import json
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIX = os.path.join(ROOT, "tests", "fixtures", "jira-real")
DATA = os.path.join(ROOT, "tests", "data")
TIME_RE = re.compile(r'"(\d{4}-\d\d-\d\d(?:[T ][0-9:.]+(?:Z|[+-]\d\d:?\d\d)?)?)"')
MAX = {"jparse": 16384, "transform": 65536, "changelog": 16384, "devfield": 4096, "time": 64, "tzif": 8192, "utf8fix": 4096}
csv.field_size_limit(1 << 30)


def rows(name):
    with open(os.path.join(FIX, name), newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            yield row["data"]


def main(out):
    seeds = {t: set() for t in MAX}

    def add(target, data):
        if isinstance(data, str):
            data = data.encode()
        if 0 < len(data) <= MAX[target]:
            seeds[target].add(data)

    def dump(v):
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))

    issues = [json.loads(d) for d in rows("devlake_raw_jira_api_issues.csv")]
    for i, issue in enumerate(issues):
        page = dump({"issues": [issue]})
        add("transform", page)
        if i % 4 == 0:
            add("jparse", page)
        hist = (issue.get("changelog") or {}).get("histories")
        if hist:
            add("changelog", dump(hist))
        for m in TIME_RE.finditer(page):
            add("time", m.group(1))
    histories = [json.loads(d) for d in rows("devlake_raw_jira_api_issue_changelogs.csv")]
    for i in range(0, len(histories), 3):
        add("changelog", dump(histories[i:i + 3]))
    for d in rows("devlake_raw_jira_api_development_panels.csv"):
        add("devfield", d)
        add("jparse", d)
        add("utf8fix", d)
    # what Jira has been seen sending: a stray byte, half an emoji, both cut
    for bad in (b'{"s":"a\xff b"}', b'{"s":"\\ud83d"}', b'{"s":"\xf0\x9f\x98"}', b'"\\ud83d\\ude00\xed\xa0\x80"'):
        add("utf8fix", bad)
    for path in glob.glob(os.path.join(FIX, "*.json")):
        with open(path, "rb") as f:
            text = f.read()
        add("jparse", text)
        add("transform", text)
        add("devfield", text)
        try:
            doc = json.loads(text)
        except ValueError:
            continue
        if isinstance(doc, dict) and "fields" in doc and "key" in doc:
            # one issue (links, versions, comments, worklogs): as a raw row
            add("transform", dump({"issues": [doc]}))
            # with completed comment and worklog lists, as items.c stores them
            lists = {}
            for name in ("comment", "worklog"):
                with open(os.path.join(FIX, "openapi_example_issue_%s_page.json" % name), encoding="utf-8") as f:
                    lists[name + "s"] = {str(doc.get("id")): json.load(f)[name + "s"]}
            add("transform", dump({"issues": [doc], "changelogs": {}, "dev_status": {}, **lists}))
        if isinstance(doc, dict):
            for key in ("histories", "values"):
                if isinstance(doc.get(key), list):
                    add("changelog", dump(doc[key]))
        for m in TIME_RE.finditer(text.decode("utf-8", "replace")):
            add("time", m.group(1))
    for path in [os.path.join(DATA, "jira_devfield_cloud_devlake.txt"),
                 os.path.join(FIX, "server_development_field_values_jqtr.txt")]:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                add("devfield", line.split("\t", 1)[-1])
    for t in ("2020-06-12T08:24:56.048+0800", "2020-06-12T08:24:56Z", "2020-06-12 08:24:56.048123456-03:30",
              "2020-06-12T08:24+05:45", "2020-06-12", "1592001896048", "2024-02-29T23:59:59.999+14:00"):
        add("time", t)
    for zone in ("UTC", "Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe",
                 "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham"):
        p = os.path.join("/usr/share/zoneinfo", zone)
        if os.path.exists(p):
            with open(p, "rb") as f:
                add("tzif", f.read())
    for target, found in seeds.items():
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for data in found:
            with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
                f.write(data)
        print("seeds: %-10s %5d" % (target, len(found)))


if __name__ == "__main__":
    main(sys.argv[1])
