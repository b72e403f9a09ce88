"""`newsgraph serve` (and `newsgraph worker`) in a child process against a database of the
test's choosing, for tests that need a real server: signals, a killed process, connections
refused."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.clients import free_port

STARTUP_SECONDS = 60


class LiveServer:
    def __init__(
        self,
        database_url: str,
        log_dir: Path,
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
        arguments: tuple[str, ...] = (),
    ) -> None:
        self.port = port or free_port()
        environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
        environment |= {
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "NEWSGRAPH_SEED_ON_START": "false",
            **(env or {}),
        }
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log = log_dir / f"serve-{self.port}-{time.monotonic_ns()}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "serve", *arguments],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                # A group of its own, so that close() reaches `--workers` processes too.
                start_new_session=True,
            )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("server exited while starting:\n" + self.output())
            try:
                if httpx.get(self.base_url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("server did not become ready:\n" + self.output())

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def close(self) -> None:
        """Never leave a server (or its workers) behind, even when a test fails."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=10)


class LiveWorker:
    """`newsgraph worker` in a child process: sends webhook deliveries from `database_url`."""

    def __init__(self, database_url: str, log_dir: Path, *, env: dict[str, str] | None = None):
        environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
        environment |= {"DATABASE_URL": database_url, "NEWSGRAPH_LOG_FORMAT": "text", **(env or {})}
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log = log_dir / f"worker-{time.monotonic_ns()}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "worker"],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
