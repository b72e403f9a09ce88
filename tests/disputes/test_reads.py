import uuid
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.enums import DisputeEventRole, DisputeKind, DisputePartyRole, DisputeStatus, EventType
from tests.support.database import counting_statements
from tests.support.dispute_factories import Kurils, add_kuril_timeline, make_kurils
from tests.support.factories import (
    add_party,
    add_territory,
    add_to_timeline,
    make_dispute,
    make_entity,
    make_event,
    note,
)


@pytest.fixture
async def kurils(session: AsyncSession) -> Kurils:
    return await make_kurils(session)


@pytest.fixture
async def four_disputes(session: AsyncSession, kurils: Kurils) -> None:
    """The Kuril dispute, and three more between Japan, Russia and North Korea."""
    north_korea = await make_entity(session, "north-korea", "North Korea")
    abductions = await make_dispute(
        session,
        "north-korean-abductions",
        "North Korea's abductions of Japanese nationals",
        kind=DisputeKind.HUMANITARIAN,
        time="1970/..",
    )
    await add_party(session, abductions, kurils.japan, DisputePartyRole.AFFECTED_PARTY)
    await add_party(session, abductions, north_korea, DisputePartyRole.RESPONSIBLE_PARTY)
    programs = await make_dispute(
        session,
        "north-korea-nuclear-missile-programs",
        "North Korea's nuclear and missile development programs",
        kind=DisputeKind.SECURITY,
    )
    await add_party(session, programs, north_korea, DisputePartyRole.RESPONSIBLE_PARTY)
    fisheries = await make_dispute(
        session,
        "hokkaido-fisheries-dispute",
        "Hokkaido fisheries dispute",
        kind=DisputeKind.MARITIME,
        status=DisputeStatus.DORMANT,
    )
    await add_party(session, fisheries, kurils.japan, DisputePartyRole.CLAIMANT)
    await add_party(session, fisheries, kurils.russia, DisputePartyRole.CLAIMANT)


async def _slugs(client: AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/v1/disputes", params=params)
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["items"]]


def _ref(entity: Any) -> dict[str, str]:
    return {"id": str(entity.id), "slug": entity.slug, "kind": entity.kind, "name": entity.name}


def _quote(
    start: int, end: int, quote: str, article: Any, field: str | None = None
) -> dict[str, Any]:
    return {
        "article_id": str(article.id),
        "start": start,
        "end": end,
        "quote": quote,
        "editorial": False,
        "note": None,
        "field": field,
    }


@pytest.mark.usefixtures("four_disputes")
async def test_list_is_by_title_with_summaries(client: AsyncClient, kurils: Kurils) -> None:
    response = await client.get("/v1/disputes")

    assert response.status_code == 200
    body = response.json()
    assert [item["slug"] for item in body["items"]] == [
        "hokkaido-fisheries-dispute",
        "kuril-islands-dispute",
        "north-korean-abductions",
        "north-korea-nuclear-missile-programs",
    ]
    assert body["next_cursor"] is None
    kuril = body["items"][1]
    assert kuril["id"] == str(kurils.dispute.id)
    assert kuril["title"] == "Kuril Islands dispute"
    assert (kuril["kind"], kuril["status"], kuril["version"]) == ("territorial", "active", 1)
    assert kuril["time"] == {
        "edtf": "1945/..",
        "earliest": "1945-01-01",
        "latest": None,
        "precision": "year",
    }
    assert body["items"][3]["time"] is None
    assert "parties" not in kuril


@pytest.mark.usefixtures("four_disputes")
async def test_list_filters(client: AsyncClient, kurils: Kurils) -> None:
    assert await _slugs(client, kind="territorial") == ["kuril-islands-dispute"]
    assert await _slugs(client, status="dormant") == ["hokkaido-fisheries-dispute"]
    assert await _slugs(client, party="japan") == [
        "hokkaido-fisheries-dispute",
        "kuril-islands-dispute",
        "north-korean-abductions",
    ]
    assert await _slugs(client, party=["japan", str(kurils.russia.id)]) == [
        "hokkaido-fisheries-dispute",
        "kuril-islands-dispute",
    ]
    assert await _slugs(client, party=["north-korea", "japan"]) == ["north-korean-abductions"]
    assert await _slugs(client, party=["north-korea", "russia"]) == []
    assert await _slugs(client, territory="shikotan") == ["kuril-islands-dispute"]
    assert await _slugs(client, territory="japan") == []
    assert await _slugs(client, kind="territorial", status="dormant") == []


