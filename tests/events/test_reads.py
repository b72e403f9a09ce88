import uuid
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.events.schemas import iso_duration
from db.enums import DisputeEventRole, EntityKind, EventType, Modality, ParticipantRole
from db.models import Entity
from tests.support.database import counting_statements
from tests.support.factories import (
    add_participant,
    add_to_timeline,
    cite,
    make_article,
    make_dispute,
    make_entity,
    make_event,
    make_source,
    make_statement,
    note,
)

# In time order, as the list must return them.
TIMELINE = [
    ("before-shimoda", "../1855-02-07"),
    ("surrender", "1945"),
    ("occupation", "1945-08-28/.."),
    ("joint-declaration", "1956-10-19"),
    ("stalemate", "197X/198X"),
    ("phone-call", "2021-10-07"),
    ("rumoured-summit", None),
]


@pytest.fixture
async def timeline(session: AsyncSession) -> None:
    # Created out of order so that only the sort can put them in order.
    for slug, edtf in reversed(TIMELINE):
        await make_event(session, slug, edtf)


async def _slugs(client: AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/v1/events", params=params)
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["items"]]


@pytest.mark.usefixtures("timeline")
async def test_list_is_in_time_order_with_partial_dates_and_undated_last(
    client: AsyncClient,
) -> None:
    response = await client.get("/v1/events")

    assert response.status_code == 200
    body = response.json()
    assert [item["slug"] for item in body["items"]] == [slug for slug, _ in TIMELINE]
    assert body["next_cursor"] is None
    assert [item["time"] for item in body["items"][4:]] == [
        {
            "edtf": "197X/198X",
            "earliest": "1970-01-01",
            "latest": "1989-12-31",
            "precision": "decade",
        },
        {
            "edtf": "2021-10-07",
            "earliest": "2021-10-07",
            "latest": "2021-10-07",
            "precision": "day",
        },
        None,
    ]


@pytest.mark.usefixtures("timeline")
@pytest.mark.parametrize(
    ("time_range", "expected"),
    [
        # A decade-precise event overlaps a narrower range; an open end reaches it too.
        ({"from": "1975", "to": "1976"}, ["occupation", "stalemate"]),
        ({"from": "1945", "to": "1956"}, ["surrender", "occupation", "joint-declaration"]),
        # Both bounds are inclusive: 1945 ends on 1945-12-31.
        ({"from": "1945-12-31", "to": "1945-12-31"}, ["surrender", "occupation"]),
        ({"from": "2021-10", "to": "2021-10"}, ["occupation", "phone-call"]),
        ({"from": "2000"}, ["occupation", "phone-call"]),
        # An open start ("../1855-02-07") reaches back indefinitely.
        ({"to": "1800"}, ["before-shimoda"]),
        ({"from": "1855-02-08", "to": "1944"}, []),
        ({"from": "1956-10-20", "to": "1969-12"}, ["occupation"]),
    ],
)
async def test_time_range_keeps_overlapping_events_and_never_undated_ones(
    client: AsyncClient, time_range: dict[str, str], expected: list[str]
) -> None:
    assert await _slugs(client, **time_range) == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "0"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2021-02-30"}, "from"),
        ({"to": "1975-13"}, "to"),
        ({"to": "2021-10-07T00:00:00Z"}, "to"),
        ({"from": "1977", "to": "1975"}, "from"),
    ],
)
async def test_a_bad_date_or_backwards_range_is_a_400(
    client: AsyncClient, params: dict[str, str], field: str
) -> None:
    response = await client.get("/v1/events", params=params)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.usefixtures("timeline")
