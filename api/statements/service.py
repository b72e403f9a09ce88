import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.events.service import TIME_ORDER
from api.pagination import Keyset, SortKey, fetch_page
from db.enums import StatementKind
from db.models import Event, Evidence, Statement

# A statement has no time of its own: it is placed at the time of its event (the events list's
# time keys over the outer-joined event), so a speaker's statements read as a chronology.
# Statements outside any event come last, like undated events; the unique slug breaks ties.
EVENT_TIME_ORDER = (*TIME_ORDER[:2], SortKey(Statement.slug, "str"))


async def list_statements(
    session: AsyncSession,
    *,
    keyset: Keyset,
    after: Sequence[Any] | None,
    limit: int,
    speaker_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    article_id: uuid.UUID | None = None,
    kind: StatementKind | None = None,
) -> tuple[list[Statement], list[Any] | None]:
    """One page of statements and the sort key of its last row when more follow."""
    query: Select[Any] = select(Statement).outerjoin(Event, Event.id == Statement.event_id)
    if speaker_id is not None:
        query = query.where(Statement.speaker_id == speaker_id)
    if event_id is not None:
        query = query.where(Statement.event_id == event_id)
    if article_id is not None:
        query = query.where(
            Statement.id.in_(
                select(Evidence.statement_id).where(
                    Evidence.article_id == article_id, Evidence.statement_id.is_not(None)
                )
            )
        )
    if kind is not None:
        query = query.where(Statement.kind == kind)
    return await fetch_page(session, query, keyset=keyset, after=after, limit=limit)


async def get_events(
    session: AsyncSession, *, event_ids: Collection[uuid.UUID | None]
) -> dict[uuid.UUID, Event]:
    wanted = {event_id for event_id in event_ids if event_id is not None}
    if not wanted:
        return {}
    rows = await session.scalars(select(Event).where(Event.id.in_(wanted)))
    return {event.id: event for event in rows}
