"""The events list counted: by time bucket (api/shared/histogram.py) and by field value
(api/shared/facets.py), over the list's own filtered statement."""

from dataclasses import replace
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, Select, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.events.service import (
    EventFilters,
    ListShape,
    count_events,
    filtered_events,
    participant_only,
    participations,
)
from api.shared.facets import Facet, fetch_facet, ranked
from api.shared.histogram import Histogram, Interval, fetch_histogram, histogram_statement
from db.models import Dispute, DisputeEvent, Entity, Event, EventParticipant


class EventFacetField(StrEnum):
    TYPE = "type"
    MODE = "mode"
    CONTEXT = "context"
    MODALITY = "modality"
    PARTICIPANT = "participant"
    LOCATION = "location"
    DISPUTE = "dispute"


# The facets whose values are entities (`pov` names them).
ENTITY_FACETS = {EventFacetField.PARTICIPANT.value, EventFacetField.LOCATION.value}
_ENUMERATED = {EventFacetField.TYPE, EventFacetField.MODALITY}


# The time keys of a participant row, back as bounds: 'infinity' starts an undated event, and
# the infinities stand for open sides.
_INFINITY = literal_column("'infinity'::date", Date)
_OPEN_START = literal_column("'-infinity'::date", Date)


@lru_cache(maxsize=256)
def _histogram_statement(shape: ListShape, interval: Interval) -> Select[Any]:
    if participant_only(shape):
        # A popular participant's chart: its rows carry the events' bounds, so the histogram
        # is an index-only scan of them instead of a join to every event it took part in.
        rows = participations()
        return histogram_statement(
            select(
                (rows.c.event_start != _INFINITY).label("dated"),
                func.nullif(rows.c.event_start, _OPEN_START).label("earliest"),
                func.nullif(rows.c.event_end, _INFINITY).label("latest"),
            ),
            interval,
        )
    items = filtered_events(shape).with_only_columns(
        Event.time_edtf.is_not(None).label("dated"),
        Event.time_earliest.label("earliest"),
        Event.time_latest.label("latest"),
    )
    return histogram_statement(items, interval)


async def event_histogram(
    session: AsyncSession, filters: EventFilters, interval: Interval
) -> Histogram:
    return await fetch_histogram(
        session,
        _histogram_statement(filters.shape(), interval),
        filters.parameters(),
        interval=interval,
        axis_from=filters.time_from,
        axis_to=filters.time_to,
    )


def _without_own(filters: EventFilters, field: EventFacetField) -> EventFilters:
    """The filters a facet counts under: all but its own, unless its own values must all hold
    (`participant`, `context`: api/shared/facets.py)."""
    if field is EventFacetField.TYPE:
        return replace(filters, event_types=())
    if field is EventFacetField.MODE:
        return replace(filters, mode=None)
    if field is EventFacetField.MODALITY:
        return replace(filters, modality=None)
    if field is EventFacetField.LOCATION:
        return replace(filters, location_id=None)
    if field is EventFacetField.DISPUTE:
        return replace(filters, dispute_id=None)
    return filters


@lru_cache(maxsize=512)
def _facet_statement(shape: ListShape, field: EventFacetField) -> Select[Any]:
    events = (
        filtered_events(shape)
        .with_only_columns(
            Event.id,
            Event.event_type,
            Event.mode,
            Event.contexts,
            Event.modality,
            Event.location_id,
        )
        .subquery("events")
    )
    if field is EventFacetField.TYPE:
        value = events.c.event_type
        return ranked(events, value, value, value, func.count())
    if field is EventFacetField.MODE:
        value = events.c.mode
        return ranked(events, value, value, value, func.count(), value.is_not(None))
    if field is EventFacetField.MODALITY:
        value = events.c.modality
        return ranked(events, value, value, value, func.count())
    if field is EventFacetField.CONTEXT:
        contexts = select(events.c.id, func.unnest(events.c.contexts).label("context")).subquery(
            "contexts"
        )
        value = contexts.c.context
        return ranked(contexts, value, value, value, func.count(contexts.c.id.distinct()))
    if field is EventFacetField.LOCATION:
        place = Entity.__table__
        return ranked(
            events.join(place, place.c.id == events.c.location_id),
            place.c.id,
            place.c.slug,
            place.c.name,
            func.count(),
        )
    if field is EventFacetField.PARTICIPANT:
        participant = EventParticipant.__table__
        entity = Entity.__table__
        return ranked(
            events.join(participant, participant.c.event_id == events.c.id).join(
                entity, entity.c.id == participant.c.entity_id
            ),
            entity.c.id,
            entity.c.slug,
            entity.c.name,
            # An entity in two roles of one event counts it once.
            func.count(events.c.id.distinct()),
        )
    link = DisputeEvent.__table__
    dispute = Dispute.__table__
    return ranked(
        events.join(link, link.c.event_id == events.c.id).join(
            dispute, dispute.c.id == link.c.dispute_id
        ),
        dispute.c.id,
        dispute.c.slug,
        dispute.c.title,
        func.count(),
    )


async def event_facets(
    session: AsyncSession,
    filters: EventFilters,
    fields: list[EventFacetField],
    limit: int,
) -> tuple[list[Facet], int]:
    """The facets `fields` under `filters` (each without its own, as `_without_own` says), and
    how many events the list holds under all of them."""
    facets = []
    for field in fields:
        counted_under = _without_own(filters, field)
        facets.append(
            await fetch_facet(
                session,
                _facet_statement(counted_under.shape(), field),
                counted_under.parameters(),
                field=field.value,
                limit=limit,
                enumerated=field in _ENUMERATED,
            )
        )
    return facets, await count_events(session, filters)
