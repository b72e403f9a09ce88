"""What the hostile-input tests share: how a refusal is checked, how "nothing changed" is
proved (a digest of every table), the time each case took to be answered, and every operation
that takes a body with a body it accepts (so a refusal has no reason but the hostile part)."""

import json
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from httpx import AsyncClient, Response
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.main import create_app
from api.settings import Settings
from api.shared.deps import get_session
from db.base import Base
from db.enums import EntityKind, StatementKind
from db.models import Article, Entity, Source
from tests.support.factories import (
    make_article,
    make_dispute,
    make_entity,
    make_event,
    make_statement,
    mention_all,
)
from tests.support.writing import ARTICLE, span

POSITION = "the Northern Territories belong to Japan"

# Generous (the machine may be busy with other work): a hostile request must not hang; real
# times are reported, not asserted.
NO_HANG_SECONDS = 5.0

# The answer times seen for each case, in seconds (printed by the modules with `-s`).
LATENCIES: dict[str, list[float]] = {}

# Columns that change on every authenticated request, whatever it asks.
_VOLATILE = {("api_key", "last_used_at")}

T = TypeVar("T")

_DIGEST = (
    "SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), ''))"
    " FROM ({rows}) AS t"
)


async def timed(case: str, request: Awaitable[T]) -> T:
    """Await `request` (a coroutine not yet started), keeping the time it took."""
    started = time.perf_counter()
    answer = await request
    elapsed = time.perf_counter() - started
    LATENCIES.setdefault(case, []).append(elapsed)
    assert elapsed < NO_HANG_SECONDS, f"{case}: answered after {elapsed:.2f} s"
    return answer


def latency_report() -> str:
    width = max((len(case) for case in LATENCIES), default=0)
    lines = [
        f"{case:<{width}}  {len(times):4d}  {statistics.median(times) * 1000:8.1f}"
        f"  {max(times) * 1000:8.1f}"
        for case, times in LATENCIES.items()
    ]
    return "\n".join([f"{'hostile case':<{width}}     n  median ms  max ms", *lines])


def check_problem(
    status_code: int, headers: Any, problem: Any, *, status: int, code: str
) -> dict[str, Any]:
    """A problem+json refusal with this status and code, carrying the request id."""
    assert status_code == status, (status_code, problem)
    assert headers["content-type"] == "application/problem+json"
    assert isinstance(problem, dict)
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["type"] == f"https://newsgraph.dev/problems/{code}"
    assert headers["x-request-id"] == problem["request_id"]
    return problem


async def snapshot(session: AsyncSession) -> dict[str, str]:
    """Every table's row count and a digest of its rows, as this session sees them."""
    digests = {}
    for table in Base.metadata.sorted_tables:
        columns = ", ".join(
            f'"{column.name}"'
            for column in table.columns
            if (table.name, column.name) not in _VOLATILE
        )
        # Table and column names come from the ORM's metadata, not from input.
        rows = f'SELECT {columns} FROM "{table.name}"'  # noqa: S608
        digest = await session.scalar(text(_DIGEST.format(rows=rows)))
        digests[table.name] = str(digest)
    return digests


def problem(response: Response, status: int, code: str) -> dict[str, Any]:
    return check_problem(
        response.status_code, response.headers, response.json(), status=status, code=code
    )


def field_errors(response: Response) -> list[tuple[str, str, str]]:
    return [(e["location"], e["field"], e["type"]) for e in response.json()["errors"]]


async def session_per_request(request: Request) -> AsyncIterator[AsyncSession]:
    """As in production, a request that fails leaves nothing behind: each request runs in a
    savepoint of the test's transaction (`app.state.test_session`), released on success and
    rolled back on error. At module level: FastAPI caches dependency functions, so a closure
    per test would keep its session alive to the end of the run."""
    session: AsyncSession = request.app.state.test_session
    savepoint = await session.begin_nested()
    try:
        yield session
    except BaseException:
        await savepoint.rollback()
        raise
    else:
        await savepoint.commit()