async def test_pages_have_no_gaps_or_duplicates_while_events_are_added(
    session: AsyncSession, client: AsyncClient
) -> None:
    # Ties on time fall back to the id; several undated events share the last place.
    await make_event(session, "joint-declaration-signing", "1956-10-19")
    await make_event(session, "rumoured-visit", None)

    first = await client.get("/v1/events", params={"limit": 1})
    seen = [item["slug"] for item in first.json()["items"]]
    cursor = first.json()["next_cursor"]
    # One event lands before the pages already read, one after: only the later one is served.
    await make_event(session, "early-addition", "../1600")
    await make_event(session, "late-addition", "2000-01-01")
    while cursor:
        response = await client.get("/v1/events", params={"limit": 1, "cursor": cursor})
        assert response.status_code == 200, response.text
        seen += [item["slug"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor:
            assert response.headers["link"] == (
                f'<http://testserver/v1/events?limit=1&cursor={cursor}>; rel="next"'
            )

    everything = await _slugs(client, limit=100)
    assert seen == [slug for slug in everything if slug != "early-addition"]
    assert len(seen) == len(set(seen)) == 10
    assert everything[0] == "early-addition"
    assert everything.index("late-addition") == everything.index("phone-call") - 1
    assert set(everything[-2:]) == {"rumoured-summit", "rumoured-visit"}


async def test_a_cursor_from_another_filter_is_refused(
    session: AsyncSession, client: AsyncClient
) -> None:
    await make_event(session, "first", "2001")
    await make_event(session, "second", "2002")
    cursor = (await client.get("/v1/events", params={"limit": 1})).json()["next_cursor"]

    response = await client.get("/v1/events", params={"cursor": cursor, "type": "CONSULT"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


@pytest.fixture
async def diplomacy(session: AsyncSession) -> dict[str, Entity]:
    entities = {
        "japan": await make_entity(session, "japan", "Japan"),
        "russia": await make_entity(session, "russia", "Russia"),
        "united-states": await make_entity(session, "united-states", "United States"),
        "moscow": await make_entity(session, "moscow", "Moscow", EntityKind.PLACE),
        "tokyo": await make_entity(session, "tokyo", "Tokyo", EntityKind.PLACE),
    }
    japan, russia = entities["japan"], entities["russia"]
    kurils = await make_dispute(session, "kuril-islands-dispute", "Kuril Islands dispute")

    summit = await make_event(
        session,
        "moscow-summit",
        "2016-12-15",
        mode="visit",
        contexts=["diplomatic", "territory"],
        location=entities["moscow"],
    )
    call = await make_event(
        session, "phone-call", "2021-10-07", mode="phone", contexts=["diplomatic"]
    )
    sanctions = await make_event(
        session, "sanctions", "2022-03", event_type=EventType.SANCTION, contexts=["economic"]
    )
    visit = await make_event(
        session,
        "planned-visit",
        "2022",
        mode="visit",
        contexts=["diplomatic"],
        modality=Modality.INTENDED,
        location=entities["tokyo"],
    )
    protest = await make_event(
        session, "island-protest", "2023", event_type=EventType.PROTEST, contexts=["territory"]
    )
    for event, other, role in [
        (summit, russia, ParticipantRole.RECIPIENT),
        (call, russia, ParticipantRole.RECIPIENT),
        (sanctions, russia, ParticipantRole.TARGET),
        (visit, entities["united-states"], ParticipantRole.RECIPIENT),
    ]:
        await add_participant(session, event, japan)
        await add_participant(session, event, other, role)
    await add_participant(session, protest, russia)
    await add_to_timeline(session, kurils, summit)
    await add_to_timeline(session, kurils, call)
    return entities


@pytest.mark.usefixtures("diplomacy")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "CONSULT"}, ["moscow-summit", "phone-call", "planned-visit"]),
        (
            {"type": ["CONSULT", "SANCTION"]},
            ["moscow-summit", "phone-call", "planned-visit", "sanctions"],
        ),
        ({"mode": "visit"}, ["moscow-summit", "planned-visit"]),
        ({"context": "territory"}, ["moscow-summit", "island-protest"]),
        ({"context": ["diplomatic", "territory"]}, ["moscow-summit"]),
        ({"modality": "intended"}, ["planned-visit"]),
        ({"participant": "russia"}, ["moscow-summit", "phone-call", "sanctions", "island-protest"]),
        ({"participant": ["japan", "russia"]}, ["moscow-summit", "phone-call", "sanctions"]),
        ({"participant": ["japan", "united-states"]}, ["planned-visit"]),
        ({"dispute": "kuril-islands-dispute"}, ["moscow-summit", "phone-call"]),
        ({"location": "moscow"}, ["moscow-summit"]),
        ({"type": "CONSULT", "participant": "russia", "from": "2020"}, ["phone-call"]),
    ],
)
async def test_filters(client: AsyncClient, params: dict[str, Any], expected: list[str]) -> None:
    assert await _slugs(client, **params) == expected


