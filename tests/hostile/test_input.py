"""Hostile input, in process: every case is a 4xx problem+json with a stable code, answered
without hanging, and changes nothing (a digest of every table is the same before and after).
Writes carry a valid write key and, but for the hostile part, a valid body, so the hostile
part is the only reason to refuse them; each write test ends by sending the clean request,
which succeeds.

    invalid UTF-8        body 422 validation_error (json_invalid); query 400 validation_error
                         (utf8); path 400 invalid_path
    NUL (\\x00)           every string of every write body 422; query 400 (nul); path 400
    integers             limit, ids, offsets, If-Match versions, timestamps beyond the columns
    size and depth       10 MB body 413 (declared or chunked); 100,000 levels of JSON 422
    URL over 8 KB        414 uri_too_long (NEWSGRAPH_MAX_URL_BYTES)
    repeated parameters  more than 128: 400 too_many_parameters (NEWSGRAPH_MAX_QUERY_PARAMETERS)
    cursors              malformed, altered, foreign or forged: 400 invalid_cursor
    content type         anything but JSON on an operation with a body: 415

Hostile search text is in tests/hostile/test_search.py; what a client can only send over a
socket (bytes outside ASCII in the request line, a chunked body on the wire) in
tests/hostile/test_serve.py.
"""

import base64
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from api.settings import Settings
from api.shared.pagination import Keyset
from db.enums import EntityKind
from db.models import Article
from tests.support.clients import client_for
from tests.support.factories import make_entity
from tests.support.hostile import (
    WRITES,
    build_app,
    build_world,
    field_errors,
    latency_report,
    problem,
    send_clean,
    snapshot,
    string_leaves,
    timed,
    with_nul,
    write_headers,
)
from tests.support.writing import ARTICLE

MALFORMED = "The cursor is malformed."
ALTERED = "The cursor is not one this API issued, or it was altered."


@pytest.fixture(scope="module", autouse=True)
def report_latencies() -> Iterator[None]:
    yield
    print("\n" + latency_report())  # shown with `pytest -s`


@pytest.fixture
def app(database_url: str, session: AsyncSession) -> FastAPI:
    return build_app(database_url, session)


@pytest.fixture
async def world(session: AsyncSession, call: Article) -> Article:
    return await build_world(session, call)


# --- NUL ---------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", WRITES)
async def test_a_nul_in_any_string_of_a_write_body_is_a_422(
    client: AsyncClient,
    session: AsyncSession,
    writer: dict[str, str],
    admin: dict[str, str],
    world: Article,
    operation: str,
) -> None:
    method, path, body = WRITES[operation]
    before = await snapshot(session)

    for leaf in string_leaves(body):
        field = ".".join(leaf)
        response = await timed(
            "nul in a body string",
            client.request(
                method,
                path,
                json=with_nul(body, leaf),
                headers=write_headers(admin, method, f"{operation}-{leaf}"),
            ),
        )
        problem(response, 422, "validation_error")
        assert [(loc, f) for loc, f, _ in field_errors(response)] == [("body", field)], field
    nul_key = await timed(
        "nul in a body key",
        client.request(
            method, path, json=body | {"no\x00te": "x"}, headers=write_headers(admin, method, "k")
        ),
    )

    problem(nul_key, 422, "validation_error")
    assert await snapshot(session) == before
    await send_clean(client, admin, operation, "clean")


async def test_a_nul_in_a_query_parameter_is_a_400_naming_it(
    client: AsyncClient, world: Article
) -> None:
    cases = [
        ("/v1/search?q=Jap%00an", "q"),
        ("/v1/entities?q=%00", "q"),
        ("/v1/articles?q=Kishida%00", "q"),
        ("/v1/articles?source=kyodo%00", "source"),
        ("/v1/articles?entity=japan&entity=ja%00pan", "entity"),
        ("/v1/events?mode=pho%00ne", "mode"),
        ("/v1/entities?cursor=%00", "cursor"),
        ("/v1/entities/japan?pov=russia%00", "pov"),
        ("/v1/export?source=%00", "source"),
        ("/v1/entities?na%00me=x", "name"),
    ]

    for url, parameter in cases:
        response = await timed("nul in a query parameter", client.get(url))

        problem(response, 400, "validation_error")
        assert field_errors(response) == [("query", parameter, "nul")], url


