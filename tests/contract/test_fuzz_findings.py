"""What the Schemathesis fuzz (tests/contract/test_fuzz.py) found, pinned down one case each:
places where the OpenAPI document and the app disagreed about what a request may hold."""

from typing import Any

import jsonschema_rs
import pytest
from httpx import AsyncClient

from api.main import create_app
from api.settings import Settings

AGGREGATES = ("histogram", "facets")


@pytest.fixture
def document(settings: Settings) -> dict[str, Any]:
    return create_app(settings).openapi()


@pytest.mark.parametrize("moment", ["0.5", "20211007", "2021-10-07"])
async def test_a_timestamp_filter_takes_an_rfc3339_date_time_only(
    client: AsyncClient, moment: str
) -> None:
    """Pydantic alone reads a number as Unix time and a date as its midnight."""
    response = await client.get("/v1/articles", params={"published_after": moment})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "published_after"


async def test_a_timestamp_filter_takes_an_rfc3339_date_time(client: AsyncClient) -> None:
    response = await client.get("/v1/articles", params={"published_after": "2021-10-07 00:00Z"})

    assert response.status_code == 200


@pytest.mark.parametrize("key", [b"", b" padded ", "caf\u00e9".encode("latin-1"), b"tab\there"])
async def test_an_idempotency_key_is_visible_ascii(
    client: AsyncClient, writer: dict[str, str], key: bytes
) -> None:
    body = {"slug": "nhk", "name": "NHK", "kind": "broadcaster"}
    headers = {name.encode(): value.encode() for name, value in writer.items()}
    headers[b"Idempotency-Key"] = key

    response = await client.post("/v1/sources", json=body, headers=headers)

    assert response.status_code == 400
    assert (await client.get("/v1/sources/nhk")).status_code == 404


@pytest.mark.parametrize(
    ("path", "model", "field", "value"),
    [
        # U+0085 is white space to Python's and Rust's `\s`, not to JSON Schema's (ECMA-262):
        # with `\S` in a pattern the document allowed what the app refused, or the reverse.
        ("/v1/sources", "SourceCreate", "homepage_url", "https://nhk.jp/\x85"),
        ("/v1/statements", "StatementCreate", "text", "\x85"),
        ("/v1/statements", "StatementCreate", "text", "\ufeff"),
    ],
)
async def test_the_document_and_the_app_read_a_pattern_alike(
    client: AsyncClient,
    writer: dict[str, str],
    document: dict[str, Any],
    path: str,
    model: str,
    field: str,
    value: str,
) -> None:
    body = {"slug": "s", "name": "NHK", "kind": "broadcaster", field: value}
    if model == "StatementCreate":
        body = {"slug": "s", "speaker": "putin", "kind": "paraphrase", field: value}
    declared = document["components"]["schemas"][model]["properties"][field]

    response = await client.post(path, json=body, headers=writer)

    assert not jsonschema_rs.is_valid(declared, value)
    assert response.status_code == 422
    assert [e["type"] for e in response.json()["errors"]] == ["string_pattern_mismatch"]


def test_the_document_states_what_the_app_enforces(document: dict[str, Any]) -> None:
    operations = [op for path in document["paths"].values() for op in path.values()]
    parameters = [p for op in operations for p in op.get("parameters", [])]
    if_match = [
        (op["operationId"], p["required"])
        for op in operations
        for p in op.get("parameters", [])
        if p["name"] == "If-Match"
    ]
    url = document["components"]["schemas"]["SourceCreate"]["properties"]["homepage_url"]

    assert all("414" in op["responses"] for op in operations)
    # Every PATCH and DELETE requires it; the mention rescan and a candidate's review check
    # it only when sent.
    assert len(if_match) == 16
    assert [operation for operation, required in if_match if not required] == [
        "detect_article_mentions",
        "accept_candidate",
        "reject_candidate",
    ]
    # A parameter left out is absent: none is offered `null` as a value.
    assert not [p["name"] for p in parameters if {"type": "null"} in p["schema"].get("anyOf", [])]
    assert url["anyOf"][0]["pattern"] == "^https?://[^\\x00-\\x20\\x7f-\\x9f]+$"


