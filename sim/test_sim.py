"""Tests of the Jira simulator against small generated datasets (stdlib unittest).

Run: /usr/bin/python3 -m unittest discover -s sim -p 'test_*.py'
Each flavor's server runs in-process on a thread; faults are switched through /__sim/faults.
"""
import base64
import datetime
import gzip
import http.client
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import gen        # noqa: E402
from dataset import parse_ts  # noqa: E402
import jirasim    # noqa: E402

AUTH = 'Basic ' + base64.b64encode(b'me@example.com:tok').decode()


class Server:
    def __init__(self, data, *extra):
        args = ['--data', data, '--quiet', '--user', 'me@example.com', '--token', 'tok',
                '--user-tz', 'America/Los_Angeles'] + list(extra)
        ns = jirasim.parse_args(args)   # the real CLI options
        self.sim, self.httpd = jirasim.serve(ns)
        self.port = self.sim.port
        self.t = threading.Thread(target=self.httpd.serve_forever, kwargs={'poll_interval': 0.05},
                                  daemon=True)
        self.t.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def call(self, method, path, body=None, auth=AUTH, headers=None, raw=False):
        c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
        h = dict(headers or {})
        if auth:
            h['Authorization'] = auth
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h['Content-Type'] = 'application/json'
        c.request(method, path, body=data, headers=h)
        try:
            r = c.getresponse()
            payload = r.read()
        finally:
            c.close()
        if raw:
            return r, payload
        return r.status, (json.loads(payload) if payload else None), r


class Base(unittest.TestCase):
    FLAVOR = 'cloud'
    PROJECTS = 'AA:130,BB:70'

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix='jirasim-test-')
        gen.main(['--out', cls.dir, '--projects', cls.PROJECTS, '--flavor', cls.FLAVOR,
                  '--long-every', '50', '--seed', '7'])
        cls.srv = Server(cls.dir, '--flavor', cls.FLAVOR, '--embedded-cap', '40')

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def call(self, *a, **k):
        return self.srv.call(*a, **k)


