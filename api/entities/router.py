from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.deps import SessionDep
from api.entities import service as entity_service
from api.entities.schemas import (
    AliasRead,
    EntityCounts,
    EntityPage,
    EntityRead,
    EntitySummary,
    RelationRead,
)
from api.errors import problem_responses
from api.http_cache import json_with_etag
from api.lookup import get_by_key
from api.pagination import keyset_for, page_response
from api.params import Cursor, Limit
from api.schemas import EntityRef, TimeRead
from db.enums import EntityKind
from db.models import Entity

router = APIRouter(prefix="/entities", tags=["entities"])


@router.get(
    "",
    response_model=EntityPage,
    summary="List or search entities",
    responses=problem_responses(400),
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
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    """Entities by name, or the best matches for `q` over names and aliases."""
    matches = entity_service.name_matches(q) if q else None
    keyset = keyset_for(request, entity_service.ordering(matches))
    after = keyset.decode(cursor) if cursor is not None else None
    entities, next_key = await entity_service.list_entities(
        session,
        keyset=keyset,
        matches=matches,
        after=after,
        limit=limit,
        kind=kind,
        wikidata=wikidata,
    )
    items = [EntitySummary.model_validate(e) for e in entities]
    return page_response(request, EntityPage, items, keyset, next_key)


@router.get(
    "/{entity}",
    response_model=EntityRead,
    summary="Get an entity",
    responses=problem_responses(400, 404),
)
async def get_entity(request: Request, session: SessionDep, entity: str) -> Response:
    """One entity by id or slug, with its aliases (and whose names they are), its relations
    with their time bounds, and how many articles and events involve it."""
    row = await get_by_key(session, Entity, entity, "entity")
    aliases = await entity_service.get_aliases(session, entity_id=row.id)
    relations = await entity_service.get_relations(session, entity_id=row.id)
    articles, events = await entity_service.get_counts(session, entity_id=row.id)
    read = EntityRead(
        **EntitySummary.model_validate(row).model_dump(),
        aliases=[
            AliasRead(
                name=alias.name,
                language=alias.language,
                kind=alias.kind,
                used_by=EntityRef.model_validate(party) if party else None,
            )
            for alias, party in aliases
        ],
        relations=[
            RelationRead(
                kind=relation.kind,
                direction="outgoing" if outgoing else "incoming",
                role=relation.role,
                other=EntityRef.model_validate(other),
                time=TimeRead.of(relation),
            )
            for relation, other, outgoing in relations
        ],
        counts=EntityCounts(articles=articles, events=events),
    )
    return json_with_etag(request, read)