@pytest.mark.usefixtures("four_disputes")
async def test_list_pages_without_gaps(client: AsyncClient) -> None:
    first = await client.get("/v1/disputes", params={"limit": 3})
    cursor = first.json()["next_cursor"]
    second = await client.get("/v1/disputes", params={"limit": 3, "cursor": cursor})

    assert first.headers["link"] == (
        f'<http://testserver/v1/disputes?limit=3&cursor={cursor}>; rel="next"'
    )
    assert [i["slug"] for i in first.json()["items"] + second.json()["items"]] == [
        "hokkaido-fisheries-dispute",
        "kuril-islands-dispute",
        "north-korean-abductions",
        "north-korea-nuclear-missile-programs",
    ]
    assert second.json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"party": ["japan", "atlantis"]}, "unknown_reference", "party"),
        ({"territory": "atlantis"}, "unknown_reference", "territory"),
        ({"kind": "planetary"}, "validation_error", "kind"),
        ({"status": "frozen"}, "validation_error", "status"),
        ({"sort": "title"}, "unknown_parameter", "sort"),
    ],
)
@pytest.mark.usefixtures("kurils")
async def test_list_refuses_bad_filters(
    client: AsyncClient, params: dict[str, Any], code: str, field: str
) -> None:
    response = await client.get("/v1/disputes", params=params)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_detail_has_parties_territories_names_and_evidence(
    client: AsyncClient, kurils: Kurils
) -> None:
    k = kurils
    by_slug = await client.get("/v1/disputes/kuril-islands-dispute")
    by_id = await client.get(f"/v1/disputes/{k.dispute.id}")

    assert by_slug.status_code == 200
    assert by_id.json() == by_slug.json()
    body = by_slug.json()
    assert body["title"] == "Kuril Islands dispute"
    assert body["pov"] is None
    assert body["evidence"] == [
        _quote(17, 55, "have a decades-old territorial dispute", k.article),
        _quote(301, 336, "following Tokyo's surrender in 1945", k.article, "time"),
    ]
    assert body["parties"] == [
        {
            "entity": _ref(k.japan),
            "role": "claimant",
            "position": "The annexation of the Northern Territories was illegal; "
            "Japan demands their return.",
            "evidence": [
                _quote(
                    389,
                    452,
                    "argues the annexation was illegal and is demanding their return",
                    k.article,
                    "position",
                )
            ],
        },
        {
            "entity": _ref(k.russia),
            "role": "administering_party",
            "position": "The annexation of the Southern Kurils was a legitimate outcome of "
            "the war.",
            "evidence": [
                _quote(228, 248, "Russian-held islands", k.article),
                _quote(
                    460,
                    510,
                    "Russia says it was a legitimate outcome of the war",
                    k.article,
                    "position",
                ),
            ],
        },
    ]
    claim = [_quote(427, 452, "is demanding their return", k.article, "claimed_by")]
    assert body["territories"] == [
        {
            "entity": _ref(place),
            "administered_by": _ref(k.russia),
            "claimed_by": _ref(k.japan),
            "evidence": claim,
        }
        for place in (k.habomai, k.shikotan, k.islands)
    ]
    assert [
        (n["entity"]["slug"], n["name"], n["language"], n["kind"], n["used_by"]["slug"])
        for n in body["names"]
    ] == [
        ("shikotan", "色丹島", "ja", "official", "japan"),
        ("southern-kuril-islands", "Northern Territories", "en", "official", "japan"),
        ("southern-kuril-islands", "北方領土", "ja", "common", "japan"),
        ("southern-kuril-islands", "Southern Kurils", "en", "common", "russia"),
        ("southern-kuril-islands", "Южные Курилы", "ru", "common", "russia"),
    ]
    assert body["names"][0]["entity"] == _ref(k.shikotan)
    assert body["names"][0]["used_by"] == _ref(k.japan)


