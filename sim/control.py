"""The /__sim/ control and stats endpoints (no auth, never faulted)."""
import datetime


def _fmt_now(like, minutes_ago, at=None):
    """Now minus minutes_ago (or the ISO instant `at`), written in the offset the issue
    already uses (e.g. +0800), as Jira keeps a site's offset."""
    off = like[-5:] if like and like[-5] in '+-' else '+0000'
    sign = -1 if off[0] == '-' else 1
    tz = datetime.timezone(sign * datetime.timedelta(hours=int(off[1:3]), minutes=int(off[3:5])))
    if at:
        t = datetime.datetime.fromisoformat(at.replace('Z', '+00:00')).astimezone(tz)
    else:
        t = datetime.datetime.now(tz) - datetime.timedelta(minutes=minutes_ago)
    return t.strftime('%Y-%m-%dT%H:%M:%S.') + '%03d' % (t.microsecond // 1000) + off


_STATUSES = [
    {"id": "3", "name": "In Progress", "statusCategory": {"id": 4, "key": "indeterminate",
                                                         "colorName": "yellow",
                                                         "name": "In Progress"}},
    {"id": "10001", "name": "Done", "statusCategory": {"id": 3, "key": "done",
                                                       "colorName": "green", "name": "Done"}},
]


def touch(sim, keys, minutes_ago, at=None, flow=None):
    ds = sim.dataset
    done = []
    for k in keys:
        e = ds.find(k)
        if e is None:
            continue
        rec = ds.record(e)
        fields = rec.setdefault('issue', {}).setdefault('fields', {})
        when = _fmt_now(rec.get('updated'), minutes_ago, at)
        old = fields.get('status') or {}
        new = _STATUSES[1] if old.get('name') == _STATUSES[0]['name'] else _STATUSES[0]
        hist = rec.setdefault('histories', [])
        author = (hist[-1].get('author') if hist else None) or {
            "accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Sim User", "active": True}
        hist.append({"id": str(ds.new_history_id()), "author": author, "created": when,
                     "items": [{"field": "status", "fieldtype": "jira", "fieldId": "status",
                                "from": old.get('id'), "fromString": old.get('name'),
                                "to": new['id'], "toString": new['name']}]})
        status = dict(old)
        status.update(new)
        fields['status'] = status
        fields['updated'] = when
        rec['updated'] = when
        ds.replace(e, rec)
        done.append(e.key)
        sim.webhooks.emit('jira:issue_updated', rec, {"id": hist[-1]["id"], "items": hist[-1]["items"]},
                          flow=flow)
    return done


def edit_items(sim, body):
    """Edit and delete an issue's comments or worklogs, as a user would; the
    issue's `updated` moves (touch), as Jira's does."""
    kind = body.get('kind')
    if kind not in ('comments', 'worklogs'):
        raise ValueError("kind must be 'comments' or 'worklogs'")
    e = sim.dataset.find(body.get('key', ''))
    if e is None:
        raise ValueError("no issue %s" % body.get('key'))
    rec = sim.dataset.record(e)
    gone = set(str(x) for x in body.get('delete') or [])
    edits = {str(k): v for k, v in (body.get('edit') or {}).items()}
    out = []
    for it in rec.get(kind) or []:
        if it['id'] in gone:
            continue
        if it['id'] in edits:
            text = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
                {"type": "text", "text": edits[it['id']]}]}]}
            it['body' if kind == 'comments' else 'comment'] = text
            it['updated'] = _fmt_now(it.get('updated'), 0)
        out.append(it)
    rec[kind] = out
    sim.dataset.replace(e, rec)
    touch(sim, [e.key], 0)
    return {"kept": len(out)}
def burst(sim, body):
    """`times` edits of each of `keys`, round robin (one webhook each), as a
    bulk change or a busy board makes them."""
    keys, done = body.get('keys') or [], 0
    for _ in range(int(body.get('times', 1))):
        done += len(touch(sim, keys, 0, flow=body.get('flow')))
    return done


def webhooks(sim, method, path, body):
    """/__sim/webhooks: GET the registrations and delivery counts, POST one
    (as an admin pasting it into Jira's page); /__sim/webhooks/config: the
    deliveries' behaviour (duplicates, shuffle, flow)."""
    hooks = sim.webhooks
    if path == '/__sim/webhooks' and method == 'POST':
        return 200, hooks.register(body)
    if path == '/__sim/webhooks' and method == 'GET':
        return 200, dict(hooks.snapshot(), webhooks=hooks.listing())
    if path == '/__sim/webhooks/config' and method == 'POST':
        for k in ('duplicates', 'shuffle', 'flow'):
            if k in body:
                hooks.config[k] = body[k]
        return 200, hooks.snapshot()
    return 404, {"error": "unknown control endpoint %s %s" % (method, path)}


