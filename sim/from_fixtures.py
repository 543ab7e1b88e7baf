#!/usr/bin/python3
"""Turn the recorded Jira responses (fixtures/jira-real) into a simulator dataset.

  from_fixtures.py --out DIR [--fixtures PATH]

Recorded values are kept verbatim.  DIR may already hold a dataset (or be filled by
gen.py afterwards with other project keys): projects, fields and meta are merged.

What the recording gives and how it lands:
  * 33 issues + 3 epics (agile issue API, expand=changelog): one record each; the
    embedded histories (newest first) become the record's histories, oldest first.
  * changelog CSV rows (one history each, issue id in the url): merged into the
    issue's histories, de-duplicated by history id.  Their three issues were not
    recorded, so they get stub issues "EE-<id>" that carry only those histories.
  * development panel CSV rows (issueId in the url): detail answers keyed
    "<applicationType>|<dataType>"; for issues not in the recording they go to
    devstatus/<issueId>.json, which the simulator serves for that numeric id.
"""
import argparse
import csv
import json
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dataset import parse_ts      # noqa: E402
from devstatus import empty_summary  # noqa: E402
from gen import merge_meta, dump  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_FIXTURES = os.path.normpath(os.path.join(HERE, '..', 'tests', 'fixtures', 'jira-real'))
KNOWN = {
    'customfield_10000': ('Development', 'any',
                          'com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf'),
    'customfield_10014': ('Epic Link', 'any', 'com.pyxis.greenhopper.jira:gh-epic-link'),
    'customfield_10019': ('Rank', 'any', 'com.pyxis.greenhopper.jira:gh-lexo-rank'),
    'customfield_10020': ('Sprint', 'array', 'com.pyxis.greenhopper.jira:gh-sprint'),
    'customfield_10016': ('Story point estimate', 'number',
                          'com.pyxis.greenhopper.jira:jsw-story-points'),
    'customfield_10024': ('Story Points', 'number',
                          'com.atlassian.jira.plugin.system.customfieldtypes:float'),
}


def csv_rows(path):
    csv.field_size_limit(1 << 30)
    with open(path, encoding='utf-8', newline='') as f:
        # the fields CSV starts with an empty line before its header
        lines = [ln for ln in f if ln.strip()]
    return [r for r in csv.DictReader(lines) if r.get('data')]


def guess_schema(fid, value):
    if value is None:
        return {"type": "any"}
    if isinstance(value, bool):
        return {"type": "any"}
    if isinstance(value, (int, float)):
        return {"type": "number"}
    if isinstance(value, str):
        if re.fullmatch(r'\d{4}-\d\d-\d\d', value):
            return {"type": "date"}
        if re.fullmatch(r'\d{4}-\d\d-\d\dT.*', value):
            return {"type": "datetime"}
        return {"type": "string"}
    if isinstance(value, list):
        inner = value[0] if value else None
        return {"type": "array", "items": "option" if isinstance(inner, dict) and 'value' in inner
                else ("json" if isinstance(inner, dict) else "string")}
    if 'accountId' in value or 'displayName' in value:
        return {"type": "user"}
    if 'value' in value:
        return {"type": "option"}
    return {"type": "any"}


def build_fields(issues, fixtures):
    seen = {}
    for d in issues:
        for k, v in d['issue']['fields'].items():
            if k not in seen or seen[k] is None:
                seen[k] = v
    out = []
    for k in sorted(seen):
        custom = k.startswith('customfield_')
        if k in KNOWN:
            name, typ, ctype = KNOWN[k]
            sch = {"type": typ, "custom": ctype, "customId": int(k.split('_')[1])}
            if typ == 'array':
                sch["items"] = "json"
        else:
            name = ('Custom field (%s)' % k) if custom else k[:1].upper() + k[1:]
            sch = guess_schema(k, seen[k])
            if custom:
                sch["custom"] = "com.atlassian.jira.plugin.system.customfieldtypes:textfield" \
                    if sch["type"] == "string" else "com.atlassian.jira.plugin.system.customfieldtypes:%s" % sch["type"]
                sch["customId"] = int(k.split('_')[1])
            else:
                sch["system"] = k
        out.append({"id": k, "key": k, "name": name, "custom": custom, "orderable": True,
                    "navigable": k not in ('comment', 'worklog'), "searchable": True,
                    "clauseNames": ["cf[%s]" % k.split('_')[1], name] if custom else [k],
                    "schema": sch})
    # recorded field definitions win over guesses: they are real
    extra = []
    for name in ('fields_sample_jiracli.json', 'openapi_example_fields.json'):
        p = os.path.join(fixtures, name)
        if os.path.exists(p):
            extra.extend(json.load(open(p, encoding='utf-8')))
    p = os.path.join(fixtures, 'devlake_raw_jira_api_issue_fields.csv')
    if os.path.exists(p):
        extra.extend(json.loads(r['data']) for r in csv_rows(p))
    byid = {f['id']: f for f in out}
    for f in extra:
        byid[f['id']] = dict(f, key=f.get('key', f['id']))
    return list(byid.values())


def summary_from_field(v):
    """The summary JSON embedded in a Development field string, or None."""
    if not isinstance(v, str):
        return None
    for marker in ('json=', 'devSummaryJson='):
        i = v.find(marker)
        if i >= 0:
            try:
                return json.loads(v[i + len(marker):-1])['cachedValue']['summary']
            except (ValueError, KeyError):
                return None
    return None


