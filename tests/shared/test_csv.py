"""CSV on the resource lists: a researcher's spreadsheet or `csv` module reads the page as is,
with the JSON list's filters and paging, and nested fields flattened by the documented rule."""

import csv
import io
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from seeds.files import default_seed_paths
from seeds.loader import load_seeds

LISTS = ["/v1/articles", "/v1/entities", "/v1/events", "/v1/statements", "/v1/disputes"]
PHONE_CALL = "kishida-putin-phone-call-2021-10-07"


@pytest.fixture
async def seeded(session: AsyncSession) -> None:
    await load_seeds(session, default_seed_paths(), force=True)


def _rows(response: Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    # RFC 4180: CRLF line ends; read as is, with newline="" as the csv module asks.
    assert response.content.endswith(b"\r\n")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"), newline="")))


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("path", LISTS)
async def test_csv_has_the_json_pages_items_in_order_with_its_headers(
    client: AsyncClient, path: str
) -> None:
    as_json = await client.get(path, params={"limit": 3})
    by_param = await client.get(path, params={"limit": 3, "format": "csv"})
    by_accept = await client.get(path, params={"limit": 3}, headers={"Accept": "text/csv"})

    items: list[dict[str, Any]] = as_json.json()["items"]
    rows = _rows(by_param)
    assert [row["slug"] for row in rows] == [item["slug"] for item in items]
    assert [row["id"] for row in rows] == [item["id"] for item in items]
    assert by_accept.content == by_param.content
    for response in (by_param, by_accept):
        assert response.headers["etag"]
        assert response.headers["etag"] != as_json.headers["etag"]
        assert response.headers["cache-control"] == as_json.headers["cache-control"]
        assert "accept" in response.headers["vary"].lower()
    assert "accept" in as_json.headers["vary"].lower()


@pytest.mark.usefixtures("seeded")
async def test_events_flatten_participants_time_and_references(client: AsyncClient) -> None:
    event = (await client.get(f"/v1/events/{PHONE_CALL}")).json()

    rows = _rows(await client.get("/v1/events", params={"id": PHONE_CALL, "format": "csv"}))

    (row,) = rows
    assert row["participants"] == ";".join(
        f"{p['entity']['slug']}:{p['role']}" for p in event["participants"]
    )
    assert row["participants"].count(":") == len(event["participants"]) >= 2
    assert row["time.edtf"] == event["time"]["edtf"]
    assert row["time.earliest"] == (event["time"]["earliest"] or "")
    assert row["time.latest"] == (event["time"]["latest"] or "")
    assert row["location"] == (event["location"]["slug"] if event["location"] else "")
    assert row["contexts"] == ";".join(event["contexts"])
    assert row["title"] == event["title"]
    assert "participants.entity" not in row


@pytest.mark.usefixtures("seeded")
async def test_articles_name_their_source_by_slug_and_quote_what_needs_it(
    client: AsyncClient,
) -> None:
    page = (await client.get("/v1/articles", params={"limit": 100})).json()

    rows = _rows(await client.get("/v1/articles", params={"limit": 100, "format": "csv"}))

    assert [row["source"] for row in rows] == [item["source"]["slug"] for item in page["items"]]
    # Headlines with commas, quotes or non-ASCII letters come back exactly.
    assert [row["headline"] for row in rows] == [item["headline"] or "" for item in page["items"]]
    assert [row["summary"] for row in rows] == [item["summary"] or "" for item in page["items"]]


@pytest.mark.usefixtures("seeded")
async def test_an_empty_page_still_has_its_header(client: AsyncClient) -> None:
    response = await client.get("/v1/disputes", params={"id": "no-such-dispute", "format": "csv"})

    assert _rows(response) == []
    header = response.content.decode().split("\r\n")[0].split(",")
    assert header[:3] == ["id", "slug", "title"]
    assert {"time.edtf", "time.earliest", "time.latest"} <= set(header)


@pytest.mark.usefixtures("seeded")
async def test_csv_pages_by_the_link_header_over_the_whole_list(client: AsyncClient) -> None:
    every = [item["slug"] for item in (await client.get("/v1/entities?limit=100")).json()["items"]]
    assert len(every) > 4

    seen: list[str] = []
    url: str | None = "/v1/entities?limit=2&format=csv"
    while url is not None:
        response = await client.get(url)
        seen += [row["slug"] for row in _rows(response)]
        link = response.headers.get("link")
        url = link.split(">")[0].lstrip("<") if link else None

    assert seen == every


@pytest.mark.usefixtures("seeded")
async def test_filters_apply_and_a_json_cursor_serves_csv(client: AsyncClient) -> None:
    first = await client.get("/v1/entities", params={"kind": "country", "limit": 1})
    cursor = first.json()["next_cursor"]

    rows = _rows(
        await client.get(
            "/v1/entities",
            params={"kind": "country", "limit": 100, "cursor": cursor},
            headers={"Accept": "text/csv"},
        )
    )

    assert rows
    assert all(row["kind"] == "country" for row in rows)
    assert first.json()["items"][0]["slug"] not in [row["slug"] for row in rows]


@pytest.mark.usefixtures("seeded")
async def test_a_conditional_csv_request_is_a_304(client: AsyncClient) -> None:
    first = await client.get("/v1/statements", params={"format": "csv"})

    again = await client.get(
        "/v1/statements", params={"format": "csv"}, headers={"If-None-Match": first.headers["etag"]}
    )

    assert again.status_code == 304


@pytest.mark.parametrize(
    "accept",
    ["application/json", "*/*", "text/csv;q=0.5, application/json", "text/csv;q=0", "text/html"],
)
async def test_json_stays_the_answer_unless_csv_is_preferred(
    client: AsyncClient, accept: str
) -> None:
    response = await client.get("/v1/disputes", headers={"Accept": accept})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


async def test_format_json_is_json_and_an_unknown_format_is_a_400(client: AsyncClient) -> None:
    as_json = await client.get("/v1/statements", params={"format": "json"})
    unknown = await client.get("/v1/statements", params={"format": "xlsx"})

    assert as_json.headers["content-type"] == "application/json"
    assert unknown.status_code == 400
    assert unknown.headers["content-type"] == "application/problem+json"
    assert "`json`, `csv`" in unknown.json()["detail"]
    assert unknown.json()["errors"][0]["field"] == "format"


async def test_lists_without_csv_refuse_format(client: AsyncClient) -> None:
    response = await client.get("/v1/sources", params={"format": "csv"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "format"


@pytest.mark.usefixtures("seeded")
async def test_pandas_reads_the_csv_as_is(client: AsyncClient) -> None:
    pandas = pytest.importorskip("pandas")
    response = await client.get("/v1/events", params={"limit": 100, "format": "csv"})
    page = (await client.get("/v1/events", params={"limit": 100})).json()

    frame = pandas.read_csv(io.BytesIO(response.content), keep_default_na=False, dtype=str)

    assert list(frame["slug"]) == [item["slug"] for item in page["items"]]
    assert "time.edtf" in frame.columns
