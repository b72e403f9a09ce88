from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.search import service as search_service
from api.search.presenters import search_hits
from api.search.schemas import HitType, SearchPage
from api.shared.deps import SessionDep
from api.shared.errors import problem_responses
from api.shared.pagination import DEFAULT_LIMIT, keyset_for, page_response
from api.shared.params import Cursor, FullText, Limit, counted, list_parameters
from api.shared.routing import ApiRoute

router = APIRouter(prefix="/search", tags=["search"], route_class=ApiRoute)


@router.get(
    "",
    response_model=SearchPage,
    summary="Search everything",
    responses=problem_responses(400),
    openapi_extra=list_parameters(),
)
async def search(
    request: Request,
    session: SessionDep,
    q: Annotated[FullText, Query(min_length=1, max_length=500, description="What to look for.")],
    type: Annotated[
        list[HitType] | None, Query(description="Only these kinds of hit (repeatable).")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """One ranked list across entities (names and aliases, typo-tolerant), events, disputes
    and articles (full text). Each hit says its type, its score and a highlighted snippet.
    Articles are ranked among the 1,000 newest that match: a word found in most of the
    archive still answers in milliseconds, with the recent coverage first."""
    count = counted(request)
    types = type or list(HitType)
    keyset = keyset_for(request, search_service.ordering(types))
    after = keyset.start(cursor)
    rows, next_key, total = await search_service.search(
        session, q=q, types=types, after=after, limit=limit, count=count
    )
    items = search_hits(rows)
    return page_response(request, SearchPage, items, keyset, next_key, total=total)
