"""`import_ndjson`: a corpus file (bench/README.md) -> the database, batch by batch.

    read `batch_lines` lines; parse + validate each (db.bulk.records)   -> rejected lines
    look up what the batch defines or refers to outside itself          (one query a table)
    resolve slugs, check spans and uniqueness (db.bulk.rows)            -> rejected lines
    COPY every table the batch touches, in one transaction              -> or reject the batch

Only one batch of lines is held at a time, plus slug -> id for sources and entities (which
nearly every line refers to); articles, aliases and events are looked up in the database per
batch. A line creates its rows: one defining a slug, a relation or a subject's evidence that
the database already holds is rejected, so importing a file twice changes nothing.
"""

import asyncio
import itertools
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import asyncpg
from pydantic import ValidationError

from db.bulk.records import (
    RECORD,
    ArticleRecord,
    DisputeRecord,
    EntityRecord,
    EventRecord,
    EvidencePart,
    EvidenceRecord,
    PartyPart,
    Record,
    RelationRecord,
    SourceRecord,
    StatementRecord,
    TerritoryPart,
    TimelinePart,
)
from db.bulk.rows import (
    COLUMNS,
    TABLES,
    CitedSpan,
    Invalid,
    Lookup,
    RelationKey,
    Resolver,
    Row,
    relation_key,
)
from db.checks import article_content_hash
from db.enums import StatementKind
from db.models import ArticleFacetKey, Change, EntityArticleRollup

# What the tables' triggers write as records load: the articles' facet keys and the entities'
# counts of them (db/models/rollup.py), and the change feed.
TRIGGER_WRITTEN = (
    ArticleFacetKey.__tablename__,
    EntityArticleRollup.__tablename__,
    Change.__tablename__,
)

# (lines read, bytes read, file size in bytes, seconds since the start)
Progress = Callable[[int, int, int, float], None]

# Enough to show and to test; a re-import of a large file must not hold a million reasons.
KEPT_REJECTIONS = 1000


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    reason: str


@dataclass(slots=True)
class ImportReport:
    lines: int = 0
    imported_lines: int = 0
    rejected: int = 0
    # the first KEPT_REJECTIONS, in line order
    rejections: list[Rejection] = field(default_factory=list)
    rows: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    failed_batches: int = 0
    seconds: float = 0.0

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < KEPT_REJECTIONS:
            self.rejections.append(Rejection(line, reason))


@dataclass(slots=True)
class _Known:
    """Sources and entities imported or looked up so far: slug -> id."""

    sources: dict[str, uuid.UUID] = field(default_factory=dict)
    entities: dict[str, uuid.UUID] = field(default_factory=dict)


