"""Plain reads answered below FastAPI's router (api/shared/fast_reads.py): for every such route,
with good and bad parameters, the same status, headers and bytes as FastAPI's own path gives,
and what the fast path does not answer handed to the router."""

import json
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Receive, Scope, Send

from api.main import create_app
from api.settings import Settings
from api.shared.fast_reads import FastReads
from db.session import create_engine
from seeds.loader import default_seed_paths, load_seeds
from tests.support.bulk import import_bytes
from tests.support.clients import client_for
from tests.support.database import connect, migrated_database
from tests.support.fact_corpus import fact_corpus


@pytest.fixture(scope="module")
async def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The seed and the fact corpus, committed: every kind of fact, with evidence."""
    database_url = await migrated_database("fast_reads")
    records = "".join(json.dumps(record) + "\n" for record in fact_corpus()).encode()
    await import_bytes(database_url, tmp_path_factory.mktemp("facts") / "facts.ndjson", records)
    engine = create_engine(database_url)
    async with AsyncSession(engine) as session:
        await load_seeds(session, default_seed_paths(), force=True)
        await session.commit()
    await engine.dispose()
    return database_url


@pytest.fixture(scope="module")
async def keys(url: str) -> dict[str, str]:
    """A key of each kind a path takes, from the corpus."""
    connection = await connect(url)
    try:
        return {
            table: str(await connection.fetchval(f"SELECT slug FROM {table} ORDER BY slug LIMIT 1"))  # noqa: S608 (names written here)
            for table in ("article", "entity", "event", "dispute", "source", "statement")
        }
    finally:
        await connection.close()


class Both:
    """One app, asked through its own stack (the fast path) and through FastAPI's unchanged
    stack (the router's path), with a count of what the fast path handed to the router."""

    def __init__(self, app: FastAPI, fast: AsyncClient, plain: AsyncClient) -> None:
        self.app = app
        self.fast = fast
        self.plain = plain
        self.handed_on = 0

    def spy(self) -> None:
        reads: FastReads = self.app.state.fast_reads
        router = reads.router

        async def counting(scope: Scope, receive: Receive, send: Send) -> None:
            self.handed_on += 1
            await router(scope, receive, send)

        reads.router = counting

    async def ask(self, method: str, path: str) -> tuple[Response, bool]:
        """The fast path's answer, checked against the router's; and whether it answered
        itself."""
        before = self.handed_on
        fast = await self.fast.request(method, path)
        answered_here = self.handed_on == before
        plain = await self.plain.request(method, path)
        assert (fast.status_code, _body(fast)) == (plain.status_code, _body(plain)), path
        assert _headers(fast) == _headers(plain), path
        return fast, answered_here


def _body(response: Response) -> bytes:
    """The bytes, with the request's own id (a problem carries it) made alike."""
    return response.content.replace(response.headers["x-request-id"].encode(), b"<request id>")


def _headers(response: Response) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in response.headers.items() if k != "x-request-id")