class CloudTest(Base):
    def search_all(self, jql, fields=None, size=50, expand=None):
        seen, tok, tokens = [], None, set()
        while True:
            body = {"jql": jql, "maxResults": size}
            if fields:
                body["fields"] = fields
            if expand:
                body["expand"] = expand
            if tok:
                body["nextPageToken"] = tok
            st, d, _ = self.call('POST', '/rest/api/3/search/jql', body)
            self.assertEqual(st, 200, d)
            self.assertNotIn('total', d)
            seen.extend(d['issues'])
            if 'nextPageToken' not in d:
                self.assertTrue(d['isLast'])
                return seen
            self.assertFalse(d['isLast'])
            self.assertNotIn(d['nextPageToken'], tokens)
            tokens.add(d['nextPageToken'])
            tok = d['nextPageToken']

    def test_paging_ids_and_fields(self):
        ids = self.search_all('project in (AA, BB) ORDER BY key ASC', size=5000)
        self.assertEqual(len(ids), 200)
        self.assertEqual(set(ids[0].keys()), {'id'})
        self.assertEqual(len({i['id'] for i in ids}), 200)
        full = self.search_all('project = "AA"', fields=['summary', 'status', 'updated'],
                               size=500)
        self.assertEqual(len(full), 130)
        self.assertEqual(len({i['key'] for i in full}), 130)
        self.assertEqual(set(full[0]['fields']), {'summary', 'status', 'updated'})

    def test_comment_and_worklog_pages(self):
        """The embedded page is cut at 20 with the total; the endpoints page the
        whole list in the shape of Atlassian's documented examples."""
        fix = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'fixtures', 'jira-real')
        for member, path, n, key in (('comments', 'comment', 130, 'AA-26'), ('worklogs', 'worklog', 1005, 'AA-22')):
            st, d, _ = self.call('GET', '/rest/api/3/issue/%s?fields=%s' % (key, path))
            self.assertEqual(st, 200, d)
            emb = d['fields'][path]
            self.assertEqual((len(emb[member]), emb['total']), (20, n))
            with open(os.path.join(fix, 'openapi_example_issue_%s_page.json' % path)) as f:
                shape = json.load(f)
            got, start = [], 0
            while True:
                st, d, _ = self.call('GET', '/rest/api/3/issue/%s/%s?startAt=%d&maxResults=5000' % (key, path, start))
                self.assertEqual(set(d), set(shape))
                self.assertLessEqual(set(shape[member][0]) - {'visibility'}, set(d[member][0]) | {'self'})
                got += d[member]
                start += len(d[member])
                if not d[member] or start >= d['total']:
                    break
            self.assertEqual(len({x['id'] for x in got}), n)

    def test_page_size_cap(self):
        st, d, _ = self.call('GET', '/rest/api/3/search/jql?jql=project%3DAA&maxResults=500'
                             '&fields=summary')
        self.assertEqual(len(d['issues']), 100)

    def test_unbounded_jql_400(self):
        st, d, _ = self.call('GET', '/rest/api/3/search/jql?jql=order%20by%20key')
        self.assertEqual(st, 400)
        self.assertTrue(d['errorMessages'])
        self.assertEqual(d['errors'], {})
        st, d, _ = self.call('GET', '/rest/api/3/search/jql?jql=projct%3DAA')
        self.assertEqual(st, 400)

    def test_legacy_search_gone(self):
        for m in ('GET', 'POST'):
            st, d, _ = self.call(m, '/rest/api/3/search?jql=project%3DAA',
                                 {"jql": "project=AA"} if m == 'POST' else None)
            self.assertEqual(st, 410)
            self.assertTrue(d['errorMessages'])

    def test_bad_auth_401(self):
        st, d, r = self.call('GET', '/rest/api/3/myself', auth=None)
        self.assertEqual(st, 401)
        self.assertTrue(r.getheader('Content-Type').startswith('application/json'))
        st, d, _ = self.call('GET', '/rest/api/3/myself',
                             auth='Basic ' + base64.b64encode(b'me@example.com:bad').decode())
        self.assertEqual(st, 401)
        st, d, _ = self.call('GET', '/rest/api/3/myself')
        self.assertEqual((st, d['timeZone']), (200, 'America/Los_Angeles'))

    def test_embedded_cap_and_changelog_paging(self):
        issues = self.search_all('key = AA-50', fields=['summary'], expand='changelog')
        ch = issues[0]['changelog']
        self.assertGreater(ch['total'], 100)
        self.assertEqual(len(ch['histories']), 40)
        # newest first
        self.assertGreaterEqual(ch['histories'][0]['created'][:19], ch['histories'][-1]['created'][:19])
        got, start = [], 0
        while True:
            st, d, _ = self.call('GET', '/rest/api/3/issue/AA-50/changelog?startAt=%d&maxResults=500'
                                 % start)
            self.assertEqual(d['maxResults'], 100)
            got.extend(d['values'])
            start += len(d['values'])
            if d['isLast']:
                break
        self.assertEqual(len(got), ch['total'])
        self.assertEqual(len({h['id'] for h in got}), ch['total'])
        self.assertEqual(got[-1]['id'], ch['histories'][0]['id'])   # oldest first

    def test_changelog_bulkfetch_splits_inside_issue(self):
        keys = ['AA-49', 'AA-50', 'AA-51']
        want = {}
        for k in keys:
            st, d, _ = self.call('GET', '/rest/api/3/issue/%s?fields=summary' % k)
            st, c, _ = self.call('GET', '/rest/api/3/issue/%s/changelog?maxResults=1' % k)
            want[d['id']] = c['total']
        got, tok, pages, split = {}, None, 0, False
        while True:
            body = {"issueIdsOrKeys": keys, "maxResults": 37}
            if tok:
                body["nextPageToken"] = tok
            st, d, _ = self.call('POST', '/rest/api/3/changelog/bulkfetch', body)
            self.assertEqual(st, 200, d)
            n = sum(len(x['changeHistories']) for x in d['issueChangeLogs'])
            self.assertLessEqual(n, 37)
            for x in d['issueChangeLogs']:
                if x['issueId'] in got:
                    split = True
                got.setdefault(x['issueId'], []).extend(x['changeHistories'])
            pages += 1
            tok = d.get('nextPageToken')
            if not tok:
                break
        self.assertTrue(split)
        self.assertEqual({k: len(v) for k, v in got.items()}, want)
        st, d, _ = self.call('POST', '/rest/api/3/changelog/bulkfetch',
                             {"issueIdsOrKeys": ['AA-1'] * 1001})
        self.assertEqual(st, 400)

    def test_issue_bulkfetch(self):
        st, d, _ = self.call('POST', '/rest/api/3/issue/bulkfetch',
                             {"issueIdsOrKeys": ['AA-1', 'NOPE-1'], "fields": ['summary']})
        self.assertEqual(st, 200)
        self.assertEqual(len(d['issues']), 1)
        self.assertEqual(len(d['issueErrors']), 1)
        st, d, _ = self.call('POST', '/rest/api/3/issue/bulkfetch',
                             {"issueIdsOrKeys": ['AA-1'] * 101, "fields": ['summary']})
        self.assertEqual(st, 400)

    def test_updated_in_user_tz_minute_resolution(self):
        # place AA-3's update at 10:00:30 UTC and search in the user's zone (Los Angeles)
        st, d, _ = self.call('GET', '/rest/api/3/issue/AA-3?fields=updated')
        utc = datetime.datetime(2024, 3, 1, 10, 0, 30, tzinfo=datetime.timezone.utc)
        st, t, _ = self.call('POST', '/__sim/touch', {"keys": ["AA-3"],
                                                      "at": "2024-03-01T10:00:30Z"}, auth=None)
        st, d, _ = self.call('GET', '/rest/api/3/issue/AA-3?fields=updated')
        self.assertEqual(parse_ts(d['fields']['updated']), int(utc.timestamp()) * 1000)
        local = utc.astimezone(ZoneInfo('America/Los_Angeles'))
        lit = local.strftime('%Y/%m/%d %H:%M')
        nxt = (local + datetime.timedelta(minutes=1)).strftime('%Y-%m-%d %H:%M')
        keys = lambda j: {i['key'] for i in self.search_all(j, fields=['key', 'updated'])}
        self.assertIn('AA-3', keys('project = AA AND updated >= "%s" AND updated < "%s"'
                                   % (lit, nxt)))
        self.assertNotIn('AA-3', keys('project = AA AND updated >= "%s"' % nxt))
        # reading the literal as UTC would be the classic bug: 10:00 UTC is not 10:00 LA
        self.assertNotIn('AA-3', keys('project = AA AND updated >= "2024/03/01 10:00" '
                                      'AND updated < "2024/03/01 10:01"'))

    def test_touch_and_delete(self):
        st, d, _ = self.call('GET', '/rest/api/3/issue/BB-5/changelog')
        before = d['total']
        st, t, _ = self.call('POST', '/__sim/touch', {"keys": ["BB-5"]}, auth=None)
        self.assertEqual(t['touched'], ['BB-5'])
        st, d, _ = self.call('GET', '/rest/api/3/issue/BB-5/changelog')
        self.assertEqual(d['total'], before + 1)
        self.assertEqual(d['values'][-1]['items'][0]['field'], 'status')
        recent = self.search_all('project = BB AND updated >= -5m')
        self.assertIn('BB-5', {i['key'] for i in self.search_all(
            'project = BB AND updated >= -5m', fields=['key'])})
        self.assertTrue(recent)
        st, d, _ = self.call('POST', '/__sim/delete', {"keys": ["BB-6"]}, auth=None)
        st, d, _ = self.call('GET', '/rest/api/3/issue/BB-6')
        self.assertEqual(st, 404)
        st, d, _ = self.call('POST', '/rest/api/3/search/approximate-count', {"jql": "project = BB"})
        self.assertEqual(d['count'], 69)

    def test_gzip(self):
        r, body = self.call('GET', '/rest/api/3/field', headers={'Accept-Encoding': 'gzip'},
                            raw=True)
        self.assertEqual(r.getheader('Content-Encoding'), 'gzip')
        self.assertEqual(int(r.getheader('Content-Length')), len(body))
        self.assertTrue(json.loads(gzip.decompress(body)))

    def test_devstatus(self):
        st, d, _ = self.call('GET', '/rest/dev-status/latest/issue/summary?issueId=AA-1')
        self.assertEqual(st, 400)
        found = 0
        for line in open(os.path.join(self.dir, 'issues', 'AA.jsonl'), encoding='utf-8'):
            rec = json.loads(line)
            dev = rec['dev']
            fv = rec['issue']['fields']['customfield_10000']
            if not dev:
                self.assertEqual(fv, '{}')
                continue
            found += 1
            app = next(iter(dev['summary']['repository']['byInstanceType']))
            st, s, _ = self.call('GET', '/rest/dev-status/1.0/issue/summary?issueId=' + rec['id'])
            self.assertEqual(s['summary']['repository']['overall']['count'],
                             dev['summary']['repository']['overall']['count'])
            st, det, _ = self.call('GET', '/rest/dev-status/latest/issue/detail?issueId=%s'
                                   '&applicationType=%s&dataType=repository' % (rec['id'], app))
            self.assertEqual(st, 200)
            self.assertTrue(det['detail'][0]['repositories'][0]['commits'])
        self.assertGreater(found, 5)

    def test_rate_limit_429(self):
        try:
            self.call('POST', '/__sim/faults', {"rate": 1, "burst": 2}, auth=None)
            statuses, hdrs = [], None
            for _ in range(6):
                st, d, r = self.call('GET', '/rest/api/3/serverInfo')
                statuses.append(st)
                if st == 429:
                    hdrs = r
            self.assertIn(429, statuses)
            self.assertGreaterEqual(int(hdrs.getheader('Retry-After')), 0)
            datetime.datetime.strptime(hdrs.getheader('X-RateLimit-Reset'),
                                       '%Y-%m-%dT%H:%M:%S.%fZ')
            self.assertEqual(hdrs.getheader('RateLimit-Reason'), 'jira-burst-based')
        finally:
            self.call('POST', '/__sim/faults', {"rate": 0}, auth=None)

    def test_random_429_and_budget_headers(self):
        """fail_429: Retry-After 1 and no bucket headers, the same requests for a seed;
        with a rate set, answers that get through tell what is left of the bucket."""
        def run():
            self.call('POST', '/__sim/faults', {"fail_429": 0.4, "seed": 9}, auth=None)
            out = []
            for _ in range(30):
                st, _d, r = self.call('GET', '/rest/api/3/serverInfo')
                if st == 429:
                    self.assertEqual(r.getheader('Retry-After'), '1')
                    self.assertIsNone(r.getheader('RateLimit-Reason'))
                    self.assertIsNone(r.getheader('X-RateLimit-Remaining'))
                out.append(st)
            return out
        try:
            a, b = run(), run()
            self.assertEqual(a, b)
            self.assertIn(429, a)
            self.assertIn(200, a)
            self.call('POST', '/__sim/faults', {"fail_429": 0, "rate": 1, "burst": 10}, auth=None)
            left = []
            for _ in range(9):
                st, _d, r = self.call('GET', '/rest/api/3/serverInfo')
                self.assertEqual(st, 200)
                self.assertEqual(r.getheader('X-RateLimit-Limit'), '10')
                left.append(int(r.getheader('X-RateLimit-Remaining')))
            self.assertLess(left[-1], left[0])
            self.assertEqual(r.getheader('X-RateLimit-NearLimit'), 'true')
        finally:
            self.call('POST', '/__sim/faults', {"fail_429": 0, "rate": 0}, auth=None)

    def test_faults_deterministic_and_stats(self):
        def run():
            self.call('POST', '/__sim/faults', {"fail_503": 0.3, "reset": 0.2, "truncate": 0.2,
                                                "seed": 5}, auth=None)
            out = []
            for _ in range(20):
                try:
                    r, body = self.call('GET', '/rest/api/3/serverInfo', raw=True)
                    out.append(r.status)
                except (http.client.HTTPException, ConnectionError, OSError) as e:
                    out.append(type(e).__name__)
            return out
        try:
            a, b = run(), run()
        finally:
            self.call('POST', '/__sim/faults', {"fail_503": 0, "reset": 0, "truncate": 0},
                      auth=None)
        self.assertEqual(a, b)
        self.assertIn(503, a)
        self.assertTrue(any(isinstance(x, str) for x in a))
        st, s, _ = self.call('GET', '/__sim/stats', auth=None)
        self.assertIn('GET /rest/api/{ver}/serverInfo', s['requests'])
        self.assertGreater(s['total'], 0)


    def test_html_pages_deterministic(self):
        def run():
            self.call('POST', '/__sim/faults', {"html": 0.6, "seed": 11}, auth=None)
            out = []
            for _ in range(30):
                r, body = self.call('GET', '/rest/api/3/serverInfo', raw=True)
                ct = r.getheader('Content-Type')
                if ct.startswith('text/html'):
                    self.assertIn(b'<html', body)
                    self.assertEqual(int(r.getheader('Content-Length')), len(body))
                    self.assertRaises(ValueError, json.loads, body)
                else:
                    self.assertTrue(ct.startswith('application/json'))
                out.append((r.status, ct.split(';')[0]))
            return out
        try:
            self.call('POST', '/__sim/reset-stats', auth=None)
            a, b = run(), run()
            st, s, _ = self.call('GET', '/__sim/stats', auth=None)
            # only 200s: the HTML page a login or proxy answers in Jira's place
            self.call('POST', '/__sim/faults', {"html": 1, "html_ok": 1}, auth=None)
            r, body = self.call('GET', '/rest/api/3/myself', raw=True)
            self.assertEqual(r.status, 200)
            self.assertTrue(r.getheader('Content-Type').startswith('text/html'))
            self.assertIn(b'Log in', body)
        finally:
            self.call('POST', '/__sim/faults', {"html": 0, "html_ok": 0.5}, auth=None)
        self.assertEqual(a, b)
        self.assertIn((200, 'text/html'), a)
        self.assertIn((502, 'text/html'), a)
        self.assertIn((200, 'application/json'), a)
        counts = s['requests']['GET /rest/api/{ver}/serverInfo']
        self.assertEqual(counts.get('html', 0), 2 * a.count((200, 'text/html')))
        self.assertEqual(counts.get('502', 0), 2 * a.count((502, 'text/html')))
        # control endpoints are never faulted
        self.call('POST', '/__sim/faults', {"html": 1}, auth=None)
        try:
            st, d, _ = self.call('GET', '/__sim/health', auth=None)
            self.assertTrue(d['ok'])
        finally:
            self.call('POST', '/__sim/faults', {"html": 0}, auth=None)

    def test_bad_json_complete_but_invalid(self):
        def run():
            self.call('POST', '/__sim/faults', {"bad_json": 0.5, "seed": 4}, auth=None)
            out = []
            for gz in (False, True) * 10:
                r, body = self.call('POST', '/rest/api/3/search/jql',
                                    {"jql": "project = AA", "maxResults": 20,
                                     "fields": ["summary"]}, raw=True,
                                    headers={'Accept-Encoding': 'gzip'} if gz else None)
                self.assertEqual(r.status, 200)
                self.assertTrue(r.getheader('Content-Type').startswith('application/json'))
                self.assertEqual(int(r.getheader('Content-Length')), len(body))
                if gz:
                    body = gzip.decompress(body)
                try:
                    json.loads(body)
                    out.append('ok')
                except ValueError:
                    # cut inside a string, not at a token boundary
                    self.assertEqual(body.count(b'"') % 2, 1, body[-40:])
                    out.append('bad')
            return out
        try:
            a, b = run(), run()
        finally:
            self.call('POST', '/__sim/faults', {"bad_json": 0}, auth=None)
        self.assertEqual(a, b)
        self.assertIn('bad', a)
        self.assertIn('ok', a)
        st, s, _ = self.call('GET', '/__sim/stats', auth=None)
        self.assertGreater(s['requests']['POST /rest/api/{ver}/search/jql'].get('badjson', 0), 0)

    def test_repeat_token_trap_once(self):
        body = {"jql": "project = AA", "maxResults": 30, "fields": ["summary"]}
        st, p1, _ = self.call('POST', '/rest/api/3/search/jql', body)
        tok = p1['nextPageToken']
        st, snap, _ = self.call('POST', '/__sim/faults', {"repeat_token": True}, auth=None)
        self.assertEqual(snap['repeat_token'], 1)
        # a first page carries no token: the trap waits for one that does
        st, again, _ = self.call('POST', '/rest/api/3/search/jql', body)
        self.assertEqual(again['nextPageToken'], tok)
        st, p2, _ = self.call('POST', '/rest/api/3/search/jql', dict(body, nextPageToken=tok))
        self.assertEqual(st, 200)
        self.assertEqual(p2['nextPageToken'], tok)       # the token it was given
        self.assertFalse(p2['isLast'])
        self.assertEqual(len(p2['issues']), 30)
        st, snap, _ = self.call('GET', '/__sim/faults', auth=None)
        self.assertEqual(snap['repeat_token'], 0)
        st, p3, _ = self.call('POST', '/rest/api/3/search/jql', dict(body, nextPageToken=tok))
        self.assertNotEqual(p3['nextPageToken'], tok)    # one-shot: normal again
        self.assertEqual([i['id'] for i in p3['issues']], [i['id'] for i in p2['issues']])

