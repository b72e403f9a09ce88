"""The webhook workers as processes: `newsgraph worker` killed in the middle of a delivery
(the next worker sends it again, with the same webhook-id), `newsgraph serve` with its
in-process worker switched off, and the latency from commit to receiver with the in-process
worker of `newsgraph serve`."""

import asyncio
import json
import signal
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.main import create_app
from api.settings import Settings
from api.shared.auth import issue_key
from db.enums import ApiKeyScope
from tests.support.clients import bearer, client_for
from tests.support.database import connect, scratch_database
from tests.support.live_server import LiveServer, LiveWorker
from tests.support.receiver import HOLD, Receiver

pytestmark = pytest.mark.process

LOOPBACK = {"NEWSGRAPH_WEBHOOK_ALLOWED_HOSTS": '["127.0.0.1"]'}


@pytest.fixture
async def database() -> AsyncIterator[tuple[str, dict[str, str]]]:
    async with scratch_database("workers") as url:
        yield url, bearer(await issue_key(url, name="workers", scopes=[ApiKeyScope.ADMIN]))


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


async def _deliveries(http: httpx.AsyncClient, key: dict[str, str], webhook: str) -> Any:
    response = await http.get(f"/v1/webhooks/{webhook}/deliveries", headers=key)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def _finished(http: httpx.AsyncClient, key: dict[str, str], webhook: str) -> Any:
    """The webhook's deliveries once none is pending (the outcome is recorded just after the
    receiver answers)."""
    for _ in range(400):
        deliveries = await _deliveries(http, key, webhook)
        if all(d["status"] != "pending" for d in deliveries):
            return deliveries
        await asyncio.sleep(0.05)
    raise AssertionError(f"still pending after 20 s: {deliveries}")


async def test_a_worker_killed_mid_delivery_is_followed_by_one_that_sends_it_again(
    database: tuple[str, dict[str, str]], receiver: Receiver, tmp_path: Path
) -> None:
    url, key = database
    receiver.answer = lambda n: HOLD if n == 0 else 204  # the first request is never answered
    timing = {"NEWSGRAPH_WEBHOOK_TIMEOUT": "2", "NEWSGRAPH_WEBHOOK_LEASE": "3"}
    app = create_app(
        Settings.model_validate({"DATABASE_URL": url, "webhook_allowed_hosts": ["127.0.0.1"]})
    )
    first = LiveWorker(url, tmp_path, env=LOOPBACK | timing)
    second: LiveWorker | None = None
    try:
        async with client_for(app) as http:
            created = await http.post("/v1/webhooks", json={"url": receiver.url}, headers=key)
            webhook = created.json()
            source = await http.post(
                "/v1/sources",
                json={"slug": "kyodo", "name": "Kyodo", "kind": "news_agency"},
                headers=key,
            )
            await receiver.wait_for(1)
            first.send(signal.SIGKILL)  # while its request is held open
            killed = await asyncio.to_thread(first.wait, 10)
            second = LiveWorker(url, tmp_path, env=LOOPBACK | timing)
            await receiver.wait_for(2)
            deliveries = await _finished(http, key, webhook["id"])
            second.send(signal.SIGTERM)
            stopped = await asyncio.to_thread(second.wait, 15)
    finally:
        first.close()
        if second is not None:
            second.close()

    assert (created.status_code, source.status_code) == (201, 201)
    assert killed == -signal.SIGKILL
    assert stopped == 0, second.output() if second else ""
    held, resent = receiver.received
    assert held.webhook_id == resent.webhook_id
    assert held.body == resent.body
    assert len(receiver.processed(webhook["secret"])) == 1  # both signatures hold
    [delivery] = deliveries
    assert delivery["id"] == held.webhook_id
    assert delivery["status"] == "delivered"
    lost, answered = delivery["attempts"]
    # The killed worker's attempt never got an outcome; the next one did.
    assert (lost["status_code"], lost["error"], lost["latency_ms"]) == (None, None, None)
    assert (answered["status_code"], answered["error"]) == (204, None)


async def test_serve_without_its_worker_leaves_deliveries_to_newsgraph_worker(
    database: tuple[str, dict[str, str]], receiver: Receiver, tmp_path: Path
) -> None:
    url, key = database
    server = LiveServer(url, tmp_path, env=LOOPBACK | {"NEWSGRAPH_WEBHOOK_WORKER": "false"})
    worker: LiveWorker | None = None
    try:
        await asyncio.to_thread(server.wait_ready)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            webhook = (
                await http.post("/v1/webhooks", json={"url": receiver.url}, headers=key)
            ).json()
            await http.post(
                "/v1/sources",
                json={"slug": "kyodo", "name": "Kyodo", "kind": "news_agency"},
                headers=key,
            )
            await asyncio.sleep(2)
            unsent = await _deliveries(http, key, webhook["id"])
            received_by_serve = len(receiver.received)
            worker = LiveWorker(url, tmp_path, env=LOOPBACK)
            [request] = await receiver.wait_for(1)
    finally:
        server.close()
        if worker is not None:
            worker.close()

    assert received_by_serve == 0
    assert [(d["status"], d["attempt_count"]) for d in unsent] == [("pending", 0)]
    payload = receiver.processed(webhook["secret"])[request.webhook_id]
    assert (payload["type"], payload["data"]["slug"]) == ("source.created", "kyodo")


async def test_commit_to_receiver_latency_with_the_in_process_worker(
    database: tuple[str, dict[str, str]], receiver: Receiver, tmp_path: Path
) -> None:
    """Each change committed alone, the next once the receiver has the last: the time from
    COMMIT returning to the request arriving. Printed (pytest -s) for the record."""
    url, key = database
    count = 50
    server = LiveServer(url, tmp_path, env=LOOPBACK)
    latencies: list[float] = []
    try:
        await asyncio.to_thread(server.wait_ready)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            created = await http.post("/v1/webhooks", json={"url": receiver.url}, headers=key)
            assert created.status_code == 201
        connection = await connect(url)
        try:
            for n in range(count):
                async with connection.transaction():
                    await connection.execute(
                        "INSERT INTO source (id, slug, name, kind) VALUES ($1, $2, $2, 'other')",
                        uuid.uuid4(),
                        f"s{n}",
                    )
                committed = time.monotonic()
                [*_, arrived] = await receiver.wait_for(n + 1, seconds=10)
                latencies.append((arrived.at - committed) * 1000)
        finally:
            await connection.close()
    finally:
        server.close()

    slugs = [json.loads(r.body)["data"]["slug"] for r in receiver.received]
    assert slugs == [f"s{n}" for n in range(count)]
    median = statistics.median(latencies)
    print(
        f"\ncommit to receiver, {count} deliveries: median {median:.1f} ms, "
        f"p90 {statistics.quantiles(latencies, n=10)[-1]:.1f} ms, max {max(latencies):.1f} ms"
    )
    # Woken by the commit's notice, not found by a later look at the queue (10 s apart).
    assert median < 1000
