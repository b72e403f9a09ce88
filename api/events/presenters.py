"""Events as the API shows them: rows and service results shaped into the event schemas, with
what each form embeds loaded in as few queries as it takes."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.events import service as event_service
from api.events.schemas import (
    EventDisputeRead,
    EventRead,
    EventStatementRead,
    EventSummary,
    ParticipantRead,
    iso_duration,
)
from api.shared import plain_json
from api.shared.evidence import evidence_of
from api.shared.pagination import PlainItems
from api.shared.schemas import EntityRef, EventRef, TimeRead
from db.models import Entity, Event


def event_fields(event: Event, location: Entity | None) -> dict[str, Any]:
    """The fields every form of an event shares, from its row and its location."""
    columns = {name: getattr(event, name) for name in event_service.EVENT_COLUMNS}
    location_ref = EntityRef.model_validate(location) if location is not None else None
    return shape_event({**columns, "location": location_ref})


def shape_event(columns: dict[str, Any]) -> dict[str, Any]:
    """`EVENT_COLUMNS` and `location` as the API shows them: the time bounds as one `time`,
    the duration in ISO 8601."""
    fields = {name: value for name, value in columns.items() if not name.startswith("time_")}
    fields["time"] = TimeRead.of_fields(columns)
    fields["duration"] = iso_duration(columns["duration"])
    return fields


def event_summaries(events: Sequence[dict[str, Any]]) -> list[EventSummary]:
    """List items for the rows of `list_events` (participants came in the same statement)."""
    return [
        EventSummary.model_validate(
            {
                **shape_event(event),
                "participants": event_service.parse_participants(event["participants"]),
            }
        )
        for event in events
    ]


def event_summary_items(events: Sequence[dict[str, Any]]) -> PlainItems:
    """The same list items as plain JSON values, for a page (`page_response`): the bytes of
    `event_summaries`' models without building them (tests/shared/test_plain_json.py)."""
    return PlainItems.of(events, _summary_value, event_summaries)


def _summary_value(event: dict[str, Any]) -> dict[str, Any]:
    """One row of `list_events` as `EventSummary` writes it, field for field."""
    location = event["location"]
    return {
        "id": event["id"],
        "slug": event["slug"],
        "title": event["title"],
        "summary": event["summary"],
        "event_type": event["event_type"],
        "mode": event["mode"],
        "contexts": event["contexts"],
        "modality": event["modality"],
        "time": time_value(event),
        "duration": iso_duration(event["duration"]),
        "location": None if location is None else entity_value(location),
        "version": event["version"],
        "created_at": event["created_at"],
        "updated_at": event["updated_at"],
        "participants": participant_values(event["participants"]),
    }


def time_value(row: dict[str, Any]) -> dict[str, Any] | None:
    """The time columns of a row as `TimeRead` writes them (`TimeRead.of_fields`)."""
    if row["time_edtf"] is None:
        return None
    return {
        "edtf": row["time_edtf"],
        "earliest": row["time_earliest"],
        "latest": row["time_latest"],
        "precision": row["time_precision"],
    }


def participant_values(array: str) -> list[dict[str, Any]]:
    """A statement's `participant_array` as plain values, as `ParticipantRef`s write it."""
    return [
        {"entity": entity_value(participant["entity"]), "role": participant["role"]}
        for participant in plain_json.loads(array)
    ]


def entity_value(entity: dict[str, Any]) -> dict[str, Any]:
    """An `EntityRef`, in its fields' order whatever the order of `entity`'s keys."""
    return {
        "id": entity["id"],
        "slug": entity["slug"],
        "kind": entity["kind"],
        "name": entity["name"],
    }


async def event_read(session: AsyncSession, row: Event) -> EventRead:
    """The full event, as GET returns it and writes answer."""
    participants = (await event_service.get_participants(session, event_ids=[row.id]))[row.id]
    places = await event_service.get_entities(session, entity_ids=[row.location_id])
    parent = await event_service.get_parent(session, parent_id=row.parent_id)
    statements = await event_service.get_statements(session, event_id=row.id)
    disputes = await event_service.get_disputes(session, event_id=row.id)
    found = await evidence_of(
        session,
        event_id=[row.id],
        event_participant_id=[participant.id for participant, _ in participants],
        dispute_event_id=[link.id for link, _ in disputes],
    )
    evidence = found["event_id"]
    participant_evidence = found["event_participant_id"]
    link_evidence = found["dispute_event_id"]
    return EventRead(
        **event_fields(row, places.get(row.location_id) if row.location_id else None),
        participants=[
            ParticipantRead(
                entity=EntityRef.model_validate(entity),
                role=participant.role,
                evidence=participant_evidence[participant.id],
            )
            for participant, entity in participants
        ],
        parent=EventRef.of(parent) if parent is not None else None,
        statements=[
            EventStatementRead(
                id=statement.id,
                slug=statement.slug,
                speaker=EntityRef.model_validate(speaker),
                text=statement.text,
                kind=statement.kind,
                conveyed_by=EntityRef.model_validate(via) if via is not None else None,
                conveyed_by_description=statement.conveyed_by_description,
            )
            for statement, speaker, via in statements
        ],
        disputes=[
            EventDisputeRead(
                id=dispute.id,
                slug=dispute.slug,
                title=dispute.title,
                role=link.role,
                significance=link.significance,
                evidence=link_evidence[link.id],
            )
            for link, dispute in disputes
        ],
        evidence=evidence[row.id],
    )