async def test_filters_accept_ids(client: AsyncClient, diplomacy: dict[str, Entity]) -> None:
    japan, tokyo = diplomacy["japan"], diplomacy["tokyo"]

    assert await _slugs(client, participant=[str(japan.id), "united-states"]) == ["planned-visit"]
    assert await _slugs(client, location=str(tokyo.id)) == ["planned-visit"]


async def test_participants_are_found_by_the_page_statement_and_unknown_keys_still_400(
    client: AsyncClient, diplomacy: dict[str, Entity], engine: AsyncEngine
) -> None:
    russia = diplomacy["russia"]

    by_id = await _count(engine, client, f"/v1/events?participant={russia.id}&from=2020")
    by_slug = await _count(engine, client, "/v1/events?participant=russia&participant=russia")
    none_then = await client.get(
        "/v1/events", params={"participant": "russia", "from": "1900", "to": "1901"}
    )
    unknown = [
        await client.get("/v1/events", params={"participant": keys})
        for keys in (["atlantis"], [str(uuid.uuid4())], ["russia", "atlantis", "lemuria"])
    ]

    # The page, its participants and the participants' keys: one statement.
    assert (by_id, by_slug) == (1, 1)
    assert await _slugs(client, participant=[str(russia.id), "russia"]) == await _slugs(
        client, participant="russia"
    )
    assert (none_then.status_code, none_then.json()["items"]) == (200, [])
    assert [response.status_code for response in unknown] == [400, 400, 400]
    assert {response.json()["code"] for response in unknown} == {"unknown_reference"}
    assert [error["message"] for error in unknown[2].json()["errors"]] == [
        "unknown: atlantis",
        "unknown: lemuria",
    ]


async def test_dispute_and_location_are_found_by_the_page_statement_and_unknown_keys_still_400(
    client: AsyncClient, diplomacy: dict[str, Entity], engine: AsyncEngine
) -> None:
    moscow = diplomacy["moscow"]
    kurils = (await client.get("/v1/disputes/kuril-islands-dispute")).json()["id"]

    statements = [
        await _count(engine, client, url)
        for url in (
            f"/v1/events?dispute={kurils}",
            "/v1/events?dispute=kuril-islands-dispute&location=moscow",
            f"/v1/events?location={moscow.id}&participant=russia&count=exact",
        )
    ]
    by_slug = await _slugs(client, dispute="kuril-islands-dispute", location="moscow")
    by_id = await _slugs(client, dispute=kurils, location=str(moscow.id))
    none_there = await client.get(
        "/v1/events", params={"dispute": "kuril-islands-dispute", "location": "tokyo"}
    )
    unknown = [
        await client.get("/v1/events", params=params)
        for params in (
            {"dispute": str(uuid.uuid4())},
            {"dispute": "kuril-islands-dispute", "location": "atlantis"},
            {"dispute": "falklands", "location": "atlantis"},
            # The first unknown key is the one answered: participants, dispute, location.
            {"location": "atlantis", "dispute": "falklands", "participant": "lemuria"},
        )
    ]

    # The page and its keys: one statement (and the count, a second, with count=exact).
    assert statements == [1, 1, 2]
    assert by_slug == by_id == ["moscow-summit"]
    assert (none_there.status_code, none_there.json()["items"]) == (200, [])
    assert [
        (response.status_code, response.json()["code"], response.json()["errors"][0]["field"])
        for response in unknown
    ] == [
        (400, "unknown_reference", "dispute"),
        (400, "unknown_reference", "location"),
        (400, "unknown_reference", "dispute"),
        (400, "unknown_reference", "participant"),
    ]


