"""`newsgraph serve` end to end, as `make run` starts it: embedded PostgreSQL, migrate, serve,
and a clean stop — or, after a SIGKILL, a server adopted by the next run and not orphaned."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.clients import free_port

# Every test runs `newsgraph serve` with an embedded PostgreSQL of its own.
pytestmark = pytest.mark.process

STARTUP_SECONDS = 90


class Serve:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
        env |= {"NEWSGRAPH_DATA_DIR": str(data_dir), "PORT": str(self.port), "HOST": "127.0.0.1"}
        self.log = data_dir.parent / f"serve-{self.port}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "serve"], env=env, stdout=log, stderr=log
            )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> httpx.Response:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(self.log.read_text())
            try:
                response = httpx.get(self.base_url + "/readyz", timeout=2)
                if response.status_code == 200:
                    return response
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError("server did not become ready:\n" + self.log.read_text())

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=30)


def _postmaster(data_dir: Path) -> psutil.Process | None:
    pid_file = data_dir / "postgres" / "postmaster.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().splitlines()[0])
    return psutil.Process(pid) if psutil.pid_exists(pid) else None


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"
    postmaster = _postmaster(tmp_path / "data")
    if postmaster is not None:  # never leave a server behind, even when a test fails
        postmaster.terminate()
        postmaster.wait(10)


def test_serve_starts_embedded_postgres_and_stops_it_on_sigterm(data_dir: Path) -> None:
    serve = Serve(data_dir)

    ready = serve.wait_ready()
    assert ready.json()["status"] == "ready"
    assert _postmaster(data_dir) is not None

    assert serve.stop(signal.SIGTERM) == 0
    assert _postmaster(data_dir) is None


def test_a_database_left_by_a_killed_run_is_adopted_then_stopped(data_dir: Path) -> None:
    first = Serve(data_dir)
    first.wait_ready()
    first.stop(signal.SIGKILL)
    orphan = _postmaster(data_dir)
    assert orphan is not None

    second = Serve(data_dir)
    second.wait_ready()
    assert _postmaster(data_dir) == orphan  # the same server, adopted rather than restarted

    assert second.stop(signal.SIGINT) == 0
    assert _postmaster(data_dir) is None
