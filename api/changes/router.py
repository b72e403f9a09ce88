import hashlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from api.changes import service as change_service
from api.changes.schemas import ChangePage, ChangeRead
from api.changes.stream import EVENT_STREAM, change_events
from api.shared.deps import SessionDep
from api.shared.errors import problem_responses
from api.shared.http_cache import json_with_etag
from api.shared.pagination import DEFAULT_LIMIT, Keyset
from api.shared.params import Limit
from api.shared.routing import PrimaryRoute
from db.enums import ResourceType

# On the primary even with read replicas: a client that pages the feed from one replica and
# then another would see a change that one has not replayed yet as skipped.
router = APIRouter(prefix="/changes", tags=["changes"], route_class=PrimaryRoute)

ResourceTypes = Annotated[
    list[ResourceType] | None,
    Query(alias="type", max_length=6, description="Only these resources; repeat for more."),
]
After = Annotated[
    str | None,
    Query(max_length=2000, description="`next_cursor` of the previous page: changes after it."),
]


def _feed_keyset(request: Request, types: list[ResourceType]) -> Keyset:
    """The feed's cursors, bound to its `type` filter alone: a cursor from the list is a
    `Last-Event-ID` for the stream, and an event id an `after` for the list."""
    digest = hashlib.sha256(json.dumps(["changes", sorted(types)]).encode()).hexdigest()[:16]
    secret: bytes = request.app.state.settings.cursor_secret.encode()
    return Keyset(change_service.FEED_ORDER, secret=secret, query_digest=digest)


@router.get(
    "",
    response_model=ChangePage,
    summary="Changes since a position",
    responses=problem_responses(400, 410),
)
async def list_changes(
    request: Request,
    session: SessionDep,
    resource_type: ResourceTypes = None,
    after: After = None,
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
    keyset = _feed_keyset(request, resource_type or [])
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


@router.get(
    "/stream",
    summary="Changes as they happen (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "A `text/event-stream`: one `change` event per change (its `data` a "
            "Change, its `id` the cursor after it), a `: heartbeat` comment on a quiet stream.",
            "content": {EVENT_STREAM: {"schema": {"type": "string"}}},
            "headers": {
                "Cache-Control": {
                    "description": "`no-store`: a stream is never cached.",
                    "required": True,
                    "schema": {"type": "string"},
                },
                "X-Accel-Buffering": {
                    "description": "`no`: a proxy that buffers (nginx) passes each event on.",
                    "required": True,
                    "schema": {"type": "string"},
                },
            },
        },
        **problem_responses(400, 410, 503),
    },
)
async def stream_changes(
    request: Request,
    resource_type: ResourceTypes = None,
    after: After = None,
    last_event_id: Annotated[
        str | None,
        Header(
            max_length=2000,
            description="The `id` of the last event received: the stream resumes after it "
            "(a browser's EventSource sends it when it reconnects). Wins over `after`.",
        ),
    ] = None,
) -> StreamingResponse:
    """The change feed of `GET /v1/changes`, pushed: every change after the position given
    (`Last-Event-ID`, else `after`, else the start of what is kept), then each one as its
    transaction commits, with the same order, filters and guarantee (never skipped or
    repeated, also across reconnections). Each process serves at most
    `change_stream_max_clients` streams (503 `stream_busy` beyond)."""
    types = resource_type or []
    keyset = _feed_keyset(request, types)
    start = keyset.start(last_event_id if last_event_id is not None else after)
    hub = request.app.state.change_hub
    hub.take()  # 503 before any byte is sent, when every place is taken
    try:
        # Read once before answering: a database that cannot be reached is a 503, and a
        # cursor before what is kept a 410, rather than a stream that ends at once.
        async with request.app.state.read_sessionmaker() as session:
            await change_service.read_changes(session, types=types, after=start, limit=1)
    except BaseException:
        hub.release()
        raise

    return _HeldStream(
        change_events(hub, request.app.state.read_sessionmaker, keyset, types=types, after=start),
        release=hub.release,
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


class _HeldStream(StreamingResponse):
    """A stream that gives its place back however it ends: run to its end, cut by the
    client, cancelled at shutdown."""

    def __init__(
        self, content: AsyncIterator[bytes], *, release: Callable[[], None], **kwargs: Any
    ) -> None:
        super().__init__(content, **kwargs)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()