async def test_list_items_carry_participants_and_location(
    client: AsyncClient, diplomacy: dict[str, Entity]
) -> None:
    response = await client.get("/v1/events", params={"location": "moscow"})

    item = response.json()["items"][0]
    japan, russia, moscow = diplomacy["japan"], diplomacy["russia"], diplomacy["moscow"]
    assert item["participants"] == [
        {
            "entity": {"id": str(japan.id), "slug": "japan", "kind": "country", "name": "Japan"},
            "role": "actor",
        },
        {
            "entity": {"id": str(russia.id), "slug": "russia", "kind": "country", "name": "Russia"},
            "role": "recipient",
        },
    ]
    assert item["location"] == {
        "id": str(moscow.id),
        "slug": "moscow",
        "kind": "place",
        "name": "Moscow",
    }
    assert (item["event_type"], item["mode"], item["contexts"], item["modality"]) == (
        "CONSULT",
        "visit",
        ["diplomatic", "territory"],
        "asserted",
    )
    assert "evidence" not in item
    assert "statements" not in item


@pytest.mark.usefixtures("diplomacy")
@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"type": "TALK"}, "validation_error", "type.0"),
        ({"modality": "likely"}, "validation_error", "modality"),
        ({"mode": ""}, "validation_error", "mode"),
        ({"participant": ["japan", "atlantis"]}, "unknown_reference", "participant"),
        ({"dispute": "falklands"}, "unknown_reference", "dispute"),
        ({"location": "atlantis"}, "unknown_reference", "location"),
        ({"participants": "japan"}, "unknown_parameter", "participants"),
        ({"mode": ["phone", "visit"]}, "repeated_parameter", "mode"),
    ],
)
async def test_bad_filters_are_400_problems(
    client: AsyncClient, params: dict[str, Any], code: str, field: str
) -> None:
    response = await client.get("/v1/events", params=params)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert response.json()["errors"][0]["field"] == field


BODY = (
    "TOKYO - Prime Minister Fumio Kishida and Russian President Vladimir Putin held "
    "a 25-minute phone talk on Thursday. Kishida told Putin that Japan wants to conclude "
    "a peace treaty, a ministry official said."
)


@pytest.fixture
async def phone_call(session: AsyncSession) -> dict[str, Any]:
    """The call with everything an event detail shows, each fact cited in one article."""
    article = await make_article(session, await make_source(session), "kyodo-call", BODY)
    kishida = await make_entity(session, "fumio-kishida", "Fumio Kishida", EntityKind.PERSON)
    putin = await make_entity(session, "vladimir-putin", "Vladimir Putin", EntityKind.PERSON)
    tokyo = await make_entity(session, "tokyo", "Tokyo", EntityKind.PLACE)
    ministry = await make_entity(
        session, "japan-mofa", "Ministry of Foreign Affairs of Japan", EntityKind.ORGANIZATION
    )
    call = await make_event(
        session,
        "kishida-putin-phone-call",
        "2021-10-07",
        mode="phone",
        contexts=["diplomatic", "territory"],
        duration=timedelta(minutes=25),
        location=tokyo,
        summary="The leaders' first talk since Kishida took office.",
    )
    # Inserted recipient first: the detail still lists the actor first.
    putin_part = await add_participant(session, call, putin, ParticipantRole.RECIPIENT)
    kishida_part = await add_participant(session, call, kishida)
    await cite(session, article, "Vladimir Putin", event_participant_id=putin_part.id)
    await cite(session, article, "Fumio Kishida", event_participant_id=kishida_part.id)
    await note(session, article, "Thursday before publication.", field="time", event_id=call.id)
    await cite(session, article, "25-minute", field="duration", event_id=call.id)
    await cite(session, article, "held a 25-minute phone talk", event_id=call.id)
    statement = await make_statement(
        session,
        "kishida-wants-peace-treaty",
        kishida,
        "Japan wants to conclude a peace treaty.",
        event=call,
        conveyed_by=ministry,
        conveyed_by_description="a ministry official",
    )
    kurils = await make_dispute(session, "kuril-islands-dispute", "Kuril Islands dispute")
    link = await add_to_timeline(
        session,
        kurils,
        call,
        DisputeEventRole.NEGOTIATION,
        "Both leaders agreed to keep talking about a peace treaty.",
    )
    await cite(session, article, "Japan wants to conclude a peace treaty", dispute_event_id=link.id)
    return {
        "article": article,
        "call": call,
        "kishida": kishida,
        "putin": putin,
        "tokyo": tokyo,
        "ministry": ministry,
        "statement": statement,
        "kurils": kurils,
    }


