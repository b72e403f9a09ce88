"""Read replicas, against a real streaming standby (tests/support/replication.py): a write's
consistency token gets a read that sees it, from the primary while the standby has not
replayed it and from the standby once it has; a read without one may be stale but is a 200;
a standby that lags too far, or stops in the middle of a load, is skipped without a single
error, and takes reads again once it is back. /metrics counts each read by the server that
served it (`newsgraph_db_reads_total{target}`), which is how these tests see where a read went.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from api.main import create_app
from api.settings import Settings
from api.shared.auth import issue_key
from api.transport import metrics
from db import migrate
from db.enums import ApiKeyScope
from db.replicas import parse_lsn, replica_name
from tests.support.clients import bearer, client_for
from tests.support.database import run_migration
from tests.support.replication import StreamingPair, streaming_pair

pytestmark = pytest.mark.process

TOKEN = "Consistency-Token"
SETTLE_SECONDS = 20.0  # far above what replay and a probe take (milliseconds)


@pytest.fixture(scope="module")
def pair() -> Iterator[StreamingPair]:
    with streaming_pair() as pair:
        yield pair


@pytest.fixture(scope="module")
async def migrated(pair: StreamingPair) -> StreamingPair:
    await run_migration(migrate.upgrade, pair.primary.url)
    return pair


@pytest.fixture(scope="module")
async def write_key(migrated: StreamingPair) -> dict[str, str]:
    return bearer(
        await issue_key(migrated.primary.url, name="replicas", scopes=[ApiKeyScope.WRITE])
    )


@pytest.fixture
def standby(migrated: StreamingPair) -> Iterator[Any]:
    """The standby, replaying and running again after the test whatever it did to it."""
    yield migrated.standby
    try:
        migrated.standby.psql("SELECT 1")
    except Exception:
        migrated.standby.start()
    migrated.standby.psql("SELECT pg_wal_replay_resume()")


def replica_settings(pair: StreamingPair, **changes: Any) -> Settings:
    return Settings.model_validate(
        {
            "DATABASE_URL": pair.primary.url,
            "replica_urls": [pair.standby.url],
            "replica_check_interval": 0.1,
            "replica_check_timeout": 0.5,
            "replica_max_lag": 30.0,
            "rate_limit_enabled": False,
            "webhook_worker": False,
            **changes,
        }
    )


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[AsyncClient]:
    """The app with its lifespan running (the replica probe is part of it)."""
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app), client_for(app) as client:
        yield client


async def reads_by_target(client: AsyncClient) -> dict[str, float]:
    return metrics.reads_by_target((await client.get("/metrics")).text)


async def replica_state(client: AsyncClient) -> dict[str, Any]:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    [replica] = response.json()["replicas"]
    return dict(replica)


async def until_state(client: AsyncClient, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        replica = await replica_state(client)
        if replica["state"] == state:
            return replica
        assert time.monotonic() < deadline, f"replica still {replica}, not {state}"
        await asyncio.sleep(0.05)


async def served_by(client: AsyncClient, path: str, **headers: str) -> tuple[Any, str]:
    """One read's answer and the server that served it, from the metrics around it."""
    before = await reads_by_target(client)
    response = await client.get(path, headers=headers)
    after = await reads_by_target(client)
    [target] = [name for name, count in after.items() if count != before.get(name, 0)]
    return response, target


async def create_source(client: AsyncClient, key: dict[str, str], slug: str) -> str:
    response = await client.post(
        "/v1/sources", json={"slug": slug, "name": slug.title(), "kind": "newspaper"}, headers=key
    )
    assert response.status_code == 201, response.text
    token = response.headers[TOKEN]
    assert parse_lsn(token) is not None, token
    return token


def slugs(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["items"]]


async def test_a_token_reads_the_write_from_the_primary_until_the_standby_has_replayed_it(
    migrated: StreamingPair, standby: Any, write_key: dict[str, str]
) -> None:
    name = replica_name(standby.url)
    async with serving(replica_settings(migrated)) as client:
        assert (await until_state(client, "ok"))["name"] == name
        # Without a token a read goes to the standby.
        response, target = await served_by(client, "/v1/sources?limit=100")
        assert (response.status_code, target) == (200, name)

        standby.psql("SELECT pg_wal_replay_pause()")
        token = await create_source(client, write_key, "paused-gazette")

        # The standby has not replayed the write: with the token the primary answers, and
        # the answer has it.
        response, target = await served_by(client, "/v1/sources/paused-gazette", **{TOKEN: token})
        assert (response.status_code, target) == (200, "primary")
        assert response.json()["slug"] == "paused-gazette"
        response, target = await served_by(client, "/v1/sources?limit=100", **{TOKEN: token})
        assert target == "primary"
        assert "paused-gazette" in slugs(response)
        # Without it the standby answers, a 200 from before the write.
        response, target = await served_by(client, "/v1/sources?limit=100")
        assert target == name
        assert "paused-gazette" not in slugs(response)

        standby.psql("SELECT pg_wal_replay_resume()")
        # Once the standby is past the token, the same read goes to it and sees the write.
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            response, target = await served_by(
                client, "/v1/sources/paused-gazette", **{TOKEN: token}
            )
            assert response.status_code == 200, response.text
            if target == name:
                break
            assert time.monotonic() < deadline, "reads with the token never returned to it"
            await asyncio.sleep(0.05)
        assert response.json()["slug"] == "paused-gazette"


