"""Reads and writes with and without a read replica, on one machine (docs/scaling.md).

Starts a primary and a streaming standby from the embedded binaries (tests/support/
replication.py), migrates and seeds the primary, and serves the API twice side by side, each
as production runs it (bench/run.py: uvicorn, 2 workers): A on the primary alone, B with the
standby in NEWSGRAPH_REPLICA_URLS. Each round drives A then B with wrk (32 connections) with
three profiles: reads only (the seed corpus' by-id, list and timeline reads), writes only
(POST /v1/entities, each a new entity, the mixed profile's write), and the mixed profile (one
write in ten). Reported: req/s and p99 (min / median over the rounds), and for B the share
of reads the standby served (newsgraph_db_reads_total, summed over the workers). Then writes
only on A at rising concurrency (--write-connections): where the primary's write rate ends.

    python -m bench.replicas [--rounds 3] [--seconds 10] [--connections 32]
"""

import argparse
import asyncio
import itertools
import os
import statistics
import tempfile
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared.auth import issue_key
from api.transport import metrics
from bench import wrk
from bench.floor import Load
from bench.run import start_server
from db import migrate
from db.enums import ApiKeyScope
from db.session import create_engine
from seeds.files import default_seed_paths
from seeds.loader import load_seeds
from tests.support.clients import free_port
from tests.support.replication import streaming_pair

READS = [
    "/v1/sources/kyodo",
    "/v1/articles/kyodo-2021-10-07-kishida-putin-phone-call",
    "/v1/entities/japan",
    "/v1/events?limit=20",
    "/v1/articles?limit=20",
    "/v1/disputes/kuril-islands-dispute/timeline",
]
PROFILES = {"reads": 0, "writes": 1, "mixed": 10}  # write_every


async def _seed(url: str) -> None:
    engine = create_engine(url)
    try:
        async with AsyncSession(engine) as session:
            await load_seeds(session, default_seed_paths())
            await session.commit()
    finally:
        await engine.dispose()


def reads_by_target(base_url: str) -> dict[str, float]:
    return metrics.reads_by_target(httpx.get(base_url + "/metrics", timeout=10).text)


def figure(values: list[float], digits: int = 0) -> str:
    return f"{min(values):,.{digits}f} / {statistics.median(values):,.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.replicas", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--write-connections",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 4, 16, 64],
        help="the write sweep's concurrency levels, comma-separated",
    )
    arguments = parser.parse_args()
    wrk_path = wrk.ensure_wrk()
    with streaming_pair() as pair, tempfile.TemporaryDirectory() as scratch:
        primary = pair.primary.url
        migrate.upgrade(primary)
        asyncio.run(_seed(primary))
        token = asyncio.run(issue_key(primary, name="bench", scopes=[ApiKeyScope.WRITE]))
        servers = {}
        for name, replicas in (("A: primary only", ""), ("B: + 1 replica", pair.standby.url)):
            metrics_dir = Path(scratch) / name[0]
            metrics_dir.mkdir()
            port = free_port()
            env = {
                "NEWSGRAPH_RATE_LIMIT_ENABLED": "false",
                "NEWSGRAPH_WEBHOOK_WORKER": "false",
                "NEWSGRAPH_REPLICA_URLS": replicas,
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            }
            process = start_server(make_url(primary), port, extra_env=env)
            servers[name] = (process, f"http://127.0.0.1:{port}")
        results: dict[tuple[str, str], list[Load]] = {}
        shares: list[float] = []
        sweep: dict[int, list[Load]] = {}
        runs = itertools.count(1)  # each wrk run creates entities with slugs of its own
        try:
            for _round in range(arguments.rounds):
                for profile, write_every in PROFILES.items():
                    for name, (_, base_url) in servers.items():
                        before = reads_by_target(base_url)
                        load = wrk.run(
                            wrk_path,
                            base_url,
                            READS,
                            connections=arguments.connections,
                            seconds=arguments.seconds,
                            write_every=write_every,
                            token=token,
                            run_id=next(runs),
                        )
                        results.setdefault((profile, name), []).append(load)
                        after = reads_by_target(base_url)
                        if name.startswith("B") and profile == "reads":
                            delta = {k: v - before.get(k, 0) for k, v in after.items()}
                            total = sum(delta.values())
                            replica = total - delta.get("primary", 0)
                            shares.append(100 * replica / total if total else 0.0)
            # Where the primary's write rate ends: writes only, at rising concurrency.
            _, base_url = servers["A: primary only"]
            for _round in range(arguments.rounds):
                for connections in arguments.write_connections:
                    load = wrk.run(
                        wrk_path,
                        base_url,
                        READS,
                        connections=connections,
                        seconds=arguments.seconds,
                        write_every=1,
                        token=token,
                        run_id=next(runs),
                    )
                    sweep.setdefault(connections, []).append(load)
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait(timeout=30)
    print(
        f"{os.cpu_count()} cores; {arguments.rounds} rounds of {arguments.seconds:g} s, "
        f"{arguments.connections} connections; min / median over the rounds\n"
    )
    print("| profile | server | req/s | p99 ms | errors |")
    print("|---|---|---:|---:|---:|")
    for (profile, name), loads in results.items():
        print(
            f"| {profile} | {name} | {figure([load.rate for load in loads])} | "
            f"{figure([load.p99_ms for load in loads], 1)} | {sum(lo.errors for lo in loads)} |"
        )
    print(f"\nB, reads served by the replica: {figure(shares, 1)} %")
    print("\nWrites only (POST /v1/entities) on A, by concurrency:\n")
    print("| connections | writes/s | p50 ms | p99 ms | errors |")
    print("|---:|---:|---:|---:|---:|")
    for connections, loads in sweep.items():
        print(
            f"| {connections} | {figure([load.rate for load in loads])} | "
            f"{figure([load.p50_ms for load in loads], 1)} | "
            f"{figure([load.p99_ms for load in loads], 1)} | {sum(lo.errors for lo in loads)} |"
        )


if __name__ == "__main__":
    main()