async def test_names_include_the_group_of_a_territory_and_territories_may_lack_sides(
    session: AsyncSession, client: AsyncClient, kurils: Kurils
) -> None:
    dispute = await make_dispute(session, "shikotan-dispute", "Shikotan dispute")
    await add_territory(session, dispute, kurils.shikotan)

    body = (await client.get("/v1/disputes/shikotan-dispute")).json()

    assert body["territories"] == [
        {
            "entity": _ref(kurils.shikotan),
            "administered_by": None,
            "claimed_by": None,
            "evidence": [],
        }
    ]
    assert body["parties"] == []
    assert body["evidence"] == []
    # Shikotan's own name, then those of the Southern Kuril Islands it is part of.
    assert [(n["entity"]["slug"], n["name"]) for n in body["names"]] == [
        ("shikotan", "色丹島"),
        ("southern-kuril-islands", "Northern Territories"),
        ("southern-kuril-islands", "北方領土"),
        ("southern-kuril-islands", "Southern Kurils"),
        ("southern-kuril-islands", "Южные Курилы"),
    ]


@pytest.mark.usefixtures("kurils")
async def test_detail_has_an_etag_and_honours_if_none_match(client: AsyncClient) -> None:
    first = await client.get("/v1/disputes/kuril-islands-dispute")
    again = await client.get(
        "/v1/disputes/kuril-islands-dispute", headers={"If-None-Match": first.headers["etag"]}
    )

    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(
    "path", ["/v1/disputes/atlantis-dispute", "/v1/disputes/atlantis-dispute/timeline"]
)
async def test_missing_dispute_is_a_404(client: AsyncClient, path: str) -> None:
    response = await client.get(path)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["detail"] == "No dispute with id or slug 'atlantis-dispute'."


async def test_timeline_orders_partial_dates_by_their_bounds(
    session: AsyncSession, client: AsyncClient, kurils: Kurils
) -> None:
    links = await add_kuril_timeline(session, kurils)
    # What made the seizure the dispute's origin, apart from the seizure itself.
    await note(
        session,
        kurils.article,
        "The claims date from the seizure.",
        field="role",
        dispute_event_id=links["seizure"].id,
    )

    response = await client.get("/v1/disputes/kuril-islands-dispute/timeline")

    assert response.status_code == 200
    body = response.json()
    assert body["pov"] is None
    assert body["next_cursor"] is None
    assert [(e["slug"], e["time"] and e["time"]["edtf"]) for e in body["items"]] == [
        ("no-peace-treaty", None),
        ("soviet-seizure-of-the-islands", "1945"),
        ("soviet-japanese-joint-declaration", "1956-10-19"),
        ("soviet-union-denies-a-territorial-issue", "197X/198X"),
        ("kishida-putin-phone-call", "2021-10-07"),
    ]
    seizure = body["items"][1]
    k = kurils
    assert seizure == {
        "id": seizure["id"],
        "slug": "soviet-seizure-of-the-islands",
        "title": "The Soviet Union seizes the islands off Hokkaido",
        "event_type": "ASSAULT",
        "modality": "asserted",
        "time": {
            "edtf": "1945",
            "earliest": "1945-01-01",
            "latest": "1945-12-31",
            "precision": "year",
        },
        "location": _ref(k.islands),
        "participants": [
            {"entity": _ref(k.soviet_union), "role": "actor"},
            {"entity": _ref(k.japan), "role": "target"},
            {"entity": _ref(k.islands), "role": "subject"},
        ],
        "role": "origin",
        "significance": "Began the dispute.",
        "evidence": [
            _quote(274, 300, "seized by the Soviet Union", k.article),
            _quote(329, 336, "in 1945", k.article, "time"),
        ],
        "link_evidence": [
            {
                "article_id": str(k.article.id),
                "start": None,
                "end": None,
                "quote": None,
                "editorial": True,
                "note": "The claims date from the seizure.",
                "field": "role",
            }
        ],
    }
    assert body["items"][4]["link_evidence"] == []
    assert body["items"][0]["modality"] == "negated"
    assert body["items"][0]["evidence"] == []
    assert body["items"][3]["time"] == {
        "edtf": "197X/198X",
        "earliest": "1970-01-01",
        "latest": "1989-12-31",
        "precision": "decade",
    }
    assert body["items"][4]["role"] == "negotiation"


