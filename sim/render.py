"""Turning stored issue records into the JSON Jira sends: field selection and changelogs."""

import parts

EXPAND = "operations,versionedRepresentations,editmeta,changelog,renderedFields"


def parse_list(v):
    """fields/expand arrive as 'a,b', ['a,b','c'] or absent -> list of names, or None."""
    if v is None:
        return None
    if isinstance(v, str):
        v = [v]
    out = []
    for item in v:
        out.extend(x.strip() for x in str(item).split(',') if x.strip())
    return out


def only_ids(fields):
    """True when the caller asked for nothing beyond id/key (the cheap, big-page case)."""
    return fields is None or all(f in ('id', 'key') for f in fields)


class Renderer:
    def __init__(self, dataset, base_url_fn):
        self.ds = dataset
        self.base = base_url_fn
        self.non_nav = {f['id'] for f in dataset.fields if f.get('navigable') is False}

    def select(self, all_fields, wanted):
        if wanted is None:
            wanted = ['*navigable']
        inc, exc = set(), set()
        star = None
        for w in wanted:
            if w == '*all':
                star = 'all'
            elif w == '*navigable':
                star = star or 'nav'
            elif w.startswith('-'):
                exc.add(w[1:])
            else:
                inc.add(w)
        out = {}
        for k, v in all_fields.items():
            if k in exc:
                continue
            if star == 'all' or (star == 'nav' and k not in self.non_nav) or k in inc:
                out[k] = v
        return out

    def issue_from_index(self, e, api, fields, expand, ids_only=False):
        """The answer issue() would give when it needs nothing but the id and key,
        built from the index entry; None when the record itself is needed.  An
        ids-only page of 5000 otherwise parses 5000 records (~2 s of CPU per page
        at 10,000 issues on the bench machine) to send their ids."""
        if ids_only:
            return {"id": str(e.id)}
        if fields is None or not only_ids(fields) or (expand and ('changelog' in expand or 'names' in expand)):
            return None
        iid = str(e.id)
        return {"expand": EXPAND, "id": iid, "self": "%s/rest/api/%s/issue/%s" % (self.base(), api, iid),
                "key": e.key, "fields": {}}

    def issue(self, rec, api, fields, expand, embedded_cap, ids_only=False):
        """One issue as a search/get answer.  ids_only: Cloud search/jql without fields."""
        iid = rec['id']
        if ids_only:
            return {"id": iid}
        body = rec.get('issue') or {}
        out = {"expand": EXPAND, "id": iid,
               "self": "%s/rest/api/%s/issue/%s" % (self.base(), api, iid),
               "key": rec['key']}
        if fields is not None and only_ids(fields):
            out["fields"] = {}
        else:
            out["fields"] = self.select(body.get('fields') or {}, fields)
            # comments and worklogs: the embedded page of the record's lists
            for field, member in (("comment", "comments"), ("worklog", "worklogs")):
                if member in rec and field in out["fields"]:
                    out["fields"][field] = parts.page(rec[member], member)
        if expand and 'changelog' in expand:
            out["changelog"] = embedded_changelog(rec.get('histories') or [], embedded_cap)
        if expand and 'names' in expand:
            names = {f['id']: f.get('name') for f in self.ds.fields}
            out["names"] = {k: names.get(k, k) for k in out["fields"]}
        return out


def embedded_changelog(histories, cap):
    """expand=changelog: newest first, capped; total says how many exist."""
    newest = list(reversed(histories))[:cap]
    return {"startAt": 0, "maxResults": len(newest), "total": len(histories),
            "histories": newest}
