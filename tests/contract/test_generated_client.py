"""An SDK user's path, in two languages: generate a client from the committed
openapi/openapi.json (Python with openapi-python-client, TypeScript with openapi-typescript and
openapi-fetch, type-checked with `tsc --strict`) and use it against a live server over HTTP:
paging by cursor, a timeline in a party's names, a conditional GET, an idempotent create, a
stale If-Match read as a typed problem, the NDJSON export. The generated code is never
committed: it is written to the test's temporary directory."""

import asyncio
import importlib
import json
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
from tests.support.database import connect, fresh_database

# openapi-python-client, `newsgraph apikey create` and `newsgraph serve`.
pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The pinned TypeScript toolchain: package.json, its lockfile, tsconfig.json and the scenario.
SDK_TS = ROOT / "sdk" / "typescript"


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


def _column(database_url: str, query: str, *args: object) -> list[Any]:
    """The first column of `query`'s rows, read from the database behind the server."""

    async def read() -> list[Any]:
        connection = await connect(database_url)
        try:
            return [row[0] for row in await connection.fetch(query, *args)]
        finally:
            await connection.close()

    return asyncio.run(read())


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
    assert sorted(seen) == sorted(_column(live_server.database_url, "SELECT slug FROM event"))


def test_sdk_charts_a_dispute_and_counts_an_entitys_articles(
    sdk: ModuleType, live_server: LiveServer
) -> None:
    get_event_histogram = _operation(sdk, "events", "get_event_histogram")
    get_article_facets = _operation(sdk, "articles", "get_article_facets")
    with sdk.Client(base_url=live_server.url) as client:
        histogram = get_event_histogram.sync(
            client=client, interval=sdk.models.Interval.YEAR, dispute="kuril-islands-dispute"
        )
        facets = get_article_facets.sync(
            client=client, entity=["japan"], field=[sdk.models.ArticleFacetField.SOURCE]
        )

    placed = {bucket.start.year: bucket.count for bucket in histogram.buckets if bucket.count}
    assert placed == {1945: 1, 1956: 1, 2021: 1}
    assert histogram.spanning == 1
    assert histogram.total == 4
    [source] = facets.facets
    assert source.field == "source"
    assert [value.slug for value in source.values] == ["kyodo"]
    assert sum(value.count for value in source.values) == facets.total


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


def test_sdk_reads_a_timeline_in_russias_names(sdk: ModuleType, live_server: LiveServer) -> None:
    get_dispute_timeline = _operation(sdk, "disputes", "get_dispute_timeline")
    with sdk.Client(base_url=live_server.url) as client:
        timeline = get_dispute_timeline.sync(
            dispute="kuril-islands-dispute", client=client, pov="russia"
        )

    names = {entry.location.name for entry in timeline.items if entry.location} | {
        participant.entity.name for entry in timeline.items for participant in entry.participants
    }
    assert timeline.pov.slug == "russia"
    assert "Southern Kurils" in names
    assert "Northern Territories" not in names


def test_sdk_makes_a_conditional_get(sdk: ModuleType, live_server: LiveServer) -> None:
    get_event = _operation(sdk, "events", "get_event")
    with sdk.Client(base_url=live_server.url) as client:
        first = get_event.sync_detailed(event="kishida-putin-phone-call-2021-10-07", client=client)
        again = get_event.sync_detailed(
            event="kishida-putin-phone-call-2021-10-07",
            client=client,
            if_none_match=first.headers["etag"],
        )
        other = get_event.sync_detailed(
            event="kishida-putin-phone-call-2021-10-07", client=client, if_none_match='"other"'
        )

    assert first.status_code == 200
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert other.status_code == 200


def test_sdk_exports_ndjson(sdk: ModuleType, live_server: LiveServer) -> None:
    export_ndjson = _operation(sdk, "export", "export_ndjson")
    with sdk.Client(base_url=live_server.url, timeout=httpx.Timeout(60)) as client:
        response = export_ndjson.sync_detailed(client=client)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    records = [json.loads(line) for line in response.content.decode().splitlines() if line]
    exported_events = sorted(r["slug"] for r in records if r["type"] == "event")
    assert exported_events == sorted(_column(live_server.database_url, "SELECT slug FROM event"))
    assert {"source", "entity", "article", "event", "statement", "dispute"} <= {
        r["type"] for r in records
    }


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
    assert json.loads(retried.content) == json.loads(created.content)
    assert _column(live_server.database_url, "SELECT id FROM source WHERE slug = 'nhk'") == [
        created.parsed.id
    ]
    assert updated.status_code == 200
    assert updated.parsed.name == "NHK World"
    assert updated.parsed.version == 2
    assert stale.status_code == 412
    assert stale.parsed.code == "precondition_failed"


