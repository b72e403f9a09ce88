"""The rollup of entities' articles (db/models/rollup.py): after random writes of every kind
that changes what an article counts for, and after a bulk import, it holds what a recount
gives, and the histograms and facets it answers are those counted from the articles."""

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from httpx import AsyncClient
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.articles import aggregates
from bench.corpus import generate
from db.bulk import import_ndjson
from db.enums import DisputePartyRole, TimePrecision
from db.models import (
    Article,
    DisputeEvent,
    Entity,
    EventParticipant,
    Evidence,
    Mention,
    Statement,
)
from tests.support.database import connect, scratch_database
from tests.support.factories import (
    add_participant,
    add_party,
    add_territory,
    add_to_timeline,
    cite,
    make_article,
    make_dispute,
    make_entity,
    make_event,
    make_source,
    make_statement,
    mention_all,
)

# The rollup's rows with a count, and the same counted again from every article's keys.
ROLLUP = """
    SELECT entity_id::text, field, key, articles FROM entity_article_rollup
    WHERE articles > 0 ORDER BY 1, 2, 3
"""
RECOUNT = """
    WITH keys AS (
        SELECT * FROM newsgraph_article_facet_keys(ARRAY(SELECT id FROM article))
    )
    SELECT e.key, o.field, o.key, count(*) FROM keys e JOIN keys o USING (article_id)
    WHERE e.field = 'entity' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""
KEYS = "SELECT article_id::text, field, key FROM article_facet_key ORDER BY 1, 2, 3"
KEYS_RECOUNT = """
    SELECT article_id::text, field, key
    FROM newsgraph_article_facet_keys(ARRAY(SELECT id FROM article)) ORDER BY 1, 2, 3
"""
NAMES = [f"Name{n}" for n in range(8)]
PRECISIONS = [TimePrecision.DAY, TimePrecision.MONTH, TimePrecision.YEAR, TimePrecision.RANGE]


async def _rows(session: AsyncSession, query: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in await session.execute(text(query))]


async def _counted_both_ways(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch, slug: str
) -> tuple[Any, Any]:
    """An entity's article histogram and facets from the rollup, and from its articles."""
    paths = [
        ("/v1/articles/histogram", {"entity": slug, "interval": "month"}),
        ("/v1/articles/facets", {"entity": slug, "limit": "100"}),
    ]
    answers = []
    for rolled_up in (True, False):
        with monkeypatch.context() as patch:
            if not rolled_up:
                patch.setattr(aggregates, "_rolled_up", lambda filters: False)
            found = []
            for path, params in paths:
                response = await client.get(path, params=params)
                assert response.status_code == 200, response.text
                found.append(response.json())
            answers.append(found)
    return answers[0], answers[1]


