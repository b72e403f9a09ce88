"""Fixtures: a real PostgreSQL database, migrated once per session (per xdist worker), and each
test inside a transaction that is rolled back at its end.

TEST_DATABASE_URL names the database to use (it is dropped and re-created); unset, the
embedded server under .data/ is started and `newsgraph_test` is used.

Only fixtures and hooks live here; what tests import (builders, helpers) is in tests/support/.
"""

import os
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI, Request
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.main import create_app
from api.settings import Settings
from api.shared.auth import create_key
from api.shared.deps import get_session
from db import migrate
from db.enums import ApiKeyScope
from db.models import Article
from db.session import create_engine
from tests.support.clients import bearer, client_for
from tests.support.collector import freeze_what_is_alive
from tests.support.database import fresh_database, run_migration
from tests.support.factories import make_article, make_entity, make_source
from tests.support.writing import ARTICLE, BODY

# A test that starts a process without the `process` marker fails.
pytest_plugins = ["tests.support.process_guard"]

# Tests send requests far faster than any client should, so rate limiting is off in every
# app they build and every server they start (those inherit the environment);
# tests/transport/test_ratelimit.py turns it on explicitly.
os.environ["NEWSGRAPH_RATE_LIMIT_ENABLED"] = "false"


def pytest_collection_finish(session: pytest.Session) -> None:
    freeze_what_is_alive()


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
        # The rollup of entities' articles is refreshed at commit, which this transaction never
        # reaches: at the end of each statement instead (db/models/rollup.py).
        await connection.execute(text("SET CONSTRAINTS rollup_flush IMMEDIATE"))
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
    # A change stream (GET /v1/changes/stream) lasts a second: a test client in process reads
    # a response to its end.
    return Settings.model_validate({"DATABASE_URL": database_url, "change_stream_max_seconds": 1})


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


@pytest.fixture
async def writer(session: AsyncSession) -> dict[str, str]:
    """Headers with a fresh API key that may write."""
    _, key = await create_key(session, name="desk", scopes=[ApiKeyScope.WRITE])
    return bearer(key)


@pytest.fixture
async def admin(session: AsyncSession) -> dict[str, str]:
    """Headers with a fresh API key that may also cascade, overwrite any version (`If-Match:
    *`) and change what the seed files own."""
    _, key = await create_key(session, name="chief", scopes=[ApiKeyScope.ADMIN])
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
