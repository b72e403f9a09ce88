from fastapi import APIRouter, Request, Response

from api.deps import SessionDep
from api.errors import problem_responses
from api.http_cache import json_with_etag
from api.lookup import get_by_key
from api.pagination import DEFAULT_LIMIT, keyset_for, page_response
from api.params import Cursor, Limit
from api.sources import service as source_service
from api.sources.schemas import SourcePage, SourceRead
from db.enums import SourceKind
from db.models import Source

router = APIRouter(prefix="/sources", tags=["sources"])


@router.get("", response_model=SourcePage, summary="List sources", responses=problem_responses(400))
async def list_sources(
    request: Request,
    session: SessionDep,
    kind: SourceKind | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Publishers of articles (news agencies, newspapers, broadcasters, ...), by name."""
    keyset = keyset_for(request, source_service.NAME_ORDER)
    after = keyset.start(cursor)
    sources, next_key = await source_service.list_sources(
        session, keyset=keyset, after=after, limit=limit, kind=kind
    )
    items = [SourceRead.model_validate(s) for s in sources]
    return page_response(request, SourcePage, items, keyset, next_key)


@router.get(
    "/{source}",
    response_model=SourceRead,
    summary="Get a source",
    responses=problem_responses(400, 404),
)
async def get_source(request: Request, session: SessionDep, source: str) -> Response:
    """One source by id or slug."""
    row = await get_by_key(session, Source, source, "source")
    return json_with_etag(request, SourceRead.model_validate(row))