def build_app(database_url: str, session: AsyncSession, **settings: Any) -> FastAPI:
    # No rate limit: these tests send many requests from one address.
    app = create_app(
        Settings.model_validate(
            {"DATABASE_URL": database_url, "rate_limit_enabled": False} | settings
        )
    )
    app.state.test_session = session
    app.dependency_overrides[get_session] = session_per_request
    return app


async def build_world(session: AsyncSession, call: Article) -> Article:
    """The Kyodo article (mentioning Japan), the person, place, event, statement and dispute
    the write bodies name, and a second article that does not mention Japan."""
    japan = await session.scalar(select(Entity).where(Entity.slug == "japan"))
    kyodo = await session.scalar(select(Source).where(Source.slug == "kyodo"))
    assert japan is not None
    assert kyodo is not None
    await mention_all(session, call, japan)
    kishida = await make_entity(session, "fumio-kishida", "Fumio Kishida", EntityKind.PERSON)
    await make_entity(
        session, "southern-kuril-islands", "Southern Kuril Islands", EntityKind.TERRITORY
    )
    await make_event(session, "kishida-putin-call", "2021-10-07", mode="phone")
    await make_statement(
        session, "kishida-on-the-islands", kishida, POSITION, kind=StatementKind.PARAPHRASE
    )
    await make_dispute(session, "kuril-islands-dispute", "Kuril Islands dispute")
    await make_article(
        session,
        kyodo,
        "markets-close",
        "Markets closed higher in Tokyo on Friday as exporters gained.",
    )
    return call


