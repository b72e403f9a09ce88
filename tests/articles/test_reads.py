from datetime import UTC, datetime

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from api.articles import service as article_service
from api.articles.service import EMBEDDED_MENTIONS
from db.models import Source
from tests.support.factories import make_article, make_entity, make_source, mention_all


def day(n: int) -> datetime:
    return datetime(2021, 10, n, 9, 0, tzinfo=UTC)


@pytest.fixture
async def kyodo(session: AsyncSession) -> Source:
    return await make_source(session)


async def _slugs(client: AsyncClient, **params: object) -> list[str]:
    response = await client.get("/v1/articles", params=params)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["items"]]


async def test_list_order_and_shape(
    session: AsyncSession, kyodo: Source, client: AsyncClient
) -> None:
    await make_article(session, kyodo, "older", "Older story.", published_at=day(1))
    await make_article(session, kyodo, "undated", "A story with no date.")
    await make_article(
        session, kyodo, "newer", "Newer story.", published_at=day(7), headline="Newer"
    )

    response = await client.get("/v1/articles")

    assert response.status_code == 200
    body = response.json()
    assert [item["slug"] for item in body["items"]] == ["newer", "older", "undated"]
    assert body["next_cursor"] is None
    assert "link" not in response.headers
    first = body["items"][0]
    assert first["headline"] == "Newer"
    assert first["published_at"] == "2021-10-07T09:00:00Z"
    assert first["source"] == {"id": str(kyodo.id), "slug": "kyodo", "name": "Kyodo"}
    assert "body" not in first


