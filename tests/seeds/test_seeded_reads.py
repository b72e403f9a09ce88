"""The read API over the shipped seed data: what a frontend or researcher would ask of it."""

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from seeds.files import default_seed_paths
from seeds.loader import load_seeds

ARTICLE = "kyodo-2021-10-07-kishida-putin-phone-call"


@pytest.fixture
async def seeded(session: AsyncSession) -> None:
    await load_seeds(session, default_seed_paths(), force=True)


async def _slugs(client: AsyncClient, path: str, **params: object) -> list[str]:
    response = await client.get(path, params=params)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["items"]]


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(
    ("q", "best"),
    [
        ("kurils", "disputed-kuril-islands"),
        ("Northern Territories", "disputed-kuril-islands"),
        ("habomai", "habomai-islands"),
        ("Putin", "vladimir-putin"),
        ("Kishida Fumio", "fumio-kishida"),
        ("Kishda", "fumio-kishida"),
        ("etorofu", "iturup"),
    ],
)
async def test_entity_search_examples_of_the_design(client: AsyncClient, q: str, best: str) -> None:
    assert (await _slugs(client, "/v1/entities", q=q))[0] == best


@pytest.mark.usefixtures("seeded")
async def test_article_includes_the_events_it_reports_in_time_order(client: AsyncClient) -> None:
    response = await client.get(f"/v1/articles/{ARTICLE}", params={"include": "events"})

    events = [
        (e["slug"], e["time"]["edtf"] if e["time"] else None) for e in response.json()["events"]
    ]
    assert events[:3] == [
        ("end-of-world-war-ii", "1945"),
        ("japan-surrenders-1945", "1945"),
        ("soviet-seizure-of-disputed-kuril-islands", "1945"),
    ]
    assert ("north-korean-abductions-of-japanese-nationals", "197X/198X") in events
    # The call and what happened in it, last: the same day, in no particular order.
    assert sorted(events[-5:]) == [
        ("kishida-asks-russia-to-help-resolve-abductions", "2021-10-07"),
        ("kishida-putin-agree-to-advance-peace-treaty-talks", "2021-10-07"),
        ("kishida-putin-discuss-north-korea-programs", "2021-10-07"),
        ("kishida-putin-phone-call-2021-10-07", "2021-10-07"),
        ("putin-hopes-for-in-person-talks-with-kishida", "2021-10-07"),
    ]
    assert len(events) == 13


@pytest.mark.usefixtures("seeded")
async def test_article_includes_its_statements_with_speakers(client: AsyncClient) -> None:
    response = await client.get(
        f"/v1/articles/{ARTICLE}", params={"include": ["statements", "mentions"]}
    )

    body = response.json()
    quoted = [s for s in body["statements"] if s["kind"] == "direct_quote"]
    assert [(s["speaker"]["slug"], s["text"]) for s in quoted] == [
        (
            "vladimir-putin",
            "I am looking forward to working with Prime Minister Kishida, who knows bilateral "
            "relations well.",
        )
    ]
    assert len(body["statements"]) == 8
    assert len(body["mentions"]) == 42
    assert all(body["body"][m["start"] : m["end"]] == m["surface"] for m in body["mentions"])


@pytest.mark.usefixtures("seeded")
async def test_articles_filtered_by_event_dispute_and_entities(client: AsyncClient) -> None:
    assert await _slugs(client, "/v1/articles", event="kishida-putin-phone-call-2021-10-07") == [
        ARTICLE
    ]
    assert await _slugs(client, "/v1/articles", dispute="kuril-islands-dispute") == [ARTICLE]
    assert await _slugs(client, "/v1/articles", entity=["japan", "north-korea"]) == [ARTICLE]
    assert await _slugs(client, "/v1/articles", entity=["iturup"]) == []
    assert await _slugs(client, "/v1/articles", q="peace treaty") == [ARTICLE]


@pytest.mark.usefixtures("seeded")
async def test_entity_articles_events_and_related(client: AsyncClient) -> None:
    articles = await _slugs(client, "/v1/entities/fumio-kishida/articles")
    events = await _slugs(client, "/v1/entities/fumio-kishida/events")
    related = (await client.get("/v1/entities/fumio-kishida/related")).json()["items"]

    assert articles == [ARTICLE]
    assert events[0] == "kishida-takes-office-2021-10-04"
    # Events of the same day are in no particular order among themselves (then by id).
    assert sorted(events[1:]) == [
        "kishida-asks-russia-to-help-resolve-abductions",
        "kishida-putin-agree-to-advance-peace-treaty-talks",
        "kishida-putin-discuss-north-korea-programs",
        "kishida-putin-phone-call-2021-10-07",
        "putin-hopes-for-in-person-talks-with-kishida",
    ]
    # Every entity named in the article comes along once, alphabetically for equal counts.
    assert [(r["entity"]["name"], r["articles"]) for r in related][:3] == [
        ("Disputed Kuril Islands", 1),
        ("Habomai Islands", 1),
        ("Hokkaido", 1),
    ]
    assert "fumio-kishida" not in [r["entity"]["slug"] for r in related]


