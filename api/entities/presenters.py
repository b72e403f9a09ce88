"""Entities as the API shows them: rows and service results shaped into the entity schemas,
in a party's names when a `pov` asks for them."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.entities import service as entity_service
from api.entities.schemas import (
    AliasRead,
    EntityCounts,
    EntityRead,
    EntitySummary,
    RelatedEntity,
    RelationRead,
)
from api.shared import plain_json
from api.shared import pov as point_of_view
from api.shared.evidence import evidence_of
from api.shared.pagination import PlainItems
from api.shared.schemas import EntityRef, TimeRead
from db.models import Entity


def entity_summaries(entities: Sequence[Any]) -> list[EntitySummary]:
    """List items for the rows of `list_entities` and `entities_by_keys`."""
    return [EntitySummary.model_validate(entity) for entity in entities]


def entity_summary_items(entities: Sequence[dict[str, Any]]) -> PlainItems:
    """The same list items as plain JSON values, for a page (`page_response`): the bytes of
    `entity_summaries`' models without building them (tests/shared/test_plain_json.py)."""
    return PlainItems.of(entities, _summary_value, entity_summaries)


def _summary_value(entity: dict[str, Any]) -> dict[str, Any]:
    """One row of `list_entities` as `EntitySummary` writes it, field for field."""
    return {
        "id": entity["id"],
        "slug": entity["slug"],
        "kind": entity["kind"],
        "name": entity["name"],
        "description": entity["description"],
        "external_ids": plain_json.json_value(entity["external_ids"]),
        "version": entity["version"],
        "created_at": entity["created_at"],
        "updated_at": entity["updated_at"],
    }


async def entity_read(session: AsyncSession, row: Entity, party: Entity | None) -> EntityRead:
    """The full entity, as GET returns it and writes answer, in `party`'s names if given."""
    aliases = await entity_service.get_aliases(session, entity_id=row.id)
    relations = await entity_service.get_relations(session, entity_id=row.id)
    articles, events = await entity_service.get_counts(session, entity_id=row.id)
    found = await evidence_of(
        session,
        entity_id=[row.id],
        entity_alias_id=[a.id for a, _ in aliases],
        entity_relation_id=[r.id for r, *_ in relations],
    )
    evidence = found["entity_id"]
    alias_evidence = found["entity_alias_id"]
    relation_evidence = found["entity_relation_id"]
    read = EntityRead(
        **EntitySummary.model_validate(row).model_dump(),
        evidence=evidence[row.id],
        aliases=[
            AliasRead(
                name=alias.name,
                language=alias.language,
                kind=alias.kind,
                used_by=EntityRef.model_validate(user) if user else None,
                evidence=alias_evidence[alias.id],
            )
            for alias, user in aliases
        ],
        relations=[
            RelationRead(
                kind=relation.kind,
                direction="outgoing" if outgoing else "incoming",
                role=relation.role,
                other=EntityRef.model_validate(other),
                time=TimeRead.of(relation),
                evidence=relation_evidence[relation.id],
            )
            for relation, other, outgoing in relations
        ],
        counts=EntityCounts(articles=articles, events=events),
        pov=point_of_view.party_ref(party),
    )
    names = await point_of_view.apply(session, party, read, also=[row.id])
    read.name = names.get(row.id, read.name)
    return read


def related_entities(related: Sequence[tuple[Entity, int]]) -> list[RelatedEntity]:
    """List items for the rows of `list_related`: each entity with the articles it shares."""
    return [
        RelatedEntity(entity=EntityRef.model_validate(other), articles=count)
        for other, count in related
    ]
