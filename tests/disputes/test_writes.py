"""Writing disputes: the request body is a seed dispute, checked by the seed loader's code."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import EntityKind
from db.models import (
    Article,
    Dispute,
    DisputeEvent,
    DisputeParty,
    DisputeTerritory,
    Entity,
    Event,
    Evidence,
)
from tests.support import writing as shared
from tests.support.factories import make_entity, make_event

ARTICLE, BODY, span, problems, count = (
    shared.ARTICLE,
    shared.BODY,
    shared.span,
    shared.problems,
    shared.count,
)
POSITION = "the Northern Territories belong to Japan"


@pytest.fixture
async def places(session: AsyncSession, call: Article) -> tuple[Entity, Event]:
    islands = await make_entity(
        session, "southern-kuril-islands", "Southern Kuril Islands", EntityKind.TERRITORY
    )
    talks = await make_event(session, "kishida-putin-call", "2021-10-07")
    return islands, talks


def kurils(**changes: Any) -> dict[str, Any]:
    return {
        "slug": "kuril-islands-dispute",
        "title": "Kuril Islands dispute",
        "kind": "territorial",
        "status": "active",
        "time": "1945/..",
        "summary": "Japan and Russia both claim the southern Kuril Islands.",
        "parties": [
            {
                "entity": "japan",
                "role": "claimant",
                "position": "The islands are Japan's inherent territory.",
                "evidence": [span(POSITION)],
            },
            {"entity": "russia", "role": "administering_party"},
        ],
        "territories": [
            {
                "entity": "southern-kuril-islands",
                "administered_by": "russia",
                "claimed_by": "japan",
                "evidence": [span("the islands")],
            }
        ],
        "events": [
            {
                "event": "kishida-putin-call",
                "role": "negotiation",
                "significance": "The leaders agree to keep talking.",
            }
        ],
        "evidence": [{"editorial": True, "note": "Since the 1945 occupation.", "article": ARTICLE}],
    } | changes


def cited(article: Article, text: str) -> dict[str, Any]:
    start = BODY.index(text)
    return {
        "article_id": str(article.id),
        "start": start,
        "end": start + len(text),
        "quote": text,
        "editorial": False,
        "note": None,
        "field": None,
    }


async def entity(client: AsyncClient, slug: str) -> dict[str, Any]:
    body = (await client.get(f"/v1/entities/{slug}")).json()
    return {key: body[key] for key in ("id", "slug", "kind", "name")}


async def test_create_needs_a_write_key(
    client: AsyncClient, reader: dict[str, str], places: tuple[Entity, Event]
) -> None:
    anonymous = await client.post("/v1/disputes", json=kurils())
    read_only = await client.post("/v1/disputes", json=kurils(), headers=reader)

    assert anonymous.status_code == 401
    assert read_only.status_code == 403


async def test_create_returns_the_dispute_with_location_and_etag(
    client: AsyncClient, writer: dict[str, str], call: Article, places: tuple[Entity, Event]
) -> None:
    japan, russia = await entity(client, "japan"), await entity(client, "russia")

    response = await client.post("/v1/disputes", json=kurils(), headers=writer)

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/disputes/{body['id']}"
    assert response.headers["etag"].startswith('"v1-')
    assert body == {
        "id": body["id"],
        "slug": "kuril-islands-dispute",
        "title": "Kuril Islands dispute",
        "kind": "territorial",
        "status": "active",
        "summary": "Japan and Russia both claim the southern Kuril Islands.",
        "time": {"edtf": "1945/..", "earliest": "1945-01-01", "latest": None, "precision": "year"},
        "version": 1,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "parties": [
            {
                "entity": japan,
                "role": "claimant",
                "position": "The islands are Japan's inherent territory.",
                "evidence": [cited(call, POSITION)],
            },
            {"entity": russia, "role": "administering_party", "position": None, "evidence": []},
        ],
        "territories": [
            {
                "entity": await entity(client, "southern-kuril-islands"),
                "administered_by": russia,
                "claimed_by": japan,
                "evidence": [cited(call, "the islands")],
            }
        ],
        "evidence": [
            {
                "article_id": str(call.id),
                "start": None,
                "end": None,
                "quote": None,
                "editorial": True,
                "note": "Since the 1945 occupation.",
                "field": None,
            }
        ],
        "names": [],
        "pov": None,
    }
    assert (await client.get(response.headers["location"])).json() == body
    timeline = (await client.get(f"{response.headers['location']}/timeline")).json()
    assert [(e["slug"], e["role"], e["significance"]) for e in timeline["items"]] == [
        ("kishida-putin-call", "negotiation", "The leaders agree to keep talking.")
    ]


def _territory(**changes: Any) -> dict[str, Any]:
    return kurils(territories=[{"entity": "southern-kuril-islands"} | changes])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            kurils(parties=[{"entity": "atlantis", "role": "claimant"}]),
            [("parties.0.entity", "unknown entity slug 'atlantis'")],
        ),
        (
            _territory(administered_by="russia", claimed_by="russia"),
            [("territories.0.claimed_by", "the claimant cannot also be the administering party")],
        ),
        (
            kurils(events=[{"event": "yalta", "role": "origin"}]),
            [("events.0.event", "unknown event slug 'yalta'")],
        ),
        (
            kurils(time="1945/soon"),
            [("time", "not a valid EDTF date or interval: '1945/soon'")],
        ),
        (
            kurils(status="frozen"),
            [("status", "Input should be 'active', 'dormant' or 'resolved'")],
        ),
        (
            _territory(evidence=[{"quote": "the four islands", "article": ARTICLE}]),
            [
                (
                    "territories.0.evidence.0.quote",
                    "in article 'kyodo-call': 'the four islands' does not occur in the article "
                    "body",
                )
            ],
        ),
        (
            _territory(evidence=[span("the islands") | {"end": BODY.index("the islands") + 10}]),
            [
                (
                    "territories.0.evidence.0.quote",
                    f"in article 'kyodo-call': span [{BODY.index('the islands')}, "
                    f"{BODY.index('the islands') + 10}) covers 'the island', not 'the islands'",
                )
            ],
        ),
    ],
)
async def test_the_seed_checks_refuse_bad_input_naming_the_field(
    session: AsyncSession,
    client: AsyncClient,
    writer: dict[str, str],
    places: tuple[Entity, Event],
    body: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    response = await client.post("/v1/disputes", json=body, headers=writer)

    assert problems(response) == expected
    assert await count(session, Dispute) == 0


async def test_a_duplicate_slug_is_409(
    client: AsyncClient, writer: dict[str, str], places: tuple[Entity, Event]
) -> None:
    await client.post("/v1/disputes", json=kurils(), headers=writer)

    again = await client.post("/v1/disputes", json=kurils(title="Other"), headers=writer)

    assert again.status_code == 409
    assert again.json()["code"] == "conflict"


async def test_patch_needs_if_match_refuses_a_stale_one_and_replaces_parties(
    session: AsyncSession,
    client: AsyncClient,
    writer: dict[str, str],
    places: tuple[Entity, Event],
) -> None:
    created = await client.post("/v1/disputes", json=kurils(), headers=writer)
    etag = created.headers["etag"]
    url = created.headers["location"]
    change = {
        "status": "dormant",
        "parties": [{"entity": "russia", "role": "administering_party", "position": "Settled."}],
    }

    missing = await client.patch(url, json=change, headers=writer)
    updated = await client.patch(url, json=change, headers=writer | {"If-Match": etag})
    stale = await client.patch(url, json={"title": "X"}, headers=writer | {"If-Match": etag})

    assert missing.status_code == 428
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert (body["status"], body["version"]) == ("dormant", 2)
    assert updated.headers["etag"].startswith('"v2-')
    assert [(p["entity"]["slug"], p["position"]) for p in body["parties"]] == [
        ("russia", "Settled.")
    ]
    assert body["territories"] == created.json()["territories"]  # not sent: kept
    assert stale.status_code == 412
    assert await count(session, DisputeParty) == 1
    assert await count(session, Evidence) == 2  # Japan's position went with Japan's party


async def test_patch_of_the_timeline_alone_is_a_new_version(
    client: AsyncClient, writer: dict[str, str], places: tuple[Entity, Event]
) -> None:
    created = await client.post("/v1/disputes", json=kurils(), headers=writer)

    updated = await client.patch(
        created.headers["location"],
        json={"events": []},
        headers=writer | {"If-Match": created.headers["etag"]},
    )

    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2
    timeline = (await client.get(f"{created.headers['location']}/timeline")).json()
    assert timeline["items"] == []


async def test_delete_removes_the_parts_and_keeps_entities_and_events(
    session: AsyncSession,
    client: AsyncClient,
    writer: dict[str, str],
    places: tuple[Entity, Event],
) -> None:
    created = await client.post("/v1/disputes", json=kurils(), headers=writer)

    missing = await client.delete(created.headers["location"], headers=writer)
    deleted = await client.delete(
        created.headers["location"], headers=writer | {"If-Match": created.headers["etag"]}
    )

    assert missing.status_code == 428
    assert deleted.status_code == 204
    for model in (Dispute, DisputeParty, DisputeTerritory, DisputeEvent, Evidence):
        assert await count(session, model) == 0
    assert (await count(session, Entity), await count(session, Event)) == (3, 1)


async def test_a_retried_create_is_replayed_and_creates_nothing(
    session: AsyncSession,
    client: AsyncClient,
    writer: dict[str, str],
    places: tuple[Entity, Event],
) -> None:
    headers = writer | {"Idempotency-Key": "kurils-1"}

    first = await client.post("/v1/disputes", json=kurils(), headers=headers)
    retry = await client.post("/v1/disputes", json=kurils(), headers=headers)

    assert first.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert await count(session, Dispute) == 1