@pytest.mark.usefixtures("seeded")
async def test_related_pages_without_gaps(client: AsyncClient) -> None:
    everything = [
        r["entity"]["slug"]
        for r in (await client.get("/v1/entities/japan/related", params={"limit": 100})).json()[
            "items"
        ]
    ]
    paged: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "4"} | ({"cursor": cursor} if cursor else {})
        body = (await client.get("/v1/entities/japan/related", params=params)).json()
        paged += [r["entity"]["slug"] for r in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert paged == everything
    # 16 entities, less Japan itself and the four the body never names (Kyodo News, Iturup,
    # Kunashir, the National Diet).
    assert len(everything) == 11


@pytest.mark.usefixtures("seeded")
async def test_the_dispute_timeline_runs_from_seizure_to_the_call(client: AsyncClient) -> None:
    timeline = await _slugs(client, "/v1/disputes/kuril-islands-dispute/timeline")

    assert timeline.index("soviet-seizure-of-disputed-kuril-islands") < timeline.index(
        "soviet-japanese-joint-declaration-1956"
    )
    assert timeline.index("soviet-japanese-joint-declaration-1956") < timeline.index(
        "kishida-putin-phone-call-2021-10-07"
    )


@pytest.mark.usefixtures("seeded")
async def test_point_of_view_names_the_islands(client: AsyncClient) -> None:
    canonical = (await client.get("/v1/entities/disputed-kuril-islands")).json()
    japan = (
        await client.get("/v1/entities/disputed-kuril-islands", params={"pov": "japan"})
    ).json()
    russia = (
        await client.get("/v1/entities/disputed-kuril-islands", params={"pov": "russia"})
    ).json()
    dispute = (
        await client.get("/v1/disputes/kuril-islands-dispute", params={"pov": "russia"})
    ).json()

    # Neither side's name unless a side's point of view is asked for.
    assert canonical["name"] == "Disputed Kuril Islands"
    assert japan["name"] == "Northern Territories"
    assert russia["name"] == "Southern Kurils"
    assert [
        t["entity"]["name"]
        for t in dispute["territories"]
        if t["entity"]["slug"] == "disputed-kuril-islands"
    ] == ["Southern Kurils"]


@pytest.mark.usefixtures("seeded")
async def test_events_by_plover_type(client: AsyncClient) -> None:
    # "Occupy territory" is COERCE mode seize in PLOVER's CAMEO mapping, not ASSAULT.
    assert await _slugs(client, "/v1/events", type="COERCE", mode="seize") == [
        "soviet-seizure-of-disputed-kuril-islands"
    ]
    assert await _slugs(client, "/v1/events", type="ASSAULT") == [
        "north-korean-abductions-of-japanese-nationals"
    ]
    # Signing (or not) an agreement, and approving an actor, in time order.
    assert await _slugs(client, "/v1/events", type="SUPPORT") == [
        "japan-russia-peace-treaty-not-signed",
        "soviet-japanese-joint-declaration-1956",
        "kishida-takes-office-2021-10-04",
    ]
    assert await _slugs(client, "/v1/events", type="SUPPORT", modality="negated") == [
        "japan-russia-peace-treaty-not-signed"
    ]
    assert sorted(await _slugs(client, "/v1/events", type="AGREE")) == [
        "kishida-putin-agree-to-advance-peace-treaty-talks",
        "putin-hopes-for-in-person-talks-with-kishida",
    ]
    # An agreement or a hope that was expressed is asserted, not intended.
    assert await _slugs(client, "/v1/events", modality="intended") == []
    assert await _slugs(client, "/v1/events", participant="national-diet") == [
        "kishida-takes-office-2021-10-04"
    ]


@pytest.mark.usefixtures("seeded")
async def test_researcher_questions(client: AsyncClient) -> None:
    consultations = await _slugs(
        client, "/v1/events", type="CONSULT", participant=["japan", "russia"], **{"from": "2000"}
    )
    putin_statements = await _slugs(client, "/v1/statements", speaker="vladimir-putin")
    japan_disputes = await _slugs(client, "/v1/disputes", party="japan")

    # "All diplomatic consultations between Japan and Russia since 2000"
    assert consultations == ["kishida-putin-phone-call-2021-10-07"]
    # "Every statement Putin made", in the order of the events they belong to
    assert putin_statements == [
        "putin-hopes-for-talks-in-person",
        "putin-looking-forward-to-working-with-kishida",
        "putin-wants-to-continue-dialogue",
    ]
    # "Which disputes involve Japan"
    assert japan_disputes == ["kuril-islands-dispute", "north-korean-abductions"]


@pytest.mark.usefixtures("seeded")
async def test_the_phone_call_as_an_event(client: AsyncClient) -> None:
    call = (await client.get("/v1/events/kishida-putin-phone-call-2021-10-07")).json()

    assert (call["event_type"], call["mode"], call["duration"]) == ("CONSULT", "phone", "PT25M")
    assert call["time"] == {
        "edtf": "2021-10-07",
        "earliest": "2021-10-07",
        "latest": "2021-10-07",
        "precision": "day",
    }
    assert [(p["entity"]["slug"], p["role"]) for p in call["participants"]] == [
        ("fumio-kishida", "actor"),
        ("japan", "actor"),
        ("russia", "actor"),
        ("vladimir-putin", "actor"),
    ]