async def test_a_nul_in_the_path_is_a_400_and_writes_nothing(
    client: AsyncClient,
    session: AsyncSession,
    writer: dict[str, str],
    admin: dict[str, str],
    world: Article,
) -> None:
    before = await snapshot(session)

    read = await timed("nul in the path", client.get("/v1/entities/ja%00pan"))
    update = await timed(
        "nul in the path",
        client.patch(
            "/v1/sources/kyo%00do", json={"name": "Kyodo News"}, headers=admin | {"If-Match": "*"}
        ),
    )
    delete = await timed(
        "nul in the path",
        client.delete("/v1/events/kishida%00", headers=admin | {"If-Match": "*"}),
    )

    for response in (read, update, delete):
        assert problem(response, 400, "invalid_path")["detail"] == (
            "The request path must not contain NUL characters (%00)."
        )
    assert await snapshot(session) == before


# --- invalid UTF-8 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            b'{"slug": "nikkei", "name": "Nikkei \xff", "kind": "newspaper"}',
            ("body", "body", "json_invalid"),
        ),
        (  # an overlong encoding of NUL
            b'{"slug": "nikkei", "name": "\xc0\x80", "kind": "newspaper"}',
            ("body", "body", "json_invalid"),
        ),
        (  # a UTF-16 surrogate: Python's decoder lets it through, validation does not
            b'{"slug": "nikkei", "name": "\xed\xa0\x80", "kind": "newspaper"}',
            ("body", "name", "string_unicode"),
        ),
        (  # a UTF-16 byte order mark: decoded as UTF-16, it is no JSON
            b'\xfe\xff{"slug": "nikkei"}',
            ("body", "0", "json_invalid"),
        ),
    ],
    ids=["stray-byte", "overlong", "surrogate", "utf16-bom"],
)
async def test_a_body_that_is_not_utf8_is_a_422(
    client: AsyncClient,
    session: AsyncSession,
    writer: dict[str, str],
    world: Article,
    body: bytes,
    error: tuple[str, str, str],
) -> None:
    before = await snapshot(session)

    response = await timed(
        "invalid UTF-8 in a JSON body",
        client.post(
            "/v1/sources", content=body, headers=writer | {"Content-Type": "application/json"}
        ),
    )

    problem(response, 422, "validation_error")
    assert field_errors(response) == [error]
    assert await snapshot(session) == before


async def test_an_escaped_lone_surrogate_in_a_body_is_a_422(
    client: AsyncClient, session: AsyncSession, writer: dict[str, str], world: Article
) -> None:
    """`\\ud800` is valid JSON but no Unicode text: PostgreSQL could not store it."""
    before = await snapshot(session)

    response = await timed(
        "invalid UTF-8 in a JSON body",
        client.post(
            "/v1/sources",
            content=b'{"slug": "nikkei", "name": "Nikkei \\ud800", "kind": "newspaper"}',
            headers=writer | {"Content-Type": "application/json"},
        ),
    )

    problem(response, 422, "validation_error")
    assert [f for _, f, _ in field_errors(response)] == ["name"]
    assert await snapshot(session) == before


