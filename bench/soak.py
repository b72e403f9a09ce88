"""`make soak`: the mixed read/write profile of `make bench` against the served bench corpus for a
long while, to see what only time shows: memory that creeps, latency that drifts, connections
that pile up, errors that come once an hour.

    python -m bench.soak [--minutes 30] [--interval 60] [--articles 100000] [--reuse]

Each interval is one wrk run of the mixed profile (32 connections, every tenth request a
POST /v1/entities); after it, the RSS of each worker and the database's sessions are read.
Warm-up is the first fifth of the intervals (at least one); the RSS slope is a least-squares
line through the intervals after it, in MB per 10 minutes. Targets: slope under 1 MB / 10 min
per worker, no error, p99 stable (the worst interval's p99 within 2x the median interval's).
The figures go into bench/RESULTS.md, in a section of their own that `make bench` keeps.
"""

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from api.shared.auth import issue_key
from bench import wrk
from bench.run import (
    SOAK_END,
    SOAK_START,
    WORKERS,
    argument_parser,
    dsn,
    free_port,
    load,
    machine,
    ms,
    prepare,
    say,
    server_rss,
    start_server,
)
from bench.scenarios import pick
from db import migrate
from db.enums import ApiKeyScope

SLOPE_TARGET_MB_PER_10_MIN = 1.0
P99_STABILITY = 2.0


@dataclass
class Interval:
    minute: float
    rate: float
    p99_ms: float
    errors: int
    rss_mb: list[float]
    sessions: int


def slope_per_10_minutes(minutes: list[float], values: list[float]) -> float:
    """The least-squares slope of `values` over `minutes`, per 10 minutes (0 for one point)."""
    if len(minutes) < 2:
        return 0.0
    return float(statistics.linear_regression(minutes, values).slope) * 10


def warm_up(intervals: int) -> int:
    return max(1, intervals // 5)


def section(intervals: list[Interval], arguments: argparse.Namespace, pg_version: str) -> str:
    skip = warm_up(len(intervals))
    steady = intervals[skip:] or intervals
    workers = len(intervals[0].rss_mb) if intervals else 0
    slopes = [
        slope_per_10_minutes(
            [interval.minute for interval in steady],
            [interval.rss_mb[worker] for interval in steady if worker < len(interval.rss_mb)],
        )
        for worker in range(workers)
    ]
    p99s = [interval.p99_ms for interval in steady]
    errors = sum(interval.errors for interval in intervals)
    median_p99 = statistics.median(p99s) if p99s else 0.0
    stable = max(p99s, default=0.0) <= P99_STABILITY * median_p99
    flat = all(abs(slope) < SLOPE_TARGET_MB_PER_10_MIN for slope in slopes)
    lines = [
        SOAK_START,
        "## Soak",
        "",
        f"Written by `make soak` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: "
        f"{arguments.minutes:g} minutes of the mixed profile (90% reads, 10% POST "
        f"/v1/entities), {arguments.interval:g} s intervals, {arguments.connections} "
        f"connections; {WORKERS} workers; corpus `--articles {arguments.articles}`; "
        f"{pg_version}; {machine()}.",
        "",
        "| target | measured | met? |",
        "|---|---|---|",
        f"| RSS flat after warm-up (slope < {SLOPE_TARGET_MB_PER_10_MIN:g} MB / 10 min per "
        f"worker; warm-up: first {skip} interval(s)) | "
        + ", ".join(f"{slope:+.2f}" for slope in slopes)
        + f" MB / 10 min | {'yes' if flat else 'no'} |",
        f"| no error | {errors} non-2xx or socket errors | {'yes' if errors == 0 else 'no'} |",
        f"| p99 stable (worst interval <= {P99_STABILITY:g}x the median) | median "
        f"{ms(median_p99)} ms, worst {ms(max(p99s, default=0.0))} ms | "
        f"{'yes' if stable else 'no'} |",
        "",
        "| minute | req/s | p99 ms | errors | RSS per worker MB | database sessions |",
        "|---:|---:|---:|---:|---|---:|",
    ]
    lines += [
        f"| {interval.minute:.1f} | {interval.rate:,.0f} | {ms(interval.p99_ms)} | "
        f"{interval.errors} | {', '.join(f'{value:.0f}' for value in interval.rss_mb)} | "
        f"{interval.sessions} |"
        for interval in intervals
    ]
    lines += ["", SOAK_END]
    return "\n".join(lines)


def write_section(path: Path, text: str) -> None:
    """Put the soak section into RESULTS.md in place of the last one, or at its end."""
    current = path.read_text() if path.exists() else "# Benchmark results\n"
    if SOAK_START in current and SOAK_END in current:
        before, rest = current.split(SOAK_START, 1)
        after = rest.split(SOAK_END, 1)[1]
        current = before.rstrip("\n") + "\n\n" + text + after
    else:
        current = current.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(current)


async def soak(arguments: argparse.Namespace) -> None:
    wrk_path, corpus_path, server, database = prepare(arguments)
    if arguments.reuse:
        await asyncio.to_thread(migrate.upgrade, database.render_as_string(hide_password=False))
    else:
        await load(server, corpus_path, arguments.database)
    connection = await asyncpg.connect(dsn(database))
    try:
        mixed = next(s for s in await pick(connection) if s.name == "mixed_read_write")
        pg_version = f"PostgreSQL {await connection.fetchval('SHOW server_version')}"
        token = await issue_key(database, name="soak", scopes=[ApiKeyScope.WRITE])
        port = free_port()
        process = start_server(database, port, pool_size=arguments.pool_size)
        intervals: list[Interval] = []
        started = time.monotonic()
        run_id = int(time.time()) * 100
        try:
            count = max(1, round(arguments.minutes * 60 / arguments.interval))
            for number in range(count):
                result = wrk.run(
                    wrk_path,
                    f"http://127.0.0.1:{port}",
                    mixed.paths,
                    connections=arguments.connections,
                    seconds=arguments.interval,
                    write_every=mixed.write_every,
                    token=token,
                    run_id=run_id + number,  # entity slugs unique per interval
                )
                sessions = await connection.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND application_name LIKE 'newsgraph%'"
                )
                interval = Interval(
                    minute=(time.monotonic() - started) / 60,
                    rate=result.rate,
                    p99_ms=result.p99_ms,
                    errors=result.errors,
                    rss_mb=[value / 2**20 for value in server_rss(process)],
                    sessions=int(sessions),
                )
                intervals.append(interval)
                say(
                    f"minute {interval.minute:.1f}: {interval.rate:,.0f} req/s, p99 "
                    f"{ms(interval.p99_ms)} ms, errors {interval.errors}, RSS "
                    f"{', '.join(f'{v:.0f}' for v in interval.rss_mb)} MB, "
                    f"{interval.sessions} sessions"
                )
        finally:
            process.terminate()
            process.wait(timeout=30)
    finally:
        await connection.close()
    text = section(intervals, arguments, pg_version)
    write_section(arguments.out, text)
    say(f"wrote the soak section of {arguments.out}")
    print(text)


def main() -> None:
    parser = argument_parser("python -m bench.soak", __doc__)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=60.0, help="seconds per interval")
    asyncio.run(soak(parser.parse_args()))


if __name__ == "__main__":
    main()
