"""What generated issues carry beyond their own fields: issue links (both
sides of each link), fix and affects versions and components of their
project, in the shapes of Atlassian's documented issue example
(tests/fixtures/jira-real/openapi_example_get_issue.json) and the recorded
issues.  A Random of its own, so the draws of gen.py stay as they were.

truth(records) counts what jetl should store from any dataset's records
(generated or from the fixtures): the ground truth the tests compare with.
"""
import random

LINK_TYPES = [("10000", "Blocks", "is blocked by", "blocks"),
              ("10001", "Cloners", "is cloned by", "clones"),
              ("10002", "Duplicate", "is duplicated by", "duplicates"),
              ("10003", "Relates", "relates to", "relates to")]
STEP = 3          # issue n links to issue n - STEP ...
EVERY = 5         # ... when n % EVERY == 0


def project_versions(site, pid):
    base = int(pid) * 10
    return [{"self": "%s/rest/api/3/version/%d" % (site, base + k), "id": str(base + k),
             "description": "", "name": "%d.%d" % (1 + k // 3, k % 3), "archived": False,
             "released": k < 3, **({"releaseDate": "2023-0%d-15" % (k + 1)} if k < 3 else {})}
            for k in range(1, 5)]


def project_components(site, pid):
    base = int(pid) * 10
    return [{"self": "%s/rest/api/3/component/%d" % (site, base + k), "id": str(base + k),
             "name": name} for k, name in enumerate(["Backend", "Frontend", "数据平台"], 1)]


def link(site, lid, ltype, side, other_id, other_key):
    tid, name, inward, outward = ltype
    return {"id": str(lid), "self": "%s/rest/api/3/issueLink/%d" % (site, lid),
            "type": {"id": tid, "name": name, "inward": inward, "outward": outward,
                     "self": "%s/rest/api/3/issueLinkType/%s" % (site, tid)},
            side: {"id": str(other_id), "key": other_key,
                   "self": "%s/rest/api/3/issue/%d" % (site, other_id),
                   "fields": {"summary": "linked issue %s" % other_key}}}


def add(f, site, seed, pkey, pid, n, total, iid):
    """Fill f's issuelinks, fixVersions, versions and components."""
    r = random.Random('%d/%s/%d/parts' % (seed, pkey, n))
    # A link's id is its outward issue's id: unique, and both sides agree.
    if n % EVERY == 0 and n > STEP:
        f["issuelinks"].append(link(site, iid, LINK_TYPES[iid % 4], "outwardIssue", iid - STEP,
                                    "%s-%d" % (pkey, n - STEP)))
    if (n + STEP) % EVERY == 0 and n + STEP <= total:
        other = iid + STEP
        f["issuelinks"].append(link(site, other, LINK_TYPES[other % 4], "inwardIssue", other,
                                    "%s-%d" % (pkey, n + STEP)))
    versions = project_versions(site, pid)
    f["fixVersions"] = r.sample(versions, r.choice([0, 0, 1, 1, 2]))
    f["versions"] = r.sample(versions, r.choice([0, 0, 0, 1]))
    f["components"] = r.sample(project_components(site, pid), r.choice([0, 1, 1, 2]))


EMBEDDED = 20      # comments and worklogs embedded in an issue at most (Jira: 20 worklogs)


def adf(text):
    return {"type": "doc", "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]}


def user_ref(u):
    return {k: u[k] for k in ("accountId", "key", "name", "displayName", "active", "timeZone",
                              "accountType", "emailAddress") if k in u}


def items(seed, pkey, n, iid, users, when, ts):
    """(comments, worklogs) of generated issue n: a few each, many on some
    issues (past the embedded page), 130 comments / 1,005 worklogs on one
    (past a page of the endpoint)."""
    r = random.Random('%d/%s/%d/items' % (seed, pkey, n))
    nc = 130 if n == 26 else r.randint(25, 60) if n % 13 == 0 else r.choice([0, 0, 1, 2, 3])
    nw = 1005 if n == 22 else r.randint(21, 45) if n % 11 == 0 else r.choice([0, 0, 0, 1, 2])
    comments, worklogs = [], []
    for k in range(nc):
        a = user_ref(r.choice(users))
        t = ts(when + k * 3600000)
        cid = iid * 10000 + k + 1
        comments.append({"self": "https://acme.atlassian.net/rest/api/3/issue/%d/comment/%d" % (iid, cid),
                         "id": str(cid), "author": a, "updateAuthor": a,
                         "body": adf("comment %d on %s-%d 评论" % (k + 1, pkey, n)),
                         "created": t, "updated": t, "jsdPublic": True})
    for k in range(nw):
        a = user_ref(r.choice(users))
        t = ts(when + k * 1800000)
        wid = iid * 10000 + k + 1
        sec = r.choice([900, 1800, 3600, 7200, 12000])
        worklogs.append({"self": "https://acme.atlassian.net/rest/api/3/issue/%d/worklog/%d" % (iid, wid),
                         "author": a, "updateAuthor": a, "comment": adf("worked on it (%d)" % (k + 1)),
                         "created": t, "updated": t, "started": t,
                         "timeSpent": "%dm" % (sec // 60), "timeSpentSeconds": sec,
                         "id": str(wid), "issueId": str(iid)})
    return comments, worklogs


def page(items_, member, cap=EMBEDDED):
    """fields.comment / fields.worklog: the first cap items and the total."""
    shown = items_[:cap]
    return {"startAt": 0, "maxResults": cap, "total": len(items_), member: shown}


def user_id(u):
    if not isinstance(u, dict):
        return None
    for k in ("accountId", "key", "name"):
        if u.get(k):
            return u[k]
    return None


def truth(records):
    """{table: rows jetl stores} for dataset records ({"issue", "histories"})."""
    links = versions = components = comments = worklogs = 0
    accounts = set()
    for rec in records:
        f = rec["issue"].get("fields") or {}
        links += sum(1 for x in f.get("issuelinks") or []
                     if x.get("id") and isinstance(x.get("outwardIssue") or x.get("inwardIssue"), dict))
        versions += len({("fix", v["id"]) for v in f.get("fixVersions") or [] if v.get("id")} |
                        {("affects", v["id"]) for v in f.get("versions") or [] if v.get("id")})
        components += len({c["id"] for c in f.get("components") or [] if c.get("id")})
        for k in ("assignee", "reporter", "creator"):
            accounts.add(user_id(f.get(k)))
        for h in rec.get("histories") or []:
            accounts.add(user_id(h.get("author")))
        cs = rec.get("comments")
        if cs is None:
            c = f.get("comment")
            cs = c if isinstance(c, list) else (c or {}).get("comments") or []
        ws = rec.get("worklogs")
        if ws is None:
            w = f.get("worklog")
            ws = w if isinstance(w, list) else (w or {}).get("worklogs") or []
        comments += len({c["id"] for c in cs if c.get("id")})
        worklogs += len({w["id"] for w in ws if w.get("id")})
        for x in cs + ws:
            accounts.add(user_id(x.get("author")))
            accounts.add(user_id(x.get("updateAuthor")))
    accounts.discard(None)
    return {"issue_links": links, "issue_versions": versions, "issue_components": components,
            "accounts": len(accounts), "comments": comments, "worklogs": worklogs}