class CorruptTest(Base):
    """Its own server: the corrupted issues would spoil other tests' pages."""
    PROJECTS = 'CC:10'

    def test_corrupt_sends_bad_bytes(self):
        # What Jira has been seen sending: a raw byte that is not UTF-8, and
        # half an emoji as a JSON escape. Neither parses with a strict parser.
        st, d, _ = self.call('POST', '/__sim/corrupt', {"keys": ["CC-7"], "kind": "utf8"}, auth=None)
        self.assertEqual(d['corrupted'], ['CC-7'])
        st, d, _ = self.call('POST', '/__sim/corrupt', {"keys": ["CC-8"], "kind": "surrogate"}, auth=None)
        r, body = self.call('GET', '/rest/api/3/issue/CC-7?fields=summary', raw=True)
        self.assertEqual(r.status, 200)
        self.assertIn(b'\xff"', body)
        self.assertRaises(UnicodeDecodeError, body.decode, 'utf-8')
        r, body = self.call('GET', '/rest/api/3/issue/CC-8?fields=summary', raw=True)
        self.assertIn(b'\\ud83d"', body)
        st, d, _ = self.call('POST', '/__sim/corrupt', {"keys": ["CC-7"], "kind": "nope"}, auth=None)
        self.assertEqual(st, 400)
        st, d, _ = self.call('POST', '/__sim/corrupt', {"keys": ["CC-7", "CC-8"], "kind": "clean"}, auth=None)
        r, body = self.call('GET', '/rest/api/3/issue/CC-7?fields=summary', raw=True)
        self.assertNotIn(b'\xff', body)
        self.assertEqual(json.loads(body)['fields']['summary'][-1:].isprintable(), True)
        r, body = self.call('GET', '/rest/api/3/issue/CC-8?fields=summary', raw=True)
        self.assertNotIn(b'\\ud83d', body)


