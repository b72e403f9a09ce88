"""Facets: for each field asked, the values the items of a list hold most, with how many items
hold each, for a sidebar whose counts follow the filters picked.

The rule (faceted navigation's usual one): a facet counts under every current filter except its
own, so that each count says how many items that value would select together with the other
filters. For a filter that takes one value (`mode`, `source`, `kind`, ...) or whose repeated
values are alternatives (`type`), leaving it out shows the other values one could pick
instead. For a filter whose repeated values must all hold (`participant`, `context`, `entity`,
`party`), picking one more value narrows the items, so its own values stay in force: each count
is the number of current items that also hold that value (a value already picked counts every
current item).

A resource's facet statement yields `id`, `slug`, `name` and `count` columns, its values most
frequent first, then by `id` (as text: for a row of a table its uuid, else the value itself), at
most the parameter `facet_limit` rows. Ties go by id, not by slug, so that the first values of
a count are the first entries of an index on (count, id): an entity's 30,000 events that its
articles report once each are ranked from the index of its rollup (api/articles/aggregates.py)
without reading 30,000 events for their slugs.
"""

import json
import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Select,
    Text,
    bindparam,
    cast,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared import pov as point_of_view
from api.shared.rows import fetch_rows, json_array, json_object
from api.shared.schemas import EntityRef
from db.models import Entity

DEFAULT_FACET_LIMIT = 10
MAX_FACET_LIMIT = 100

FacetLimit = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_FACET_LIMIT,
        description=f"How many values each facet lists, most frequent first (default "
        f"{DEFAULT_FACET_LIMIT}, at most {MAX_FACET_LIMIT}).",
    ),
]

FIELD_DESCRIPTION = (
    "A field to count values of; repeat for several (each once). Without it, every field "
    "listed. Each facet counts under every other filter; its own filter is left out when it "
    "takes one value or alternatives, kept when its repeated values must all hold."
)


class FacetValue(BaseModel):
    id: str = Field(
        description="The value's id: a UUID for a reference (entity, source, event, dispute), "
        "the value itself for an enumerated field.",
        examples=["7b0e5d4e-3a51-4c7b-9a0d-3f5f4c8e2a11", "CONSULT"],
    )
    slug: str = Field(
        description="What the field's filter takes for this value.", examples=["japan", "CONSULT"]
    )
    name: str = Field(
        description="How to show it: the entity's name (by `pov`), the title of an event or "
        "dispute, a source's name, or the value in words.",
        examples=["Japan", "Consult"],
    )
    count: int = Field(description="How many items hold this value.", examples=[3])


class Facet(BaseModel):
    field: str = Field(examples=["participant"])
    values: list[FacetValue]
    more: bool = Field(description="Whether further values exist beyond `limit`.")


class Facets(BaseModel):
    """Counts of values per field under the current filters: each facet under every filter
    but its own (see each endpoint)."""

    facets: list[Facet]
    total: int = Field(description="How many items the list holds under every filter.")
    pov: EntityRef | None = Field(description=point_of_view.POV_FIELD_DESCRIPTION)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "facets": [
                        {
                            "field": "type",
                            "values": [
                                {"id": "CONSULT", "slug": "CONSULT", "name": "Consult", "count": 2},
                                {"id": "AGREE", "slug": "AGREE", "name": "Agree", "count": 1},
                            ],
                            "more": False,
                        }
                    ],
                    "total": 3,
                    "pov": {
                        "id": "0b8f5a5e-2f0c-4d5e-9a43-6f7c1b2d3e4f",
                        "slug": "japan",
                        "kind": "country",
                        "name": "Japan",
                    },
                }
            ]
        }
    }


def fields_asked(fields: Sequence[Any] | None, every: Sequence[Any]) -> list[Any]:
    """The fields a request names, each once in the order asked, or every field."""
    return list(dict.fromkeys(fields)) if fields else list(every)