@pytest.fixture(scope="module")
def typescript_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario compiled with `tsc --strict` against types generated from the contract by
    openapi-typescript, in a directory of its own that borrows the pinned node_modules."""
    node, tools = shutil.which("node"), SDK_TS / "node_modules" / ".bin"
    if node is None or not (tools / "tsc").exists():
        pytest.skip(
            "the TypeScript SDK needs Node.js 20+ and its toolchain: `make test` installs it "
            "with npm ci in sdk/typescript (or run `npm ci` there)"
        )
    out = tmp_path_factory.mktemp("sdk-typescript")
    for name in ("package.json", "tsconfig.json", "scenario.ts"):
        shutil.copy(SDK_TS / name, out / name)
    (out / "node_modules").symlink_to(SDK_TS / "node_modules", target_is_directory=True)
    for command in (
        [tools / "openapi-typescript", ROOT / "openapi" / "openapi.json", "-o", "schema.d.ts"],
        [tools / "tsc", "--project", "tsconfig.json", "--strict"],
    ):
        result = subprocess.run(
            [str(part) for part in command], cwd=out, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"{command[0]}:\n{result.stdout}{result.stderr}"
    return out / "dist" / "scenario.js"


def test_typescript_sdk_scenario(
    typescript_scenario: Path, live_server: LiveServer, write_key: str
) -> None:
    result = subprocess.run(
        ["node", str(typescript_scenario)],
        env=os.environ
        | {
            "NEWSGRAPH_URL": live_server.url,
            "NEWSGRAPH_KEY": write_key,
            "NEWSGRAPH_SOURCE": "typescript-sdk",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    events = _column(live_server.database_url, "SELECT slug FROM event")

    # Every event once, by cursor, in the list's order.
    assert summary["paged_events"] == summary["listed_events"]
    assert sorted(summary["paged_events"]) == sorted(events)
    # The timeline in Russia's names.
    assert summary["timeline_pov"] == "russia"
    assert summary["timeline_events"][-1] == "kishida-putin-phone-call-2021-10-07"
    assert "Southern Kurils" in summary["timeline_names"]
    assert "Northern Territories" not in summary["timeline_names"]
    # The dispute charted by year (no peace treaty, 1945/2021-10-07, spans years) and the sources
    # of an entity's articles.
    assert summary["histogram"] == {
        "placed": [["1945-01-01", 1], ["1956-01-01", 1], ["2021-01-01", 1]],
        "spanning": 1,
        "total": 4,
    }
    assert summary["facets"]["fields"] == ["source"]
    assert [slug for slug, _ in summary["facets"]["sources"]] == ["kyodo"]
    assert sum(count for _, count in summary["facets"]["sources"]) == summary["facets"]["total"]
    # The ETag back in If-None-Match: 304.
    assert summary["conditional"]["etag"].startswith(('"', 'W/"'))
    assert (summary["conditional"]["first"], summary["conditional"]["again"]) == (200, 304)
    # A create retried with its Idempotency-Key: the same answer, one row.
    created, retried = summary["create"]["first"], summary["create"]["retry"]
    assert created["status"] == retried["status"] == 201
    assert created["body"] == retried["body"]
    assert created["id"] == retried["id"]
    ids = _column(
        live_server.database_url, "SELECT id::text FROM source WHERE slug = $1", "typescript-sdk"
    )
    assert ids == [created["id"]]
    # An update, then a stale If-Match: 412 and the problem's code from the typed error.
    assert summary["update"] == {"status": 200, "version": 2}
    assert summary["stale"] == {"status": 412, "code": "precondition_failed"}
    # The export: NDJSON with every event, and the source just made.
    assert summary["export"]["status"] == 200
    assert summary["export"]["content_type"].startswith("application/x-ndjson")
    records = summary["export"]["records"]
    assert sorted(r.removeprefix("event:") for r in records if r.startswith("event:")) == sorted(
        events
    )
    assert "source:typescript-sdk" in records
