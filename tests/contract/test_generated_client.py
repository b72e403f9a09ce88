"""An SDK user's path: generate a Python client from the committed openapi/openapi.json with
openapi-python-client and use it against a live server over HTTP."""

import asyncio
import importlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import httpx
import pytest

from api.cli import seed
from db import migrate
from tests.support.clients import free_port
from tests.support.database import fresh_database

# openapi-python-client, `newsgraph apikey create` and `newsgraph serve`.
pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


class LiveServer(NamedTuple):
    url: str
    database_url: str


@pytest.fixture(scope="module")
def write_key(live_server: LiveServer) -> str:
    """A write key made the way an operator makes one: `newsgraph apikey create`."""
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "apikey", "create", "--name", "sdk", "--scope", "write"],
        env=os.environ | {"DATABASE_URL": live_server.database_url},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`newsgraph serve` on its own migrated and seeded database."""
    url = asyncio.run(fresh_database("client"))
    migrate.upgrade(url)
    seed(url)
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "serve.log"
    env = os.environ | {"DATABASE_URL": url, "PORT": str(port), "HOST": "127.0.0.1"}
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve"], env=env, stdout=output, stderr=output
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("server did not start:\n" + log.read_text())
        yield LiveServer(base_url, url)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    out = tmp_path_factory.mktemp("sdk")
    generator = shutil.which("openapi-python-client", path=str(BIN))
    assert generator is not None, "openapi-python-client is a dev dependency"
    result = subprocess.run(
        [
            generator,
            "generate",
            "--path",
            str(ROOT / "openapi" / "openapi.json"),
            "--config",
            str(ROOT / "openapi" / "python-client.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(out / "newsgraph_client"),
        ],
        capture_output=True,
        text=True,
        # Its post-generation hook formats the code with ruff, found on PATH.
        env=os.environ | {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("newsgraph_client")
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m.startswith("newsgraph_client")]:
            del sys.modules[name]


def _operation(sdk: ModuleType, tag: str, operation_id: str) -> Any:
    return importlib.import_module(f"{sdk.__name__}.api.{tag}.{operation_id}")


def test_sdk_pages_through_every_event_without_gaps_or_duplicates(
    sdk: ModuleType, live_server: LiveServer
) -> None:
    list_events = _operation(sdk, "events", "list_events")
    with sdk.Client(base_url=live_server.url) as client:
        everything = list_events.sync(client=client, limit=100)
        seen: list[str] = []
        cursor = None
        while True:
            page = list_events.sync(client=client, limit=3, cursor=cursor)
            seen += [event.slug for event in page.items]
            if not page.next_cursor:
                break
            cursor = page.next_cursor

    assert len(seen) == 13
    assert len(set(seen)) == 13
    assert seen == [event.slug for event in everything.items]


def test_sdk_reads_a_dispute_timeline(sdk: ModuleType, live_server: LiveServer) -> None:
    get_dispute_timeline = _operation(sdk, "disputes", "get_dispute_timeline")
    with sdk.Client(base_url=live_server.url) as client:
        timeline = get_dispute_timeline.sync(
            dispute="kuril-islands-dispute", client=client, pov="japan"
        )

    slugs = [entry.slug for entry in timeline.items]
    assert slugs[0] == "soviet-seizure-of-disputed-kuril-islands"
    assert slugs[-1] == "kishida-putin-phone-call-2021-10-07"
    assert timeline.pov.slug == "japan"
    first = timeline.items[0]
    assert first.time.edtf == "1945"
    assert first.evidence[0].quote


def test_sdk_gets_typed_problems(sdk: ModuleType, live_server: LiveServer) -> None:
    get_event = _operation(sdk, "events", "get_event")
    with sdk.Client(base_url=live_server.url) as client:
        response = get_event.sync_detailed(event="no-such-event", client=client)

    assert response.status_code == 404
    assert response.parsed.code == "not_found"


def test_sdk_creates_and_updates_a_resource(
    sdk: ModuleType, live_server: LiveServer, write_key: str
) -> None:
    create_source = _operation(sdk, "sources", "create_source")
    update_source = _operation(sdk, "sources", "update_source")
    models = importlib.import_module(f"{sdk.__name__}.models")
    with sdk.AuthenticatedClient(base_url=live_server.url, token=write_key) as client:
        created = create_source.sync_detailed(
            client=client,
            body=models.SourceCreate(slug="nhk", name="NHK", kind=models.SourceKind.BROADCASTER),
            idempotency_key="sdk-create-nhk",
        )
        retried = create_source.sync_detailed(
            client=client,
            body=models.SourceCreate(slug="nhk", name="NHK", kind=models.SourceKind.BROADCASTER),
            idempotency_key="sdk-create-nhk",
        )
        etag = created.headers["etag"]
        updated = update_source.sync_detailed(
            source="nhk",
            client=client,
            body=models.SourceUpdate(name="NHK World"),
            if_match=etag,
        )
        stale = update_source.sync_detailed(
            source="nhk", client=client, body=models.SourceUpdate(name="Other"), if_match=etag
        )

    assert created.status_code == 201
    assert retried.status_code == 201
    assert retried.parsed.id == created.parsed.id
    assert updated.status_code == 200
    assert updated.parsed.name == "NHK World"
    assert updated.parsed.version == 2
    assert stale.status_code == 412
    assert stale.parsed.code == "precondition_failed"