async def test_timeline_pages_without_gaps_while_events_are_added(
    session: AsyncSession, client: AsyncClient, kurils: Kurils
) -> None:
    await add_kuril_timeline(session, kurils)
    path = "/v1/disputes/kuril-islands-dispute/timeline"

    first = await client.get(path, params={"limit": 2})
    cursor = first.json()["next_cursor"]
    # The San Francisco treaty (1951) sorts after the first page, the Shimoda treaty (1855)
    # before it: a client that already has that page does not see it.
    for slug, title, time in [
        ("san-francisco-peace-treaty", "Japan signs the San Francisco Peace Treaty", "1951-09-08"),
        ("treaty-of-shimoda", "Japan and Russia sign the Treaty of Shimoda", "1855-02-07"),
    ]:
        event = await make_event(session, slug, time, title=title, event_type=EventType.AGREE)
        await add_to_timeline(session, kurils.dispute, event, DisputeEventRole.BACKGROUND)
    seen = [e["slug"] for e in first.json()["items"]]
    while cursor:
        response = await client.get(path, params={"limit": 2, "cursor": cursor})
        assert response.status_code == 200
        seen += [e["slug"] for e in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor:
            assert response.headers["link"] == (
                f'<http://testserver{path}?limit=2&cursor={cursor}>; rel="next"'
            )

    assert seen == [
        "no-peace-treaty",
        "soviet-seizure-of-the-islands",
        "san-francisco-peace-treaty",
        "soviet-japanese-joint-declaration",
        "soviet-union-denies-a-territorial-issue",
        "kishida-putin-phone-call",
    ]


async def test_timeline_default_limit_is_20_and_cursors_are_bound_to_the_dispute(
    session: AsyncSession, client: AsyncClient, kurils: Kurils
) -> None:
    for day in range(1, 22):
        event = await make_event(
            session,
            f"talks-{day}",
            f"2021-11-{day:02d}",
            title=f"Talks, day {day}",
            event_type=EventType.CONSULT,
        )
        await add_to_timeline(session, kurils.dispute, event, DisputeEventRole.NEGOTIATION)
    await make_dispute(session, "other-dispute", "Other dispute")

    body = (await client.get("/v1/disputes/kuril-islands-dispute/timeline")).json()
    elsewhere = await client.get(
        "/v1/disputes/other-dispute/timeline", params={"cursor": body["next_cursor"]}
    )
    empty = await client.get("/v1/disputes/other-dispute/timeline")

    assert len(body["items"]) == 20
    assert body["items"][-1]["slug"] == "talks-20"
    assert elsewhere.status_code == 400
    assert elsewhere.json()["code"] == "invalid_cursor"
    assert empty.json() == {"items": [], "next_cursor": None, "pov": None}


async def test_timeline_by_id_and_by_slug_answer_alike_in_one_statement(
    session: AsyncSession, client: AsyncClient, kurils: Kurils, engine: AsyncEngine
) -> None:
    await add_kuril_timeline(session, kurils)
    quiet = await make_dispute(session, "quiet-dispute", "A dispute with no events yet")
    dispute_id = str(kurils.dispute.id)

    answers: dict[str, Response] = {}
    sent: dict[str, int] = {}
    for key in ("kuril-islands-dispute", dispute_id):
        with counting_statements(engine) as statements:
            answers[key] = await client.get(f"/v1/disputes/{key}/timeline", params={"limit": 2})
        sent[key] = sum(1 for statement in statements if "SAVEPOINT" not in statement)
    by_slug, by_id = answers.values()
    counted = [
        (await client.get(f"/v1/disputes/{key}/timeline", params={"count": "exact"})).json()
        for key in ("kuril-islands-dispute", dispute_id)
    ]
    last_page = await client.get(
        f"/v1/disputes/{dispute_id}/timeline",
        params={"cursor": by_id.json()["next_cursor"], "limit": 100},
    )
    empty = [
        await client.get(f"/v1/disputes/{key}/timeline") for key in ("quiet-dispute", str(quiet.id))
    ]
    unknown = await client.get(f"/v1/disputes/{uuid.uuid4()}/timeline")

    assert by_slug.status_code == by_id.status_code == 200
    assert by_slug.json()["items"] == by_id.json()["items"]
    assert len(by_id.json()["items"]) == 2
    assert by_id.json()["next_cursor"] is not None
    # The page, its events' participants and evidence, the key resolved inside it.
    assert sent == {"kuril-islands-dispute": 1, dispute_id: 1}
    assert counted[0] == counted[1]
    assert counted[0]["total"] == len(counted[0]["items"]) > 2
    assert last_page.status_code == 200
    assert [item["slug"] for item in last_page.json()["items"]] == [
        item["slug"] for item in counted[0]["items"][2:]
    ]
    assert [(r.status_code, r.json()["items"]) for r in empty] == [(200, []), (200, [])]
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "not_found"
