"""Every public function and method of the Python binding, called with values
of the wrong type and with None: each call must raise TypeError or ValueError
(jetl.InvalidArgumentError is a ValueError), never run, never crash.

A script, not a unittest module: a crash of the interpreter (the generated
wrapper freeing what it never set) would take the test runner with it, so
tests/faults/test_holes_front.py runs it in a child process and reads its exit
status. Before each call it writes the call to stderr, so the last line names
the call that crashed. Exits 0 when every call raised as it should, 1 with the
list of those that did not.

The wrong values come from Hypothesis (python3-hypothesis): values of every
builtin kind and nesting, filtered by the parameter's annotation so that only
values the annotation rejects are passed. The parameters and their
annotations are read from the functions themselves (typing.get_type_hints),
so a method added later is swept without a change here.

    PYTHONPATH=BUILD/bindings/python python3 wrong_types.py DSN
"""
import asyncio
import atexit
import collections.abc
import enum
import inspect
import os
import shutil
import sys
import tempfile
import typing

# Hypothesis keeps a cache in ./.hypothesis (even without its example
# database): in a directory of this run's own, never in the checkout.
if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = tempfile.mkdtemp(prefix="jetl-hypothesis-")
    atexit.register(shutil.rmtree, os.environ["HYPOTHESIS_STORAGE_DIRECTORY"], True)

from hypothesis import HealthCheck, example, given, settings, strategies as st

import jetl
from jetl import _integration

# Arguments of the right type, for the parameters not under test: each call
# changes one parameter. A call that got past the checks would meet a Jira
# nobody listens on (port 9) and fail with a jetl.Error, which is reported.
GOOD = {
    "key": "K5", "keys": ["K5"], "raw_id": 1, "job_id": 1, "limit": 1, "id": 1,
    "field_id": "customfield_10016", "slot": 1, "name": "n", "base_url": "http://127.0.0.1:9",
    "old_key": "k" * 64, "status": -1, "phase": 1, "db": None, "secret": None,
}
ACCEPTED = (TypeError, ValueError)
EXAMPLES = 8
# Tried for every parameter before Hypothesis's draws (those the annotation
# rejects): the values that crashed the interpreter in issue 25
# (extract_project(123), (b"K5"), (["K5"])) and the coercions int()/bool()
# would have accepted.
ALWAYS = (None, 123, b"K5", ["K5"], 1.5, "7", "no", object())

anything = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats() | st.text(max_size=8)
    | st.binary(max_size=8) | st.just(object()) | st.just(lambda *a: None) | st.just(Ellipsis)
    | st.sampled_from([jetl.Status.EAUTH, jetl.JobStatus.RUNNING, 1j, bytearray(b"K5")]),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=3), inner, max_size=2) | st.frozensets(st.integers(0, 3)),
    max_leaves=6)


def accepts(hint, value):
    """Whether the annotation admits the value (what the test must not pass)."""
    origin = typing.get_origin(hint)
    if hint is typing.Any:
        return True
    if hint is type(None):
        return value is None
    if origin is typing.Union:
        return any(accepts(h, value) for h in typing.get_args(hint))
    if origin in (collections.abc.Iterable, collections.abc.Sequence):
        if isinstance(value, (str, bytes, bytearray)) or not isinstance(value, collections.abc.Iterable):
            return isinstance(value, str)
        (inner,) = typing.get_args(hint)
        return all(accepts(inner, v) for v in value)
    if origin is collections.abc.Callable or hint is collections.abc.Callable:
        return callable(value)
    if hint is bool:
        return isinstance(value, int)            # True/False and C's 0/1
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type) and issubclass(hint, enum.IntEnum):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    raise AssertionError("no rule for annotation %r" % (hint,))


