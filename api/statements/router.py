from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.events import service as event_service
from api.shared import idempotency
from api.shared.auth import WriteKey
from api.shared.concurrency import IF_MATCH, require_if_match
from api.shared.deps import SessionDep
from api.shared.errors import problem_responses
from api.shared.evidence import evidence_for
from api.shared.http_cache import json_with_etag
from api.shared.idempotency import IDEMPOTENCY_KEY
from api.shared.lookup import get_by_key, id_for_filter
from api.shared.openapi_links import created_links, updated_links
from api.shared.pagination import DEFAULT_LIMIT, keyset_for, page_response
from api.shared.params import Cursor, Limit
from api.shared.schemas import EntityRef, EventRef
from api.statements import service as statement_service
from api.statements.schemas import (
    StatementCreate,
    StatementPage,
    StatementRead,
    StatementSummary,
    StatementUpdate,
)
from db.enums import StatementKind
from db.models import Article, Entity, Event, Statement

router = APIRouter(prefix="/statements", tags=["statements"])


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


async def statement_read(session: AsyncSession, row: Statement) -> StatementRead:
    """The full statement, as GET returns it and writes answer."""
    entities = await event_service.get_entities(
        session, entity_ids=[row.speaker_id, row.conveyed_by_id]
    )
    events = await statement_service.get_events(session, event_ids=[row.event_id])
    evidence = await evidence_for(session, "statement_id", [row.id])
    return StatementRead(**statement_fields(row, entities, events), evidence=evidence[row.id])


@router.get(
    "",
    response_model=StatementPage,
    summary="List statements",
    responses=problem_responses(400),
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
    statements whose evidence cites that article."""
    keyset = keyset_for(request, statement_service.EVENT_TIME_ORDER)
    after = keyset.start(cursor)
    speaker_id = await id_for_filter(session, Entity, speaker, "speaker")
    event_id = await id_for_filter(session, Event, event, "event")
    article_id = await id_for_filter(session, Article, article, "article")
    statements, next_key = await statement_service.list_statements(
        session,
        keyset=keyset,
        after=after,
        limit=limit,
        speaker_id=speaker_id,
        event_id=event_id,
        article_id=article_id,
        kind=kind,
    )
    entities = await event_service.get_entities(
        session,
        entity_ids=[s.speaker_id for s in statements] + [s.conveyed_by_id for s in statements],
    )
    events = await statement_service.get_events(session, event_ids=[s.event_id for s in statements])
    items = [StatementSummary(**statement_fields(s, entities, events)) for s in statements]
    return page_response(request, StatementPage, items, keyset, next_key)


@router.get(
    "/{statement}",
    response_model=StatementRead,
    summary="Get a statement",
    responses=problem_responses(400, 404),
)
async def get_statement(request: Request, session: SessionDep, statement: str) -> Response:
    """One statement by id or slug, with its speaker, who conveyed it, its event and the
    words of the articles that report it."""
    row = await get_by_key(session, Statement, statement, "statement")
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
    request: Request, session: SessionDep, api_key: WriteKey, statement: StatementCreate
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
    changes: StatementUpdate,
) -> Response:
    """Change the fields sent; `evidence`, when sent, replaces the statement's set (checked
    as on create). `If-Match` with the ETag you read is required."""
    row = await get_by_key(session, Statement, statement, "statement")
    require_if_match(request, resource="statement", version=row.version)
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
    request: Request, session: SessionDep, api_key: WriteKey, statement: str
) -> Response:
    """Delete a statement and its evidence; nothing else refers to a statement. `If-Match`
    with the ETag you read is required."""
    row = await get_by_key(session, Statement, statement, "statement")
    require_if_match(request, resource="statement", version=row.version)
    await statement_service.delete_statement(session, statement=row)
    return Response(status_code=204)
