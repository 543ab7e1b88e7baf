"""Dev-status data for generated issues, and the "Development" field strings that carry it.

The string forms copy the recorded ones (fixtures/jira-real: the issues CSV for Cloud,
server_development_field_values_jqtr.txt for Server/DC); see docs/jira.md, 'The Development field'.
"""
import json

from devstatus import empty_summary

INSTANCES = {
    'GitHub': ('GitHub', 'https://github.com'),
    'GitLab': ('GitLab', 'https://gitlab.com'),
    'bitbucket': ('Bitbucket Cloud', 'https://bitbucket.org'),
    'stash': ('Bitbucket Server', 'https://stash.example.com'),
}


def _j(o):
    return json.dumps(o, separators=(',', ':'), ensure_ascii=False)


def make_dev(r, key, when, app):
    """Random dev data for one issue: (summary dict, detail dict, counts)."""
    name, base = INSTANCES[app]
    ncommits = r.randint(1, 12)
    npr = r.randint(0, 4)
    nbr = r.randint(0, 3)
    pr_state = r.choice(['MERGED', 'OPEN', 'DECLINED']) if npr else 'OPEN'
    s = empty_summary()
    s['repository'] = {"overall": {"count": ncommits, "lastUpdated": when},
                       "byInstanceType": {app: {"count": 1, "name": name}}}
    if npr:
        s['pullrequest'] = {"overall": {"count": npr, "lastUpdated": when, "stateCount": npr,
                                        "state": pr_state, "open": pr_state == 'OPEN'},
                            "byInstanceType": {app: {"count": npr, "name": name}}}
    if nbr:
        s['branch'] = {"overall": {"count": nbr, "lastUpdated": when},
                       "byInstanceType": {app: {"count": nbr, "name": name}}}
    inst = {"name": name, "baseUrl": base, "type": app, "id": "%s-jira-connect" % app.lower(),
            "typeName": name, "singleInstance": True}
    repo = "%s/acme/%s" % (base, key.split('-')[0].lower())
    author = {"name": "Dev %d" % r.randint(1, 30),
              "avatar": "https://avatars.example.com/u/%d" % r.randint(1, 30)}
    commits = []
    for c in range(ncommits):
        sha = '%040x' % r.getrandbits(160)
        commits.append({"id": sha, "displayId": sha[:8], "authorTimestamp": when,
                        "url": "%s/-/commit/%s" % (repo, sha), "author": author,
                        "fileCount": r.randint(1, 20), "merge": False,
                        "message": "%s: change %d\n" % (key, c),
                        "files": [{"path": "src/mod%d.c" % c,
                                   "url": "%s/-/blob/%s/src/mod%d.c" % (repo, sha, c),
                                   "changeType": "MODIFIED", "linesAdded": r.randint(1, 90),
                                   "linesRemoved": r.randint(0, 60)}]})
    repo_obj = {"name": key.split('-')[0].lower(), "avatar": "", "url": repo}
    prs = [{"author": author, "id": "#%d" % (100 + i), "name": "%s change %d" % (key, i),
            "commentCount": r.randint(0, 5),
            "source": {"branch": "feature/%s-%d" % (key, i), "url": repo},
            "destination": {"branch": "main", "url": repo}, "reviewers": [],
            "status": pr_state, "url": "%s/pull/%d" % (repo, 100 + i), "lastUpdate": when,
            "repositoryId": "1", "repositoryName": repo_obj["name"], "repositoryUrl": repo}
           for i in range(npr)]
    branches = [{"name": "feature/%s-%d" % (key, i), "url": repo,
                 "createPullRequestUrl": repo + "/compare", "repository": repo_obj,
                 "lastCommit": commits[-1] if commits else None} for i in range(nbr)]
    a = app.lower()
    detail = {
        a + "|repository": {"errors": [], "detail": [
            {"repositories": [dict(repo_obj, commits=commits)], "_instance": inst}]},
        a + "|pullrequest": {"errors": [], "detail": [
            {"branches": [], "pullRequests": prs, "repositories": [], "_instance": inst}]},
        a + "|branch": {"errors": [], "detail": [
            {"branches": branches, "pullRequests": [], "repositories": [], "_instance": inst}]},
    }
    return s, detail, (ncommits, npr, pr_state)