# Every operation that takes a body, with a body it accepts.
WRITES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "create_source": (
        "POST",
        "/v1/sources",
        {
            "slug": "nikkei",
            "name": "Nikkei",
            "kind": "newspaper",
            "homepage_url": "https://www.nikkei.com/",
        },
    ),
    "create_article": (
        "POST",
        "/v1/articles",
        {
            "source": "kyodo",
            "slug": "talks-to-continue",
            "headline": "Talks to continue",
            "byline": "Kyodo staff",
            "url": "https://example.com/talks",
            "language": "en",
            "published_at": "2021-10-08T09:00:00Z",
            "summary": "The leaders agreed to keep talking.",
            "body": "Japan and Russia agreed to keep talking about the islands.",
            "detect_mentions": False,
        },
    ),
    "create_entity": (
        "POST",
        "/v1/entities",
        {
            "slug": "shikotan",
            "kind": "place",
            "name": "Shikotan",
            "description": "One of the islands.",
            "external_ids": {"wikidata": "Q1850108"},
            "aliases": [
                {
                    "name": "Sikotan",
                    "language": "ru",
                    "kind": "common",
                    "used_by": "russia",
                    "evidence": [span("Southern Kurils")],
                }
            ],
            "relations": [
                {
                    "kind": "part_of",
                    "object": "southern-kuril-islands",
                    "role": "island",
                    "time": "1945/..",
                    "evidence": [{"editorial": True, "note": "Geography.", "article": ARTICLE}],
                }
            ],
            "evidence": [span("the islands")],
        },
    ),
    "create_event": (
        "POST",
        "/v1/events",
        {
            "slug": "kishida-putin-follow-up",
            "title": "Kishida and Putin talk again",
            "summary": "A second call.",
            "type": "CONSULT",
            "mode": "phone",
            "contexts": ["diplomatic"],
            "time": "2021-10-07",
            "duration": "PT25M",
            "location": "japan",
            "participants": [
                {"entity": "japan", "role": "actor", "evidence": [span("Fumio Kishida spoke")]}
            ],
            "evidence": [span("spoke with Russian President Vladimir Putin")],
        },
    ),
    "create_statement": (
        "POST",
        "/v1/statements",
        {
            "slug": "kishida-islands-are-japans",
            "speaker": "fumio-kishida",
            "kind": "direct_quote",
            "text": POSITION,
            "conveyed_by": "japan",
            "conveyed_by_description": "a ministry official",
            "event": "kishida-putin-call",
            "evidence": [span(POSITION)],
        },
    ),
    "create_dispute": (
        "POST",
        "/v1/disputes",
        {
            "slug": "kurils-sovereignty",
            "title": "Sovereignty over the Kurils",
            "kind": "territorial",
            "status": "active",
            "time": "1945/..",
            "summary": "Japan and Russia both claim the southern Kuril Islands.",
            "parties": [
                {
                    "entity": "japan",
                    "role": "claimant",
                    "position": "The islands are Japan's.",
                    "evidence": [span(POSITION)],
                }
            ],
            "territories": [
                {
                    "entity": "southern-kuril-islands",
                    "administered_by": "russia",
                    "claimed_by": "japan",
                }
            ],
            "events": [
                {
                    "event": "kishida-putin-call",
                    "role": "negotiation",
                    "significance": "They agree to keep talking.",
                }
            ],
        },
    ),
    "create_webhook": (
        "POST",
        "/v1/webhooks",
        # A public address: nothing to resolve, and nothing sent (no worker runs).
        {"url": "https://93.184.215.14/hooks/newsgraph", "types": ["event"]},
    ),
    "update_source": (
        "PATCH",
        "/v1/sources/kyodo",
        {"name": "Kyodo News", "homepage_url": "https://english.kyodonews.net/"},
    ),
    "update_article": (
        "PATCH",
        f"/v1/articles/{ARTICLE}",
        {
            "headline": "Kishida and Putin talk",
            "byline": "Kyodo",
            "url": "https://example.com/call",
            "summary": "A phone call.",
        },
    ),
    "update_entity": (
        "PATCH",
        "/v1/entities/japan",
        {
            "description": "An island country.",
            "external_ids": {"wikidata": "Q17"},
            "aliases": [{"name": "Nippon", "language": "ja", "kind": "common"}],
        },
    ),
    "update_event": (
        "PATCH",
        "/v1/events/kishida-putin-call",
        {
            "title": "Kishida and Putin talk by phone",
            "summary": "Their first call.",
            "mode": "phone",
            "contexts": ["territory"],
            "time": "2021-10-07",
        },
    ),
    "update_statement": (
        "PATCH",
        "/v1/statements/kishida-on-the-islands",
        {"text": "The islands belong to Japan.", "conveyed_by_description": "an aide"},
    ),
    "update_dispute": (
        "PATCH",
        "/v1/disputes/kuril-islands-dispute",
        {"title": "Kuril Islands dispute", "summary": "Over four islands."},
    ),
}


def write_headers(writer: dict[str, str], method: str, case: str) -> dict[str, str]:
    if method == "PATCH":
        return writer | {"If-Match": "*"}
    # An idempotency record is a row too: a refused create must not leave one.
    return writer | {"Idempotency-Key": f"hostile-{case}"}


def string_leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from string_leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from string_leaves(item, (*path, str(index)))


def with_nul(body: Any, path: tuple[str, ...]) -> Any:
    """A deep copy of `body` with a NUL in the middle of the string at `path`."""
    copy = json.loads(json.dumps(body))
    parent = copy
    for key in path[:-1]:
        parent = parent[int(key) if isinstance(parent, list) else key]
    last: Any = int(path[-1]) if isinstance(parent, list) else path[-1]
    value = parent[last]
    parent[last] = value[: len(value) // 2] + "\x00" + value[len(value) // 2 :]
    return copy


async def send_clean(
    client: AsyncClient, writer: dict[str, str], operation: str, case: str
) -> None:
    """The control: the same operation with its clean body succeeds."""
    method, path, body = WRITES[operation]
    response = await client.request(
        method, path, json=body, headers=write_headers(writer, method, case)
    )
    assert response.status_code == (201 if method == "POST" else 200), response.text
