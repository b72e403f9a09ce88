"""Hostile search text: LIKE wildcards (`%`, `_`), quotes, backslashes and tsquery operators
(`&`, `|`, `!`, `<->`, `:*`, parentheses) are plain characters in every text filter — `q` of
/v1/entities, /v1/articles and /v1/search, and `mode` of /v1/events. Each query is a 200 with
the results a literal reading gives, never a 500 and never "everything"."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import EntityKind
from db.models import Article
from tests.support.factories import make_entity
from tests.support.hostile import build_app, build_world, latency_report, timed
from tests.support.writing import ARTICLE


@pytest.fixture(scope="module", autouse=True)
def report_latencies() -> Iterator[None]:
    yield
    print("\n" + latency_report())  # shown with `pytest -s`


@pytest.fixture
def app(database_url: str, session: AsyncSession) -> FastAPI:
    return build_app(database_url, session)


@pytest.fixture
async def names(session: AsyncSession, call: Article) -> None:
    """Besides the world's Japan, Russia, Fumio Kishida and the Southern Kuril Islands, and its
    two articles (one naming Kishida, Putin and Japan; one about markets): two names with
    characters that mean something to LIKE and to SQL."""
    await build_world(session, call)
    await make_entity(session, "yen-percent-index", "Yen % Index", EntityKind.OTHER)
    await make_entity(session, "oneill-institute", "O'Neill Institute", EntityKind.ORGANIZATION)


def slugs(response: Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["items"]]


NAME_QUERIES = [
    ("%", ["yen-percent-index"]),  # a literal %, not "anything"
    ("% index", ["yen-percent-index"]),
    ("_", []),  # not "any one character"
    ("__", []),
    ("j_pan", []),
    ("\\", []),
    ("\\%", []),  # an escaped % is still not "anything"
    ("o'n", ["oneill-institute"]),
    ("O'Neill", ["oneill-institute"]),
    ("'", []),
    ("%'; DROP TABLE entity; --", []),
]


async def test_like_wildcards_and_quotes_in_names_are_literal(
    client: AsyncClient, names: None
) -> None:
    for q, expected in NAME_QUERIES:
        by_name = await timed(
            "LIKE wildcards and quotes in q",
            client.get("/v1/entities", params={"q": q}),
        )
        searched = await timed(
            "LIKE wildcards and quotes in q",
            client.get("/v1/search", params={"q": q, "type": "entity"}),
        )

        assert slugs(by_name) == expected, q
        assert slugs(searched) == expected, q


FULL_TEXT_QUERIES = [
    ("japan", [ARTICLE]),
    ("!japan", [ARTICLE]),  # not NOT
    ("!!!japan", [ARTICLE]),
    ("japan & markets", []),
    ("kishida & putin", [ARTICLE]),
    ("kishida | markets", []),  # not OR: both words are required
    ("kishida <-> putin", [ARTICLE]),  # not "followed by": they are words apart
    ("jap:*", []),  # not a prefix
    ("japan:A", [ARTICLE]),
    ("(kishida", [ARTICLE]),
    ("kishida)", [ARTICLE]),
    ("((((", []),
    ("'kishida'", [ARTICLE]),
    ("kishida\\", [ARTICLE]),
    ("%", []),
    ("_", []),
    ("&|!<->:*()", []),
    ("' OR 1=1 --", []),
    # Runs of minus signs nest NOTs: forty overflowed PostgreSQL's tsquery stack (a 500).
    ("-" * 40, []),
    ("- " * 100, []),
    ("kishida " + "-" * 60 + " putin", [ARTICLE]),  # an even run cancels out
    ("kishida " + "- " * 61 + "putin", []),  # an odd run is one NOT: kishida, not putin
    ("-" * 500, []),
]


async def test_tsquery_operators_in_full_text_search_are_literal(
    client: AsyncClient, names: None
) -> None:
    for q, expected in FULL_TEXT_QUERIES:
        listed = await timed("tsquery operators in q", client.get("/v1/articles", params={"q": q}))
        searched = await timed(
            "tsquery operators in q",
            client.get("/v1/search", params={"q": q, "type": "article"}),
        )
        everything = await timed(
            "tsquery operators in q", client.get("/v1/search", params={"q": q})
        )

        assert slugs(listed) == expected, q
        assert slugs(searched) == expected, q
        assert everything.status_code == 200, q


async def test_a_literal_percent_does_not_match_everything(
    client: AsyncClient, names: None
) -> None:
    everything = slugs(await client.get("/v1/entities", params={"limit": 100}))
    percent = slugs(await client.get("/v1/entities", params={"q": "%", "limit": 100}))
    search = await client.get("/v1/search", params={"q": "%", "limit": 100})

    assert len(everything) == 6
    assert percent == ["yen-percent-index"]
    assert [(h["type"], h["slug"]) for h in search.json()["items"]] == [
        ("entity", "yen-percent-index")
    ]


async def test_text_filters_compare_exactly(client: AsyncClient, names: None) -> None:
    phone = slugs(await client.get("/v1/events", params={"mode": "phone"}))
    wildcard = slugs(await client.get("/v1/events", params={"mode": "%"}))
    one_char = slugs(await client.get("/v1/events", params={"mode": "phon_"}))

    assert phone == ["kishida-putin-call"]
    assert wildcard == []
    assert one_char == []
