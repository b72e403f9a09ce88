"""What every PATCH and DELETE checks before it changes a row (api/shared/concurrency.py `claim`):
If-Match (428 without, 412 stale), 404 for a missing row, the admin scope for cascades,
`If-Match: *` and rows the seed files own; the row locked at the version the client read, so a
concurrent writer's newer version is never deleted; and a deadlock's victim run again."""

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from api.main import create_app
from api.settings import Settings
from api.shared import routing
from api.shared.auth import issue_key
from db.enums import ApiKeyScope
from db.models import Article, SeedFile
from tests.support.clients import bearer, client_for
from tests.support.database import connect, migrated_database
from tests.support.factories import (
    make_dispute,
    make_entity,
    make_event,
    make_source,
    make_statement,
)
from tests.support.writing import ARTICLE

STALE = '"v999-0"'
# (resource, path of the row the `rows` fixture makes, a PATCH body that would be valid)
RESOURCES = [
    ("source", "/v1/sources/nikkei", {"name": "Nikkei Asia"}),
    ("article", f"/v1/articles/{ARTICLE}", {"headline": "A call"}),
    ("entity", "/v1/entities/japan", {"name": "Nippon"}),
    ("event", "/v1/events/phone-talks", {"title": "Phone talks"}),
    ("statement", "/v1/statements/kishida-says", {"text": "The islands are Japan's."}),
    ("dispute", "/v1/disputes/kurils", {"title": "Kuril Islands dispute"}),
]
IDS = [resource for resource, _, _ in RESOURCES]


@pytest.fixture
async def rows(session: AsyncSession, call: Article) -> None:
    """One row of each resource, none referring to another but the article to its source."""
    await make_source(session, "nikkei", "Nikkei")
    kishida = await make_entity(session, "fumio-kishida", "Fumio Kishida")
    await make_event(session, "phone-talks", "2021-10-07")
    await make_statement(session, "kishida-says", kishida, "The islands are ours.")
    await make_dispute(session, "kurils", "Kuril Islands dispute")


def _method_cases() -> list[Any]:
    return [
        pytest.param(method, path, body, id=f"{method}-{resource}")
        for resource, path, body in RESOURCES
        for method in ("PATCH", "DELETE")
    ]


@pytest.mark.usefixtures("rows")
@pytest.mark.parametrize(("method", "path", "body"), _method_cases())
async def test_if_match_is_required_and_checked_and_a_missing_row_is_404(
    client: AsyncClient, admin: dict[str, str], method: str, path: str, body: dict[str, Any]
) -> None:
    payload: dict[str, Any] = {"json": body} if method == "PATCH" else {}
    before = await client.get(path)
    assert before.status_code == 200

    missing = await client.request(method, path, headers=admin, **payload)
    stale = await client.request(method, path, headers=admin | {"If-Match": STALE}, **payload)
    nowhere = await client.request(
        method, path + "-nowhere", headers=admin | {"If-Match": "*"}, **payload
    )

    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    assert (nowhere.status_code, nowhere.json()["code"]) == (404, "not_found")
    after = await client.get(path)
    assert after.status_code == 200
    assert after.headers["etag"] == before.headers["etag"]  # nothing changed


@pytest.mark.usefixtures("rows")
@pytest.mark.parametrize(("method", "path", "body"), _method_cases())
async def test_a_write_key_may_not_overwrite_any_version(
    client: AsyncClient,
    writer: dict[str, str],
    admin: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any],
) -> None:
    payload: dict[str, Any] = {"json": body} if method == "PATCH" else {}

    refused = await client.request(method, path, headers=writer | {"If-Match": "*"}, **payload)
    allowed = await client.request(method, path, headers=admin | {"If-Match": "*"}, **payload)

    assert (refused.status_code, refused.json()["code"]) == (403, "insufficient_scope")
    assert "`If-Match: *`" in refused.json()["detail"]
    assert allowed.status_code == (200 if method == "PATCH" else 204), allowed.text


@pytest.mark.usefixtures("rows")
@pytest.mark.parametrize(
    "path", ["/v1/sources/kyodo", f"/v1/articles/{ARTICLE}", "/v1/entities/japan"]
)
async def test_cascades_need_the_admin_scope(
    client: AsyncClient, writer: dict[str, str], admin: dict[str, str], path: str
) -> None:
    etag = (await client.get(path)).headers["etag"]

    refused = await client.delete(
        path, params={"cascade": "true"}, headers=writer | {"If-Match": etag}
    )
    allowed = await client.delete(
        path, params={"cascade": "true"}, headers=admin | {"If-Match": etag}
    )

    assert (refused.status_code, refused.json()["code"]) == (403, "insufficient_scope")
    assert "`cascade=true`" in refused.json()["detail"]
    assert allowed.status_code == 204
    assert (await client.get(path)).status_code == 404


@pytest.mark.usefixtures("rows")
async def test_rows_the_seed_files_own_are_changed_by_admins_only(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str], admin: dict[str, str]
) -> None:
    read = await client.get("/v1/entities/fumio-kishida")
    session.add(
        SeedFile(key="entities.yaml", content_hash="0" * 64, owned={"entity": [read.json()["id"]]})
    )
    await session.flush()
    headers = {"If-Match": read.headers["etag"]}

    refused = await client.patch(
        "/v1/entities/fumio-kishida", json={"name": "F. Kishida"}, headers=writer | headers
    )
    other = await client.patch(
        "/v1/entities/japan",
        json={"name": "Nippon"},
        headers=writer | {"If-Match": (await client.get("/v1/entities/japan")).headers["etag"]},
    )
    allowed = await client.patch(
        "/v1/entities/fumio-kishida", json={"name": "F. Kishida"}, headers=admin | headers
    )

    assert (refused.status_code, refused.json()["code"]) == (403, "insufficient_scope")
    assert "changing an entity the seed files own" in refused.json()["detail"]
    assert other.status_code == 200  # a row of the API's own
    assert allowed.status_code == 200


