"""Answers of the undocumented dev-status API (/rest/dev-status/{latest,1.0}/issue/...).

An issue record may carry "dev": {"summary": {...}, "detail": {"<apptype>|<datatype>": {...}}}.
The summary is the same object the Development field embeds after json=/devSummaryJson=.
Issues without dev data answer the empty shapes real Jira sends.
"""


def empty_summary():
    # shape of the empty devSummaryJson recorded from a real Jira Server
    return {
        "pullrequest": {"overall": {"count": 0, "lastUpdated": None, "stateCount": 0,
                                    "state": "OPEN", "open": True}, "byInstanceType": {}},
        "build": {"overall": {"count": 0, "lastUpdated": None, "failedBuildCount": 0,
                              "successfulBuildCount": 0, "unknownBuildCount": 0},
                  "byInstanceType": {}},
        "review": {"overall": {"count": 0, "lastUpdated": None, "stateCount": 0, "state": None,
                               "dueDate": None, "overDue": False, "completed": False},
                   "byInstanceType": {}},
        "deployment-environment": {"overall": {"count": 0, "lastUpdated": None,
                                               "topEnvironments": [], "showProjects": False,
                                               "successfulCount": 0}, "byInstanceType": {}},
        "repository": {"overall": {"count": 0, "lastUpdated": None}, "byInstanceType": {}},
        "branch": {"overall": {"count": 0, "lastUpdated": None}, "byInstanceType": {}},
    }


def summary_response(dev):
    s = (dev or {}).get('summary')
    if not s:
        s = empty_summary()
    return {"errors": [], "configErrors": [], "summary": s}


def detail_response(dev, app_type, data_type):
    detail = (dev or {}).get('detail') or {}
    want = '%s|%s' % ((app_type or '').lower(), (data_type or '').lower())
    for k, v in detail.items():
        if k.lower() == want:
            return v
    if app_type and data_type:
        # Jira answers a known instance with empty lists; an unknown one with no detail
        return {"errors": [], "detail": []}
    return None