def in_words(value: str) -> str:
    """An enumerated value as a name: `CONSULT` -> Consult, `news_agency` -> News agency."""
    return value.replace("_", " ").capitalize()


def ranked(source: Any, value: Any, slug: Any, name: Any, counted: Any, *where: Any) -> Select[Any]:
    """A facet statement: the values of `source` (rows meeting `where`) grouped, as `id`,
    `slug`, `name` and `count`, the most frequent first, then by id, one row past
    `facet_limit` (to say `more`)."""
    return (
        select(
            cast(value, Text).label("id"),
            cast(slug, Text).label("slug"),
            cast(name, Text).label("name"),
            counted.label("count"),
        )
        .select_from(source)
        .where(*where)
        .group_by(value, slug, name)
        .order_by(counted.desc(), cast(value, Text))
        .limit(bindparam("facet_limit", type_=Integer) + 1)
    )


def ranked_keys(
    counts: Select[Any], table: FromClause, slug: Any, name: Any, *, cte: str = "counts"
) -> Select[Any]:
    """A facet statement over `counts` (rows of `key`, a `table` id or its text, and `n`, how
    many items hold it), as `ranked`'s: the first `facet_limit` + 1 keys are found from the
    counts alone, and `table` is read for those only. `cte` names the counts in the statement
    (distinct for each facet of one statement)."""
    counted = counts.cte(cte)
    first = (
        select(counted.c.key, counted.c.n)
        .order_by(counted.c.n.desc(), counted.c.key)
        .limit(bindparam("facet_limit", type_=Integer) + 1)
        .subquery(f"first_{cte}")
    )
    return (
        select(
            cast(table.c.id, Text).label("id"),
            cast(slug, Text).label("slug"),
            cast(name, Text).label("name"),
            first.c.n.label("count"),
        )
        .select_from(first.join(table, table.c.id == cast(first.c.key, table.c.id.type)))
        .order_by(first.c.n.desc(), table.c.id)
    )


def ranked_array(statement: Select[Any]) -> ColumnElement[str]:
    """The rows of a facet statement (`ranked`, `ranked_keys`) as a JSON array in their
    order, as text: several facets in one statement, one column each (`facet_of_array`)."""
    found = statement.subquery()
    item = json_object({name: found.c[name] for name in ("id", "slug", "name", "count")})
    return json_array(item, order_by=(found.c["count"].desc(), found.c.id))


def facet_of_array(array: str, *, field: str, limit: int) -> Facet:
    """The facet a `ranked_array` column holds (its statement run with `facet_limit`)."""
    rows = json.loads(array)
    values = [FacetValue(**row) for row in rows[:limit]]
    return Facet(field=field, values=values, more=len(rows) > limit)


async def fetch_facet(
    session: AsyncSession,
    statement: Select[Any],
    parameters: dict[str, Any],
    *,
    field: str,
    limit: int,
    enumerated: bool = False,
    built_once: bool = True,
) -> Facet:
    """The facet a `ranked` statement answers; `enumerated` names its values in words."""
    rows = await fetch_rows(
        session, statement, {**parameters, "facet_limit": limit}, built_once=built_once
    )
    values = [
        FacetValue(
            id=str(row["id"]),
            slug=str(row["slug"]),
            name=in_words(str(row["name"])) if enumerated else str(row["name"]),
            count=row["count"],
        )
        for row in rows[:limit]
    ]
    return Facet(field=field, values=values, more=len(rows) > limit)


async def apply_pov(
    session: AsyncSession, party: Entity | None, facets: Sequence[Facet], entity_fields: set[str]
) -> None:
    """Rename the entity values of `facets` (those of `entity_fields`) to `party`'s names."""
    if party is None:
        return
    values = [value for facet in facets if facet.field in entity_fields for value in facet.values]
    names = await point_of_view.names_used_by(
        session, party_id=party.id, entity_ids={uuid.UUID(value.id) for value in values}
    )
    for value in values:
        value.name = names.get(uuid.UUID(value.id), value.name)