class CatalogueTest(Base):
    """Issue types and statuses (discovery), the forbidden trap, --token-file."""

    def test_issue_types_and_statuses(self):
        for api in ('3', 'latest'):
            st, types, _ = self.call('GET', '/rest/api/%s/issuetype' % api)
            self.assertEqual(st, 200, types)
            self.assertTrue(types)
            self.assertTrue(all('id' in t and 'name' in t for t in types))
            self.assertEqual(len({t['id'] for t in types}), len(types))
            st, statuses, _ = self.call('GET', '/rest/api/%s/status' % api)
            self.assertEqual(st, 200, statuses)
            self.assertTrue(statuses)
            self.assertTrue(all(s['statusCategory']['key'] in ('new', 'indeterminate', 'done')
                                for s in statuses))
        # every status an issue carries is listed
        st, d, _ = self.call('POST', '/rest/api/3/search/jql',
                             {"jql": "project = AA", "fields": ["status"], "maxResults": 100})
        ids = {s['id'] for s in statuses}
        self.assertTrue(all(i['fields']['status']['id'] in ids for i in d['issues']))

    def test_forbidden_trap(self):
        self.call('POST', '/__sim/faults', {"forbidden": 2}, auth=None)
        try:
            self.assertEqual(self.call('GET', '/rest/api/3/myself')[0], 403)
            st, d, _ = self.call('GET', '/rest/api/2/serverInfo')
            self.assertEqual(st, 403)
            self.assertIn('permission', d['errorMessages'][0])
            self.assertEqual(self.call('GET', '/rest/api/3/myself')[0], 200)
            # bad credentials stay a 401, the trap untouched
            self.call('POST', '/__sim/faults', {"forbidden": 1}, auth=None)
            self.assertEqual(self.call('GET', '/rest/api/3/myself', auth='Basic eDp5')[0], 401)
            self.assertEqual(self.call('GET', '/__sim/faults', auth=None)[1]['forbidden'], 1)
        finally:
            self.call('POST', '/__sim/faults', {"forbidden": 0}, auth=None)

    def test_token_file(self):
        with tempfile.NamedTemporaryFile('w', suffix='.tok', delete=False) as f:
            f.write('from-a-file\n')
        try:
            srv = Server(self.dir, '--token-file', f.name)
            try:
                good = 'Basic ' + base64.b64encode(b'me@example.com:from-a-file').decode()
                self.assertEqual(srv.call('GET', '/rest/api/3/myself', auth=good)[0], 200)
                self.assertEqual(srv.call('GET', '/rest/api/3/myself')[0], 401)
            finally:
                srv.stop()
        finally:
            os.unlink(f.name)