def _ref(entity: Entity) -> dict[str, str]:
    return {"id": str(entity.id), "slug": entity.slug, "kind": entity.kind, "name": entity.name}


async def test_event_detail(client: AsyncClient, phone_call: dict[str, Any]) -> None:
    call, article = phone_call["call"], phone_call["article"]
    article_id = str(article.id)

    response = await client.get("/v1/events/kishida-putin-phone-call")

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": str(call.id),
        "slug": "kishida-putin-phone-call",
        "title": "Kishida putin phone call",
        "summary": "The leaders' first talk since Kishida took office.",
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
        "location": _ref(phone_call["tokyo"]),
        "version": 1,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "participants": [
            {
                "entity": _ref(phone_call["kishida"]),
                "role": "actor",
                "evidence": [
                    {
                        "article_id": article_id,
                        "start": 23,
                        "end": 36,
                        "quote": "Fumio Kishida",
                        "editorial": False,
                        "note": None,
                        "field": None,
                    }
                ],
            },
            {
                "entity": _ref(phone_call["putin"]),
                "role": "recipient",
                "evidence": [
                    {
                        "article_id": article_id,
                        "start": 59,
                        "end": 73,
                        "quote": "Vladimir Putin",
                        "editorial": False,
                        "note": None,
                        "field": None,
                    }
                ],
            },
        ],
        "parent": None,
        "statements": [
            {
                "id": str(phone_call["statement"].id),
                "slug": "kishida-wants-peace-treaty",
                "speaker": _ref(phone_call["kishida"]),
                "text": "Japan wants to conclude a peace treaty.",
                "kind": "paraphrase",
                "conveyed_by": _ref(phone_call["ministry"]),
                "conveyed_by_description": "a ministry official",
            }
        ],
        "disputes": [
            {
                "id": str(phone_call["kurils"].id),
                "slug": "kuril-islands-dispute",
                "title": "Kuril Islands dispute",
                "role": "negotiation",
                "significance": "Both leaders agreed to keep talking about a peace treaty.",
                "evidence": [
                    {
                        "article_id": article_id,
                        "start": 139,
                        "end": 177,
                        "quote": "Japan wants to conclude a peace treaty",
                        "editorial": False,
                        "note": None,
                        "field": None,
                    }
                ],
            }
        ],
        # Cited spans in body order, then editorial notes.
        "evidence": [
            {
                "article_id": article_id,
                "start": 74,
                "end": 101,
                "quote": "held a 25-minute phone talk",
                "editorial": False,
                "note": None,
                "field": None,
            },
            {
                "article_id": article_id,
                "start": 81,
                "end": 90,
                "quote": "25-minute",
                "editorial": False,
                "note": None,
                "field": "duration",
            },
            {
                "article_id": article_id,
                "start": None,
                "end": None,
                "quote": None,
                "editorial": True,
                "note": "Thursday before publication.",
                "field": "time",
            },
        ],
    }
    assert BODY[74:101] == "held a 25-minute phone talk"


