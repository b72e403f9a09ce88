"""Rate limits per client address and per API key: in process, and shared through Redis.

In process, budgets count in windows aligned to the clock (whole hours here), so each test
starts where its requests all fall into one window; in Redis a window starts with its first
request."""

import asyncio
import logging
import re
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis.asyncio
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from api.main import create_app
from api.settings import Settings
from api.shared.auth import issue_key
from api.transport import ratelimit
from db.enums import ApiKeyScope
from tests.support.clients import free_port

MACHINE_REDIS = "redis://127.0.0.1:6379/0"
FORGED = "ng_" + "A" * 43  # shaped like a key, in no database


@pytest.fixture
async def key(database_url: str) -> str:
    return await issue_key(database_url, name="limited", scopes=[ApiKeyScope.READ])


@pytest.fixture
async def other_key(database_url: str) -> str:
    return await issue_key(database_url, name="limited too", scopes=[ApiKeyScope.READ])


def _settings(database_url: str, **overrides: Any) -> Settings:
    return Settings.model_validate(
        {
            "DATABASE_URL": database_url,
            "rate_limit_enabled": True,
            "rate_limit_per_address": "3/hour",
            "rate_limit_per_key": "5/hour",
        }
        | overrides
    )


async def clear_of_window_boundary(window: float, needed: float) -> None:
    left = window - time.time() % window
    if left < needed:
        await asyncio.sleep(left + 0.01)


@pytest.fixture(autouse=True)
async def one_window() -> None:
    await clear_of_window_boundary(3600, needed=30)


def _seconds_left_in_hour() -> float:
    return 3600 - time.time() % 3600


def _fields(response: Response) -> tuple[str, int, int]:
    """The RateLimit field's policy name, remaining requests and seconds to wait."""
    match = re.fullmatch(r'"(\w+)";r=(\d+);t=(\d+)', response.headers["ratelimit"])
    assert match, response.headers["ratelimit"]
    return match[1], int(match[2]), int(match[3])


@asynccontextmanager
async def serving(app: FastAPI, address: str = "203.0.113.7") -> AsyncIterator[AsyncClient]:
    """A client connecting from `address`; the app's limiter and pool are closed after."""
    transport = ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
    try:
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await app.state.engine.dispose()
        if app.state.rate_limiter is not None:
            await app.state.rate_limiter.close()


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def _statuses(client: AsyncClient, count: int, **kwargs: Any) -> list[int]:
    return [(await client.get("/v1/sources", **kwargs)).status_code for _ in range(count)]


async def test_anonymous_requests_share_a_budget_per_client_address(database_url: str) -> None:
    app = create_app(_settings(database_url))
    async with serving(app, "203.0.113.7") as first, serving(app, "203.0.113.8") as second:
        assert await _statuses(first, 4) == [200, 200, 200, 429]
        # Another address has its own budget.
        assert await _statuses(second, 1) == [200]


async def test_limited_responses_say_where_the_client_stands(database_url: str) -> None:
    app = create_app(_settings(database_url))
    async with serving(app) as client:
        first = await client.get("/v1/sources")
        second = await client.get("/v1/sources")

    assert first.headers["ratelimit-policy"] == '"address";q=3;w=3600'
    name, remaining, wait = _fields(first)
    assert (name, remaining) == ("address", 2)
    # The window in process is the clock's hour: the next request counts in a new one.
    assert abs(wait - _seconds_left_in_hour()) <= 2
    assert _fields(second)[:2] == ("address", 1)


async def test_a_spent_budget_gets_429_problem_with_retry_after(database_url: str) -> None:
    app = create_app(_settings(database_url))
    async with serving(app) as client:
        await _statuses(client, 3)
        refused = await client.get("/v1/sources", headers={"X-Request-ID": "throttled-1"})

    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    name, remaining, wait = _fields(refused)
    assert (name, remaining) == ("address", 0)
    assert refused.headers["retry-after"] == str(wait)
    assert abs(wait - _seconds_left_in_hour()) <= 2
    assert refused.headers["ratelimit-policy"] == '"address";q=3;w=3600'
    assert refused.json() == {
        "type": "https://newsgraph.dev/problems/rate_limited",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "Too many requests: this client address's budget of 3 requests per 3600 s "
        f"is spent; retry in {wait} s.",
        "code": "rate_limited",
        "instance": "/v1/sources",
        "request_id": "throttled-1",
    }


