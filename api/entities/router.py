from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from api.articles import service as article_service
from api.articles.presenters import article_summary_items
from api.articles.schemas import ArticlePage
from api.entities import service as entity_service
from api.entities.presenters import entity_read, entity_summary_items, related_entities
from api.entities.schemas import (
    CREATE_EXAMPLES,
    UPDATE_EXAMPLES,
    EntityCreate,
    EntityPage,
    EntityRead,
    EntityUpdate,
    RelatedEntityPage,
)
from api.events import service as event_service
from api.events.presenters import event_summary_items
from api.events.schemas import EventPage
from api.shared import idempotency
from api.shared import pov as point_of_view
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
from api.shared.pov import Pov
from api.shared.routing import ApiRoute
from db.enums import EntityKind
from db.models import Entity

router = APIRouter(prefix="/entities", tags=["entities"], route_class=ApiRoute)


async def _entity_in_path(session: SessionDep, entity: str) -> Entity:
    return await get_by_key(session, Entity, entity, "entity")


# For handlers with nothing else to check: api.shared.lookup says why.
EntityInPath = Annotated[Entity, Depends(_entity_in_path)]


@router.get(
    "",
    response_model=EntityPage,
    summary="List or search entities",
    responses=problem_responses(400),
    openapi_extra=list_parameters(lookup=True, csv=True),
)
async def list_entities(
    request: Request,
    session: SessionDep,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Name or alias: prefix, accent-insensitive and typo-tolerant; "
            "best match first.",
        ),
    ] = None,
    kind: EntityKind | None = None,
    wikidata: Annotated[
        str | None, Query(pattern=r"^Q[1-9][0-9]*$", description="Wikidata QID, e.g. Q17.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Entities by name, or the best matches for `q` over names and aliases. With `id`,
    exactly the entities named."""
    ids = lookup_keys(request)
    count = counted(request)
    if ids is not None:
        refuse_other_parameters(request)
        found, missing = await entity_service.entities_by_keys(session, ids)
        items = entity_summary_items(found)
        return lookup_response(request, EntityPage, items, missing, count=count, csv=True)
    keyset = keyset_for(request, entity_service.ordering(bool(q)))
    after = keyset.start(cursor)
    entities, next_key, total = await entity_service.list_entities(
        session,
        q=q,
        after=after,
        limit=limit,
        kind=kind,
        wikidata=wikidata,
        count=count,
    )
    items = entity_summary_items(entities)
    return page_response(request, EntityPage, items, keyset, next_key, total=total, csv=True)


@router.get(
    "/{entity}",
    response_model=EntityRead,
    summary="Get an entity",
    responses=problem_responses(400, 404),
)
async def get_entity(
    request: Request, session: SessionDep, row: EntityInPath, pov: Pov = None
) -> Response:
    """One entity by id or slug, with its aliases (and whose names they are), its relations
    with their time bounds, and how many articles and events involve it. With `pov`, the
    entity and those it refers to go by that party's names."""
    party = await point_of_view.find_party(session, pov)
    read = await entity_read(session, row, party)
    return json_with_etag(request, read, version=row.version)


@router.get(
    "/{entity}/articles",
    response_model=ArticlePage,
    summary="Articles mentioning an entity",
    responses=problem_responses(400, 404),
    openapi_extra=list_parameters(),
)
async def list_entity_articles(
    request: Request,
    session: SessionDep,
    entity: str,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """The articles that mention the entity, newest first."""
    count = counted(request)
    row = await get_by_key(session, Entity, entity, "entity")
    keyset = keyset_for(request, article_service.NEWEST_FIRST)
    articles, next_key, total = await article_service.list_articles(
        session,
        after=keyset.start(cursor),
        limit=limit,
        entity_ids=[row.id],
        count=count,
    )
    items = article_summary_items(articles)
    return page_response(request, ArticlePage, items, keyset, next_key, total=total)


@router.get(
    "/{entity}/events",
    response_model=EventPage,
    summary="Events an entity takes part in",
    responses=problem_responses(400, 404),
    openapi_extra=list_parameters(),
)
async def list_entity_events(
    request: Request,
    session: SessionDep,
    entity: str,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """The events the entity takes part in, in any role, in time order."""
    count = counted(request)
    row = await get_by_key(session, Entity, entity, "entity")
    keyset = keyset_for(request, event_service.TIME_ORDER_UNDATED_LAST)
    events, next_key, total = await event_service.list_events(
        session,
        event_service.EventFilters(participant_ids=(row.id,)),
        after=keyset.start(cursor),
        limit=limit,
        count=count,
    )
    items = event_summary_items(events)
    return page_response(request, EventPage, items, keyset, next_key, total=total)


@router.get(
    "/{entity}/related",
    response_model=RelatedEntityPage,
    summary="Entities mentioned alongside an entity",
    responses=problem_responses(400, 404),
    openapi_extra=list_parameters(),
)
async def list_related_entities(
    request: Request,
    session: SessionDep,
    entity: str,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Entities named in the same articles as this one, most shared articles first, with
    the number of articles they share."""
    count = counted(request)
    row = await get_by_key(session, Entity, entity, "entity")
    co_mentioned = entity_service.co_mentions(row.id)
    keyset = keyset_for(request, entity_service.related_ordering(co_mentioned))
    related, next_key, total = await entity_service.list_related(
        session,
        co_mentioned=co_mentioned,
        keyset=keyset,
        after=keyset.start(cursor),
        limit=limit,
        count=count,
    )
    items = related_entities(related)
    return page_response(request, RelatedEntityPage, items, keyset, next_key, total=total)


@router.post(
    "",
    response_model=EntityRead,
    status_code=201,
    dependencies=[IDEMPOTENCY_KEY],
    summary="Create an entity",
    responses={
        **problem_responses(400, 401, 403, 409, 413, 422),
        **created_links(
            "entity",
            reads=[
                "get_entity",
                "list_entity_articles",
                "list_entity_events",
                "list_related_entities",
            ],
            writes=["update_entity", "delete_entity"],
            creates=create_with("create_statement", "speaker"),
        ),
    },
)
async def create_entity(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    entity: Annotated[EntityCreate, Body(openapi_examples=CREATE_EXAMPLES)],
) -> Response:
    """A new entity with its aliases (and whose names they are) and the relations whose
    subject it is, in the seed file format and checked by the seed loader's code: every slug
    must name an entity, every quote must be found in its `article`, times must be EDTF.
    Send `Idempotency-Key` to make retries safe."""
    claim = await idempotency.begin(session, request, api_key, entity)
    if isinstance(claim, Response):
        return claim
    row = await entity_service.create_entity(session, data=entity)
    return await idempotency.created(
        session,
        request,
        claim,
        await entity_read(session, row, None),
        version=row.version,
        location=f"/v1/entities/{row.id}",
    )


@router.patch(
    "/{entity}",
    response_model=EntityRead,
    dependencies=[IF_MATCH],
    summary="Update an entity",
    responses={
        **problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
        **updated_links("entity", reads=["get_entity"], writes=["update_entity", "delete_entity"]),
    },
)
async def update_entity(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    entity: str,
    changes: Annotated[EntityUpdate, Body(openapi_examples=UPDATE_EXAMPLES)],
) -> Response:
    """Change the fields sent; `aliases`, `relations` or `evidence`, when sent, replace the
    entity's set (checked as on create). `If-Match` with the ETag you read is required."""
    row = await get_by_key(session, Entity, entity, "entity")
    await claim(request, session, api_key, row, resource="entity")
    row = await entity_service.update_entity(session, entity=row, data=changes)
    return json_with_etag(request, await entity_read(session, row, None), version=row.version)


@router.delete(
    "/{entity}",
    status_code=204,
    dependencies=[IF_MATCH],
    summary="Delete an entity",
    responses=problem_responses(400, 401, 403, 404, 409, 412, 428),
)
async def delete_entity(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    entity: str,
    cascade: Annotated[
        bool,
        Query(
            description="Also delete what cannot exist without the entity (its mentions, event "
            "participations, statements it made, its parties and territories in disputes, "
            "relations to it) and clear optional references to it (event locations, who "
            "conveyed a statement, who administers or claims a territory, whose name an "
            "alias is)."
        ),
    ] = False,
) -> Response:
    """Delete an entity with its own aliases, relations and evidence. Refused with 409 while
    anything else refers to it, unless `cascade=true`. `If-Match` with the ETag you read is
    required."""
    row = await get_by_key(session, Entity, entity, "entity")
    await claim(request, session, api_key, row, resource="entity", cascade=cascade)
    await entity_service.delete_entity(session, entity=row, cascade=cascade)
    return Response(status_code=204)
