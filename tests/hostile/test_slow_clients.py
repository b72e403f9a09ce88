"""Clients that never finish a request's head, against `newsgraph serve` over real sockets: a
connection that says nothing, one that sends part of a request line, one that trickles headers.
Each is cut off after NEWSGRAPH_REQUEST_HEAD_TIMEOUT, and the server serves everyone else
meanwhile. Before, 501 such connections were all still open after 65 s."""

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from db import migrate
from tests.support.database import fresh_database, run_migration
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.process  # a `newsgraph serve` for the module

HEAD_TIMEOUT = 1.0
WAIT_SECONDS = 10.0


@pytest.fixture(scope="module")
async def live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    url = await fresh_database("slow_clients")
    await run_migration(migrate.upgrade, url)
    server = LiveServer(
        url,
        tmp_path_factory.mktemp("slow"),
        env={"NEWSGRAPH_REQUEST_HEAD_TIMEOUT": str(HEAD_TIMEOUT)},
    )
    try:
        await asyncio.to_thread(server.wait_ready)
        yield server
    finally:
        server.close()


def closed_by_server(client: socket.socket) -> bool:
    """True once the server has closed the connection (a read returns EOF or a reset)."""
    client.settimeout(0)
    try:
        return client.recv(1024) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


async def wait_closed(clients: list[socket.socket]) -> float:
    started = time.monotonic()
    while not all(closed_by_server(client) for client in clients):
        assert time.monotonic() - started < WAIT_SECONDS, "the server kept them open"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_unfinished_request_heads_are_cut_off_while_others_are_served(
    live: LiveServer,
) -> None:
    silent = [socket.create_connection(("127.0.0.1", live.port)) for _ in range(20)]
    partial = [socket.create_connection(("127.0.0.1", live.port)) for _ in range(20)]
    for client in partial:
        client.sendall(b"GET /v1/sources HTTP/1.1\r\nHost: test\r\nX-Slow: ")
    try:
        async with httpx.AsyncClient(base_url=live.base_url, timeout=5) as http:
            statuses = [(await http.get("/v1/sources")).status_code for _ in range(10)]
        assert statuses == [200] * 10
        seconds = await wait_closed(silent + partial)
        assert seconds < HEAD_TIMEOUT + 2
    finally:
        for client in silent + partial:
            client.close()


async def test_headers_trickled_slower_than_the_deadline_are_cut_off(live: LiveServer) -> None:
    client = socket.create_connection(("127.0.0.1", live.port))
    try:
        client.sendall(b"GET /v1/sources HTTP/1.1\r\n")
        started = time.monotonic()
        cut = False
        while time.monotonic() - started < WAIT_SECONDS:
            try:
                client.sendall(b"X-A: b\r\n")  # one header line every 0.2 s, never the end
            except OSError:
                cut = True
                break
            if closed_by_server(client):
                cut = True
                break
            client.settimeout(None)
            await asyncio.sleep(0.2)
        assert cut
        assert time.monotonic() - started < HEAD_TIMEOUT + 2
    finally:
        client.close()


def read_response(client: socket.socket) -> bytes:
    """One whole response (head and Content-Length body), or what came before the server
    closed the connection."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = client.recv(4096)
        if not chunk:
            return received
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length and (chunk := client.recv(4096)):
        body += chunk
    return head + b"\r\n\r\n" + body


async def test_a_kept_alive_connection_gets_a_fresh_deadline_per_request(
    live: LiveServer,
) -> None:
    # Two requests on one connection, more than the deadline apart, are both answered on it:
    # the deadline covers a request's head, not the connection's life (uvicorn closes idle
    # keep-alive connections after 5 s itself). A raw socket, so no client can quietly
    # reconnect.
    request = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"
    client = socket.create_connection(("127.0.0.1", live.port), timeout=WAIT_SECONDS)
    try:
        client.sendall(request)
        first = read_response(client)
        await asyncio.sleep(HEAD_TIMEOUT + 0.5)
        client.sendall(request)
        second = read_response(client)
    finally:
        client.close()
    assert first.startswith(b"HTTP/1.1 200")
    assert second.startswith(b"HTTP/1.1 200")