async def test_a_query_parameter_that_is_not_utf8_is_a_400(
    client: AsyncClient, world: Article
) -> None:
    """Decoded leniently, `%FF` would become U+FFFD and be searched for; it is refused."""
    cases = [
        ("/v1/search?q=Jap%FFan", "q"),
        ("/v1/entities?q=%C0%80", "q"),  # an overlong encoding of NUL
        ("/v1/entities?q=%ED%A0%80", "q"),  # a UTF-16 surrogate
        ("/v1/articles?q=%E6%97", "q"),  # a truncated sequence
        ("/v1/articles?entity=%FF", "entity"),
        ("/v1/entities?cursor=a%FF.b", "cursor"),
        ("/v1/entities?%FF=1", "\ufffd"),
    ]

    for url, parameter in cases:
        response = await timed("invalid UTF-8 in a query parameter", client.get(url))

        problem(response, 400, "validation_error")
        assert field_errors(response) == [("query", parameter, "utf8")], url


async def test_a_path_that_is_not_utf8_is_a_400_and_writes_nothing(
    client: AsyncClient,
    session: AsyncSession,
    writer: dict[str, str],
    admin: dict[str, str],
    world: Article,
) -> None:
    before = await snapshot(session)

    read = await timed("invalid UTF-8 in the path", client.get("/v1/entities/jap%FFan"))
    update = await timed(
        "invalid UTF-8 in the path",
        client.patch(
            "/v1/entities/jap%E6%97an",
            json={"description": "x"},
            headers=admin | {"If-Match": "*"},
        ),
    )

    for response in (read, update):
        assert problem(response, 400, "invalid_path")["detail"] == (
            "The request path is not valid UTF-8 once percent-decoded."
        )
    assert await snapshot(session) == before


async def test_well_formed_utf8_still_reaches_the_api(
    client: AsyncClient, session: AsyncSession, world: Article
) -> None:
    await make_entity(session, "etorofu", "Étorofu", EntityKind.PLACE)

    by_name = await client.get("/v1/entities?q=%C3%89torofu")  # "Étorofu"
    plus_as_space = await client.get("/v1/articles?q=Fumio+Kishida")

    assert [e["slug"] for e in by_name.json()["items"]] == ["etorofu"]
    assert [a["slug"] for a in plus_as_space.json()["items"]] == [ARTICLE]


# --- integers and timestamps beyond the columns ---------------------------------------------


async def test_a_page_size_out_of_range_is_a_400(client: AsyncClient, world: Article) -> None:
    for limit in [str(10**30), "9" * 4000, str(2**63), "-1", "0", "101", "1e3", "0x10"]:
        response = await timed("limit out of range", client.get(f"/v1/entities?limit={limit}"))

        problem(response, 400, "validation_error")
        assert field_errors(response)[0][:2] == ("query", "limit"), limit


async def test_ids_beyond_int8_name_nothing(
    client: AsyncClient,
    session: AsyncSession,
    writer: dict[str, str],
    admin: dict[str, str],
    world: Article,
) -> None:
    """Ids are UUIDs: a huge number in their place is a slug that names nothing."""
    before = await snapshot(session)
    huge = str(2**64)

    read = await timed("id beyond int8", client.get(f"/v1/entities/{huge}"))
    delete = await timed(
        "id beyond int8",
        client.delete(f"/v1/sources/{10**30}", headers=admin | {"If-Match": "*"}),
    )
    in_filter = await timed("id beyond int8", client.get(f"/v1/articles?entity={huge}"))

    problem(read, 404, "not_found")
    problem(delete, 404, "not_found")
    problem(in_filter, 400, "unknown_reference")
    assert await snapshot(session) == before


