"""Hostile input over a socket to `newsgraph serve` (uvicorn with httptools, as deployed): what
an in-process client cannot send — bytes outside ASCII in the request line, a URL of tens of
kilobytes, a body sent in chunks on the wire.

Some of it never reaches the app: uvicorn's parser refuses a request line holding raw bytes
outside ASCII (or a raw NUL), and one longer than about 64 KiB, with its own plain-text
`400 Invalid HTTP request received.` and closes the connection. The app cannot answer those
with problem details; the tests pin that behaviour and check the server keeps serving.
"""

import asyncio
import contextlib
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.shared.auth import create_key
from db import migrate
from db.database import drop_database
from db.enums import ApiKeyScope, SourceKind
from db.models import Source
from db.session import create_engine
from tests.support.database import fresh_database, run_migration
from tests.support.hostile import check_problem, latency_report, snapshot, timed
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.process  # a `newsgraph serve` for the module

UVICORN_REFUSAL = b"Invalid HTTP request received."


@dataclass
class Live:
    server: LiveServer
    engine: AsyncEngine
    key: str


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def problem(self, status: int, code: str) -> dict[str, object]:
        problem = json.loads(self.body)
        return check_problem(self.status, self.headers, problem, status=status, code=code)


@pytest.fixture(scope="module", autouse=True)
def report_latencies() -> Iterator[None]:
    yield
    print("\n" + latency_report())  # shown with `pytest -s`


@pytest.fixture(scope="module")
async def live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    """A server of this module's own, on a database of its own with a source and a write key."""
    url = await fresh_database("hostile_live")
    await run_migration(migrate.upgrade, url)
    engine = create_engine(url, pool_size=1)
    async with AsyncSession(engine) as session:
        _, key = await create_key(session, name="hostile", scopes=[ApiKeyScope.WRITE])
        session.add(Source(slug="kyodo", name="Kyodo", kind=SourceKind.NEWS_AGENCY))
        await session.commit()
    server = LiveServer(
        url, tmp_path_factory.mktemp("hostile"), env={"NEWSGRAPH_RATE_LIMIT_ENABLED": "false"}
    )
    try:
        await asyncio.to_thread(server.wait_ready)
        yield Live(server=server, engine=engine, key=key)
    finally:
        server.close()
        await engine.dispose()
        await drop_database(make_url(url))


async def database_digest(live: Live) -> dict[str, str]:
    async with AsyncSession(live.engine) as session:
        return await snapshot(session)


