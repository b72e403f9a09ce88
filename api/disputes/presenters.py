"""Disputes as the API shows them: rows and service results shaped into the dispute schemas,
in a party's names when a `pov` asks for them."""

from collections.abc import Sequence
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
from api.events.presenters import entity_value, participant_values, time_value
from api.events.service import parse_participants
from api.shared import pov as point_of_view
from api.shared.evidence import evidence_of, evidence_values, parse_array
from api.shared.pagination import PlainItems, plain_page, unasked
from api.shared.schemas import EntityRef, TimeRead
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


def timeline_entries(rows: Sequence[dict[str, Any]]) -> list[TimelineEntry]:
    """Timeline entries for the rows of `get_timeline` (participants and evidence came in the
    same statement, as JSON arrays)."""
    return [
        TimelineEntry.model_validate(
            {
                **row,
                "time": TimeRead.of_fields(row),
                "participants": parse_participants(row["participants"]),
                "evidence": parse_array(row["evidence"]),
                "link_evidence": parse_array(row["link_evidence"]),
            }
        )
        for row in rows
    ]


def timeline_items(rows: Sequence[dict[str, Any]]) -> PlainItems:
    """The same entries as plain JSON values: the bytes of `timeline_entries`' models without
    building them (tests/shared/test_plain_json.py)."""
    return PlainItems.of(rows, _entry_value, timeline_entries)


def _entry_value(row: dict[str, Any]) -> dict[str, Any]:
    """One row of `get_timeline` as `TimelineEntry` writes it, field for field."""
    location = row["location"]
    return {
        "id": row["id"],
        "slug": row["slug"],
        "title": row["title"],
        "event_type": row["event_type"],
        "modality": row["modality"],
        "time": time_value(row),
        "location": None if location is None else entity_value(location),
        "participants": participant_values(row["participants"]),
        "role": row["role"],
        "significance": row["significance"],
        "evidence": evidence_values(row["evidence"]),
        "link_evidence": evidence_values(row["link_evidence"]),
    }


async def timeline_body(
    session: AsyncSession,
    rows: Sequence[dict[str, Any]],
    *,
    next_cursor: str | None,
    party: Entity | None,
    total: int | None = None,
) -> bytes:
    """The JSON of a page of `get_timeline` rows, in `party`'s names if given; the page says
    whose names it uses (and, when counted, how many entries the timeline holds). In the
    entities' own names (no `pov`) it is written from the rows (api/shared/plain_json.py):
    building its models from the rows' JSON and dumping them again took about 0.4 ms of the
    timeline's 0.94 ms of CPU (bench/README.md, eighth round)."""
    if party is None:
        items = timeline_items(rows)
        return plain_page(items, next_cursor, total=total, extra={"pov": None})
    page = TimelinePage(
        items=timeline_entries(rows),
        next_cursor=next_cursor,
        pov=point_of_view.party_ref(party),
        total=total,
    )
    await point_of_view.apply(session, party, page)
    return page.model_dump_json(exclude=unasked(total)).encode()