def cloud_field(r, s, counts, app):
    """One of the Cloud string forms of the Development field."""
    ncommits, npr, state = counts
    form = r.random()
    if npr and form < 0.45:
        part = {"pullrequest": dict(s['pullrequest'])}
        part['pullrequest']['overall'] = dict(part['pullrequest']['overall'], dataType='pullrequest')
        return ('{pullrequest={dataType=pullrequest, state=%s, stateCount=%d}, json=%s}'
                % (state, npr, _j({"cachedValue": {"errors": [], "summary": part},
                                   "isStale": True})))
    if npr and form < 0.6:
        return ('PullRequestOverallDetails{openCount=%d, mergedCount=%d, declinedCount=%d}'
                % (npr if state == 'OPEN' else 0, npr if state == 'MERGED' else 0,
                   npr if state == 'DECLINED' else 0))
    part = {"repository": {"overall": dict(s['repository']['overall'], dataType='repository'),
                           "byInstanceType": s['repository']['byInstanceType']}}
    return ('{repository={count=%d, dataType=repository}, json=%s}'
            % (ncommits, _j({"cachedValue": {"errors": [], "summary": part}, "isStale": True})))


def _hx(r):
    return '%x' % r.getrandbits(28)


def _ts(v):
    if not v:
        return 'lastUpdated=<null>,lastUpdatedTimestamp=<null>'
    return 'lastUpdated=%s,lastUpdatedTimestamp=%s' % (v, v[:-2] + ':' + v[-2:])


def _bytype(r, bt):
    if not bt:
        return '{}'
    return '{' + ', '.join(
        '%s=com.atlassian.jira.plugin.devstatus.summary.beans.ObjectByInstanceTypeBean@%s'
        '[count=%d,name=%s]' % (k, _hx(r), v['count'], v['name']) for k, v in bt.items()) + '}'


def server_field(r, s, stale=True):
    """The Server/DC form: a Java toString of the SummaryBean, then devSummaryJson=.
    Every recorded value says isStale true; stale=False gives a freshly cached one."""
    P = 'com.atlassian.jira.plugin.devstatus'
    item = P + '.rest.SummaryItemBean@%s[overall=' + P + '.summary.beans.%s@%s[%s],byInstanceType=%s]'
    pr, b, rv = s['pullrequest'], s['build'], s['review']
    de, rp, br = s['deployment-environment'], s['repository'], s['branch']
    po, bo, ro = pr['overall'], b['overall'], rv['overall']
    parts = [
        'pullrequest=' + item % (_hx(r), 'PullRequestOverallBean', _hx(r),
                                 'stateCount=%d,state=%s,count=%d,%s' % (
                                     po['stateCount'], po['state'], po['count'],
                                     _ts(po['lastUpdated'])), _bytype(r, pr['byInstanceType'])),
        'build=' + item % (_hx(r), 'BuildOverallBean', _hx(r),
                           'failedBuildCount=%d,successfulBuildCount=%d,unknownBuildCount=%d,'
                           'count=%d,%s' % (bo['failedBuildCount'], bo['successfulBuildCount'],
                                            bo['unknownBuildCount'], bo['count'],
                                            _ts(bo['lastUpdated'])),
                           _bytype(r, b['byInstanceType'])),
        'review=' + item % (_hx(r), 'ReviewsOverallBean', _hx(r),
                            'stateCount=%d,state=%s,dueDate=<null>,overDue=false,count=%d,%s' % (
                                ro['stateCount'], ro['state'] or '<null>', ro['count'],
                                _ts(ro['lastUpdated'])), _bytype(r, rv['byInstanceType'])),
        'deployment-environment=' + item % (
            _hx(r), 'DeploymentOverallBean', _hx(r),
            'topEnvironments=[],showProjects=false,successfulCount=0,count=%d,%s' % (
                de['overall']['count'], _ts(de['overall']['lastUpdated'])),
            _bytype(r, de['byInstanceType'])),
        'repository=' + item % (_hx(r), 'CommitOverallBean', _hx(r), 'count=%d,%s' % (
            rp['overall']['count'], _ts(rp['overall']['lastUpdated'])),
            _bytype(r, rp['byInstanceType'])),
        'branch=' + item % (_hx(r), 'BranchOverallBean', _hx(r), 'count=%d,%s' % (
            br['overall']['count'], _ts(br['overall']['lastUpdated'])),
            _bytype(r, br['byInstanceType'])),
    ]
    bean = '%s.rest.SummaryBean@%s[summary={%s},errors=[],configErrors=[]]' % (
        P, _hx(r), ', '.join(parts))
    js = _j({"cachedValue": {"errors": [], "configErrors": [], "summary": s}, "isStale": stale})
    return '{summaryBean=%s, devSummaryJson=%s}' % (bean, js)
