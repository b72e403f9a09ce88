"""Writing statements: the request body is a seed statement, checked by the seed loader's code."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import EntityKind
from db.models import Article, Entity, Event, Evidence, Statement
from tests.support import writing as shared
from tests.support.factories import make_entity, make_event

ARTICLE, BODY, span, problems, count = (
    shared.ARTICLE,
    shared.BODY,
    shared.span,
    shared.problems,
    shared.count,
)
QUOTE = "the Northern Territories belong to Japan"


@pytest.fixture
async def kishida(session: AsyncSession, call: Article) -> Entity:
    await make_event(session, "kishida-putin-call", "2021-10-07")
    return await make_entity(session, "fumio-kishida", "Fumio Kishida", EntityKind.PERSON)


def claim(**changes: Any) -> dict[str, Any]:
    return {
        "slug": "kishida-islands-are-japans",
        "speaker": "fumio-kishida",
        "kind": "direct_quote",
        "text": QUOTE,
        "conveyed_by": "japan",
        "conveyed_by_description": "a ministry official",
        "event": "kishida-putin-call",
        "evidence": [span(QUOTE)],
    } | changes


async def ref(session: AsyncSession, model: Any, slug: str) -> Any:
    return (await session.scalars(select(model).where(model.slug == slug))).one()


async def test_create_needs_a_write_key(
    client: AsyncClient, reader: dict[str, str], kishida: Entity
) -> None:
    anonymous = await client.post("/v1/statements", json=claim())
    read_only = await client.post("/v1/statements", json=claim(), headers=reader)

    assert anonymous.status_code == 401
    assert read_only.status_code == 403


async def test_create_returns_the_statement_with_location_and_etag(
    session: AsyncSession,
    client: AsyncClient,
    writer: dict[str, str],
    call: Article,
    kishida: Entity,
) -> None:
    japan = await ref(session, Entity, "japan")
    event = await ref(session, Event, "kishida-putin-call")

    response = await client.post("/v1/statements", json=claim(), headers=writer)

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/statements/{body['id']}"
    assert response.headers["etag"].startswith('"v1-')
    start = BODY.index(QUOTE)
    assert body == {
        "id": body["id"],
        "slug": "kishida-islands-are-japans",
        "speaker": {
            "id": str(kishida.id),
            "slug": "fumio-kishida",
            "kind": "person",
            "name": "Fumio Kishida",
        },
        "text": QUOTE,
        "kind": "direct_quote",
        "conveyed_by": {"id": str(japan.id), "slug": "japan", "kind": "country", "name": "Japan"},
        "conveyed_by_description": "a ministry official",
        "event": {
            "id": str(event.id),
            "slug": "kishida-putin-call",
            "title": "Kishida putin call",
            "event_type": "CONSULT",
            "modality": "asserted",
            "time": {
                "edtf": "2021-10-07",
                "earliest": "2021-10-07",
                "latest": "2021-10-07",
                "precision": "day",
            },
        },
        "version": 1,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "evidence": [
            {
                "article_id": str(call.id),
                "start": start,
                "end": start + len(QUOTE),
                "quote": QUOTE,
                "editorial": False,
                "note": None,
                "field": None,
            }
        ],
    }
    assert (await client.get(response.headers["location"])).json() == body


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            claim(speaker="atlantis", event="no-such-event"),
            [
                ("speaker", "unknown entity slug 'atlantis'"),
                ("event", "unknown event slug 'no-such-event'"),
            ],
        ),
        (
            claim(text="The islands are Japanese"),
            [
                (
                    "text",
                    "a direct quote must appear word for word in an article its evidence cites",
                )
            ],
        ),
        (
            claim(evidence=[{"quote": "Japan owns the islands", "article": ARTICLE}]),
            [
                (
                    "evidence.0.quote",
                    "in article 'kyodo-call': 'Japan owns the islands' does not occur in the "
                    "article body",
                ),
            ],
        ),
        (
            claim(evidence=[span(QUOTE) | {"quote": "the Southern Territories belong to Japan"}]),
            [
                (
                    "evidence.0.quote",
                    "in article 'kyodo-call': span [99, 139) covers "
                    "'the Northern Territories belong to Japan', not "
                    "'the Southern Territories belong to Japan'",
                ),
            ],
        ),
        (
            claim(kind="rumour"),
            [("kind", "Input should be 'direct_quote' or 'paraphrase'")],
        ),
    ],
)
async def test_the_seed_checks_refuse_bad_input_naming_the_field(
    session: AsyncSession,
    client: AsyncClient,
    writer: dict[str, str],
    kishida: Entity,
    body: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    response = await client.post("/v1/statements", json=body, headers=writer)

    assert problems(response) == expected
    assert await count(session, Statement) == 0


async def test_a_duplicate_slug_is_409(
    client: AsyncClient, writer: dict[str, str], kishida: Entity
) -> None:
    await client.post("/v1/statements", json=claim(), headers=writer)

    again = await client.post("/v1/statements", json=claim(kind="paraphrase"), headers=writer)

    assert again.status_code == 409
    assert again.json()["code"] == "conflict"


async def test_patch_needs_if_match_refuses_a_stale_one_and_keeps_the_evidence(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str], kishida: Entity
) -> None:
    created = await client.post("/v1/statements", json=claim(), headers=writer)
    etag = created.headers["etag"]
    url = created.headers["location"]
    change = {"conveyed_by": None, "conveyed_by_description": None, "event": None}

    missing = await client.patch(url, json=change, headers=writer)
    updated = await client.patch(url, json=change, headers=writer | {"If-Match": etag})
    stale = await client.patch(
        url, json={"kind": "paraphrase"}, headers=writer | {"If-Match": etag}
    )

    assert missing.status_code == 428
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert (body["version"], body["conveyed_by"], body["event"]) == (2, None, None)
    assert updated.headers["etag"].startswith('"v2-')
    assert body["evidence"] == created.json()["evidence"]
    assert stale.status_code == 412
    assert await count(session, Evidence) == 1


async def test_patch_checks_the_quote_against_the_evidence_it_keeps(
    client: AsyncClient, writer: dict[str, str], kishida: Entity
) -> None:
    created = await client.post("/v1/statements", json=claim(), headers=writer)

    response = await client.patch(
        created.headers["location"],
        json={"text": "The islands are Japan's"},
        headers=writer | {"If-Match": created.headers["etag"]},
    )

    assert problems(response) == [
        ("text", "a direct quote must appear word for word in an article its evidence cites")
    ]


async def test_delete_needs_if_match_and_removes_the_evidence(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str], kishida: Entity
) -> None:
    created = await client.post("/v1/statements", json=claim(), headers=writer)

    missing = await client.delete(created.headers["location"], headers=writer)
    deleted = await client.delete(
        created.headers["location"], headers=writer | {"If-Match": created.headers["etag"]}
    )

    assert missing.status_code == 428
    assert deleted.status_code == 204
    assert await count(session, Statement) == 0
    assert await count(session, Evidence) == 0
    assert await count(session, Entity) == 3  # the speaker and messenger stay


async def test_a_retried_create_is_replayed_and_creates_nothing(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str], kishida: Entity
) -> None:
    headers = writer | {"Idempotency-Key": "claim-1"}

    first = await client.post("/v1/statements", json=claim(), headers=headers)
    retry = await client.post("/v1/statements", json=claim(), headers=headers)

    assert first.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert await count(session, Statement) == 1