@pytest.fixture
async def random_writes(session: AsyncSession) -> list[Entity]:
    """Two hundred writes, each chosen at random (seeded), of every kind that changes what an
    article counts for: articles made, moved in time, between sources and languages, and
    deleted; mentions added and removed; evidence for events, participants, statements,
    disputes, parties and territories added and removed; events linked to disputes and
    unlinked, statements moved between events, events and entities deleted."""
    rng = random.Random(15)
    entities = [await make_entity(session, f"name-{n}", name) for n, name in enumerate(NAMES)]
    sources = [await make_source(session, f"source-{n}", f"Source {n}") for n in range(3)]
    events = [await make_event(session, f"event-{n}", "2021-10") for n in range(6)]
    participants = [await add_participant(session, event, entities[0]) for event in events]
    statements = [
        await make_statement(session, f"statement-{n}", entities[1], "Said.", event=events[n])
        for n in range(3)
    ]
    disputes = [await make_dispute(session, f"dispute-{n}", f"Dispute {n}") for n in range(2)]
    parties = [await add_party(session, disputes[0], entities[2], DisputePartyRole.CLAIMANT)]
    territories = [await add_territory(session, disputes[1], entities[3])]
    articles: list[Article] = []
    start = datetime(2020, 1, 1, tzinfo=UTC)

    async def new_article() -> None:
        n = len(articles)
        named = rng.sample(NAMES, rng.randint(1, 4))
        article = await make_article(
            session,
            rng.choice(sources),
            f"article-{n}",
            f"Story {n}: " + " and ".join(named) + f" met on day {n}.",
            published_at=start + timedelta(days=rng.randrange(900)),
            language=rng.choice(["en", "ja", "RU"]),
        )
        for name in named:
            if rng.random() < 0.8:
                await mention_all(session, article, entities[NAMES.index(name)])
        articles.append(article)

    async def evidence_for(article: Article) -> None:
        column, subject = rng.choice(
            [
                ("event_id", rng.choice(events).id),
                ("event_participant_id", rng.choice(participants).id),
                ("statement_id", rng.choice(statements).id),
                ("dispute_id", rng.choice(disputes).id),
                ("dispute_party_id", parties[0].id),
                ("dispute_territory_id", territories[0].id),
            ]
        )
        cited: dict[str, Any] = {column: subject}
        await cite(session, article, "Story", **cited)

    for _ in range(20):
        await new_article()
    for _ in range(200):
        alive = [a for a in articles if a in session]
        article = rng.choice(alive)
        action = rng.randrange(12)
        if action == 0:
            await new_article()
        elif action == 1:
            article.published_at = start + timedelta(days=rng.randrange(900))
            article.published_precision = rng.choice(PRECISIONS)
        elif action == 2:
            article.published_at = None
            article.published_precision = None
        elif action == 3:
            article.source_id = rng.choice(sources).id
            article.language = rng.choice(["en", "fr", "Ja"])
        elif action == 4:
            mentioned = await session.scalars(
                select(Mention).where(Mention.article_id == article.id)
            )
            for mention in list(mentioned)[:1]:
                await session.delete(mention)
        elif action == 5:
            entity = rng.choice(entities)
            if entity in session and entity.name in article.body:
                await session.execute(
                    delete(Mention).where(
                        Mention.article_id == article.id, Mention.entity_id == entity.id
                    )
                )
                await mention_all(session, article, entity)
        elif action in (6, 7):
            await evidence_for(article)
        elif action == 8:
            cited = await session.scalars(select(Evidence).where(Evidence.article_id == article.id))
            for evidence in list(cited)[:1]:
                await session.delete(evidence)
        elif action == 9:
            event = rng.choice([e for e in events if e in session])
            dispute = rng.choice(disputes)
            linked = await session.scalar(
                select(DisputeEvent).where(
                    DisputeEvent.event_id == event.id, DisputeEvent.dispute_id == dispute.id
                )
            )
            if linked is None:
                await add_to_timeline(session, dispute, event)
            else:
                await session.delete(linked)
        elif action == 10:
            statement = rng.choice(statements)
            statement.event_id = rng.choice([e for e in events if e in session]).id
        elif rng.random() < 0.3:
            await session.delete(article)
        await session.flush()
    # An event deleted: its evidence and participants go by cascade, its statements lose it
    # (after unlinking it from the disputes, which keep their events).
    doomed = events[0]
    await session.execute(delete(DisputeEvent).where(DisputeEvent.event_id == doomed.id))
    await session.execute(delete(EventParticipant).where(EventParticipant.event_id == doomed.id))
    await session.delete(doomed)
    await session.flush()
    assert await session.scalar(select(Statement.id).where(Statement.event_id == doomed.id)) is None
    # An entity deleted: its mentions go by cascade.
    await session.delete(entities[7])
    await session.flush()
    return [e for e in entities if e in session and e is not entities[7]]


async def test_after_random_writes_the_rollup_is_a_recount(
    session: AsyncSession, random_writes: list[Entity]
) -> None:
    assert await _rows(session, KEYS) == await _rows(session, KEYS_RECOUNT)
    assert await _rows(session, "SELECT * FROM entity_article_rollup WHERE articles < 0") == []
    rollup = await _rows(session, ROLLUP)
    assert rollup == await _rows(session, RECOUNT)
    # The writes reached every field.
    assert {field for _, field, _, _ in rollup} == {
        "published",
        "source",
        "language",
        "entity",
        "event",
        "dispute",
    }


