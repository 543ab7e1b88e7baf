"""The Jira REST endpoints: routing table and handlers (no HTTP plumbing here).

Each handler gets a Request and returns (status, json_obj, items) or raises ApiError.
`items` (issues or histories in the answer) drives the per-item latency and stats.
"""
import base64
import datetime
import json
import re
import threading
import zlib

import devstatus
import jql
from render import Renderer, parse_list, only_ids

SERVER_CHANGELOG_CAP = 100   # legacy endpoints embed at most 100 histories
ISSUE_CHANGELOG_CAP = 100    # GET /issue/{id}?expand=changelog


class ApiError(Exception):
    def __init__(self, status, messages, errors=None, headers=None):
        super().__init__(messages)
        self.status = status
        self.body = {"errorMessages": list(messages) if isinstance(messages, (list, tuple))
                     else [messages], "errors": errors or {}}
        self.headers = headers or {}


class Request:
    def __init__(self, method, path, query, body, match):
        self.method = method
        self.path = path
        self.query = query      # dict name -> [values]
        self.body = body        # parsed JSON object for POST, {} otherwise
        self.match = match

    def arg(self, name, default=None):
        if self.method == 'POST' and isinstance(self.body, dict) and name in self.body:
            return self.body[name]
        v = self.query.get(name)
        if not v:
            return default
        return v if len(v) > 1 else v[0]

    def int_arg(self, name, default):
        v = self.arg(name)
        if v is None or v == '':
            return default
        try:
            return int(v)
        except (TypeError, ValueError):
            raise ApiError(400, "The value '%s' for '%s' is not a valid number." % (v, name))


