"""GET /v1/export in CSV: the records of one `type` as one RFC 4180 table, which the csv module
and pandas read as is, flattened by the lists' rule (README: CSV); `type` on NDJSON too."""

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any, get_args

import pytest
from httpx import AsyncClient, Response

from api.export.router import RecordType
from api.main import create_app
from api.settings import Settings
from bench.corpus import generate
from db.bulk.export import RECORD_TYPES
from db.bulk.records import RECORD, RECORD_MODELS
from tests.support.bulk import import_bytes
from tests.support.clients import client_for
from tests.support.database import migrated_database

# A source and an article whose fields hold everything CSV must quote: commas, double quotes,
# CR LF and LF line breaks, and text beyond ASCII.
AWKWARD_SOURCE = {
    "type": "source",
    "slug": "zz-awkward-press",
    "name": 'The "Awkward", Press',
    "kind": "news_agency",
}
AWKWARD_ARTICLE = {
    "type": "article",
    "slug": "zz-awkward-article",
    "source": "zz-awkward-press",
    "headline": 'Kishida: "No, never", then; yes',
    "language": "ja",
    "body": 'He said "no", then left.\r\nÉté, 日本 🗾\n\nLast line, "quoted"',
}


@pytest.fixture(scope="module")
async def source_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("export_csv") / "corpus.ndjson"
    await asyncio.to_thread(generate, path, articles=80, seed=11)
    data = await asyncio.to_thread(path.read_bytes)
    # The source must come before the articles (the importer resolves earlier lines only).
    head, _, tail = data.partition(b'{"type":"entity"')
    extra = "".join(json.dumps(record) + "\n" for record in (AWKWARD_SOURCE,)).encode()
    entities = [
        json.loads(b'{"type":"entity"' + line)["slug"]
        for line in tail.split(b'\n{"type":"entity"', 2)[:2]
    ]
    entity = entities[0]
    # Evidence lines of all three subjects' kinds: one table, each row its subject's columns.
    cited = {"article": AWKWARD_ARTICLE["slug"], "start": 0, "end": 7, "quote": "He said"}
    evidence = [
        {"type": "evidence", "of": "entity", "entity": entity, "items": [cited]},
        {"type": "evidence", "of": "article", "article": AWKWARD_ARTICLE["slug"], "items": [cited]},
    ]
    # The generated corpus has no relations or statements.
    facts = [
        {
            "type": "relation",
            "subject": entities[0],
            "kind": "member_of",
            "object": entities[1],
            "role": 'observer, "associate"',
            "evidence": [cited],
        },
        {
            "type": "statement",
            "slug": "zz-awkward-statement",
            "speaker": entity,
            "kind": "paraphrase",
            "text": 'No, "never";\nthen yes.',
            "evidence": [cited],
        },
    ]
    later = "".join(json.dumps(record) + "\n" for record in (AWKWARD_ARTICLE, *evidence, *facts))
    data = head + extra + b'{"type":"entity"' + tail + later.encode()
    url = await migrated_database("export_csv")
    await import_bytes(url, path.with_suffix(".copy"), data)
    return url


@pytest.fixture
async def client(source_url: str) -> AsyncIterator[AsyncClient]:
    app = create_app(Settings.model_validate({"DATABASE_URL": source_url}))
    async with client_for(app) as client:
        yield client
        assert app.state.export_slots.in_use == 0