async def test_event_by_id_equals_by_slug_and_supports_conditional_get(
    client: AsyncClient, phone_call: dict[str, Any]
) -> None:
    by_slug = await client.get("/v1/events/kishida-putin-phone-call")
    by_id = await client.get(f"/v1/events/{phone_call['call'].id}")
    again = await client.get(
        "/v1/events/kishida-putin-phone-call", headers={"If-None-Match": by_slug.headers["etag"]}
    )

    assert by_id.json() == by_slug.json()
    assert by_id.headers["etag"] == by_slug.headers["etag"]
    assert again.status_code == 304
    assert again.content == b""


async def test_a_sub_event_names_its_parent(
    session: AsyncSession, client: AsyncClient, phone_call: dict[str, Any]
) -> None:
    await make_event(
        session,
        "kishida-urges-treaty",
        "2021-10-07",
        event_type=EventType.REQUEST,
        parent=phone_call["call"],
    )

    body = (await client.get("/v1/events/kishida-urges-treaty")).json()

    assert body["parent"] == {
        "id": str(phone_call["call"].id),
        "slug": "kishida-putin-phone-call",
        "title": "Kishida putin phone call",
        "event_type": "CONSULT",
        "modality": "asserted",
        "time": {
            "edtf": "2021-10-07",
            "earliest": "2021-10-07",
            "latest": "2021-10-07",
            "precision": "day",
        },
    }
    assert (body["participants"], body["statements"], body["disputes"], body["evidence"]) == (
        [],
        [],
        [],
        [],
    )
    assert (body["duration"], body["location"]) == (None, None)


async def test_missing_event_is_a_404_problem(client: AsyncClient) -> None:
    response = await client.get("/v1/events/no-such-event")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"
    assert response.json()["detail"] == "No event with id or slug 'no-such-event'."


async def _count(engine: AsyncEngine, client: AsyncClient, url: str) -> int:
    with counting_statements(engine) as statements:
        response: Response = await client.get(url)
    assert response.status_code == 200, response.text
    # The statements the read sends, not the test session's savepoints around it.
    return sum(1 for statement in statements if "SAVEPOINT" not in statement)


async def test_queries_do_not_grow_with_participants_statements_or_rows(
    session: AsyncSession,
    client: AsyncClient,
    phone_call: dict[str, Any],
    engine: AsyncEngine,
) -> None:
    # One participant, no statements; the same optional parts (a location, no parent, a
    # dispute) as the call, whose bulk loads are skipped when there is nothing to load.
    bare = await make_event(
        session,
        "bare-event",
        "2021-10-08",
        event_type=EventType.REQUEST,
        location=phone_call["tokyo"],
    )
    await add_participant(session, bare, phone_call["kishida"])
    await add_to_timeline(session, phone_call["kurils"], bare)
    small_list = await _count(engine, client, "/v1/events?type=REQUEST")
    bare_detail = await _count(engine, client, "/v1/events/bare-event")
    for n in range(5):
        extra = await make_event(
            session, f"request-{n}", f"2021-10-{n + 10}", event_type=EventType.REQUEST
        )
        await add_participant(session, extra, phone_call["putin"])
        await add_participant(session, extra, phone_call["tokyo"], ParticipantRole.SUBJECT)

    assert await _count(engine, client, "/v1/events?type=REQUEST") == small_list
    # The page and its events' participants come in one statement.
    assert small_list == 1
    assert await _count(engine, client, "/v1/events/kishida-putin-phone-call") == bare_detail


@pytest.mark.parametrize(
    ("duration", "iso"),
    [
        (timedelta(minutes=25), "PT25M"),
        (timedelta(days=1, hours=2), "P1DT2H"),
        (timedelta(days=3), "P3D"),
        (timedelta(minutes=1, seconds=30), "PT1M30S"),
        (timedelta(seconds=1, milliseconds=500), "PT1.5S"),
        (None, None),
    ],
)
def test_durations_are_iso_8601(duration: timedelta | None, iso: str | None) -> None:
    assert iso_duration(duration) == iso
