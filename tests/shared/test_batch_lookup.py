"""Batch lookup (`id` on every list): a client resolves every reference on a page in one
request, and learns which of them name nothing."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from seeds.files import default_seed_paths
from seeds.loader import load_seeds
from tests.support.database import counting_statements
from tests.support.factories import make_article, make_source

ARTICLE = "kyodo-2021-10-07-kishida-putin-phone-call"

# Per list: keys of three items of the seed, in an order none of the lists uses.
LOOKUPS = {
    "/v1/articles": ["article-c", ARTICLE, "article-a"],
    "/v1/entities": ["vladimir-putin", "japan", "shikotan"],
    "/v1/events": [
        "soviet-japanese-joint-declaration-1956",
        "kishida-putin-phone-call-2021-10-07",
        "end-of-world-war-ii",
    ],
    "/v1/statements": [
        "putin-wants-to-continue-dialogue",
        "kishida-account-of-phone-call",
        "putin-hopes-for-talks-in-person",
    ],
    "/v1/disputes": [
        "north-korean-abductions",
        "kuril-islands-dispute",
        "north-korea-nuclear-missile-programs",
    ],
    "/v1/sources": ["nhk", "kyodo", "asahi"],
}


@pytest.fixture
async def seeded(session: AsyncSession) -> None:
    await load_seeds(session, default_seed_paths(), force=True)
    nhk = await make_source(session, "nhk", "NHK")
    await make_source(session, "asahi", "Asahi Shimbun")
    for letter in "abc":
        await make_article(session, nhk, f"article-{letter}", f"Body {letter}.")


async def _id_of(client: AsyncClient, path: str, slug: str) -> str:
    response = await client.get(f"{path}/{slug}")
    assert response.status_code == 200, response.text
    item_id: str = response.json()["id"]
    return item_id


def _slugs(page: dict[str, Any]) -> list[str]:
    return [item["slug"] for item in page["items"]]


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("path", list(LOOKUPS))
async def test_a_lookup_answers_exactly_the_items_named_in_the_order_asked(
    client: AsyncClient, path: str
) -> None:
    first, second, third = LOOKUPS[path]
    second_id = await _id_of(client, path, second)
    asked = [first, "no-such-thing", second_id.upper(), third, first, second, "no-such-thing"]

    response = await client.get(path, params={"id": asked})

    assert response.status_code == 200, response.text
    page = response.json()
    # Mixed UUIDs (in any case) and slugs; each item once, where it was first named.
    assert _slugs(page) == [first, second, third]
    assert page["items"][1]["id"] == second_id
    assert page["missing"] == ["no-such-thing"]
    assert page["next_cursor"] is None
    assert "total" not in page
    assert "link" not in response.headers
    assert response.headers["etag"]


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("path", list(LOOKUPS))
async def test_the_items_of_a_lookup_are_the_items_of_the_list(
    client: AsyncClient, path: str
) -> None:
    """What a lookup answers for an item is what the list shows for it."""
    listed = (await client.get(path, params={"limit": 100})).json()["items"]
    keys = [item["slug"] for item in listed]

    looked_up = (await client.get(path, params={"id": keys})).json()

    assert looked_up["items"] == listed
    assert looked_up["missing"] == []


@pytest.mark.usefixtures("seeded")
async def test_nothing_found_is_an_empty_page_naming_every_key(client: AsyncClient) -> None:
    unknown_uuid = "00000000-0000-4000-8000-000000000000"
    response = await client.get(
        "/v1/entities", params={"id": ["atlantis", unknown_uuid, "Japan", "japan "]}
    )

    assert response.status_code == 200
    assert response.json() == {
        "items": [],
        "next_cursor": None,
        # Slugs are compared as written: `Japan` and `japan ` are not `japan`.
        "missing": ["atlantis", unknown_uuid, "Japan", "japan "],
    }


@pytest.mark.usefixtures("seeded")
async def test_a_lookup_counts_what_it_found_when_asked(client: AsyncClient) -> None:
    response = await client.get(
        "/v1/disputes", params={"id": ["kuril-islands-dispute", "atlantis"], "count": "exact"}
    )

    assert response.json()["total"] == 1
    assert response.json()["missing"] == ["atlantis"]


async def test_up_to_a_hundred_keys_are_looked_up_and_more_are_refused(
    client: AsyncClient,
) -> None:
    hundred = await client.get("/v1/entities", params={"id": [f"e-{n}" for n in range(100)]})
    too_many = await client.get("/v1/entities", params={"id": [f"e-{n}" for n in range(101)]})

    assert hundred.status_code == 200
    assert len(hundred.json()["missing"]) == 100
    assert too_many.status_code == 400
    problem = too_many.json()
    assert problem["code"] == "validation_error"
    [error] = problem["errors"]
    assert (error["location"], error["field"]) == ("query", "id")
    assert "at most 100 items" in error["message"]


@pytest.mark.parametrize(
    "extra",
    [
        {"limit": "5"},
        {"cursor": "abc"},
        {"q": "japan"},
        {"kind": "country", "limit": "5"},
    ],
)
async def test_a_lookup_takes_no_paging_or_filter(
    client: AsyncClient, extra: dict[str, str]
) -> None:
    response = await client.get("/v1/entities", params={"id": "japan", **extra})

    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert [(e["field"], e["type"]) for e in problem["errors"]] == [
        (name, "conflicting_parameter") for name in sorted(extra)
    ]
    assert problem["detail"].startswith("`id` names every item of the answer, so it takes no `")


async def test_an_empty_key_is_refused(client: AsyncClient) -> None:
    response = await client.get("/v1/sources", params={"id": ""})

    assert response.status_code == 400
    assert response.json()["errors"][0]["type"] == "string_too_short"


@pytest.mark.usefixtures("seeded")
async def test_a_lookup_is_one_statement_whatever_the_number_of_keys(
    engine: AsyncEngine, client: AsyncClient
) -> None:
    entities = (await client.get("/v1/entities", params={"limit": 100})).json()["items"]
    keys = [entity["slug"] for entity in entities] + [entity["id"] for entity in entities]

    with counting_statements(engine) as one:
        await client.get("/v1/entities", params={"id": keys[:1]})
    with counting_statements(engine) as all_of_them:
        response = await client.get("/v1/entities", params={"id": keys})

    assert len(response.json()["items"]) == len(entities)
    # The test's session wraps each request in a savepoint of its own.
    [statement] = [sql for sql in all_of_them if "SAVEPOINT" not in sql]
    assert [sql for sql in one if "SAVEPOINT" not in sql] == [statement]
    assert "= ANY" in statement
