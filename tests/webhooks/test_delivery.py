"""Webhook deliveries end to end, with the worker `newsgraph serve` runs in process (the app's
lifespan) over a database of the test's own whose writes commit, to a receiver on loopback:
at least once, deduplicable by `webhook-id`, signed (verified with the `standardwebhooks`
package), retried, given up, bounded in time, never redirected, refused at send time when the
target is not allowed, and stopped by deleting the webhook."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from api.main import create_app
from api.settings import Settings
from api.shared.auth import issue_key
from api.webhooks.targets import TargetPolicy
from api.webhooks.worker import WebhookWorker
from db.enums import ApiKeyScope
from db.session import create_engine, create_sessionmaker
from tests.support.clients import bearer, client_for
from tests.support.database import scratch_database
from tests.support.receiver import HOLD, Receiver

# Quick retries, so that the tests do not wait for them.
FAST = {
    "webhook_allowed_hosts": ["127.0.0.1"],
    "webhook_backoff_base": 0.05,
    "webhook_backoff_max": 0.3,
    "webhook_timeout": 2,
    "webhook_lease": 5,
    "webhook_retry_period": 120,
}

Served = tuple[AsyncClient, dict[str, str], FastAPI]


@asynccontextmanager
async def serving(**settings: Any) -> AsyncIterator[Served]:
    """A client of an app over a database of its own, the app's lifespan running (so its
    webhook worker too), and an admin key."""
    async with scratch_database("hooks") as url:
        key = bearer(await issue_key(url, name="hooks", scopes=[ApiKeyScope.ADMIN]))
        app = create_app(Settings.model_validate({"DATABASE_URL": url, **FAST, **settings}))
        async with client_for(app) as client, app.router.lifespan_context(app):
            yield client, key, app


@asynccontextmanager
async def receiving(answer: Callable[[int], int] = lambda _: 204) -> AsyncIterator[Receiver]:
    receiver = Receiver(answer=answer)
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


async def _webhook(client: AsyncClient, key: dict[str, str], url: str) -> dict[str, Any]:
    response = await client.post("/v1/webhooks", json={"url": url}, headers=key)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _write_sources(client: AsyncClient, key: dict[str, str], count: int) -> None:
    for n in range(count):
        response = await client.post(
            "/v1/sources",
            json={"slug": f"s{n}", "name": f"S{n}", "kind": "news_agency"},
            headers=key,
        )
        assert response.status_code == 201, response.text


async def _deliveries(
    client: AsyncClient, key: dict[str, str], webhook: dict[str, Any]
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/v1/webhooks/{webhook['id']}/deliveries", params={"limit": 100}, headers=key
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _until(
    client: AsyncClient,
    key: dict[str, str],
    webhook: dict[str, Any],
    done: Callable[[list[dict[str, Any]]], bool],
    seconds: float = 30,
) -> list[dict[str, Any]]:
    """The webhook's deliveries once `done` holds of them."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        deliveries = await _deliveries(client, key, webhook)
        if done(deliveries):
            return deliveries
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not done after {seconds} s: {deliveries}")
        await asyncio.sleep(0.05)


async def _feed(client: AsyncClient, count: int) -> list[dict[str, Any]]:
    """The change feed once it shows `count` changes: a change shows once every transaction
    that began before it on the server has ended, other tests' too."""
    for _ in range(600):
        response = await client.get("/v1/changes", params={"limit": 100})
        items: list[dict[str, Any]] = response.json()["items"]
        if len(items) >= count:
            return items
        await asyncio.sleep(0.05)
    raise AssertionError(f"the feed shows {len(items)} of {count} changes after 30 s")


def _failed(delivery: dict[str, Any]) -> list[dict[str, Any]]:
    """Its attempts that failed (not the one in flight, which has no outcome yet)."""
    return [a for a in delivery["attempts"] if a["error"] is not None]


def _all(status: str, count: int) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda found: len(found) == count and all(d["status"] == status for d in found)


async def test_a_receiver_down_then_up_gets_every_change_once_signed() -> None:
    receiver = Receiver()  # down: nothing listens on its port yet
    async with serving() as (client, key, _):
        webhook = await _webhook(client, key, receiver.url)
        await _write_sources(client, key, 4)
        read = await client.get("/v1/sources/s0")
        updated = await client.patch(
            "/v1/sources/s0",
            json={"name": "S zero"},
            headers=key | {"If-Match": read.headers["etag"]},
        )
        deleted = await client.delete("/v1/sources/s1", headers=key | {"If-Match": "*"})
        assert (updated.status_code, deleted.status_code) == (200, 204)
        # Every delivery has failed twice while the receiver was down.
        down = await _until(
            client,
            key,
            webhook,
            lambda found: len(found) == 6 and all(len(_failed(d)) >= 2 for d in found),
        )
        await receiver.start()
        try:
            delivered = await _until(client, key, webhook, _all("delivered", 6))
        finally:
            await receiver.stop()
        changes = await _feed(client, 6)

    processed = receiver.processed(webhook["secret"])  # verifies every request's signature
    assert set(processed) == {d["id"] for d in delivered}
    assert sorted(
        (p["data"]["id"], p["data"]["version"], p["data"]["operation"]) for p in processed.values()
    ) == sorted((c["id"], c["version"], c["operation"]) for c in changes)
    assert sorted(p["type"] for p in processed.values()) == sorted(
        ["source.created"] * 4 + ["source.updated", "source.deleted"]
    )
    assert all(p["timestamp"] == p["data"]["changed_at"] for p in processed.values())
    for delivery in down:
        assert delivery["status"] == "pending"
        assert all(a["status_code"] is None for a in delivery["attempts"])
        assert all(a["error"].endswith("connection refused") for a in _failed(delivery))
    for delivery in delivered:
        last = delivery["attempts"][-1]
        assert (last["status_code"], last["error"]) == (204, None)
        assert last["latency_ms"] >= 0
        assert delivery["attempt_count"] == len(delivery["attempts"]) >= 3
        assert delivery["next_attempt_at"] is None
        assert delivery["finished_at"] is not None


