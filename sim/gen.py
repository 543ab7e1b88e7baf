#!/usr/bin/python3
"""Generate a synthetic Jira dataset shaped like the recorded responses (fixtures/jira-real).

  gen.py --out DIR --projects KEY:N[,KEY:N...] [--seed 1] [--histories 3-20]
         [--long-every 50] [--flavor cloud|server] [--start-id 10000]

Deterministic from --seed.  Users, statuses and field definitions are built once and
shared between issues, which keeps 100k issues well under two minutes.
"""
import argparse
import datetime
import json
import os
import random
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import devfield  # noqa: E402
import parts  # noqa: E402

SITE = 'https://acme.atlassian.net'
OFFSETS = ['+0800', '-0700', '+0530', '+0000']
APPS = ['GitHub', 'GitLab', 'bitbucket', 'stash']

SUMMARIES = ['Fix login timeout on slow networks', 'Add CSV export to reports',
             '变异系数、生产率的四象限图', '\u200b开发封装象限图组件', 'Refactor the billing service',
             'ユーザー設定画面の改善', 'Crash when the cache is empty', '优化查询性能',
             'Update dependencies for security', 'Dashboard shows wrong totals',
             '支持多语言界面', 'Improve onboarding emails']
WORDS = ('the service should handle retries and report progress while the queue drains '
         'slowly under load 数据 同步 报告 of every project').split()

# (id suffix, name, schema type, items, custom type key, kind)
CUSTOM = [
    (10000, 'Development', 'any', None, 'com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf', 'dev'),
    (10014, 'Epic Link', 'any', None, 'com.pyxis.greenhopper.jira:gh-epic-link', 'epic'),
    (10016, 'Story point estimate', 'number', None, 'com.pyxis.greenhopper.jira:jsw-story-points', 'points'),
    (10019, 'Rank', 'any', None, 'com.pyxis.greenhopper.jira:gh-lexo-rank', 'rank'),
    (10020, 'Sprint', 'array', 'json', 'com.pyxis.greenhopper.jira:gh-sprint', 'sprint'),
    (10021, 'Flagged', 'array', 'option', 'com.atlassian.jira.plugin.system.customfieldtypes:multicheckboxes', 'flag'),
    (10026, 'Story Points', 'number', None, 'com.atlassian.jira.plugin.system.customfieldtypes:float', 'number'),
    (10030, 'Severity', 'option', None, 'com.atlassian.jira.plugin.system.customfieldtypes:select', 'option'),
    (10031, 'Platforms', 'array', 'option', 'com.atlassian.jira.plugin.system.customfieldtypes:multiselect', 'options'),
    (10032, 'QA Owner', 'user', None, 'com.atlassian.jira.plugin.system.customfieldtypes:userpicker', 'user'),
    (10033, 'Business Value', 'number', None, 'com.atlassian.jira.plugin.system.customfieldtypes:float', 'number'),
    (10034, 'Start date', 'date', None, 'com.atlassian.jira.plugin.system.customfieldtypes:datepicker', 'date'),
    (10035, 'Deployed at', 'datetime', None, 'com.atlassian.jira.plugin.system.customfieldtypes:datetime', 'datetime'),
    (10036, 'Customer', 'string', None, 'com.atlassian.jira.plugin.system.customfieldtypes:textfield', 'string'),
    (10037, 'gitBranch', 'any', None, 'com.xiplink.jira.git.jira_git_plugin:gitbranches', 'any'),
    (10038, 'Reviewers', 'array', 'user', 'com.atlassian.jira.plugin.system.customfieldtypes:multiuserpicker', 'users'),
    (10039, 'Acceptance criteria', 'string', None, 'com.atlassian.jira.plugin.system.customfieldtypes:textarea', 'text'),
    (10040, '环境', 'option', None, 'com.atlassian.jira.plugin.system.customfieldtypes:radiobuttons', 'option'),
    (10041, 'Team labels', 'array', 'string', 'com.atlassian.jira.plugin.system.customfieldtypes:labels', 'labels'),
    (10042, 'Design link', 'string', None, 'com.atlassian.jira.plugin.system.customfieldtypes:url', 'url'),
    (10043, 'Target end', 'date', None, 'com.atlassian.jpo:jpo-custom-field-baseline-end', 'date'),
    (10044, 'Original story points', 'number', None, 'com.atlassian.jpo:jpo-custom-field-original-story-points', 'number'),
    (10045, 'cu用户单选', 'user', None, 'com.atlassian.jira.plugin.system.customfieldtypes:userpicker', 'user'),
    (10046, 'Root cause', 'option', None, 'com.atlassian.jira.plugin.system.customfieldtypes:select', 'option'),
    (10047, 'Components affected', 'array', 'option', 'com.atlassian.jira.plugin.system.customfieldtypes:multiselect', 'options'),
    (10048, 'Release note', 'string', None, 'com.atlassian.jira.plugin.system.customfieldtypes:textarea', 'text'),
    (10049, 'Effort (days)', 'number', None, 'com.atlassian.jira.plugin.system.customfieldtypes:float', 'number'),
    (10050, 'Due window', 'datetime', None, 'com.atlassian.jira.plugin.system.customfieldtypes:datetime', 'datetime'),
    (10051, 'Team', 'any', None, 'com.atlassian.teams:rm-teams-custom-field-team', 'any'),
    (10052, 'Request type', 'any', None, 'com.atlassian.servicedesk:vp-origin', 'null'),
    (10053, 'Approvers', 'array', 'user', 'com.atlassian.jira.plugin.system.customfieldtypes:multiuserpicker', 'users'),
]

