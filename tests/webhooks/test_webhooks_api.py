"""/v1/webhooks in the test's rolled-back transaction: admin keys only, the secret shown once,
targets refused for SSRF unless allowed, and deliveries written by the writing transaction."""

import base64
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.webhooks.service import MAX_WEBHOOKS
from api.webhooks.signing import new_secret
from api.webhooks.targets import TargetPolicy
from db.models import Webhook, WebhookDelivery
from tests.support.factories import make_entity, make_source

# A public address: creating a webhook to it resolves nothing, and nothing here sends.
PUBLIC = "https://93.184.215.14/hooks/newsgraph"
KYODO = {"slug": "kyodo", "name": "Kyodo", "kind": "news_agency"}


async def _create(client: AsyncClient, admin: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post("/v1/webhooks", json={"url": PUBLIC, **body}, headers=admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_every_webhook_operation_needs_an_admin_key(
    client: AsyncClient, reader: dict[str, str], writer: dict[str, str]
) -> None:
    some = uuid.uuid4()
    operations = [
        ("POST", "/v1/webhooks", {"url": PUBLIC}),
        ("GET", "/v1/webhooks", None),
        ("GET", f"/v1/webhooks/{some}", None),
        ("DELETE", f"/v1/webhooks/{some}", None),
        ("GET", f"/v1/webhooks/{some}/deliveries", None),
    ]
    for method, path, body in operations:
        anonymous = await client.request(method, path, json=body)
        read_only = await client.request(method, path, json=body, headers=reader)
        write_only = await client.request(method, path, json=body, headers=writer)

        assert anonymous.status_code == 401, (method, path)
        assert anonymous.json()["code"] == "unauthorized"
        for refused in (read_only, write_only):
            assert refused.status_code == 403, (method, path)
            assert refused.json()["code"] == "insufficient_scope"
            assert "`admin`" in refused.json()["detail"]


async def test_the_secret_is_shown_at_creation_only(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/webhooks",
        json={"url": PUBLIC, "types": ["event", "entity", "event"]},
        headers=admin,
    )
    created = response.json()
    secret = created.pop("secret")
    read = await client.get(response.headers["location"], headers=admin)
    listed = await client.get("/v1/webhooks", headers=admin)

    assert response.status_code == 201
    assert response.headers["location"] == f"/v1/webhooks/{created['id']}"
    assert response.headers["cache-control"] == "no-store"
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert created["types"] == ["entity", "event"]  # each once, in the feed's order
    assert created["url"] == PUBLIC
    assert read.status_code == 200
    assert read.json() == created
    assert read.headers["cache-control"] == "no-store"
    assert listed.json()["items"] == [created]
    for answer in (read, listed):
        assert secret not in answer.text
        assert "secret" not in answer.text


async def test_an_idempotent_retry_gets_the_same_webhook_and_secret(
    session: AsyncSession, client: AsyncClient, admin: dict[str, str]
) -> None:
    headers = admin | {"Idempotency-Key": "hook-1"}

    first = await client.post("/v1/webhooks", json={"url": PUBLIC}, headers=headers)
    retry = await client.post("/v1/webhooks", json={"url": PUBLIC}, headers=headers)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert await session.scalar(select(func.count()).select_from(Webhook)) == 1


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8080/hook", "127.0.0.1 is a loopback address"),
        ("http://10.20.30.40/hook", "10.20.30.40 is a private address"),
        ("http://192.168.1.1/hook", "192.168.1.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata"),
        ("http://[::1]:8080/hook", "::1 is a loopback address"),
        ("http://[fe80::1]/hook", "fe80::1 is a link-local address"),
        ("http://[::ffff:10.0.0.1]/hook", "::ffff:a00:1 is a private address"),
        ("http://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata address"),
        ("http://224.0.0.1/hook", "224.0.0.1 is a multicast address"),
        ("http://0.0.0.0:8000/hook", "0.0.0.0 is an unspecified address"),
        ("http://localhost:8080/hook", "localhost resolves to"),
        # 127.0.0.1 spelled as one number: what the resolver makes of it is checked.
        ("http://2130706433/hook", "2130706433 resolves to 127.0.0.1, a loopback address"),
        ("http://hooks:secret@93.184.215.14/", "credentials"),
    ],
)
async def test_targets_that_are_not_public_are_refused(
    session: AsyncSession, client: AsyncClient, admin: dict[str, str], url: str, reason: str
) -> None:
    response = await client.post("/v1/webhooks", json={"url": url}, headers=admin)

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert reason in problem["detail"]
    assert [(e["field"], e["type"]) for e in problem["errors"]] == [("url", "target_refused")]
    assert await session.scalar(select(func.count()).select_from(Webhook)) == 0


@pytest.mark.parametrize("url", ["ftp://93.184.215.14/", "file:///etc/passwd", "gopher://x"])
async def test_only_http_and_https_urls_are_accepted(
    client: AsyncClient, admin: dict[str, str], url: str
) -> None:
    response = await client.post("/v1/webhooks", json={"url": url}, headers=admin)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["url"]