async def test_offsets_and_versions_beyond_int8_are_refused(
    client: AsyncClient, session: AsyncSession, writer: dict[str, str], world: Article
) -> None:
    before = await snapshot(session)
    _, _, entity = WRITES["create_entity"]
    far = 2**63
    offsets = entity | {
        "evidence": [{"quote": "the islands", "start": far, "end": far + 11, "article": ARTICLE}]
    }
    occurrence = entity | {
        "evidence": [{"quote": "the islands", "occurrence": 10**30, "article": ARTICLE}]
    }

    by_offsets = await timed(
        "offset beyond int8", client.post("/v1/entities", json=offsets, headers=writer)
    )
    by_occurrence = await timed(
        "offset beyond int8", client.post("/v1/entities", json=occurrence, headers=writer)
    )
    digits = await timed(
        "number of 5,000 digits",
        client.post(
            "/v1/entities",
            content=json.dumps(entity).replace('"Shikotan"', "9" * 5000).encode(),
            headers=writer | {"Content-Type": "application/json"},
        ),
    )
    version = await timed(
        "If-Match version beyond int8",
        client.patch(
            "/v1/sources/kyodo",
            json={"name": "Kyodo News"},
            headers=writer | {"If-Match": f'"v{"9" * 5000}-x"'},
        ),
    )

    problem(by_offsets, 422, "validation_error")
    assert [f for _, f, _ in field_errors(by_offsets)] == ["evidence.0.start"]
    problem(by_occurrence, 422, "validation_error")
    assert [f for _, f, _ in field_errors(by_occurrence)] == ["evidence.0.quote"]
    assert field_errors(digits) == [("body", "body", "json_invalid")]
    problem(digits, 422, "validation_error")
    problem(version, 412, "precondition_failed")
    assert await snapshot(session) == before


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "99999-01-01T00:00:00Z"]
)
async def test_a_timestamp_beyond_what_utc_can_hold_is_refused(
    client: AsyncClient,
    session: AsyncSession,
    writer: dict[str, str],
    world: Article,
    moment: str,
) -> None:
    before = await snapshot(session)
    _, _, article = WRITES["create_article"]

    listed = await timed(
        "timestamp out of range",
        client.get("/v1/articles", params={"published_after": moment}),
    )
    exported = await timed(
        "timestamp out of range",
        client.get("/v1/export", params={"published_before": moment}),
    )
    created = await timed(
        "timestamp out of range",
        client.post("/v1/articles", json=article | {"published_at": moment}, headers=writer),
    )

    problem(listed, 400, "validation_error")
    assert field_errors(listed)[0][:2] == ("query", "published_after")
    problem(exported, 400, "validation_error")
    problem(created, 422, "validation_error")
    assert field_errors(created)[0][:2] == ("body", "published_at")
    assert await snapshot(session) == before


# --- size and depth ----------------------------------------------------------------------------


async def test_a_10_mb_body_is_a_413_whether_its_length_is_declared_or_not(
    client: AsyncClient, session: AsyncSession, writer: dict[str, str], world: Article
) -> None:
    before = await snapshot(session)
    ten_mb = b'{"slug": "nikkei", "kind": "newspaper", "name": "' + b"x" * 10_000_000 + b'"}'

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(ten_mb), 65536):
            yield ten_mb[start : start + 65536]

    declared = await timed(
        "10 MB body",
        client.post(
            "/v1/sources", content=ten_mb, headers=writer | {"Content-Type": "application/json"}
        ),
    )
    streamed = await timed(
        "10 MB body, chunked",
        client.post(
            "/v1/sources", content=chunked(), headers=writer | {"Content-Type": "application/json"}
        ),
    )

    problem(declared, 413, "payload_too_large")
    problem(streamed, 413, "payload_too_large")
    assert "content-length" not in streamed.request.headers
    assert await snapshot(session) == before


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"slug": "nikkei", "name": "Nikkei", "kind": "newspaper", "homepage_url": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}",
    ],
    ids=["open", "balanced", "objects", "inside-a-field"],
)
async def test_deeply_nested_json_is_a_422_quickly(
    client: AsyncClient, session: AsyncSession, writer: dict[str, str], world: Article, body: bytes
) -> None:
    before = await snapshot(session)

    response = await timed(
        "100,000 levels of JSON",
        client.post(
            "/v1/sources", content=body, headers=writer | {"Content-Type": "application/json"}
        ),
    )

    problem(response, 422, "validation_error")
    assert response.json()["errors"][0]["type"] == "json_invalid"
    assert await snapshot(session) == before