@pytest.fixture
async def ndjson(client: AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/v1/export")
    assert response.status_code == 200
    return [json.loads(line) for line in response.content.splitlines()]


def _expected(value: Any) -> str:
    """The documented rule (README: CSV), written out here independently of the renderer."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(_element(each) for each in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _element(value: Any) -> str:
    if isinstance(value, dict) and "entity" in value and "role" in value:
        return f"{value['entity']}:{value['role']}"
    return _expected(value)


def _table(response: Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8; header=present"
    assert response.content.endswith(b"\r\n")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"), newline="")))


@pytest.mark.parametrize("record_type", RECORD_TYPES)
async def test_each_type_is_one_table_of_its_records(
    client: AsyncClient, ndjson: list[dict[str, Any]], record_type: str
) -> None:
    records = [record for record in ndjson if record["type"] == record_type]
    assert records, f"the corpus has no {record_type} records"
    response = await client.get("/v1/export", params={"type": record_type, "format": "csv"})
    rows = _table(response)
    assert response.headers["vary"] == "Accept"
    header = response.content.split(b"\r\n", 1)[0].decode().split(",")
    # The columns are the record's fields, in its model's order; a record without some of
    # them (evidence of an entity has no `article`) leaves those empty.
    assert header == list(RECORD_MODELS[record_type].model_fields)
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        assert set(record) <= set(header)
        assert row == {key: _expected(record.get(key)) for key in header}


async def test_nested_fields_are_flattened_by_the_lists_rule(
    client: AsyncClient, ndjson: list[dict[str, Any]]
) -> None:
    events = {record["slug"]: record for record in ndjson if record["type"] == "event"}
    rows = _table(await client.get("/v1/export", params={"type": "event", "format": "csv"}))
    with_participants = next(row for row in rows if events[row["slug"]]["participants"])
    participants = events[with_participants["slug"]]["participants"]
    assert with_participants["participants"].split(";") == [
        f"{participant['entity']}:{participant['role']}" for participant in participants
    ]
    contexts = next(row for row in rows if ";" in row["contexts"])
    assert contexts["contexts"].split(";") == events[contexts["slug"]]["contexts"]


async def test_pandas_reads_it_as_is(client: AsyncClient, ndjson: list[dict[str, Any]]) -> None:
    pandas = pytest.importorskip("pandas")
    articles = [record for record in ndjson if record["type"] == "article"]
    response = await client.get("/v1/export", params={"type": "article", "format": "csv"})
    assert response.status_code == 200

    frame = pandas.read_csv(io.BytesIO(response.content), keep_default_na=False, dtype=str)

    assert list(frame.columns) == list(articles[0])
    assert list(frame["slug"]) == [article["slug"] for article in articles]
    assert list(frame["body"]) == [article["body"] for article in articles]
    awkward = frame[frame["slug"] == AWKWARD_ARTICLE["slug"]].iloc[0]
    assert awkward["body"] == AWKWARD_ARTICLE["body"]
    assert awkward["headline"] == AWKWARD_ARTICLE["headline"]
    sources = pandas.read_csv(
        io.BytesIO(
            (await client.get("/v1/export", params={"type": "source", "format": "csv"})).content
        ),
        keep_default_na=False,
        dtype=str,
    )
    assert AWKWARD_SOURCE["name"] in list(sources["name"])


async def test_accept_text_csv_asks_for_csv_and_ndjson_stays_the_default(
    client: AsyncClient, ndjson: list[dict[str, Any]]
) -> None:
    by_param = await client.get("/v1/export", params={"type": "statement", "format": "csv"})
    by_accept = await client.get(
        "/v1/export", params={"type": "statement"}, headers={"Accept": "text/csv"}
    )
    assert by_accept.headers["content-type"].startswith("text/csv")
    assert by_accept.content == by_param.content
    # NDJSON preferred by q, or asked for by `format`, wins over an Accept naming CSV.
    for headers, params in (
        ({"Accept": "application/x-ndjson, text/csv;q=0.5"}, {"type": "statement"}),
        ({"Accept": "text/csv"}, {"type": "statement", "format": "ndjson"}),
        ({"Accept": "*/*"}, {"type": "statement"}),
    ):
        response = await client.get("/v1/export", params=params, headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in response.content.splitlines()]
        assert lines == [record for record in ndjson if record["type"] == "statement"]


async def test_type_selects_records_in_ndjson_too(
    client: AsyncClient, ndjson: list[dict[str, Any]]
) -> None:
    response = await client.get(
        "/v1/export", params=[("type", "statement"), ("type", "source"), ("type", "statement")]
    )
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.content.splitlines()]
    # In the export's order (sources first), each type once.
    assert lines == [record for record in ndjson if record["type"] in {"source", "statement"}]


async def test_a_filtered_export_in_csv_has_the_filtered_records(client: AsyncClient) -> None:
    params = {"language": "ja", "type": "article"}
    as_ndjson = await client.get("/v1/export", params=params)
    articles = [json.loads(line) for line in as_ndjson.content.splitlines()]
    assert AWKWARD_ARTICLE["slug"] in [article["slug"] for article in articles]
    rows = _table(await client.get("/v1/export", params=params | {"format": "csv"}))
    assert [row["slug"] for row in rows] == [article["slug"] for article in articles]
    assert {row["language"] for row in rows} == {"ja"}


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({"format": "csv"}, {}),
        ({}, {"Accept": "text/csv"}),
        ([("format", "csv"), ("type", "event"), ("type", "statement")], {}),
    ],
)
async def test_csv_without_exactly_one_type_is_400_naming_the_types(
    client: AsyncClient, params: Any, headers: dict[str, str]
) -> None:
    response = await client.get("/v1/export", params=params, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert problem["errors"][0]["field"] == "type"
    assert problem["errors"][0]["type"] == "conflicting_parameter"
    for record_type in RECORD_TYPES:
        assert f"`{record_type}`" in problem["detail"]


@pytest.mark.parametrize(
    ("params", "field", "allowed"),
    [
        ({"type": "people"}, "type", "'statement'"),
        ({"type": "event", "format": "xlsx"}, "format", "'csv'"),
    ],
)
async def test_unknown_types_and_formats_are_400(
    client: AsyncClient, params: dict[str, str], field: str, allowed: str
) -> None:
    response = await client.get("/v1/export", params=params)
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "validation_error"
    error = problem["errors"][0]
    assert error["field"].split(".")[0] == field  # `type.0`: the first value of the list
    assert allowed in error["message"]


async def test_the_contract_offers_csv_and_the_type_filter(client: AsyncClient) -> None:
    operation = (await client.get("/openapi.json")).json()["paths"]["/v1/export"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"application/x-ndjson", "text/csv"}
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    record_type = parameters["type"]["schema"]
    assert record_type["items"]["enum"] == list(RECORD_TYPES)
    assert parameters["format"]["schema"]["enum"] == ["ndjson", "csv"]
    # The parameter's values are the export's record types, in its order.
    assert get_args(RecordType) == RECORD_TYPES


def test_fixture_records_are_valid_corpus_lines() -> None:
    for record in (AWKWARD_SOURCE, AWKWARD_ARTICLE):
        RECORD.validate_python(record)
