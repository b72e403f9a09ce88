from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.changes import service as change_service
from api.changes.schemas import ChangePage, ChangeRead
from api.shared.deps import SessionDep
from api.shared.errors import problem_responses
from api.shared.http_cache import json_with_etag
from api.shared.pagination import DEFAULT_LIMIT, keyset_for
from api.shared.params import Limit
from api.shared.routing import ApiRoute
from db.enums import ResourceType

router = APIRouter(prefix="/changes", tags=["changes"], route_class=ApiRoute)


@router.get(
    "",
    response_model=ChangePage,
    summary="Changes since a position",
    responses=problem_responses(400, 410),
)
async def list_changes(
    request: Request,
    session: SessionDep,
    resource_type: Annotated[
        list[ResourceType] | None,
        Query(alias="type", max_length=6, description="Only these resources; repeat for more."),
    ] = None,
    after: Annotated[
        str | None,
        Query(max_length=2000, description="`next_cursor` of the previous page: changes after it."),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    """Every committed create, update and delete of articles, entities, events, statements,
    disputes and sources, in the order they became visible, from every write path (the API,
    the seed loader, the bulk import). A change to a part (an alias, a participant, a party,
    evidence, a mention) is an `update` of the resource it belongs to; one transaction gives at
    most one change per resource, its net effect. A deletion is a tombstone with the last slug.

    Poll with `after` set to the last `next_cursor`: no change is ever skipped or repeated,
    however writers' transactions interleave, because a change appears only once every
    transaction that began before it has ended. Changes are kept for `change_retention_days`
    (90 by default); a cursor older than that is 410 `changes_expired`: re-sync from
    `GET /v1/export` (read the feed to its end first, keep that cursor, export, then follow
    the feed from the cursor)."""
    keyset = keyset_for(request, change_service.FEED_ORDER)
    rows, position, more = await change_service.read_changes(
        session, types=resource_type or [], after=keyset.start(after), limit=limit
    )
    next_cursor = keyset.encode(position) if position is not None else None
    page = ChangePage(
        items=[ChangeRead.model_validate(row) for row in rows],
        next_cursor=next_cursor,
        has_more=more,
    )
    response = json_with_etag(request, page)
    if more and next_cursor is not None:
        url = request.url.include_query_params(after=next_cursor)
        response.headers["Link"] = f'<{url}>; rel="next"'
    return response
