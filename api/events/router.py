from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from api.events import aggregates
from api.events import service as event_service
from api.events.presenters import event_read, event_summary_items
from api.events.schemas import (
    CREATE_EXAMPLES,
    UPDATE_EXAMPLES,
    EventCreate,
    EventPage,
    EventRead,
    EventUpdate,
)
from api.shared import idempotency
from api.shared import pov as point_of_view
from api.shared.auth import WriteKey
from api.shared.batch import refuse_other_parameters
from api.shared.concurrency import IF_MATCH, claim
from api.shared.deps import SessionDep
from api.shared.errors import problem_responses
from api.shared.facets import (
    DEFAULT_FACET_LIMIT,
    FIELD_DESCRIPTION,
    FacetLimit,
    Facets,
    apply_pov,
    fields_asked,
)
from api.shared.histogram import INTERVAL_DESCRIPTION, Histogram, Interval
from api.shared.http_cache import json_with_etag
from api.shared.idempotency import IDEMPOTENCY_KEY
from api.shared.lookup import get_by_key
from api.shared.openapi_links import created_links, updated_links
from api.shared.pagination import DEFAULT_LIMIT, keyset_for, lookup_response, page_response
from api.shared.params import Cursor, Limit, counted, list_parameters, lookup_keys
from api.shared.periods import EventsFrom, EventsTo, period_days
from api.shared.pov import Pov
from api.shared.routing import ApiRoute
from db.enums import EventType, Modality
from db.models import Event

router = APIRouter(prefix="/events", tags=["events"], route_class=ApiRoute)


async def _event_in_path(session: SessionDep, event: str) -> Event:
    return await get_by_key(session, Event, event, "event")


# For handlers with nothing else to check: api.shared.lookup says why.
EventInPath = Annotated[Event, Depends(_event_in_path)]

# The events list's filters, declared once for the list, its histogram and its facets.
EventTypes = Annotated[
    list[EventType] | None,
    Query(alias="type", max_length=16, description="PLOVER event type; repeat for any of them."),
]
Mode = Annotated[
    str | None, Query(min_length=1, max_length=50, description="PLOVER mode, e.g. `phone`.")
]
Contexts = Annotated[
    list[str] | None,
    Query(max_length=20, description="Context, e.g. `territory`; repeat to require all."),
]
Participants = Annotated[
    list[str] | None,
    Query(max_length=20, description="Entity id or slug; repeat to require all of them."),
]
InDispute = Annotated[str | None, Query(description="Dispute id or slug: events in its timeline.")]
Location = Annotated[str | None, Query(description="Entity id or slug of the place.")]


async def _filters(
    session: SessionDep,
    *,
    event_type: list[EventType] | None,
    mode: str | None,
    context: list[str] | None,
    modality: Modality | None,
    participant: list[str] | None,
    dispute: str | None,
    location: str | None,
    time_from: str | None,
    time_to: str | None,
    by_keys: bool = False,
) -> event_service.EventFilters:
    """The list's query parameters as filters: periods as days, keys as ids (400 for a key
    naming nothing); or with `by_keys` the keys themselves, which the list's own statement
    finds (event_service.list_events)."""
    earliest, latest = period_days(time_from, time_to)
    keys: dict[str, Any]
    if by_keys:
        participant_keys = tuple(dict.fromkeys(participant or ()))
        keys = {
            "participant_keys": participant_keys,
            "dispute_key": dispute,
            "location_key": location,
        }
    else:
        participant_ids, dispute_id, location_id = await event_service.key_ids(
            session, participant or (), dispute, location
        )
        keys = {
            "participant_ids": participant_ids,
            "dispute_id": dispute_id,
            "location_id": location_id,
        }
    return event_service.EventFilters(
        event_types=tuple(event_type or ()),
        mode=mode,
        contexts=tuple(context or ()),
        modality=modality,
        time_from=earliest,
        time_to=latest,
        **keys,
    )