def sort_histories(hs):
    uniq = {}
    for h in hs:
        uniq.setdefault(str(h['id']), h)
    return sorted(uniq.values(), key=lambda h: (parse_ts(h['created']), int(h['id'])))


def main(argv=None):
    p = argparse.ArgumentParser(description='fixtures/jira-real -> simulator dataset')
    p.add_argument('--out', required=True)
    p.add_argument('--fixtures', default=DEFAULT_FIXTURES)
    args = p.parse_args(argv)
    fx = args.fixtures
    raw = [json.loads(r['data']) for r in csv_rows(os.path.join(fx, 'devlake_raw_jira_api_issues.csv'))]
    raw += [json.loads(r['data']) for r in csv_rows(os.path.join(fx, 'devlake_raw_jira_external_epics.csv'))]

    recs = {}
    for d in raw:
        if d['id'] in recs:
            continue
        body = {k: v for k, v in d.items() if k != 'changelog'}
        hs = list(reversed((d.get('changelog') or {}).get('histories') or []))
        recs[d['id']] = {"id": d['id'], "key": d['key'],
                         "project": d['fields']['project']['key'],
                         "created": d['fields']['created'], "updated": d['fields']['updated'],
                         "issue": body, "histories": hs, "dev": None}

    # full changelogs: merge by issue id (stub issues for ids the recording lacks)
    extra_hist = {}
    for r in csv_rows(os.path.join(fx, 'devlake_raw_jira_api_issue_changelogs.csv')):
        iid = re.search(r'/issue/(\d+)/changelog', r['url']).group(1)
        extra_hist.setdefault(iid, []).append(json.loads(r['data']))
    for iid, hs in extra_hist.items():
        if iid not in recs:
            hs = sort_histories(hs)
            key = 'EE-%s' % iid
            recs[iid] = {"id": iid, "key": key, "project": "EE", "created": hs[0]['created'],
                         "updated": hs[-1]['created'],
                         "issue": {"id": iid, "key": key, "fields": {
                             "summary": "(changelog recorded, issue body not recorded)",
                             "created": hs[0]['created'], "updated": hs[-1]['created'],
                             "project": next(iter(recs.values()))['issue']['fields']['project']
                             if recs else None}},
                         "histories": [], "dev": None}
        recs[iid]['histories'] = sort_histories(recs[iid]['histories'] + hs)
    for rec in recs.values():
        rec['histories'] = sort_histories(rec['histories'])

    # dev-status details
    orphans = {}
    for r in csv_rows(os.path.join(fx, 'devlake_raw_jira_api_development_panels.csv')):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(r['url']).query)
        iid = q['issueId'][0]
        k = '%s|%s' % (q['applicationType'][0].lower(), q['dataType'][0].lower())
        target = recs[iid] if iid in recs else None
        dev = (target.setdefault('dev', None) if target else None) or orphans.setdefault(
            iid, {"summary": None, "detail": {}})
        if target is not None:
            target['dev'] = dev
        dev['detail'][k] = json.loads(r['data'])
    for rec in recs.values():
        s = summary_from_field(rec['issue']['fields'].get('customfield_10000'))
        if s:
            full = empty_summary()
            full.update(s)
            rec['dev'] = dict(rec['dev'] or {"detail": {}}, summary=full)
    for dev in orphans.values():
        commits = sum(len(repo.get('commits') or []) for d in dev['detail'].values()
                      for inst in d.get('detail') or [] for repo in inst.get('repositories') or [])
        if commits:
            s = empty_summary()
            s['repository'] = {"overall": {"count": commits, "lastUpdated": None},
                               "byInstanceType": {"GitLab": {"count": 1, "name": "GitLab"}}}
            dev['summary'] = s

    out = args.out
    os.makedirs(os.path.join(out, 'issues'), exist_ok=True)
    byproj = {}
    for rec in sorted(recs.values(), key=lambda r: int(r['id'])):
        byproj.setdefault(rec['project'], []).append(rec)
    for pk, lst in byproj.items():
        with open(os.path.join(out, 'issues', pk + '.jsonl'), 'w', encoding='utf-8') as f:
            for rec in lst:
                f.write(dump(rec) + '\n')
    os.makedirs(os.path.join(out, 'devstatus'), exist_ok=True)
    for iid, dev in orphans.items():
        with open(os.path.join(out, 'devstatus', iid + '.json'), 'w', encoding='utf-8') as f:
            f.write(dump(dev))
    projects = {}
    for rec in recs.values():
        pr = rec['issue']['fields'].get('project') or {}
        if pr.get('key') == rec['project']:
            projects.setdefault(pr['key'], pr)
    max_hist = max(int(h['id']) for r in recs.values() for h in r['histories'])
    merge_meta(out, list(projects.values()), build_fields(list(recs.values()), fx),
               {"flavor": "cloud", "baseUrl": "https://merico.atlassian.net",
                "timeZone": "Asia/Shanghai", "deploymentType": "Cloud",
                "maxHistoryId": max_hist, "fixtures": "jira-real"})
    print('wrote %d issues (%d with dev data), %d dev-only issue ids to %s' % (
        len(recs), sum(1 for r in recs.values() if r['dev']), len(orphans), out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
