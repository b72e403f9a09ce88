"""How a process hears that a writing transaction committed changes: one poll, not a NOTIFY.

The change feed's rows (and the webhook deliveries the outbox trigger writes with them) come
with an id from one sequence. One task per process reads `max(change.id)`, a backward scan of
one index entry, every `change_poll_interval` seconds (50 ms by default) while anything in the
process follows the feed — change streams (api/changes/stream.py), the webhook worker
(api/webhooks/worker.py) — and wakes them all when it moved. A change reaches them at most one
interval after its commit.

Why not LISTEN/NOTIFY, as before: a transaction that has called `pg_notify` takes a lock global
to the whole cluster at commit and holds it through its WAL flush, so every writing
transaction committed one after the other, never in a group: 32 concurrent writers committed
no faster than one (bench/commits.py; docs/operations.md). The triggers no longer notify (the
migration `notify from one place`); polling costs each process a query per interval, whatever
the write rate, and writers nothing.

A watch that cannot reach the database says so once and wakes its followers at every interval
(they read, fail or find nothing, and go on), so nothing waits for a connection that is gone.
"""

import asyncio
import contextlib
import logging

import asyncpg

from api.settings import Settings
from db.session import connection_dsn

logger = logging.getLogger(__name__)

_LATEST = "SELECT max(id) FROM change"
_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


class ChangeWatch:
    """Wakes whoever waits when the newest change id moves (one poll per interval)."""

    def __init__(self, settings: Settings) -> None:
        assert settings.database_url is not None
        self.interval = settings.change_poll_interval
        self._dsn = connection_dsn(settings.database_url)
        self._connect_timeout = settings.db_connect_timeout
        self._changed = asyncio.Event()
        self._followers = 0
        self._polling: asyncio.Task[None] | None = None
        self._connection: asyncpg.Connection | None = None
        self._failing = False
        self._closed = False

    def follow(self) -> None:
        """Count one more follower; the poll runs while there is any (`unfollow` it)."""
        self._followers += 1
        if self._polling is None and not self._closed:
            self._polling = asyncio.get_running_loop().create_task(self._poll())

    def unfollow(self) -> None:
        self._followers -= 1

    async def wait(self, seconds: float) -> bool:
        """Until new changes are committed (True) or `seconds` pass (False). Only a follower
        waits: the poll runs while someone follows."""
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), seconds)
        except TimeoutError:
            return False
        return not self._closed

    def wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _poll(self) -> None:
        latest: object = None
        first = True
        try:
            while self._followers > 0 and not self._closed:
                try:
                    current = await self._latest()
                except _ERRORS as error:
                    if not self._failing:
                        logger.warning("change watch: cannot read the feed (%s); retrying", error)
                    self._failing = True
                    await self._disconnect()
                    self.wake()  # followers look for themselves, and see the database fail
                else:
                    self._failing = False
                    # The first look wakes everyone too: a change may have committed between
                    # a follower's last read and the poll's start.
                    if first or current != latest:
                        self.wake()
                    latest, first = current, False
                await asyncio.sleep(self.interval)
        finally:
            self._polling = None
            await self._disconnect()
        # A follower that came between the loop's last check and now needs a poll again
        # (unless `follow` started one meanwhile, while the connection closed).
        if self._followers > 0 and not self._closed and self._polling is None:
            self._polling = asyncio.get_running_loop().create_task(self._poll())

    async def _latest(self) -> object:
        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(
                self._dsn,
                timeout=self._connect_timeout,
                server_settings={"application_name": "newsgraph-change-watch"},
            )
        return await self._connection.fetchval(_LATEST, timeout=max(self.interval, 5.0))

    async def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)

    async def close(self) -> None:
        """At shutdown: waiters return at once, and the poll stops."""
        self._closed = True
        self.wake()
        polling = self._polling
        if polling is not None:
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
        await self._disconnect()
