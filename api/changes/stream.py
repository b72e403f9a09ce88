"""The change feed as Server-Sent Events (GET /v1/changes/stream).

The streams of a process hear of new changes from its one ChangeWatch
(api/shared/change_watch.py), which polls the feed's newest id every `change_poll_interval`
seconds while any stream is open; every stream then reads the feed on from its own position, on
a pooled session held only for that read. Between changes a stream sends a heartbeat every
`change_stream_heartbeat` seconds, which re-reads the feed too; a change that becomes visible
only when an older transaction ends is looked for again every quarter second for ten seconds
(`_SETTLING_SECONDS`), then at each heartbeat.

Streams are bounded per process (`change_stream_max_clients`, then 503 `stream_busy`) and in
time (`change_stream_max_seconds`). One ends then, when its client goes, when the database
fails a read, or at shutdown; the client reconnects with `Last-Event-ID` and loses nothing.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from api.changes.schemas import ChangeRead
from api.changes.service import position_of, read_changes
from api.settings import Settings
from api.shared.change_watch import ChangeWatch
from api.shared.errors import ProblemError
from api.shared.pagination import Keyset
from api.shared.problems import ProblemCode
from db.enums import ResourceType

logger = logging.getLogger(__name__)

EVENT_STREAM = "text/event-stream"
# Changes sent per read; more are read at once after.
_BATCH = 100
# After a notice that brought nothing yet (its transaction is visible only once an older one
# ends), look again this often, at most this many times, before waiting for the heartbeat.
_SETTLING_SECONDS = 0.25
_SETTLING_TRIES = 40


class ChangeHub:
    """The streams of one process; they hear of new changes from its ChangeWatch."""

    def __init__(self, settings: Settings, watch: ChangeWatch) -> None:
        self.limit = settings.change_stream_max_clients
        self.heartbeat = settings.change_stream_heartbeat
        self.lifetime = settings.change_stream_max_seconds
        self.retry_after = settings.retry_after_seconds
        self._watch = watch
        self._clients = 0
        self._closed = False

    @property
    def clients(self) -> int:
        return self._clients

    def take(self) -> None:
        """A stream's place, or 503 `stream_busy` when every one is taken; `release` it."""
        if self._clients >= self.limit:
            raise ProblemError(
                ProblemCode.STREAM_BUSY,
                f"{self.limit} change streams are already open on this server, the most it "
                "serves at once; retry shortly, or poll GET /v1/changes.",
                headers={"Retry-After": str(self.retry_after)},
            )
        self._clients += 1
        self._watch.follow()

    def release(self) -> None:
        self._clients -= 1
        self._watch.unfollow()

    async def wait(self, seconds: float) -> bool:
        """Until new changes are committed (True) or `seconds` pass (False)."""
        return await self._watch.wait(seconds) and not self._closed

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """At shutdown: every stream ends at its next step."""
        self._closed = True
        self._watch.wake()


def _event(keyset: Keyset, row: dict[str, Any]) -> bytes:
    data = ChangeRead.model_validate(row).model_dump_json()
    return f"id: {keyset.encode(position_of(row))}\nevent: change\ndata: {data}\n\n".encode()


async def change_events(
    hub: ChangeHub,
    sessions: Callable[[], AsyncSession],
    keyset: Keyset,
    *,
    types: Sequence[ResourceType],
    after: Sequence[Any] | None,
) -> AsyncIterator[bytes]:
    """The stream's body: every change after `after`, then each as it commits."""
    position = list(after) if after is not None else None
    # How long a browser waits before it reconnects (with Last-Event-ID) when the stream ends.
    yield b"retry: 2000\n\n"
    settling = 0
    loop = asyncio.get_running_loop()
    ends = loop.time() + hub.lifetime
    while not hub.closed and loop.time() < ends:
        try:
            async with sessions() as session:
                rows, position, more = await read_changes(
                    session, types=types, after=position, limit=_BATCH
                )
        except (DBAPIError, SQLAlchemyError, OSError) as error:
            logger.warning("change stream: the feed could not be read (%s); ending it", error)
            return
        for row in rows:
            yield _event(keyset, row)
        if more:
            continue
        if rows:
            settling = 0
        timeout = _SETTLING_SECONDS if 0 < settling <= _SETTLING_TRIES else hub.heartbeat
        timeout = max(0.0, min(timeout, ends - loop.time()))
        if await hub.wait(timeout):
            settling = 1
        elif 0 < settling <= _SETTLING_TRIES:
            settling += 1
        else:
            settling = 0
            yield b": heartbeat\n\n"