SYSTEM_FIELDS = [
    ('summary', 'Summary', 'string', None), ('description', 'Description', 'string', None),
    ('issuetype', 'Issue Type', 'issuetype', None), ('status', 'Status', 'status', None),
    ('priority', 'Priority', 'priority', None), ('project', 'Project', 'project', None),
    ('assignee', 'Assignee', 'user', None), ('reporter', 'Reporter', 'user', None),
    ('creator', 'Creator', 'user', None), ('created', 'Created', 'datetime', None),
    ('updated', 'Updated', 'datetime', None), ('resolution', 'Resolution', 'resolution', None),
    ('resolutiondate', 'Resolved', 'datetime', None), ('labels', 'Labels', 'array', 'string'),
    ('components', 'Component/s', 'array', 'component'),
    ('fixVersions', 'Fix Version/s', 'array', 'version'),
    ('versions', 'Affects versions', 'array', 'version'),
    ('parent', 'Parent', 'issuelink', None), ('subtasks', 'Sub-tasks', 'array', 'issuelinks'),
    ('issuelinks', 'Linked Issues', 'array', 'issuelinks'),
    ('timetracking', 'Time tracking', 'timetracking', None),
    ('statuscategorychangedate', 'Status Category Changed', 'datetime', None),
    ('duedate', 'Due date', 'date', None), ('watches', 'Watchers', 'watches', None),
    ('votes', 'Votes', 'votes', None), ('comment', 'Comment', 'comments-page', None),
]

