import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, Select, literal, select
from sqlalchemy import delete as sa_delete
from sqlalchemy.ext.asyncio import AsyncSession

from api.events.service import TIME_ORDER_UNDATED_LAST, overlapping
from api.shared import seed_writes
from api.shared.batch import models_by_keys
from api.shared.lookup import by_keys
from api.shared.pagination import Keyset, SortKey, count_rows, fetch_page
from api.shared.writes import flush_or_conflict
from api.statements.schemas import StatementCreate, StatementUpdate
from db.enums import StatementKind
from db.models import Entity, Event, Evidence, Statement
from seeds import apply as seed_apply
from seeds.schema import SeedDocument, StatementSeed

# A statement has no time of its own: it is placed at the time of its event (the events list's
# time keys over the outer-joined event), so a speaker's statements read as a chronology.
# Statements outside any event come last, like undated events; the unique slug breaks ties.
EVENT_TIME_ORDER = (*TIME_ORDER_UNDATED_LAST[:2], SortKey(Statement.slug, "str"))


@dataclass(frozen=True, slots=True)
class StatementFilters:
    """The filters of the statements list, ids resolved: what its histogram and facets take
    too."""

    speaker_id: uuid.UUID | None = None
    event_id: uuid.UUID | None = None
    article_id: uuid.UUID | None = None
    kind: StatementKind | None = None
    # The period asked (`from`, `to`): statements whose event may have happened in it.
    time_from: date | None = None
    time_to: date | None = None


def filtered_statements(filters: StatementFilters) -> Select[Any]:
    """The statements the list holds under `filters`, each with its event outer-joined (whose
    time is the statement's), before paging."""
    query: Select[Any] = select(Statement).outerjoin(Event, Event.id == Statement.event_id)
    if filters.speaker_id is not None:
        query = query.where(Statement.speaker_id == filters.speaker_id)
    if filters.event_id is not None:
        query = query.where(Statement.event_id == filters.event_id)
    if filters.article_id is not None:
        query = query.where(
            Statement.id.in_(
                select(Evidence.statement_id).where(
                    Evidence.article_id == filters.article_id, Evidence.statement_id.is_not(None)
                )
            )
        )
    if filters.kind is not None:
        query = query.where(Statement.kind == filters.kind)
    if filters.time_from is not None or filters.time_to is not None:
        # Outside any event, or in an undated one, a statement has no time to fall in a range.
        query = query.where(
            overlapping(literal(filters.time_from, Date), literal(filters.time_to, Date))
        )
    return query


async def list_statements(
    session: AsyncSession,
    *,
    keyset: Keyset,
    after: Sequence[Any] | None,
    limit: int,
    filters: StatementFilters,
    count: bool = False,
) -> tuple[list[Statement], list[Any] | None, int | None]:
    """One page of statements, the sort key of its last row when more follow, and with
    `count` how many statements the list holds."""
    query = filtered_statements(filters)
    page, next_key = await fetch_page(session, query, keyset=keyset, after=after, limit=limit)
    total = await count_rows(session, query) if count else None
    return page, next_key, total


_BY_KEYS = select(Statement).where(by_keys(Statement.__table__))


async def statements_by_keys(
    session: AsyncSession, keys: Sequence[str]
) -> tuple[list[Statement], list[str]]:
    """The statements `keys` name, in the order asked, and the keys naming none."""
    return await models_by_keys(session, _BY_KEYS, keys)


async def get_events(
    session: AsyncSession, *, event_ids: Collection[uuid.UUID | None]
) -> dict[uuid.UUID, Event]:
    wanted = {event_id for event_id in event_ids if event_id is not None}
    if not wanted:
        return {}
    rows = await session.scalars(select(Event).where(Event.id.in_(wanted)))
    return {event.id: event for event in rows}


# -- writes: through the seed planner, as api.entities.service explains ---------------------


async def create_statement(session: AsyncSession, *, data: StatementCreate) -> Statement:
    await seed_writes.refuse_taken_slug(
        session, Statement, data.slug, resource="statement", collection="statements"
    )
    await seed_writes.apply_seed(session, SeedDocument(statements=[data]), resource="statement")
    return (await session.scalars(select(Statement).where(Statement.slug == data.slug))).one()


async def _seed_values(session: AsyncSession, statement: Statement) -> dict[str, Any]:
    return {
        "slug": statement.slug,
        "speaker": await seed_writes.slug_of(session, Entity, statement.speaker_id),
        "kind": statement.kind,
        "text": statement.text,
        "conveyed_by": await seed_writes.slug_of(session, Entity, statement.conveyed_by_id),
        "conveyed_by_description": statement.conveyed_by_description,
        "event": await seed_writes.slug_of(session, Event, statement.event_id),
    }


async def update_statement(
    session: AsyncSession, *, statement: Statement, data: StatementUpdate
) -> Statement:
    changes = data.model_dump(exclude_unset=True)
    # The current evidence is planned again when not replaced: a direct quote is checked
    # against the articles its evidence cites.
    evidence, replacing = await seed_apply.evidence_seeds(session, "statement_id", statement.id)
    values = await _seed_values(session, statement) | {"evidence": evidence} | changes
    seed = seed_writes.validate_seed(StatementSeed, values)
    if seed.slug != statement.slug:
        # The planner matches rows by slug: rename first, so the statement is updated in place.
        await seed_writes.refuse_taken_slug(
            session, Statement, seed.slug, resource="statement", collection="statements"
        )
        statement.slug = seed.slug
        await flush_or_conflict(session, resource="statement")
    version = statement.version
    result = await seed_writes.apply_seed(
        session,
        SeedDocument(statements=[seed]),
        resource="statement",
        replacing={"evidence": replacing},
    )
    await session.refresh(statement)
    if statement.version == version and seed_writes.changed(result):
        await seed_writes.touch(session, statement)
    return statement


async def delete_statement(session: AsyncSession, *, statement: Statement) -> None:
    # Nothing refers to a statement; its evidence goes by ON DELETE CASCADE.
    await session.execute(sa_delete(Statement).where(Statement.id == statement.id))
    session.expunge(statement)
