from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from api.disputes import aggregates
from api.disputes import service as dispute_service
from api.disputes.presenters import dispute_read, timeline_body
from api.disputes.schemas import (
    CREATE_EXAMPLES,
    UPDATE_EXAMPLES,
    DisputeCreate,
    DisputePage,
    DisputeRead,
    DisputeSummary,
    DisputeUpdate,
    TimelinePage,
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
from api.shared.http_cache import body_with_etag, json_with_etag
from api.shared.idempotency import IDEMPOTENCY_KEY
from api.shared.lookup import get_by_key, id_for_filter, ids_for_filter
from api.shared.openapi_links import created_links, updated_links
from api.shared.pagination import (
    DEFAULT_LIMIT,
    keyset_for,
    lookup_response,
    next_link,
    page_response,
)
from api.shared.params import Cursor, Limit, counted, list_parameters, lookup_keys
from api.shared.pov import Pov
from api.shared.routing import ApiRoute
from db.enums import DisputeKind, DisputeStatus
from db.models import Dispute, Entity

router = APIRouter(prefix="/disputes", tags=["disputes"], route_class=ApiRoute)


async def _dispute_in_path(session: SessionDep, dispute: str) -> Dispute:
    return await get_by_key(session, Dispute, dispute, "dispute")


# For handlers with nothing else to check: api.shared.lookup says why.
DisputeInPath = Annotated[Dispute, Depends(_dispute_in_path)]


# The disputes list's filters, declared once for the list and its facets.
Parties = Annotated[
    list[str] | None,
    Query(max_length=20, description="Entity id or slug; repeat to require all of them."),
]
Territory = Annotated[str | None, Query(description="Entity id or slug of a territory in dispute.")]


async def _filters(
    session: SessionDep,
    *,
    kind: DisputeKind | None,
    status: DisputeStatus | None,
    party: list[str] | None,
    territory: str | None,
) -> dispute_service.DisputeFilters:
    """The list's query parameters as filters, keys as ids (400 for a key naming nothing)."""
    return dispute_service.DisputeFilters(
        kind=kind,
        status=status,
        party_ids=tuple(await ids_for_filter(session, Entity, party or [], "party")),
        territory_id=await id_for_filter(session, Entity, territory, "territory"),
    )


@router.get(
    "",
    response_model=DisputePage,
    summary="List disputes",
    responses=problem_responses(400),
    openapi_extra=list_parameters(lookup=True, csv=True),
)
async def list_disputes(
    request: Request,
    session: SessionDep,
    kind: DisputeKind | None = None,
    status: DisputeStatus | None = None,
    party: Parties = None,
    territory: Territory = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Disputes by title, optionally those of a kind or status, between given parties or
    over a given territory. With `id`, exactly the disputes named."""
    ids = lookup_keys(request)
    count = counted(request)
    if ids is not None:
        refuse_other_parameters(request)
        found, missing = await dispute_service.disputes_by_keys(session, ids)
        items = [DisputeSummary.of(d) for d in found]
        return lookup_response(request, DisputePage, items, missing, count=count, csv=True)
    keyset = keyset_for(request, dispute_service.TITLE_ORDER)
    after = keyset.start(cursor)
    filters = await _filters(session, kind=kind, status=status, party=party, territory=territory)
    disputes, next_key, total = await dispute_service.list_disputes(
        session,
        keyset=keyset,
        after=after,
        limit=limit,
        count=count,
        kind=filters.kind,
        status=filters.status,
        party_ids=filters.party_ids,
        territory_id=filters.territory_id,
    )
    items = [DisputeSummary.of(d) for d in disputes]
    return page_response(request, DisputePage, items, keyset, next_key, total=total, csv=True)


# Before `/{dispute}`, which would otherwise take `facets` for a dispute's slug.
@router.get(
    "/facets",
    response_model=Facets,
    summary="Count disputes by field value",
    responses=problem_responses(400),
)
async def get_dispute_facets(
    request: Request,
    session: SessionDep,
    field: Annotated[
        list[aggregates.DisputeFacetField] | None,
        Query(max_length=len(aggregates.DisputeFacetField), description=FIELD_DESCRIPTION),
    ] = None,
    limit: FacetLimit = DEFAULT_FACET_LIMIT,
    pov: Pov = None,
    kind: DisputeKind | None = None,
    status: DisputeStatus | None = None,
    party: Parties = None,
    territory: Territory = None,
) -> Response:
    """The values disputes of the list hold most, per `field` (`kind`, `status`, `party`,
    `territory`), each with how many disputes hold it.

    A facet counts under every filter but its own: `kind`, `status` and `territory` leave
    their own filter out, so their counts say what picking another value would give; `party`
    keeps its own, since repeated parties must all take part: a count says how many of the
    current disputes also have that party. With `pov`, entity names are that party's names."""
    filters = await _filters(session, kind=kind, status=status, party=party, territory=territory)
    viewer = await point_of_view.find_party(session, pov)
    fields = fields_asked(field, list(aggregates.DisputeFacetField))
    facets, total = await aggregates.dispute_facets(session, filters, fields, limit)
    await apply_pov(session, viewer, facets, aggregates.ENTITY_FACETS)
    read = Facets(facets=facets, total=total, pov=point_of_view.party_ref(viewer))
    return json_with_etag(request, read)


@router.get(
    "/{dispute:key}",
    response_model=DisputeRead,
    summary="Get a dispute",
    responses=problem_responses(400, 404),
)
async def get_dispute(
    request: Request, session: SessionDep, row: DisputeInPath, pov: Pov = None
) -> Response:
    """One dispute by id or slug: its parties and their positions, the territories at stake
    with who administers and who claims each, the names each party uses for them, and the
    article words behind every fact. With `pov`, entities go by that party's names."""
    party = await point_of_view.find_party(session, pov)
    read = await dispute_read(session, row, party)
    return json_with_etag(request, read, version=row.version)


@router.get(
    "/{dispute:key}/timeline",
    response_model=TimelinePage,
    summary="Get a dispute's timeline",
    responses=problem_responses(400, 404),
    openapi_extra=list_parameters(),
)
async def get_dispute_timeline(
    request: Request,
    session: SessionDep,
    dispute: str,
    pov: Pov = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """The events that make up a dispute's history, earliest first (partial dates such as
    `1945` or `197X/198X` by their bounds; undated events first), each with what it did to
    the dispute and the article words behind it. With `pov`, entities go by that party's
    names."""
    count = counted(request)
    keyset = keyset_for(request, dispute_service.TIME_ORDER_UNDATED_FIRST)
    after = keyset.start(cursor)
    entries, next_key, total = await dispute_service.get_timeline(
        session, dispute=dispute, after=after, limit=limit, count=count
    )
    party = await point_of_view.find_party(session, pov)
    next_cursor = keyset.encode(next_key) if next_key is not None else None
    # Not page_response: the page also says whose names it uses.
    body = await timeline_body(session, entries, next_cursor=next_cursor, party=party, total=total)
    return body_with_etag(request, body, next_link(request, next_cursor))


@router.post(
    "",
    response_model=DisputeRead,
    status_code=201,
    dependencies=[IDEMPOTENCY_KEY],
    summary="Create a dispute",
    responses={
        **problem_responses(400, 401, 403, 409, 413, 422),
        **created_links(
            "dispute",
            reads=["get_dispute", "get_dispute_timeline"],
            writes=["update_dispute", "delete_dispute"],
        ),
    },
)
async def create_dispute(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    dispute: Annotated[DisputeCreate, Body(openapi_examples=CREATE_EXAMPLES)],
) -> Response:
    """A new dispute with its parties and their positions, its territories and its timeline,
    in the seed file format and checked by the seed loader's code: every slug must name an
    entity or event, `time` is EDTF, quotes must be found in their `article`. Send
    `Idempotency-Key` to make retries safe."""
    claim = await idempotency.begin(session, request, api_key, dispute)
    if isinstance(claim, Response):
        return claim
    row = await dispute_service.create_dispute(session, data=dispute)
    return await idempotency.created(
        session,
        request,
        claim,
        await dispute_read(session, row, None),
        version=row.version,
        location=f"/v1/disputes/{row.id}",
    )


@router.patch(
    "/{dispute:key}",
    response_model=DisputeRead,
    dependencies=[IF_MATCH],
    summary="Update a dispute",
    responses={
        **problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
        **updated_links(
            "dispute", reads=["get_dispute"], writes=["update_dispute", "delete_dispute"]
        ),
    },
)
async def update_dispute(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    dispute: str,
    changes: Annotated[DisputeUpdate, Body(openapi_examples=UPDATE_EXAMPLES)],
) -> Response:
    """Change the fields sent; `parties`, `territories`, `events` or `evidence`, when sent,
    replace the dispute's set (checked as on create). `If-Match` with the ETag you read is
    required."""
    row = await get_by_key(session, Dispute, dispute, "dispute")
    await claim(request, session, api_key, row, resource="dispute")
    row = await dispute_service.update_dispute(session, dispute=row, data=changes)
    return json_with_etag(request, await dispute_read(session, row, None), version=row.version)


@router.delete(
    "/{dispute:key}",
    status_code=204,
    dependencies=[IF_MATCH],
    summary="Delete a dispute",
    responses=problem_responses(400, 401, 403, 404, 412, 428),
)
async def delete_dispute(
    request: Request, session: SessionDep, api_key: WriteKey, row: DisputeInPath
) -> Response:
    """Delete a dispute with its parties, territories, timeline links and evidence (the
    entities and events they name stay); nothing else refers to a dispute. `If-Match` with
    the ETag you read is required."""
    await claim(request, session, api_key, row, resource="dispute")
    await dispute_service.delete_dispute(session, dispute=row)
    return Response(status_code=204)