def delete(sim, e):
    """Delete an issue; its webhook (the issue as it was) goes out after."""
    rec = sim.dataset.record(e)
    sim.dataset.delete(e)
    sim.webhooks.emit('jira:issue_deleted', rec)


def each_issue(sim, body, action):
    """action(entry) for each issue of body["keys"] the dataset has; the keys done."""
    done = []
    for k in body.get('keys') or []:
        e = sim.dataset.find(k)
        if e is not None:
            action(e)
            done.append(e.key)
    return done


def handle(sim, method, path, body):
    """-> (status, json).  Raises ValueError on a bad request."""
    if path == '/__sim/health':
        return 200, {"ok": True, "issues": len(sim.dataset.by_id), "flavor": sim.flavor}
    if path == '/__sim/stats' and method == 'GET':
        return 200, sim.stats.snapshot()
    if path == '/__sim/reset-stats' and method == 'POST':
        sim.stats.reset()
        return 200, {"ok": True}
    if path == '/__sim/touch' and method == 'POST':
        keys = body.get('keys') or []
        done = touch(sim, keys, float(body.get('minutes_ago', 0)), body.get('at'))
        return 200, {"touched": done}
    if path == '/__sim/corrupt' and method == 'POST':
        # Bad bytes in issues' summaries (and so in every page that carries
        # them): "utf8" appends the byte 0xFF, "surrogate" the escape \ud83d
        # with no low surrogate after it. Their `updated` does not move.
        # "clean" takes them out again (a shared simulator's later cases).
        kind = body.get('kind', 'utf8')
        if kind not in ('utf8', 'surrogate', 'clean'):
            raise ValueError("kind must be 'utf8', 'surrogate' or 'clean'")
        done = []
        for k in body.get('keys') or []:
            e = sim.dataset.find(k)
            if e is None:
                continue
            rec = sim.dataset.record(e)
            fields = rec.setdefault('issue', {}).setdefault('fields', {})
            text = fields.get('summary') or ''
            if kind == 'clean':
                fields['summary'] = text.replace('\udcff', '').replace('\ud83d', '')
            else:
                fields['summary'] = text + ('\udcff' if kind == 'utf8' else '\ud83d')
            sim.dataset.replace(e, rec)
            done.append(e.key)
        return 200, {"corrupted": done}
    if path == '/__sim/items' and method == 'POST':
        return 200, edit_items(sim, body)
    if path == '/__sim/set-field' and method == 'POST':
        # One field of issues set to any JSON value (an ill-typed issue:
        # {"field": "issuetype", "value": []}); `updated` does not move, as
        # with data Jira fixed without an edit. "value" absent removes it.
        field = body.get('field')
        if not isinstance(field, str) or not field:
            raise ValueError("field must be a field id")

        def set_field(e):
            rec = sim.dataset.record(e)
            fields = rec.setdefault('issue', {}).setdefault('fields', {})
            if 'value' in body:
                fields[field] = body['value']
            else:
                fields.pop(field, None)
            sim.dataset.replace(e, rec)
        return 200, {"set": each_issue(sim, body, set_field)}
    if path == '/__sim/delete' and method == 'POST':
        return 200, {"deleted": each_issue(sim, body, lambda e: delete(sim, e))}
    if path == '/__sim/burst' and method == 'POST':
        return 200, {"edits": burst(sim, body)}
    if path.startswith('/__sim/webhooks'):
        return webhooks(sim, method, path, body)
    if path == '/__sim/hold' and method == 'POST':
        # Issues taken out of every answer, as if not created yet, until
        # /__sim/release brings them back (a creation in the middle of a run).
        return 200, {"held": each_issue(sim, body, sim.dataset.hold)}
    if path == '/__sim/release' and method == 'POST':
        if body.get('after_listing'):
            # once the next ids-only listing (a client's census) has
            # answered its last page: created between the census and the
            # pages that read the bodies
            sim.dataset.release_after_listing = True
            return 200, {"armed": sorted(e.key for e in sim.dataset.held.values())}
        return 200, {"released": sim.dataset.release()}
    if path == '/__sim/faults':
        if method == 'POST':
            sim.faults.update(body)
        return 200, sim.faults.snapshot()
    return 404, {"error": "unknown control endpoint %s %s" % (method, path)}
