"""Checks of the arguments of the Python API, made before any C call, so that a
wrong type is a TypeError naming the argument: never a coercion (int("7"),
bool("no") would run a call on a value nobody meant), and never a value the
generated wrapper meets first."""

from __future__ import annotations

import operator
from typing import Any, List, Mapping, Optional


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise TypeError("%s must be an int, not %s" % (what, type(value).__name__))
    return operator.index(value)


def _opt_int(value: Any, what: str) -> Optional[int]:
    return None if value is None else _int(value, what)


def _flag(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):   # 0/1 as in C
        return bool(value)
    raise TypeError("%s must be a bool, not %s" % (what, type(value).__name__))


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError("%s must be a str, not %s" % (what, type(value).__name__))
    return value


def _opt_str(value: Any, what: str) -> Optional[str]:
    return None if value is None else _str(value, what)


def _callback(value: Any, what: str) -> Any:
    if value is not None and not callable(value):
        raise TypeError("%s must be callable or None, not %s" % (what, type(value).__name__))
    return value


def _keys(keys: Any, what: str = "keys") -> List[str]:
    """A str or an iterable of str (bytes are not keys: list(b"K5") is ints)."""
    if isinstance(keys, str):
        return [keys]
    if keys is None or isinstance(keys, (bytes, bytearray, memoryview, Mapping)) or \
            not hasattr(keys, "__iter__"):
        raise TypeError("%s must be a str or an iterable of str, not %s" % (what, type(keys).__name__))
    out = list(keys)
    for k in out:
        _str(k, "a project key")
    return out
