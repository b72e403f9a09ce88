"""GET /v1/changes over a database whose writes commit: what every write path records, and a
reader polling while writers commit out of order never skips or repeats a change."""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from api.changes.service import prune
from api.main import create_app
from api.settings import Settings
from api.shared.auth import issue_key
from bench.corpus import generate
from db.bulk import import_ndjson
from db.enums import ApiKeyScope
from db.session import create_engine, create_sessionmaker
from seeds.files import default_seed_paths
from seeds.loader import load_seeds
from tests.support.clients import bearer, client_for
from tests.support.database import connect, scratch_database


@pytest.fixture
async def feed() -> AsyncIterator[tuple[AsyncClient, dict[str, str], str]]:
    """An app over a database of its own whose requests commit, and an admin key."""
    async with scratch_database("feed") as url:
        key = bearer(await issue_key(url, name="feed", scopes=[ApiKeyScope.ADMIN]))
        app = create_app(Settings.model_validate({"DATABASE_URL": url}))
        async with client_for(app) as client:
            yield client, key, url


async def _read_all(
    client: AsyncClient, after: str | None = None, **params: Any
) -> tuple[list[dict[str, Any]], str | None]:
    """Every change ready now, page by page (3 a page, to cross page boundaries)."""
    items: list[dict[str, Any]] = []
    while True:
        query = {"limit": 3, **params} | ({"after": after} if after else {})
        response = await client.get("/v1/changes", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        after = page["next_cursor"]
        if not page["has_more"]:
            return items, after


async def _settled(
    client: AsyncClient, count: int, after: str | None = None, **params: Any
) -> tuple[list[dict[str, Any]], str | None]:
    """`_read_all` once `count` changes are ready. A change shows once every transaction that
    began before it has ended, on the whole server: a test sharing it with other work may
    wait a little for theirs."""
    deadline = asyncio.get_running_loop().time() + 120
    items, cursor = await _read_all(client, after, **params)
    while len(items) < count and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        more, cursor = await _read_all(client, cursor, **params)
        items += more
    return items, cursor


def _summary(items: list[dict[str, Any]]) -> list[tuple[str, str, str, int]]:
    return [(c["type"], c["slug"], c["operation"], c["version"]) for c in items]


async def test_the_seed_and_each_api_write_appear_once_with_deletes_as_tombstones(
    feed: tuple[AsyncClient, dict[str, str], str],
) -> None:
    client, key, url = feed
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            await load_seeds(session, default_seed_paths())
            await session.commit()
    finally:
        await engine.dispose()

    seeded, cursor = await _settled(client, 42)
    created = await client.post(
        "/v1/entities",
        json={"slug": "shikotan-port", "kind": "place", "name": "Shikotan port"},
        headers=key,
    )
    renamed = await client.patch(
        "/v1/entities/shikotan-port",
        json={"aliases": [{"name": "Malokurilskoye", "kind": "common"}]},
        headers=key | {"If-Match": created.headers["etag"]},
    )
    deleted = await client.delete(
        "/v1/entities/shikotan-port", headers=key | {"If-Match": renamed.headers["etag"]}
    )
    later, _ = await _settled(client, 3, cursor)

    assert (created.status_code, renamed.status_code, deleted.status_code) == (201, 200, 204)
    # One `create` per seeded resource, in one transaction.
    assert {c["operation"] for c in seeded} == {"create"}
    counts = {kind: sum(c["type"] == kind for c in seeded) for kind in {c["type"] for c in seeded}}
    assert counts == {
        "source": 1,
        "article": 1,
        "entity": 16,
        "event": 13,
        "statement": 8,
        "dispute": 3,
    }
    assert len({(c["type"], c["id"]) for c in seeded}) == len(seeded)
    # An alias replaced is an update of its entity; the delete keeps the last slug.
    assert _summary(later) == [
        ("entity", "shikotan-port", "create", 1),
        ("entity", "shikotan-port", "update", 2),
        ("entity", "shikotan-port", "delete", 2),
    ]
    assert {c["id"] for c in later} == {created.json()["id"]}
    # Filtered by type, from the start.
    only_sources, _ = await _settled(client, 1, type="source")
    assert _summary(only_sources) == [("source", "kyodo", "create", 1)]


async def test_a_poller_never_skips_or_repeats_while_writers_commit_out_of_order(
    feed: tuple[AsyncClient, dict[str, str], str],
) -> None:
    client, _, url = feed
    writers = 12
    # Each writer begins and writes in order 0..11, then they commit in reverse: the last to
    # write commits first, while the earlier ones still hold their transactions open.
    connections = [await connect(url) for _ in range(writers)]
    transactions = [connection.transaction() for connection in connections]
    slugs = [f"source-{n:02d}" for n in range(writers)]
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    try:
        for n, (connection, transaction) in enumerate(zip(connections, transactions, strict=True)):
            await transaction.start()
            await connection.execute(
                "INSERT INTO source (id, slug, name, kind) VALUES ($1, $2, $3, 'news_agency')",
                uuid.uuid4(),
                slugs[n],
                f"Source {n}",
            )
        for n in reversed(range(writers)):
            await transactions[n].commit()
            await asyncio.sleep(random.uniform(0, 0.01))
            page, cursor = await _read_all(client, cursor)
            seen += page
            if n > 0:
                # Writer 0 is still open and older than every committed one: nothing shows.
                assert page == []
    finally:
        for connection in connections:
            await connection.close()
    page, cursor = await _settled(client, writers - len(seen), cursor)
    seen += page

    assert [c["slug"] for c in seen] == slugs  # each once, in the order they began writing
    again, _ = await _read_all(client, cursor)
    assert again == []


async def test_a_cursor_before_what_is_kept_is_410_and_the_rest_reads_on(
    feed: tuple[AsyncClient, dict[str, str], str],
) -> None:
    client, key, url = feed
    for n in range(3):
        response = await client.post(
            "/v1/sources",
            json={"slug": f"s{n}", "name": f"S{n}", "kind": "news_agency"},
            headers=key,
        )
        assert response.status_code == 201, response.text
    everything, end = await _settled(client, 3)
    first = (await client.get("/v1/changes", params={"limit": 1})).json()
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            removed = await prune(session, keep=timedelta(0))
    finally:
        await engine.dispose()
    await client.post(
        "/v1/sources", json={"slug": "s3", "name": "S3", "kind": "news_agency"}, headers=key
    )

    expired = await client.get("/v1/changes", params={"after": first["next_cursor"]})
    from_end, _ = await _settled(client, 1, end)
    from_start, _ = await _settled(client, 1)

    assert (len(everything), removed) == (3, 3)
    assert expired.status_code == 410
    assert expired.headers["content-type"] == "application/problem+json"
    assert expired.json()["code"] == "changes_expired"
    assert [c["slug"] for c in from_end] == ["s3"]
    assert [c["slug"] for c in from_start] == ["s3"]


async def test_a_bulk_import_records_each_article_it_creates(
    feed: tuple[AsyncClient, dict[str, str], str], tmp_path: Path
) -> None:
    client, _, url = feed
    path = tmp_path / "corpus.ndjson"
    generate(path, articles=40, seed=3)
    connection = await connect(url)
    try:
        await import_ndjson(connection, path)
        articles = await connection.fetchval("SELECT count(*) FROM article")
    finally:
        await connection.close()

    changes, _ = await _settled(client, 40, type="article")

    assert len(changes) == articles == 40
    assert {c["operation"] for c in changes} == {"create"}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"after": "not-a-cursor"}, "invalid_cursor"),
        ({"type": "planet"}, "validation_error"),
        ({"limit": 0}, "validation_error"),
    ],
)
async def test_bad_parameters_are_400_problems(
    client: AsyncClient, params: dict[str, Any], code: str
) -> None:
    response = await client.get("/v1/changes", params=params)

    assert response.status_code == 400
    assert response.json()["code"] == code
