"""Fixtures: a real PostgreSQL database, migrated once per session (per xdist worker), and each
test inside a transaction that is rolled back at its end.

TEST_DATABASE_URL names the database to use (it is dropped and re-created); unset, the
embedded server under .data/ is started and `newsgraph_test` is used.
"""

import asyncio
import gc
import os
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from fastapi import FastAPI, Request
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.main import create_app
from api.settings import Settings
from api.shared.auth import create_key
from api.shared.deps import get_session
from db import embedded, migrate
from db.database import drop_database, ensure_database
from db.enums import ApiKeyScope
from db.models import Article
from db.session import async_url, create_engine
from tests.support.factories import make_article, make_entity, make_source
from tests.support.writing import ARTICLE, BODY

# Tests send requests far faster than any client should, so rate limiting is off in every
# app they build and every server they start (those inherit the environment);
# tests/test_ratelimit.py turns it on explicitly.
os.environ["NEWSGRAPH_RATE_LIMIT_ENABLED"] = "false"


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


def freeze_what_is_alive() -> None:
    """Everything alive now (the imported modules: FastAPI, SQLAlchemy, pydantic, Hypothesis,
    Schemathesis...) leaves the collector's full passes, which otherwise walk it every time
    the tests' garbage triggers one: pauses of 0.5-0.7 s that tripped the timing-bound tests
    (a 2 s readiness timeout, a one-second rate-limit window) now and then."""
    gc.collect()
    gc.freeze()


def pytest_collection_finish(session: pytest.Session) -> None:
    freeze_what_is_alive()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _server_url() -> URL:
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        return async_url(configured)
    return async_url(embedded.start(Settings().data_dir)).set(database="newsgraph_test")


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


@pytest.fixture(scope="session")
async def database_url() -> str:
    url = await fresh_database()
    await run_migration(migrate.upgrade, url)
    return url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        # Code under test may commit: with create_savepoint that only releases a savepoint,
        # and the outer transaction is rolled back below, so no test sees another's rows.
        session = AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings.model_validate({"DATABASE_URL": database_url})


@asynccontextmanager
async def client_for(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """An HTTP client speaking to `app` in process; the app's own pool is closed afterwards."""
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await app.state.engine.dispose()


@pytest.fixture
def app(settings: Settings, session: AsyncSession) -> FastAPI:
    app = create_app(settings)
    app.state.test_session = session
    app.dependency_overrides[get_session] = _test_session
    return app


async def _test_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The test's session for every request of its app. At module level: FastAPI caches
    dependency functions, so a closure per test would keep its session alive to the end."""
    session: AsyncSession = request.app.state.test_session
    yield session
    await session.commit()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with client_for(app) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def writer(session: AsyncSession) -> dict[str, str]:
    """Headers with a fresh API key that may write."""
    _, key = await create_key(session, name="desk", scopes=[ApiKeyScope.WRITE])
    return bearer(key)


@pytest.fixture
async def reader(session: AsyncSession) -> dict[str, str]:
    """Headers with a fresh API key that may only read."""
    _, key = await create_key(session, name="reader", scopes=[ApiKeyScope.READ])
    return bearer(key)


@pytest.fixture
async def call(session: AsyncSession) -> Article:
    """The Kyodo article, Japan and Russia: what request bodies refer to."""
    source = await make_source(session)
    await make_entity(session, "japan", "Japan")
    await make_entity(session, "russia", "Russia")
    return await make_article(session, source, ARTICLE, BODY)