async def test_nesting_the_parser_accepts_is_refused_by_validation(
    client: AsyncClient, session: AsyncSession, writer: dict[str, str], world: Article
) -> None:
    before = await snapshot(session)
    _, _, entity = WRITES["create_entity"]
    nested: Any = "Sikotan"
    for _ in range(200):
        nested = [nested]

    response = await timed(
        "200 levels of JSON in a field",
        client.post("/v1/entities", json=entity | {"aliases": nested}, headers=writer),
    )

    problem(response, 422, "validation_error")
    assert {f for _, f, _ in field_errors(response)} == {"aliases.0"}
    assert await snapshot(session) == before


# --- the URL ----------------------------------------------------------------------------------


async def test_a_url_over_8_kb_is_a_414_with_the_request_id(
    client: AsyncClient, session: AsyncSession, writer: dict[str, str], world: Article
) -> None:
    before = await snapshot(session)

    long_query = await timed(
        "URL over 8 KB",
        client.get("/v1/entities?q=" + "a" * 9000, headers={"X-Request-ID": "long-1"}),
    )
    long_path = await timed("URL over 8 KB", client.get("/v1/entities/" + "a" * 9000))
    long_write = await timed(
        "URL over 8 KB",
        client.post("/v1/sources?" + "x" * 9000, json=WRITES["create_source"][2], headers=writer),
    )

    refused = problem(long_query, 414, "uri_too_long")
    assert refused["request_id"] == "long-1"
    assert refused["detail"] == (
        "The request path and query are longer than the 8192 bytes this API accepts."
    )
    assert long_query.headers["x-content-type-options"] == "nosniff"
    problem(long_path, 414, "uri_too_long")
    problem(long_write, 414, "uri_too_long")
    assert await snapshot(session) == before


async def test_the_url_limit_counts_path_and_query(client: AsyncClient, world: Article) -> None:
    path = "/v1/entities?q="
    # path + "?" + query: exactly the limit passes (and fails only on q's own length).
    at_limit = await client.get(path + "a" * (8192 - len(path)))
    over = await client.get(path + "a" * (8193 - len(path)))

    problem(at_limit, 400, "validation_error")
    problem(over, 414, "uri_too_long")


async def test_the_url_limit_is_a_setting(
    database_url: str, session: AsyncSession, world: Article
) -> None:
    app = build_app(database_url, session, max_url_bytes=2048)
    async with client_for(app) as client:
        under = await client.get("/v1/entities?q=" + "a" * 150)
        over = await client.get("/v1/entities?q=" + "a" * 2100)

    assert under.status_code == 200
    problem(over, 414, "uri_too_long")


# --- repeated parameters ------------------------------------------------------------------------


async def test_a_thousand_repeated_filters_are_refused(
    database_url: str, client: AsyncClient, session: AsyncSession, world: Article
) -> None:
    """Past 128 parameters a request is refused before anything parses them; at the default
    URL limit 1,000 `entity=japan` do not even fit, so that answer is a 414."""
    thousand = "/v1/articles?" + "&".join(["entity=japan"] * 1000)
    short = "/v1/entities?" + "&".join(["q"] * 1000)

    too_long = await timed("1,000 repeated filters", client.get(thousand))
    too_many = await timed("1,000 repeated filters", client.get(short))
    async with client_for(build_app(database_url, session, max_url_bytes=65536)) as roomy:
        counted = await timed("1,000 repeated filters", roomy.get(thousand))

    problem(too_long, 414, "uri_too_long")
    assert problem(too_many, 400, "too_many_parameters")["detail"] == (
        "The query string has more than the 128 parameters this API accepts."
    )
    problem(counted, 400, "too_many_parameters")