CATS = {'new': {"self": SITE + "/rest/api/2/statuscategory/2", "id": 2, "key": "new",
                "colorName": "blue-gray", "name": "To Do"},
        'indeterminate': {"self": SITE + "/rest/api/2/statuscategory/4", "id": 4,
                          "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
        'done': {"self": SITE + "/rest/api/2/statuscategory/3", "id": 3, "key": "done",
                 "colorName": "green", "name": "Done"}}
STATUSES = [("10000", "To Do", 'new'), ("10001", "待办", 'new'),
            ("3", "In Progress", 'indeterminate'), ("10067", "处理中", 'indeterminate'),
            ("10002", "In Review", 'indeterminate'), ("10068", "已完成", 'done'),
            ("10003", "Done", 'done')]


def build_fields():
    out = []
    for fid, name, typ, items in SYSTEM_FIELDS:
        sch = {"type": typ, "system": fid}
        if items:
            sch["items"] = items
        out.append({"id": fid, "key": fid, "name": name, "custom": False, "orderable": True,
                    "navigable": fid not in ('comment',), "searchable": True,
                    "clauseNames": [fid], "schema": sch})
    for n, name, typ, items, ctype, kind in CUSTOM:
        sch = {"type": typ, "custom": ctype, "customId": n}
        if items:
            sch["items"] = items
        out.append({"id": "customfield_%d" % n, "key": "customfield_%d" % n, "name": name,
                    "untranslatedName": name, "custom": True, "orderable": True,
                    "navigable": True, "searchable": True,
                    "clauseNames": ["cf[%d]" % n, name], "schema": sch})
    return out


class Gen:
    def __init__(self, args):
        self.flavor = args.flavor
        self.seed = args.seed
        lo, hi = (int(x) for x in args.histories.split('-'))
        self.hist_range = (lo, hi)
        self.long_every = args.long_every
        # share of Development fields whose summary is fresh (isStale false); drawn
        # apart from the main sequence so that 0 leaves a dataset as it was
        self.fresh_dev = getattr(args, 'fresh_dev', 0.0) or 0.0
        r = random.Random(args.seed)
        self.users = [self.make_user(r, i) for i in range(40)]
        self.statuses = [{"self": SITE + "/rest/api/2/status/" + sid, "description": "",
                          "iconUrl": SITE + "/", "name": name, "id": sid,
                          "statusCategory": CATS[cat]} for sid, name, cat in STATUSES]
        self.types = [{"self": SITE + "/rest/api/2/issuetype/%s" % t, "id": t, "name": n,
                       "subtask": st, "avatarId": 10315, "hierarchyLevel": lvl,
                       "iconUrl": SITE + "/rest/api/2/universal_avatar/view/type/issuetype/"
                       "avatar/10315?size=medium", "description": d}
                      for t, n, st, lvl, d in [("10001", "故事", False, 0, "表述为用户目标的功能。"),
                                               ("10004", "Bug", False, 0, "A problem."),
                                               ("10002", "Task", False, 0, "A task."),
                                               ("10000", "Epic", False, 1, "A big one."),
                                               ("10003", "Sub-task", True, -1, "Part of a task.")]]
        self.prios = [{"self": SITE + "/rest/api/2/priority/%d" % i, "id": str(i), "name": n,
                       "iconUrl": SITE + "/images/icons/priorities/%s.svg" % n.lower()}
                      for i, n in enumerate(['Highest', 'High', 'Medium', 'Low'], 1)]
        self.options = [{"self": SITE + "/rest/api/2/customFieldOption/%d" % (10100 + i),
                         "value": v, "id": str(10100 + i)}
                        for i, v in enumerate(['Critical', 'Major', 'Minor', 'iOS', 'Android',
                                               'Web', '生产', '测试', 'Config', 'Code'])]
        self.hist_id = 100000
        self.sprints = {}

    def make_user(self, r, i):
        aid = '%024x' % r.getrandbits(96)
        name = ['Ann Lee', '张伟', 'Bob Stone', 'Priya Rao', 'Keon Amini', 'Runjuu'][i % 6] + \
            ('' if i < 6 else ' %d' % i)
        av = {s: "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/%s/%s"
              % (aid, s[:2]) for s in ("48x48", "24x24", "16x16", "32x32")}
        if self.flavor == 'server':
            login = 'user%d' % i
            return {"self": "https://jira.acme.local/rest/api/2/user?username=" + login,
                    "name": login, "key": "JIRAUSER%d" % (10000 + i),
                    "emailAddress": login + "@acme.local", "avatarUrls": av,
                    "displayName": name, "active": i % 9 != 0, "timeZone": "Asia/Shanghai"}
        return {"self": SITE + "/rest/api/2/user?accountId=" + aid, "accountId": aid,
                "emailAddress": "user%d@acme.dev" % i, "avatarUrls": av, "displayName": name,
                "active": i % 9 != 0, "timeZone": "Asia/Shanghai", "accountType": "atlassian"}

    @staticmethod
    def ts(ms, off):
        sign = -1 if off[0] == '-' else 1
        delta = sign * (int(off[1:3]) * 3600 + int(off[3:5]) * 60)
        t = datetime.datetime.utcfromtimestamp(ms / 1000.0 + delta)
        return t.strftime('%Y-%m-%dT%H:%M:%S.') + '%03d' % (ms % 1000) + off

    def sprint(self, pkey, n):
        s = self.sprints.get((pkey, n))
        if s is None:
            start = datetime.datetime(2023, 1, 2) + datetime.timedelta(days=14 * n)
            end = start + datetime.timedelta(days=14)
            st = 'closed' if n < 40 else ('active' if n == 40 else 'future')
            if self.flavor == 'server':
                s = ('com.atlassian.greenhopper.service.sprint.Sprint@%x[id=%d,rapidViewId=%d,'
                     'state=%s,name=%s Sprint %d,startDate=%s,endDate=%s,completeDate=%s,'
                     'sequence=%d]' % (zlib.crc32(('%s%d' % (pkey, n)).encode()) & 0xffffff, n + 1, 8, st.upper(), pkey,
                                      n + 1, start.strftime('%Y-%m-%dT%H:%M:%S.000+08:00'),
                                      end.strftime('%Y-%m-%dT%H:%M:%S.000+08:00'),
                                      end.strftime('%Y-%m-%dT%H:%M:%S.000+08:00')
                                      if st == 'closed' else '<null>', n + 1))
            else:
                s = {"id": n + 1, "name": "%s Sprint %d" % (pkey, n + 1), "state": st,
                     "boardId": 8, "goal": "", "startDate": start.strftime('%Y-%m-%dT%H:%M:%S.000Z'),
                     "endDate": end.strftime('%Y-%m-%dT%H:%M:%S.000Z')}
                if st == 'closed':
                    s["completeDate"] = end.strftime('%Y-%m-%dT%H:%M:%S.000Z')
            self.sprints[(pkey, n)] = s
        return s

    def text(self, r, n):
        return ' '.join(r.choice(WORDS) for _ in range(n))

    def description(self, r):
        t = self.text(r, r.randint(20, 60)) + ' \u200b'
        if r.random() < 0.03:
            t += ' nul:\u0000 end'
        if self.flavor == 'server':
            return 'h2. Context\n' + t + '\n* step one\n* step two'
        return {"type": "doc", "version": 1, "content": [
            {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Context"}]},
            {"type": "paragraph", "content": [{"type": "text", "text": t}]},
            {"type": "bulletList", "content": [
                {"type": "listItem", "content": [{"type": "paragraph", "content": [
                    {"type": "text", "text": "step %d" % i}]}]} for i in (1, 2)]}]}

    def custom_value(self, r, kind, pkey, epic_key, when_ms, off):
        if kind == 'null' or r.random() < 0.3:
            return None
        if kind == 'epic':
            return epic_key
        if kind in ('points', 'number'):
            return float(r.choice([1, 2, 3, 5, 8, 13, 0.5]))
        if kind == 'rank':
            return '0|i%05x:' % r.getrandbits(20)
        if kind == 'sprint':
            return [self.sprint(pkey, r.randint(0, 42)) for _ in range(r.randint(1, 2))]
        if kind == 'flag':
            return [{"self": SITE + "/rest/api/2/customFieldOption/10019", "value": "Impediment",
                     "id": "10019"}]
        if kind == 'option':
            return r.choice(self.options)
        if kind == 'options':
            return r.sample(self.options, r.randint(1, 3))
        if kind == 'user':
            return r.choice(self.users)
        if kind == 'users':
            return r.sample(self.users, r.randint(1, 2))
        if kind == 'date':
            return self.ts(when_ms, off)[:10]
        if kind == 'datetime':
            return self.ts(when_ms + 86400000, off)
        if kind in ('string', 'url'):
            return 'https://design.acme.dev/%d' % r.randint(1, 999) if kind == 'url' \
                else self.text(r, 3)
        if kind == 'text':
            return self.text(r, r.randint(5, 25))
        if kind == 'labels':
            return r.sample(['backend', 'frontend', '性能', 'infra'], 2)
        if kind == 'any':
            return {"id": str(r.randint(1, 9)), "name": "Team %d" % r.randint(1, 9)}
        return None

    def author(self, r):
        a = r.choice(self.users)
        if self.flavor == 'cloud' and r.random() < 0.05:
            a = dict(a, accountId="", emailAddress="")   # recorded: empty accountId
        return a

    def history_items(self, r, status, new_status, sprint_name):
        k = r.random()
        if k < 0.35:
            return [{"field": "status", "fieldtype": "jira", "fieldId": "status",
                     "from": status["id"], "fromString": status["name"],
                     "to": new_status["id"], "toString": new_status["name"]}]
        if k < 0.5:
            u = r.choice(self.users)
            return [{"field": "assignee", "fieldtype": "jira", "fieldId": "assignee",
                     "from": None, "fromString": None,
                     "to": u.get("accountId", u.get("name")), "toString": u["displayName"]}]
        if k < 0.6:
            return [{"field": "Sprint", "fieldtype": "custom", "fieldId": "customfield_10020",
                     "from": r.choice(["", None]), "fromString": r.choice(["", None]),
                     "to": "34", "toString": sprint_name}]
        if k < 0.7:   # links and workflow changes come without fieldId
            return [{"field": "Link", "fieldtype": "jira", "from": None, "fromString": None,
                     "to": "EE-%d" % r.randint(1, 99),
                     "toString": "This issue relates to EE-%d" % r.randint(1, 99)}]
        if k < 0.78:
            return [{"field": "Rank", "fieldtype": "custom", "fieldId": "customfield_10019",
                     "from": "", "fromString": "", "to": "", "toString": "Ranked higher"}]
        if k < 0.86:
            return [{"field": "description", "fieldtype": "jira", "fieldId": "description",
                     "from": None, "fromString": None,
                     "to": '{"id":"ari:cloud:jira:site:issuefieldvalue/1/description","version":"1"}',
                     "toString": self.text(r, 8)},
                    {"field": "timeestimate", "fieldtype": "jira", "fieldId": "timeestimate",
                     "from": "", "fromString": "", "to": "7200", "toString": "7200"}]
        if k < 0.93:
            return [{"field": "Story point estimate", "fieldtype": "custom",
                     "fieldId": "customfield_10016", "from": None, "fromString": None,
                     "to": None, "toString": str(r.choice([1, 2, 3, 5, 8]))}]
        return [{"field": "Workflow", "fieldtype": "jira", "from": "17993",
                 "fromString": "Software Simplified Workflow", "to": "21159",
                 "toString": "Software Simplified Workflow for Project"},
                {"field": "labels", "fieldtype": "jira", "fieldId": "labels", "from": None,
                 "fromString": "", "to": None, "toString": "backend"}]

    def issue(self, pkey, pid, n, total, iid, base_id, project):
        r = random.Random('%d/%s/%d' % (self.seed, pkey, n))
        off = OFFSETS[n % len(OFFSETS)]
        created = 1672531200000 + r.randint(0, 600 * 86400) * 1000 + r.randint(0, 999)
        is_long = self.long_every and n % self.long_every == 0
        nh = r.randint(250 - 130, 250) if is_long else r.randint(*self.hist_range)
        t = created
        status = self.statuses[0]
        histories = []
        sprint_name = "%s Sprint %d" % (pkey, r.randint(1, 40))
        for _ in range(nh):
            t += r.randint(60, 3 * 86400) * 1000 + r.randint(0, 999)
            new = r.choice(self.statuses)
            items = self.history_items(r, status, new, sprint_name)
            if items[0]['field'] == 'status':
                status = new
            self.hist_id += r.randint(1, 5)
            histories.append({"id": str(self.hist_id), "author": self.author(r),
                              "created": self.ts(t, off), "items": items})
        updated = t + r.randint(1, 3600) * 1000
        is_epic = n % 25 == 1
        is_sub = n % 7 == 0 and n > 1
        itype = self.types[3] if is_epic else (self.types[4] if is_sub else
                                               r.choice(self.types[:3]))
        epic_key = '%s-%d' % (pkey, ((n - 1) // 25) * 25 + 1) if not is_epic else None
        f = {
            "summary": r.choice(SUMMARIES) + ' #%d' % n,
            "description": self.description(r) if r.random() < 0.85 else None,
            "issuetype": itype, "status": status, "priority": r.choice(self.prios),
            "project": project, "assignee": r.choice(self.users) if r.random() < 0.8 else None,
            "reporter": r.choice(self.users), "creator": r.choice(self.users),
            "created": self.ts(created, off), "updated": self.ts(updated, off),
            "statuscategorychangedate": self.ts(t, off),
            "resolution": ({"self": SITE + "/rest/api/2/resolution/10000", "id": "10000",
                            "name": "完成", "description": "事务上的工作已完成。"}
                           if status["statusCategory"]["key"] == 'done' else None),
            "resolutiondate": self.ts(t, off) if status["statusCategory"]["key"] == 'done' else None,
            "labels": r.sample(['backend', 'frontend', 'urgent', '性能'], r.randint(0, 2)),
            "components": [], "fixVersions": [], "issuelinks": [], "duedate": None,
            "timetracking": {"originalEstimate": "6h", "originalEstimateSeconds": 21600}
            if r.random() < 0.3 else {},
            "watches": {"self": "%s/rest/api/2/issue/%s-%d/watchers" % (SITE, pkey, n),
                        "isWatching": False, "watchCount": r.randint(0, 4)},
            "votes": {"self": "%s/rest/api/2/issue/%s-%d/votes" % (SITE, pkey, n), "votes": 0,
                      "hasVoted": False},
            "comment": {"comments": [], "maxResults": 0, "total": 0, "startAt": 0},
            "subtasks": [],
        }
        if is_sub:
            f["parent"] = {"id": str(iid - 1), "key": "%s-%d" % (pkey, n - 1),
                           "self": "%s/rest/api/2/issue/%d" % (SITE, iid - 1),
                           "fields": {"summary": "parent of %s-%d" % (pkey, n)}}
        if (n + 1) % 7 == 0 and n + 1 <= total:
            f["subtasks"] = [{"id": str(iid + 1), "key": "%s-%d" % (pkey, n + 1),
                              "self": "%s/rest/api/2/issue/%d" % (SITE, iid + 1),
                              "fields": {"summary": "sub-task of %s-%d" % (pkey, n),
                                         "issuetype": self.types[4]}}]
        parts.add(f, SITE, self.seed, pkey, pid, n, total, iid)
        dev = None
        for cid, _name, _t, _i, _c, kind in CUSTOM:
            if kind == 'dev':
                if r.random() < 0.3:
                    app = r.choice(APPS)
                    s, detail, counts = devfield.make_dev(r, '%s-%d' % (pkey, n),
                                                          self.ts(t, off), app)
                    dev = {"summary": s, "detail": detail}
                    fresh = self.fresh_dev > 0 and random.Random(
                        '%s-%d-fresh-%d' % (pkey, n, self.seed)).random() < self.fresh_dev
                    v = devfield.server_field(r, s, stale=not fresh) if self.flavor == 'server' \
                        else devfield.cloud_field(r, s, counts, app)
                else:
                    v = '{}'
                    if self.flavor == 'server' and r.random() < 0.5:
                        v = devfield.server_field(r, devfield.empty_summary())
            else:
                v = self.custom_value(r, kind, pkey, epic_key, created, off)
            f["customfield_%d" % cid] = v
        key = '%s-%d' % (pkey, n)
        comments, worklogs = parts.items(self.seed, pkey, n, iid, self.users, created,
                                         lambda ms: self.ts(ms, off))
        f["worklog"] = parts.page([], "worklogs")   # rendered from the record's lists
        return {"id": str(iid), "key": key, "project": pkey, "created": f["created"],
                "updated": f["updated"],
                "issue": {"id": str(iid), "key": key, "fields": f},
                "histories": histories, "dev": dev, "comments": comments, "worklogs": worklogs}


def dump(o):
    return json.dumps(o, ensure_ascii=False, separators=(',', ':'))


def write_dataset(out, projects, gen, start_id=10000, meta_extra=None, merge=False):
    os.makedirs(os.path.join(out, 'issues'), exist_ok=True)
    plist = []
    iid = start_id
    for pi, (pkey, count) in enumerate(projects):
        pid = str(10000 + pi + (500 if merge else 0))
        proj = {"self": "%s/rest/api/2/project/%s" % (SITE, pid), "id": pid, "key": pkey,
                "name": "Project %s" % pkey, "projectTypeKey": "software", "simplified": False,
                "avatarUrls": {}}
        plist.append(proj)
        pref = {k: proj[k] for k in ('self', 'id', 'key', 'name', 'projectTypeKey', 'simplified',
                                     'avatarUrls')}
        with open(os.path.join(out, 'issues', pkey + '.jsonl'), 'w', encoding='utf-8') as fh:
            for n in range(1, count + 1):
                rec = gen.issue(pkey, pid, n, count, iid, start_id, pref)
                fh.write(dump(rec) + '\n')
                iid += 1
    return plist, iid


def merge_meta(out, plist, fields, meta):
    """Add projects/fields to an existing dataset (used with --merge-into)."""
    def load(name, default):
        p = os.path.join(out, name)
        return json.load(open(p, encoding='utf-8')) if os.path.exists(p) else default
    projects = [p for p in load('projects.json', []) if p['key'] not in {q['key'] for q in plist}]
    have = {f['id'] for f in load('fields.json', [])}
    allf = load('fields.json', []) + [f for f in fields if f['id'] not in have]
    old = load('meta.json', {})
    old.update({k: v for k, v in meta.items() if k not in old or k == 'maxHistoryId'})
    old['maxHistoryId'] = max(old.get('maxHistoryId', 0), meta.get('maxHistoryId', 0))
    for name, obj in (('projects.json', projects + plist), ('fields.json', allf),
                      ('meta.json', old)):
        with open(os.path.join(out, name), 'w', encoding='utf-8') as f:
            json.dump(obj, f, ensure_ascii=False, indent=1)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    p.add_argument('--out', required=True)
    p.add_argument('--projects', required=True, help='KEY:N[,KEY:N...]')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--histories', default='3-20')
    p.add_argument('--long-every', type=int, default=50)
    p.add_argument('--flavor', choices=['cloud', 'server'], default='cloud')
    p.add_argument('--start-id', type=int, default=100000,
                   help='first issue id (keep clear of other datasets merged in the same dir)')
    p.add_argument('--user-tz', default='Asia/Shanghai')
    p.add_argument('--fresh-dev', type=float, default=0.0,
                   help='share of Server Development fields with a fresh summary (isStale false)')
    args = p.parse_args(argv)
    projects = []
    for part in args.projects.split(','):
        k, _, n = part.partition(':')
        projects.append((k.strip().upper(), int(n or 10)))
    gen = Gen(args)
    # History ids are global in Jira: continue above what the directory
    # already holds (e.g. the recorded fixtures), never reuse one.
    try:
        with open(os.path.join(args.out, 'meta.json')) as f:
            gen.hist_id = max(gen.hist_id, int(json.load(f).get('maxHistoryId', 0)) + 1)
    except (OSError, ValueError):
        pass
    plist, _ = write_dataset(args.out, projects, gen, args.start_id)
    meta = {"flavor": args.flavor, "baseUrl": SITE, "timeZone": args.user_tz,
            "deploymentType": "Cloud" if args.flavor == 'cloud' else "Server",
            "maxHistoryId": gen.hist_id, "generator": "gen.py seed=%d" % args.seed}
    merge_meta(args.out, plist, build_fields(), meta)
    return 0


if __name__ == '__main__':
    sys.exit(main())
