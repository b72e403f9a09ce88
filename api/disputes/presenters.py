"""Disputes as the API shows them: rows and service results shaped into the dispute schemas,
in a party's names when a `pov` asks for them."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.disputes import service as dispute_service
from api.disputes.schemas import (
    DisputeRead,
    DisputeSummary,
    NameRead,
    PartyRead,
    TerritoryRead,
    TimelineEntry,
    TimelinePage,
)
from api.shared import pov as point_of_view
from api.shared.evidence import evidence_of
from api.shared.schemas import EntityRef
from db.models import Dispute, Entity


def _ref(entity: Entity | None) -> EntityRef | None:
    return EntityRef.model_validate(entity) if entity is not None else None


async def dispute_read(session: AsyncSession, row: Dispute, party: Entity | None) -> DisputeRead:
    """The full dispute, as GET returns it and writes answer, in `party`'s names if given."""
    parties = await dispute_service.get_parties(session, dispute_id=row.id)
    territories = await dispute_service.get_territories(session, dispute_id=row.id)
    names = await dispute_service.get_names(
        session, dispute_id=row.id, used_by_id=party.id if party else None
    )
    evidence = await evidence_of(
        session,
        dispute_id=[row.id],
        dispute_party_id=[p.id for p, _ in parties],
        dispute_territory_id=[t.id for t, *_ in territories],
        entity_alias_id=[a.id for a, *_ in names],
    )
    dispute_evidence = evidence["dispute_id"]
    party_evidence = evidence["dispute_party_id"]
    territory_evidence = evidence["dispute_territory_id"]
    name_evidence = evidence["entity_alias_id"]
    read = DisputeRead(
        **DisputeSummary.of(row).model_dump(),
        parties=[
            PartyRead(
                entity=EntityRef.model_validate(entity),
                role=dispute_party.role,
                position=dispute_party.position,
                evidence=party_evidence[dispute_party.id],
            )
            for dispute_party, entity in parties
        ],
        territories=[
            TerritoryRead(
                entity=EntityRef.model_validate(entity),
                administered_by=_ref(administrator),
                claimed_by=_ref(claimant),
                evidence=territory_evidence[territory.id],
            )
            for territory, entity, administrator, claimant in territories
        ],
        evidence=dispute_evidence[row.id],
        names=[
            NameRead(
                entity=EntityRef.model_validate(place),
                name=alias.name,
                language=alias.language,
                kind=alias.kind,
                used_by=EntityRef.model_validate(user),
                evidence=name_evidence[alias.id],
            )
            for alias, place, user in names
        ],
        pov=point_of_view.party_ref(party),
    )
    await point_of_view.apply(session, party, read)
    return read


async def timeline_page(
    session: AsyncSession,
    entries: list[dict[str, Any]],
    *,
    next_cursor: str | None,
    party: Entity | None,
    total: int | None = None,
) -> TimelinePage:
    """A page of `get_timeline` entries, in `party`'s names if given; the page says whose
    names it uses (and, when counted, how many entries the timeline holds)."""
    page = TimelinePage(
        items=[TimelineEntry.model_validate(entry) for entry in entries],
        next_cursor=next_cursor,
        pov=point_of_view.party_ref(party),
        total=total,
    )
    await point_of_view.apply(session, party, page)
    return page
