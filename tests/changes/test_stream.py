"""GET /v1/changes/stream over a real server: changes pushed as they commit, a dropped
connection resumed with Last-Event-ID loses and repeats nothing, streams are bounded, and
shutdown ends them."""

import asyncio
import contextlib
import json
import signal
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from api.shared.auth import issue_key
from db.enums import ApiKeyScope
from tests.support.clients import bearer
from tests.support.database import connect, scratch_database
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.process

MAX_STREAMS = 2
LIFETIME = 6


@dataclass
class Event:
    id: str | None = None
    event: str | None = None
    data: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


async def _events(response: httpx.Response) -> AsyncIterator[Event]:
    """The stream's events as text/event-stream frames them (comments kept, for heartbeats)."""
    event = Event()
    async for line in response.aiter_lines():
        if line == "":
            yield event
            event = Event()
        elif line.startswith(":"):
            event.comments.append(line[1:].strip())
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                event.data.append(value)
            elif name in ("id", "event"):
                setattr(event, name, value)


async def _changes(events: AsyncIterator[Event], count: int) -> list[Event]:
    received: list[Event] = []
    async with asyncio.timeout(20):
        async for event in events:
            if event.event == "change":
                received.append(event)
                if len(received) == count:
                    return received
    raise AssertionError(f"the stream ended after {len(received)} of {count} changes")


def _slugs(events: list[Event]) -> list[str]:
    return [json.loads("\n".join(e.data))["slug"] for e in events]


@contextlib.asynccontextmanager
async def _server(
    tmp_path: Path, **env: str
) -> AsyncIterator[tuple[LiveServer, dict[str, str], str]]:
    """A server over a database of its own, no rate limits, 2 s to shut down, with `env`; an
    admin key for it, and the database's URL."""
    async with scratch_database("stream") as url:
        key = bearer(await issue_key(url, name="stream", scopes=[ApiKeyScope.ADMIN]))
        server = LiveServer(
            url,
            tmp_path,
            env={
                "NEWSGRAPH_RATE_LIMIT_ENABLED": "false",
                "NEWSGRAPH_SHUTDOWN_GRACE_SECONDS": "2",
                **env,
            },
        )
        try:
            await asyncio.to_thread(server.wait_ready)
            yield server, key, url
        finally:
            server.close()


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, dict[str, str]]]:
    async with _server(
        tmp_path,
        NEWSGRAPH_CHANGE_STREAM_HEARTBEAT="0.5",
        NEWSGRAPH_CHANGE_STREAM_MAX_CLIENTS=str(MAX_STREAMS),
        NEWSGRAPH_CHANGE_STREAM_MAX_SECONDS=str(LIFETIME),
    ) as (server, key, _):
        yield server, key


async def _create(http: httpx.AsyncClient, key: dict[str, str], slug: str) -> None:
    response = await http.post(
        "/v1/sources", json={"slug": slug, "name": slug.upper(), "kind": "news_agency"}, headers=key
    )
    assert response.status_code == 201, response.text


async def test_a_dropped_stream_resumed_with_last_event_id_loses_and_repeats_nothing(
    live: tuple[LiveServer, dict[str, str]],
) -> None:
    server, key = live
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        async with http.stream("GET", "/v1/changes/stream") as first:
            assert first.status_code == 200
            assert first.headers["content-type"].startswith("text/event-stream")
            events = _events(first)
            for n in range(3):
                await _create(http, key, f"s{n}")
            before = await _changes(events, 3)
        # Dropped: two more changes while no one listens.
        for n in (3, 4):
            await _create(http, key, f"s{n}")
        resume = {"Last-Event-ID": before[-1].id or ""}
        async with http.stream("GET", "/v1/changes/stream", headers=resume) as second:
            events = _events(second)
            missed = await _changes(events, 2)
            committed = time.monotonic()
            await _create(http, key, "s5")
            pushed = await _changes(events, 1)
            latency = time.monotonic() - committed

    assert _slugs(before) == ["s0", "s1", "s2"]
    assert _slugs(missed) == ["s3", "s4"]
    assert _slugs(pushed) == ["s5"]
    # Pushed on the commit's notice, not found by the next heartbeat-driven read only.
    assert latency < 5, latency


async def test_a_quiet_stream_sends_heartbeats(live: tuple[LiveServer, dict[str, str]]) -> None:
    server, _ = live
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=30) as http,
        http.stream("GET", "/v1/changes/stream") as response,
    ):
        comments: list[str] = []
        async with asyncio.timeout(10):
            async for event in _events(response):
                comments += event.comments
                if comments.count("heartbeat") >= 2:
                    break

    assert comments.count("heartbeat") >= 2


async def test_streams_are_bounded_and_a_closed_one_gives_its_place_back(
    live: tuple[LiveServer, dict[str, str]],
) -> None:
    server, _ = live
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        async with contextlib.AsyncExitStack() as streams:
            for _ in range(MAX_STREAMS):
                opened = await streams.enter_async_context(http.stream("GET", "/v1/changes/stream"))
                assert opened.status_code == 200
            refused = await http.get("/v1/changes/stream")
        await asyncio.sleep(0.5)  # the server sees the hang-ups
        again = await http.get("/v1/changes", params={"limit": 1})
        async with http.stream("GET", "/v1/changes/stream") as reopened:
            reopened_status = reopened.status_code

    assert refused.status_code == 503
    assert refused.json()["code"] == "stream_busy"
    assert int(refused.headers["retry-after"]) >= 1
    assert again.status_code == 200
    assert reopened_status == 200


