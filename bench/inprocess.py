"""CPU per request in process: the application's own cost, with no HTTP client or server.

The ASGI app is called directly with a plain request scope, one request at a time, and the
process CPU time (`time.process_time`) is divided by the number of requests. The database
still answers each statement, so the figure includes asyncpg's share of the client side but
none of PostgreSQL's. Steadier than req/s on a shared machine: a busy neighbour makes the
wait longer, not the CPU.

    python -m bench.inprocess --path /v1/articles/{id} [--path ...] [--requests 2000] [--lean]
"""

import argparse
import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import uvloop

from api.main import create_app
from api.settings import Settings
from bench import lean


@dataclass
class CpuFigure:
    requests: int
    rounds_ms: list[float]  # CPU ms per request, one figure per round

    @property
    def min_ms(self) -> float:
        return min(self.rounds_ms)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.rounds_ms)


@contextlib.asynccontextmanager
async def running(app: Any) -> AsyncIterator[Any]:
    """`app` with its lifespan started and, on the way out, shut down, as a server runs it."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def send(message: dict[str, Any]) -> None:
        await outbox.put(message)

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, inbox.get, send))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"lifespan startup: {started}")
    try:
        yield app
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


async def get(app: Any, path: str) -> tuple[int, bytes]:
    """One GET through the app, as uvicorn would call it: the status and the body."""
    route, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"bench"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    status = 0
    body: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(body)


async def cpu_per_request(
    app: Any, paths: Sequence[str], *, requests: int, rounds: int
) -> CpuFigure:
    """CPU ms per request of `app` over `rounds` rounds of `requests` requests cycling through
    `paths`, after one warm-up pass (connections opened, statements prepared, caches filled)."""
    async with running(app):
        for path in paths[:200]:
            status, body = await get(app, path)
            if status >= 300:
                raise RuntimeError(f"GET {path}: {status} {body[:300]!r}")
        figures = []
        for _ in range(rounds):
            started = time.process_time()
            for index in range(requests):
                await get(app, paths[index % len(paths)])
            figures.append((time.process_time() - started) * 1000 / requests)
    return CpuFigure(requests=requests, rounds_ms=figures)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("--path", action="append", required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lean", action="store_true", help="the lean reference (bench/lean.py)")
    arguments = parser.parse_args()
    # The event loop uvicorn runs the app on (uvicorn[standard] installs uvloop).
    app = lean.create_app() if arguments.lean else create_app(Settings())
    figure = uvloop.run(
        cpu_per_request(app, arguments.path, requests=arguments.requests, rounds=arguments.rounds)
    )
    print(
        f"CPU per request: min {figure.min_ms:.3f} ms, median {figure.median_ms:.3f} ms "
        f"({arguments.rounds} rounds of {arguments.requests})"
    )


if __name__ == "__main__":
    main()