# -- against committed rows, with concurrent transactions of the test's own ------------------


@pytest.fixture(scope="module")
async def committed_url() -> str:
    """A database of the module's own: what its requests commit stays out of the shared one."""
    return await migrated_database("claims")


@pytest.fixture
async def committed(
    committed_url: str,
) -> AsyncIterator[tuple[AsyncClient, dict[str, str], str]]:
    """An app whose requests commit, an admin key, and the slug of a new entity with an alias."""
    database_url = committed_url
    key = bearer(await issue_key(database_url, name="claims", scopes=[ApiKeyScope.ADMIN]))
    slug = f"claimed-{uuid.uuid4().hex[:12]}"
    app = create_app(Settings.model_validate({"DATABASE_URL": database_url}))
    async with client_for(app) as client:
        created = await client.post(
            "/v1/entities",
            json={
                "slug": slug,
                "kind": "territory",
                "name": "Claimed Islands",
                "aliases": [{"name": "Disputed Islands", "kind": "common"}],
            },
            headers=key,
        )
        assert created.status_code == 201, created.text
        yield client, key, slug


async def waiting_on_a_lock(observer: asyncpg.Connection) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        waiting = await observer.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = 'newsgraph' AND wait_event_type = 'Lock'"
        )
        if waiting:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("no request of the app is waiting on a lock")


async def test_a_delete_with_an_old_etag_never_deletes_a_newer_version(
    committed_url: str, committed: tuple[AsyncClient, dict[str, str], str]
) -> None:
    """Before, DELETE checked If-Match against the row it read, then deleted by id: a writer
    committing v2 in between lost its change to a client that had only seen v1."""
    client, key, slug = committed
    v1 = (await client.get(f"/v1/entities/{slug}")).headers["etag"]
    writer = await connect(committed_url)
    observer = await connect(committed_url)
    try:
        transaction = writer.transaction()
        await transaction.start()
        await writer.execute(
            "UPDATE entity SET version = version + 1, description = 'Changed meanwhile.'"
            " WHERE slug = $1",
            slug,
        )
        delete = asyncio.create_task(
            client.delete(f"/v1/entities/{slug}", headers=key | {"If-Match": v1})
        )
        await waiting_on_a_lock(observer)  # it read v1, and waits for the writer's row lock
        await transaction.commit()
        response = await delete
    finally:
        await writer.close()
        await observer.close()

    assert (response.status_code, response.json()["code"]) == (412, "precondition_failed")
    kept = await client.get(f"/v1/entities/{slug}")
    assert kept.status_code == 200
    assert kept.json()["description"] == "Changed meanwhile."


async def deadlock_a_patch(
    database_url: str, client: AsyncClient, key: dict[str, str], slug: str
) -> tuple[Any, int]:
    """A PATCH replacing an entity's aliases locks the entity, then its alias rows; the test's
    transaction holds an alias row and then wants the entity: a real deadlock, in which the
    request (whose deadlock_timeout ends first) is the victim. Returns the response and how
    many deadlocks PostgreSQL counted meanwhile."""
    etag = (await client.get(f"/v1/entities/{slug}")).headers["etag"]
    other = await connect(database_url)
    observer = await connect(database_url)
    try:
        deadlocks = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        before = await observer.fetchval(deadlocks)
        transaction = other.transaction()
        await transaction.start()
        await other.execute("SET LOCAL deadlock_timeout = '10s'")
        await other.execute(
            "SELECT 1 FROM entity_alias a JOIN entity e ON e.id = a.entity_id"
            " WHERE e.slug = $1 FOR UPDATE OF a",
            slug,
        )
        patch = asyncio.create_task(
            client.patch(
                f"/v1/entities/{slug}",
                json={"aliases": [{"name": "Islands in Question", "kind": "common"}]},
                headers=key | {"If-Match": etag},
            )
        )
        await waiting_on_a_lock(observer)  # the request holds the entity, wants the aliases
        # Returns once PostgreSQL has ended the request's transaction as the deadlock's victim.
        await other.execute("UPDATE entity SET description = description WHERE slug = $1", slug)
        await transaction.commit()
        response = await patch
        await observer.execute("SELECT pg_stat_clear_snapshot()")
        after = await observer.fetchval(deadlocks)
    finally:
        await other.close()
        await observer.close()
    return response, after - before


async def test_a_deadlocks_victim_is_run_again_and_succeeds(
    committed_url: str,
    committed: tuple[AsyncClient, dict[str, str], str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, key, slug = committed
    with caplog.at_level(logging.INFO, logger="api.shared.routing"):
        response, deadlocks = await deadlock_a_patch(committed_url, client, key, slug)

    assert response.status_code == 200, response.text
    assert [alias["name"] for alias in response.json()["aliases"]] == ["Islands in Question"]
    assert deadlocks >= 1
    assert any("transaction conflict (40P01)" in record.getMessage() for record in caplog.records)


async def test_a_conflict_still_there_after_the_last_attempt_is_503(
    committed_url: str,
    committed: tuple[AsyncClient, dict[str, str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, key, slug = committed
    monkeypatch.setattr(routing, "RETRIES", 0)

    response, deadlocks = await deadlock_a_patch(committed_url, client, key, slug)

    assert deadlocks >= 1
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "transaction_conflict"
    assert response.headers["retry-after"] == "2"
    names = [
        alias["name"] for alias in (await client.get(f"/v1/entities/{slug}")).json()["aliases"]
    ]
    assert names == ["Disputed Islands"]  # nothing changed
