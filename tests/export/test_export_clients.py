"""GET /v1/export with clients that misbehave, against `newsgraph serve` over real sockets:
clients that never read, clients that hang up mid-stream (with a TCP reset), clients that stall
past the send timeout. Every other request answers 200 during and after, and no connection is
left inside a transaction.

Before the fix, 16 non-reading clients held 15 of the pool's connections (every other request
503), and clients hanging up returned connections to the pool still inside the export's
transaction: later requests answered 500 until a restart."""

import asyncio
import contextlib
import json
import socket
import struct
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from bench.corpus import generate
from tests.support.bulk import import_bytes
from tests.support.database import connect, migrated_database
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.process  # every test runs `newsgraph serve`

WAIT_SECONDS = 30.0  # "does not hang" bound for each step, far above what it takes
EXPORTS = 2  # NEWSGRAPH_EXPORT_CONCURRENCY of the servers below
# A client window this small keeps the server's writes blocked long before the export ends.
CLIENT_RECEIVE_BUFFER = 4096


@pytest.fixture(scope="module")
async def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database holding a corpus whose export (about 7 MB) outlasts the socket buffers
    (4 MB at most on loopback)."""
    path = tmp_path_factory.mktemp("export_clients") / "corpus.ndjson"
    await asyncio.to_thread(generate, path, articles=1500, seed=5)
    url = await migrated_database("export_clients")
    await import_bytes(url, path.with_suffix(".copy"), await asyncio.to_thread(path.read_bytes))
    return url


@pytest.fixture
async def admin(url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await connect(url)
    try:
        yield connection
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def serving(
    url: str, log_dir: Path, **env: str
) -> AsyncIterator[tuple[LiveServer, httpx.AsyncClient]]:
    """`newsgraph serve` on `url`, and a well-behaved client of it."""
    live = LiveServer(url, log_dir, env={"NEWSGRAPH_EXPORT_CONCURRENCY": str(EXPORTS), **env})
    try:
        await asyncio.to_thread(live.wait_ready)
        async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as http:
            yield live, http
    finally:
        live.close()


def open_export(port: int, target: str = "/v1/export") -> socket.socket:
    """A client that asks for the export, then reads nothing."""
    client = socket.socket()
    client.settimeout(WAIT_SECONDS)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CLIENT_RECEIVE_BUFFER)
    client.connect(("127.0.0.1", port))
    client.sendall(f"GET {target} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    return client


def hang_up(client: socket.socket) -> None:
    """Close with a reset, as a killed client or a dropped network does."""
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()


async def sessions(admin: asyncpg.Connection) -> list[tuple[str, bool]]:
    """(state, inside a transaction) of the server's database sessions."""
    rows = await admin.fetch(
        "SELECT state, xact_start IS NOT NULL AS in_transaction FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND application_name LIKE 'newsgraph%'"
    )
    return [(row["state"], row["in_transaction"]) for row in rows]


async def transactions(admin: asyncpg.Connection) -> int:
    """How many of the server's sessions are inside a transaction. With no other request in
    flight (API reads run in autocommit), that is the exports running."""
    return sum(1 for _, in_transaction in await sessions(admin) if in_transaction)


async def eventually(admin: asyncpg.Connection, exports: int) -> None:
    """Wait until exactly `exports` exports hold a transaction."""
    deadline = time.monotonic() + WAIT_SECONDS
    while (running := await transactions(admin)) != exports:
        assert time.monotonic() < deadline, f"{running} transactions open, expected {exports}"
        await asyncio.sleep(0.05)


async def hang_up_rounds(
    live: LiveServer,
    http: httpx.AsyncClient,
    admin: asyncpg.Connection,
    target: str,
    *,
    rounds: int,
    content_type: bytes = b"",
) -> None:
    """Round after round of EXPORTS clients that read the first kilobytes of `target` (its
    head holding `content_type`), then reset the connection, with ordinary requests in
    between on the pooled connections."""
    for _ in range(rounds):
        clients = [open_export(live.port, target) for _ in range(EXPORTS)]
        try:
            for client in clients:
                head = client.recv(CLIENT_RECEIVE_BUFFER)
                assert head.startswith(b"HTTP/1.1 200")
                assert content_type in head
            await eventually(admin, EXPORTS)
        finally:
            for client in clients:
                hang_up(client)
        assert await statuses(http, "/v1/sources", 4) == [200] * 4
        await eventually(admin, 0)