async def test_a_replica_further_behind_than_the_max_lag_is_skipped(
    migrated: StreamingPair, standby: Any, write_key: dict[str, str]
) -> None:
    async with serving(replica_settings(migrated, replica_max_lag=0.5)) as client:
        await until_state(client, "ok")
        standby.psql("SELECT pg_wal_replay_pause()")
        await create_source(client, write_key, "lagging-gazette")
        lagging = await until_state(client, "lagging")
        assert lagging["lag_seconds"] > 0.5
        metrics = (await client.get("/metrics")).text
        assert f'newsgraph_db_replica_up{{replica="{lagging["name"]}"}} 0.0' in metrics
        # Every read now goes to the primary, token or not, and is current.
        response, target = await served_by(client, "/v1/sources?limit=100")
        assert target == "primary"
        assert "lagging-gazette" in slugs(response)

        standby.psql("SELECT pg_wal_replay_resume()")
        assert (await until_state(client, "ok"))["lag_seconds"] == 0.0
        response, target = await served_by(client, "/v1/sources?limit=100")
        assert target == lagging["name"]
        assert "lagging-gazette" in slugs(response)


async def test_a_standby_stopped_mid_load_costs_no_read_and_takes_reads_again_once_back(
    migrated: StreamingPair, standby: Any, write_key: dict[str, str]
) -> None:
    name = replica_name(standby.url)
    async with serving(replica_settings(migrated)) as client:
        await create_source(client, write_key, "steady-gazette")
        await until_state(client, "ok")
        statuses: list[int] = []
        stop = asyncio.Event()

        async def read_until_stopped() -> None:
            while not stop.is_set():
                for path in ("/v1/sources?limit=100", "/v1/sources/kyodo-test-missing"):
                    response = await client.get(path)
                    statuses.append(response.status_code)

        readers = [asyncio.create_task(read_until_stopped()) for _ in range(4)]
        await asyncio.sleep(0.5)
        before = await reads_by_target(client)
        await asyncio.to_thread(standby.stop)
        assert (await until_state(client, "down"))["lag_seconds"] is None
        await asyncio.sleep(0.5)  # reads go on while it is down
        stop.set()
        await asyncio.gather(*readers)
        during = await reads_by_target(client)

        # Every read was answered: 200 for the list, 404 for the source no one created; none
        # was an error of the standby's.
        assert set(statuses) == {200, 404}, sorted(set(statuses))
        assert during[name] > before.get(name, 0)  # the standby served some before it stopped
        assert during["primary"] > before.get("primary", 0)  # and the primary the rest

        await asyncio.to_thread(standby.start)
        await until_state(client, "ok")
        response, target = await served_by(client, "/v1/sources?limit=100")
        assert target == name
        assert "steady-gazette" in slugs(response)


async def test_the_change_feed_is_read_from_the_primary(
    migrated: StreamingPair, standby: Any
) -> None:
    async with serving(replica_settings(migrated)) as client:
        await until_state(client, "ok")
        response, target = await served_by(client, "/v1/changes")
        assert (response.status_code, target) == (200, "primary")


@pytest.mark.parametrize(
    "tokens",
    [["yesterday"], ["0/"], ["1/2/3"], ["G/1"], ["123456789/1"], ["0/1", "0/2"]],
)
async def test_a_malformed_token_is_a_400(
    migrated: StreamingPair, standby: Any, tokens: list[str]
) -> None:
    async with serving(replica_settings(migrated)) as client:
        headers = [(TOKEN, token) for token in tokens]
        response = await client.get("/v1/sources", headers=headers)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "invalid_consistency_token"


async def test_without_replicas_a_write_sends_no_token_and_readiness_lists_none(
    migrated: StreamingPair, write_key: dict[str, str]
) -> None:
    settings = replica_settings(migrated, replica_urls=[])
    async with serving(settings) as client:
        response = await client.post(
            "/v1/sources",
            json={"slug": "solo-gazette", "name": "Solo Gazette", "kind": "newspaper"},
            headers=write_key,
        )
        assert response.status_code == 201, response.text
        assert TOKEN not in response.headers
        readiness = await client.get("/readyz")
        assert readiness.json()["replicas"] == []
        assert "newsgraph_db_replica" not in (await client.get("/metrics")).text
