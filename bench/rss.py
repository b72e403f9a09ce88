"""Worker RSS, reproducibly: the server as `make bench` runs it, its workers' RSS once ready,
then after a fixed load of the read scenarios (issue 13's target: <= 80 MB after load).

    python -m bench.rss --port 18500 [--requests 3000] [--runs 3]

DATABASE_URL names a database holding a corpus (`newsgraph import` of `bench.corpus`). Each
run starts a fresh server (2 workers, pool 16 + 0 each, rate limiting off), reads each
worker's VmRSS when /readyz answers, sends `--requests` GETs cycling through the paths of
every read scenario (`bench/scenarios.py`) from 32 concurrent clients, so that every pooled
connection prepares its statements, and reads VmRSS again. Figures are MB, min / median of
the runs, over both workers.
"""

import argparse
import asyncio
import itertools
import os
import statistics

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench.run import server_rss, start_server
from bench.scenarios import pick

MB = 1024 * 1024


async def _paths(database_url: str) -> list[str]:
    connection = await asyncpg.connect(database_url)
    try:
        chosen = await pick(connection)
    finally:
        await connection.close()
    reads = [scenario.paths for scenario in chosen if scenario.write_every == 0]
    # Interleaved, so that every scenario is served from the first requests on.
    return [path for group in itertools.zip_longest(*reads) for path in group if path]


async def _load(port: int, paths: list[str], requests: int, clients: int) -> int:
    """`requests` GETs from `clients` concurrent clients; the number of non-2xx answers."""
    failures = 0
    queue = iter(itertools.islice(itertools.cycle(paths), requests))

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal failures
        for path in queue:
            try:
                response = await http.get(path)
            except httpx.TransportError:
                # A kept-alive connection the server closed as it was reused: once more.
                response = await http.get(path)
            failures += response.status_code >= 300

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
    ) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rss", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    database_url = os.environ["DATABASE_URL"]
    os.environ["NEWSGRAPH_RATE_LIMIT_ENABLED"] = "false"
    paths = asyncio.run(_paths(database_url))
    ready: list[float] = []
    loaded: list[float] = []
    for run in range(arguments.runs):
        server = start_server(make_url(database_url), arguments.port)
        try:
            at_start = [rss / MB for rss in server_rss(server)]
            failures = asyncio.run(
                _load(arguments.port, paths, arguments.requests, arguments.clients)
            )
            after = [rss / MB for rss in server_rss(server)]
        finally:
            server.terminate()
            server.wait(timeout=30)
        ready += at_start
        loaded += after
        print(
            f"run {run + 1}: ready {', '.join(f'{m:.1f}' for m in at_start)} MB; after "
            f"{arguments.requests} requests ({failures} non-2xx) "
            f"{', '.join(f'{m:.1f}' for m in after)} MB",
            flush=True,
        )
    print(
        f"worker RSS ready: min {min(ready):.1f} / median {statistics.median(ready):.1f} MB; "
        f"after load: min {min(loaded):.1f} / median {statistics.median(loaded):.1f} / "
        f"max {max(loaded):.1f} MB"
    )


if __name__ == "__main__":
    main()
