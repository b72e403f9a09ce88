"""Database faults, for real: a server of the tests' own that they stop and start, connections
they kill, locks they hold. Whatever goes wrong, a request ends quickly with a 503
problem+json carrying Retry-After (never a 500, never a hang), and the same app recovers by
itself once the database is back."""

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from httpx import AsyncClient

from api.main import create_app
from api.settings import Settings
from api.shared.auth import issue_key
from db import migrate
from db.database import ensure_database
from db.enums import ApiKeyScope
from tests.support.clients import bearer, client_for
from tests.support.database import run_migration
from tests.support.live_server import LiveServer
from tests.support.private_postgres import PrivatePostgres, private_postgres_in_temp

# Bounds that mean "did not hang", far above what the tests measure (a few milliseconds for a
# stopped database, the configured timeout for the others).
PROMPT_SECONDS = 2.0
RECOVERY_SECONDS = 10.0
NEW_SOURCE = {"slug": "fault-gazette", "name": "Fault Gazette", "kind": "newspaper"}


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    with private_postgres_in_temp("newsgraph-faults-") as server:
        yield server


@pytest.fixture(scope="module")
async def faults_url(private_postgres: PrivatePostgres) -> str:
    url = private_postgres.url.set(database="newsgraph_faults")
    await ensure_database(url)
    rendered = url.render_as_string(hide_password=False)
    await run_migration(migrate.upgrade, rendered)
    return rendered


@pytest.fixture(scope="module")
async def write_key(faults_url: str) -> dict[str, str]:
    return bearer(await issue_key(faults_url, name="faults", scopes=[ApiKeyScope.WRITE]))


