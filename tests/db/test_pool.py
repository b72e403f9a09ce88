"""The API's connection pool serves waiting requests in the order they came (db/pool.py)."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.session import create_engine

# Long enough for a task to reach the pool and wait there, on a busy machine.
SETTLE = 0.2


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The API's engine with a single pooled connection and no overflow."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=5)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _use(engine: AsyncEngine, name: str, served: list[str]) -> None:
    async with engine.connect() as connection:
        served.append(name)
        await connection.exec_driver_sql("SELECT 1")


async def _waiting(
    engine: AsyncEngine, served: list[str], *names: str
) -> tuple[AsyncConnection, list[asyncio.Task[None]]]:
    """The pool's connection checked out, then a request for each of `names`, each waiting
    in the pool before the next one asks."""
    holder = await engine.connect()
    waiting = []
    for name in names:
        waiting.append(asyncio.create_task(_use(engine, name, served)))
        await asyncio.sleep(SETTLE)
    return holder, waiting


def _pool_counts(engine: AsyncEngine) -> tuple[int, int]:
    pool = engine.sync_engine.pool
    return pool.checkedin(), pool.checkedout()  # type: ignore[attr-defined]


async def test_a_returned_connection_goes_to_whoever_waited_longest(
    one_connection: AsyncEngine,
) -> None:
    """A request that asks for a connection just as one comes back (here the very request
    that returned it) queues behind those already waiting, rather than take it from them."""
    served: list[str] = []
    holder, waiting = await _waiting(one_connection, served, "first", "second")

    await holder.close()
    await _use(one_connection, "holder again", served)
    await asyncio.gather(*waiting)

    assert served == ["first", "second", "holder again"]
    assert _pool_counts(one_connection) == (1, 0)


async def test_a_waiter_that_times_out_leaves_the_line_and_loses_nothing(
    database_url: str,
) -> None:
    engine = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.3)
    try:
        served: list[str] = []
        holder = await engine.connect()
        with pytest.raises(exc.TimeoutError):
            await _use(engine, "gave up", served)
        later = asyncio.create_task(_use(engine, "later", served))
        await asyncio.sleep(SETTLE / 2)

        await holder.close()
        await later

        assert served == ["later"]
        assert _pool_counts(engine) == (1, 0)
    finally:
        await engine.dispose()


async def test_a_cancelled_waiter_passes_on_a_connection_handed_to_it(
    one_connection: AsyncEngine,
) -> None:
    """A request cancelled (its client hung up) just after a connection was handed to it,
    before it ran again: the connection goes on to the next waiter, not lost to the pool."""
    served: list[str] = []
    holder, (cancelled, next_one) = await _waiting(one_connection, served, "cancelled", "next")

    await holder.close()  # hands the connection to `cancelled`, which has not run since
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    await asyncio.wait_for(next_one, timeout=5)

    assert served == ["next"]
    assert _pool_counts(one_connection) == (1, 0)


async def test_a_cancelled_waiter_leaves_the_line(one_connection: AsyncEngine) -> None:
    served: list[str] = []
    holder, (cancelled,) = await _waiting(one_connection, served, "cancelled")
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled

    await holder.close()
    await asyncio.wait_for(_use(one_connection, "after", served), timeout=5)

    assert served == ["after"]
    assert _pool_counts(one_connection) == (1, 0)
