"""Integrations (jetl/integration.h): each tenant's Jira sites, stored with
their secret sealed, tested, and used by id; and the projects discovery keeps
per integration. Records are frozen dataclasses like the rest of jetl."""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Iterable, Mapping, Optional, Union

from ._args import _flag, _int, _keys, _str
from ._enums import Auth, Flavor
from ._records import _build

_FLAVOR = {"auto": Flavor.AUTO, "cloud": Flavor.CLOUD, "server": Flavor.SERVER}
_AUTH = {"basic": Auth.BASIC, "bearer": Auth.BEARER}


@dataclasses.dataclass(frozen=True)
class Integration:
    """One integration of the client's tenant (never its secret)."""

    tenant_id: int
    id: int
    name: str
    base_url: str
    flavor: str               #: "auto", "cloud" or "server"
    auth: str                 #: "basic" or "bearer"
    user: str
    active: bool
    projects: str             #: selected project keys, comma-separated ("" = every active one)
    jql: str                  #: extra JQL of its extractions ("" = none)
    concurrency: int          #: 0 = the client's
    dev_status: bool
    secret_kind: str          #: "encrypted", "env", "file" or "none"
    secret_key_id: str        #: id of the key that sealed it (a hash, not the key)
    secret_ref: str           #: the env:/file: reference, else ""
    created_at: float         #: Unix seconds
    updated_at: float


@dataclasses.dataclass(frozen=True)
class IntegrationTest:
    """What :meth:`Client.integration_test` found. ``failure`` is "" when it
    worked, else "auth" (401), "forbidden" (403), "not_found", "http",
    "tls", "dns", "unreachable", "timeout", "network", "protocol", "secret"
    or "config"."""

    ok: bool
    status: int               #: 0 or the failure's jetl status
    failure: str
    http_status: int
    flavor: int
    deployment: str           #: "Cloud", "Server", "DataCenter"
    server_version: str
    user: str
    time_zone: str
    message: str
    seconds: float


@dataclasses.dataclass(frozen=True)
class Project:
    """A project of the client's integration as discovery stored it."""

    key: str
    id: str
    name: str
    type: str
    active: bool              #: Jira still lists it
    selected: bool            #: taken by an extraction without keys


def integration(d: Mapping[str, Any]) -> Integration:
    return _build(Integration, d)


def integration_test(d: Mapping[str, Any]) -> IntegrationTest:
    return _build(IntegrationTest, d)


def project(d: Mapping[str, Any]) -> Project:
    return _build(Project, d)


def fields(name: Optional[str] = None, base_url: Optional[str] = None,
           flavor: Union[Flavor, str, None] = None, auth: Union[Auth, str, None] = None,
           user: Optional[str] = None, active: Optional[bool] = None,
           projects: Union[str, Iterable[str], None] = None, jql: Optional[str] = None,
           concurrency: Optional[int] = None, dev_status: Optional[bool] = None,
           id: Optional[int] = None) -> Dict[str, Any]:
    """The C helper's dict: only what was given (None keeps the default or
    the stored value)."""
    out: Dict[str, Any] = {}
    if id is not None:
        out["id"] = _int(id, "id")
    if name is not None:
        out["name"] = _str(name, "name")
    if base_url is not None:
        out["base_url"] = _str(base_url, "base_url")
    if flavor is not None:
        out["flavor"] = _choice(flavor, _FLAVOR, "flavor")
    if auth is not None:
        out["auth"] = _choice(auth, _AUTH, "auth")
    if user is not None:
        out["user"] = _str(user, "user")
    if active is not None:
        out["active"] = int(_flag(active, "active"))
    if projects is not None:
        out["projects"] = ",".join(_keys(projects, "projects"))
    if jql is not None:
        out["jql"] = _str(jql, "jql")
    if concurrency is not None:
        out["concurrency"] = _int(concurrency, "concurrency")
    if dev_status is not None:
        out["dev_status"] = int(_flag(dev_status, "dev_status"))
    return out


def _choice(value: Any, table: Mapping[str, int], what: str) -> int:
    if isinstance(value, str):
        if value not in table:
            raise ValueError("%s must be one of %s" % (what, ", ".join(table)))
        return int(table[value])
    return _int(value, what)
