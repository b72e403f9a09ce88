"""Reads sent straight to asyncpg (api/shared/rows.py): the same answers as through the ORM
session, the same errors, one connection a request (checked out once, returned when the
request ends), and a connection returned clean when a statement fails or is cancelled
half-way."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI, Request
from httpx import AsyncClient
from sqlalchemy import (
    BindParameter,
    Enum,
    Executable,
    Select,
    String,
    bindparam,
    event,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.exc import DBAPIError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.compiler import SQLCompiler

from api.main import create_app
from api.settings import Settings
from api.shared import rows
from api.shared.deps import get_session
from db.enums import EntityKind, ParticipantRole
from db.session import create_engine
from tests.support.clients import client_for
from tests.support.database import connect, counting_statements, migrated_database
from tests.support.factories import (
    add_participant,
    add_to_timeline,
    make_article,
    make_dispute,
    make_entity,
    make_event,
    make_source,
    mention_all,
)


@pytest.fixture(scope="module")
async def url() -> str:
    """A committed corpus of the module's own: direct reads use pooled connections of their
    own, which would not see the rows of a test's open transaction."""
    database_url = await migrated_database("direct_reads")
    engine = create_engine(database_url)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        source = await make_source(session)
        hub = await make_entity(session, "hub", "Hub")
        other = await make_entity(session, "other", "Other Place", EntityKind.TERRITORY)
        other.external_ids = {"wikidata": "Q17"}
        for day in range(1, 26):
            article = await make_article(
                session,
                source,
                f"story-{day}",
                f"Hub met Other Place on day {day}.",
                published_at=datetime(2021, 10, day, 9, tzinfo=UTC),
            )
            await mention_all(session, article, hub)
            if day % 3 == 0:
                await mention_all(session, article, other)
        for year in (2019, 2020, 2021):
            event = await make_event(session, f"meeting-{year}", str(year), title="Hub meets")
            await add_participant(session, event, hub, ParticipantRole.ACTOR)
            await add_participant(session, event, other, ParticipantRole.TARGET)
        dispute = await make_dispute(session, "main", "Main dispute")
        await add_to_timeline(session, dispute, event)
        await session.commit()
    await engine.dispose()
    return database_url


PATHS = [
    "/v1/articles/story-3",
    "/v1/articles/story-3?include=mentions&include=events",
    "/v1/articles?limit=7",
    "/v1/articles?entity=hub&limit=5",
    "/v1/articles?entity=hub&entity=other",
    "/v1/articles?q=met&limit=4",
    "/v1/entities?q=hub",
    "/v1/entities?q=oth&kind=territory",
    "/v1/entities?limit=1",
    "/v1/entities?wikidata=Q17",
    "/v1/entities?q=h_b%25",
    "/v1/entities/hub",
    "/v1/entities/hub/articles?limit=3",
    "/v1/entities/hub/related",
    "/v1/events?limit=2",
    "/v1/events?participant=hub&from=2019&to=2020",
    "/v1/disputes/main/timeline",
    "/v1/search?q=hub",
    "/v1/search?q=met&type=article&type=entity&limit=3",
]


async def _orm_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A plain autocommit session: every statement through SQLAlchemy's execution path."""
    async with AsyncSession(
        request.app.state.engine.execution_options(isolation_level="AUTOCOMMIT")
    ) as session:
        yield session


async def _pages(client: AsyncClient, path: str) -> list[tuple[int, str]]:
    """The response to `path` and, for a list, to each following page."""
    answers = []
    while True:
        response = await client.get(path)
        answers.append((response.status_code, response.text))
        cursor = response.json().get("next_cursor") if response.status_code == 200 else None
        if not cursor:
            return answers
        path = f"{path.split('&cursor=')[0]}&cursor={cursor}"


async def test_direct_reads_answer_exactly_what_the_orm_path_answers(url: str) -> None:
    settings = Settings.model_validate({"DATABASE_URL": url})
    direct_app = create_app(settings)
    orm_app = create_app(settings)
    orm_app.dependency_overrides[get_session] = _orm_session
    async with client_for(direct_app) as direct, client_for(orm_app) as orm:
        for path in PATHS:
            paged = path if "?" in path else f"{path}?"
            expected = await _pages(orm, paged)
            assert expected[0][0] == 200, (path, expected[0][1][:500])
            assert await _pages(direct, paged) == expected, path


