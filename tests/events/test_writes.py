"""Writing events: the request body is a seed event, checked by the seed loader's code."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import EventType
from db.models import Article, DisputeEvent, Entity, Event, EventParticipant, Evidence, Statement
from tests.support import writing as shared
from tests.support.factories import add_to_timeline, make_dispute, make_event, make_statement

# The fixtures every write test uses: API keys, and the article with Japan and Russia.
ARTICLE, BODY, span, problems, count = (
    shared.ARTICLE,
    shared.BODY,
    shared.span,
    shared.problems,
    shared.count,
)


def phone_call(**changes: Any) -> dict[str, Any]:
    return {
        "slug": "kishida-putin-call",
        "title": "Kishida and Putin talk by phone",
        "type": "CONSULT",
        "mode": "phone",
        "contexts": ["diplomatic", "territory"],
        "time": "2021-10-07",
        "duration": "PT25M",
        "participants": [
            {"entity": "japan", "role": "actor", "evidence": [span("Fumio Kishida spoke")]},
            {"entity": "russia", "role": "recipient"},
        ],
        "evidence": [
            span("spoke with Russian President Vladimir Putin"),
            {
                "field": "time",
                "editorial": True,
                "note": "Thursday of the week.",
                "article": ARTICLE,
            },
        ],
    } | changes


def evidence(article: Article, text: str, field: str | None = None) -> dict[str, Any]:
    start = BODY.index(text)
    return {
        "article_id": str(article.id),
        "start": start,
        "end": start + len(text),
        "quote": text,
        "editorial": False,
        "note": None,
        "field": field,
    }


async def entity_ref(session: AsyncSession, slug: str) -> dict[str, Any]:
    entity = (await session.scalars(select(Entity).where(Entity.slug == slug))).one()
    return {"id": str(entity.id), "slug": slug, "kind": entity.kind.value, "name": entity.name}


async def test_create_needs_a_write_key(
    client: AsyncClient, reader: dict[str, str], call: Article
) -> None:
    anonymous = await client.post("/v1/events", json=phone_call())
    read_only = await client.post("/v1/events", json=phone_call(), headers=reader)

    assert anonymous.status_code == 401
    assert read_only.status_code == 403
    assert read_only.json()["code"] == "insufficient_scope"


async def test_create_returns_the_event_with_location_and_etag(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str], call: Article
) -> None:
    response = await client.post("/v1/events", json=phone_call(), headers=writer)

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/events/{body['id']}"
    assert response.headers["etag"].startswith('"v1-')
    assert body == {
        "id": body["id"],
        "slug": "kishida-putin-call",
        "title": "Kishida and Putin talk by phone",
        "summary": None,
        "event_type": "CONSULT",
        "mode": "phone",
        "contexts": ["diplomatic", "territory"],
        "modality": "asserted",
        "time": {
            "edtf": "2021-10-07",
            "earliest": "2021-10-07",
            "latest": "2021-10-07",
            "precision": "day",
        },
        "duration": "PT25M",
        "location": None,
        "version": 1,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "participants": [
            {
                "entity": await entity_ref(session, "japan"),
                "role": "actor",
                "evidence": [evidence(call, "Fumio Kishida spoke")],
            },
            {"entity": await entity_ref(session, "russia"), "role": "recipient", "evidence": []},
        ],
        "parent": None,
        "statements": [],
        "disputes": [],
        "evidence": [
            evidence(call, "spoke with Russian President Vladimir Putin"),
            {
                "article_id": str(call.id),
                "start": None,
                "end": None,
                "quote": None,
                "editorial": True,
                "note": "Thursday of the week.",
                "field": "time",
            },
        ],
    }
    assert (await client.get(response.headers["location"])).json() == body


def _participant(**changes: Any) -> dict[str, Any]:
    return phone_call(participants=[{"entity": "japan", "role": "actor"} | changes])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            _participant(entity="atlantis"),
            [("participants.0.entity", "unknown entity slug 'atlantis'")],
        ),
        (
            phone_call(location="atlantis", parent="no-such-event"),
            [
                ("location", "unknown entity slug 'atlantis'"),
                ("parent", "unknown event slug 'no-such-event'"),
            ],
        ),
        (
            phone_call(time="2021-10-07/yesterday"),
            [("time", "not a valid EDTF date or interval: '2021-10-07/yesterday'")],
        ),
        (
            phone_call(slug="facets"),
            [
                (
                    "slug",
                    "'facets' is the name of the collection's facets path, so no item can have "
                    "it as its slug: choose another",
                )
            ],
        ),
        (
            phone_call(type="PHONE"),
            [
                (
                    "type",
                    f"unknown PLOVER event type 'PHONE'; expected one of {', '.join(EventType)}",
                )
            ],
        ),
        (
            phone_call(duration="P1M"),
            [
                (
                    "duration",
                    "not an ISO 8601 duration of weeks, days, hours, minutes or seconds: 'P1M'",
                )
            ],
        ),
        (
            phone_call(evidence=[{"quote": "Putin phoned Kishida", "article": ARTICLE}]),
            [
                (
                    "evidence.0.quote",
                    "in article 'kyodo-call': 'Putin phoned Kishida' does not occur in the "
                    "article body",
                )
            ],
        ),
        (
            _participant(evidence=[span("Fumio Kishida") | {"quote": "Fumio Kishidb"}]),
            [
                (
                    "participants.0.evidence.0.quote",
                    "in article 'kyodo-call': span [15, 28) covers 'Fumio Kishida', not "
                    "'Fumio Kishidb'",
                )
            ],
        ),
        (
            _participant(role="host"),
            [
                (
                    "participants.0.role",
                    "Input should be 'actor', 'recipient', 'mediator', 'target', "
                    "'beneficiary' or 'subject'",
                )
            ],
        ),
    ],
)
async def test_the_seed_checks_refuse_bad_input_naming_the_field(
    session: AsyncSession,
    client: AsyncClient,
    writer: dict[str, str],
    call: Article,
    body: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    response = await client.post("/v1/events", json=body, headers=writer)

    assert problems(response) == expected
    assert await count(session, Event) == 0


async def test_a_duplicate_slug_is_409(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str], call: Article
) -> None:
    await make_event(session, "kishida-putin-call", "2021")

    response = await client.post("/v1/events", json=phone_call(), headers=writer)

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert await count(session, EventParticipant) == 0


async def test_patch_needs_if_match_refuses_a_stale_one_and_replaces_participants(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str], call: Article
) -> None:
    created = await client.post("/v1/events", json=phone_call(), headers=writer)
    etag = created.headers["etag"]
    url = created.headers["location"]
    change = {
        "time": "2021-10",
        "duration": None,
        "participants": [{"entity": "russia", "role": "actor"}],
    }

    missing = await client.patch(url, json=change, headers=writer)
    updated = await client.patch(url, json=change, headers=writer | {"If-Match": etag})
    stale = await client.patch(url, json={"title": "X"}, headers=writer | {"If-Match": etag})

    assert missing.status_code == 428
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["version"] == 2
    assert updated.headers["etag"].startswith('"v2-')
    assert (body["time"]["edtf"], body["time"]["precision"], body["duration"]) == (
        "2021-10",
        "month",
        None,
    )
    assert [(p["entity"]["slug"], p["role"]) for p in body["participants"]] == [("russia", "actor")]
    assert body["evidence"] == created.json()["evidence"]  # not sent: kept
    assert stale.status_code == 412
    assert await count(session, EventParticipant) == 1
    assert await count(session, Evidence) == 2  # the dropped participant's evidence went too


async def test_patch_checks_what_it_changes_like_create(
    client: AsyncClient, writer: dict[str, str], call: Article
) -> None:
    created = await client.post("/v1/events", json=phone_call(), headers=writer)
    headers = writer | {"If-Match": created.headers["etag"]}

    response = await client.patch(
        "/v1/events/kishida-putin-call",
        json={"type": "CHAT", "parent": "kishida-putin-call"},
        headers=headers,
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["type"]
    looped = await client.patch(
        "/v1/events/kishida-putin-call", json={"parent": "kishida-putin-call"}, headers=headers
    )
    assert problems(looped) == [
        ("parent", "event parents form a loop: kishida-putin-call -> kishida-putin-call")
    ]


async def test_patch_refuses_a_parent_loop_through_the_database(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str], call: Article
) -> None:
    created = await client.post("/v1/events", json=phone_call(), headers=writer)
    talks = (await session.scalars(select(Event).where(Event.slug == "kishida-putin-call"))).one()
    follow_up = await make_event(session, "follow-up", "2021-10-08", parent=talks)
    await make_event(session, "second-call", "2021-10-09", parent=follow_up)

    response = await client.patch(
        created.headers["location"],
        json={"parent": "second-call"},
        headers=writer | {"If-Match": created.headers["etag"]},
    )

    assert problems(response) == [
        (
            "parent",
            "event parents form a loop: kishida-putin-call -> second-call -> follow-up -> "
            "kishida-putin-call",
        )
    ]


async def test_delete_is_refused_while_referenced_then_cascades(
    session: AsyncSession,
    client: AsyncClient,
    writer: dict[str, str],
    admin: dict[str, str],
    call: Article,
) -> None:
    created = await client.post("/v1/events", json=phone_call(), headers=writer)
    talks = (await session.scalars(select(Event).where(Event.slug == "kishida-putin-call"))).one()
    japan = (await session.scalars(select(Entity).where(Entity.slug == "japan"))).one()
    await make_event(session, "follow-up", "2021-10-08", parent=talks)
    await make_statement(session, "kishida-says", japan, "The islands are ours.", event=talks)
    dispute = await make_dispute(session, "kurils", "Kuril Islands dispute")
    await add_to_timeline(session, dispute, talks)
    headers = writer | {"If-Match": created.headers["etag"]}

    refused = await client.delete("/v1/events/kishida-putin-call", headers=headers)
    deleted = await client.delete(
        "/v1/events/kishida-putin-call?cascade=true",
        headers=admin | {"If-Match": created.headers["etag"]},
    )

    assert refused.status_code == 409
    assert refused.json()["code"] == "still_referenced"
    assert refused.json()["detail"].startswith(
        "The event is still referred to by 1 dispute timelines, 1 statements, "
        "1 events that are part of it;"
    )
    assert deleted.status_code == 204
    assert (await client.get("/v1/events/kishida-putin-call")).status_code == 404
    assert await count(session, DisputeEvent) == 0
    assert await count(session, EventParticipant) == 0
    assert await count(session, Evidence) == 0
    statement = (await session.scalars(select(Statement))).one()
    await session.refresh(statement)
    assert statement.event_id is None
    assert (await client.get("/v1/events/follow-up")).json()["parent"] is None


async def test_a_retried_create_is_replayed_and_creates_nothing(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str], call: Article
) -> None:
    headers = writer | {"Idempotency-Key": "call-1"}

    first = await client.post("/v1/events", json=phone_call(), headers=headers)
    retry = await client.post("/v1/events", json=phone_call(), headers=headers)

    assert first.status_code == 201
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert await count(session, Event) == 1