async def test_repeats_within_the_caps_are_answered_correctly(
    client: AsyncClient, world: Article
) -> None:
    twenty = "/v1/articles?" + "&".join(["entity=japan"] * 20)
    twenty_one = "/v1/articles?" + "&".join(["entity=japan"] * 21)
    at_the_cap = "/v1/search?q=japan&" + "&".join(["type=article"] * 127)
    over_the_cap = "/v1/search?q=japan&" + "&".join(["type=article"] * 128)

    all_japan = await client.get(twenty)
    over_filter_cap = await client.get(twenty_one)
    articles = await client.get(at_the_cap)
    over_parameter_cap = await client.get(over_the_cap)

    assert [a["slug"] for a in all_japan.json()["items"]] == [ARTICLE]
    problem(over_filter_cap, 400, "validation_error")
    assert field_errors(over_filter_cap)[0][:2] == ("query", "entity")
    assert [(h["type"], h["slug"]) for h in articles.json()["items"]] == [("article", ARTICLE)]
    problem(over_parameter_cap, 400, "too_many_parameters")


async def test_the_parameter_cap_is_a_setting(
    database_url: str, session: AsyncSession, world: Article
) -> None:
    async with client_for(build_app(database_url, session, max_query_parameters=10)) as client:
        ten = await client.get("/v1/articles?" + "&".join(["entity=japan"] * 10))
        eleven = await client.get("/v1/articles?" + "&".join(["entity=japan"] * 11))

    assert ten.status_code == 200
    problem(eleven, 400, "too_many_parameters")


# --- cursors ------------------------------------------------------------------------------------


async def _real_cursor(client: AsyncClient) -> str:
    page = await client.get("/v1/entities?limit=1")
    cursor = page.json()["next_cursor"]
    assert isinstance(cursor, str)
    return cursor


def _flip(text: str, index: int) -> str:
    flipped = "A" if text[index] != "A" else "B"
    return text[:index] + flipped + text[index + 1 :]


