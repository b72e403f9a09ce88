"""The process guard (tests/support/process_guard.py): a test without the `process` marker that
starts a process fails, saying which test, which command and what to do; marked tests,
session-scoped fixtures and code under `allowed()` may start them."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.process_guard import ProcessWithoutMarker, allowed

ROOT = Path(__file__).resolve().parents[2]
NOTHING = [sys.executable, "-c", "pass"]


def _fork() -> None:
    pid = os.fork()
    if pid == 0:  # the guard let it through: the child must not go on with the suite
        os._exit(0)
    os.waitpid(pid, 0)


def _posix_spawn() -> None:
    os.waitpid(os.posix_spawn(sys.executable, NOTHING, os.environ), 0)


STARTS: dict[str, Callable[[], object]] = {
    "subprocess.run": lambda: subprocess.run(NOTHING, check=True),
    "subprocess.Popen": lambda: subprocess.Popen(NOTHING).wait(),
    "os.system": lambda: os.system("true"),  # noqa: S605
    "os.posix_spawn": _posix_spawn,
    "os.fork": _fork,
}


@pytest.mark.parametrize("start", STARTS.values(), ids=STARTS.keys())
def test_an_unmarked_test_cannot_start_a_process(
    start: Callable[[], object], request: pytest.FixtureRequest
) -> None:
    with pytest.raises(ProcessWithoutMarker) as refused:
        start()

    assert request.node.nodeid in str(refused.value)
    assert "@pytest.mark.process" in str(refused.value)


async def test_nor_through_asyncio() -> None:
    with pytest.raises(ProcessWithoutMarker, match=r"\['/.*python.*', '-c', 'pass'\]"):
        await asyncio.create_subprocess_exec(*NOTHING)
    with pytest.raises(ProcessWithoutMarker, match="'true'"):
        await asyncio.create_subprocess_shell("true")


@pytest.fixture(scope="session")
def started_for_the_session() -> str:
    command = [sys.executable, "-c", "print('started')"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def test_a_session_fixture_may_start_one_for_an_unmarked_test(
    started_for_the_session: str,
) -> None:
    assert started_for_the_session == "started\n"


def test_code_under_allowed_may_start_one() -> None:
    with allowed():
        assert subprocess.run(NOTHING, check=False).returncode == 0
    with pytest.raises(ProcessWithoutMarker):
        subprocess.run(NOTHING, check=False)


INNER = """
import subprocess
import sys

import pytest


def start() -> None:
    subprocess.run([sys.executable, "-c", "pass"], check=True)


@pytest.fixture
def started() -> None:
    start()


@pytest.fixture(scope="session")
def started_for_the_session() -> None:
    start()


def test_unmarked() -> None:
    start()


def test_unmarked_with_a_fixture_that_starts_one(started: None) -> None:
    pass


def test_unmarked_with_a_session_fixture(started_for_the_session: None) -> None:
    pass


def test_unmarked_starting_nothing() -> None:
    pass


@pytest.mark.process
def test_marked() -> None:
    start()
"""

INNER_MARKED_MODULE = """
import subprocess
import sys

import pytest

pytestmark = pytest.mark.process


def test_in_a_marked_module() -> None:
    subprocess.run([sys.executable, "-c", "pass"], check=True)
"""


@pytest.mark.process
def test_a_pytest_run_fails_exactly_the_unmarked_tests_that_start_one(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    process: starts a process\n")
    (tmp_path / "test_inner.py").write_text(INNER)
    (tmp_path / "test_inner_marked.py").write_text(INNER_MARKED_MODULE)

    def run(*arguments: str) -> str:
        plugins = [
            "-p",
            "tests.support.process_guard",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:asyncio",
        ]
        result = subprocess.run(
            [sys.executable, "-m", "pytest", *plugins, "-rfE", "--strict-markers", *arguments],
            cwd=tmp_path,
            env=os.environ | {"PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout + result.stderr

    everything = run()
    assert "1 failed, 4 passed, 1 error in" in everything, everything
    assert "FAILED test_inner.py::test_unmarked - " in everything
    assert "ERROR test_inner.py::test_unmarked_with_a_fixture_that_starts_one - " in everything
    assert (
        "ProcessWithoutMarker: test_inner.py::test_unmarked started a process (subprocess.Popen: ["
    ) in everything
    assert (
        "ProcessWithoutMarker: test_inner.py::test_unmarked_with_a_fixture_that_starts_one "
        "started a process (subprocess.Popen: ["
    ) in everything

    fast = run("-m", "not process")
    assert "1 failed, 2 passed, 2 deselected, 1 error in" in fast, fast
