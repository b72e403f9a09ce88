"""Graceful shutdown: on SIGTERM `newsgraph serve` refuses new connections at once, lets the
requests in flight finish, then exits 0."""

import asyncio
import signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from api.shared.auth import issue_key
from db import migrate
from db.enums import ApiKeyScope
from tests.support.clients import bearer
from tests.support.database import fresh_database, run_migration
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.process  # every test signals a `newsgraph serve` of its own

WAIT_SECONDS = 10.0  # "does not hang" bound for each step, far above what it takes


@pytest.fixture
async def database() -> tuple[str, dict[str, str]]:
    url = await fresh_database("graceful")
    await run_migration(migrate.upgrade, url)
    key = await issue_key(url, name="drain", scopes=[ApiKeyScope.WRITE])
    return url, bearer(key)


@pytest.fixture
async def admin(database: tuple[str, dict[str, str]]) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database[0].replace("+asyncpg", ""))
    try:
        yield connection
    finally:
        await connection.close()


async def wait_for_a_request_blocked_on_a_lock(observer: asyncpg.Connection) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        waiting = await observer.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'newsgraph' AND wait_event_type = 'Lock'"
        )
        if waiting:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the request never reached the lock")


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


async def test_sigterm_lets_a_request_in_flight_finish_and_refuses_new_ones(
    database: tuple[str, dict[str, str]], admin: asyncpg.Connection, tmp_path: Path
) -> None:
    url, key = database
    server = LiveServer(url, tmp_path)
    observer = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await asyncio.to_thread(server.wait_ready)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            lock = admin.transaction()
            await lock.start()
            # SHARE: reads go on, but the create's INSERT waits until the test lets go.
            await admin.execute("LOCK TABLE source IN SHARE MODE")
            in_flight = asyncio.create_task(
                client.post(
                    "/v1/sources",
                    json={"slug": "drained", "name": "Drained", "kind": "newspaper"},
                    headers=key,
                )
            )
            await wait_for_a_request_blocked_on_a_lock(observer)

            server.send(signal.SIGTERM)
            deadline = time.monotonic() + WAIT_SECONDS
            while not await asyncio.to_thread(refuses_connections, server.port):
                assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
                await asyncio.sleep(0.05)
            assert server.process.poll() is None  # draining, not gone
            assert not in_flight.done()

            await lock.rollback()
            response = await in_flight

        assert response.status_code == 201, response.text
        assert await asyncio.to_thread(server.wait, WAIT_SECONDS) == 0, server.output()
        assert await admin.fetchval("SELECT count(*) FROM source WHERE slug = 'drained'") == 1
    finally:
        await observer.close()
        server.close()


async def test_a_request_still_running_after_the_grace_period_is_cut_off_and_writes_nothing(
    database: tuple[str, dict[str, str]], admin: asyncpg.Connection, tmp_path: Path
) -> None:
    url, key = database
    server = LiveServer(url, tmp_path, env={"NEWSGRAPH_SHUTDOWN_GRACE_SECONDS": "1"})
    observer = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await asyncio.to_thread(server.wait_ready)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            async with admin.transaction():
                await admin.execute("LOCK TABLE source IN SHARE MODE")
                in_flight = asyncio.create_task(
                    client.post(
                        "/v1/sources",
                        json={"slug": "cut-off", "name": "Cut Off", "kind": "newspaper"},
                        headers=key,
                    )
                )
                await wait_for_a_request_blocked_on_a_lock(observer)
                server.send(signal.SIGTERM)
                # It exits while the lock is still held: the grace period, not the request,
                # decides how long shutdown takes.
                assert await asyncio.to_thread(server.wait, WAIT_SECONDS) == 0, server.output()
            try:
                response = await in_flight
            except httpx.TransportError:
                pass  # the connection was closed without an answer
            else:
                assert response.status_code >= 500, response.text

        assert await admin.fetchval("SELECT count(*) FROM source WHERE slug = 'cut-off'") == 0
    finally:
        await observer.close()
        server.close()
