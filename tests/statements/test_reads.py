from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import EntityKind, StatementKind
from db.models import Entity
from tests.support.factories import (
    cite,
    make_article,
    make_entity,
    make_event,
    make_source,
    make_statement,
)

KYODO_BODY = (
    "Kishida told Putin that Japan wants to conclude a peace treaty, a ministry official said. "
    "Putin said Russia was ready to continue talks."
)
TASS_BODY = "Lavrov called the talks constructive. Putin said Russia was ready to continue talks."

# In the order the list must return them: by their events' time, then by slug.
IN_ORDER = [
    "joint-declaration-text",  # 1956-10-19
    "kishida-wants-treaty",  # 2021-10-07
    "putin-ready-to-talk",  # 2021-10-07
    "kishida-hopes-for-visit",  # an undated event
    "lavrov-calls-talks-constructive",  # no event
]


@pytest.fixture
async def remarks(session: AsyncSession) -> dict[str, Any]:
    source = await make_source(session)
    kyodo = await make_article(session, source, "kyodo-call", KYODO_BODY)
    tass = await make_article(session, source, "tass-report", TASS_BODY)
    japan = await make_entity(session, "japan", "Japan")
    kishida = await make_entity(session, "fumio-kishida", "Fumio Kishida", EntityKind.PERSON)
    putin = await make_entity(session, "vladimir-putin", "Vladimir Putin", EntityKind.PERSON)
    lavrov = await make_entity(session, "sergey-lavrov", "Sergey Lavrov", EntityKind.PERSON)
    ministry = await make_entity(
        session, "japan-mofa", "Ministry of Foreign Affairs of Japan", EntityKind.ORGANIZATION
    )
    declaration = await make_event(session, "joint-declaration", "1956-10-19")
    call = await make_event(session, "phone-call", "2021-10-07", mode="phone")
    visit = await make_event(session, "future-visit")

    # Created out of order so that only the sort can put them in order.
    lavrov_said = await make_statement(
        session, "lavrov-calls-talks-constructive", lavrov, "The talks were constructive."
    )
    putin_said = await make_statement(
        session, "putin-ready-to-talk", putin, "Russia is ready to continue talks.", event=call
    )
    kishida_said = await make_statement(
        session,
        "kishida-wants-treaty",
        kishida,
        "Japan wants to conclude a peace treaty.",
        event=call,
        conveyed_by=ministry,
        conveyed_by_description="a ministry official",
    )
    await make_statement(
        session, "kishida-hopes-for-visit", kishida, "I hope Putin will visit.", event=visit
    )
    await make_statement(
        session,
        "joint-declaration-text",
        japan,
        "The state of war shall end.",
        kind=StatementKind.DIRECT_QUOTE,
        event=declaration,
    )
    # Cited twice in one article: still listed once for it.
    await cite(
        session, kyodo, "a ministry official", field="conveyed_by", statement_id=kishida_said.id
    )
    await cite(
        session, kyodo, "Japan wants to conclude a peace treaty", statement_id=kishida_said.id
    )
    await cite(session, kyodo, "Russia was ready to continue talks", statement_id=putin_said.id)
    await cite(session, tass, "Russia was ready to continue talks", statement_id=putin_said.id)
    await cite(session, tass, "Lavrov called the talks constructive", statement_id=lavrov_said.id)
    return {
        "kyodo": kyodo,
        "kishida": kishida,
        "putin": putin,
        "ministry": ministry,
        "call": call,
        "kishida_said": kishida_said,
    }


async def _slugs(client: AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/v1/statements", params=params)
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["items"]]


def _ref(entity: Entity) -> dict[str, str]:
    return {"id": str(entity.id), "slug": entity.slug, "kind": entity.kind, "name": entity.name}


@pytest.mark.usefixtures("remarks")
async def test_list_is_in_event_time_order_with_eventless_statements_last(
    client: AsyncClient,
) -> None:
    response = await client.get("/v1/statements")

    assert response.status_code == 200
    assert [item["slug"] for item in response.json()["items"]] == IN_ORDER
    assert response.json()["next_cursor"] is None
    assert response.json()["items"][-1]["event"] is None


