"""`newsgraph serve --workers N`: N processes on one port whose /metrics is one set of counts
(prometheus_client's multiprocess mode, in a directory `serve` makes and removes), and which
all stop gracefully on SIGTERM."""

import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.support.live_server import LiveServer

pytestmark = pytest.mark.process

WORKERS = 2
BATCH = 100
STOP_SECONDS = 30.0


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(
        database_url,
        tmp_path,
        env={"NEWSGRAPH_RATE_LIMIT_ENABLED": "false", "NEWSGRAPH_LOG_FORMAT": "text"},
        arguments=("--workers", str(WORKERS)),
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.close()


def workers_of(server: LiveServer) -> dict[int, Path]:
    """Each worker's pid, and the metrics directory its environment names."""
    found = {}
    for child in psutil.Process(server.process.pid).children():
        directory = child.environ().get("PROMETHEUS_MULTIPROC_DIR")
        if directory and "spawn_main" in " ".join(child.cmdline()):
            found[child.pid] = Path(directory)
    return found


def health_checks_counted(families: object) -> float:
    return sum(
        sample.value
        for family in families  # type: ignore[attr-defined]
        if family.name == "newsgraph_http_requests"
        for sample in family.samples
        if sample.name == "newsgraph_http_requests_total" and sample.labels["route"] == "/healthz"
    )


def health_checks_of(directory: Path, pid: int) -> float:
    """What one worker alone counted, from its own file: a worker that has answered nothing
    yet has no file (prometheus_client makes it at the first count)."""
    counts = directory / f"counter_{pid}.db"
    if not counts.exists():
        return 0.0
    return health_checks_counted(
        MultiProcessCollector.merge([str(counts)], accumulate=True)  # type: ignore[no-untyped-call]
    )


def fresh_connection_get(url: str) -> int:
    # A connection per request: the kernel hands each to whichever worker accepts first.
    return httpx.get(url, timeout=10).status_code


def test_metrics_sum_every_worker_and_all_stop_on_sigterm(server: LiveServer) -> None:
    workers = workers_of(server)
    assert len(workers) == WORKERS, workers
    [directory] = set(workers.values())
    assert directory.is_dir()

    sent = 0
    with ThreadPoolExecutor(8) as pool:
        # Until every worker has answered some (it takes one batch in practice).
        for _ in range(10):
            statuses = list(pool.map(fresh_connection_get, [server.base_url + "/healthz"] * BATCH))
            assert statuses == [200] * BATCH
            sent += BATCH
            if all(health_checks_of(directory, pid) > 0 for pid in workers):
                break
    per_worker = {pid: health_checks_of(directory, pid) for pid in workers}
    assert all(count > 0 for count in per_worker.values()), per_worker
    assert sum(per_worker.values()) == sent

    # Whichever worker answers a scrape reports the sum over all of them.
    for _ in range(6):
        scrape = httpx.get(server.base_url + "/metrics", timeout=10)
        assert scrape.status_code == 200
        assert health_checks_counted(text_string_to_metric_families(scrape.text)) == sent

    server.send(signal.SIGTERM)
    assert server.wait(timeout=STOP_SECONDS) == 0, server.output()
    assert not any(psutil.pid_exists(pid) for pid in workers)
    assert not directory.exists()  # serve removed its metrics directory
    assert server.output().count("Application shutdown complete") == WORKERS