async def test_a_direct_read_is_one_statement_and_seen_by_statement_listeners(url: str) -> None:
    app = create_app(Settings.model_validate({"DATABASE_URL": url}))
    engine: AsyncEngine = app.state.engine
    async with client_for(app) as client:
        with counting_statements(engine) as statements:
            response = await client.get("/v1/articles/story-3")

    assert response.status_code == 200
    assert len(statements) == 1
    assert statements[0].lstrip().startswith("SELECT")


async def test_a_read_checks_out_one_connection_for_all_its_statements(url: str) -> None:
    app = create_app(Settings.model_validate({"DATABASE_URL": url}))
    engine: AsyncEngine = app.state.engine
    pool = engine.sync_engine.pool
    checkouts: list[object] = []

    def record(*args: object) -> None:
        checkouts.append(args[0])

    event.listen(pool, "checkout", record)
    try:
        async with client_for(app) as client:
            with counting_statements(engine) as statements:
                response = await client.get("/v1/disputes/main/timeline?count=exact")
            assert response.status_code == 200, response.text
            assert len(statements) == 2  # the page, then its count
            assert len(checkouts) == 1
            assert checked_out(engine) == 0  # returned when the request ended
    finally:
        event.remove(pool, "checkout", record)


def checked_out(engine: AsyncEngine) -> int:
    """How many of `engine`'s pooled connections are out of the pool."""
    pool = engine.sync_engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


def _app_with_a_pool_of_one(url: str) -> FastAPI:
    """The app with one pooled connection: a request asking for a second waits 1 s, then
    fails."""
    return create_app(
        Settings.model_validate(
            {"DATABASE_URL": url, "db_pool_size": 1, "db_max_overflow": 0, "db_pool_timeout": 1}
        )
    )


def _read_session(engine: AsyncEngine) -> rows.ReadSession:
    return rows.ReadSession(engine.execution_options(isolation_level="AUTOCOMMIT"))


async def _read(engine: AsyncEngine, statement: Executable) -> list[dict[str, object]]:
    """`statement`'s rows in a read session of its own, closed after it (as the route does)."""
    async with _read_session(engine) as session:
        return await rows.fetch(session, statement)


async def test_a_statement_timeout_is_the_error_sqlalchemy_raises(url: str) -> None:
    engine = create_engine(url, statement_timeout_ms=100)
    try:
        async with _read_session(engine) as session:
            with pytest.raises(DBAPIError) as raised:
                await rows.fetch(session, select(func.pg_sleep(2)))
            assert getattr(raised.value.orig, "sqlstate", None) == "57014"
            # The request's connection is still usable after the error.
            assert await rows.fetch(session, select(func.now().label("now")))
        assert checked_out(engine) == 0
    finally:
        await engine.dispose()


@dataclass
class Sleeping:
    """A direct read running `pg_sleep(5)` on the one connection of `engine`'s pool, with
    another connection (`observer`) to watch and disturb it from outside."""

    engine: AsyncEngine
    observer: asyncpg.Connection
    statement: asyncio.Task[list[dict[str, object]]]

    async def read_now(self) -> list[dict[str, object]]:
        return await _read(self.engine, select(func.now().label("now")))


@pytest.fixture
async def sleeping(url: str) -> AsyncIterator[Sleeping]:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    observer = await connect(url)
    statement = asyncio.create_task(_read(engine, select(func.pg_sleep(5))))
    try:
        await _wait_for(observer, SLEEPING)
        yield Sleeping(engine, observer, statement)
    finally:
        statement.cancel()
        await asyncio.gather(statement, return_exceptions=True)
        await observer.close()
        await engine.dispose()


async def test_a_connection_lost_mid_statement_is_invalidated_not_reused(
    sleeping: Sleeping,
) -> None:
    await sleeping.observer.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name = 'newsgraph'"
        " AND query LIKE '%pg_sleep%'"
        " AND pid <> pg_backend_pid()"
    )
    with pytest.raises(DBAPIError) as raised:
        await sleeping.statement
    assert raised.value.connection_invalidated
    # The one pooled connection was replaced: the next read works.
    assert len(await sleeping.read_now()) == 1


async def test_a_cancelled_statement_leaves_its_connection_clean(sleeping: Sleeping) -> None:
    sleeping.statement.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sleeping.statement
    # The pool's one connection serves the next reads, none of them inside a transaction.
    for _ in range(5):
        assert len(await sleeping.read_now()) == 1
    assert await sleeping.observer.fetchval(IDLE_IN_TRANSACTION) == 0