async def test_after_random_writes_the_rollup_answers_as_the_articles_do(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch, random_writes: list[Entity]
) -> None:
    for entity in random_writes:
        rolled_up, counted = await _counted_both_ways(client, monkeypatch, entity.slug)
        assert rolled_up == counted, entity.slug
        histogram, facets = rolled_up
        assert histogram["total"] == facets["total"] > 0, entity.slug


async def test_a_deleted_articles_counts_leave_the_rollup(session: AsyncSession) -> None:
    source = await make_source(session)
    japan = await make_entity(session, "japan", "Japan")
    russia = await make_entity(session, "russia", "Russia")
    article = await make_article(
        session,
        source,
        "talks",
        "Japan and Russia talked.",
        published_at=datetime(2021, 10, 7, tzinfo=UTC),
    )
    await mention_all(session, article, japan)
    await mention_all(session, article, russia)
    counted = await _rows(session, ROLLUP)
    assert (str(japan.id), "entity", str(russia.id), 1) in counted
    assert (str(japan.id), "published", "2021-10-07/2021-10-07", 1) in counted

    await session.delete(article)
    await session.flush()

    assert await _rows(session, ROLLUP) == []
    assert await _rows(session, KEYS) == []


async def test_an_edit_that_changes_no_key_writes_no_count(session: AsyncSession) -> None:
    source = await make_source(session)
    japan = await make_entity(session, "japan", "Japan")
    article = await make_article(session, source, "talks", "Japan talked.")
    await mention_all(session, article, japan)
    # An update writes a new version of a row, at a new place (ctid).
    before = await session.scalar(
        text("SELECT ctid::text FROM entity_article_rollup WHERE field = 'source'")
    )

    article.headline = "Japan talks"
    await session.flush()

    after = await session.scalar(
        text("SELECT ctid::text FROM entity_article_rollup WHERE field = 'source'")
    )
    assert before is not None
    assert before == after
    article.source_id = (await make_source(session, "tass", "TASS")).id
    await session.flush()
    moved = await session.scalar(
        text("SELECT ctid::text FROM entity_article_rollup WHERE field = 'source' AND articles > 0")
    )
    assert moved != before


@pytest.fixture
async def imported() -> AsyncIterator[str]:
    async with scratch_database("rollup") as url:
        yield url


async def test_a_bulk_import_leaves_the_rollup_a_recount(imported: str, tmp_path: Path) -> None:
    path = tmp_path / "corpus.ndjson"
    generate(path, articles=300, seed=5)
    connection = await connect(imported)
    try:
        # Small batches: later ones link earlier batches' events to disputes.
        report = await import_ndjson(connection, path, batch_lines=40)
        assert report.rejections == []
        rollup = [tuple(r) for r in await connection.fetch(ROLLUP)]
        assert rollup == [tuple(r) for r in await connection.fetch(RECOUNT)]
        assert [tuple(r) for r in await connection.fetch(KEYS)] == [
            tuple(r) for r in await connection.fetch(KEYS_RECOUNT)
        ]
        assert {row[1] for row in rollup} >= {"published", "source", "entity", "event"}
        # Out of the import, the triggers count again.
        assert await connection.fetchval(
            "SELECT current_setting('newsgraph.article_rollup', true)"
        ) in (None, "")
    finally:
        await connection.close()


# -- at commit, on a database of the test's own (the session fixture's transaction never commits)