async def test_the_allowlist_lets_named_hosts_and_networks_through(
    app: FastAPI, client: AsyncClient, admin: dict[str, str]
) -> None:
    app.state.webhook_targets = TargetPolicy(["127.0.0.0/8", "localhost"], resolve_timeout=5)

    loopback = await client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=admin
    )
    by_name = await client.post(
        "/v1/webhooks", json={"url": "http://localhost:9/hook"}, headers=admin
    )
    private = await client.post("/v1/webhooks", json={"url": "http://10.0.0.1/"}, headers=admin)

    assert (loopback.status_code, by_name.status_code) == (201, 201)
    assert private.status_code == 422


async def test_unknown_types_and_fields_are_422(client: AsyncClient, admin: dict[str, str]) -> None:
    planet = await client.post(
        "/v1/webhooks", json={"url": PUBLIC, "types": ["planet"]}, headers=admin
    )
    extra = await client.post("/v1/webhooks", json={"url": PUBLIC, "secret": "x"}, headers=admin)

    assert planet.status_code == 422
    assert [e["field"] for e in planet.json()["errors"]] == ["types.0"]
    assert extra.status_code == 422
    assert [e["field"] for e in extra.json()["errors"]] == ["secret"]


async def test_a_write_records_one_delivery_per_matching_webhook_in_its_transaction(
    session: AsyncSession, client: AsyncClient, admin: dict[str, str]
) -> None:
    sources_only = await _create(client, admin, types=["source"])
    everything = await _create(client, admin)
    source = await make_source(session)
    source.name = "Kyodo News"  # the same transaction: still one change, now at version 2
    await session.flush()
    await make_entity(session, "japan", "Japan")

    mine = await client.get(f"/v1/webhooks/{sources_only['id']}/deliveries", headers=admin)
    all_of_them = await client.get(f"/v1/webhooks/{everything['id']}/deliveries", headers=admin)

    assert mine.status_code == 200
    [delivery] = mine.json()["items"]
    assert delivery["event_type"] == "source.created"
    assert delivery["status"] == "pending"
    assert (delivery["attempt_count"], delivery["attempts"]) == (0, [])
    assert delivery["finished_at"] is None
    change = delivery["change"]
    assert (change["type"], change["slug"], change["version"], change["operation"]) == (
        "source",
        "kyodo",
        2,
        "create",
    )
    assert [d["event_type"] for d in all_of_them.json()["items"]] == [
        "entity.created",
        "source.created",
    ]
    assert len({d["id"] for d in all_of_them.json()["items"]} | {delivery["id"]}) == 3


async def test_deliveries_page_and_filter(
    session: AsyncSession, client: AsyncClient, admin: dict[str, str]
) -> None:
    webhook = await _create(client, admin)
    for n in range(3):
        response = await client.post("/v1/sources", json=KYODO | {"slug": f"s{n}"}, headers=admin)
        assert response.status_code == 201
    path = f"/v1/webhooks/{webhook['id']}/deliveries"

    first = await client.get(path, params={"limit": 2}, headers=admin)
    second = await client.get(
        path, params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=admin
    )
    delivered = await client.get(path, params={"status": "delivered"}, headers=admin)
    bad = await client.get(path, params={"status": "lost"}, headers=admin)

    slugs = [d["change"]["slug"] for d in first.json()["items"] + second.json()["items"]]
    assert slugs == ["s2", "s1", "s0"]
    assert second.json()["next_cursor"] is None
    assert delivered.json()["items"] == []
    assert bad.status_code == 400


async def test_deleting_a_webhook_deletes_its_deliveries(
    session: AsyncSession, client: AsyncClient, admin: dict[str, str]
) -> None:
    webhook = await _create(client, admin)
    await make_source(session)
    path = f"/v1/webhooks/{webhook['id']}"

    deleted = await client.delete(path, headers=admin)
    again = await client.delete(path, headers=admin)
    read = await client.get(path, headers=admin)
    deliveries = await client.get(f"{path}/deliveries", headers=admin)
    await make_entity(session, "japan", "Japan")
    malformed = await client.get("/v1/webhooks/not-an-id", headers=admin)

    assert deleted.status_code == 204
    assert (again.status_code, read.status_code, deliveries.status_code) == (404, 404, 404)
    assert read.json()["code"] == "not_found"
    assert await session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
    assert malformed.status_code == 400


async def test_a_server_keeps_a_bounded_number_of_webhooks(
    session: AsyncSession, client: AsyncClient, admin: dict[str, str]
) -> None:
    session.add_all(
        Webhook(url=f"{PUBLIC}/{n}", types=[], secret=new_secret()) for n in range(MAX_WEBHOOKS)
    )
    await session.flush()

    response = await client.post("/v1/webhooks", json={"url": PUBLIC}, headers=admin)

    assert response.status_code == 409
    assert response.json()["code"] == "too_many_webhooks"
