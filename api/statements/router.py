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
from api.shared.lookup import get_by_key, id_for_filter
from api.shared.openapi_links import created_links, updated_links
from api.shared.pagination import DEFAULT_LIMIT, keyset_for, lookup_response, page_response
from api.shared.params import Cursor, Limit, counted, list_parameters, lookup_keys
from api.shared.routing import ApiRoute
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
    speaker: Annotated[str | None, Query(description="Entity id or slug of the speaker.")] = None,
    event: Annotated[str | None, Query(description="Event id or slug.")] = None,
    article: Annotated[
        str | None, Query(description="Article id or slug: statements it reports.")
    ] = None,
    kind: StatementKind | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Statements in the order of their events' time, earliest first, then by slug;
    statements outside any event, or in an undated one, come last. `article` keeps the
    statements whose evidence cites that article. With `id`, exactly the statements named."""
    ids = lookup_keys(request)
    count = counted(request)
    if ids is not None:
        refuse_other_parameters(request)
        found, missing = await statement_service.statements_by_keys(session, ids)
        items = await statement_summaries(session, found)
        return lookup_response(request, StatementPage, items, missing, count=count, csv=True)
    keyset = keyset_for(request, statement_service.EVENT_TIME_ORDER)
    after = keyset.start(cursor)
    speaker_id = await id_for_filter(session, Entity, speaker, "speaker")
    event_id = await id_for_filter(session, Event, event, "event")
    article_id = await id_for_filter(session, Article, article, "article")
    statements, next_key, total = await statement_service.list_statements(
        session,
        keyset=keyset,
        after=after,
        limit=limit,
        count=count,
        speaker_id=speaker_id,
        event_id=event_id,
        article_id=article_id,
        kind=kind,
    )
    items = await statement_summaries(session, statements)
    return page_response(request, StatementPage, items, keyset, next_key, total=total, csv=True)


@router.get(
    "/{statement}",
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
    "/{statement}",
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
    "/{statement}",
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
