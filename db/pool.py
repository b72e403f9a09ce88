"""A connection pool that serves waiting requests first come, first served.

SQLAlchemy's asyncio pool keeps its idle connections in an `asyncio.Queue`. A connection
returned while requests wait wakes the first of them, but a request that asks for one before
that waiter runs takes it, and the waiter goes back to the end of the line. So when a worker
has more requests in flight than connections, some are passed over again and again: one
worker with a pool of 4 and 16 clients answered the dispute timeline's p99 in 115-150 ms
against a p50 of 21 (bench/README.md, eleventh round), and a request passed over long enough
gets 503 after `pool_timeout` while later ones are served (SQLAlchemy issue 7679 describes
the same for threads). Here a returned connection goes straight to the request that has
waited longest, and a new request takes an idle connection only when nobody waits. The
pool's size, overflow, timeout, LIFO order and checks are QueuePool's, unchanged.
"""

import asyncio
from collections import deque
from typing import Any

from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util import await_only
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty, Full


class FairQueue(AsyncAdaptedQueue[ConnectionPoolEntry]):
    """The pool's idle connections, handed to waiters in the order they came."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._items: deque[ConnectionPoolEntry] = deque()
        self._waiters: deque[asyncio.Future[ConnectionPoolEntry]] = deque()

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._items)

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: ConnectionPoolEntry) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # not given up (timed out, cancelled)
                waiter.set_result(item)
                return
        if self.full():
            raise Full()
        self._items.append(item)

    def put(self, item: ConnectionPoolEntry, block: bool = True, timeout: Any = None) -> None:
        # The pool only ever returns a connection without blocking; a full queue closes it.
        self.put_nowait(item)

    def get_nowait(self) -> ConnectionPoolEntry:
        # Idle connections are only ever there while nobody waits: `put_nowait` hands a
        # returned one to the first waiter rather than queueing it.
        if not self._items:
            raise Empty()
        return self._items.pop() if self.use_lifo else self._items.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> ConnectionPoolEntry:
        if self._items or not block:
            return self.get_nowait()
        try:
            return await_only(self._wait(timeout))
        except TimeoutError as error:
            raise Empty() from error

    async def _wait(self, seconds: float | None) -> ConnectionPoolEntry:
        waiter: asyncio.Future[ConnectionPoolEntry] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(seconds):
                return await waiter
        except BaseException:
            # Timed out or cancelled (the client hung up): leave the line. A connection
            # handed over in the meantime goes on to the next waiter, or back to the idle ones.
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())
            else:
                waiter.cancel()
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
            raise


class FairAsyncQueuePool(AsyncAdaptedQueuePool):
    """QueuePool for asyncio engines, with waiting checkouts served in order (`FairQueue`)."""

    _queue_class = FairQueue
