"""Fault injection: latency, a token-bucket rate limit, 503s, 429s that do not depend on
the client's rate, resets, truncated bodies, HTML pages in place of JSON, bodies that are
not JSON, and one-shot paging traps.

Decisions are drawn from random.Random(seed, request number) so a run with the
same seed and the same request order fails the same requests, whatever the
wall clock does.  Only the rate limit depends on time, as Jira's does.

Two kinds of 429, as a client meets them on a shared Cloud site:
- the token bucket (rate, burst): the client's own pace empties it; the answer says so
  (RateLimit-Reason, X-RateLimit-Remaining 0), and every answer while a rate is set
  carries X-RateLimit-Limit / X-RateLimit-Remaining (X-RateLimit-NearLimit under 20 %),
  as Atlassian's do;
- fail_429: a share of requests answered 429 with only Retry-After: 1, whatever the
  client's pace (another client of the same tenant spent the quota).
"""
import datetime
import math
import random
import threading
import time


class Faults:
    def __init__(self, seed=1, latency_ms=0, per_item_ms=0, rate=0.0, burst=0,
                 fail_503=0.0, reset=0.0, truncate=0.0, html=0.0, html_ok=0.5,
                 bad_json=0.0, fail_429=0.0):
        self.seed = seed
        self.latency_ms = latency_ms
        self.per_item_ms = per_item_ms
        self.fail_503 = fail_503
        self.reset = reset
        self.truncate = truncate
        self.html = html            # share answered by an HTML page (proxy, login, gateway)
        self.html_ok = html_ok      # of those, the part sent as 200 (else 502)
        self.bad_json = bad_json    # share of 200s whose JSON body is cut inside a string
        self.fail_429 = fail_429    # share answered 429 Retry-After: 1 whatever the client's rate
        # One-shot traps, armed through /__sim/faults; each counts the answers it
        # still spoils (True arms one).  Consumed by the handlers in jira_api.py.
        self.traps = {'repeat_token': 0, 'shrink_page': 0, 'forbidden': 0}
        self.lock = threading.Lock()
        self.counter = 0
        self.set_rate(rate, burst)

    def set_rate(self, rate, burst):
        with self.lock:
            self.rate = float(rate or 0)
            self.burst = int(burst or 0) or max(1, int(math.ceil(self.rate)))
            self.tokens = float(self.burst)
            self.stamp = time.monotonic()

    def update(self, d):
        for k in ('fail_503', 'reset', 'truncate', 'html', 'html_ok', 'bad_json', 'fail_429',
                  'latency_ms', 'per_item_ms'):
            if k in d:
                setattr(self, k, float(d[k]))
        with self.lock:
            for k in self.traps:
                if k in d:
                    self.traps[k] = max(0, int(d[k]))   # true -> 1, false -> 0, n -> n
        if 'rate' in d or 'burst' in d:
            self.set_rate(d.get('rate', self.rate), d.get('burst', self.burst))
        if 'seed' in d:
            with self.lock:
                self.seed = int(d['seed'])
                self.counter = 0

    def snapshot(self):
        with self.lock:
            traps = dict(self.traps)
        return {'fail_503': self.fail_503, 'reset': self.reset, 'truncate': self.truncate,
                'html': self.html, 'html_ok': self.html_ok, 'bad_json': self.bad_json,
                'fail_429': self.fail_429,
                'repeat_token': traps['repeat_token'], 'shrink_page': traps['shrink_page'],
                'forbidden': traps['forbidden'],
                'rate': self.rate, 'burst': self.burst, 'latency_ms': self.latency_ms,
                'per_item_ms': self.per_item_ms, 'seed': self.seed}

    def take_token(self):
        """None if the request may go on, else the 429 headers to send."""
        if self.rate <= 0:
            return None
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return None
            wait = (1 - self.tokens) / self.rate
        # Jira rounds Retry-After to whole seconds; 0 is legal and does occur
        reset_at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=wait)
        return {
            'Retry-After': str(int(math.ceil(wait)) if wait > 0.5 else 0),
            'X-RateLimit-Reset': reset_at.strftime('%Y-%m-%dT%H:%M:%S.') +
            '%03dZ' % (reset_at.microsecond // 1000),
            'X-RateLimit-Limit': str(self.burst),
            'X-RateLimit-Remaining': '0',
            'X-RateLimit-NearLimit': 'true',
            'RateLimit-Reason': 'jira-burst-based',
        }

    def budget_headers(self):
        """The rate-limit headers of an answer that got through ({} with no rate set):
        what is left of the bucket, so a client can slow down before it is empty."""
        if self.rate <= 0:
            return {}
        with self.lock:
            left = max(0, int(self.tokens))
        h = {'X-RateLimit-Limit': str(self.burst), 'X-RateLimit-Remaining': str(left)}
        if left < 0.2 * self.burst:
            h['X-RateLimit-NearLimit'] = 'true'
        return h

    def spring(self, name):
        """True (and one use fewer) if the trap `name` is armed."""
        with self.lock:
            if self.traps.get(name, 0) > 0:
                self.traps[name] -= 1
                return True
            return False

    def draw(self):
        """Decide this request's fate: 'ok', '503', '503-retry', 'reset', 'truncate',
        'html-200', 'html-502', 'bad-json' or '429'.  New kinds are drawn after the old ones,
        so a seed gives the same 503/reset/truncate requests as before they existed."""
        with self.lock:
            n = self.counter
            self.counter += 1
            seed = self.seed
        r = random.Random(seed * 1000003 + n)
        x = r.random()
        if x < self.fail_503:
            return '503-retry' if r.random() < 0.5 else '503'
        x -= self.fail_503
        if x < self.reset:
            return 'reset'
        x -= self.reset
        if x < self.truncate:
            return 'truncate'
        x -= self.truncate
        if x < self.html:
            return 'html-200' if r.random() < self.html_ok else 'html-502'
        x -= self.html
        if x < self.bad_json:
            return 'bad-json'
        x -= self.bad_json
        if x < self.fail_429:
            return '429'
        return 'ok'

    def delay(self, items, since=None):
        """Sleep latency + items x per-item; from `since` (a monotonic time: the
        request's arrival) when given, so that the work done since counts."""
        ms = self.latency_ms + self.per_item_ms * items
        if since is not None:
            ms -= (time.monotonic() - since) * 1000.0
        if ms > 0:
            time.sleep(ms / 1000.0)