@router.get(
    "",
    response_model=EventPage,
    summary="List events",
    responses=problem_responses(400),
    openapi_extra=list_parameters(lookup=True, csv=True),
)
async def list_events(
    request: Request,
    session: SessionDep,
    event_type: EventTypes = None,
    mode: Mode = None,
    context: Contexts = None,
    modality: Modality | None = None,
    participant: Participants = None,
    dispute: InDispute = None,
    location: Location = None,
    time_from: EventsFrom = None,
    time_to: EventsTo = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Events by time, earliest first; undated events come last.

    `from` and `to` keep the events whose time overlaps the range: an event dated only "the
    1970s and 1980s" (`197X/198X`) matches `from=1975&to=1976`, an open bound (`1945/..`)
    reaches to the end of time, and an event with no time matches no range. Repeated
    `participant` or `context` values must all hold; repeated `type` values are alternatives.
    With `id`, exactly the events named.
    """
    ids = lookup_keys(request)
    count = counted(request)
    if ids is not None:
        refuse_other_parameters(request)
        found, missing = await event_service.events_by_keys(session, ids)
        items = event_summary_items(found)
        return lookup_response(request, EventPage, items, missing, count=count, csv=True)
    keyset = keyset_for(request, event_service.TIME_ORDER_UNDATED_LAST)
    after = keyset.start(cursor)
    filters = await _filters(
        session,
        event_type=event_type,
        mode=mode,
        context=context,
        modality=modality,
        participant=participant,
        dispute=dispute,
        location=location,
        time_from=time_from,
        time_to=time_to,
        by_keys=True,  # found by the page's own statement: one round trip a page
    )
    events, next_key, total = await event_service.list_events(
        session, filters, after=after, limit=limit, count=count
    )
    items = event_summary_items(events)
    return page_response(request, EventPage, items, keyset, next_key, total=total, csv=True)


# Before `/{event}`, which would otherwise take `histogram` and `facets` for event slugs.
@router.get(
    "/histogram",
    response_model=Histogram,
    summary="Count events by time",
    responses=problem_responses(400),
)
async def get_event_histogram(
    request: Request,
    session: SessionDep,
    interval: Annotated[Interval, Query(description=INTERVAL_DESCRIPTION)],
    event_type: EventTypes = None,
    mode: Mode = None,
    context: Contexts = None,
    modality: Modality | None = None,
    participant: Participants = None,
    dispute: InDispute = None,
    location: Location = None,
    time_from: EventsFrom = None,
    time_to: EventsTo = None,
) -> Response:
    """How many events of the list (under the same filters) fall in each `interval`, by their
    time bounds: an event whose earliest and latest day lie in one bucket counts there; one
    whose bounds lie in several (`1945` by `month`, `197X/198X` by `year`, an open `1945/..`)
    is counted in `spanning`, with the range of buckets it may fall in, never placed; an
    undated one in `undated`. The buckets run from the first holding an event to the last, or
    over `from`..`to` when given, empty ones with 0; `total` is the list's `count=exact`
    total for the same filters."""
    filters = await _filters(
        session,
        event_type=event_type,
        mode=mode,
        context=context,
        modality=modality,
        participant=participant,
        dispute=dispute,
        location=location,
        time_from=time_from,
        time_to=time_to,
    )
    return json_with_etag(request, await aggregates.event_histogram(session, filters, interval))


@router.get(
    "/facets",
    response_model=Facets,
    summary="Count events by field value",
    responses=problem_responses(400),
)
async def get_event_facets(
    request: Request,
    session: SessionDep,
    field: Annotated[
        list[aggregates.EventFacetField] | None,
        Query(max_length=len(aggregates.EventFacetField), description=FIELD_DESCRIPTION),
    ] = None,
    limit: FacetLimit = DEFAULT_FACET_LIMIT,
    pov: Pov = None,
    event_type: EventTypes = None,
    mode: Mode = None,
    context: Contexts = None,
    modality: Modality | None = None,
    participant: Participants = None,
    dispute: InDispute = None,
    location: Location = None,
    time_from: EventsFrom = None,
    time_to: EventsTo = None,
) -> Response:
    """The values events of the list hold most, per `field` (`type`, `mode`, `context`,
    `modality`, `participant`, `location`, `dispute`), each with how many events hold it.

    A facet counts under every filter but its own: `type` (its repeated values are
    alternatives), `mode`, `modality`, `location` and `dispute` leave their own filter out,
    so their counts say what picking another value would give. `participant` and `context`
    keep theirs, since their repeated values must all hold: a count says how many of the
    current events also involve that participant or context. With `pov`, entity names are
    that party's names."""
    filters = await _filters(
        session,
        event_type=event_type,
        mode=mode,
        context=context,
        modality=modality,
        participant=participant,
        dispute=dispute,
        location=location,
        time_from=time_from,
        time_to=time_to,
    )
    party = await point_of_view.find_party(session, pov)
    fields = fields_asked(field, list(aggregates.EventFacetField))
    facets, total = await aggregates.event_facets(session, filters, fields, limit)
    await apply_pov(session, party, facets, aggregates.ENTITY_FACETS)
    read = Facets(facets=facets, total=total, pov=point_of_view.party_ref(party))
    return json_with_etag(request, read)


@router.get(
    "/{event:key}",
    response_model=EventRead,
    summary="Get an event",
    responses=problem_responses(400, 404),
)
async def get_event(request: Request, session: SessionDep, row: EventInPath) -> Response:
    """One event by id or slug: who took part and in what role, what was said, the larger
    event it belongs to, the disputes whose timeline it is part of, and the words of the
    articles that support the event and each participant."""
    return json_with_etag(request, await event_read(session, row), version=row.version)


@router.post(
    "",
    response_model=EventRead,
    status_code=201,
    dependencies=[IDEMPOTENCY_KEY],
    summary="Create an event",
    responses={
        **problem_responses(400, 401, 403, 409, 413, 422),
        **created_links("event", reads=["get_event"], writes=["update_event", "delete_event"]),
    },
)
async def create_event(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    event: Annotated[EventCreate, Body(openapi_examples=CREATE_EXAMPLES)],
) -> Response:
    """A new event with its participants and evidence, in the seed file format and checked by
    the seed loader's code: a PLOVER `type`, EDTF `time`, ISO 8601 `duration`, slugs that name
    entities and events, quotes found in their `article`. Send `Idempotency-Key` to make
    retries safe."""
    claim = await idempotency.begin(session, request, api_key, event)
    if isinstance(claim, Response):
        return claim
    row = await event_service.create_event(session, data=event)
    return await idempotency.created(
        session,
        request,
        claim,
        await event_read(session, row),
        version=row.version,
        location=f"/v1/events/{row.id}",
    )


@router.patch(
    "/{event:key}",
    response_model=EventRead,
    dependencies=[IF_MATCH],
    summary="Update an event",
    responses={
        **problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
        **updated_links("event", reads=["get_event"], writes=["update_event", "delete_event"]),
    },
)
async def update_event(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    event: str,
    changes: Annotated[EventUpdate, Body(openapi_examples=UPDATE_EXAMPLES)],
) -> Response:
    """Change the fields sent; `participants` or `evidence`, when sent, replace the event's
    set (checked as on create). `If-Match` with the ETag you read is required."""
    row = await get_by_key(session, Event, event, "event")
    await claim(request, session, api_key, row, resource="event")
    row = await event_service.update_event(session, event=row, data=changes)
    return json_with_etag(request, await event_read(session, row), version=row.version)


@router.delete(
    "/{event:key}",
    status_code=204,
    dependencies=[IF_MATCH],
    summary="Delete an event",
    responses=problem_responses(400, 401, 403, 404, 409, 412, 428),
)
async def delete_event(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    event: str,
    cascade: Annotated[
        bool,
        Query(
            description="Also remove the event from the dispute timelines it is in, and unlink "
            "(but keep) the statements made in it and the events that are part of it."
        ),
    ] = False,
) -> Response:
    """Delete an event with its participants and evidence. Refused with 409 while dispute
    timelines, statements or other events refer to it, unless `cascade=true`. `If-Match`
    with the ETag you read is required."""
    row = await get_by_key(session, Event, event, "event")
    await claim(request, session, api_key, row, resource="event", cascade=cascade)
    await event_service.delete_event(session, event=row, cascade=cascade)
    return Response(status_code=204)
