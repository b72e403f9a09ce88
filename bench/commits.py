"""Commit throughput of concurrent writers, and how soon the change stream and a webhook hear
of a write: `python -m bench.commits DATABASE_URL` (a migrated, scratch database: it adds
`bench-commits-*` sources and updates them).

Each of N connections runs the API's kind of write in a loop for a few seconds: one small
transaction updating one row of its own (no row is shared, so no writer waits for another's
row lock), which the change feed's triggers turn into a `change` row. The figure is commits per
second over all connections; several runs each, min and median.

Latency (`--latency URL_OF_A_SERVER`): a client follows GET /v1/changes/stream on a running
`newsgraph serve`; each of a number of writes is timed from its commit to the event's arrival.
"""

import argparse
import asyncio
import json
import random
import statistics
import time
from typing import Any

import asyncpg
import httpx

SOURCES = 64


async def prepare(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.executemany(
            "INSERT INTO source (slug, name, kind) VALUES ($1, $2, 'newspaper')"
            " ON CONFLICT (slug) DO NOTHING",
            [(f"bench-commits-{n}", f"Bench commits {n}") for n in range(SOURCES)],
        )
    finally:
        await connection.close()


async def writer(
    dsn: str, number: int, until: float, counts: list[int], settings: dict[str, str]
) -> None:
    connection = await asyncpg.connect(dsn, server_settings=settings)
    slug = f"bench-commits-{number % SOURCES}"
    try:
        statement = await connection.prepare(
            "UPDATE source SET name = $2, version = version + 1 WHERE slug = $1"
        )
        n = 0
        while time.monotonic() < until:
            async with connection.transaction():
                await statement.fetch(slug, f"Bench commits {number} {n}")
            n += 1
        counts[number] = n
    finally:
        await connection.close()


async def commit_rate(
    dsn: str, connections: int, seconds: float, settings: dict[str, str]
) -> float:
    counts = [0] * connections
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(*(writer(dsn, n, until, counts, settings) for n in range(connections)))
    return sum(counts) / (time.monotonic() - started)


async def stream_latency(dsn: str, server: str, writes: int) -> list[float]:
    """Seconds from each write's commit to its change event on the stream."""
    latencies: list[float] = []
    connection = await asyncpg.connect(dsn)
    try:
        async with (
            httpx.AsyncClient(base_url=server, timeout=30) as client,
            client.stream("GET", "/v1/changes/stream", params={"type": "source"}) as stream,
        ):
            lines = stream.aiter_lines()
            # Skip what is already in the feed: wait for a quiet moment.
            await asyncio.sleep(0.5)
            for n in range(writes):
                slug = f"bench-commits-{n % SOURCES}"
                version = await connection.fetchval(
                    "UPDATE source SET name = $2, version = version + 1 WHERE slug = $1"
                    " RETURNING version",
                    slug,
                    f"latency {n}",
                )
                committed = time.monotonic()
                while True:
                    # A change shows once every older transaction of the whole server has
                    # ended: another database's long transaction delays it as much.
                    line = await asyncio.wait_for(anext(lines), 120)
                    if line.startswith("data: "):
                        event: dict[str, Any] = json.loads(line.removeprefix("data: "))
                        if (event["slug"], event["version"]) == (slug, version):
                            break
                latencies.append(time.monotonic() - committed)
                # A random pause: a fixed one as long as the watch's interval would put every
                # commit at the same point of its cycle.
                await asyncio.sleep(random.uniform(0.02, 0.2))  # noqa: S311
    finally:
        await connection.close()
    return latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dsn")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--latency", metavar="SERVER_URL")
    parser.add_argument("--writes", type=int, default=50)
    parser.add_argument(
        "--synchronous-commit",
        choices=["on", "off"],
        default="on",
        help="off: commits do not wait for the WAL flush (what is left is CPU and locks)",
    )
    arguments = parser.parse_args()
    await prepare(arguments.dsn)
    if arguments.latency:
        latencies = await stream_latency(arguments.dsn, arguments.latency, arguments.writes)
        milliseconds = sorted(1000 * each for each in latencies)
        print(
            f"stream latency over {len(milliseconds)} writes: min {milliseconds[0]:.1f} ms,"
            f" median {statistics.median(milliseconds):.1f} ms,"
            f" p90 {milliseconds[int(0.9 * len(milliseconds))]:.1f} ms,"
            f" max {milliseconds[-1]:.1f} ms"
        )
        return
    for connections in arguments.connections:
        rates = [
            await commit_rate(
                arguments.dsn,
                connections,
                arguments.seconds,
                {"synchronous_commit": arguments.synchronous_commit},
            )
            for _ in range(arguments.runs)
        ]
        print(
            f"{connections:3d} connections: min {min(rates):7.0f}  median"
            f" {statistics.median(rates):7.0f} commits/s  (runs: "
            + ", ".join(f"{rate:.0f}" for rate in rates)
            + ")"
        )


if __name__ == "__main__":
    asyncio.run(main())