async def test_two_workers_share_the_queue_and_send_each_delivery_once() -> None:
    async with receiving() as receiver, serving() as (client, key, app):
        settings: Settings = app.state.settings
        assert settings.database_url is not None
        engine = create_engine(settings.database_url)
        other = WebhookWorker(settings, create_sessionmaker(engine))
        running = asyncio.create_task(other.run())
        try:
            webhook = await _webhook(client, key, receiver.url)
            await _write_sources(client, key, 40)
            delivered = await _until(client, key, webhook, _all("delivered", 40))
        finally:
            other.stop()
            await running
            await engine.dispose()

    assert len(receiver.received) == 40
    assert len({r.webhook_id for r in receiver.received}) == 40
    assert {d["attempt_count"] for d in delivered} == {1}


async def test_retries_keep_the_webhook_id_and_body_and_give_up_after_the_period() -> None:
    async with (
        receiving(answer=lambda _: 500) as receiver,
        serving(webhook_retry_period=1) as (client, key, _),
    ):
        webhook = await _webhook(client, key, receiver.url)
        await _write_sources(client, key, 1)
        [failed] = await _until(client, key, webhook, _all("failed", 1))

    attempts = failed["attempts"]
    assert len(attempts) == failed["attempt_count"] >= 2
    assert {(a["status_code"], a["error"]) for a in attempts} == {(500, None)}
    assert failed["finished_at"] is not None
    assert failed["next_attempt_at"] is None
    assert len(receiver.received) == len(attempts)
    assert {r.webhook_id for r in receiver.received} == {failed["id"]}
    assert len({r.body for r in receiver.received}) == 1
    assert len(receiver.processed(webhook["secret"])) == 1  # each attempt's signature holds


async def test_an_attempt_is_cut_at_the_timeout_and_a_redirect_is_not_followed() -> None:
    answers = {0: HOLD, 1: 307}
    async with (
        receiving(answer=lambda n: answers.get(n, 204)) as receiver,
        serving(webhook_timeout=1, webhook_lease=3) as (client, key, _),
    ):
        webhook = await _webhook(client, key, receiver.url)
        await _write_sources(client, key, 1)
        [delivery] = await _until(client, key, webhook, _all("delivered", 1))

    held, redirected, answered = delivery["attempts"]
    assert held["status_code"] is None
    assert held["error"] == "no answer within 1 s"
    assert 1000 <= held["latency_ms"] < 2000
    assert (redirected["status_code"], redirected["error"]) == (307, None)
    assert answered["status_code"] == 204
    assert {r.path for r in receiver.received} == {"/hooks/newsgraph"}
    assert [r.webhook_id for r in receiver.received] == [delivery["id"]] * 3


async def test_a_target_refused_at_send_time_gets_no_request() -> None:
    """The worker checks the addresses it connects to, whatever was checked at creation (here
    the API allowed loopback and the worker does not; DNS changing its answer is the same)."""
    async with (
        receiving() as receiver,
        serving(webhook_allowed_hosts=[], webhook_retry_period=1) as (client, key, app),
    ):
        app.state.webhook_targets = TargetPolicy(["127.0.0.1"], resolve_timeout=2)
        webhook = await _webhook(client, key, receiver.url)
        await _write_sources(client, key, 1)
        [delivery] = await _until(client, key, webhook, _all("failed", 1))

    assert receiver.received == []
    errors = {a["error"] for a in delivery["attempts"]}
    assert errors == {
        "refused: 127.0.0.1 is a loopback address: webhooks may not target it unless "
        "NEWSGRAPH_WEBHOOK_ALLOWED_HOSTS allows it"
    }


async def test_deleting_a_webhook_stops_its_deliveries() -> None:
    async with receiving(answer=lambda _: 503) as receiver, serving() as (client, key, _):
        webhook = await _webhook(client, key, receiver.url)
        await _write_sources(client, key, 2)
        await receiver.wait_for(4)  # retried: both deliveries at least twice

        deleted = await client.delete(f"/v1/webhooks/{webhook['id']}", headers=key)
        await asyncio.sleep(0.5)  # an attempt in flight at the deletion may still land
        after_deletion = len(receiver.received)
        await _write_sources(client, key, 0)
        created = await client.post(
            "/v1/sources", json={"slug": "later", "name": "Later", "kind": "other"}, headers=key
        )
        await asyncio.sleep(1.5)

    assert deleted.status_code == 204
    assert created.status_code == 201
    assert len(receiver.received) == after_deletion
    assert "later" not in b"".join(r.body for r in receiver.received).decode()