async def nothing_inside_a_transaction(admin: asyncpg.Connection) -> None:
    """No session of the server holds a transaction, and none sits idle in one. (A session may
    be running a statement at the moment of looking: the change watcher polls every 50 ms.)"""
    await eventually(admin, 0)
    assert [state for state, _ in await sessions(admin) if state.startswith("idle in")] == []


def exports_cut_short(live: LiveServer) -> int:
    """How many exports the server's log says a client left, once it has stopped; its log
    holds no traceback."""
    log = live.output()
    assert "Traceback" not in log
    messages = [json.loads(line)["message"] for line in log.splitlines() if line.startswith("{")]
    return messages.count("export cut short: the client went away")


async def statuses(client: httpx.AsyncClient, path: str, times: int) -> list[int]:
    return [(await client.get(path)).status_code for _ in range(times)]


async def full_export(client: httpx.AsyncClient) -> bytes:
    response = await client.get("/v1/export")
    assert response.status_code == 200, response.text
    return response.content


async def test_clients_that_never_read_hold_only_the_export_slots(
    url: str, admin: asyncpg.Connection, tmp_path: Path
) -> None:
    async with serving(url, tmp_path) as (live, http):
        expected = await full_export(http)
        assert len(expected) > 6_000_000
        clients = [open_export(live.port) for _ in range(EXPORTS)]
        try:
            await eventually(admin, EXPORTS)
            await asyncio.sleep(0.5)  # they stay: their clients read nothing
            assert await transactions(admin) == EXPORTS
            # One export more is refused at once, and says when to come back.
            busy = await http.get("/v1/export")
            assert busy.status_code == 503
            assert busy.headers["content-type"] == "application/problem+json"
            assert busy.json()["code"] == "export_busy"
            assert int(busy.headers["retry-after"]) >= 1
            # Everything else is served as usual, from the pool they do not touch.
            assert await statuses(http, "/v1/sources", 20) == [200] * 20
            assert await statuses(http, "/readyz", 5) == [200] * 5
        finally:
            for client in clients:
                hang_up(client)
        await eventually(admin, 0)
        assert await statuses(http, "/v1/sources", 20) == [200] * 20
        assert await full_export(http) == expected
    assert "Traceback" not in live.output()


async def test_clients_that_hang_up_mid_stream_leave_no_transaction_behind(
    url: str, admin: asyncpg.Connection, tmp_path: Path
) -> None:
    async with serving(url, tmp_path) as (live, http):
        expected = await full_export(http)
        await hang_up_rounds(live, http, admin, "/v1/export", rounds=5)
        assert await statuses(http, "/v1/sources", 30) == [200] * 30
        assert await statuses(http, "/readyz", 5) == [200] * 5
        assert await full_export(http) == expected
        await nothing_inside_a_transaction(admin)
    assert exports_cut_short(live) == 5 * EXPORTS


async def test_clients_that_hang_up_mid_csv_export_leave_no_transaction_behind(
    url: str, admin: asyncpg.Connection, tmp_path: Path
) -> None:
    csv_export = "/v1/export?type=article&format=csv"
    async with serving(url, tmp_path) as (live, http):
        response = await http.get(csv_export)
        assert response.status_code == 200
        expected = response.content
        assert len(expected) > 6_000_000  # far more than the socket buffers hold
        await hang_up_rounds(
            live,
            http,
            admin,
            csv_export,
            rounds=3,
            content_type=b"content-type: text/csv; charset=utf-8; header=present",
        )
        assert await statuses(http, "/readyz", 5) == [200] * 5
        assert (await http.get(csv_export)).content == expected
        await nothing_inside_a_transaction(admin)
    assert exports_cut_short(live) == 3 * EXPORTS


async def test_a_client_that_stops_reading_is_cut_off_after_the_send_timeout(
    url: str, admin: asyncpg.Connection, tmp_path: Path
) -> None:
    async with serving(url, tmp_path, NEWSGRAPH_EXPORT_SEND_TIMEOUT="1") as (live, http):
        clients = [open_export(live.port) for _ in range(EXPORTS)]
        try:
            await eventually(admin, EXPORTS)
            started = time.monotonic()
            # The clients are still connected, reading nothing; the server gives up on them.
            await eventually(admin, 0)
            assert time.monotonic() - started < 5
            await full_export(http)
        finally:
            for client in clients:
                client.close()
    assert "export cut short: the client read nothing for 1.0 s" in live.output()
