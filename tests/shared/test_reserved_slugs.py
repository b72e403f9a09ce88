"""No article, event, statement or dispute takes the name of its collection's aggregate path
(`histogram`, `facets`) as its slug: the path with that slug answers the aggregate, so the
item would be reachable by its id only. Refused the same way by each way in: the API, the
seed files, the bulk import and the tables themselves."""

from typing import Any

import pytest
from httpx import AsyncClient
from pydantic import BaseModel, ValidationError
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.bulk import records
from db.enums import EntityKind
from db.models import Article
from seeds import schema as seeds
from tests.support import writing
from tests.support.factories import make_dispute, make_entity, make_event, make_statement


def _message(slug: str) -> str:
    return (
        f"'{slug}' is the name of the collection's {slug} path, so no item can have it as its "
        "slug: choose another"
    )


async def _item(session: AsyncSession, collection: str) -> str:
    """The slug of an item of `collection` (the `call` fixture's article for articles)."""
    if collection == "articles":
        return writing.ARTICLE
    if collection == "events":
        return (await make_event(session, "talks", "2021-10-07")).slug
    if collection == "disputes":
        return (await make_dispute(session, "kurils", "Kuril Islands dispute")).slug
    speaker = await make_entity(session, "kishida", "Fumio Kishida", EntityKind.PERSON)
    return (await make_statement(session, "kishida-said", speaker, "We will talk.")).slug


@pytest.mark.parametrize(
    ("collection", "reserved"),
    [
        ("articles", "facets"),
        ("events", "histogram"),
        ("statements", "facets"),
        ("disputes", "facets"),
    ],
)
async def test_an_item_cannot_be_renamed_to_an_aggregate_name(
    session: AsyncSession,
    client: AsyncClient,
    writer: dict[str, str],
    call: Article,
    collection: str,
    reserved: str,
) -> None:
    slug = await _item(session, collection)
    await session.commit()
    before = await client.get(f"/v1/{collection}/{slug}")

    response = await client.patch(
        f"/v1/{collection}/{slug}",
        json={"slug": reserved},
        headers=writer | {"If-Match": before.headers["etag"]},
    )

    assert writing.problems(response) == [("slug", _message(reserved))]
    assert response.json()["errors"][0]["type"] == "slug_reserved"
    after = await client.get(f"/v1/{collection}/{slug}")
    assert after.status_code == 200
    assert after.json() == before.json()
    # The path with that name is still the aggregate's.
    asked = {"interval": "year"} if reserved == "histogram" else {}
    aggregate = await client.get(f"/v1/{collection}/{reserved}", params=asked)
    assert aggregate.status_code == 200, aggregate.text
    assert {"facets": "facets", "histogram": "buckets"}[reserved] in aggregate.json()


@pytest.mark.parametrize(
    "model",
    [
        seeds.ArticleSeed,
        seeds.EventSeed,
        seeds.StatementSeed,
        seeds.DisputeSeed,
        records.ArticleRecord,
        records.EventRecord,
        records.StatementRecord,
        records.DisputeRecord,
    ],
)
@pytest.mark.parametrize("reserved", ["histogram", "facets"])
def test_seed_files_and_the_bulk_import_refuse_an_aggregate_name(
    model: type[BaseModel], reserved: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate({"slug": reserved})

    slug_errors = [error for error in caught.value.errors() if error["loc"] == ("slug",)]
    assert [(error["type"], error["msg"]) for error in slug_errors] == [
        ("slug_reserved", _message(reserved))
    ]


def test_entities_and_sources_may_take_those_names() -> None:
    """Their collections have no aggregate paths."""
    for model in (seeds.EntitySeed, seeds.SourceSeed, records.EntityRecord):
        errors: list[Any] = []
        try:
            model.model_validate({"slug": "facets"})
        except ValidationError as error:
            errors = error.errors()
        assert [error for error in errors if error["loc"] == ("slug",)] == []


@pytest.mark.parametrize("table", ["article", "event", "statement", "dispute"])
async def test_the_tables_refuse_an_aggregate_name(
    session: AsyncSession, call: Article, table: str
) -> None:
    """Whatever code writes: a rename in SQL meets the table's check."""
    slug = await _item(session, f"{table}s")

    rename = text(f"UPDATE {table} SET slug = 'facets' WHERE slug = :slug")  # noqa: S608 (the four names above)

    with pytest.raises(IntegrityError) as caught:
        async with session.begin_nested():
            await session.execute(rename, {"slug": slug})

    cause = caught.value.orig.__cause__  # type: ignore[union-attr]
    assert cause.constraint_name == f"ck_{table}_slug_not_reserved"  # type: ignore[union-attr]