def targets(client):
    """(name, callable, {param: annotation}, required params) of every public
    function of jetl and every public method of a Client."""
    out = []
    for name in jetl.__all__:
        f = getattr(jetl, name)
        if inspect.isfunction(f):
            out.append(("jetl." + name, f))
    for name, _ in inspect.getmembers(jetl.Client, inspect.isfunction):
        if not name.startswith("_"):
            out.append(("Client." + name, getattr(client, name)))
    # What a **kwargs takes: open's parameters for aopen, the integration
    # fields for integration_add/update.
    kwargs_of = {"jetl.aopen": typing.get_type_hints(jetl.open),
                 "Client.integration_add": typing.get_type_hints(_integration.fields),
                 "Client.integration_update": typing.get_type_hints(_integration.fields)}
    for name, f in out:
        hints = typing.get_type_hints(f)
        hints.pop("return", None)
        sig = inspect.signature(f)
        if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
            hints = {k: v for k, v in hints.items() if v is not typing.Any}
            hints.update({k: v for k, v in kwargs_of[name].items()
                          if k not in sig.parameters and k != "return"})
        required = [p.name for p in sig.parameters.values()
                    if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        yield name, f, hints, required


def call(name, f, kwargs):
    sys.stderr.write("call %s(%s)\n" % (name, ", ".join("%s=%r" % kv for kv in kwargs.items())))
    sys.stderr.flush()
    r = f(**kwargs)
    if inspect.iscoroutine(r):
        r = asyncio.run(r)
    return r


def example_all(values):
    """@example for each value."""
    def deco(f):
        for v in values:
            f = example(v)(f)
        return f
    return deco


def check(name, f, param, hint, base, failures, counter):
    """Hypothesis draws wrong values for one parameter; each call must raise."""
    @settings(max_examples=EXAMPLES, database=None, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.one_of(st.none(), anything).filter(lambda v: not accepts(hint, v)))
    @example_all([v for v in ALWAYS if not accepts(hint, v)])
    def run(value):
        counter[0] += 1
        try:
            r = call(name, f, dict(base, **{param: value}))
        except ACCEPTED:
            return
        except Exception as e:   # noqa: BLE001 - reported, not raised
            failures.append("%s(%s=%r): %s: %s" % (name, param, value, type(e).__name__, e))
            return
        failures.append("%s(%s=%r) ran and returned %r" % (name, param, value, r))
    try:
        run()
    except Exception as e:   # Hypothesis could draw no wrong value: say so
        failures.append("%s: %s: %s" % (name, param, e))


def sweep(client):
    failures = []
    counter = [0]
    for name, f, hints, required in targets(client):
        unknown = [p for p in required if p not in GOOD]
        if unknown:   # a new method: say what the sweep needs, do not skip it
            failures.append("%s: no right value for %s: add it to GOOD" % (name, ", ".join(unknown)))
            continue
        for param, hint in hints.items():
            base = {p: GOOD[p] for p in required if p != param}
            check(name, f, param, hint, base, failures, counter)
    return counter[0], failures


# The generated module itself (jetl.jetl_c), below the checks of the Python
# layer: there a wrong type is the wrapper's to reject, and its error path
# must free only what it set (issue 25: extract_project(ctx, 123, opts)
# freed a callback struct the options typemap had not reached). What it
# raises is not checked (a NULL string is a JETL_EINVAL there), only that
# the interpreter lives. Left out: what changes the process (py_setup,
# global_cleanup, close).
RAW_SKIP = {"py_setup", "global_init", "global_cleanup", "close"}
RAW_VALUES = ALWAYS + ({}, "K5", 2**70, -1, [123], {"progress": 1}, {"jql": 5})


def raw_sweep(client):
    from jetl import jetl_c
    handle = client._h
    calls = 0
    for name in sorted(n for n in dir(jetl_c) if not n.startswith("_")):
        f = getattr(jetl_c, name)
        if name in RAW_SKIP or not callable(f) or isinstance(f, type):
            continue
        for n in range(1, 4):
            for v in RAW_VALUES:
                for args in ((handle,) + (v,) * n, (v,) * n, (handle, "K5") + (v,) * (n - 1)):
                    if name == "worker_run" and len(args) == 2 and (args[1] is None or isinstance(args[1], dict)):
                        continue   # right: a worker that runs until stopped
                    calls += 1
                    sys.stderr.write("call jetl_c.%s%r\n" % (name, args))
                    sys.stderr.flush()
                    try:
                        f(*args)
                    except Exception:   # noqa: BLE001 - only a crash fails
                        pass
    return calls


def main():
    dsn = sys.argv[1]
    with jetl.open(db=dsn, queue="", jira_url="http://127.0.0.1:9", jira_user="u",
                   jira_token="t", connect_timeout_ms=500, max_attempts=1) as client:
        client.migrate()
        calls, failures = sweep(client)
        raw = raw_sweep(client)
    print("wrong types: %d calls with wrong types or None, %d did not raise TypeError/ValueError;"
          " %d calls of the generated module, no crash" % (calls, len(failures), raw))
    for f in failures:
        print("  " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
