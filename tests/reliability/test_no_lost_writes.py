"""No lost writes: a client creates sources with Idempotency-Key and retries each one, with the
same key, on a dropped connection or a 5xx; the server is SIGKILLed halfway and started again.
Afterwards every create the client saw acknowledged is in the database exactly once, and the
response it kept names that very row."""

import asyncio
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from api.shared.auth import issue_key
from db import migrate
from db.enums import ApiKeyScope
from db.session import create_engine
from tests.support.clients import bearer
from tests.support.database import fresh_database, run_migration
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.process  # `newsgraph serve`, SIGKILLed and started again

CREATES = 200
CLIENTS = 8
KILL_AFTER_ACKNOWLEDGED = 60
RUN_SECONDS = 120  # a bound on the whole run, far above the few seconds it takes


@dataclass
class Run:
    in_flight: set[int] = field(default_factory=set)
    acknowledged: dict[int, httpx.Response] = field(default_factory=dict)
    attempts: dict[int, list[str]] = field(default_factory=dict)
    half_done: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def database() -> tuple[str, dict[str, str]]:
    url = await fresh_database("no_lost_writes")
    await run_migration(migrate.upgrade, url)
    key = await issue_key(url, name="durable", scopes=[ApiKeyScope.WRITE])
    return url, bearer(key)


def slug(number: int) -> str:
    return f"durable-{number:03d}"


async def create_until_acknowledged(
    client: httpx.AsyncClient, run: Run, number: int, key: dict[str, str]
) -> None:
    body = {"slug": slug(number), "name": f"Durable {number}", "kind": "newspaper"}
    headers = {**key, "Idempotency-Key": f"create-{slug(number)}"}
    attempts = run.attempts.setdefault(number, [])
    deadline = time.monotonic() + RUN_SECONDS
    while time.monotonic() < deadline:
        run.in_flight.add(number)
        try:
            response = await client.post("/v1/sources", json=body, headers=headers)
        except httpx.TransportError as error:  # the server died, or is not back yet
            attempts.append(type(error).__name__)
        else:
            replayed = response.headers.get("idempotent-replayed") == "true"
            attempts.append(f"{response.status_code}{' replayed' if replayed else ''}")
            if response.status_code < 500:
                run.acknowledged[number] = response
                if len(run.acknowledged) >= KILL_AFTER_ACKNOWLEDGED:
                    run.half_done.set()
                return
        finally:
            run.in_flight.discard(number)
        await asyncio.sleep(0.05)
    raise AssertionError(f"create {number} not acknowledged: {attempts}")


async def stored_sources(url: str) -> dict[str, list[str]]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT slug, id::text FROM source WHERE slug LIKE 'durable-%'")
            )
            stored: dict[str, list[str]] = {}
            for row_slug, row_id in rows:
                stored.setdefault(row_slug, []).append(row_id)
            return stored
    finally:
        await engine.dispose()


async def test_every_acknowledged_create_survives_a_sigkill_exactly_once(
    database: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, key = database
    first = LiveServer(url, tmp_path)
    servers = [first]
    run = Run()
    try:
        await asyncio.to_thread(first.wait_ready)
        async with httpx.AsyncClient(base_url=first.base_url, timeout=10) as client:
            queue = list(range(CREATES))

            async def client_loop() -> None:
                while queue:
                    await create_until_acknowledged(client, run, queue.pop(0), key)

            clients = [asyncio.create_task(client_loop()) for _ in range(CLIENTS)]
            await run.half_done.wait()
            first.send(signal.SIGKILL)
            in_flight_at_kill = sorted(run.in_flight)
            acknowledged_at_kill = len(run.acknowledged)
            await asyncio.to_thread(first.wait, 10)
            servers.append(LiveServer(url, tmp_path, port=first.port))
            await asyncio.gather(*clients)
    finally:
        for server in servers:
            server.close()

    stored = await stored_sources(url)
    retried = {n: a for n, a in run.attempts.items() if len(a) > 1}
    summary = (
        f"{len(in_flight_at_kill)} creates in flight at the kill, {acknowledged_at_kill} "
        f"acknowledged before it; {len(retried)} retried, "
        f"first failures {Counter(a[0] for a in retried.values())}, "
        f"final answers {Counter(a[-1] for a in retried.values())}"
    )
    print(summary)  # shown with -s: what the kill interrupted and what the retries got
    assert 0 < acknowledged_at_kill < CREATES, summary  # killed in the middle of the run
    assert in_flight_at_kill, summary
    # Every create was acknowledged with a 201 (a first answer or a replay of it): never a
    # 409, which would mean a retry was taken for a new create.
    assert {r.status_code for r in run.acknowledged.values()} == {201}, summary
    assert len(run.acknowledged) == CREATES
    # Each exactly once, and the acknowledgement names the row that is there.
    assert sorted(stored) == [slug(n) for n in range(CREATES)]
    for number, response in run.acknowledged.items():
        assert stored[slug(number)] == [response.json()["id"]]
