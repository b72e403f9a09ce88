"""The `process` marker, kept honest: a test that starts a process (`newsgraph serve`, a CLI
command, a code generator, redis-server, a PostgreSQL cluster of its own) says so with
`@pytest.mark.process`, so that `pytest -m "not process"` is a fast loop that starts none.

A pytest plugin (tests/conftest.py loads it). An audit hook (PEP 578) sees every way Python
starts a process: subprocess (and so asyncio's subprocesses), os.system, os.posix_spawn,
os.spawn*, os.exec*, os.fork. While an unmarked test is being set up or run, it refuses them
with ProcessWithoutMarker, naming the test and the command. Two exceptions, for what the whole
session shares: session-scoped fixtures, set up for whichever test first needs them, and code
run under `allowed()` (the embedded PostgreSQL that tests/support/database.py starts). Teardown
is not guarded: a module's fixtures end after its last test, which may be an unmarked one.
"""

import sys
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

MARKER = "process"

# The audit events raised before a process is started (or the interpreter replaced).
EVENTS = frozenset(
    {
        "subprocess.Popen",
        "os.system",
        "os.posix_spawn",
        "os.spawn",
        "os.exec",
        "os.fork",
        "os.forkpty",
    }
)


class ProcessWithoutMarker(RuntimeError):
    """A test without the `process` marker tried to start a process."""


# The node id of the unmarked test being set up or run, if any.
_refusing: str | None = None
# How many `allowed()` blocks and session-scoped fixture set-ups are under way.
_allowances = 0


def _command(event: str, args: tuple[Any, ...]) -> str:
    if event == "subprocess.Popen":  # (executable, args, cwd, env)
        return repr(args[1])
    if event in {"os.posix_spawn", "os.exec", "os.spawn"} and len(args) > 1:  # (path, argv, ...)
        return repr(args[1])
    if event == "os.system":
        return repr(args[0])
    return "a fork"


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _refusing is None or _allowances or event not in EVENTS:
        return
    raise ProcessWithoutMarker(
        f"{_refusing} started a process ({event}: {_command(event, args)}) without the "
        f"`{MARKER}` marker. Mark the test @pytest.mark.{MARKER} (or the whole module: "
        f"pytestmark = pytest.mark.{MARKER}), so that `pytest -m 'not {MARKER}'` starts none."
    )


sys.addaudithook(_audit)


@contextmanager
def allowed() -> Iterator[None]:
    """Processes started in this block are not the running test's own: they serve the whole
    session (the embedded PostgreSQL)."""
    global _allowances
    _allowances += 1
    try:
        yield
    finally:
        _allowances -= 1


@contextmanager
def refusing(item: pytest.Item) -> Iterator[None]:
    """Refuse processes while `item` is set up or run, unless it has the marker."""
    global _refusing
    if item.get_closest_marker(MARKER) is not None:
        yield
        return
    _refusing = item.nodeid
    try:
        yield
    finally:
        _refusing = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    with refusing(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    with refusing(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    if fixturedef.scope != "session":
        return (yield)
    with allowed():
        return (yield)
