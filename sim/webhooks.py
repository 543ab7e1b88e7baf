"""Webhooks: the registrations (Server/DC's admin API /rest/webhooks/1.0/webhook,
or /__sim/webhooks as an admin pasting into Jira's page) and their deliveries.

Each change the control endpoints make (touch, delete, burst) sends one event
to every registered URL, as Jira does: POST with the issue as it now is
(tests/fixtures/jira-webhooks: jira:issue_created/updated/deleted), headers
X-Atlassian-Webhook-Identifier (stable across retries), X-Atlassian-Webhook-Flow
(Primary, or Secondary when asked), X-Atlassian-Webhook-Retry on retries, and
X-Hub-Signature: sha256=<HMAC-SHA256 of the body> when registered with a
secret. A delivery answered 408/409/425/429/5xx or not at all is retried
(5 times, backoff) with the same identifier. Behaviour for tests
(POST /__sim/webhooks/config): duplicates (share of deliveries sent twice),
shuffle (deliveries leave in random order within each batch), flow.
"""
import hashlib
import hmac
import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid

RETRY_CODES = {408, 409, 425, 429}
BACKOFF_S = (0.1, 0.3, 1.0, 2.0, 4.0)


class Webhooks:
    def __init__(self, sim, seed=1):
        self.sim = sim
        self.lock = threading.Condition()
        self.hooks = {}           # id -> registration (as the API answers it, plus secret)
        self.next_id = 1
        self.queue = []           # (due, delivery) waiting to be sent
        self.rand = random.Random(seed)
        self.config = {"duplicates": 0.0, "shuffle": False, "flow": "Primary"}
        self.stats = {"events": 0, "sent": 0, "retries": 0, "failed": 0, "duplicates": 0, "answers": {}}
        self.threads = []

    # -- registrations -----------------------------------------------------
    def register(self, body):
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError("url must be an http(s) URL")
        with self.lock:
            hid = self.next_id
            self.next_id += 1
            hook = {"name": str(body.get("name") or "webhook %d" % hid), "url": url,
                    "events": list(body.get("events") or ["jira:issue_created", "jira:issue_updated",
                                                         "jira:issue_deleted"]),
                    "filters": body.get("filters") or {"issue-related-events-section": ""},
                    "excludeBody": bool(body.get("excludeBody", False)), "enabled": True,
                    "self": "%s/rest/webhooks/1.0/webhook/%d" % (self.sim.base_url(), hid),
                    "lastUpdatedUser": self.sim.user or "admin", "lastUpdated": int(time.time() * 1000)}
            self.hooks[hid] = dict(hook, _secret=body.get("secret") or None)
            return self.public(hid)

    def public(self, hid):
        return {k: v for k, v in self.hooks[hid].items() if not k.startswith("_")}

    def listing(self):
        with self.lock:
            return [self.public(h) for h in sorted(self.hooks)]

    def remove(self, hid):
        with self.lock:
            return self.hooks.pop(hid, None) is not None

    # -- events ------------------------------------------------------------
    def emit(self, event, rec, changelog=None, flow=None):
        """One event about issue record rec to every hook that takes it."""
        with self.lock:
            targets = [h for h in self.hooks.values() if h["enabled"] and event in h["events"]]
            if not targets:
                return
            self.stats["events"] += 1
        now = int(time.time() * 1000)
        issue = rec.get("issue") or {}
        doc = {"timestamp": now, "webhookEvent": event,
               "issue_event_type_name": {"jira:issue_created": "issue_created",
                                         "jira:issue_deleted": "issue_deleted"}.get(event, "issue_generic"),
               "user": {"self": self.sim.base_url() + "/rest/api/2/user?username=sim",
                        "name": "sim", "key": "sim", "displayName": "Sim User", "active": True},
               "issue": {"id": str(rec.get("id") or issue.get("id")), "self": "%s/rest/api/2/issue/%s" % (
                   self.sim.base_url(), rec.get("id")), "key": rec.get("key") or issue.get("key"),
                   "fields": issue.get("fields") or {}}}
        if changelog:
            doc["changelog"] = changelog
        body = json.dumps(doc).encode()
        with self.lock:
            for h in targets:
                d = {"url": h["url"], "body": body, "secret": h["_secret"], "id": str(uuid.uuid4()),
                     "flow": flow or self.config["flow"], "try": 0}
                self.queue.append((time.monotonic(), d))
                if self.rand.random() < float(self.config["duplicates"]):
                    self.stats["duplicates"] += 1
                    self.queue.append((time.monotonic(), dict(d)))
            if self.config["shuffle"]:
                self.rand.shuffle(self.queue)
            self.lock.notify_all()
        self.start()

    def start(self, n=4):
        with self.lock:
            self.threads = [t for t in self.threads if t.is_alive()]
            while len(self.threads) < n:
                t = threading.Thread(target=self._send_loop, daemon=True, name="sim-webhooks")
                self.threads.append(t)
                t.start()

    def _take(self):
        with self.lock:
            while True:
                now = time.monotonic()
                due = [k for k, (t, _) in enumerate(self.queue) if t <= now]
                if due:
                    return self.queue.pop(due[0])[1]
                wait = min((t for t, _ in self.queue), default=now + 1.0) - now
                self.lock.wait(max(0.01, min(wait, 1.0)))

    def _send_loop(self):
        while True:
            d = self._take()
            code = self._send(d)
            with self.lock:
                self.stats["answers"][str(code)] = self.stats["answers"].get(str(code), 0) + 1
                if 200 <= code < 300:
                    self.stats["sent"] += 1
                elif (code in RETRY_CODES or code >= 500 or code == 0) and d["try"] < len(BACKOFF_S):
                    self.stats["retries"] += 1
                    self.queue.append((time.monotonic() + BACKOFF_S[d["try"]], dict(d, **{"try": d["try"] + 1})))
                    self.lock.notify_all()
                else:
                    self.stats["failed"] += 1

    def _send(self, d):
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Atlassian Webhook HTTP Client",
                   "X-Atlassian-Webhook-Identifier": d["id"], "X-Atlassian-Webhook-Flow": d["flow"]}
        if d["try"]:
            headers["X-Atlassian-Webhook-Retry"] = str(d["try"])
        if d["secret"]:
            headers["X-Hub-Signature"] = "sha256=" + hmac.new(d["secret"].encode(), d["body"],
                                                               hashlib.sha256).hexdigest()
        req = urllib.request.Request(d["url"], data=d["body"], headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                r.read()
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except (OSError, ValueError):
            return 0

    def snapshot(self):
        with self.lock:
            return dict(self.stats, pending=len(self.queue), hooks=len(self.hooks), config=dict(self.config))