class CheapAnswersTest(Base):
    """The simulator's own cost: pages of ids come from the index (no record is
    read), the catalogue is worked out from the start, --trace says where a
    request's time went. The answers stay what they were."""

    def counting(self):
        ds, n = self.srv.sim.dataset, [0]
        real = ds.record

        def record(e):
            n[0] += 1
            return real(e)
        ds.record = record
        self.addCleanup(setattr, ds, 'record', real)
        return n

    def test_id_pages_read_no_record(self):
        api, ds = self.srv.sim.api, self.srv.sim.dataset
        for fields in (["id"], None, ["key", "id"]):
            n = self.counting()
            body = {"jql": "project = AA", "maxResults": 5000}
            if fields is not None:
                body["fields"] = fields
            st, d, _ = self.call('POST', '/rest/api/3/search/jql', body)
            self.assertEqual(st, 200, d)
            self.assertEqual(n[0], 0, "records read for a page of ids (fields %s)" % fields)
            ds.record = ds.__class__.record.__get__(ds)
            want = [api.render.issue(ds.record(e), '3', fields, [], 40, ids_only=fields is None)
                    for e in api.query("project = AA")]
            self.assertEqual(d['issues'], json.loads(json.dumps(want)))
        # anything more than ids still reads the records
        n = self.counting()
        self.call('POST', '/rest/api/3/search/jql', {"jql": "project = AA", "fields": ["id", "updated"]})
        self.assertGreater(n[0], 0)

    def test_catalogue_worked_out_at_start_follows_changes_until_served(self):
        srv = Server(self.dir, '--flavor', 'cloud')
        try:
            api = srv.sim.api
            for _ in range(200):
                if api._cat is not None:
                    break
                threading.Event().wait(0.01)
            self.assertIsNotNone(api._cat, "the catalogue was not worked out at start")
            st, d, _ = srv.call('POST', '/rest/api/3/search/jql', {"jql": "project = BB", "fields": ["status"],
                                                                   "maxResults": 100})
            key = d['issues'][0]['key']
            before = {s['id'] for s in api._catalogue_read()[1]}
            # a status no issue had: the catalogue worked out at start lacks it
            rec = srv.sim.dataset.record(srv.sim.dataset.find(key))
            rec['issue']['fields']['status'] = dict(rec['issue']['fields']['status'], id='99999', name='Odd')
            srv.sim.dataset.replace(srv.sim.dataset.find(key), rec)
            st, statuses, _ = srv.call('GET', '/rest/api/3/status')
            self.assertEqual(st, 200)
            self.assertIn('99999', {s['id'] for s in statuses})
            self.assertNotIn('99999', before)
        finally:
            srv.stop()

    def test_trace_lines(self):
        path = os.path.join(self.dir, 'trace.jsonl')
        srv = Server(self.dir, '--flavor', 'cloud', '--latency-ms', '20', '--per-item-ms', '1', '--trace', path)
        try:
            srv.call('POST', '/rest/api/3/issue/bulkfetch', {"issueIdsOrKeys": ["AA-1", "AA-2"]})
            srv.call('GET', '/__sim/stats', auth=None)   # flushes the trace
            with open(path) as f:
                recs = [json.loads(l) for l in f]
        finally:
            srv.stop()
            srv.sim.trace.close()
        self.assertEqual(len(recs), 1)
        r = recs[0]
        self.assertEqual((r['ep'], r['st'], r['it']), ('POST /rest/api/{ver}/issue/bulkfetch', 200, 2))
        self.assertTrue(r['a'] <= r['r'] <= r['s'] <= r['e'])
        self.assertGreaterEqual(r['s'] - r['r'], 0.020 + 0.002 - 0.001)   # the sleep: latency + items
        self.assertGreater(r['cpu'], 0)

    def test_work_in_latency(self):
        """--work-in-latency: the answer is made first and the wait only tops it up
        to latency + items x per-item from arrival; without it the wait comes on
        top of the work."""
        ids = [e.key for e in list(self.srv.sim.dataset.by_id.values())[:100]]
        for flag, inside in ((['--work-in-latency'], True), ([], False)):
            path = os.path.join(self.dir, 'trace-wl.jsonl')
            srv = Server(self.dir, '--flavor', 'cloud', '--latency-ms', '50', '--per-item-ms', '0.5',
                         '--trace', path, *flag)
            try:
                for _ in range(3):
                    srv.call('POST', '/rest/api/3/issue/bulkfetch', {"issueIdsOrKeys": ids, "expand": ["changelog"]},
                             headers={'Accept-Encoding': 'gzip'}, raw=True)
                srv.call('GET', '/__sim/stats', auth=None)
                with open(path) as f:
                    recs = [json.loads(l) for l in f]
            finally:
                srv.stop()
                srv.sim.trace.close()
            for r in recs:
                work, lp, took = r['r'] - r['a'], 0.050 + 0.0005 * r['it'], r['s'] - r['a']
                # with: the wait ends at arrival + max(L + items p, the work);
                # without: at arrival + work + L + items p
                self.assertEqual(abs(took - max(lp, work)) < abs(took - (work + lp)), inside, (flag, work, took))


