"""The database floor of an endpoint: the SQL statements it sends, replayed through asyncpg alone.

`capture` serves each request once in process and records, per request, the statements the
app sent with their parameters (as the driver received them, `$n` placeholders and all).
`replay` then runs those same statement lists, in autocommit mode as the app runs reads,
from `connections` concurrent asyncpg connections for `seconds`, with no HTTP and no
application code in between: the fastest this database could possibly serve the endpoint.
"""

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event

from api.main import create_app
from api.settings import Settings

Statement = tuple[str, tuple[Any, ...]]


@dataclass
class Load:
    """What one load run measured, from wrk or from the floor replay."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


async def capture(settings: Settings, paths: Sequence[str]) -> list[list[Statement]]:
    """The statements each of `paths` makes the app send (all must answer 2xx)."""
    app = create_app(settings)
    engine = app.state.engine
    current: list[Statement] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        current.append((statement, tuple(parameters or ())))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    captured: list[list[Statement]] = []
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://bench") as client:
            for path in paths:
                current.clear()
                response = await client.get(path)
                if response.status_code >= 300:
                    raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
                captured.append(list(current))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
        await engine.dispose()
    return captured


async def replay(
    dsn: str,
    requests: Sequence[Sequence[Statement]],
    *,
    connections: int,
    seconds: float,
    server_settings: dict[str, str],
) -> Load:
    """Run `requests` round-robin from `connections` concurrent connections for `seconds`,
    with the session settings the API's own connections have."""
    pool = await asyncpg.create_pool(
        dsn, min_size=connections, max_size=connections, server_settings=server_settings
    )
    latencies: list[float] = []
    errors = 0
    deadline = 0.0

    async def client(offset: int) -> None:
        nonlocal errors
        index = offset
        async with pool.acquire() as connection:
            while time.perf_counter() < deadline:
                statements = requests[index % len(requests)]
                index += connections
                started = time.perf_counter()
                try:
                    for sql, parameters in statements:
                        await connection.fetch(sql, *parameters)
                except asyncpg.PostgresError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

    try:
        # Warm every connection's statement cache as the server's pool is warm.
        async def warm(offset: int) -> None:
            async with pool.acquire() as connection:
                for statements in requests[offset::connections][:20]:
                    for sql, parameters in statements:
                        await connection.fetch(sql, *parameters)

        await asyncio.gather(*(warm(i) for i in range(connections)))
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(client(i) for i in range(connections)))
        elapsed = time.perf_counter() - started
    finally:
        await pool.close()
    return Load(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=statistics.median(latencies) * 1000 if latencies else 0.0,
        p99_ms=_percentile(latencies, 0.99) * 1000,
        errors=errors,
    )


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
