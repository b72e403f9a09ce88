"""The lean reference (bench/lean.py) serves what the API serves, byte for byte: the same body,
ETag, Cache-Control, Content-Type, next_cursor and Link for an article by id or slug and for
the first page of an entity's articles, from the same SQL statements. When the API's bytes
change, this fails until the reference follows, so `make bench`'s API / lean ratio keeps
comparing like with like."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.main import create_app
from api.settings import DEVELOPMENT_CURSOR_SECRET, Settings
from api.shared import http_cache, pagination
from bench import floor, lean
from bench.floor import Load
from bench.run import Result, lean_section
from bench.scenarios import Scenario
from db.enums import EntityKind, TimePrecision
from db.models import Article, Source
from db.session import create_engine, server_settings
from tests.support.clients import client_for
from tests.support.database import migrated_database
from tests.support.factories import make_article, make_entity, make_source, mention_all

# Headers both apps must agree on; `link` is compared absent or present alike.
COMPARED = ("etag", "cache-control", "content-type", "content-length", "link")
AWKWARD = 'Kishida «\u00e9té» \u2028 </script> "quoted" \\ \x1f \U0001f5fe'


@dataclass
class Corpus:
    by_id: list[str]
    by_slug: list[str]
    entities: list[str]


async def _article(
    session: AsyncSession,
    source: Source,
    slug: str,
    body: str,
    *,
    published_at: datetime | None,
    precision: TimePrecision = TimePrecision.DAY,
    headline: str | None = None,
    byline: str | None = None,
    url: str | None = None,
    summary: str | None = None,
) -> Article:
    article = await make_article(
        session, source, slug, body, headline=headline, published_at=published_at
    )
    article.published_precision = precision if published_at else None
    article.byline, article.url, article.summary = byline, url, summary
    await session.flush()
    return article


async def _load(database_url: str) -> Corpus:
    """Committed rows (the lean app has a pool of its own, outside any test transaction):
    a popular entity (more than a page), a rare one, an undated tail, equal times, nulls,
    microseconds and text JSON must escape."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            kyodo = await make_source(session, "kyodo", f"Kyodo {AWKWARD}")
            tass = await make_source(session, "tass", "TASS")
            japan = await make_entity(session, "japan", "Japan")
            russia = await make_entity(session, "russia", "Russia")
            kurils = await make_entity(session, "kuril-islands", "Kurils", EntityKind.TERRITORY)
            await make_entity(session, "nobody", "Nobody", EntityKind.PERSON)
            start = datetime(2021, 10, 7, 9, 30, 15, 120_000, tzinfo=UTC)
            articles: list[Article] = []
            for number in range(27):
                # Pairs at the same instant (the id breaks the tie), three undated at the end.
                published = start + timedelta(hours=number // 2) if number < 24 else None
                article = await _article(
                    session,
                    kyodo if number % 3 else tass,
                    f"japan-story-{number}",
                    f"Japan and Russia, story {number}. Kurils."
                    if number % 9 == 0
                    else f"Japan, story {number}: {AWKWARD}",
                    published_at=published,
                    precision=TimePrecision.MONTH if number % 2 else TimePrecision.DAY,
                    headline=None if number % 4 == 0 else f"Headline {number} {AWKWARD}",
                    byline=f"Desk {number}" if number % 5 == 0 else None,
                    url=f"https://example.org/{number}?a=1&b=\u00e9" if number % 2 else None,
                    summary=f"Summary {number}\n\t{AWKWARD}" if number % 3 else None,
                )
                await mention_all(session, article, japan)
                await mention_all(session, article, russia)
                await mention_all(session, article, kurils)
                articles.append(article)
            await session.commit()
        picked = [articles[n] for n in (0, 1, 5, 9, 24, 26)]
        return Corpus(
            by_id=[str(a.id) for a in picked],
            by_slug=[a.slug for a in picked],
            entities=["japan", "russia", "kuril-islands", "nobody", str(japan.id)],
        )
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def database_url() -> str:
    return await migrated_database("lean")


@pytest.fixture(scope="module")
async def corpus(database_url: str) -> Corpus:
    return await _load(database_url)


@pytest.fixture(scope="module")
def settings(database_url: str) -> Settings:
    return Settings.model_validate({"DATABASE_URL": database_url})


@pytest.fixture(scope="module")
async def api(settings: Settings) -> AsyncIterator[AsyncClient]:
    async with client_for(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
async def reference(database_url: str, settings: Settings) -> AsyncIterator[AsyncClient]:
    app = lean.create_app(
        database_url, server_settings=server_settings(settings.db_statement_timeout_ms)
    )
    await app.open()  # httpx's ASGITransport sends no lifespan events
    try:
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await app.close()


def _paths(corpus: Corpus) -> list[str]:
    lists = [f"/v1/articles?entity={key}" for key in corpus.entities]
    return [
        *(f"/v1/articles/{key}" for key in corpus.by_id + corpus.by_slug),
        *lists,
        "/v1/articles?entity=japan&limit=5",
        "/v1/articles?limit=25&entity=japan",
        "/v1/articles?entity=kuril-islands&limit=3",
    ]


def _same(api: Response, reference: Response) -> None:
    assert reference.status_code == api.status_code
    assert reference.content == api.content
    for name in COMPARED:
        assert reference.headers.get(name) == api.headers.get(name), name


async def test_the_lean_reference_serves_the_apis_bytes(
    corpus: Corpus, api: AsyncClient, reference: AsyncClient
) -> None:
    cursors = 0
    for path in _paths(corpus):
        expected = await api.get(path)
        assert expected.status_code == 200, (path, expected.text)
        _same(expected, await reference.get(path))
        cursors += expected.json().get("next_cursor") is not None
        # The API's cursor leads to its next page: the reference's is the same cursor.
        if "link" in expected.headers:
            next_url = expected.headers["link"].removeprefix("<").split(">;")[0]
            assert (await api.get(next_url)).status_code == 200
    assert cursors >= 4  # pages that end on a dated, an equal-time and an undated row


async def test_a_matching_etag_is_a_304_from_both(
    corpus: Corpus, api: AsyncClient, reference: AsyncClient
) -> None:
    for path in (f"/v1/articles/{corpus.by_id[0]}", "/v1/articles?entity=japan"):
        etag = (await api.get(path)).headers["etag"]
        for value in (etag, f"W/{etag}", f'"other", {etag}'):
            headers = {"If-None-Match": value}
            expected = await api.get(path, headers=headers)
            assert expected.status_code == 304
            _same(expected, await reference.get(path, headers=headers))


async def test_the_lean_reference_sends_the_apis_statements(
    corpus: Corpus, settings: Settings, reference: AsyncClient
) -> None:
    """The same SQL text (the same prepared statements, the same plans) with the same
    parameters as the API sends, captured as bench/floor.py captures them."""
    by_id, by_slug = corpus.by_id[0], corpus.by_slug[0]
    captured = await floor.capture(
        settings, [f"/v1/articles/{by_id}", f"/v1/articles/{by_slug}", "/v1/articles?entity=japan"]
    )
    assert [[sql for sql, _ in statements] for statements in captured] == [
        [lean.ARTICLE_BY_ID_SQL],
        [lean.ARTICLE_BY_SLUG_SQL],
        [lean.ENTITY_IDS_SQL, lean.ARTICLES_OF_ENTITY_SQL],
    ]
    assert [str(value) for value in captured[0][0][1]] == [by_id]
    assert captured[1][0][1] == (by_slug,)
    assert captured[2][0][1] == ([], ["japan"])
    assert captured[2][1][1][1] == pagination.DEFAULT_LIMIT + 1


def test_the_lean_reference_is_configured_as_the_api() -> None:
    defaults = Settings()
    assert lean.DEVELOPMENT_CURSOR_SECRET == DEVELOPMENT_CURSOR_SECRET
    assert (
        defaults.db_pool_size,
        defaults.db_max_overflow,
        defaults.db_statement_timeout_ms,
        defaults.db_idle_in_transaction_timeout_ms,
    ) == (
        lean.DEFAULT_POOL_SIZE,
        lean.DEFAULT_MAX_OVERFLOW,
        lean.DEFAULT_STATEMENT_TIMEOUT_MS,
        lean.DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    )
    assert (lean.DEFAULT_LIMIT, lean.MAX_LIMIT) == (pagination.DEFAULT_LIMIT, pagination.MAX_LIMIT)
    assert lean.PUBLIC_CACHE_CONTROL.decode() == http_cache.PUBLIC_CACHE_CONTROL
    assert lean.PRIVATE_CACHE_CONTROL.decode() == http_cache.PRIVATE_CACHE_CONTROL


def test_the_workers_need_no_sqlalchemy(monkeypatch: pytest.MonkeyPatch) -> None:
    """bench/run.py passes the API's session settings as JSON; without them the lean app
    computes the same ones itself."""
    monkeypatch.delenv("NEWSGRAPH_LEAN_SERVER_SETTINGS", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u@db/x")
    computed = lean.create_app()
    assert computed.server_settings == server_settings(15_000)
    assert computed.dsn == "postgresql://u@db/x"
    monkeypatch.setenv("NEWSGRAPH_LEAN_SERVER_SETTINGS", '{"application_name": "x"}')
    assert lean.create_app().server_settings == {"application_name": "x"}


def test_the_report_puts_the_lean_reference_beside_the_api_and_the_floor() -> None:
    def load(rate: float, p99_ms: float = 10.0) -> Load:
        return Load(requests=int(rate * 10), seconds=10.0, p50_ms=1.0, p99_ms=p99_ms, errors=0)

    by_id = Scenario("article_by_id", "GET /v1/articles/{id}", ["/v1/articles/x"])
    healthz = Scenario("healthz", "GET /healthz", ["/healthz"], floor=False)
    raced = Result(
        by_id,
        http=[load(600), load(700), load(800)],
        floor=[load(2000), load(2000), load(2000)],
        lean=[load(1000, 20.0), load(1000, 30.0), load(2000, 40.0)],
    )
    mib = 2**20
    lines = lean_section([raced, Result(healthz, http=[load(9000)])], [[120 * mib]], [[38 * mib]])
    rows = [line for line in lines if line.startswith("| GET")]
    # API / lean per round: 0.6, 0.7, 0.4; API / floor: 0.3, 0.35, 0.4.
    assert rows == [
        "| GET /v1/articles/{id} | 600 / 700 | 1,000 / 1,000 | 20.0 / 30.0 | 0 | "
        "**0.40 / 0.60** | >= 0.6 (met, median) | 0.30 / 0.35 |"
    ]
    assert any("API 120; lean 38" in line for line in lines)
    assert lean_section([Result(healthz, http=[load(9000)])], [], []) == []