@dataclass(slots=True)
class _ReadBatch:
    first_line: int
    lines: int = 0
    bytes: int = 0
    records: list[tuple[int, Record, str]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def _read_batch(stream: BinaryIO, first_line: int, count: int) -> _ReadBatch:
    """The next `count` lines, parsed and validated; (line, record, content hash of an article)."""
    batch = _ReadBatch(first_line)
    for line, raw in enumerate(itertools.islice(stream, count), start=first_line):
        batch.lines += 1
        batch.bytes += len(raw)
        if not raw.strip():
            continue
        try:
            record = RECORD.validate_json(raw)
        except ValidationError as error:
            batch.rejections.append(Rejection(line, _validation_reason(error)))
            continue
        content_hash = (
            article_content_hash(record.body) if isinstance(record, ArticleRecord) else ""
        )
        batch.records.append((line, record, content_hash))
    return batch


def _validation_reason(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    if first["type"] == "json_invalid":
        return f"not valid JSON: {first['ctx'].get('error', first['msg'])}"
    if first["type"] == "union_tag_invalid":
        return f"unknown record type {first['ctx']['tag']!r}"
    if first["type"] == "union_tag_not_found":
        return "no record type (the `type` field is missing)"
    if first["type"] == "model_attributes_type":
        return "not a JSON object"
    # The first location part is the record type (the discriminator's tag).
    location = ".".join(str(part) for part in first["loc"][1:])
    more = error.error_count() - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{location or 'record'}: {first['msg']}{suffix}"


async def _slug_ids(
    connection: asyncpg.Connection, table: str, slugs: set[str]
) -> dict[str, uuid.UUID]:
    if not slugs:
        return {}
    # `table` is one of our own table names, never input.
    rows = await connection.fetch(
        f"SELECT slug, id FROM {table} WHERE slug = ANY($1::text[])",  # noqa: S608
        list(slugs),
    )
    return {row["slug"]: row["id"] for row in rows}


def _spans(record: Record) -> list[EvidencePart]:
    """Every evidence item of a record, its parts' included."""
    if isinstance(record, EvidenceRecord):
        return list(record.items)
    if isinstance(record, RelationRecord | StatementRecord):
        return list(record.evidence)
    if isinstance(record, EventRecord):
        return [
            *record.evidence,
            *(item for participant in record.participants for item in participant.evidence),
        ]
    if isinstance(record, DisputeRecord):
        parts: list[PartyPart | TerritoryPart | TimelinePart] = [
            *record.parties,
            *record.territories,
            *record.timeline,
        ]
        return [*record.evidence, *(item for part in parts for item in part.evidence)]
    return []


async def _lookup(
    connection: asyncpg.Connection, records: list[tuple[int, Record, str]], known: _Known
) -> Lookup:
    defined: dict[str, set[str]] = {
        "source": set(),
        "entity": set(),
        "article": set(),
        "event": set(),
        "statement": set(),
        "dispute": set(),
    }
    sources: set[str] = set()
    entities: set[str] = set()
    events: set[str] = set()
    urls: set[str] = set()
    hashes: set[str] = set()
    cited: set[tuple[str, int, int]] = set()
    named: set[str] = set()  # articles of editorial evidence and of evidence lines
    aliases: set[tuple[str, str, str | None]] = set()
    evidenced: set[tuple[str | None, ...]] = set()
    relations: set[RelationKey] = set()
    quoted: set[tuple[str, str]] = set()
    for _, record, content_hash in records:
        if isinstance(record, SourceRecord):
            defined["source"].add(record.slug)
        elif isinstance(record, EntityRecord):
            defined["entity"].add(record.slug)
            entities.update(alias.used_by for alias in record.aliases if alias.used_by)
        elif isinstance(record, ArticleRecord):
            defined["article"].add(record.slug)
            sources.add(record.source)
            entities.update(mention.entity for mention in record.mentions if mention.entity)
            entities.update(
                slug for mention in record.mentions for slug in mention.possible_entities
            )
            hashes.add(content_hash)
            if record.url is not None:
                urls.add(record.url)
        elif isinstance(record, EvidenceRecord):
            evidenced.add(record.subject)
            if record.entity is not None:
                entities.add(record.entity)
            if record.article is not None:
                named.add(record.article)
            if record.of == "alias" and record.entity is not None and record.name is not None:
                aliases.add((record.entity, record.name, record.language))
        elif isinstance(record, RelationRecord):
            entities.update((record.subject, record.object))
            relations.add(relation_key(record))
        elif isinstance(record, EventRecord):
            defined["event"].add(record.slug)
            entities.update(participant.entity for participant in record.participants)
            if record.location is not None:
                entities.add(record.location)
            if record.parent is not None:
                events.add(record.parent)
        elif isinstance(record, StatementRecord):
            defined["statement"].add(record.slug)
            entities.update(slug for slug in (record.speaker, record.conveyed_by) if slug)
            if record.event is not None:
                events.add(record.event)
            if record.kind is StatementKind.DIRECT_QUOTE:
                quoted.update(
                    (item.article, record.text) for item in record.evidence if not item.editorial
                )
        else:
            defined["dispute"].add(record.slug)
            entities.update(party.entity for party in record.parties)
            for territory in record.territories:
                entities.update(
                    slug
                    for slug in (territory.entity, territory.administered_by, territory.claimed_by)
                    if slug
                )
            events.update(entry.event for entry in record.timeline)
        for item in _spans(record):
            if item.start is not None and item.end is not None:
                cited.add((item.article, item.start, item.end))
            else:
                named.add(item.article)

    found_sources = await _slug_ids(
        connection, "source", (sources - known.sources.keys()) | defined["source"]
    )
    found_entities = await _slug_ids(
        connection, "entity", (entities - known.entities.keys()) | defined["entity"]
    )
    found_events = await _slug_ids(connection, "event", events | defined["event"])
    found_statements = await _slug_ids(connection, "statement", defined["statement"])
    found_disputes = await _slug_ids(connection, "dispute", defined["dispute"])
    existing_articles: set[str] = set()
    existing_urls: set[str] = set()
    existing_hashes: set[str] = set()
    if defined["article"]:
        for row in await connection.fetch(
            "SELECT slug, url, content_hash FROM article"
            " WHERE slug = ANY($1::text[]) OR url = ANY($2::text[])"
            " OR content_hash = ANY($3::text[])",
            list(defined["article"]),
            list(urls),
            list(hashes),
        ):
            existing_articles.add(row["slug"])
            existing_urls.add(row["url"])
            existing_hashes.add(row["content_hash"])
    spans: dict[tuple[str, int, int], CitedSpan] = {}
    if cited:
        wanted = list(cited)
        for row in await connection.fetch(
            "SELECT c.slug, c.start_offset, c.end_offset, a.id, char_length(a.body) AS length,"
            " substr(a.body, c.start_offset + 1, c.end_offset - c.start_offset) AS text"
            " FROM unnest($1::text[], $2::int[], $3::int[]) AS c(slug, start_offset, end_offset)"
            " JOIN article a ON a.slug = c.slug",
            [slug for slug, _, _ in wanted],
            [start for _, start, _ in wanted],
            [end for _, _, end in wanted],
        ):
            key = (row["slug"], row["start_offset"], row["end_offset"])
            spans[key] = CitedSpan(row["id"], row["length"], row["text"])
    articles = await _slug_ids(connection, "article", named)
    found_aliases: dict[tuple[str, str, str | None], uuid.UUID] = {}
    if aliases:
        wanted_aliases = list(aliases)
        for row in await connection.fetch(
            "SELECT c.entity, c.name, c.language, al.id FROM unnest($1::text[], $2::text[],"
            " $3::text[]) AS c(entity, name, language) JOIN entity e ON e.slug = c.entity"
            " JOIN entity_alias al ON al.entity_id = e.id AND al.name = c.name"
            " AND al.language IS NOT DISTINCT FROM c.language",
            [entity for entity, _, _ in wanted_aliases],
            [name for _, name, _ in wanted_aliases],
            [language for _, _, language in wanted_aliases],
        ):
            found_aliases[(row["entity"], row["name"], row["language"])] = row["id"]
    existing_evidence: set[tuple[str | None, ...]] = set()
    if evidenced:
        ids: dict[uuid.UUID, tuple[str | None, ...]] = {}
        for subject in evidenced:
            of, entity, name, language, article = subject
            found: uuid.UUID | None = None
            if of == "entity" and entity is not None:
                found = found_entities.get(entity) or known.entities.get(entity)
            elif of == "alias" and entity is not None and name is not None:
                found = found_aliases.get((entity, name, language))
            elif article is not None:
                found = articles.get(article)
            if found is not None:
                ids[found] = subject
        for row in await connection.fetch(
            "SELECT s.id FROM unnest($1::uuid[]) AS s(id)"
            " WHERE EXISTS (SELECT 1 FROM evidence v WHERE v.entity_id = s.id)"
            " OR EXISTS (SELECT 1 FROM evidence v WHERE v.entity_alias_id = s.id)"
            " OR EXISTS (SELECT 1 FROM evidence v WHERE v.subject_article_id = s.id)",
            list(ids),
        ):
            existing_evidence.add(ids[row["id"]])
    existing_relations: set[RelationKey] = set()
    if relations:
        wanted_relations = list(relations)
        for row in await connection.fetch(
            "SELECT c.subject, c.kind, c.object, c.role, c.time_edtf FROM unnest($1::text[],"
            " $2::text[], $3::text[], $4::text[], $5::text[])"
            " AS c(subject, kind, object, role, time_edtf)"
            " JOIN entity s ON s.slug = c.subject JOIN entity o ON o.slug = c.object"
            " JOIN entity_relation r ON r.subject_id = s.id AND r.object_id = o.id"
            " AND r.kind = c.kind AND r.role IS NOT DISTINCT FROM c.role"
            " AND r.time_edtf IS NOT DISTINCT FROM c.time_edtf",
            *([key[part] for key in wanted_relations] for part in range(5)),
        ):
            existing_relations.add(
                (row["subject"], row["kind"], row["object"], row["role"], row["time_edtf"])
            )
    found_quotes: set[tuple[str, str]] = set()
    if quoted:
        wanted_quotes = list(quoted)
        for row in await connection.fetch(
            "SELECT c.slug, c.text FROM unnest($1::text[], $2::text[]) AS c(slug, text)"
            " JOIN article a ON a.slug = c.slug WHERE strpos(a.body, c.text) > 0",
            [slug for slug, _ in wanted_quotes],
            [text for _, text in wanted_quotes],
        ):
            found_quotes.add((row["slug"], row["text"]))

    # Referenced sources and entities stay known for later batches; defined ones that
    # already exist are refused, since a corpus line creates its row.
    for slug, found_id in found_sources.items():
        known.sources.setdefault(slug, found_id)
    for slug, found_id in found_entities.items():
        known.entities.setdefault(slug, found_id)
    return Lookup(
        sources=known.sources,
        entities=known.entities,
        events=found_events,
        cited=spans,
        existing={
            "source": defined["source"] & found_sources.keys(),
            "entity": defined["entity"] & found_entities.keys(),
            "article": existing_articles,
            "event": defined["event"] & found_events.keys(),
            "statement": set(found_statements),
            "dispute": set(found_disputes),
        },
        existing_urls=existing_urls,
        existing_hashes=existing_hashes,
        articles=articles,
        aliases=found_aliases,
        existing_relations=existing_relations,
        evidenced=existing_evidence,
        quoted=found_quotes,
    )


async def _write_batch(
    connection: asyncpg.Connection,
    records: list[tuple[int, Record, str]],
    known: _Known,
    report: ImportReport,
) -> None:
    if not records:
        return
    report.batches += 1
    resolver = Resolver(await _lookup(connection, records, known))
    accepted: list[int] = []
    for line, record, content_hash in records:
        try:
            resolver.add(record, content_hash=content_hash)
        except Invalid as error:
            report.reject(line, str(error))
        else:
            accepted.append(line)
    batch = resolver.batch
    try:
        async with connection.transaction():
            # The rollup of entities' articles (db/models/rollup.py) is refreshed once for the
            # batch's articles, not at each COPY the triggers would otherwise refresh it at.
            await connection.execute("SET LOCAL newsgraph.article_rollup = 'deferred'")
            for table in TABLES:
                if batch.rows[table]:
                    await connection.copy_records_to_table(
                        table, records=batch.rows[table], columns=list(COLUMNS[table])
                    )
            await _refresh_rollup(connection, batch.rows)
    except (asyncpg.PostgresError, asyncpg.DataError) as error:
        report.failed_batches += 1
        detail = " ".join(str(error).split())
        reason = (
            f"the database refused the batch of lines {records[0][0]}-{records[-1][0]}, "
            f"none of which was written: {type(error).__name__}: {detail}"
        )
        for line in accepted:
            report.reject(line, reason)
        return
    report.imported_lines += len(accepted)
    for table in TABLES:
        report.rows[table] += len(batch.rows[table])
    known.sources.update(batch.sources)
    known.entities.update(batch.entities)


async def _refresh_rollup(connection: asyncpg.Connection, rows: dict[str, list[Row]]) -> None:
    """Count the articles a batch wrote, or wrote mentions or evidence of, or whose events it
    linked to disputes, in their entities' rollup (the migration `entity article rollup`)."""
    articles = {
        row[COLUMNS[table].index("article_id" if table != "article" else "id")]
        for table in ("article", "mention", "evidence")
        for row in rows[table]
    }
    linked = [row[COLUMNS["dispute_event"].index("event_id")] for row in rows["dispute_event"]]
    await connection.execute("SET LOCAL newsgraph.article_rollup = 'on'")
    await connection.execute(
        "SELECT newsgraph_refresh_article_rollup(ARRAY("
        "SELECT unnest($1::uuid[]) UNION SELECT newsgraph_articles_reporting($2::uuid[])))",
        list(articles),
        linked,
    )


async def import_ndjson(
    connection: asyncpg.Connection,
    path: Path,
    *,
    batch_lines: int = 2000,
    progress: Progress | None = None,
) -> ImportReport:
    """Load the corpus file at `path`, committing one transaction per `batch_lines` lines.

    A line that is not a valid record, or refers to something neither the database nor an
    earlier line defines, is rejected with its line number and the rest goes on; a batch the
    database refuses is rolled back whole and all its lines are rejected with the reason.
    """
    if batch_lines < 1:
        raise ValueError("batch_lines must be at least 1")
    if connection.is_in_transaction():
        raise ValueError("the connection must not be in a transaction: each batch commits")
    started = time.monotonic()
    report = ImportReport()
    known = _Known()
    done_bytes = 0
    total_bytes = (await asyncio.to_thread(path.stat)).st_size
    with path.open("rb") as stream:
        # The next batch is read and validated in a thread while this one is written: the
        # database's work (search vectors, indexes) and ours overlap. Two batches at most
        # are held.
        upcoming = asyncio.create_task(asyncio.to_thread(_read_batch, stream, 1, batch_lines))
        while True:
            batch = await upcoming
            if batch.lines == 0:
                break
            upcoming = asyncio.create_task(
                asyncio.to_thread(_read_batch, stream, batch.first_line + batch.lines, batch_lines)
            )
            try:
                for rejection in batch.rejections:
                    report.reject(rejection.line, rejection.reason)
                report.lines = batch.first_line + batch.lines - 1
                await _write_batch(connection, batch.records, known, report)
            except BaseException:
                # Let the reader finish with the file before it is closed.
                await asyncio.gather(upcoming, return_exceptions=True)
                raise
            done_bytes += batch.bytes
            if progress is not None:
                progress(report.lines, done_bytes, total_bytes, time.monotonic() - started)
    loaded = [table for table in TABLES if report.rows[table]]
    if loaded:
        # Not only fresh statistics (good plans from the first query, not once autovacuum
        # notices, if it runs at all): VACUUM also merges what the load left in the GIN
        # indexes' pending lists, which every trigram and full-text query otherwise scans in
        # full (entity name search at 100k articles: 43.6 ms a query before, 7.0 ms after),
        # and marks the pages all-visible for index-only scans. Outside any transaction.
        # The tables the triggers wrote as the rows went in too: the rollup's counts were
        # updated at each batch's commit (1.8 million dead rows at 100k articles), and the
        # article facets read 1.6 times as fast once they are vacuumed (bench/README.md).
        await connection.execute(f"VACUUM (ANALYZE) {', '.join(loaded + list(TRIGGER_WRITTEN))}")
    report.rejections.sort(key=lambda rejection: rejection.line)
    report.seconds = time.monotonic() - started
    return report