@pytest.mark.usefixtures("remarks")
@pytest.mark.parametrize("limit", [1, 2])
async def test_pages_have_no_gaps_or_duplicates(client: AsyncClient, limit: int) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/v1/statements", params=params)
        assert response.status_code == 200, response.text
        seen += [item["slug"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
        assert response.headers["link"].endswith('rel="next"')

    assert seen == IN_ORDER


@pytest.mark.usefixtures("remarks")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"speaker": "fumio-kishida"}, ["kishida-wants-treaty", "kishida-hopes-for-visit"]),
        ({"event": "phone-call"}, ["kishida-wants-treaty", "putin-ready-to-talk"]),
        ({"speaker": "fumio-kishida", "event": "phone-call"}, ["kishida-wants-treaty"]),
        ({"article": "kyodo-call"}, ["kishida-wants-treaty", "putin-ready-to-talk"]),
        ({"article": "tass-report"}, ["putin-ready-to-talk", "lavrov-calls-talks-constructive"]),
        ({"kind": "direct_quote"}, ["joint-declaration-text"]),
        ({"speaker": "japan", "kind": "paraphrase"}, []),
        # By their events' time: none outside an event or in an undated one.
        ({"from": "2021", "to": "2021"}, ["kishida-wants-treaty", "putin-ready-to-talk"]),
        ({"from": "1950", "to": "1960"}, ["joint-declaration-text"]),
        ({"from": "1957"}, ["kishida-wants-treaty", "putin-ready-to-talk"]),
        ({"to": "2021-10-06"}, ["joint-declaration-text"]),
        (
            {"from": "2021-10-07", "to": "2021-10-07"},
            ["kishida-wants-treaty", "putin-ready-to-talk"],
        ),
        ({"from": "2021-10-08"}, []),
        ({"from": "2021-10", "speaker": "fumio-kishida"}, ["kishida-wants-treaty"]),
    ],
)
async def test_filters(client: AsyncClient, params: dict[str, str], expected: list[str]) -> None:
    assert await _slugs(client, **params) == expected


async def test_filters_accept_ids(client: AsyncClient, remarks: dict[str, Any]) -> None:
    assert await _slugs(client, speaker=str(remarks["putin"].id)) == ["putin-ready-to-talk"]
    assert await _slugs(
        client, event=str(remarks["call"].id), article=str(remarks["kyodo"].id)
    ) == [
        "kishida-wants-treaty",
        "putin-ready-to-talk",
    ]


@pytest.mark.usefixtures("remarks")
@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"speaker": "atlantis"}, "unknown_reference", "speaker"),
        ({"event": "no-such-event"}, "unknown_reference", "event"),
        ({"article": "no-such-article"}, "unknown_reference", "article"),
        ({"kind": "rumour"}, "validation_error", "kind"),
        ({"said_by": "japan"}, "unknown_parameter", "said_by"),
        ({"from": "2021-02-30"}, "validation_error", "from"),
        ({"from": "21"}, "validation_error", "from"),
        ({"from": "2022", "to": "2021"}, "validation_error", "from"),
    ],
)
async def test_bad_filters_are_400_problems(
    client: AsyncClient, params: dict[str, str], code: str, field: str
) -> None:
    response = await client.get("/v1/statements", params=params)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["errors"][0]["field"] == field


async def test_statement_detail_with_messenger_event_and_evidence(
    client: AsyncClient, remarks: dict[str, Any]
) -> None:
    statement, call, kyodo_id = remarks["kishida_said"], remarks["call"], str(remarks["kyodo"].id)

    response = await client.get("/v1/statements/kishida-wants-treaty")
    by_id = await client.get(f"/v1/statements/{statement.id}")

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": str(statement.id),
        "slug": "kishida-wants-treaty",
        "speaker": _ref(remarks["kishida"]),
        "text": "Japan wants to conclude a peace treaty.",
        "kind": "paraphrase",
        "conveyed_by": _ref(remarks["ministry"]),
        "conveyed_by_description": "a ministry official",
        "event": {
            "id": str(call.id),
            "slug": "phone-call",
            "title": "Phone call",
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
                "article_id": kyodo_id,
                "start": 24,
                "end": 62,
                "quote": "Japan wants to conclude a peace treaty",
                "editorial": False,
                "note": None,
                "field": None,
            },
            {
                "article_id": kyodo_id,
                "start": 64,
                "end": 83,
                "quote": "a ministry official",
                "editorial": False,
                "note": None,
                "field": "conveyed_by",
            },
        ],
    }
    assert by_id.json() == body
    assert KYODO_BODY[24:62] == "Japan wants to conclude a peace treaty"


@pytest.mark.usefixtures("remarks")
async def test_list_items_have_no_evidence_and_support_conditional_get(
    client: AsyncClient,
) -> None:
    first = await client.get("/v1/statements", params={"event": "phone-call"})
    again = await client.get(
        "/v1/statements",
        params={"event": "phone-call"},
        headers={"If-None-Match": first.headers["etag"]},
    )

    item = first.json()["items"][1]
    assert item["slug"] == "putin-ready-to-talk"
    assert (item["conveyed_by"], item["conveyed_by_description"]) == (None, None)
    assert item["event"]["slug"] == "phone-call"
    assert "evidence" not in item
    assert again.status_code == 304


async def test_missing_statement_is_a_404_problem(client: AsyncClient) -> None:
    response = await client.get("/v1/statements/no-such-statement")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["detail"] == "No statement with id or slug 'no-such-statement'."