async def test_each_api_key_has_its_own_budget_apart_from_its_address(
    database_url: str, key: str, other_key: str
) -> None:
    app = create_app(_settings(database_url))
    async with serving(app) as client:
        # A key's first request is the address's: that is when the key is checked.
        first = await client.get("/v1/sources", headers=_bearer(key))
        assert first.status_code == 200
        assert _fields(first)[:2] == ("address", 2)
        keyed = await client.get("/v1/sources", headers=_bearer(key))
        assert keyed.status_code == 200
        assert keyed.headers["ratelimit-policy"] == '"key";q=5;w=3600'
        assert _fields(keyed)[:2] == ("key", 4)
        assert await _statuses(client, 3) == [200, 200, 429]  # the address is spent
        assert await _statuses(client, 5, headers=_bearer(key)) == [200] * 4 + [429]
        # A key not checked yet is the address's, and the address is spent.
        assert await _statuses(client, 1, headers=_bearer(other_key)) == [429]
    async with serving(app, "198.51.100.1") as elsewhere:
        refused = await elsewhere.get("/v1/sources", headers=_bearer(key))
        assert refused.status_code == 429
        assert "this API key's budget of 5 requests" in refused.json()["detail"]
        assert await _statuses(elsewhere, 1) == [200]  # that address is untouched
        # There the other key gets checked, then has a budget of its own.
        assert await _statuses(elsewhere, 6, headers=_bearer(other_key)) == [200] * 6


async def test_forged_keys_earn_no_budget_and_cost_the_database_little(
    database_url: str,
) -> None:
    """Before, any `ng_…` string was budgeted by its hash: a spent address got 200 again with
    a random token, 200 of 200 fresh tokens passed, and each cost a database lookup."""
    app = create_app(_settings(database_url))
    async with serving(app) as client:
        forged = [
            (await client.get("/v1/sources", headers=_bearer(f"ng_{uuid.uuid4().hex}"))).status_code
            for _ in range(200)
        ]
        again = await client.get("/v1/sources", headers=_bearer(FORGED))
    assert forged == [200] * 3 + [429] * 197  # the address's budget, and no more
    assert again.status_code == 429
    assert again.headers["ratelimit-policy"] == '"address";q=3;w=3600'
    # Only the requests the address's budget let through were worth a lookup.
    assert app.state.rate_limiter.known_keys.lookups == 3


async def test_a_bearer_token_that_is_not_an_api_key_counts_against_the_address(
    database_url: str,
) -> None:
    app = create_app(_settings(database_url))
    async with serving(app) as client:
        responses = [
            await client.get("/v1/sources", headers=_bearer(f"made-up-{n}")) for n in range(4)
        ]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[0].headers["ratelimit-policy"] == '"address";q=3;w=3600'


async def test_probes_and_metrics_are_not_limited(database_url: str) -> None:
    app = create_app(_settings(database_url, rate_limit_per_address="1/hour"))
    async with serving(app) as client:
        assert await _statuses(client, 2) == [200, 429]
        for path in ("/healthz", "/readyz", "/metrics"):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert "ratelimit" not in response.headers


async def _in_one_window(client: AsyncClient, count: int) -> list[Response] | None:
    """`count` requests inside one one-second window, or None when a pause (a busy machine)
    carried them over its end: then the test has not happened, rather than failed."""
    await clear_of_window_boundary(1, needed=0.5)
    window = int(time.time())
    responses = [await client.get("/v1/sources") for _ in range(count)]
    return responses if int(time.time()) == window else None


async def test_the_budget_comes_back_when_the_window_has_passed(database_url: str) -> None:
    for _attempt in range(3):
        # A new app each time: its limiter starts with no requests counted.
        app = create_app(_settings(database_url, rate_limit_per_address="2 per 1 second"))
        async with serving(app) as client:
            responses = await _in_one_window(client, 4)
            if responses is None:
                continue
            assert [r.status_code for r in responses] == [200, 200, 429, 429]
            assert responses[-1].headers["retry-after"] == "1"
            # Two windows on, the spent one no longer counts at all.
            await asyncio.sleep(2.05)
            again = await client.get("/v1/sources")
        break
    else:
        pytest.fail("four requests never fitted in one second")

    assert again.status_code == 200
    assert _fields(again)[:2] == ("address", 1)


async def test_a_setting_turns_rate_limiting_off(database_url: str) -> None:
    app = create_app(_settings(database_url, rate_limit_enabled=False))
    async with serving(app) as client:
        responses = [await client.get("/v1/sources") for _ in range(5)]

    assert [r.status_code for r in responses] == [200] * 5
    assert "ratelimit" not in responses[-1].headers
    assert app.state.rate_limiter is None


def test_a_malformed_limit_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="couldn't parse rate limit string 'lots'"):
        Settings.model_validate({"rate_limit_per_key": "lots"})
    with pytest.raises(ValueError, match="must be a redis:// or rediss:// URL"):
        Settings.model_validate({"redis_url": "http://127.0.0.1:6379"})