def _exchange(port: int, request: bytes) -> Answer:
    """Send `request` (from a thread, so that a server answering early is read at once) and
    read one response."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:

        def send() -> None:
            # The server may answer and close before taking it all.
            with contextlib.suppress(OSError):
                connection.sendall(request)

        sender = threading.Thread(target=send)
        sender.start()
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = connection.recv(65536)
            if not chunk:
                break
            body += chunk
        connection.shutdown(socket.SHUT_RDWR)
        sender.join(timeout=10)
    return Answer(status=int(status_line.split(" ")[1]), headers=headers, body=body)


async def exchange(live: Live, case: str, request: bytes) -> Answer:
    return await timed(case, asyncio.to_thread(_exchange, live.server.port, request))


def get(target: bytes) -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"


def post(live: Live, target: bytes, body: bytes, *headers: bytes) -> bytes:
    lines = [
        b"POST " + target + b" HTTP/1.1",
        b"Host: localhost",
        b"Authorization: Bearer " + live.key.encode(),
        *headers,
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def still_serving(live: Live) -> bool:
    answer = await asyncio.to_thread(_exchange, live.server.port, get(b"/healthz"))
    return answer.status == 200


async def test_raw_bytes_outside_ascii_in_the_request_line_are_refused_by_uvicorn(
    live: Live,
) -> None:
    """The app never sees these requests: uvicorn answers 400 in plain text. Not a 5xx, not
    a hang, and the server serves the next request."""
    for target in (b"/v1/entities?q=\xff\xfe", b"/v1/entities/jap\xe9an", b"/v1/search?q=a\x00b"):
        answer = await exchange(live, "raw non-ASCII in the request line", get(target))

        assert answer.status == 400, target
        assert answer.headers["content-type"] == "text/plain; charset=utf-8"
        assert answer.body == UVICORN_REFUSAL
    assert await still_serving(live)


async def test_percent_encoded_invalid_utf8_and_nul_reach_the_app_and_are_problems(
    live: Live,
) -> None:
    bad_path = await exchange(live, "invalid UTF-8 over the wire", get(b"/v1/entities/jap%FFan"))
    bad_query = await exchange(live, "invalid UTF-8 over the wire", get(b"/v1/entities?q=%C3%28"))
    nul_query = await exchange(live, "nul over the wire", get(b"/v1/search?q=Jap%00an"))
    nul_path = await exchange(live, "nul over the wire", get(b"/v1/sources/kyo%00do"))

    bad_path.problem(400, "invalid_path")
    assert bad_query.problem(400, "validation_error")["errors"] == [
        {
            "location": "query",
            "field": "q",
            "message": "is not valid UTF-8 once percent-decoded",
            "type": "utf8",
        }
    ]
    nul_query.problem(400, "validation_error")
    nul_path.problem(400, "invalid_path")


async def test_a_url_over_8_kb_is_a_414_and_one_over_64_kb_is_refused_by_uvicorn(
    live: Live,
) -> None:
    """Between 8 KiB (NEWSGRAPH_MAX_URL_BYTES) and about 64 KiB the app answers 414 with the
    request id; past that httptools refuses the request line before the app sees it."""
    over_8_kb = await exchange(
        live, "URL over 8 KB over the wire", get(b"/v1/entities?q=" + b"a" * 9000)
    )
    over_64_kb = await exchange(
        live, "URL over 64 KB over the wire", get(b"/v1/entities?q=" + b"a" * 70_000)
    )

    over_8_kb.problem(414, "uri_too_long")
    assert over_64_kb.status == 400
    assert over_64_kb.body == UVICORN_REFUSAL
    assert await still_serving(live)


async def test_a_10_mb_body_is_a_413_chunked_or_not_and_writes_nothing(live: Live) -> None:
    before = await database_digest(live)
    body = b'{"slug": "nikkei", "kind": "newspaper", "name": "' + b"x" * 10_000_000 + b'"}'
    chunked = b"".join(
        b"%x\r\n" % len(body[start : start + 65536]) + body[start : start + 65536] + b"\r\n"
        for start in range(0, len(body), 65536)
    )

    declared = await exchange(
        live,
        "10 MB body over the wire",
        post(
            live,
            b"/v1/sources",
            body,
            b"Content-Type: application/json",
            b"Content-Length: %d" % len(body),
        ),
    )
    streamed = await exchange(
        live,
        "10 MB body, chunked, over the wire",
        post(
            live,
            b"/v1/sources",
            chunked + b"0\r\n\r\n",
            b"Content-Type: application/json",
            b"Transfer-Encoding: chunked",
        ),
    )

    declared.problem(413, "payload_too_large")
    streamed.problem(413, "payload_too_large")
    assert await database_digest(live) == before
    assert await still_serving(live)


async def test_a_body_that_is_not_utf8_json_or_has_no_json_type_writes_nothing(
    live: Live,
) -> None:
    before = await database_digest(live)
    source = b'{"slug": "nikkei", "name": "Nikkei", "kind": "newspaper"}'
    not_utf8 = source.replace(b"Nikkei", b"Nikkei \xff")

    undecodable = await exchange(
        live,
        "invalid UTF-8 body over the wire",
        post(
            live,
            b"/v1/sources",
            not_utf8,
            b"Content-Type: application/json",
            b"Content-Length: %d" % len(not_utf8),
        ),
    )
    untyped = await exchange(
        live,
        "no content type over the wire",
        post(live, b"/v1/sources", source, b"Content-Length: %d" % len(source)),
    )

    undecodable.problem(422, "validation_error")
    untyped.problem(415, "unsupported_media_type")
    assert await database_digest(live) == before


async def test_the_server_logged_no_unexpected_error(live: Live) -> None:
    """Runs last: nothing the tests above sent was an unexpected error on the server's side."""
    assert "Traceback" not in live.server.output()
