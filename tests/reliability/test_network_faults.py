"""The network between the API and PostgreSQL stops forwarding (a TCP proxy the test cuts):
requests end with 503 within the command timeout, never hang, and the same app is back to 200
once packets flow again, with nothing half-written."""

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from api.main import create_app
from api.settings import Settings
from api.shared.auth import issue_key
from db.enums import ApiKeyScope
from tests.support.clients import bearer, client_for
from tests.support.tcp_proxy import TcpProxy, proxy_to

COMMAND_TIMEOUT = 1.0
PROMPT_SECONDS = 2.0  # beyond the timeout it waited for: "did not hang"
RECOVERY_SECONDS = 10.0
NEW_SOURCE = {"slug": "cut-gazette", "name": "Cut Gazette", "kind": "newspaper"}


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    async with proxy_to(database_url) as proxy:
        yield proxy


@pytest.fixture
async def client(proxy: TcpProxy) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings.model_validate(
        {
            "DATABASE_URL": proxy.url,
            "db_command_timeout": COMMAND_TIMEOUT,
            "db_statement_timeout_ms": 800,
            "db_connect_timeout": 0.5,
        }
    )
    async with client_for(create_app(settings)) as client:
        yield client


async def timed_get(client: httpx.AsyncClient, path: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await client.get(path)
    return response, time.monotonic() - started


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "2"
    assert response.json()["code"] == "database_unavailable"


async def recovered(client: httpx.AsyncClient, path: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < RECOVERY_SECONDS:
        if (await client.get(path)).status_code == 200:
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} did not recover within {RECOVERY_SECONDS} s")


async def test_a_cut_network_gives_503_within_the_command_timeout_and_the_app_recovers(
    proxy: TcpProxy, client: httpx.AsyncClient
) -> None:
    # Two pooled connections, open and idle, before the cut.
    await asyncio.gather(client.get("/v1/sources"), client.get("/v1/entities"))

    proxy.pause()
    try:
        for path in ("/v1/sources", "/v1/entities", "/v1/sources"):
            response, seconds = await timed_get(client, path)
            assert_unavailable(response)
            assert seconds < COMMAND_TIMEOUT + PROMPT_SECONDS
        readiness, seconds = await timed_get(client, "/readyz")
        assert readiness.status_code == 503
        assert seconds < 2.0 + PROMPT_SECONDS  # its own timeout
        assert (await client.get("/healthz")).status_code == 200
    finally:
        proxy.resume()

    assert await recovered(client, "/v1/sources") < RECOVERY_SECONDS
    statuses = [(await client.get(path)).status_code for path in ["/v1/sources", "/readyz"] * 10]
    assert statuses == [200] * 20


async def test_a_write_cut_off_mid_request_is_503_and_writes_nothing(
    database_url: str, proxy: TcpProxy, client: httpx.AsyncClient
) -> None:
    key = bearer(await issue_key(database_url, name="cut", scopes=[ApiKeyScope.WRITE]))
    assert (await client.get("/v1/sources")).status_code == 200

    proxy.pause()
    try:
        started = time.monotonic()
        response = await client.post("/v1/sources", json=NEW_SOURCE, headers=key)
        assert_unavailable(response)
        assert time.monotonic() - started < COMMAND_TIMEOUT + PROMPT_SECONDS
    finally:
        proxy.resume()

    await recovered(client, "/v1/sources")
    await asyncio.sleep(0.5)  # anything held in the proxy has reached the server by now
    assert (await client.get(f"/v1/sources/{NEW_SOURCE['slug']}")).status_code == 404