# Shared through Redis -------------------------------------------------------------------


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own on the machine's Redis, removed afterwards."""
    prefix = f"newsgraph-test-{uuid.uuid4().hex}"
    yield prefix
    client = redis.asyncio.Redis.from_url(MACHINE_REDIS)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def test_two_app_instances_share_one_budget_through_redis(
    database_url: str, redis_prefix: str, key: str
) -> None:
    shared = {"redis_url": MACHINE_REDIS, "rate_limit_key_prefix": redis_prefix}
    one = create_app(_settings(database_url, **shared))
    two = create_app(_settings(database_url, **shared))
    async with serving(one) as first, serving(two) as second:
        # Each app checks the key once, on the address's budget.
        assert await _statuses(first, 1, headers=_bearer(key)) == [200]
        assert await _statuses(second, 1, headers=_bearer(key)) == [200]
        third = await second.get("/v1/sources")
        assert third.status_code == 200
        assert _fields(third)[:2] == ("address", 0)
        assert await _statuses(first, 1) == [429]
        assert await _statuses(second, 1) == [429]
        # Keys are shared the same way.
        assert await _statuses(first, 3, headers=_bearer(key)) == [200] * 3
        assert await _statuses(second, 3, headers=_bearer(key)) == [200, 200, 429]

    client = redis.asyncio.Redis.from_url(MACHINE_REDIS)
    try:
        stored = [key.decode() async for key in client.scan_iter(match=f"{redis_prefix}*")]
    finally:
        await client.aclose()
    assert len(stored) == 2  # one budget for the address, one for the key
    assert not any(key in stored_key or key[3:] in stored_key for stored_key in stored)


def _start_redis(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        probe = subprocess.run(
            ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, check=False
        )
        if probe.stdout.strip() == "PONG":
            return server
        time.sleep(0.05)
    server.terminate()
    raise AssertionError("redis-server did not start")


@pytest.mark.process
async def test_requests_pass_while_redis_is_down_and_are_limited_once_it_is_back(
    database_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratelimit, "STORAGE_RETRY_SECONDS", 1.0)
    port = free_port()  # nothing listens there yet
    app = create_app(_settings(database_url, redis_url=f"redis://127.0.0.1:{port}/0"))
    server = None
    try:
        async with serving(app) as client:
            with caplog.at_level(logging.WARNING, logger="api.transport.ratelimit"):
                down = [await client.get("/v1/sources") for _ in range(5)]
                await asyncio.sleep(1.1)
                down.append(await client.get("/v1/sources"))  # Redis is tried again
            assert [r.status_code for r in down] == [200] * 6
            assert all("ratelimit" not in r.headers for r in down)
            warnings = [
                r.getMessage() for r in caplog.records if r.name == "api.transport.ratelimit"
            ]
            assert len(warnings) == 1  # once per outage, not once per request
            assert re.match(r"rate limiting is off: its storage failed \(\w+Error", warnings[0])
            scrape = (await client.get("/metrics")).text
            [failures] = re.findall(
                r"^newsgraph_rate_limit_storage_failures_total (\S+)$", scrape, re.MULTILINE
            )
            # Tried once, then again after the interval: not once per request.
            assert 2 <= float(failures) < len(down)

            server = await asyncio.to_thread(_start_redis, port)
            await asyncio.sleep(1.1)
            back = [await client.get("/v1/sources") for _ in range(4)]
            assert [r.status_code for r in back] == [200, 200, 200, 429]
            assert _fields(back[0])[:2] == ("address", 2)
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)


async def test_a_redis_that_does_not_answer_costs_a_bounded_wait(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A listener that never replies (a hung Redis): the request waits for the socket
    timeout at most, then passes."""
    accepted: list[asyncio.StreamWriter] = []

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    hung = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = hung.sockets[0].getsockname()[1]
    app = create_app(_settings(database_url, redis_url=f"redis://127.0.0.1:{port}/0"))
    try:
        async with serving(app) as client:
            with caplog.at_level(logging.WARNING, logger="api.transport.ratelimit"):
                started = time.monotonic()
                response: Response = await asyncio.wait_for(client.get("/v1/sources"), 5)
                waited = time.monotonic() - started
    finally:
        for writer in accepted:
            writer.close()
        hung.close()
        await hung.wait_closed()
    print(f"a request with a hung Redis took {waited:.2f} s")
    assert response.status_code == 200
    assert "rate limiting is off" in caplog.text


async def test_the_api_document_says_which_operations_may_answer_429(database_url: str) -> None:
    app = create_app(_settings(database_url))
    async with serving(app) as client:
        document = (await client.get("/openapi.json")).json()

    refused = document["paths"]["/v1/sources"]["get"]["responses"]["429"]
    assert set(refused["headers"]) == {
        "Retry-After",
        "RateLimit",
        "RateLimit-Policy",
        "X-Request-ID",
    }
    assert refused["headers"]["RateLimit"]["required"] is True
    assert refused["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    assert "429" in document["paths"]["/v1/sources"]["post"]["responses"]
    assert "429" not in document["paths"]["/healthz"]["get"]["responses"]
    assert "429" not in document["paths"]["/readyz"]["get"]["responses"]
