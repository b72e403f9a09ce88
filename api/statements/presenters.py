"""Statements as the API shows them: rows shaped into the statement schemas, with their
speakers, messengers and events loaded in one query each for a whole page."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.events import service as event_service
from api.shared.evidence import evidence_for
from api.shared.schemas import EntityRef, EventRef
from api.statements import service as statement_service
from api.statements.schemas import StatementRead, StatementSummary
from db.models import Entity, Event, Statement


def statement_fields(
    statement: Statement, entities: dict[Any, Entity], events: dict[Any, Event]
) -> dict[str, Any]:
    """A statement's fields, with its speaker, messenger and event from bulk-loaded rows."""
    conveyed_by = entities.get(statement.conveyed_by_id) if statement.conveyed_by_id else None
    event = events.get(statement.event_id) if statement.event_id else None
    return {
        "id": statement.id,
        "slug": statement.slug,
        "speaker": EntityRef.model_validate(entities[statement.speaker_id]),
        "text": statement.text,
        "kind": statement.kind,
        "conveyed_by": EntityRef.model_validate(conveyed_by) if conveyed_by else None,
        "conveyed_by_description": statement.conveyed_by_description,
        "event": EventRef.of(event) if event is not None else None,
        "version": statement.version,
        "created_at": statement.created_at,
        "updated_at": statement.updated_at,
    }


async def statement_summaries(
    session: AsyncSession, statements: Sequence[Statement]
) -> list[StatementSummary]:
    """List items for the rows of `list_statements`."""
    entities = await event_service.get_entities(
        session,
        entity_ids=[s.speaker_id for s in statements] + [s.conveyed_by_id for s in statements],
    )
    events = await statement_service.get_events(session, event_ids=[s.event_id for s in statements])
    return [StatementSummary(**statement_fields(s, entities, events)) for s in statements]


async def statement_read(session: AsyncSession, row: Statement) -> StatementRead:
    """The full statement, as GET returns it and writes answer."""
    entities = await event_service.get_entities(
        session, entity_ids=[row.speaker_id, row.conveyed_by_id]
    )
    events = await statement_service.get_events(session, event_ids=[row.event_id])
    evidence = await evidence_for(session, "statement_id", [row.id])
    return StatementRead(**statement_fields(row, entities, events), evidence=evidence[row.id])
