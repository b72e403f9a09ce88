"""The statements list counted: by their events' time (api/shared/histogram.py) and by field
value (api/shared/facets.py), over the list's own filtered statement."""

from dataclasses import replace
from enum import StrEnum

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared.facets import Facet, fetch_facet, ranked
from api.shared.histogram import Histogram, Interval, fetch_histogram, histogram_statement
from api.shared.pagination import count_rows
from api.statements.service import StatementFilters, filtered_statements
from db.models import Entity, Event, Statement


class StatementFacetField(StrEnum):
    SPEAKER = "speaker"
    KIND = "kind"


ENTITY_FACETS = {StatementFacetField.SPEAKER.value}


async def statement_histogram(
    session: AsyncSession, filters: StatementFilters, interval: Interval
) -> Histogram:
    """A statement's time is its event's: one outside any event, or in an undated one, is
    undated."""
    items = filtered_statements(filters).with_only_columns(
        Event.time_edtf.is_not(None).label("dated"),
        Event.time_earliest.label("earliest"),
        Event.time_latest.label("latest"),
    )
    return await fetch_histogram(
        session,
        histogram_statement(items, interval),
        {},
        interval=interval,
        axis_from=filters.time_from,
        axis_to=filters.time_to,
        built_once=False,
    )


async def statement_facets(
    session: AsyncSession, filters: StatementFilters, fields: list[StatementFacetField], limit: int
) -> tuple[list[Facet], int]:
    """The facets `fields` under `filters`, each without its own (both take one value), and
    how many statements the list holds under all of them."""
    facets = []
    for field in fields:
        if field is StatementFacetField.SPEAKER:
            statements = filtered_statements(replace(filters, speaker_id=None))
            found = statements.with_only_columns(Statement.speaker_id).subquery("statements")
            speaker = Entity.__table__
            statement = ranked(
                found.join(speaker, speaker.c.id == found.c.speaker_id),
                speaker.c.id,
                speaker.c.slug,
                speaker.c.name,
                func.count(),
            )
        else:
            statements = filtered_statements(replace(filters, kind=None))
            found = statements.with_only_columns(Statement.kind).subquery("statements")
            statement = ranked(found, found.c.kind, found.c.kind, found.c.kind, func.count())
        facets.append(
            await fetch_facet(
                session,
                statement,
                {},
                field=field.value,
                limit=limit,
                enumerated=field is StatementFacetField.KIND,
                built_once=False,
            )
        )
    return facets, await count_rows(session, filtered_statements(filters))