class ServerTest(Base):
    FLAVOR = 'server'
    PROJECTS = 'SS:160'

    def test_paging_offset_every_issue_once(self):
        seen, start = [], 0
        while True:
            st, d, _ = self.call('GET', '/rest/api/2/search?jql=project%%3DSS%%20ORDER%%20BY%%20'
                                 'created%%20ASC&startAt=%d&maxResults=1000&expand=changelog'
                                 % start)
            self.assertEqual(st, 200, d)
            self.assertEqual(d['maxResults'], 100)
            self.assertEqual(d['total'], 160)
            seen.extend(d['issues'])
            start += len(d['issues'])
            if start >= d['total']:
                break
        self.assertEqual(len({i['key'] for i in seen}), 160)
        long = [i for i in seen if i['changelog']['total'] > 100]
        self.assertTrue(long)
        self.assertEqual(len(long[0]['changelog']['histories']), 100)
        self.assertIn('customfield_10020', seen[0]['fields'])

    def test_server_shapes(self):
        st, d, _ = self.call('GET', '/rest/api/2/serverInfo')
        self.assertIn(d['deploymentType'], ('Server', 'DataCenter'))
        st, d, _ = self.call('GET', '/rest/api/3/myself')
        self.assertEqual(st, 404)
        st, d, _ = self.call('GET', '/rest/api/2/search/jql?jql=project%3DSS')
        self.assertEqual(st, 404)
        st, d, _ = self.call('GET', '/rest/api/2/issue/SS-2?fields=customfield_10020,description')
        sprint = d['fields']['customfield_10020']
        if sprint:
            self.assertTrue(sprint[0].startswith('com.atlassian.greenhopper.service.sprint.Sprint@'))
        self.assertIsInstance(d['fields']['description'] or '', str)


    def test_shrink_page_trap_once(self):
        path = ('/rest/api/2/search?jql=project%%3DSS%%20ORDER%%20BY%%20created%%20ASC'
                '&startAt=%d&maxResults=40&fields=summary')
        st, full, _ = self.call('GET', path % 40)
        self.call('POST', '/__sim/faults', {"shrink_page": True}, auth=None)
        st, d, _ = self.call('GET', path % 40)
        self.assertEqual(st, 200)
        self.assertEqual((d['total'], d['maxResults'], d['startAt']), (160, 40, 40))
        self.assertEqual(len(d['issues']), 20)
        self.assertEqual([i['key'] for i in d['issues']], [i['key'] for i in full['issues'][:20]])
        st, d, _ = self.call('GET', path % 40)
        self.assertEqual(len(d['issues']), 40)           # one-shot
        # the last page is never the one that shrinks: nothing more remains there
        self.call('POST', '/__sim/faults', {"shrink_page": 2}, auth=None)
        try:
            st, d, _ = self.call('GET', path % 120)
            self.assertEqual(len(d['issues']), 40)
            st, snap, _ = self.call('GET', '/__sim/faults', auth=None)
            self.assertEqual(snap['shrink_page'], 2)
            st, d, _ = self.call('POST', '/rest/api/2/search',
                                 {"jql": "project = SS", "startAt": 0, "maxResults": 10})
            self.assertEqual((len(d['issues']), d['total']), (5, 160))
        finally:
            self.call('POST', '/__sim/faults', {"shrink_page": 0}, auth=None)

    def test_held_issue_appears_after_the_id_listing(self):
        def keys(fields, start=0, size=100):
            st, d, _ = self.call('POST', '/rest/api/2/search', {"jql": "project = SS", "startAt": start,
                                                                "maxResults": size, "fields": fields})
            self.assertEqual(st, 200)
            return [i['key'] for i in d['issues']], d['total']

        st, d, _ = self.call('POST', '/__sim/hold', {"keys": ["SS-3"]}, auth=None)
        self.assertEqual(d['held'], ['SS-3'])
        try:
            self.assertEqual(self.call('GET', '/rest/api/2/issue/SS-3')[0], 404)
            st, d, _ = self.call('POST', '/__sim/release', {"after_listing": True}, auth=None)
            self.assertEqual(d['armed'], ['SS-3'])
            # a listing page that is not the last, or a page of bodies, changes nothing
            listed, total = keys(['id'], 0, 100)
            self.assertEqual((len(listed), total), (100, 159))
            self.assertNotIn('SS-3', keys(['summary'])[0])
            # the listing's last page is answered without it, then it exists
            listed, total = keys(['id'], 100, 100)
            self.assertEqual((len(listed), total), (59, 159))
            pages, total = keys(['summary'])
            self.assertEqual(total, 160)
            self.assertIn('SS-3', pages)
        finally:
            self.call('POST', '/__sim/release', {}, auth=None)
        self.assertEqual(self.call('GET', '/rest/api/2/issue/SS-3')[0], 200)

