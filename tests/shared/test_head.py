"""HEAD on every read (RFC 9110: a server that serves GET serves HEAD): the GET's status and
headers, no body. A client checks a resource's ETag or size, or whether it exists, without
downloading it."""

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Message, Receive, Scope, Send

from api.main import create_app
from api.settings import Settings
from api.shared.fast_reads import FastReads
from tests.support.clients import client_for
from tests.support.factories import make_article, make_source


def _headers(response: Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k != "x-request-id"}


@pytest.fixture
async def article(session: AsyncSession) -> str:
    source = await make_source(session)
    await make_article(session, source, "talks", "Leaders spoke by phone.")
    return "talks"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/articles/{article}",
        "/v1/articles?limit=1",
        "/v1/articles/{article}?include=mentions",
        "/v1/articles/nothing-by-this-slug",  # a 404 problem: its headers, no body
        "/v1/articles?limit=many",  # a 400
        "/v1/sources?format=csv",
        "/healthz",
        "/openapi.json",
        "/docs/assets/swagger-ui.css",  # a mounted app
    ],
)
async def test_head_answers_the_gets_status_and_headers_without_its_body(
    client: AsyncClient, article: str, path: str
) -> None:
    url = path.format(article=article)

    got = await client.get(url)
    head = await client.head(url)

    assert head.status_code == got.status_code
    assert _headers(head) == _headers(got)
    assert head.content == b""
    assert got.content  # a GET with a body, so the HEAD did leave one out
    if "content-length" in got.headers:
        assert int(head.headers["content-length"]) == len(got.content)


async def test_head_with_the_etag_is_a_304(client: AsyncClient, article: str) -> None:
    etag = (await client.get(f"/v1/articles/{article}")).headers["etag"]

    head = await client.head(f"/v1/articles/{article}", headers={"If-None-Match": etag})

    assert head.status_code == 304
    assert head.headers["etag"] == etag
    assert head.content == b""


async def test_head_where_no_get_is_served_is_a_405_naming_what_is(client: AsyncClient) -> None:
    head = await client.head("/v1/candidates/someone/accept")

    assert head.status_code == 405
    assert head.headers["allow"] == "POST"
    assert head.headers["content-type"] == "application/problem+json"
    assert head.content == b""


async def test_head_is_logged_and_counted_as_head(client: AsyncClient, article: str) -> None:
    assert (await client.head(f"/v1/articles/{article}")).status_code == 200

    scrape = (await client.get("/metrics")).text

    assert (
        'newsgraph_http_requests_total{method="HEAD",route="/v1/articles/{article}",status="200"}'
        " 1.0" in scrape
    )


async def test_head_on_a_plain_read_is_answered_below_the_router(database_url: str) -> None:
    """Without the tests' session override the fast path answers plain reads: HEAD too."""
    app = create_app(Settings.model_validate({"DATABASE_URL": database_url}))
    handed_on: list[str] = []
    async with client_for(app) as client:
        assert (await client.get("/healthz")).status_code == 200  # builds the stack
        reads: FastReads = app.state.fast_reads
        router = reads.router

        async def counting(scope: Scope, receive: Receive, send: Send) -> None:
            handed_on.append(scope["method"])
            await router(scope, receive, send)

        reads.router = counting
        got = await client.get("/v1/articles?limit=1")
        head = await client.head("/v1/articles?limit=1")

    assert (head.status_code, _headers(head), head.content) == (200, _headers(got), b"")
    assert handed_on == []


async def test_no_body_bytes_leave_the_app(app: FastAPI, article: str) -> None:
    """httpx drops a HEAD's body itself; the app must not send one to a server that would not
    (ASGI leaves it to the app)."""
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        messages.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "HEAD",
        "scheme": "http",
        "path": f"/v1/articles/{article}",
        "raw_path": f"/v1/articles/{article}".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)

    start, *bodies = messages
    assert start["type"] == "http.response.start"
    assert start["status"] == 200
    assert int(dict(start["headers"])[b"content-length"]) > 0
    assert bodies
    assert all(body["body"] == b"" for body in bodies)
    assert scope["method"] == "HEAD"  # as the middlewares outside it saw it