class JiraApi:
    def __init__(self, sim):
        self.sim = sim
        self.ds = sim.dataset
        self.render = Renderer(self.ds, sim.base_url)
        self._cache = {}
        self._cat, self._cat_served, self._cat_lock = None, False, threading.Lock()
        self.routes = [
            ('GET', r'/rest/api/(2|3|latest)/serverInfo', self.server_info),
            ('GET', r'/rest/api/(2|3|latest)/myself', self.myself),
            ('GET', r'/rest/api/(2|3|latest)/field', self.fields),
            ('GET', r'/rest/api/(2|3|latest)/project', self.projects),
            ('GET', r'/rest/api/(2|3|latest)/project/search', self.project_search),
            ('GET', r'/rest/api/(2|3|latest)/project/([^/]+)', self.project_one),
            ('GET', r'/rest/api/(2|3|latest)/issuetype', self.issue_types),
            ('GET', r'/rest/api/(2|3|latest)/status', self.statuses),
            ('GET|POST', r'/rest/api/(2|3|latest)/search/jql', self.search_jql),
            ('POST', r'/rest/api/(2|3|latest)/search/approximate-count', self.approx_count),
            ('GET|POST', r'/rest/api/(2|3|latest)/search', self.search_legacy),
            ('POST', r'/rest/api/(2|3|latest)/issue/bulkfetch', self.issue_bulkfetch),
            ('GET', r'/rest/api/(2|3|latest)/issue/([^/]+)/changelog', self.issue_changelog),
            ('GET', r'/rest/api/(2|3|latest)/issue/([^/]+)/comment', self.issue_comments),
            ('GET', r'/rest/api/(2|3|latest)/issue/([^/]+)/worklog', self.issue_worklogs),
            ('GET', r'/rest/api/(2|3|latest)/issue/([^/]+)', self.issue_get),
            ('POST', r'/rest/api/(2|3|latest)/changelog/bulkfetch', self.changelog_bulkfetch),
            ('GET', r'/rest/dev-status/(latest|1\.0)/issue/summary', self.dev_summary),
            ('GET', r'/rest/dev-status/(latest|1\.0)/issue/detail', self.dev_detail),
            ('GET|POST', r'/rest/webhooks/1\.0/webhook', self.webhooks),
            ('GET|DELETE', r'/rest/webhooks/1\.0/webhook/([0-9]+)', self.webhook_one),
        ]
        self.routes = [(m.split('|'), re.compile(p + '/?$'), p, fn) for m, p, fn in self.routes]

    # -- routing --------------------------------------------------------
    def route(self, method, path):
        """-> (handler, match, pattern name for stats) or raises ApiError."""
        for methods, rx, pat, fn in self.routes:
            m = rx.match(path)
            if m:
                if method not in methods:
                    raise ApiError(405, "Method %s is not allowed on %s." % (method, path))
                if not self.cloud and path.startswith('/rest/api/3/'):
                    # Server/DC has no v3 API
                    raise ApiError(404, "null for uri: %s" % path)
                return fn, m, pat
        raise ApiError(404, "null for uri: %s" % path)

    @property
    def cloud(self):
        return self.sim.flavor == 'cloud'

    def api_ver(self, req):
        v = req.match.group(1)
        return '2' if v == 'latest' else v

    # -- helpers ---------------------------------------------------------
    def query(self, text):
        """Run JQL, caching the ordered result per dataset version (paging hits it a lot)."""
        tz = self.sim.user_tz
        key = (text, tz, self.ds.version)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        try:
            q = jql.parse(text, tz, self.ds.project_keys())
        except jql.JqlError as e:
            raise ApiError(400, str(e))
        if self.cloud and not q.bounded:
            raise ApiError(400, "Unbounded JQL queries are not allowed here. Please add a search "
                                "restriction to your query.")
        with self.ds.lock:
            res = q.run(self.ds.entries())
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[key] = res
        return res

    def listed(self, fields, last):
        """After a search page: release the held issues (/__sim/release
        after_listing) when it was the last page of an ids-only listing, so
        that they appear between a census and the pages that follow it."""
        if last and self.ds.release_after_listing and \
                (fields is None or all(f in ('id', 'key', 'updated') for f in fields)):
            self.ds.release()

    def find(self, id_or_key):
        e = self.ds.find(id_or_key)
        if e is None:
            raise ApiError(404, "Issue does not exist or you do not have permission to see it.")
        return e

    def record(self, e):
        return self.ds.record(e)

    @staticmethod
    def token(offset, salt):
        raw = json.dumps({"o": offset, "s": salt}, separators=(',', ':')).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip('=')

    @staticmethod
    def untoken(tok, salt):
        try:
            pad = '=' * (-len(tok) % 4)
            d = json.loads(base64.urlsafe_b64decode(tok + pad))
            if d.get('s') != salt:
                raise ValueError
            return d['o']
        except Exception:
            raise ApiError(400, "The provided next page token is invalid or expired.")

    # -- site ------------------------------------------------------------
    def server_info(self, req):
        now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.000+0000')
        if self.cloud:
            return 200, {"baseUrl": self.sim.base_url(), "version": "1001.0.0-SNAPSHOT",
                         "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud",
                         "buildNumber": 100275, "buildDate": "2025-01-01T00:00:00.000+0000",
                         "serverTime": now, "scmInfo": "jirasim", "serverTitle": "Jira"}, 0
        dep = self.ds.meta.get('deploymentType', 'Server')
        if dep not in ('Server', 'DataCenter'):
            dep = 'Server'
        return 200, {"baseUrl": self.sim.base_url(), "version": "9.12.2",
                     "versionNumbers": [9, 12, 2], "deploymentType": dep,
                     "buildNumber": 9120002, "buildDate": "2024-01-01T00:00:00.000+0000",
                     "serverTime": now, "scmInfo": "jirasim", "serverTitle": "Jira"}, 0

    def myself(self, req):
        user = self.sim.user or 'sim@example.com'
        base = self.sim.base_url()
        if self.cloud:
            return 200, {"self": base + "/rest/api/3/user?accountId=5b10ac8d82e05b22cc7d4ef5",
                         "accountId": "5b10ac8d82e05b22cc7d4ef5", "accountType": "atlassian",
                         "emailAddress": user, "displayName": "Sim User", "active": True,
                         "timeZone": self.sim.user_tz, "locale": "en_US", "avatarUrls": {}}, 0
        name = user.split('@')[0]
        return 200, {"self": base + "/rest/api/2/user?username=" + name, "key": "JIRAUSER10000",
                     "name": name, "emailAddress": user, "displayName": "Sim User",
                     "active": True, "timeZone": self.sim.user_tz, "locale": "en_US"}, 0

    def fields(self, req):
        return 200, self.ds.fields, 0

    def _project(self, p, api):
        p = dict(p)
        p['self'] = "%s/rest/api/%s/project/%s" % (self.sim.base_url(), api, p.get('id'))
        return p

    def projects(self, req):
        api = self.api_ver(req)
        return 200, [self._project(p, api) for p in self.ds.projects], 0

    def project_search(self, req):
        if not self.cloud:
            raise ApiError(404, "null for uri: %s" % req.path)
        start = max(0, req.int_arg('startAt', 0))
        size = min(max(1, req.int_arg('maxResults', 50)), 100)
        allp = self.ds.projects
        page = allp[start:start + size]
        api = self.api_ver(req)
        return 200, {"self": self.sim.base_url() + req.path, "maxResults": size,
                     "startAt": start, "total": len(allp),
                     "isLast": start + len(page) >= len(allp),
                     "values": [self._project(p, api) for p in page]}, 0

    def project_one(self, req):
        k = req.match.group(2)
        for p in self.ds.projects:
            if p.get('key') == k or str(p.get('id')) == k:
                return 200, self._project(p, self.api_ver(req)), 0
        raise ApiError(404, "No project could be found with key '%s'." % k)

    def start_catalogue(self):
        """Work the catalogue out on a thread of its own from the start: without
        issuetypes.json it reads every record (7 s at 10,000 issues on a loaded
        bench machine), which a client waited for before its first search, while
        a real Jira answers /issuetype from a table.  The answer is the same:
        what the data held when the first request for it came."""
        threading.Thread(target=self._catalogue, daemon=True).start()

    def _catalogue(self):
        """Issue types and statuses: the dataset's issuetypes.json / statuses.json when
        it has them, else every distinct one its issues use (read once, cached)."""
        with self._cat_lock:
            if self._cat is not None and not self._cat_served and self._cat[2] != self.ds.version:
                self._cat = None    # worked out before a /__sim/ change: once more
            if self._cat is None:
                self._cat = self._catalogue_read() + (self.ds.version,)
            return self._cat

    def _catalogue_read(self):
        import os
        types, statuses = {}, {}
        for name, into in (('issuetypes.json', types), ('statuses.json', statuses)):
            path = os.path.join(self.ds.path, name)
            if os.path.exists(path):
                with open(path) as f:
                    for o in json.load(f):
                        into[str(o.get('id'))] = o
        if not types or not statuses:
            for e in list(self.ds.entries()):
                fields = (self.ds.record(e).get('issue') or {}).get('fields') or {}
                t, s = fields.get('issuetype'), fields.get('status')
                if isinstance(t, dict) and t.get('id') is not None:
                    types.setdefault(str(t['id']), t)
                if isinstance(s, dict) and s.get('id') is not None:
                    statuses.setdefault(str(s['id']), s)
        return (sorted(types.values(), key=lambda o: str(o.get('id'))),
                sorted(statuses.values(), key=lambda o: str(o.get('id'))))

    def issue_types(self, req):
        cat = self._catalogue()
        self._cat_served = True
        return 200, cat[0], 0

    def statuses(self, req):
        cat = self._catalogue()
        self._cat_served = True
        return 200, cat[1], 0

    # -- search ------------------------------------------------------------
    def search_jql(self, req):
        if not self.cloud:
            raise ApiError(404, "null for uri: %s" % req.path)
        text = req.arg('jql', '') or ''
        fields = parse_list(req.arg('fields'))
        expand = parse_list(req.arg('expand')) or []
        want = req.int_arg('maxResults', 50)
        if want < 0:
            raise ApiError(400, "The value of 'maxResults' must be positive.")
        cap = 5000 if only_ids(fields) and 'changelog' not in expand else 100
        size = min(max(want, 1), cap)
        res = self.query(text)
        salt = zlib.crc32(text.encode()) ^ self.sim.seed
        tok = req.arg('nextPageToken')
        start = self.untoken(tok, salt) if tok else 0
        page = res[start:start + size]
        api = self.api_ver(req)
        issues = []
        for e in page:
            out = self.render.issue_from_index(e, api, fields, expand, ids_only=fields is None)
            if out is None:
                out = self.render.issue(self.record(e), api, fields, expand, self.sim.embedded_cap,
                                        ids_only=fields is None)
            issues.append(out)
        out = {"issues": issues}
        if tok and self.sim.faults.spring('repeat_token'):
            # trap: the page it was asked for, pointing back at itself
            out["nextPageToken"] = tok
            out["isLast"] = False
        elif start + len(page) < len(res):
            out["nextPageToken"] = self.token(start + len(page), salt)
            out["isLast"] = False
        else:
            out["isLast"] = True
        self.listed(fields, out["isLast"])
        return 200, out, len(issues)

    def approx_count(self, req):
        if not self.cloud:
            raise ApiError(404, "null for uri: %s" % req.path)
        return 200, {"count": len(self.query(req.arg('jql', '') or ''))}, 0

    def search_legacy(self, req):
        if self.cloud:
            raise ApiError(410, "The requested API has been removed. Please migrate to the "
                                "/rest/api/3/search/jql API. A full migration guideline is "
                                "available at https://developer.atlassian.com/changelog/#CHANGE-2046")
        text = req.arg('jql', '') or ''
        start = max(0, req.int_arg('startAt', 0))
        size = min(max(req.int_arg('maxResults', 50), 0),      # Server caps and says so
                   self.sim.server_max_results)
        fields = parse_list(req.arg('fields')) or ['*navigable']
        expand = parse_list(req.arg('expand')) or []
        res = self.query(text)
        page = res[start:start + size]
        if size and len(page) == size and start + size < len(res) and \
                self.sim.faults.spring('shrink_page'):
            # trap: a short page although more remain (total and maxResults unchanged),
            # as permission filtering after the query does on real Server/DC
            page = page[:size // 2]
        issues = [self.render.issue_from_index(e, '2', fields, expand) or
                  self.render.issue(self.record(e), '2', fields, expand, SERVER_CHANGELOG_CAP)
                  for e in page]
        self.listed(fields, start + len(page) >= len(res))
        return 200, {"expand": "schema,names", "startAt": start, "maxResults": size,
                     "total": len(res), "issues": issues}, len(issues)

    # -- issues ------------------------------------------------------------
    def issue_get(self, req):
        e = self.find(req.match.group(2))
        fields = parse_list(req.arg('fields')) or ['*all']
        expand = parse_list(req.arg('expand')) or []
        return 200, self.render.issue(self.record(e), self.api_ver(req), fields, expand,
                                      ISSUE_CHANGELOG_CAP), 1

    def issue_bulkfetch(self, req):
        if not self.cloud:
            raise ApiError(404, "null for uri: %s" % req.path)
        ids = req.body.get('issueIdsOrKeys') if isinstance(req.body, dict) else None
        if not isinstance(ids, list) or not ids:
            raise ApiError(400, "issueIdsOrKeys must not be empty.")
        if len(ids) > 100:
            raise ApiError(400, "The number of issues requested exceeds the maximum of 100.")
        fields = parse_list(req.body.get('fields')) or ['*navigable']
        expand = parse_list(req.body.get('expand')) or []
        issues, errors = [], []
        for x in ids:
            e = self.ds.find(x)
            if e is None:
                errors.append({"id": str(x), "errorMessage":
                               "Issue does not exist or you do not have permission to see it."})
                continue
            issues.append(self.render.issue(self.record(e), self.api_ver(req), fields, expand,
                                            self.sim.embedded_cap))
        return 200, {"expand": "schema,names", "issues": issues, "issueErrors": errors}, len(issues)

    # -- changelogs ----------------------------------------------------------
    def issue_changelog(self, req):
        e = self.find(req.match.group(2))
        hist = self.record(e).get('histories') or []
        start = max(0, req.int_arg('startAt', 0))
        size = min(max(req.int_arg('maxResults', 100), 1), 100)
        page = hist[start:start + size]
        base = "%s/rest/api/%s/issue/%s/changelog" % (self.sim.base_url(), self.api_ver(req),
                                                     req.match.group(2))
        out = {"self": "%s?startAt=%d&maxResults=%d" % (base, start, size),
               "maxResults": size, "startAt": start, "total": len(hist),
               "isLast": start + len(page) >= len(hist), "values": page}
        if not out["isLast"]:
            out["nextPage"] = "%s?startAt=%d&maxResults=%d" % (base, start + len(page), size)
        return 200, out, len(page)

    # -- comments and worklogs ----------------------------------------------
    def _items(self, req, member, cap):
        """GET /issue/{id}/comment|worklog: a page of the issue's whole list, oldest
        first ({startAt, maxResults, total, comments|worklogs}), as Jira pages them."""
        e = self.find(req.match.group(2))
        rec = self.record(e)
        items = rec.get(member)
        if items is None:   # recorded issues: what their page holds is all there is
            field = (rec.get('issue') or {}).get('fields', {}).get(member[:-1]) or {}
            items = field if isinstance(field, list) else field.get(member) or []
        start = max(0, req.int_arg('startAt', 0))
        size = min(max(req.int_arg('maxResults', cap), 1), cap)
        page = items[start:start + size]
        return 200, {"startAt": start, "maxResults": size, "total": len(items), member: page}, len(page)

    def issue_comments(self, req):
        return self._items(req, 'comments', 100)

    def issue_worklogs(self, req):
        return self._items(req, 'worklogs', 1000)

    def changelog_bulkfetch(self, req):
        if not self.cloud:
            raise ApiError(404, "null for uri: %s" % req.path)
        b = req.body if isinstance(req.body, dict) else {}
        ids = b.get('issueIdsOrKeys')
        if not isinstance(ids, list) or not 1 <= len(ids) <= 1000:
            raise ApiError(400, "issueIdsOrKeys must contain between 1 and 1000 items.")
        field_ids = b.get('fieldIds') or []
        if len(field_ids) > 10:
            raise ApiError(400, "fieldIds must contain at most 10 items.")
        limit = b.get('maxResults', 1000)
        try:
            limit = min(max(int(limit), 1), 10000)
        except (TypeError, ValueError):
            raise ApiError(400, "maxResults must be a number.")
        salt = zlib.crc32(json.dumps([ids, field_ids]).encode()) ^ self.sim.seed
        tok = b.get('nextPageToken')
        pos = self.untoken(tok, salt) if tok else [0, 0]
        i, j = pos
        out, served = [], 0
        while i < len(ids) and served < limit:
            e = self.ds.find(ids[i])
            hist = self.record(e).get('histories') or [] if e else []
            if field_ids:
                hist = [h for h in hist
                        if any(it.get('fieldId') in field_ids for it in h.get('items', []))]
            take = hist[j:j + (limit - served)]
            if take:
                out.append({"issueId": str(e.id), "changeHistories": take})
                served += len(take)
            j += len(take)
            if j >= len(hist):   # this issue is done; else the page ends inside it
                i, j = i + 1, 0
        res = {"issueChangeLogs": out}
        if i < len(ids):
            res["nextPageToken"] = self.token([i, j], salt)
        return 200, res, served

    # -- dev status ----------------------------------------------------------
    def _dev_issue(self, req):
        if self.sim.no_dev_permission:
            raise ApiError(403, "You do not have the permission to see the development "
                                "information of this issue (VIEW_DEV_TOOLS).")
        iid = req.arg('issueId')
        if iid is None or not str(iid).isdigit():
            raise ApiError(400, "issueId must be the numeric id of an issue, got '%s'." % iid)
        e = self.ds.find(str(iid))
        if e is None:
            dev = self.ds.dev_only(iid)
            if dev is not None:
                return dev
            raise ApiError(404, "Issue does not exist or you do not have permission to see it.")
        return self.record(e).get('dev')

    def dev_summary(self, req):
        return 200, devstatus.summary_response(self._dev_issue(req)), 0

    def dev_detail(self, req):
        dev = self._dev_issue(req)
        at, dt = req.arg('applicationType'), req.arg('dataType')
        if not at or not dt:
            raise ApiError(400, "applicationType and dataType are required.")
        return 200, devstatus.detail_response(dev, at, dt), 0

    # -- webhooks (Server/DC's admin API; sim/webhooks.py sends them) --------
    def webhooks(self, req):
        if req.method == 'POST':
            try:
                return 201, self.sim.webhooks.register(req.body), 0
            except ValueError as e:
                raise ApiError(400, str(e))
        return 200, self.sim.webhooks.listing(), 0

    def webhook_one(self, req):
        hid = int(req.match.group(1))
        if req.method == 'DELETE':
            if not self.sim.webhooks.remove(hid):
                raise ApiError(404, "Webhook with id %d not found" % hid)
            return 204, None, 0
        found = [h for h in self.sim.webhooks.listing() if h['self'].endswith('/%d' % hid)]
        if not found:
            raise ApiError(404, "Webhook with id %d not found" % hid)
        return 200, found[0], 0