async def test_head_answers_at_once_and_gives_the_place_back(
    live: tuple[LiveServer, dict[str, str]],
) -> None:
    """A HEAD gets the stream's headers and no body, and the stream behind it stops there:
    run to its lifetime, it would hold the connection (the next request on it waits) and a
    place (the third HEAD would be a 503)."""
    server, _ = live
    async with httpx.AsyncClient(base_url=server.base_url, timeout=LIFETIME / 2) as http:
        heads = [await http.head("/v1/changes/stream") for _ in range(MAX_STREAMS + 1)]
        async with http.stream("GET", "/v1/changes/stream") as opened:
            opened_status = opened.status_code

    assert [head.status_code for head in heads] == [200] * (MAX_STREAMS + 1)
    for head in heads:
        assert head.headers["content-type"].startswith("text/event-stream")
        assert head.headers["cache-control"] == "no-store"
        assert head.content == b""
    assert opened_status == 200


async def test_a_bad_last_event_id_is_a_400_before_any_stream(
    live: tuple[LiveServer, dict[str, str]],
) -> None:
    server, _ = live
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        response = await http.get("/v1/changes/stream", headers={"Last-Event-ID": "forged"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


async def test_shutdown_ends_open_streams_and_the_server_exits(
    live: tuple[LiveServer, dict[str, str]],
) -> None:
    server, _ = live
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=30) as http,
        http.stream("GET", "/v1/changes/stream") as response,
    ):
        assert response.status_code == 200
        server.send(signal.SIGTERM)
        started = time.monotonic()
        with contextlib.suppress(httpx.TransportError):
            async with asyncio.timeout(15):
                async for _ in _events(response):
                    pass
        ended = time.monotonic() - started
    code = await asyncio.to_thread(server.wait, 15)

    assert code == 0, server.output()
    assert ended < LIFETIME - 1  # ended by the shutdown, not by its lifetime


async def test_a_stream_ends_after_its_lifetime_and_resumes_where_it_was(
    live: tuple[LiveServer, dict[str, str]],
) -> None:
    server, key = live
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        started = time.monotonic()
        async with http.stream("GET", "/v1/changes/stream") as response:
            await _create(http, key, "before")
            seen = [e async for e in _events(response) if e.event == "change"]
        lasted = time.monotonic() - started
        await _create(http, key, "after")
        resume = {"Last-Event-ID": seen[-1].id or ""}
        async with http.stream("GET", "/v1/changes/stream", headers=resume) as again:
            following = await _changes(_events(again), 1)

    assert _slugs(seen) == ["before"]
    assert LIFETIME - 0.5 < lasted < LIFETIME + 10
    assert _slugs(following) == ["after"]


@contextlib.asynccontextmanager
async def _quiet_server(
    tmp_path: Path, **env: str
) -> AsyncIterator[tuple[LiveServer, dict[str, str], str]]:
    """A server whose streams send a heartbeat (and read the feed for it) only every 60 s: a
    change that arrives sooner was pushed by the process's change watch."""
    async with _server(tmp_path, NEWSGRAPH_CHANGE_STREAM_HEARTBEAT="60", **env) as found:
        yield found


async def _watch_sessions(url: str) -> int:
    connection = await connect(url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = 'newsgraph-change-watch'"
        )
        return count
    finally:
        await connection.close()


async def _until_watch_sessions(url: str, expected: int) -> None:
    deadline = time.monotonic() + 10
    while (sessions := await _watch_sessions(url)) != expected:
        assert time.monotonic() < deadline, f"{sessions} watch sessions, expected {expected}"
        await asyncio.sleep(0.05)


async def test_changes_are_pushed_within_the_poll_interval(tmp_path: Path) -> None:
    """Each write committed alone, the next once the stream has the last: the time from the
    commit's answer to the event. Printed (pytest -s) for the record."""
    count = 20
    latencies: list[float] = []
    async with (
        _quiet_server(tmp_path) as (server, key, _),
        httpx.AsyncClient(base_url=server.base_url, timeout=30) as http,
        http.stream("GET", "/v1/changes/stream") as response,
    ):
        events = _events(response)
        for n in range(count):
            await _create(http, key, f"p{n}")
            committed = time.monotonic()
            assert _slugs(await _changes(events, 1)) == [f"p{n}"]
            latencies.append(time.monotonic() - committed)

    median = statistics.median(latencies)
    print(
        f"\ncommit to stream, {count} changes: median {median * 1000:.1f} ms, "
        f"max {max(latencies) * 1000:.1f} ms"
    )
    # The watch looks every 50 ms; the heartbeat's read would take 60 s.
    assert median < 1, latencies
    assert max(latencies) < 10, latencies


async def test_the_watch_polls_only_while_followed_and_survives_losing_its_connection(
    tmp_path: Path,
) -> None:
    # Without the in-process webhook worker, only streams follow the feed.
    async with (
        _quiet_server(tmp_path, NEWSGRAPH_WEBHOOK_WORKER="false") as (server, key, url),
        httpx.AsyncClient(base_url=server.base_url, timeout=30) as http,
    ):
        await asyncio.sleep(0.5)
        assert await _watch_sessions(url) == 0  # nobody follows: no poll, no connection
        async with http.stream("GET", "/v1/changes/stream") as response:
            events = _events(response)
            await _until_watch_sessions(url, 1)
            # The watch's connection is cut (a failover, an administrator): it connects
            # again, and the next change is still pushed, long before a heartbeat.
            admin = await connect(url)
            try:
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database()"
                    " AND application_name = 'newsgraph-change-watch'"
                )
            finally:
                await admin.close()
            await _create(http, key, "after-the-cut")
            started = time.monotonic()
            assert _slugs(await _changes(events, 1)) == ["after-the-cut"]
            assert time.monotonic() - started < 10
            await _until_watch_sessions(url, 1)
        # The last stream gone, the poll stops and its connection closes.
        await _until_watch_sessions(url, 0)
    assert "Traceback" not in server.output()
