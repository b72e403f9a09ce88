"""Databases of a test's own on the test server, and what tests do with them: migrate, connect
with asyncpg, count the statements an engine sends.

TEST_DATABASE_URL names the server and the session's database (dropped and re-created); unset,
the embedded server under .data/ is started and `newsgraph_test` is used.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from api.settings import Settings
from db import embedded, migrate
from db.database import drop_database, ensure_database
from db.session import async_url, connection_dsn


@contextmanager
def counting_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements sent through `engine` while the block runs."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def _server_url() -> URL:
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        return async_url(configured)
    # Imported here: the guard is a plugin, and pytest must load it before anything imports it.
    from tests.support import process_guard

    with process_guard.allowed():  # the session's server, whichever test first needs it
        server = embedded.start(Settings().data_dir)
    return async_url(server).set(database="newsgraph_test")


def _worker_database(url: URL, suffix: str = "") -> URL:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    name = "_".join(part for part in (url.database, worker, suffix) if part)
    return url.set(database=name)


async def fresh_database(suffix: str = "") -> str:
    """A newly created, empty database on the test server."""
    url = _worker_database(_server_url(), suffix)
    await drop_database(url)
    await ensure_database(url)
    return url.render_as_string(hide_password=False)


async def run_migration(step: Callable[..., None], *args: str) -> None:
    """Alembic's env.py runs its own event loop, so it gets a thread without one."""
    await asyncio.to_thread(step, *args)


async def migrated_database(suffix: str) -> str:
    url = await fresh_database(suffix)
    await run_migration(migrate.upgrade, url)
    return url


@asynccontextmanager
async def scratch_database(prefix: str) -> AsyncIterator[str]:
    """A migrated database of one test's own (a random name, so a test may have several),
    dropped when the test ends, whatever is still connected to it."""
    url = await migrated_database(f"{prefix}_{uuid.uuid4().hex[:8]}")
    try:
        yield url
    finally:
        await drop_database(make_url(url))


async def connect(url: str) -> asyncpg.Connection:
    dsn = connection_dsn(url)
    return await asyncpg.connect(dsn)