async def test_every_read_holds_one_connection_whatever_mix_of_orm_and_direct(url: str) -> None:
    """With a pool of one, a request that asked for a second connection would wait for its
    first and time out: `/v1/entities/{id}/articles` loads the entity through the ORM, then the
    page directly; `/v1/events/{id}` finds the event directly, then loads it with the ORM."""
    app = _app_with_a_pool_of_one(url)
    paths = [
        *PATHS,
        "/v1/events/meeting-2021",
        "/v1/disputes/main",
        "/v1/entities/hub/articles?limit=2",
    ]
    async with client_for(app) as client:
        for _ in range(2):
            for path in paths:
                response = await client.get(path)
                assert response.status_code == 200, (path, response.text)
    assert checked_out(app.state.engine) == 0


_APP_SESSIONS = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND application_name = 'newsgraph'"
)
SLEEPING = _APP_SESSIONS + " AND query LIKE '%pg_sleep%' AND state = 'active'"
WAITING_ON_A_LOCK = _APP_SESSIONS + " AND wait_event_type = 'Lock'"
IDLE_IN_TRANSACTION = _APP_SESSIONS + " AND state LIKE 'idle in transaction%'"


async def _wait_for(observer: asyncpg.Connection, sessions: str) -> None:
    """Until the count query `sessions` finds one of the app's sessions."""
    for _ in range(200):
        if await observer.fetchval(sessions):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"none found: {sessions}")


async def test_a_read_cancelled_while_it_holds_its_connection_returns_it_clean(url: str) -> None:
    """The timeline's statements wait on a lock; the request is cancelled (a server cutting
    it off at shutdown) after its first statements ran on its held connection. The pool's only
    connection comes back out of any transaction and serves the next reads."""
    app = _app_with_a_pool_of_one(url)
    observer = await connect(url)
    try:
        async with client_for(app) as client:
            assert (await client.get("/v1/disputes/main/timeline")).status_code == 200
            locker = await connect(url)
            try:
                transaction = locker.transaction()
                await transaction.start()
                await locker.execute("LOCK TABLE evidence IN ACCESS EXCLUSIVE MODE")
                read = asyncio.create_task(client.get("/v1/disputes/main/timeline"))
                await _wait_for(observer, WAITING_ON_A_LOCK)
                read.cancel()
                await asyncio.gather(read, return_exceptions=True)
                await transaction.rollback()
            finally:
                await locker.close()
            assert checked_out(app.state.engine) == 0
            for _ in range(3):
                assert (await client.get("/v1/disputes/main/timeline")).status_code == 200
            assert await observer.fetchval(IDLE_IN_TRANSACTION) == 0
    finally:
        await observer.close()


def _old_style_arguments(statement: Select[Any], parameters: dict[str, Any]) -> tuple[Any, ...]:
    """What SQLAlchemy itself sends: `construct_params`, then each type's bind processor."""
    compiled = statement.compile(dialect=PGDialect_asyncpg())  # type: ignore[no-untyped-call]
    assert isinstance(compiled, SQLCompiler)
    values = compiled.construct_params(parameters)
    processors = compiled._bind_processors
    assert compiled.positiontup is not None
    arguments = []
    for name in compiled.positiontup:
        process = processors.get(name)
        assert process is None or callable(process)
        arguments.append(values[name] if process is None else process(values[name]))
    return tuple(arguments)


def test_direct_arguments_are_what_sqlalchemy_would_send() -> None:
    """Defaults written into the statement, a parameter used twice, a bind processor (an enum
    sent as its name, a JSON value as text), a parameter left out that must be given."""
    dialect = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
    kinds = Enum(EntityKind, name="entity_kind")
    limit: BindParameter[int] = bindparam("limit", 20)
    statement = (
        select(func.count())
        .where(
            bindparam("kind", type_=kinds) == literal("person", kinds),
            bindparam("doc", type_=JSONB) != bindparam("doc", type_=JSONB),
            func.coalesce(bindparam("note", None, type_=String), "x") == "y",
        )
        .limit(limit)
    )
    direct = rows._compile(statement, dialect)
    assert direct is not None
    for parameters in (
        {"kind": EntityKind.TERRITORY, "doc": {"a": [1, "é"]}},
        {"kind": EntityKind.PERSON, "doc": None, "limit": 3, "note": "n"},
    ):
        assert direct.arguments(parameters) == _old_style_arguments(statement, parameters)

    with pytest.raises(InvalidRequestError, match="'kind'"):
        direct.arguments({"doc": None})
