"""The write conventions, exercised through sources: API keys and scopes, validation,
If-Match, Idempotency-Key, delete integrity, body limits."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.main import create_app
from api.settings import Settings
from api.shared.auth import create_key
from db import migrate
from db.enums import ApiKeyScope
from db.models import Source
from db.session import create_engine, create_sessionmaker
from tests.support.clients import bearer, client_for
from tests.support.database import fresh_database, run_migration
from tests.support.factories import make_article, make_source

KYODO = {"slug": "kyodo", "name": "Kyodo", "kind": "news_agency"}


async def test_create_needs_a_key(client: AsyncClient) -> None:
    response = await client.post("/v1/sources", json=KYODO)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["code"] == "unauthorized"


async def test_a_wrong_key_is_401_and_a_read_key_403(
    client: AsyncClient, reader: dict[str, str]
) -> None:
    wrong = await client.post("/v1/sources", json=KYODO, headers=bearer("ng_nonsense"))
    read_only = await client.post("/v1/sources", json=KYODO, headers=reader)

    assert wrong.status_code == 401
    assert read_only.status_code == 403
    assert read_only.json()["code"] == "insufficient_scope"


async def test_a_revoked_key_is_refused(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str]
) -> None:
    await session.execute(text("UPDATE api_key SET revoked_at = now()"))

    response = await client.post("/v1/sources", json=KYODO, headers=writer)

    assert response.status_code == 401


async def test_a_key_records_its_last_use_at_most_once_a_minute(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str]
) -> None:
    """Rewriting `last_used_at` on every request would hold the key's row lock for the whole
    write, and concurrent writes with one key would queue behind each other."""
    last_used = text("SELECT last_used_at FROM api_key WHERE name = 'desk'")

    await client.post("/v1/sources", json=KYODO, headers=writer)
    first = await session.scalar(last_used)
    await client.post("/v1/sources", json={**KYODO, "slug": "kyodo-2"}, headers=writer)
    within_the_minute = await session.scalar(last_used)
    await session.execute(text("UPDATE api_key SET last_used_at = now() - interval '2 minutes'"))
    backdated = await session.scalar(last_used)
    await client.post("/v1/sources", json={**KYODO, "slug": "kyodo-3"}, headers=writer)
    after_a_while = await session.scalar(last_used)

    assert first is not None
    assert within_the_minute == first
    assert after_a_while > backdated


async def test_create_returns_the_resource_with_location_and_etag(
    client: AsyncClient, writer: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/sources",
        json=KYODO | {"homepage_url": "https://english.kyodonews.net"},
        headers=writer,
    )

    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "kyodo"
    assert body["homepage_url"] == "https://english.kyodonews.net"
    assert body["version"] == 1
    assert response.headers["location"] == f"/v1/sources/{body['id']}"
    assert response.headers["etag"].startswith('"v1-')
    assert response.headers["cache-control"] == "no-store"
    read = await client.get(response.headers["location"])
    assert read.json() == body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"colour": "blue"}, "colour"),
        ({"name": "Kyo\x00do"}, "name"),
        ({"name": "x" * 301}, "name"),
        ({"kind": "pigeon"}, "kind"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"homepage_url": "javascript:alert(1)"}, "homepage_url"),
    ],
)
async def test_invalid_bodies_are_422_naming_the_field(
    session: AsyncSession,
    client: AsyncClient,
    writer: dict[str, str],
    change: dict[str, Any],
    field: str,
) -> None:
    response = await client.post("/v1/sources", json=KYODO | change, headers=writer)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert await session.scalar(select(func.count()).select_from(Source)) == 0


async def test_a_duplicate_slug_is_409(client: AsyncClient, writer: dict[str, str]) -> None:
    await client.post("/v1/sources", json=KYODO, headers=writer)

    again = await client.post("/v1/sources", json=KYODO | {"name": "Other"}, headers=writer)

    assert again.status_code == 409
    assert again.json()["code"] == "conflict"


async def test_patch_needs_if_match_and_refuses_a_stale_one(
    client: AsyncClient, writer: dict[str, str]
) -> None:
    created = await client.post("/v1/sources", json=KYODO, headers=writer)
    etag = created.headers["etag"]

    missing = await client.patch("/v1/sources/kyodo", json={"name": "Kyodo News"}, headers=writer)
    updated = await client.patch(
        "/v1/sources/kyodo", json={"name": "Kyodo News"}, headers=writer | {"If-Match": etag}
    )
    stale = await client.patch(
        "/v1/sources/kyodo", json={"name": "Kyodo 2"}, headers=writer | {"If-Match": etag}
    )

    assert missing.status_code == 428
    assert missing.json()["code"] == "precondition_required"
    assert updated.status_code == 200
    assert updated.json()["name"] == "Kyodo News"
    assert updated.json()["version"] == 2
    assert updated.headers["etag"].startswith('"v2-')
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    assert (await client.get("/v1/sources/kyodo")).json()["name"] == "Kyodo News"


async def test_the_etag_of_a_read_is_the_if_match_of_a_write(
    client: AsyncClient, writer: dict[str, str]
) -> None:
    await client.post("/v1/sources", json=KYODO, headers=writer)
    etag = (await client.get("/v1/sources/kyodo")).headers["etag"]

    response = await client.patch(
        "/v1/sources/kyodo", json={"homepage_url": None}, headers=writer | {"If-Match": etag}
    )

    assert response.status_code == 200


async def test_patch_cannot_null_a_required_field(
    client: AsyncClient, writer: dict[str, str], admin: dict[str, str]
) -> None:
    await client.post("/v1/sources", json=KYODO, headers=writer)

    response = await client.patch(
        "/v1/sources/kyodo", json={"name": None}, headers=admin | {"If-Match": "*"}
    )

    assert response.status_code == 422


async def test_delete_is_refused_while_articles_refer_unless_cascade(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str], admin: dict[str, str]
) -> None:
    source = await make_source(session)
    await make_article(session, source, "a-1", "Leaders spoke.")
    headers = admin | {"If-Match": "*"}

    refused = await client.delete("/v1/sources/kyodo", headers=headers)
    no_precondition = await client.delete("/v1/sources/kyodo", headers=writer)
    cascaded = await client.delete("/v1/sources/kyodo", params={"cascade": "true"}, headers=headers)

    assert refused.status_code == 409
    assert refused.json()["code"] == "still_referenced"
    assert "1 articles" in refused.json()["detail"]
    assert no_precondition.status_code == 428
    assert cascaded.status_code == 204
    assert (await client.get("/v1/sources/kyodo")).status_code == 404
    assert (await client.get("/v1/articles/a-1")).status_code == 404


async def test_an_idempotent_retry_replays_the_first_response(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str]
) -> None:
    headers = writer | {"Idempotency-Key": "create-kyodo-1"}

    first = await client.post("/v1/sources", json=KYODO, headers=headers)
    retry = await client.post("/v1/sources", json=KYODO, headers=headers)
    other_body = await client.post("/v1/sources", json=KYODO | {"name": "X"}, headers=headers)

    assert first.status_code == 201
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.headers["cache-control"] == first.headers["cache-control"] == "no-store"
    assert other_body.status_code == 422
    assert other_body.json()["code"] == "idempotency_key_reused"
    assert await session.scalar(select(func.count()).select_from(Source)) == 1


async def test_a_body_over_the_limit_is_413(client: AsyncClient, writer: dict[str, str]) -> None:
    response = await client.post(
        "/v1/sources",
        content=b'{"slug": "x", "name": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        headers=writer | {"Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_a_chunked_body_over_the_limit_is_413(
    client: AsyncClient, writer: dict[str, str]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"slug": "x", "name": "'
        for _ in range(40):
            yield b"x" * 65536  # 2.5 MiB in all, sent without a Content-Length
        yield b'"}'

    response = await client.post(
        "/v1/sources", content=chunks(), headers=writer | {"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_a_body_that_is_not_json_is_refused(
    client: AsyncClient, writer: dict[str, str]
) -> None:
    wrong_type = await client.post(
        "/v1/sources", content=b"slug=kyodo", headers=writer | {"Content-Type": "text/plain"}
    )
    broken = await client.post(
        "/v1/sources", content=b'{"slug": ', headers=writer | {"Content-Type": "application/json"}
    )

    assert wrong_type.status_code in {415, 422}
    assert wrong_type.headers["content-type"] == "application/problem+json"
    assert broken.status_code == 422
    assert broken.json()["code"] == "validation_error"


async def test_reads_can_require_a_key(session: AsyncSession, database_url: str) -> None:
    settings = Settings.model_validate(
        {"DATABASE_URL": database_url, "require_key_for_reads": True}
    )
    engine = create_engine(database_url, pool_size=1)
    async with create_sessionmaker(engine)() as own:
        _, key = await create_key(own, name="reader", scopes=[ApiKeyScope.READ])
        await own.commit()
    try:
        async with client_for(create_app(settings)) as client:
            document = (await client.get("/openapi.json")).json()
            anonymous = await client.get("/v1/sources")
            with_key = await client.get("/v1/sources", headers=bearer(key))
            health = await client.get("/healthz")
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM api_key WHERE name = 'reader'"))
        await engine.dispose()

    assert anonymous.status_code == 401
    assert with_key.status_code == 200
    assert with_key.headers["cache-control"].startswith("private")
    assert health.status_code == 200
    # The deployment's own document says so.
    assert document["paths"]["/v1/sources"]["get"]["security"] == [{"ApiKey": []}]
    assert "401" in document["paths"]["/v1/sources"]["get"]["responses"]
    assert document["paths"]["/healthz"]["get"]["security"] == []


@pytest.fixture
async def committed_app() -> tuple[Any, str, str]:
    """An app on its own database, without the rolled-back test session: real transactions."""
    url = await fresh_database("writes")
    await run_migration(migrate.upgrade, url)
    app = create_app(Settings.model_validate({"DATABASE_URL": url}))
    async with create_sessionmaker(app.state.engine)() as session:
        _, key = await create_key(session, name="desk", scopes=[ApiKeyScope.WRITE])
        await session.commit()
    return app, key, url


async def test_two_concurrent_requests_with_one_key_make_one_write(
    committed_app: tuple[Any, str, str],
) -> None:
    app, key, url = committed_app
    headers = bearer(key) | {"Idempotency-Key": "same"}
    async with client_for(app) as client:
        first, second = await asyncio.gather(
            client.post("/v1/sources", json=KYODO, headers=headers),
            client.post("/v1/sources", json=KYODO, headers=headers),
        )

    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            sources = await connection.scalar(text("SELECT count(*) FROM source"))
    finally:
        await engine.dispose()
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert sources == 1


async def test_writes_are_declared_with_the_security_scheme(settings: Settings) -> None:
    document = create_app(settings).openapi()

    operations = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    writes = [operation for method, _, operation in operations if method != "get"]
    reads = [op for method, path, op in operations if method == "get" and "webhooks" not in path]
    # Webhooks are an operator's: reading them needs the admin key too.
    assert all(
        op["security"] == [{"ApiKey": []}]
        for method, path, op in operations
        if method == "get" and "webhooks" in path
    )

    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    webhooks = [op for method, path, op in operations if method != "get" and "webhooks" in path]
    # Create, update and delete of six resources, a mention rescan, resolving a mention,
    # accepting and rejecting a candidate; a webhook's create and delete, which need the admin
    # scope.
    assert (len(writes), len(webhooks)) == (24, 2)
    assert all(operation["security"] == [{"ApiKey": []}] for operation in writes)
    assert all("the `admin` scope" in operation["description"] for operation in webhooks)
    assert all(
        "the `write` scope" in operation["description"]
        for operation in writes
        if operation not in webhooks
    )
    assert all({"401", "403"} <= set(operation["responses"]) for operation in writes)
    # Public: an explicit empty requirement, and no 401 or 403 to expect.
    assert all(operation["security"] == [] for operation in reads)
    assert not any({"401", "403"} & set(operation["responses"]) for operation in reads)
    delete = document["paths"]["/v1/sources/{source}"]["delete"]["description"]
    assert "`If-Match: *`, `cascade=true` and deleting a resource the seed files own" in delete
    assert "need the `admin` scope" in delete


async def test_concurrent_updates_with_the_same_if_match_let_one_through(
    committed_app: tuple[Any, str, str],
) -> None:
    app, key, _ = committed_app
    async with client_for(app) as client:
        created = await client.post("/v1/sources", json=KYODO, headers=bearer(key))
        etag = created.headers["etag"]
        results = await asyncio.gather(
            *(
                client.patch(
                    "/v1/sources/kyodo",
                    json={"name": f"Kyodo {n}"},
                    headers=bearer(key) | {"If-Match": etag},
                )
                for n in range(4)
            )
        )
        final = (await client.get("/v1/sources/kyodo")).json()

    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 412, 412, 412]
    assert final["version"] == 2
    assert {r.json()["code"] for r in results if r.status_code == 412} == {"precondition_failed"}