async def _write_articles(url: str, writer: int, names: list[str]) -> None:
    """Ten articles naming the entities `names`, each in a transaction of its own, and every
    other one deleted again in another."""
    connection = await connect(url)
    try:
        source = await connection.fetchval("SELECT id FROM source")
        for n in range(10):
            body = f"{' and '.join(names)} met, writer {writer}, article {n}."
            async with connection.transaction():
                article = await connection.fetchval(
                    "INSERT INTO article (slug, source_id, language, body, content_hash, "
                    "published_at, published_precision) VALUES ($1, $2, 'en', $3, "
                    "encode(sha256(convert_to($3, 'UTF8')), 'hex'), now(), 'day') RETURNING id",
                    f"w{writer}-a{n}",
                    source,
                    body,
                )
                for name in names:
                    start = body.index(name)
                    await connection.execute(
                        "INSERT INTO mention (article_id, entity_id, start_offset, end_offset, "
                        "surface, method) SELECT $1, id, $2, $3, $4, 'curated' FROM entity "
                        "WHERE name = $4",
                        article,
                        start,
                        start + len(name),
                        name,
                    )
            if n % 2:
                async with connection.transaction():
                    await connection.execute("DELETE FROM article WHERE id = $1", article)
    finally:
        await connection.close()


async def test_concurrent_writers_naming_the_same_entities_leave_a_recount(
    imported: str,
) -> None:
    connection = await connect(imported)
    try:
        await connection.execute(
            "INSERT INTO source (slug, name, kind) VALUES ('kyodo', 'Kyodo', 'news_agency')"
        )
        await connection.executemany(
            "INSERT INTO entity (slug, name, kind) VALUES ($1, $2, 'country')",
            [(name.lower(), name) for name in NAMES[:3]],
        )
        await asyncio.gather(
            *(_write_articles(imported, writer, NAMES[: 2 + writer % 2]) for writer in range(8))
        )
        rollup = [tuple(r) for r in await connection.fetch(ROLLUP)]
        assert rollup == [tuple(r) for r in await connection.fetch(RECOUNT)]
        # 8 writers x 5 articles kept, each naming Name0.
        name0 = await connection.fetchval("SELECT id::text FROM entity WHERE name = 'Name0'")
        assert (name0, "entity", name0, 40) in rollup
        assert await connection.fetchval("SELECT count(*) FROM article_rollup_pending") == 0
    finally:
        await connection.close()


async def _write_article_naming_name0(connection: asyncpg.Connection) -> None:
    """An undated article of the one source, and its mention of the one entity (Name0): two
    statements."""
    await connection.execute(
        "INSERT INTO article (slug, source_id, language, body, content_hash) "
        "SELECT 'a', id, 'en', 'Name0 met.', repeat('a', 64) FROM source"
    )
    await connection.execute(
        "INSERT INTO mention (article_id, entity_id, start_offset, end_offset, surface, "
        "method) SELECT a.id, e.id, 0, 5, 'Name0', 'curated' FROM article a, entity e"
    )


async def test_the_counts_change_at_commit_and_not_after_a_rollback(imported: str) -> None:
    connection = await connect(imported)
    try:
        await connection.execute(
            "INSERT INTO source (slug, name, kind) VALUES ('kyodo', 'Kyodo', 'news_agency')"
        )
        await connection.execute(
            "INSERT INTO entity (slug, name, kind) VALUES ('name0', 'Name0', 'country')"
        )
        transaction = connection.transaction()
        await transaction.start()
        await _write_article_naming_name0(connection)
        # Noted, not yet counted.
        assert await connection.fetchval("SELECT count(*) FROM article_rollup_pending") == 2
        assert await connection.fetch(ROLLUP) == []
        await transaction.rollback()
        assert await connection.fetchval("SELECT count(*) FROM article_rollup_pending") == 0
        assert await connection.fetch(ROLLUP) == []

        async with connection.transaction():
            await _write_article_naming_name0(connection)
        name0 = await connection.fetchval("SELECT id::text FROM entity")
        assert [tuple(r) for r in await connection.fetch(ROLLUP)] == [
            (name0, "entity", name0, 1),
            (name0, "language", "en", 1),
            (name0, "published", "", 1),
            (name0, "source", await connection.fetchval("SELECT id::text FROM source"), 1),
        ]
        assert await connection.fetchval("SELECT count(*) FROM article_rollup_pending") == 0
    finally:
        await connection.close()