@pytest.fixture
async def admin(faults_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection of the test's own, outside the app's pool."""
    connection = await asyncpg.connect(faults_url.replace("+asyncpg", ""))
    try:
        yield connection
    finally:
        await connection.close()


def app_settings(database_url: str, **overrides: Any) -> Settings:
    return Settings.model_validate({"DATABASE_URL": database_url, **overrides})


@asynccontextmanager
async def database_stopped(server: PrivatePostgres) -> AsyncIterator[None]:
    await asyncio.to_thread(server.stop)
    try:
        yield
    finally:
        await asyncio.to_thread(server.start)


@asynccontextmanager
async def table_locked(admin: asyncpg.Connection, table: str) -> AsyncIterator[None]:
    """ACCESS EXCLUSIVE: every statement touching `table`, even a read, waits until the end."""
    transaction = admin.transaction()
    await transaction.start()
    try:
        await admin.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        await transaction.rollback()


async def app_backends(admin: asyncpg.Connection) -> set[int]:
    rows = await admin.fetch(
        "SELECT pid FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = 'newsgraph'"
    )
    return {row["pid"] for row in rows}


async def backend_waiting_on_a_lock(admin: asyncpg.Connection) -> int:
    deadline = time.monotonic() + RECOVERY_SECONDS
    while time.monotonic() < deadline:
        # The admin connection holds the lock in a transaction, and within one transaction
        # pg_stat_activity keeps showing its first snapshot unless told otherwise.
        await admin.execute("SELECT pg_stat_clear_snapshot()")
        pid = await admin.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'newsgraph' AND wait_event_type = 'Lock'"
        )
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.02)
    raise AssertionError("no request of the app is waiting on the lock")


async def timed(request: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started


def assert_unavailable(response: httpx.Response, code: str = "database_unavailable") -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "2"
    problem = response.json()
    assert problem["code"] == code
    assert problem["status"] == 503


async def first_success(client: AsyncClient, path: str) -> float:
    """Seconds until `path` answers 200, asking every 50 ms."""
    started = time.monotonic()
    while time.monotonic() - started < RECOVERY_SECONDS:
        try:
            if (await client.get(path)).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} did not recover within {RECOVERY_SECONDS} s")


@pytest.mark.process
async def test_with_the_database_stopped_requests_get_503_and_the_app_recovers_by_itself(
    private_postgres: PrivatePostgres, faults_url: str, write_key: dict[str, str]
) -> None:
    async with client_for(create_app(app_settings(faults_url))) as client:
        assert (await client.get("/v1/sources")).status_code == 200

        async with database_stopped(private_postgres):
            requests: list[tuple[str, str, dict[str, Any]]] = [
                ("GET", "/v1/sources", {}),
                ("GET", "/v1/entities/japan", {}),
                ("POST", "/v1/sources", {"json": NEW_SOURCE, "headers": write_key}),
            ]
            for method, path, arguments in requests:
                response, seconds = await timed(client.request(method, path, **arguments))
                assert_unavailable(response)
                assert seconds < PROMPT_SECONDS
            ready = await client.get("/readyz")
            assert_unavailable(ready)
            assert (await client.get("/healthz")).status_code == 200

        # The same app instance, no restart: it connects again on its own.
        assert await first_success(client, "/v1/sources") < RECOVERY_SECONDS
        assert (await client.get("/readyz")).status_code == 200
        # The create refused while the database was down wrote nothing.
        assert (await client.get(f"/v1/sources/{NEW_SOURCE['slug']}")).status_code == 404


async def test_a_database_that_never_answers_gives_503_within_the_connect_timeout() -> None:
    silent: list[asyncio.StreamWriter] = []

    async def accept_and_say_nothing(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        silent.append(writer)

    listener = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    settings = app_settings(f"postgresql://nobody@127.0.0.1:{port}/none", db_connect_timeout=0.5)
    try:
        async with client_for(create_app(settings)) as client:
            response, seconds = await timed(client.get("/v1/sources"))
            assert_unavailable(response)
            assert 0.5 <= seconds < PROMPT_SECONDS  # it waited for the timeout, no longer
            assert_unavailable(await client.get("/readyz"))
            assert (await client.get("/healthz")).status_code == 200
    finally:
        for writer in silent:
            writer.close()
        listener.close()
        await listener.wait_closed()


@pytest.mark.process
async def test_an_exhausted_pool_gives_503_within_the_pool_timeout(
    faults_url: str, admin: asyncpg.Connection
) -> None:
    settings = app_settings(faults_url, db_pool_size=1, db_max_overflow=0, db_pool_timeout=0.5)
    async with client_for(create_app(settings)) as client:
        async with table_locked(admin, "source"):
            holder = asyncio.create_task(client.get("/v1/sources"))
            await backend_waiting_on_a_lock(admin)  # it holds the pool's only connection

            response, seconds = await timed(client.get("/v1/entities"))

            assert_unavailable(response)
            assert 0.5 <= seconds < PROMPT_SECONDS
        assert (await holder).status_code == 200
        assert (await client.get("/v1/entities")).status_code == 200


@pytest.mark.process
async def test_statement_timeout_ends_queries_blocked_on_a_lock_and_writes_nothing(
    faults_url: str, admin: asyncpg.Connection, write_key: dict[str, str]
) -> None:
    settings = app_settings(faults_url, db_statement_timeout_ms=300)
    async with client_for(create_app(settings)) as client:
        async with table_locked(admin, "source"):
            read, read_seconds = await timed(client.get("/v1/sources"))
            write, write_seconds = await timed(
                client.post("/v1/sources", json=NEW_SOURCE, headers=write_key)
            )

        assert_unavailable(read, "database_timeout")
        assert_unavailable(write, "database_timeout")
        assert read_seconds < PROMPT_SECONDS
        assert write_seconds < PROMPT_SECONDS
        # The pool's connection survived the cancelled statement, and nothing was written.
        assert (await client.get("/v1/sources")).json()["items"] == []


@pytest.mark.process
async def test_connections_killed_with_pg_terminate_backend_are_replaced(
    faults_url: str, admin: asyncpg.Connection
) -> None:
    async with client_for(create_app(app_settings(faults_url))) as client:
        warm = await asyncio.gather(*(client.get("/v1/sources") for _ in range(4)))
        assert [r.status_code for r in warm] == [200] * 4
        killed = await app_backends(admin)
        assert killed

        await admin.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid", killed)
        deadline = time.monotonic() + RECOVERY_SECONDS
        while await app_backends(admin) & killed:
            assert time.monotonic() < deadline, "the killed backends are still there"
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)  # the backends' sockets close as their processes exit

        sequential = [(await client.get("/v1/sources")).status_code for _ in range(5)]
        concurrent = await asyncio.gather(*(client.get("/v1/sources") for _ in range(4)))
        assert sequential == [200] * 5
        assert [r.status_code for r in concurrent] == [200] * 4
        assert not (await app_backends(admin)) & killed


@pytest.mark.process
async def test_a_connection_killed_mid_query_fails_only_that_request_with_503(
    faults_url: str, admin: asyncpg.Connection
) -> None:
    async with client_for(create_app(app_settings(faults_url))) as client:
        async with table_locked(admin, "source"):
            blocked = asyncio.create_task(client.get("/v1/sources"))
            pid = await backend_waiting_on_a_lock(admin)
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
            assert_unavailable(await blocked)

        assert (await client.get("/v1/sources")).status_code == 200


@pytest.mark.process
def test_a_live_server_rides_out_a_database_restart(
    private_postgres: PrivatePostgres, faults_url: str, tmp_path: Path
) -> None:
    server = LiveServer(faults_url, tmp_path)
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            assert client.get("/v1/sources").status_code == 200

            private_postgres.stop()
            try:
                started = time.monotonic()
                response = client.get("/v1/sources")
                seconds = time.monotonic() - started
                assert_unavailable(response)
                assert seconds < PROMPT_SECONDS
                assert_unavailable(client.get("/readyz"))
                assert client.get("/healthz").status_code == 200
            finally:
                private_postgres.start()

            deadline = time.monotonic() + RECOVERY_SECONDS
            while client.get("/v1/sources").status_code != 200:
                assert time.monotonic() < deadline, server.output()
                time.sleep(0.05)
            assert client.get("/readyz").status_code == 200
        assert server.process.poll() is None  # the same process throughout
        server.send(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, server.output()
    finally:
        server.close()
