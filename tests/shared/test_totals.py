"""Totals (`count=exact`): a list says how many items it holds under its filters, so a page
can read "1-3 of 16"; without the parameter nothing is counted."""

import json

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.articles import service as article_service
from db.models import Entity
from seeds.files import default_seed_paths
from seeds.loader import load_seeds
from tests.support.database import counting_statements
from tests.support.factories import make_article, make_source, mention_all

ARTICLE = "kyodo-2021-10-07-kishida-putin-phone-call"

# Every list, with and without filters: the total must be what paging to the end reaches.
LISTS = [
    "/v1/articles",
    "/v1/articles?source=nhk",
    "/v1/articles?entity=japan&language=en",
    "/v1/articles?q=islands",
    "/v1/entities",
    "/v1/entities?kind=country",
    "/v1/entities?q=kuril",
    "/v1/entities?q=is&kind=territory",
    "/v1/events",
    "/v1/events?participant=japan",
    "/v1/events?from=1945&to=1956",
    "/v1/events?type=CONSULT&type=AGREE",
    "/v1/statements",
    "/v1/statements?speaker=vladimir-putin",
    "/v1/disputes",
    "/v1/disputes?party=japan",
    "/v1/sources",
    f"/v1/articles/{ARTICLE}/mentions",
    "/v1/entities/japan/articles",
    "/v1/entities/japan/events",
    "/v1/entities/japan/related",
    "/v1/disputes/kuril-islands-dispute/timeline",
    "/v1/search?q=kishida",
]


@pytest.fixture
async def seeded(session: AsyncSession) -> None:
    """The seed, and a second source with articles naming Japan on some of them."""
    await load_seeds(session, default_seed_paths(), force=True)
    japan = (await session.scalars(select(Entity).where(Entity.slug == "japan"))).one()
    nhk = await make_source(session, "nhk", "NHK")
    for n in range(7):
        body = f"Japan and the islands, part {n}." if n % 2 else f"Rain, day {n}."
        article = await make_article(session, nhk, f"nhk-{n}", body)
        if n % 2:
            await mention_all(session, article, japan)


def _with(path: str, **params: str) -> str:
    separator = "&" if "?" in path else "?"
    return path + separator + "&".join(f"{name}={value}" for name, value in params.items())


async def _page_to_the_end(client: AsyncClient, path: str) -> tuple[list[str], list[int]]:
    """Every item, following `next_cursor` three at a time, and the `total` of each page."""
    seen: list[str] = []
    totals: list[int] = []
    url = _with(path, limit="3", count="exact")
    while True:
        response = await client.get(url)
        assert response.status_code == 200, (url, response.text)
        page = response.json()
        seen.extend(json.dumps(item, sort_keys=True) for item in page["items"])
        totals.append(page["total"])
        if page["next_cursor"] is None:
            return seen, totals
        url = _with(path, limit="3", count="exact", cursor=page["next_cursor"])


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("path", LISTS)
async def test_the_total_is_what_paging_to_the_end_reaches(client: AsyncClient, path: str) -> None:
    seen, totals = await _page_to_the_end(client, path)

    assert len(seen) == len(set(seen))
    assert seen, "a list worth counting"
    assert set(totals) == {len(seen)}


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("path", LISTS)
async def test_without_count_a_page_has_no_total(client: AsyncClient, path: str) -> None:
    response = await client.get(_with(path, limit="3"))

    assert response.status_code == 200
    assert set(response.json()) == {"items", "next_cursor"} | (
        {"pov"} if "timeline" in path else set()
    )


@pytest.mark.usefixtures("seeded")
async def test_filters_change_the_total_and_the_page_size_does_not(client: AsyncClient) -> None:
    async def total(path: str) -> int:
        value: int = (await client.get(path)).json()["total"]
        return value

    everything = await total("/v1/articles?count=exact&limit=1")
    everything_by_hundred = await total("/v1/articles?count=exact&limit=100")
    nhk = await total("/v1/articles?count=exact&source=nhk")
    naming_japan = await total("/v1/articles?count=exact&source=nhk&entity=japan")

    assert (everything, everything_by_hundred, nhk, naming_japan) == (8, 8, 7, 3)


@pytest.mark.usefixtures("seeded")
async def test_a_cursor_works_with_or_without_count(client: AsyncClient) -> None:
    """A client may count on the first page only: `count` does not bind the cursor."""
    first = (await client.get("/v1/entities?limit=5&count=exact")).json()
    uncounted = await client.get(f"/v1/entities?limit=5&cursor={first['next_cursor']}")
    counted_again = await client.get(
        f"/v1/entities?limit=5&cursor={first['next_cursor']}&count=exact"
    )

    assert uncounted.status_code == 200
    assert "total" not in uncounted.json()
    assert counted_again.json()["total"] == first["total"] == 16
    assert counted_again.json()["items"] == uncounted.json()["items"]


@pytest.mark.usefixtures("seeded")
async def test_with_q_the_total_is_what_is_ranked(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Full-text search ranks the newest RANKED_ARTICLES matches only: the total counts
    those, the items a client can page to, not every article that matches."""
    every_match = (await client.get("/v1/articles?q=islands&count=exact")).json()["total"]
    monkeypatch.setattr(article_service, "RANKED_ARTICLES", 2)

    seen, totals = await _page_to_the_end(client, "/v1/articles?q=islands")

    assert every_match == 4
    assert set(totals) == {len(seen)} == {2}


async def test_an_unknown_count_mode_is_refused_naming_the_one_there_is(
    client: AsyncClient,
) -> None:
    response = await client.get("/v1/events?count=bogus")

    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "validation_error"
    [error] = problem["errors"]
    assert (error["location"], error["field"]) == ("query", "count")
    assert error["message"] == "Input should be 'exact'"


@pytest.mark.usefixtures("seeded")
async def test_only_a_counted_list_runs_a_count(engine: AsyncEngine, client: AsyncClient) -> None:
    for path in ("/v1/articles?entity=japan", "/v1/events?participant=japan", "/v1/sources"):
        with counting_statements(engine) as plain:
            await client.get(path)
        with counting_statements(engine) as counted:
            await client.get(_with(path, count="exact"))

        # The test's session wraps each request in a savepoint of its own.
        plain = [sql for sql in plain if "SAVEPOINT" not in sql]
        counted = [sql for sql in counted if "SAVEPOINT" not in sql]
        counts = [sql for sql in counted if sql.startswith("SELECT count(*) AS total")]
        assert not any("count(" in sql for sql in plain), path
        assert len(counts) == 1, path
        assert [sql for sql in counted if sql not in counts] == plain, path
