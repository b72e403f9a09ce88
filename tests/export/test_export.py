"""`newsgraph export` and GET /v1/export: a synthetic corpus imported, exported, imported again."""

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from httpx import AsyncClient

from api.cli import main
from api.main import create_app
from api.settings import Settings, get_settings
from bench.corpus import generate
from db.bulk.export import ExportReport, UnknownReference
from db.bulk.records import RECORD
from tests.support.bulk import (
    canonical_dump,
    expected_rows,
    export_bytes,
    import_bytes,
    table_counts,
)
from tests.support.clients import client_for, free_port
from tests.support.database import connect, migrated_database


def article_slugs(data: bytes) -> list[str]:
    records = [json.loads(line) for line in data.splitlines()]
    return [record["slug"] for record in records if record["type"] == "article"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "corpus.ndjson"
    generate(path, articles=120, seed=3)
    return path


@pytest.fixture(scope="module")
def records(corpus: Path) -> list[dict[str, Any]]:
    with corpus.open(encoding="utf-8") as stream:
        return [json.loads(line) for line in stream]


@pytest.fixture(scope="module")
async def source_url(corpus: Path) -> str:
    """The corpus imported into a fresh database, which the tests only read."""
    url = await migrated_database("export_source")
    data = await asyncio.to_thread(corpus.read_bytes)
    await import_bytes(url, corpus.with_suffix(".copy"), data)
    return url


@pytest.fixture(scope="module")
async def exported(source_url: str) -> tuple[bytes, ExportReport]:
    return await export_bytes(source_url)


@pytest.fixture
async def client(source_url: str) -> AsyncIterator[AsyncClient]:
    app = create_app(Settings.model_validate({"DATABASE_URL": source_url}))
    async with client_for(app) as client:
        yield client
        # Every streamed export gave its connection back.
        assert app.state.engine.pool.checkedout() == 0


async def test_export_writes_every_record_in_dependency_order(
    records: list[dict[str, Any]], exported: tuple[bytes, ExportReport]
) -> None:
    data, report = exported
    lines = [json.loads(line) for line in data.splitlines()]
    kinds = [line["type"] for line in lines]
    order = [
        "source",
        "entity",
        "article",
        "evidence",
        "relation",
        "event",
        "statement",
        "dispute",
    ]
    assert kinds == sorted(kinds, key=order.index)
    assert Counter(kinds) == Counter(record["type"] for record in records)
    assert dict(report.records) == dict(Counter(kinds))
    assert report.bytes == len(data)
    assert data.endswith(b"\n")
    # The same records as the generated corpus, whatever the order of lines and parts; the
    # corpus leaves out keys whose defaults the export writes (mention method, evidence
    # `field`, ...), so both are compared as the importer reads them.
    assert _normalized(lines) == _normalized(records)


def _normalized(records: list[dict[str, Any]]) -> list[str]:
    def sort_parts(record: dict[str, Any]) -> dict[str, Any]:
        return {
            key: sorted(json.dumps(part, sort_keys=True) for part in value)
            if isinstance(value, list) and value and isinstance(value[0], dict)
            else value
            for key, value in record.items()
        }

    return sorted(
        json.dumps(sort_parts(RECORD.validate_python(record).model_dump(mode="json")))
        for record in records
    )


async def test_export_round_trips_to_the_same_data(
    source_url: str,
    records: list[dict[str, Any]],
    exported: tuple[bytes, ExportReport],
    tmp_path: Path,
) -> None:
    data, _ = exported
    copy_url = await migrated_database("export_copy")
    await import_bytes(copy_url, tmp_path / "export.ndjson", data)
    source, copy = await connect(source_url), await connect(copy_url)
    try:
        counts = await table_counts(source)
        assert await table_counts(copy) == counts
    finally:
        await source.close()
        await copy.close()
    assert counts == expected_rows(records)
    assert counts["article"] == 120
    assert await canonical_dump(copy_url) == await canonical_dump(source_url)
    # Ids differ, the export does not.
    assert (await export_bytes(copy_url))[0] == data


async def test_two_exports_are_byte_identical(
    source_url: str, exported: tuple[bytes, ExportReport]
) -> None:
    again, report = await export_bytes(source_url)
    assert again == exported[0]
    assert report.lines == again.count(b"\n")


def _filters(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    articles = [record for record in records if record["type"] == "article"]
    mentioned = Counter(
        mention["entity"] for article in articles for mention in article["mentions"]
    )
    (top, _), (second, _) = mentioned.most_common(2)
    dates = sorted(article["published_at"] for article in articles)
    middle = datetime.fromisoformat(dates[len(dates) // 2])
    return [
        {"source": articles[0]["source"]},
        {"language": "EN"},  # every article is in English ("en")
        {"language": "fr"},
        {"published_after": middle},
        {"published_before": middle},
        {"entity": [top]},
        {"entity": [top, second], "published_after": datetime(2000, 1, 1, tzinfo=UTC)},
        {"source": articles[1]["source"], "entity": [top], "language": "en"},
    ]


def _query(filters: dict[str, Any]) -> list[tuple[str, str]]:
    query: list[tuple[str, str]] = []
    for name, value in filters.items():
        for item in value if isinstance(value, list) else [value]:
            query.append((name, item.isoformat() if isinstance(item, datetime) else item))
    return query


async def _listed(client: AsyncClient, query: list[tuple[str, str]]) -> list[str]:
    slugs: list[str] = []
    cursor: str | None = None
    while True:
        page = [*query, ("limit", "100"), *([("cursor", cursor)] if cursor else [])]
        response = await client.get("/v1/articles", params=tuple(page))
        assert response.status_code == 200, response.text
        body = response.json()
        slugs.extend(item["slug"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return slugs


async def test_filters_select_the_articles_the_list_endpoint_returns(
    source_url: str, records: list[dict[str, Any]], client: AsyncClient
) -> None:
    counts: list[int] = []
    for filters in _filters(records):
        data, report = await export_bytes(source_url, **filters)
        exported = article_slugs(data)
        listed = await _listed(client, _query(filters))
        assert exported == sorted(listed), filters
        assert report.records["dispute"] == 0
        counts.append(len(exported))
    assert counts[1:3] == [120, 0]
    assert all(0 < count < 120 for count in counts[:1] + counts[3:]), counts


async def test_a_filtered_export_imports_cleanly_and_holds_what_its_articles_refer_to(
    source_url: str, records: list[dict[str, Any]], tmp_path: Path
) -> None:
    filters = _filters(records)[7]
    data, _ = await export_bytes(source_url, **filters)
    lines = [json.loads(line) for line in data.splitlines()]
    slugs = set(article_slugs(data))
    events = [line for line in lines if line["type"] == "event"]
    assert events
    for event in events:
        assert event["evidence"]
        assert {cited["article"] for cited in event["evidence"]} <= slugs
    # Only what the articles and events refer to (and the aliases' `used_by`) comes along.
    sources = {line["slug"] for line in lines if line["type"] == "source"}
    assert sources == {line["source"] for line in lines if line["type"] == "article"}
    entities = {line["slug"] for line in lines if line["type"] == "entity"}
    referred = {
        mention["entity"]
        for line in lines
        if line["type"] == "article"
        for mention in line["mentions"]
    } | {part["entity"] for event in events for part in event["participants"]}
    used_by = {
        record["slug"]: {alias["used_by"] for alias in record["aliases"]} - {None}
        for record in records
        if record["type"] == "entity"
    }
    while more := set().union(*(used_by[slug] for slug in referred)) - referred:
        referred |= more
    assert entities == referred
    assert len(entities) < len(used_by)
    copy_url = await migrated_database("export_filtered")
    await import_bytes(copy_url, tmp_path / "filtered.ndjson", data)
    assert (await export_bytes(copy_url))[0] == data


async def test_unknown_filter_references_are_refused(source_url: str) -> None:
    with pytest.raises(UnknownReference, match="entity: nothing has the id or slug 'nowhere'"):
        await export_bytes(source_url, entity=["nowhere"])


async def test_http_export_streams_what_the_function_writes(
    source_url: str,
    records: list[dict[str, Any]],
    exported: tuple[bytes, ExportReport],
    client: AsyncClient,
) -> None:
    response = await client.get("/v1/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.content == exported[0]
    filters = _filters(records)[7]
    response = await client.get("/v1/export", params=tuple(_query(filters)))
    assert response.status_code == 200
    assert response.content == (await export_bytes(source_url, **filters))[0]


async def test_http_export_refuses_unknown_references_and_parameters(
    client: AsyncClient,
) -> None:
    response = await client.get("/v1/export", params={"entity": "nowhere"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unknown_reference"
    response = await client.get("/v1/export", params={"limit": "10"})
    assert response.status_code == 400


async def test_openapi_documents_the_export(client: AsyncClient) -> None:
    operation = (await client.get("/openapi.json")).json()["paths"]["/v1/export"]["get"]
    assert operation["operationId"] == "export_ndjson"
    assert operation["tags"] == ["export"]
    assert "application/x-ndjson" in operation["responses"]["200"]["content"]
    assert "400" in operation["responses"]


def _entity(slug: str, used_by: str | None) -> str:
    record = {
        "type": "entity",
        "slug": slug,
        "kind": "place",
        "name": slug.title(),
        "aliases": [
            {"name": f"{slug} alias", "language": "en", "kind": "common", "used_by": used_by}
        ],
    }
    return json.dumps(record) + "\n"


async def test_entities_come_after_the_entities_their_aliases_are_used_by(tmp_path: Path) -> None:
    # a-land's alias is used by m-land's people, m-land's by z-land's: slug order would not do.
    corpus = _entity("z-land", None) + _entity("m-land", "z-land") + _entity("a-land", "m-land")
    url = await migrated_database("export_used_by")
    await import_bytes(url, tmp_path / "used-by.ndjson", corpus.encode())
    data, _ = await export_bytes(url)
    assert [json.loads(line)["slug"] for line in data.splitlines()] == [
        "z-land",
        "m-land",
        "a-land",
    ]
    copy_url = await migrated_database("export_used_by_copy")
    await import_bytes(copy_url, tmp_path / "export.ndjson", data)
    assert await canonical_dump(copy_url) == await canonical_dump(url)


async def test_an_ambiguous_mention_round_trips_with_the_entities_it_may_be(
    tmp_path: Path,
) -> None:
    body = "Tokyo said so in Tokyo."
    records = [
        {"type": "source", "slug": "kyodo", "name": "Kyodo", "kind": "news_agency"},
        {"type": "entity", "slug": "japan", "kind": "country", "name": "Japan"},
        {"type": "entity", "slug": "tokyo", "kind": "place", "name": "Tokyo"},
        {
            "type": "article",
            "slug": "tokyo-said",
            "source": "kyodo",
            "language": "en",
            "body": body,
            "mentions": [
                {
                    "entity": None,
                    "possible_entities": ["tokyo", "japan"],
                    "start": 0,
                    "end": 5,
                    "surface": "Tokyo",
                    "method": "gazetteer",
                    "confidence": 0.5,
                },
                {"entity": "tokyo", "start": 17, "end": 22, "surface": "Tokyo"},
            ],
        },
    ]
    corpus = "".join(json.dumps(record) + "\n" for record in records)
    url = await migrated_database("export_ambiguous")
    await import_bytes(url, tmp_path / "ambiguous.ndjson", corpus.encode())
    data, _ = await export_bytes(url)
    [article] = [json.loads(line) for line in data.splitlines() if b'"article"' in line]
    assert [(m["entity"], m.get("possible_entities"), m["start"]) for m in article["mentions"]] == [
        (None, ["japan", "tokyo"], 0),
        ("tokyo", None, 17),
    ]
    copy_url = await migrated_database("export_ambiguous_copy")
    await import_bytes(copy_url, tmp_path / "export.ndjson", data)
    assert await canonical_dump(copy_url) == await canonical_dump(url)
    assert (await export_bytes(copy_url))[0] == data


async def test_an_ambiguous_mention_needs_two_possible_entities(tmp_path: Path) -> None:
    record = {
        "type": "article",
        "slug": "a",
        "source": "kyodo",
        "language": "en",
        "body": "Tokyo.",
        "mentions": [
            {
                "entity": None,
                "possible_entities": ["tokyo"],
                "start": 0,
                "end": 5,
                "surface": "Tokyo",
            }
        ],
    }
    with pytest.raises(ValueError, match="two or more possible_entities"):
        RECORD.validate_python(record)


def test_cli_writes_the_export_to_a_file_or_stdout(
    source_url: str,
    exported: tuple[bytes, ExportReport],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    monkeypatch.setenv("DATABASE_URL", source_url)
    get_settings.cache_clear()
    try:
        main(["export", "--out", str(tmp_path / "out.ndjson")])
        assert (tmp_path / "out.ndjson").read_bytes() == exported[0]
        assert b"exported 229 lines" in capsysbinary.readouterr().err
        main(["export", "--language", "en", "--published-before", "2000-01-01T00:00:00Z"])
        captured = capsysbinary.readouterr()
        assert captured.out == b""
        assert b"exported 0 lines (none)" in captured.err
        with pytest.raises(SystemExit) as exit:
            main(["export", "--source", "nowhere"])
        assert exit.value.code == 1
        captured = capsysbinary.readouterr()
        assert captured.out == b""
        assert b"export failed: source: nothing has the id or slug 'nowhere'" in captured.err
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    "spec_version",
    [
        pytest.param("2.4", id="send-fails"),  # ASGI 2.4: a send to a closed client fails
        pytest.param("2.3", id="disconnect-message"),  # uvicorn's: receive says so
    ],
)
async def test_http_export_gives_its_connection_back_when_the_client_goes_away(
    source_url: str, spec_version: str
) -> None:
    app = create_app(Settings.model_validate({"DATABASE_URL": source_url}))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": spec_version},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/v1/export",
        "raw_path": b"/v1/export",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "state": {},
    }
    sent: list[MutableMapping[str, Any]] = []
    first_chunk_sent = asyncio.Event()
    connections: list[asyncpg.Connection] = []
    slots = app.state.export_slots
    take = slots.take

    async def take_and_watch() -> Any:
        slot = await take()
        connections.append(slot.connection)
        return slot

    slots.take = take_and_watch

    request_read = False

    async def receive() -> dict[str, Any]:
        nonlocal request_read
        if request_read:  # the client goes away after the first chunk
            await first_chunk_sent.wait()
            return {"type": "http.disconnect"}
        request_read = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body" and first_chunk_sent.is_set():
            if spec_version == "2.4":
                raise OSError("the client went away")
            await asyncio.sleep(3600)  # a 2.3 server never returns from a dead client's send
        sent.append(message)
        if message["type"] == "http.response.body":
            first_chunk_sent.set()

    try:
        await asyncio.wait_for(app(scope, receive, send), timeout=30)
    finally:
        checked_out = app.state.engine.pool.checkedout()
        await app.state.engine.dispose()
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
    assert sent[1]["body"].startswith(b'{"type":"source"')
    # The export's own connection was cut, its slot freed; the pool was never touched.
    assert len(connections) == 1
    assert connections[0].is_closed()
    assert slots.in_use == 0
    assert checked_out == 0


async def test_export_slots_are_freed_at_shutdown(source_url: str) -> None:
    app = create_app(Settings.model_validate({"DATABASE_URL": source_url}))
    async with app.router.lifespan_context(app):
        slot = await app.state.export_slots.take()
        assert not slot.driver.is_closed()
    assert slot.driver.is_closed()
    assert app.state.export_slots.in_use == 0


async def test_http_export_answers_503_when_the_database_is_down(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    app = create_app(
        Settings.model_validate({"DATABASE_URL": f"postgresql://nobody@127.0.0.1:{port}/none"})
    )
    async with client_for(app) as client:
        response = await client.get("/v1/export")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert response.headers["retry-after"] == "2"
    assert app.state.export_slots.in_use == 0
