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


def user_id(u):
    if not isinstance(u, dict):
        return None
    for k in ("accountId", "key", "name"):
        if u.get(k):
            return u[k]
    return None


def truth(records):
    """{table: rows jetl stores} for dataset records ({"issue", "histories"})."""
    links = versions = components = 0
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
    accounts.discard(None)
    return {"issue_links": links, "issue_versions": versions, "issue_components": components,
            "accounts": len(accounts)}
