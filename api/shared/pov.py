"""Point of view: a response whose entity names are the ones a party uses.

`?pov=japan` on a read turns every `EntityRef` name into Japan's name for that entity
("Northern Territories" for the islands Russia calls the "Southern Kurils"), falling back to
the canonical name where Japan has none. The names come from aliases whose `used_by` is the
party, loaded in one query for all the entities of a response.
"""

import uuid
from collections.abc import Collection, Iterator
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared.lookup import ids_for_filter
from api.shared.schemas import EntityRef
from db.enums import AliasKind
from db.models import Entity, EntityAlias

Pov = Annotated[
    str | None,
    Query(
        description="Entity id or slug of a party: entity names become the names it uses "
        "(e.g. `japan`: Northern Territories), or the canonical name where it has none.",
    ),
]

# The `pov` field every point-of-view response carries.
POV_FIELD_DESCRIPTION = "Whose names the entity names are (`pov`); null for canonical names."

# A party no longer uses its former names, and a metonym ("Tokyo" for Japan) names something
# else: neither is what the party calls the entity.
_NOT_A_PARTY_NAME = (AliasKind.FORMER, AliasKind.METONYM)


async def find_party(session: AsyncSession, key: str | None) -> Entity | None:
    """The entity `pov` names; an id or slug that names nothing is a 400 unknown_reference."""
    if key is None:
        return None
    [party_id] = await ids_for_filter(session, Entity, [key], "pov")
    party = await session.get(Entity, party_id)
    assert party is not None  # ids_for_filter just found it
    return party


async def names_used_by(
    session: AsyncSession, *, party_id: uuid.UUID, entity_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The English name `party_id` uses for each entity that has one: official names before
    common ones. Names in other languages are not used: the API speaks English, and "色丹島"
    in an English sentence would read worse than the canonical "Shikotan"."""
    if not entity_ids:
        return {}
    in_english = EntityAlias.language.is_(None) | (
        func.split_part(func.lower(EntityAlias.language), "-", 1) == "en"
    )
    kind_rank = case(
        (EntityAlias.kind == AliasKind.OFFICIAL, 0),
        (EntityAlias.kind == AliasKind.COMMON, 1),
        else_=2,
    )
    # row_number() rather than DISTINCT ON: the same SQL on SQLAlchemy 2.0 and 2.1.
    preference = (
        func.row_number()
        .over(
            partition_by=EntityAlias.entity_id,
            order_by=(kind_rank, EntityAlias.name),
        )
        .label("preference")
    )
    ranked = (
        select(EntityAlias.entity_id, EntityAlias.name, preference)
        .where(
            EntityAlias.used_by_id == party_id,
            EntityAlias.entity_id.in_(list(entity_ids)),
            EntityAlias.kind.not_in(_NOT_A_PARTY_NAME),
            in_english,
        )
        .subquery("ranked")
    )
    rows = await session.execute(
        select(ranked.c.entity_id, ranked.c.name).where(ranked.c.preference == 1)
    )
    return {row.entity_id: row.name for row in rows}


def entity_refs(model: BaseModel) -> Iterator[EntityRef]:
    """Every EntityRef inside `model`, however deeply nested in models and lists."""
    stack: list[object] = [model]
    while stack:
        value = stack.pop()
        if isinstance(value, EntityRef):
            yield value
        elif isinstance(value, BaseModel):
            stack.extend(getattr(value, name) for name in type(value).model_fields)
        elif isinstance(value, list | tuple):
            stack.extend(value)


async def apply(
    session: AsyncSession,
    party: Entity | None,
    response: BaseModel,
    *,
    also: Collection[uuid.UUID] = (),
) -> dict[uuid.UUID, str]:
    """Rename every EntityRef of `response` to `party`'s names, in place.

    Returns the names found, including those of `also` (entities the response names outside
    an EntityRef, such as the entity of an entity read), for the caller to apply."""
    if party is None:
        return {}
    refs = list(entity_refs(response))
    names = await names_used_by(
        session, party_id=party.id, entity_ids={ref.id for ref in refs} | set(also)
    )
    for ref in refs:
        ref.name = names.get(ref.id, ref.name)
    return names


def party_ref(party: Entity | None) -> EntityRef | None:
    """The `pov` field of a response: whose view it is."""
    return EntityRef.model_validate(party) if party is not None else None
