"""Dataset loading and in-memory index for the Jira simulator.

Layout of a dataset directory (see README.md):
  meta.json            {"flavor", "baseUrl", "version", "timeZone", "maxHistoryId", ...}
  fields.json          [field definitions as GET /rest/api/{2,3}/field returns them]
  projects.json        [project objects]
  issues/<KEY>.jsonl   one record per line:
      {"id","key","project","created","updated","issue":{...},"histories":[oldest first],"dev":{...}|null}

Why this shape: 100k issues of ~9 KB is ~1 GB of JSON.  Holding it as Python
objects would cost several GB, so only a small index entry per issue is kept
in memory; the record itself is read back with os.pread when a response needs
it.  The first five keys of each line are written in a fixed order so the
index can be built with one regex per line instead of a full JSON parse,
which keeps startup for 100k issues to a few seconds.
"""
import json
import os
import re
import threading

_PREFIX = re.compile(
    rb'^\{"id":"(\d+)","key":"([^"]+)","project":"([^"]+)",'
    rb'"created":"([^"]+)","updated":"([^"]+)"')


def parse_ts(s):
    """Jira timestamp '2024-03-01T10:20:30.123+0800' -> epoch milliseconds.

    Hand parsing is ~10x faster than strptime, which matters at startup."""
    import calendar
    y, mo, d = int(s[0:4]), int(s[5:7]), int(s[8:10])
    h, mi, se = int(s[11:13]), int(s[14:16]), int(s[17:19])
    ms = 0
    i = 19
    if i < len(s) and s[i] == '.':
        j = i + 1
        while j < len(s) and s[j].isdigit():
            j += 1
        ms = int((s[i + 1:j] + '000')[:3])
        i = j
    off = 0
    rest = s[i:]
    if rest and rest not in ('Z', 'z'):
        sign = -1 if rest[0] == '-' else 1
        digits = rest[1:].replace(':', '')
        off = sign * (int(digits[0:2]) * 60 + int(digits[2:4] or 0))
    secs = calendar.timegm((y, mo, d, h, mi, se, 0, 0, 0)) - off * 60
    return secs * 1000 + ms


def key_num(key):
    try:
        return int(key.rsplit('-', 1)[1])
    except (IndexError, ValueError):
        return 0


class Entry:
    """What the simulator keeps in memory per issue."""
    __slots__ = ('id', 'key', 'project', 'num', 'created', 'updated',
                 'fidx', 'off', 'length', 'rec')

    def __init__(self, iid, key, project, created, updated, fidx, off, length):
        self.id = iid
        self.key = key
        self.project = project
        self.num = key_num(key)
        self.created = created
        self.updated = updated
        self.fidx = fidx
        self.off = off
        self.length = length
        self.rec = None   # set once the record has been changed in memory (touch)


class Dataset:
    def __init__(self, path):
        self.path = path
        self.lock = threading.RLock()
        self.meta = self._load_json('meta.json', {})
        self.fields = self._load_json('fields.json', [])
        self.projects = self._load_json('projects.json', [])
        self.files = []
        self.by_id = {}
        self.by_key = {}
        # bumped on every change so cached query results are dropped
        self.version = 0
        self.next_history_id = int(self.meta.get('maxHistoryId', 0)) + 1
        # issues taken out by /__sim/hold, as if not created yet: id -> Entry
        self.held = {}
        # /__sim/release with after_listing: bring them back once an ids-only
        # listing has answered its last page (jira_api.JiraApi.listed)
        self.release_after_listing = False
        self._load_issues()
        self.next_history_id = max(self.next_history_id, 900000000)

    def _load_json(self, name, default):
        p = os.path.join(self.path, name)
        if not os.path.exists(p):
            return default
        with open(p, encoding='utf-8') as f:
            return json.load(f)

    def _load_issues(self):
        d = os.path.join(self.path, 'issues')
        if not os.path.isdir(d):
            return
        for name in sorted(os.listdir(d)):
            if not name.endswith('.jsonl'):
                continue
            fp = os.path.join(d, name)
            fidx = len(self.files)
            self.files.append(os.open(fp, os.O_RDONLY))
            off = 0
            with open(fp, 'rb') as f:
                for line in f:
                    n = len(line)
                    m = _PREFIX.match(line)
                    if m:
                        iid, key, proj, cr, up = (g.decode('utf-8') for g in m.groups())
                    else:  # hand-written record with another key order
                        r = json.loads(line)
                        iid, key, proj = r['id'], r['key'], r['project']
                        cr, up = r['created'], r['updated']
                    e = Entry(int(iid), key, proj, parse_ts(cr), parse_ts(up),
                              fidx, off, n)
                    self.by_id[e.id] = e
                    self.by_key[key] = e
                    off += n

    # -- access ---------------------------------------------------------
    def entries(self):
        return list(self.by_id.values())

    def find(self, id_or_key):
        with self.lock:
            s = str(id_or_key)
            if s.isdigit():
                return self.by_id.get(int(s))
            return self.by_key.get(s.upper()) or self.by_key.get(s)

    def record(self, e):
        """Full record dict of an entry (fresh copy the caller may mutate)."""
        if e.rec is not None:
            return json.loads(json.dumps(e.rec))
        raw = os.pread(self.files[e.fidx], e.length, e.off)
        return json.loads(raw)

    def dev_only(self, iid):
        """Dev-status data recorded for an issue id whose issue body is not in the dataset."""
        p = os.path.join(self.path, 'devstatus', '%d.json' % int(iid))
        if not os.path.exists(p):
            return None
        with open(p, encoding='utf-8') as f:
            return json.load(f)

    def project_keys(self):
        keys = {p.get('key') for p in self.projects}
        keys.update(e.project for e in self.by_id.values())
        return keys

    # -- mutation (control endpoints) -------------------------------------
    def replace(self, e, rec):
        with self.lock:
            e.rec = rec
            e.updated = parse_ts(rec['updated'])
            self.version += 1

    def delete(self, e):
        with self.lock:
            self.by_id.pop(e.id, None)
            self.by_key.pop(e.key, None)
            self.version += 1

    def hold(self, e):
        with self.lock:
            self.delete(e)
            self.held[e.id] = e

    def release(self):
        """Bring the held issues back; -> their keys."""
        with self.lock:
            back = sorted(self.held.values(), key=lambda e: e.id)
            for e in back:
                self.by_id[e.id] = e
                self.by_key[e.key] = e
            self.held.clear()
            self.release_after_listing = False
            self.version += 1
            return [e.key for e in back]

    def new_history_id(self):
        with self.lock:
            h = self.next_history_id
            self.next_history_id += 1
            return h