async def test_pages_have_no_gaps_or_duplicates_while_rows_are_inserted(
    session: AsyncSession, kyodo: Source, client: AsyncClient
) -> None:
    for n in range(1, 8):
        await make_article(session, kyodo, f"day-{n}", f"Story of day {n}.", published_at=day(n))

    first = await client.get("/v1/articles", params={"limit": 3})
    page_one = [item["slug"] for item in first.json()["items"]]
    cursor = first.json()["next_cursor"]
    # A newer article and one in the middle arrive while the client pages.
    await make_article(session, kyodo, "breaking", "Breaking story.", published_at=day(20))
    await make_article(
        session, kyodo, "late-day-4", "Late on day 4.", published_at=day(4).replace(hour=18)
    )
    seen = list(page_one)
    while cursor:
        response = await client.get("/v1/articles", params={"limit": 3, "cursor": cursor})
        assert response.status_code == 200
        seen += [item["slug"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor:
            assert response.headers["link"] == (
                f'<http://testserver/v1/articles?limit=3&cursor={cursor}>; rel="next"'
            )

    assert page_one == ["day-7", "day-6", "day-5"]
    assert seen == ["day-7", "day-6", "day-5", "late-day-4", "day-4", "day-3", "day-2", "day-1"]
    assert first.headers["link"].endswith('rel="next"')


async def test_default_limit_is_20(
    session: AsyncSession, kyodo: Source, client: AsyncClient
) -> None:
    for n in range(21):
        await make_article(session, kyodo, f"a-{n}", f"Story {n}.")

    body = (await client.get("/v1/articles")).json()

    assert len(body["items"]) == 20
    assert body["next_cursor"] is not None


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
async def test_limit_out_of_range_is_a_400(client: AsyncClient, limit: str) -> None:
    response = await client.get("/v1/articles", params={"limit": limit})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "limit"


async def test_a_cursor_from_another_query_is_refused(
    session: AsyncSession, kyodo: Source, client: AsyncClient
) -> None:
    for n in range(3):
        await make_article(session, kyodo, f"a-{n}", f"Story {n}.", published_at=day(n + 1))
    cursor = (await client.get("/v1/articles", params={"limit": 1})).json()["next_cursor"]

    response = await client.get("/v1/articles", params={"cursor": cursor, "language": "ja"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"
    assert "different query" in response.json()["detail"]


@pytest.mark.parametrize("cursor", ["garbage", "a.b.c", "eyJrIjpbXX0.AAAAAAAAAAAAAAAA", ""])
async def test_malformed_or_tampered_cursors_are_refused(client: AsyncClient, cursor: str) -> None:
    response = await client.get("/v1/articles", params={"cursor": cursor})

    assert response.status_code == 400
    assert response.json()["code"] in {"invalid_cursor", "validation_error"}


async def test_unknown_parameter_is_a_400_naming_it(client: AsyncClient) -> None:
    response = await client.get("/v1/articles", params={"sort": "oldest"})

    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "unknown_parameter"
    assert problem["errors"][0]["field"] == "sort"


async def test_repeating_a_single_valued_parameter_is_a_400(client: AsyncClient) -> None:
    response = await client.get("/v1/articles?language=en&language=ja")

    assert response.status_code == 400
    assert response.json()["code"] == "repeated_parameter"


async def test_full_text_ranks_headline_matches_first(
    session: AsyncSession, kyodo: Source, client: AsyncClient
) -> None:
    await make_article(session, kyodo, "body-only", "The treaty was discussed at length.")
    await make_article(
        session, kyodo, "in-headline", "Leaders spoke.", headline="Peace treaty talks"
    )
    await make_article(session, kyodo, "unrelated", "Weather was fine.")

    assert await _slugs(client, q="treaty") == ["in-headline", "body-only"]
    assert await _slugs(client, q="'treaty' OR & !") == ["in-headline", "body-only"]


async def test_full_text_ranks_the_newest_matches_of_every_filter(
    session: AsyncSession, kyodo: Source, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the newest RANKED_ARTICLES matches are ranked, and "matches" means every filter:
    an article of another source does not take a place among them."""
    monkeypatch.setattr(article_service, "RANKED_ARTICLES", 2)
    other = await make_source(session, "tass", "TASS")
    await make_article(
        session, kyodo, "old-best", "Treaty treaty treaty.", headline="Treaty", published_at=day(1)
    )
    await make_article(session, kyodo, "mid", "A treaty was mentioned.", published_at=day(2))
    await make_article(session, kyodo, "new", "The treaty came up once.", published_at=day(3))
    await make_article(session, other, "newest-elsewhere", "Treaty news.", published_at=day(4))

    assert sorted(await _slugs(client, q="treaty", source="kyodo")) == ["mid", "new"]
    monkeypatch.setattr(article_service, "RANKED_ARTICLES", 3)
    assert (await _slugs(client, q="treaty", source="kyodo"))[0] == "old-best"


async def test_entity_filter_requires_every_entity(
    session: AsyncSession, kyodo: Source, client: AsyncClient
) -> None:
    japan = await make_entity(session, "japan", "Japan")
    russia = await make_entity(session, "russia", "Russia")
    both = await make_article(session, kyodo, "both", "Japan and Russia spoke.")
    only_japan = await make_article(session, kyodo, "japan-only", "Japan spoke.")
    await mention_all(session, both, japan)
    await mention_all(session, both, russia)
    await mention_all(session, only_japan, japan)

    assert await _slugs(client, entity=["japan", "russia"]) == ["both"]
    assert sorted(await _slugs(client, entity=str(japan.id))) == ["both", "japan-only"]


async def test_filtering_by_an_unknown_entity_is_a_400(client: AsyncClient) -> None:
    response = await client.get("/v1/articles", params={"entity": "atlantis"})

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_reference"


async def test_get_by_id_or_slug_with_mentions(
    session: AsyncSession, kyodo: Source, client: AsyncClient
) -> None:
    japan = await make_entity(session, "japan", "Japan")
    article = await make_article(session, kyodo, "call", "Japan and Japan again.")
    await mention_all(session, article, japan)

    by_slug = await client.get("/v1/articles/call", params={"include": "mentions"})
    by_id = await client.get(f"/v1/articles/{article.id}", params={"include": "mentions"})
    plain = await client.get("/v1/articles/call")

    assert by_slug.status_code == 200
    assert by_slug.json() == by_id.json()
    assert by_slug.json()["body"] == "Japan and Japan again."
    assert [(m["start"], m["end"], m["surface"]) for m in by_slug.json()["mentions"]] == [
        (0, 5, "Japan"),
        (10, 15, "Japan"),
    ]
    assert by_slug.json()["mentions"][0]["entity"]["slug"] == "japan"
    assert "mentions" not in plain.json()


async def test_mentions_page_through_every_one_where_include_embeds_the_first_thousand(
    session: AsyncSession, kyodo: Source, client: AsyncClient
) -> None:
    japan = await make_entity(session, "japan", "Japan")
    # Curated mentions (seed, import) have no bound of their own: 1,001 here.
    article = await make_article(session, kyodo, "many", "Japan. " * (EMBEDDED_MENTIONS + 1))
    await mention_all(session, article, japan)

    embedded = (await client.get("/v1/articles/many", params={"include": "mentions"})).json()
    assert len(embedded["mentions"]) == EMBEDDED_MENTIONS
    assert embedded["mentions_truncated"] is True

    starts: list[int] = []
    url, params = "/v1/articles/many/mentions", {"limit": 100}
    pages = 0
    while True:
        response = await client.get(url, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        starts += [m["start"] for m in page["items"]]
        pages += 1
        if page["next_cursor"] is None:
            assert "link" not in response.headers
            break
        assert 'rel="next"' in response.headers["link"]
        params = {"limit": 100, "cursor": page["next_cursor"]}
    assert pages == 11
    assert starts == [7 * n for n in range(EMBEDDED_MENTIONS + 1)]
    assert starts[:EMBEDDED_MENTIONS] == [m["start"] for m in embedded["mentions"]]


async def test_mentions_of_an_article_with_few_are_complete_and_in_body_order(
    session: AsyncSession, kyodo: Source, client: AsyncClient
) -> None:
    japan = await make_entity(session, "japan", "Japan")
    russia = await make_entity(session, "russia", "Russia")
    article = await make_article(session, kyodo, "pair", "Russia and Japan, then Russia.")
    await mention_all(session, article, japan)
    await mention_all(session, article, russia)

    embedded = (await client.get("/v1/articles/pair", params={"include": "mentions"})).json()
    listed = (await client.get(f"/v1/articles/{article.id}/mentions")).json()

    assert embedded["mentions_truncated"] is False
    assert listed["items"] == embedded["mentions"]
    assert [(m["entity"]["slug"], m["start"]) for m in listed["items"]] == [
        ("russia", 0),
        ("japan", 11),
        ("russia", 23),
    ]
    assert listed["next_cursor"] is None


async def test_mentions_of_a_missing_article_or_with_a_foreign_cursor_are_problems(
    session: AsyncSession, kyodo: Source, client: AsyncClient
) -> None:
    japan = await make_entity(session, "japan", "Japan")
    for slug in ("one", "two"):
        article = await make_article(session, kyodo, slug, f"Japan, Japan ({slug}).")
        await mention_all(session, article, japan)
    first = (await client.get("/v1/articles/one/mentions", params={"limit": 1})).json()

    missing = await client.get("/v1/articles/nowhere/mentions")
    foreign = await client.get(
        "/v1/articles/two/mentions", params={"limit": 1, "cursor": first["next_cursor"]}
    )

    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert foreign.status_code == 400
    assert foreign.json()["code"] == "invalid_cursor"


async def test_missing_article_is_a_404_problem(client: AsyncClient) -> None:
    response = await client.get("/v1/articles/no-such-article")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["detail"] == "No article with id or slug 'no-such-article'."


async def test_etag_and_conditional_get(
    session: AsyncSession, kyodo: Source, client: AsyncClient
) -> None:
    await make_article(session, kyodo, "call", "Leaders spoke.")

    first = await client.get("/v1/articles/call")
    etag = first.headers["etag"]
    again = await client.get("/v1/articles/call", headers={"If-None-Match": etag})
    other = await client.get("/v1/articles/call", headers={"If-None-Match": '"stale"'})

    assert etag.startswith('"')
    assert etag.endswith('"')
    assert first.headers["cache-control"].startswith("public")
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert other.status_code == 200
