"""The disputes list counted by field value (api/shared/facets.py), over the list's own
filtered statement."""

from dataclasses import replace
from enum import StrEnum

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from api.disputes.service import DisputeFilters, filtered_disputes
from api.shared.facets import Facet, fetch_facet, ranked
from api.shared.pagination import count_rows
from db.models import Dispute, DisputeParty, DisputeTerritory, Entity


class DisputeFacetField(StrEnum):
    KIND = "kind"
    STATUS = "status"
    PARTY = "party"
    TERRITORY = "territory"


ENTITY_FACETS = {DisputeFacetField.PARTY.value, DisputeFacetField.TERRITORY.value}


async def dispute_facets(
    session: AsyncSession, filters: DisputeFilters, fields: list[DisputeFacetField], limit: int
) -> tuple[list[Facet], int]:
    """The facets `fields` under `filters`: each without its own, except `party`, whose
    repeated values must all hold (api/shared/facets.py); and how many disputes the list holds
    under all of them."""
    entity = Entity.__table__
    facets = []
    for field in fields:
        if field is DisputeFacetField.KIND:
            found = (
                filtered_disputes(replace(filters, kind=None))
                .with_only_columns(Dispute.kind)
                .subquery("disputes")
            )
            statement = ranked(found, found.c.kind, found.c.kind, found.c.kind, func.count())
        elif field is DisputeFacetField.STATUS:
            found = (
                filtered_disputes(replace(filters, status=None))
                .with_only_columns(Dispute.status)
                .subquery("disputes")
            )
            statement = ranked(found, found.c.status, found.c.status, found.c.status, func.count())
        elif field is DisputeFacetField.PARTY:
            found = filtered_disputes(filters).with_only_columns(Dispute.id).subquery("disputes")
            party = DisputeParty.__table__
            statement = ranked(
                found.join(party, party.c.dispute_id == found.c.id).join(
                    entity, entity.c.id == party.c.entity_id
                ),
                entity.c.id,
                entity.c.slug,
                entity.c.name,
                func.count(),
            )
        else:
            found = (
                filtered_disputes(replace(filters, territory_id=None))
                .with_only_columns(Dispute.id)
                .subquery("disputes")
            )
            territory = DisputeTerritory.__table__
            statement = ranked(
                found.join(territory, territory.c.dispute_id == found.c.id).join(
                    entity, entity.c.id == territory.c.entity_id
                ),
                entity.c.id,
                entity.c.slug,
                entity.c.name,
                func.count(),
            )
        facets.append(
            await fetch_facet(
                session,
                statement,
                {},
                field=field.value,
                limit=limit,
                enumerated=field in {DisputeFacetField.KIND, DisputeFacetField.STATUS},
                built_once=False,
            )
        )
    return facets, await count_rows(session, filtered_disputes(filters))