class FixtureTest(unittest.TestCase):
    """The recorded responses served back verbatim."""

    @classmethod
    def setUpClass(cls):
        import from_fixtures
        cls.dir = tempfile.mkdtemp(prefix='jirasim-fx-')
        # The recorded data ships in tests/fixtures: its absence is a broken checkout, not a skip.
        assert os.path.isdir(from_fixtures.DEFAULT_FIXTURES), from_fixtures.DEFAULT_FIXTURES
        from_fixtures.main(['--out', cls.dir])
        cls.srv = Server(cls.dir)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_recorded_issue_and_devstatus(self):
        st, d, _ = self.srv.call('GET', '/rest/api/3/issue/EE-17/changelog')
        self.assertEqual(d['total'], 31)
        st, d, _ = self.srv.call('GET', '/rest/api/3/issue/EE-1?fields=summary')
        self.assertTrue(d['fields']['summary'].startswith('\u200b'))
        st, d, _ = self.srv.call('GET', '/rest/dev-status/latest/issue/detail?issueId=10395'
                                 '&applicationType=GitLab&dataType=repository')
        self.assertEqual(d['detail'][0]['_instance']['type'], 'GitLab')
        st, d, _ = self.srv.call('POST', '/rest/api/3/search/jql',
                                 {"jql": "project in (EE, K5)", "maxResults": 100})
        self.assertEqual(len(d['issues']), 36)

    def test_generated_on_top_keeps_history_ids_unique(self):
        # Jira's history ids are global: two issues sharing one made results
        # depend on which worker wrote last.
        import gen
        d = tempfile.mkdtemp(prefix='jirasim-fxgen-')
        try:
            shutil.copytree(self.dir, d, dirs_exist_ok=True)
            gen.main(['--out', d, '--projects', 'GNX:320,GNY:180', '--seed', '11'])
            owners = {}
            for name in os.listdir(os.path.join(d, 'issues')):
                with open(os.path.join(d, 'issues', name)) as f:
                    for line in f:
                        rec = json.loads(line)
                        for h in rec.get('histories', []):
                            if h['id'] in owners:
                                self.fail('history %s in %s and %s' % (h['id'], owners[h['id']], rec['key']))
                            owners[h['id']] = rec['key']
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    unittest.main()


