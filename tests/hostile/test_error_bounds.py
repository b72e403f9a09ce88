"""What one small request can make the server produce is bounded: an error lists a few of the
things it is about, not all of them. Before, a 1,179-byte POST /v1/entities whose 20 evidence
items quoted "a" against a 500,000-character article answered a 422 of 77.8 MB in 2.3 s,
listing every offset of every "a"."""

import time

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from db.checks import LISTED_OCCURRENCES
from db.gazetteer import MAX_DETECTED_MENTIONS
from tests.support.factories import make_article, make_entity, make_source

LONG_BODY = ("a banana and a papaya. " * 22_000)[:500_000]


async def test_an_ambiguous_quote_in_a_long_body_gives_a_short_error(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str]
) -> None:
    source = await make_source(session)
    await make_article(session, source, "long-article", LONG_BODY)
    body = {
        "slug": "fruit",
        "kind": "other",
        "name": "Fruit",
        "description": "Sold at the market.",
        "evidence": [{"quote": "a", "article": "long-article"}] * 20,
    }

    started = time.monotonic()
    response = await client.post("/v1/entities", json=body, headers=writer)
    seconds = time.monotonic() - started

    assert response.status_code == 422, response.text[:2000]
    assert len(response.content) < 20_000
    assert seconds < 2.0  # "did not list half a million offsets", far above what it takes
    errors = response.json()["errors"]
    assert len(errors) == 20
    message = errors[0]["message"]
    assert "'a' occurs at least" in message
    listed = message.split("(at offsets ", 1)[1].split(")", 1)[0]
    assert listed.endswith(", …")
    assert len(listed.split(", ")) == LISTED_OCCURRENCES + 1
    assert (await client.get("/v1/entities/fruit")).status_code == 404


async def test_detection_stores_at_most_its_bound_of_mentions_per_article(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str]
) -> None:
    source = await make_source(session)
    await make_entity(session, "japan", "Japan")
    await make_entity(session, "russia", "Russia")
    body = "Japan and Russia. " * 3000  # 6,000 names

    response = await client.post(
        "/v1/articles",
        json={"source": source.slug, "slug": "names", "body": body, "language": "en"},
        headers=writer,
    )

    assert response.status_code == 201, response.text[:2000]
    read = await client.get("/v1/articles/names", params={"include": "mentions"})
    mentions = read.json()["mentions"]
    assert len(mentions) == MAX_DETECTED_MENTIONS
    # The first in body order: the bound cuts the tail, not a random sample.
    assert [m["start"] for m in mentions] == sorted(m["start"] for m in mentions)
    assert mentions[0]["start"] == 0
    assert mentions[-1]["end"] < len(body) // 2
