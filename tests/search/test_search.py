import re
from datetime import UTC, datetime

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from api.articles import service as article_service
from db.enums import DisputeKind, DisputeStatus, EntityKind, EventType
from db.models import Dispute, Event
from tests.support.factories import make_article, make_entity, make_source


@pytest.fixture
async def corpus(session: AsyncSession) -> None:
    kyodo = await make_source(session)
    await make_entity(session, "fumio-kishida", "Fumio Kishida", EntityKind.PERSON)
    await make_article(
        session,
        kyodo,
        "call",
        "Prime Minister Fumio Kishida spoke with Putin about a <peace> treaty & more.",
        headline="Kishida and Putin talk",
    )
    session.add_all(
        [
            Event(
                slug="phone-call",
                title="Kishida and Putin hold phone talks",
                event_type=EventType.CONSULT,
            ),
            Dispute(
                slug="kuril-islands-dispute",
                title="Kuril Islands dispute",
                kind=DisputeKind.TERRITORIAL,
                status=DisputeStatus.ACTIVE,
                summary="Sovereignty over islands; no peace treaty since the war.",
            ),
        ]
    )
    await session.flush()


@pytest.mark.usefixtures("corpus")
async def test_one_ranked_list_across_types(client: AsyncClient) -> None:
    response = await client.get("/v1/search", params={"q": "Kishida"})

    assert response.status_code == 200
    hits = response.json()["items"]
    # The article names Kishida in its headline and its body, the event only in its title.
    assert [(hit["type"], hit["slug"]) for hit in hits] == [
        ("entity", "fumio-kishida"),
        ("article", "call"),
        ("event", "phone-call"),
    ]
    scores = [hit["score"] for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert hits[0]["score"] > 1  # a name matched by prefix outranks any full-text match


@pytest.mark.usefixtures("corpus")
async def test_snippets_are_escaped_and_highlighted(client: AsyncClient) -> None:
    hits = (await client.get("/v1/search", params={"q": "treaty", "type": "article"})).json()

    assert [hit["slug"] for hit in hits["items"]] == ["call"]
    snippet = hits["items"][0]["snippet"]
    assert "<mark>treaty</mark>" in snippet
    assert "&amp; more" in snippet
    # Markup-like text in an article can never reach a frontend as markup.
    assert "<" not in re.sub(r"</?mark>", "", snippet)


@pytest.mark.usefixtures("corpus")
async def test_type_filter_and_paging(client: AsyncClient) -> None:
    first = (await client.get("/v1/search", params={"q": "treaty", "limit": 1})).json()
    second = (
        await client.get(
            "/v1/search", params={"q": "treaty", "limit": 1, "cursor": first["next_cursor"]}
        )
    ).json()

    assert {first["items"][0]["type"], second["items"][0]["type"]} == {"dispute", "article"}
    assert second["next_cursor"] is None


async def test_search_needs_q_and_known_types(client: AsyncClient) -> None:
    missing = await client.get("/v1/search")
    bad_type = await client.get("/v1/search", params={"q": "x", "type": "planet"})

    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "q"
    assert bad_type.status_code == 400


@pytest.mark.parametrize("q", ["%", "'", "\\", "a & !b", "((", "<script>"])
async def test_hostile_search_text_is_harmless(client: AsyncClient, q: str) -> None:
    response = await client.get("/v1/search", params={"q": q})

    assert response.status_code == 200
    assert response.json()["items"] == []


async def test_articles_are_ranked_among_the_newest_matches(
    client: AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A word in most of the archive ranks only the newest RANKED_ARTICLES matches: the best
    match among older articles is left out, however well it matches."""
    monkeypatch.setattr(article_service, "RANKED_ARTICLES", 2)
    source = await make_source(session)
    await make_article(
        session,
        source,
        "old-but-best",
        "Harbour harbour harbour: the harbour and nothing but the harbour.",
        headline="Harbour",
        published_at=datetime(2001, 1, 1, tzinfo=UTC),
    )
    for year in (2020, 2021):
        await make_article(
            session,
            source,
            f"passing-{year}",
            f"In {year} the report mentioned a harbour once among many other things.",
            published_at=datetime(year, 1, 1, tzinfo=UTC),
        )
    await session.flush()

    response = await client.get("/v1/search", params={"q": "harbour", "type": "article"})

    assert response.status_code == 200
    assert sorted(hit["slug"] for hit in response.json()["items"]) == [
        "passing-2020",
        "passing-2021",
    ]

    monkeypatch.setattr(article_service, "RANKED_ARTICLES", 3)
    response = await client.get("/v1/search", params={"q": "harbour", "type": "article"})
    assert response.json()["items"][0]["slug"] == "old-but-best"
