from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from api.shared import idempotency
from api.shared.auth import WriteKey
from api.shared.batch import refuse_other_parameters
from api.shared.concurrency import IF_MATCH, claim
from api.shared.deps import SessionDep
from api.shared.errors import problem_responses
from api.shared.http_cache import json_with_etag
from api.shared.idempotency import IDEMPOTENCY_KEY
from api.shared.lookup import get_by_key
from api.shared.openapi_links import create_with, created_links, updated_links
from api.shared.pagination import DEFAULT_LIMIT, keyset_for, lookup_response, page_response
from api.shared.params import Cursor, Limit, counted, list_parameters, lookup_keys
from api.shared.routing import ApiRoute
from api.sources import service as source_service
from api.sources.schemas import (
    CREATE_EXAMPLES,
    UPDATE_EXAMPLES,
    SourceCreate,
    SourcePage,
    SourceRead,
    SourceUpdate,
)
from db.enums import SourceKind
from db.models import Source

router = APIRouter(prefix="/sources", tags=["sources"], route_class=ApiRoute)


async def _source_in_path(session: SessionDep, source: str) -> Source:
    return await get_by_key(session, Source, source, "source")


# For handlers with nothing else to check: api.shared.lookup says why.
SourceInPath = Annotated[Source, Depends(_source_in_path)]


@router.get(
    "",
    response_model=SourcePage,
    summary="List sources",
    responses=problem_responses(400),
    openapi_extra=list_parameters(lookup=True),
)
async def list_sources(
    request: Request,
    session: SessionDep,
    kind: SourceKind | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Publishers of articles (news agencies, newspapers, broadcasters, ...), by name. With
    `id`, exactly the sources named."""
    ids = lookup_keys(request)
    count = counted(request)
    if ids is not None:
        refuse_other_parameters(request)
        found, missing = await source_service.sources_by_keys(session, ids)
        items = [SourceRead.model_validate(s) for s in found]
        return lookup_response(request, SourcePage, items, missing, count=count)
    keyset = keyset_for(request, source_service.NAME_ORDER)
    after = keyset.start(cursor)
    sources, next_key, total = await source_service.list_sources(
        session, keyset=keyset, after=after, limit=limit, kind=kind, count=count
    )
    items = [SourceRead.model_validate(s) for s in sources]
    return page_response(request, SourcePage, items, keyset, next_key, total=total)


@router.get(
    "/{source}",
    response_model=SourceRead,
    summary="Get a source",
    responses=problem_responses(400, 404),
)
async def get_source(request: Request, row: SourceInPath) -> Response:
    """One source by id or slug."""
    return json_with_etag(request, SourceRead.model_validate(row), version=row.version)


@router.post(
    "",
    response_model=SourceRead,
    status_code=201,
    dependencies=[IDEMPOTENCY_KEY],
    summary="Create a source",
    responses={
        **problem_responses(400, 401, 403, 409, 413, 422),
        **created_links(
            "source",
            reads=["get_source"],
            writes=["update_source", "delete_source"],
            creates=create_with("create_article", "source"),
        ),
    },
)
async def create_source(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    source: Annotated[SourceCreate, Body(openapi_examples=CREATE_EXAMPLES)],
) -> Response:
    """A new publisher. Send `Idempotency-Key` to make retries safe."""
    claim = await idempotency.begin(session, request, api_key, source)
    if isinstance(claim, Response):
        return claim
    row = await source_service.create_source(session, data=source)
    return await idempotency.created(
        session,
        request,
        claim,
        SourceRead.model_validate(row),
        version=row.version,
        location=f"/v1/sources/{row.id}",
    )


@router.patch(
    "/{source}",
    response_model=SourceRead,
    dependencies=[IF_MATCH],
    summary="Update a source",
    responses={
        **problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
        **updated_links("source", reads=["get_source"], writes=["update_source", "delete_source"]),
    },
)
async def update_source(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    source: str,
    changes: Annotated[SourceUpdate, Body(openapi_examples=UPDATE_EXAMPLES)],
) -> Response:
    """Change the fields sent. `If-Match` with the ETag you read is required."""
    row = await get_by_key(session, Source, source, "source")
    await claim(request, session, api_key, row, resource="source")
    row = await source_service.update_source(session, source=row, data=changes)
    return json_with_etag(request, SourceRead.model_validate(row), version=row.version)


@router.delete(
    "/{source}",
    status_code=204,
    dependencies=[IF_MATCH],
    summary="Delete a source",
    responses=problem_responses(400, 401, 403, 404, 409, 412, 428),
)
async def delete_source(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    source: str,
    cascade: Annotated[
        bool, Query(description="Also delete the source's articles (and what cites them).")
    ] = False,
) -> Response:
    """Delete a source. Refused with 409 while articles refer to it, unless `cascade=true`.
    `If-Match` with the ETag you read is required."""
    row = await get_by_key(session, Source, source, "source")
    await claim(request, session, api_key, row, resource="source", cascade=cascade)
    await source_service.delete_source(session, source=row, cascade=cascade)
    return Response(status_code=204)
