from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response

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
from api.shared.lookup import get_by_key, id_for_filter
from api.shared.openapi_links import created_links, updated_links
from api.shared.pagination import DEFAULT_LIMIT, keyset_for, lookup_response, page_response
from api.shared.params import Cursor, Limit, counted, list_parameters, lookup_keys
from api.shared.periods import StatementsFrom, StatementsTo, period_days
from api.shared.pov import Pov
from api.shared.routing import ApiRoute
from api.statements import aggregates
from api.statements import service as statement_service
from api.statements.presenters import statement_read, statement_summaries
from api.statements.schemas import (
    CREATE_EXAMPLES,
    UPDATE_EXAMPLES,
    StatementCreate,
    StatementPage,
    StatementRead,
    StatementUpdate,
)
from db.enums import StatementKind
from db.models import Article, Entity, Event, Statement

router = APIRouter(prefix="/statements", tags=["statements"], route_class=ApiRoute)


async def _statement_in_path(session: SessionDep, statement: str) -> Statement:
    return await get_by_key(session, Statement, statement, "statement")


# For handlers with nothing else to check: api.shared.lookup says why.
StatementInPath = Annotated[Statement, Depends(_statement_in_path)]


# The statements list's filters, declared once for the list, its histogram and its facets.
Speaker = Annotated[str | None, Query(description="Entity id or slug of the speaker.")]
InEvent = Annotated[str | None, Query(description="Event id or slug.")]
Reported = Annotated[str | None, Query(description="Article id or slug: statements it reports.")]


async def _filters(
    session: SessionDep,
    speaker: str | None,
    event: str | None,
    article: str | None,
    kind: StatementKind | None,
    time_from: str | None,
    time_to: str | None,
) -> statement_service.StatementFilters:
    """The list's query parameters as filters: periods as days, keys as ids (400 for a key
    naming nothing)."""
    earliest, latest = period_days(time_from, time_to)
    return statement_service.StatementFilters(
        speaker_id=await id_for_filter(session, Entity, speaker, "speaker"),
        event_id=await id_for_filter(session, Event, event, "event"),
        article_id=await id_for_filter(session, Article, article, "article"),
        kind=kind,
        time_from=earliest,
        time_to=latest,
    )