class WebhookShape(Base):
    """The simulator's webhooks: registered through Server/DC's admin API,
    sent for each edit and delete in the documented shape
    (tests/fixtures/jira-webhooks), signed, and retried with the same
    identifier when the receiver fails."""
    FLAVOR = 'server'
    PROJECTS = 'WH:5'

    def test_register_send_sign_retry(self):
        import hashlib
        import hmac
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        got, fail_first = [], [1]

        class Recv(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers['Content-Length']))
                if fail_first[0]:
                    fail_first[0] -= 1
                    self.send_response(503)
                else:
                    got.append((dict(self.headers), body))
                    self.send_response(202)
                self.send_header('Content-Length', '0')
                self.end_headers()

            def log_message(self, *a):
                pass
        recv = ThreadingHTTPServer(('127.0.0.1', 0), Recv)
        threading.Thread(target=recv.serve_forever, daemon=True).start()
        self.addCleanup(recv.shutdown)
        url = 'http://127.0.0.1:%d/hook' % recv.server_address[1]
        st, hook, _ = self.call('POST', '/rest/webhooks/1.0/webhook',
                                {'name': 't', 'url': url, 'secret': 's3cret',
                                 'events': ['jira:issue_updated', 'jira:issue_deleted']})
        self.assertEqual(st, 201, hook)
        self.assertNotIn('secret', json.dumps(hook))
        st, hooks, _ = self.call('GET', '/rest/webhooks/1.0/webhook')
        self.assertEqual([h['url'] for h in hooks], [url])
        self.call('POST', '/__sim/touch', {'keys': ['WH-1']})
        self.call('POST', '/__sim/delete', {'keys': ['WH-2']})
        deadline = time.monotonic() + 10
        while len(got) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(len(got), 2)
        fixtures = os.path.join(HERE, '..', 'tests', 'fixtures', 'jira-webhooks')
        ids = set()
        for headers, body in got:
            doc = json.loads(body)
            name = doc['webhookEvent'].split(':')[1]
            with open(os.path.join(fixtures, 'docs_example_%s.json' % name)) as f:
                want = json.load(f)
            self.assertLessEqual(set(want) - {'id'}, set(doc), name)       # the documented members
            self.assertLessEqual({'id', 'self', 'key', 'fields'}, set(doc['issue']))
            self.assertIsInstance(doc['timestamp'], int)
            sig = 'sha256=' + hmac.new(b's3cret', body, hashlib.sha256).hexdigest()
            self.assertEqual(headers['X-Hub-Signature'], sig)
            self.assertEqual(headers['X-Atlassian-Webhook-Flow'], 'Primary')
            ids.add(headers['X-Atlassian-Webhook-Identifier'])
        self.assertEqual(len(ids), 2)
        retried = [h for h, _ in got if 'X-Atlassian-Webhook-Retry' in h]
        self.assertEqual(len(retried), 1, "the delivery answered 503 came again, marked as a retry")
        self.assertEqual(self.call('DELETE', hook['self'][hook['self'].index('/rest'):])[0], 204)
        self.assertEqual(self.call('GET', '/rest/webhooks/1.0/webhook')[1], [])