@pytest.fixture
async def both(url: str) -> AsyncIterator[Both]:
    app = create_app(Settings.model_validate({"DATABASE_URL": url}))
    plain_stack = FastAPI.build_middleware_stack(app)

    async def plain_app(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = app  # as Starlette's own entry point does
        await plain_stack(scope, receive, send)

    transport = ASGITransport(app=plain_app, raise_app_exceptions=False)
    async with (
        client_for(app) as fast,
        AsyncClient(transport=transport, base_url="http://testserver") as plain,
    ):
        pair = Both(app, fast, plain)
        assert (await fast.get("/healthz")).status_code == 200  # builds the stack
        pair.spy()
        yield pair


# Values to try for each query parameter: good ones first, then bad ones.
SAMPLES: dict[str, list[str]] = {
    "q": ["talks", "oslo fishing", "", "x" * 501],
    "limit": ["2", "1", "0", "1001", "two"],
    "cursor": ["bogus"],
    "include": ["mentions", "events", "statements", "nothing"],
    "language": ["en", "e"],
    "published_after": ["2021-03-02T00:00:00Z", "2021-03-02", "yesterday"],
    "published_before": ["2021-03-04T00:00:00Z", "soon"],
    "from": ["2021", "2021-03", "2021-13"],
    "to": ["2022", "later"],
    "interval": ["month", "year", "fortnight"],
    "field": ["kind", "type", "nope"],
    "pov": ["ru", "jp", "zz"],
    "kind": ["person", "newspaper", "paraphrase", "planet"],
    "type": ["CONSULT", "article", "entity", "dispute", "VISIT", "nope"],
    "status": ["active", "pending", "nope"],
    "modality": ["asserted", "nope"],
    "after": ["0", "-1", "x"],
    "format": ["csv", "ndjson", "xml"],
    "wikidata": ["Q17", "17"],
}
# Parameters that take a key of some kind.
KEYED = {
    "source": "source",
    "entity": "entity",
    "event": "event",
    "dispute": "dispute",
    "article": "article",
    "participant": "entity",
    "party": "entity",
    "territory": "entity",
    "speaker": "entity",
    "location": "entity",
}


def _queries(names: list[str], keys: dict[str, str]) -> list[str]:
    queries = [""]
    for name in names:
        values = [keys[KEYED[name]], "no-such-key"] if name in KEYED else SAMPLES.get(name, ["x"])
        queries += [f"{name}={value}" for value in values]
    # Two good values at once, a parameter given twice, and one the route does not take.
    queries += ["&".join(queries[1:3]), f"{names[0]}=a&{names[0]}=b" if names else "", "nope=1"]
    return queries


def _paths(reads: FastReads, keys: dict[str, str]) -> list[tuple[str, str]]:
    """(route, path) for each plain read: its keys found and not, each parameter tried."""
    paths = []
    for route in reads.plain_reads():
        template = "/v1" + route.path.replace(":key}", "}")
        for param in route.dependant.path_params:
            paths.append((route.path, template.replace("{" + param.alias + "}", "no-such-key")))
        template = template.format(**keys)
        names = [param.alias for param in route.dependant.query_params]
        paths += [
            (route.path, f"{template}?{query}" if query else template)
            for query in _queries(names, keys)
        ]
    return paths


async def test_every_plain_read_answers_as_the_router_would(
    both: Both, keys: dict[str, str]
) -> None:
    reads: FastReads = both.app.state.fast_reads
    statuses: set[int] = set()
    succeeded: set[str] = set()
    for route, path in _paths(reads, keys):
        if route == "/export":
            continue  # its own test below: a stream, one at a time per slot
        response, here = await both.ask("GET", path)
        if not here:
            # Handed on only when the parameters did not validate.
            assert response.status_code in (400, 422), (path, response.text[:300])
            continue
        statuses.add(response.status_code)
        if response.status_code == 200:
            succeeded.add(route)
            cursor = response.json().get("next_cursor")
            if cursor:
                separator = "&" if "?" in path else "?"
                _, here = await both.ask("GET", f"{path}{separator}cursor={cursor}")
                assert here
    # Every route answered here with its data, and with the errors its handler raises (404
    # for a key naming nothing, 400 for an unknown parameter, a bad cursor or a filter's key).
    assert succeeded == {route.path for route in reads.plain_reads()} - {"/export"}
    assert {200, 400, 404} <= statuses


async def test_an_export_streams_the_same_bytes(both: Both, keys: dict[str, str]) -> None:
    for query in ("", f"?source={keys['source']}", "?format=csv&type=article", "?format=xml"):
        _, here = await both.ask("GET", f"/v1/export{query}")
        assert here == (query != "?format=xml")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/articles/", 307),  # the router's trailing-slash redirect
        ("GET", "/v1/nothing-here", 404),
        ("GET", "/v1/candidates/x/accept", 405),
        ("POST", "/v1/articles/x", 405),
        ("GET", "/v1/entities/{entity}", 200),  # has a dependency of its own: the router's
        ("GET", "/healthz", 200),
        ("GET", "/docs/assets/nothing.js", 404),
    ],
)
async def test_what_is_not_a_plain_read_goes_to_the_router(
    both: Both, keys: dict[str, str], method: str, path: str, status: int
) -> None:
    response, here = await both.ask(method, path.format(**keys))
    assert response.status_code == status
    assert not here


async def test_a_read_with_a_key_required_checks_it_on_the_fast_path(url: str) -> None:
    app = create_app(Settings.model_validate({"DATABASE_URL": url, "require_key_for_reads": True}))
    async with client_for(app) as client:
        refused = await client.get("/v1/articles?limit=1")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"


def test_the_hot_reads_are_plain(url: str) -> None:
    """The reads `make bench` races against the lean reference stay on the fast path: a
    dependency added to one of them would hand it back to the router, silently slower."""
    app = create_app(Settings.model_validate({"DATABASE_URL": url}))
    paths = {"/v1" + route.path for route in FastReads(app, app.router).plain_reads()}
    assert {
        "/v1/articles",
        "/v1/articles/{article:key}",
        "/v1/entities",
        "/v1/events",
        "/v1/search",
        "/v1/disputes/{dispute:key}/timeline",
    } <= paths
    # A write, or a read with a dependency of its own, is never one.
    assert "/v1/webhooks" not in paths
    assert "/v1/entities/{entity}" not in paths


async def test_a_route_that_may_match_any_path_is_looked_at_in_its_place(url: str) -> None:
    """A route whose first segments are parameters may match a path of any collection: one
    ahead of the plain reads takes their paths, as it does in the router."""
    app = create_app(Settings.model_validate({"DATABASE_URL": url}))

    async def anything(_: Request) -> PlainTextResponse:
        return PlainTextResponse("caught")

    app.router.add_route("/{collection}/{rest:path}", anything, methods=["GET"])
    app.router.routes.insert(0, app.router.routes.pop())
    async with client_for(app) as client:
        response = await client.get("/v1/articles?limit=1")
    assert response.text == "caught"