@router.get(
    "",
    response_model=StatementPage,
    summary="List statements",
    responses=problem_responses(400),
    openapi_extra=list_parameters(lookup=True, csv=True),
)
async def list_statements(
    request: Request,
    session: SessionDep,
    speaker: Speaker = None,
    event: InEvent = None,
    article: Reported = None,
    kind: StatementKind | None = None,
    time_from: StatementsFrom = None,
    time_to: StatementsTo = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Statements in the order of their events' time, earliest first, then by slug;
    statements outside any event, or in an undated one, come last. `article` keeps the
    statements whose evidence cites that article; `from` and `to` those whose event's time
    overlaps the range, as the events list reads it (a statement outside any event, or in an
    undated one, matches no range). With `id`, exactly the statements named."""
    ids = lookup_keys(request)
    count = counted(request)
    if ids is not None:
        refuse_other_parameters(request)
        found, missing = await statement_service.statements_by_keys(session, ids)
        items = await statement_summaries(session, found)
        return lookup_response(request, StatementPage, items, missing, count=count, csv=True)
    keyset = keyset_for(request, statement_service.EVENT_TIME_ORDER)
    after = keyset.start(cursor)
    filters = await _filters(session, speaker, event, article, kind, time_from, time_to)
    statements, next_key, total = await statement_service.list_statements(
        session,
        keyset=keyset,
        after=after,
        limit=limit,
        filters=filters,
        count=count,
    )
    items = await statement_summaries(session, statements)
    return page_response(request, StatementPage, items, keyset, next_key, total=total, csv=True)


# Before `/{statement}`, which would otherwise take `histogram` and `facets` for slugs.
@router.get(
    "/histogram",
    response_model=Histogram,
    summary="Count statements by time",
    responses=problem_responses(400),
)
async def get_statement_histogram(
    request: Request,
    session: SessionDep,
    interval: Annotated[Interval, Query(description=INTERVAL_DESCRIPTION)],
    speaker: Speaker = None,
    event: InEvent = None,
    article: Reported = None,
    kind: StatementKind | None = None,
    time_from: StatementsFrom = None,
    time_to: StatementsTo = None,
) -> Response:
    """How many statements of the list (under the same filters) fall in each `interval`, by
    the time bounds of their events (a statement has no time of its own): one whose event's
    earliest and latest day lie in one bucket counts there; one whose event's bounds lie in
    several is counted in `spanning`, with the range of buckets, never placed; one outside any
    event or in an undated one in `undated`. The buckets run from the first holding a
    statement to the last, or over `from`..`to` when given, empty ones with 0; `total` is the
    list's `count=exact` total for the same filters."""
    filters = await _filters(session, speaker, event, article, kind, time_from, time_to)
    histogram = await aggregates.statement_histogram(session, filters, interval)
    return json_with_etag(request, histogram)


@router.get(
    "/facets",
    response_model=Facets,
    summary="Count statements by field value",
    responses=problem_responses(400),
)
async def get_statement_facets(
    request: Request,
    session: SessionDep,
    field: Annotated[
        list[aggregates.StatementFacetField] | None,
        Query(max_length=len(aggregates.StatementFacetField), description=FIELD_DESCRIPTION),
    ] = None,
    limit: FacetLimit = DEFAULT_FACET_LIMIT,
    pov: Pov = None,
    speaker: Speaker = None,
    event: InEvent = None,
    article: Reported = None,
    kind: StatementKind | None = None,
    time_from: StatementsFrom = None,
    time_to: StatementsTo = None,
) -> Response:
    """The values statements of the list hold most, per `field` (`speaker`, `kind`), each
    with how many statements hold it. A facet counts under every filter but its own (both
    take one value), so its counts say what picking another value would give. With `pov`,
    speakers' names are that party's names."""
    filters = await _filters(session, speaker, event, article, kind, time_from, time_to)
    party = await point_of_view.find_party(session, pov)
    fields = fields_asked(field, list(aggregates.StatementFacetField))
    facets, total = await aggregates.statement_facets(session, filters, fields, limit)
    await apply_pov(session, party, facets, aggregates.ENTITY_FACETS)
    read = Facets(facets=facets, total=total, pov=point_of_view.party_ref(party))
    return json_with_etag(request, read)


@router.get(
    "/{statement:key}",
    response_model=StatementRead,
    summary="Get a statement",
    responses=problem_responses(400, 404),
)
async def get_statement(request: Request, session: SessionDep, row: StatementInPath) -> Response:
    """One statement by id or slug, with its speaker, who conveyed it, its event and the
    words of the articles that report it."""
    return json_with_etag(request, await statement_read(session, row), version=row.version)


@router.post(
    "",
    response_model=StatementRead,
    status_code=201,
    dependencies=[IDEMPOTENCY_KEY],
    summary="Create a statement",
    responses={
        **problem_responses(400, 401, 403, 409, 413, 422),
        **created_links(
            "statement", reads=["get_statement"], writes=["update_statement", "delete_statement"]
        ),
    },
)
async def create_statement(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    statement: Annotated[StatementCreate, Body(openapi_examples=CREATE_EXAMPLES)],
) -> Response:
    """A new statement, in the seed file format and checked by the seed loader's code: the
    speaker, messenger and event must exist, quotes must be found in their `article`, and a
    `direct_quote` must appear word for word in a cited article. Send `Idempotency-Key` to
    make retries safe."""
    claim = await idempotency.begin(session, request, api_key, statement)
    if isinstance(claim, Response):
        return claim
    row = await statement_service.create_statement(session, data=statement)
    return await idempotency.created(
        session,
        request,
        claim,
        await statement_read(session, row),
        version=row.version,
        location=f"/v1/statements/{row.id}",
    )


@router.patch(
    "/{statement:key}",
    response_model=StatementRead,
    dependencies=[IF_MATCH],
    summary="Update a statement",
    responses={
        **problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
        **updated_links(
            "statement", reads=["get_statement"], writes=["update_statement", "delete_statement"]
        ),
    },
)
async def update_statement(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    statement: str,
    changes: Annotated[StatementUpdate, Body(openapi_examples=UPDATE_EXAMPLES)],
) -> Response:
    """Change the fields sent; `evidence`, when sent, replaces the statement's set (checked
    as on create). `If-Match` with the ETag you read is required."""
    row = await get_by_key(session, Statement, statement, "statement")
    await claim(request, session, api_key, row, resource="statement")
    row = await statement_service.update_statement(session, statement=row, data=changes)
    return json_with_etag(request, await statement_read(session, row), version=row.version)


@router.delete(
    "/{statement:key}",
    status_code=204,
    dependencies=[IF_MATCH],
    summary="Delete a statement",
    responses=problem_responses(400, 401, 403, 404, 412, 428),
)
async def delete_statement(
    request: Request, session: SessionDep, api_key: WriteKey, row: StatementInPath
) -> Response:
    """Delete a statement and its evidence; nothing else refers to a statement. `If-Match`
    with the ETag you read is required."""
    await claim(request, session, api_key, row, resource="statement")
    await statement_service.delete_statement(session, statement=row)
    return Response(status_code=204)