async def test_malformed_and_altered_cursors_are_400(client: AsyncClient, world: Article) -> None:
    cursor = await _real_cursor(client)
    body, signature = cursor.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    rewritten = base64.urlsafe_b64encode(
        json.dumps(payload | {"k": ["zzz", payload["k"][1]]}).encode()
    ).decode()
    cases = {
        "": MALFORMED,
        "!!!": MALFORMED,
        "abc": MALFORMED,
        "a.b.c": MALFORMED,
        ".": ALTERED,
        "é.é": MALFORMED,
        f"{body}.é": ALTERED,
        f"{body}.{signature}x": ALTERED,
        f"{_flip(body, 5)}.{signature}": ALTERED,
        f"{body}.{_flip(signature, 3)}": ALTERED,
        f"{rewritten}.{signature}": ALTERED,
        cursor[: len(cursor) // 2]: MALFORMED,
    }

    for value, detail in cases.items():
        response = await timed(
            "malformed or altered cursor",
            client.get("/v1/entities", params={"limit": 1, "cursor": value}),
        )
        assert problem(response, 400, "invalid_cursor")["detail"] == detail, value
    too_long = await client.get("/v1/entities", params={"cursor": "a" * 2001})
    problem(too_long, 400, "validation_error")


async def test_a_cursor_from_another_query_is_400(client: AsyncClient, world: Article) -> None:
    cursor = await _real_cursor(client)

    other_endpoint = await client.get("/v1/articles", params={"cursor": cursor})
    other_filter = await client.get("/v1/entities", params={"cursor": cursor, "kind": "country"})
    same_query = await client.get("/v1/entities", params={"cursor": cursor, "limit": 1})

    for response in (other_endpoint, other_filter):
        assert problem(response, 400, "invalid_cursor")["detail"].startswith(
            "The cursor belongs to a different query"
        )
    assert same_query.status_code == 200


async def test_a_forged_cursor_with_values_the_database_refuses_is_400(
    client: AsyncClient, world: Article, settings: Settings
) -> None:
    """Someone holding the cursor secret (the development default is public) can sign any
    payload; its values still must not reach PostgreSQL as a NUL or an out-of-range time."""
    real = await _real_cursor(client)
    body = real.split(".")[0]
    query = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["q"]
    forge = Keyset([], secret=settings.cursor_secret.encode(), query_digest=query)
    some_id = "00000000-0000-0000-0000-000000000000"
    values: list[list[Any]] = [
        ["ja\x00pan", some_id],
        [1, 2],
        [None, None],
        [{"a": 1}, [1]],
        ["japan"],
        ["japan", "not-a-uuid"],
        ["japan", some_id, "extra"],
    ]

    for keys in values:
        forged = forge.encode(keys)
        response = await timed(
            "forged cursor",
            client.get("/v1/entities", params={"cursor": forged}),
        )
        problem(response, 400, "invalid_cursor")


# --- content type -------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", WRITES)
async def test_a_body_that_is_not_json_is_a_415_on_every_write(
    client: AsyncClient,
    session: AsyncSession,
    writer: dict[str, str],
    admin: dict[str, str],
    world: Article,
    operation: str,
) -> None:
    method, path, body = WRITES[operation]
    headers = write_headers(admin, method, operation)
    as_json = json.dumps(body).encode()
    before = await snapshot(session)

    answers = {
        "text/plain": await timed(
            "wrong content type",
            client.request(
                method, path, content=as_json, headers=headers | {"Content-Type": "text/plain"}
            ),
        ),
        "form": await timed(
            "wrong content type",
            client.request(
                method, path, data={k: str(v) for k, v in body.items()}, headers=headers
            ),
        ),
        "multipart": await timed(
            "wrong content type",
            client.request(method, path, files={"body": ("body.json", as_json)}, headers=headers),
        ),
        "none": await timed(
            "wrong content type",
            client.request(method, path, content=as_json, headers=headers),
        ),
        "none, empty": await timed(
            "wrong content type", client.request(method, path, headers=headers)
        ),
    }

    for kind, response in answers.items():
        refused = problem(response, 415, "unsupported_media_type")
        assert "application/json" in refused["detail"], kind
        accept = "Accept-Post" if method == "POST" else "Accept-Patch"
        assert response.headers[accept] == "application/json", kind
    assert "content-type" not in answers["none"].request.headers
    assert await snapshot(session) == before
    await send_clean(client, admin, operation, "clean")


async def test_json_media_types_with_parameters_or_suffixes_are_accepted(
    client: AsyncClient, writer: dict[str, str], admin: dict[str, str], world: Article
) -> None:
    _, _, body = WRITES["create_source"]

    charset = await client.post(
        "/v1/sources",
        content=json.dumps(body).encode(),
        headers=writer | {"Content-Type": "Application/JSON; charset=utf-8"},
    )
    merge_patch = await client.patch(
        "/v1/sources/nikkei",
        content=b'{"name": "Nikkei Asia"}',
        headers=admin | {"Content-Type": "application/merge-patch+json", "If-Match": "*"},
    )

    assert charset.status_code == 201
    assert merge_patch.status_code == 200
    assert merge_patch.json()["name"] == "Nikkei Asia"


async def test_operations_without_a_body_ignore_the_content_type(
    client: AsyncClient, writer: dict[str, str], admin: dict[str, str], world: Article
) -> None:
    response = await client.delete(
        "/v1/statements/kishida-on-the-islands",
        headers=admin | {"If-Match": "*", "Content-Type": "text/plain"},
    )

    assert response.status_code == 204


def test_415_is_documented_on_every_operation_with_a_body(app: FastAPI) -> None:
    document = app.openapi()
    with_body = [
        operation["operationId"]
        for path in document["paths"].values()
        for operation in path.values()
        if "requestBody" in operation
    ]
    documented = [
        operation["operationId"]
        for path in document["paths"].values()
        for operation in path.values()
        if operation.get("responses", {}).get("415", {}).get("content")
        == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    ]

    # Accepting a candidate and resolving a mention need a candidate and a mention of their
    # own, which the world here lacks: tests/candidates/ sends them bad bodies.
    assert sorted(with_body) == sorted([*WRITES, "accept_candidate", "update_article_mention"])
    assert documented == with_body