def test_create_operations_link_to_what_reads_and_changes_their_resource(
    document: dict[str, Any],
) -> None:
    created = document["paths"]["/v1/sources"]["post"]["responses"]["201"]["links"]

    assert created["get_source"]["parameters"] == {"path.source": "$response.body#/id"}
    assert created["delete_source"]["parameters"] == {
        "path.source": "$response.body#/id",
        "header.If-Match": "$response.header.ETag",
    }
    assert created["create_article"]["requestBody"] == {"source": "$response.body#/slug"}
    assert {
        path: sorted(op["responses"]["201"]["links"])
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method == "post" and "201" in op["responses"]
    } == {
        "/v1/articles": [
            "delete_article",
            "detect_article_mentions",
            "get_article",
            "update_article",
        ],
        "/v1/disputes": ["delete_dispute", "get_dispute", "get_dispute_timeline", "update_dispute"],
        "/v1/entities": [
            "create_statement",
            "delete_entity",
            "get_entity",
            "list_entity_articles",
            "list_entity_events",
            "list_related_entities",
            "update_entity",
        ],
        "/v1/events": ["delete_event", "get_event", "update_event"],
        "/v1/sources": ["create_article", "delete_source", "get_source", "update_source"],
        "/v1/statements": ["delete_statement", "get_statement", "update_statement"],
        "/v1/webhooks": ["delete_webhook", "get_webhook", "list_webhook_deliveries"],
    }


async def test_an_item_key_in_a_path_is_never_an_aggregate_name(
    client: AsyncClient, writer: dict[str, str], document: dict[str, Any]
) -> None:
    """The fuzz sent `PATCH /v1/articles/facets`, a key the document allowed: the app routes
    it to the facets, which answer 405. The document now says that key is not an article's."""
    paths = document["paths"]
    aggregates = {tuple(path.rsplit("/", 1)) for path in paths if path.endswith(AGGREGATES)}
    collections = {collection for collection, _ in aggregates}
    # The item key of every collection with aggregate paths: `/v1/events/{event}...`.
    keys = {
        (path, method): parameter["schema"]
        for path, item in paths.items()
        for method, operation in item.items()
        for parameter in operation.get("parameters", [])
        if "/".join(path.split("/")[:3]) in collections
        and path.split("/")[3:4] == ["{" + parameter["name"] + "}"]
    }

    refused = await client.patch("/v1/articles/facets", json={}, headers=writer)
    unknown = await client.patch(
        "/v1/articles/facets-2", json={}, headers={**writer, "If-Match": '"x"'}
    )

    assert {name for _, name in aggregates} == set(AGGREGATES)
    assert {path for path, _ in keys} == {
        "/v1/articles/{article}",
        "/v1/articles/{article}/mentions",
        "/v1/articles/{article}/mentions/detect",
        "/v1/articles/{article}/mentions/{mention}",
        "/v1/disputes/{dispute}",
        "/v1/disputes/{dispute}/timeline",
        "/v1/events/{event}",
        "/v1/statements/{statement}",
    }
    for schema in keys.values():
        assert not jsonschema_rs.is_valid(schema, "facets")
        assert not jsonschema_rs.is_valid(schema, "histogram")
        for key in ("facets-2", "my-histogram", "0b5f5d0e-6f3c-4a57-9d2e-7f3f8a1c2b3d"):
            assert jsonschema_rs.is_valid(schema, key)
    assert refused.status_code == 405
    assert unknown.status_code == 404


def test_a_write_never_gives_an_item_an_aggregate_name_as_its_slug(
    document: dict[str, Any],
) -> None:
    """The other way to the same trap: an event created or renamed `facets` would be reached
    by its id only. The document says those slugs are refused, as the app refuses them."""
    paths, schemas = document["paths"], document["components"]["schemas"]
    collections = {path.rsplit("/", 1)[0] for path in paths if path.endswith(AGGREGATES)}
    slugs = {}
    for path, item in paths.items():
        if "/".join(path.split("/")[:3]) not in collections or path.count("/") > 3:
            continue
        for method in ("post", "patch"):
            body = item.get(method, {}).get("requestBody")
            if body is not None:
                reference = body["content"]["application/json"]["schema"]["$ref"]
                name = reference.rsplit("/", 1)[1]
                slugs[name] = schemas[name]["properties"]["slug"]

    assert set(slugs) == {
        f"{kind}{change}"
        for kind in ("Article", "Dispute", "Event", "Statement")
        for change in ("Create", "Update")
    }
    for schema in slugs.values():
        assert not jsonschema_rs.is_valid(schema, "facets")
        assert not jsonschema_rs.is_valid(schema, "histogram")
        assert jsonschema_rs.is_valid(schema, "facets-2")
        assert jsonschema_rs.is_valid(schema, "my-histogram")
