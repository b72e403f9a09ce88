"""The change feed as Server-Sent Events (GET /v1/changes/stream).

Each process holds one `LISTEN newsgraph_changes` connection, shared by all its streams: a
writing transaction notifies the channel when it commits (the change feed migration), and
every stream then reads the feed on from its own position, on a pooled session held only for
that read. No stream polls by itself; between notices it only sends a heartbeat every
`change_stream_heartbeat` seconds, which re-reads the feed too, so nothing waits longer than
that if a notice is missed (the listening connection lost, a change that becomes visible only
when an older transaction ends).

Streams are bounded per process (`change_stream_max_clients`, then 503 `stream_busy`) and in
time (`change_stream_max_seconds`). One ends then, when its client goes, when the database
fails a read, or at shutdown; the client reconnects with `Last-Event-ID` and loses nothing.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import asyncpg
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from api.changes.schemas import ChangeRead
from api.changes.service import position_of, read_changes
from api.settings import Settings
from api.shared.errors import ProblemError
from api.shared.pagination import Keyset
from api.shared.problems import ProblemCode
from db.enums import ResourceType
from db.session import connection_dsn

logger = logging.getLogger(__name__)

CHANNEL = "newsgraph_changes"
EVENT_STREAM = "text/event-stream"
# Changes sent per read; more are read at once after.
_BATCH = 100
# After a notice that brought nothing yet (its transaction is visible only once an older one
# ends), look again this often, at most this many times, before waiting for the heartbeat.
_SETTLING_SECONDS = 0.25
_SETTLING_TRIES = 40


class ChangeHub:
    """The streams of one process and the connection that listens for them."""

    def __init__(self, settings: Settings) -> None:
        assert settings.database_url is not None
        self.limit = settings.change_stream_max_clients
        self.heartbeat = settings.change_stream_heartbeat
        self.lifetime = settings.change_stream_max_seconds
        self.retry_after = settings.retry_after_seconds
        self._connect_timeout = settings.db_connect_timeout
        self._dsn = connection_dsn(settings.database_url)
        self._clients = 0
        self._changed = asyncio.Event()
        self._closed = False
        self._listener: asyncpg.Connection | None = None
        self._listening = asyncio.Lock()

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

    def release(self) -> None:
        self._clients -= 1

    def _notified(self, *_: object) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _lost(self, connection: object) -> None:
        if connection is self._listener:
            self._listener = None
            self._notified()  # every stream reads again now, and again at each heartbeat

    async def _listen(self) -> None:
        """The listening connection, opened when the first stream waits (and after a loss)."""
        async with self._listening:
            if self._listener is not None or self._closed:
                return
            try:
                connection = await asyncpg.connect(self._dsn, timeout=self._connect_timeout)
                await connection.add_listener(CHANNEL, self._notified)
                connection.add_termination_listener(self._lost)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                logger.warning("change stream: cannot listen; streams read at each heartbeat")
                return
            self._listener = connection

    async def wait(self, seconds: float) -> bool:
        """Until a writing transaction commits (True) or `seconds` pass (False)."""
        await self._listen()
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), seconds)
        except TimeoutError:
            return False
        return not self._closed

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """At shutdown: every stream ends at its next step, and the listener closes."""
        self._closed = True
        self._notified()
        if self._listener is not None:
            listener, self._listener = self._listener, None
            with contextlib.suppress(Exception):
                await listener.close(timeout=2)


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
