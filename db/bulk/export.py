"""`export_ndjson`: the database -> a corpus file (bench/README.md) that `import_ndjson` loads.

    sources -> entities (with aliases) -> articles (with mentions)
            -> events (with participants and evidence) -> disputes (parties, territories, timeline)

Everything is read in one read-only REPEATABLE READ transaction, so the file is one consistent
snapshot. Each record type is read through a server-side cursor `batch_size` rows at a time,
and the parts of a batch with one query per part table: memory holds one batch, never a table.

Order is by natural keys (slugs, offsets), never by ids, so two databases holding the same data
export byte-identical files. Entities come in `used_by` order (an entity whose alias is used by
another comes first), as the importer resolves references to earlier lines only.

With an article filter only the matching articles are exported, with the sources and entities
they refer to (and the entities those entities' aliases are `used_by`), the events whose
evidence cites them (keeping only that evidence) and those events' participants. Disputes are
exported only without a filter: their timelines would refer to events left out.

Not exported, as the format has no place for them: mention method and confidence (imported as
`curated`, 1), editorial evidence and evidence of anything but events, entity relations and
statements. Entities whose aliases are `used_by` each other in a cycle cannot be ordered; they
are written, but the importer rejects the first of them.
"""

# Queries are put together from this module's own fragments; values are always $n parameters.
# ruff: noqa: S608

import inspect
import json
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

# Deeper `used_by` chains than this are taken to be cycles.
_MAX_USED_BY_DEPTH = 32

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class UnknownReference(ValueError):
    """A filter names a source or entity that does not exist."""

    def __init__(self, parameter: str, keys: Sequence[str]) -> None:
        self.parameter = parameter
        self.keys = list(keys)
        super().__init__(
            f"{parameter}: nothing has the id or slug {', '.join(map(repr, self.keys))}"
        )


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    """The articles to export, with the ids the source and entity filters resolved to."""

    source_id: uuid.UUID | None = None
    entity_ids: tuple[uuid.UUID, ...] = ()
    language: str | None = None
    published_after: datetime | None = None
    published_before: datetime | None = None

    @property
    def active(self) -> bool:
        return (
            self.source_id is not None
            or bool(self.entity_ids)
            or self.language is not None
            or self.published_after is not None
            or self.published_before is not None
        )

    def where(self, first_parameter: int) -> tuple[str, list[Any]]:
        """A condition on `article a` (the same as GET /v1/articles) and its arguments,
        numbered from `first_parameter`."""
        conditions: list[str] = []
        arguments: list[Any] = []

        def parameter(value: Any) -> str:
            arguments.append(value)
            return f"${first_parameter + len(arguments) - 1}"

        if self.source_id is not None:
            conditions.append(f"a.source_id = {parameter(self.source_id)}")
        for entity_id in self.entity_ids:
            conditions.append(
                "EXISTS (SELECT 1 FROM mention fm WHERE fm.article_id = a.id"
                f" AND fm.entity_id = {parameter(entity_id)})"
            )
        if self.language is not None:
            conditions.append(f"lower(a.language) = lower({parameter(self.language)})")
        if self.published_after is not None:
            conditions.append(f"a.published_at >= {parameter(self.published_after)}")
        if self.published_before is not None:
            conditions.append(f"a.published_at < {parameter(self.published_before)}")
        return " AND ".join(conditions) or "TRUE", arguments


@dataclass(slots=True)
class ExportReport:
    # records per type: source, entity, article, event, dispute
    records: Counter[str] = field(default_factory=Counter)
    bytes: int = 0
    seconds: float = 0.0

    @property
    def lines(self) -> int:
        return sum(self.records.values())


def _as_uuid(key: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(key)
    except ValueError:
        return None


async def _resolve(
    connection: asyncpg.Connection, table: str, keys: Sequence[str], parameter: str
) -> list[uuid.UUID]:
    """Ids of the rows `keys` (ids or slugs) name, in order; UnknownReference for the others."""
    if not keys:
        return []
    ids = [key_id for key in keys if (key_id := _as_uuid(key)) is not None]
    rows = await connection.fetch(
        f"SELECT id, slug FROM {table} WHERE id = ANY($1::uuid[]) OR slug = ANY($2::text[])",
        ids,
        [key for key in keys if _as_uuid(key) is None],
    )
    by_key: dict[str, uuid.UUID] = {}
    for row in rows:
        by_key[str(row["id"])] = row["id"]
        by_key[row["slug"]] = row["id"]
    normalized = [str(key_id) if (key_id := _as_uuid(key)) else key for key in keys]
    unknown = [key for key, found in zip(keys, normalized, strict=True) if found not in by_key]
    if unknown:
        raise UnknownReference(parameter, unknown)
    return [by_key[key] for key in normalized]


async def resolve_filter(
    connection: asyncpg.Connection,
    *,
    source: str | None = None,
    entity: Sequence[str] = (),
    language: str | None = None,
    published_after: datetime | None = None,
    published_before: datetime | None = None,
) -> ArticleFilter:
    """The filter GET /v1/articles applies for the same parameters; `source` and `entity` are
    ids or slugs (every entity must be mentioned). Raises UnknownReference."""
    source_ids = await _resolve(connection, "source", [source] if source else [], "source")
    entity_ids = await _resolve(connection, "entity", entity, "entity")
    return ArticleFilter(
        source_id=source_ids[0] if source_ids else None,
        entity_ids=tuple(entity_ids),
        language=language,
        published_after=published_after,
        published_before=published_before,
    )


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _grouped(rows: list[asyncpg.Record]) -> dict[uuid.UUID, list[asyncpg.Record]]:
    groups: dict[uuid.UUID, list[asyncpg.Record]] = defaultdict(list)
    for row in rows:
        groups[row[0]].append(row)
    return groups


class _Exporter:
    def __init__(
        self,
        connection: asyncpg.Connection,
        article_filter: ArticleFilter,
        batch_size: int,
        report: ExportReport,
    ) -> None:
        self.connection = connection
        self.article_filter = article_filter
        self.batch_size = batch_size
        self.report = report

    async def _batches(self, query: str, arguments: list[Any]) -> AsyncIterator[list[Any]]:
        cursor = await self.connection.cursor(query, *arguments)
        while rows := await cursor.fetch(self.batch_size):
            yield rows

    def _chunk(self, kind: str, records: list[dict[str, Any]]) -> bytes:
        chunk = "".join(_encode(record) + "\n" for record in records).encode()
        self.report.records[kind] += len(records)
        self.report.bytes += len(chunk)
        return chunk

    async def _parts(
        self, query: str, ids: list[uuid.UUID], *arguments: Any
    ) -> dict[uuid.UUID, list[asyncpg.Record]]:
        return _grouped(await self.connection.fetch(query, ids, *arguments))

    async def sources(self) -> AsyncIterator[bytes]:
        where, arguments = self.article_filter.where(1)
        scope = (
            f"WHERE s.id IN (SELECT a.source_id FROM article a WHERE {where})"
            if self.article_filter.active
            else ""
        )
        query = (
            "SELECT s.slug, s.name, s.kind::text AS kind, s.homepage_url"
            f" FROM source s {scope} ORDER BY s.slug"
        )
        async for rows in self._batches(query, arguments):
            yield self._chunk(
                "source",
                [
                    {
                        "type": "source",
                        "slug": row["slug"],
                        "name": row["name"],
                        "kind": row["kind"],
                        "homepage_url": row["homepage_url"],
                    }
                    for row in rows
                ],
            )

    def _event_scope(self, where: str) -> str:
        """Events whose evidence cites a filtered article, as `e`."""
        return (
            "e.id IN (SELECT v.event_id FROM evidence v JOIN article a ON a.id = v.article_id"
            f" WHERE v.event_id IS NOT NULL AND v.start_offset IS NOT NULL AND {where})"
        )

    async def entities(self) -> AsyncIterator[bytes]:
        where, arguments = self.article_filter.where(1)
        if self.article_filter.active:
            # Entities the exported articles and events name, and those their aliases'
            # `used_by` need, transitively.
            wanted = (
                "wanted(id) AS ("
                " SELECT m.entity_id FROM mention m JOIN article a ON a.id = m.article_id"
                f" WHERE {where}"
                " UNION SELECT p.entity_id FROM event_participant p JOIN event e"
                f" ON e.id = p.event_id WHERE {self._event_scope(where)}"
                " UNION SELECT al.used_by_id FROM entity_alias al JOIN wanted w"
                " ON al.entity_id = w.id WHERE al.used_by_id IS NOT NULL),"
            )
            roots = "SELECT id, 0 FROM wanted"
            scope = "AND al.entity_id IN (SELECT id FROM wanted)"
        else:
            wanted, roots, scope = "", "SELECT id, 0 FROM entity", ""
        # An entity's level is the longest `used_by` chain leading to it: ordering by level
        # puts every entity after those its aliases are used by.
        query = (
            f"WITH RECURSIVE {wanted} used_by_level(id, depth) AS ({roots}"
            " UNION SELECT al.entity_id, l.depth + 1 FROM entity_alias al"
            " JOIN used_by_level l ON al.used_by_id = l.id"
            f" WHERE al.used_by_id <> al.entity_id AND l.depth < {_MAX_USED_BY_DEPTH} {scope})"
            " SELECT e.id, e.slug, e.kind::text AS kind, e.name, e.description,"
            " e.external_ids::text AS external_ids"
            " FROM entity e JOIN (SELECT id, max(depth) AS depth FROM used_by_level GROUP BY id) l"
            " ON l.id = e.id ORDER BY l.depth, e.slug"
        )
        async for rows in self._batches(query, arguments):
            aliases = await self._parts(
                "SELECT al.entity_id, al.name, al.language, al.kind::text AS kind,"
                " u.slug AS used_by FROM entity_alias al LEFT JOIN entity u ON u.id = al.used_by_id"
                " WHERE al.entity_id = ANY($1::uuid[])"
                " ORDER BY al.entity_id, al.name, al.language NULLS FIRST",
                [row["id"] for row in rows],
            )
            yield self._chunk(
                "entity",
                [
                    {
                        "type": "entity",
                        "slug": row["slug"],
                        "kind": row["kind"],
                        "name": row["name"],
                        "description": row["description"],
                        "external_ids": json.loads(row["external_ids"]),
                        "aliases": [
                            {
                                "name": alias["name"],
                                "language": alias["language"],
                                "kind": alias["kind"],
                                "used_by": alias["used_by"],
                            }
                            for alias in aliases.get(row["id"], [])
                        ],
                    }
                    for row in rows
                ],
            )

    async def articles(self) -> AsyncIterator[bytes]:
        where, arguments = self.article_filter.where(1)
        query = (
            "SELECT a.id, a.slug, s.slug AS source, a.headline, a.byline, a.url, a.language,"
            " a.published_at, a.published_precision::text AS published_precision, a.summary,"
            f" a.body FROM article a JOIN source s ON s.id = a.source_id WHERE {where}"
            " ORDER BY a.slug"
        )
        async for rows in self._batches(query, arguments):
            mentions = await self._parts(
                "SELECT m.article_id, e.slug, m.start_offset, m.end_offset, m.surface"
                " FROM mention m JOIN entity e ON e.id = m.entity_id"
                " WHERE m.article_id = ANY($1::uuid[])"
                " ORDER BY m.article_id, m.start_offset, m.end_offset, e.slug",
                [row["id"] for row in rows],
            )
            yield self._chunk(
                "article",
                [
                    {
                        "type": "article",
                        "slug": row["slug"],
                        "source": row["source"],
                        "headline": row["headline"],
                        "byline": row["byline"],
                        "url": row["url"],
                        "language": row["language"],
                        "published_at": _time(row["published_at"]),
                        "published_precision": row["published_precision"],
                        "summary": row["summary"],
                        "body": row["body"],
                        "mentions": [
                            {
                                "entity": mention["slug"],
                                "start": mention["start_offset"],
                                "end": mention["end_offset"],
                                "surface": mention["surface"],
                            }
                            for mention in mentions.get(row["id"], [])
                        ],
                    }
                    for row in rows
                ],
            )

    async def events(self) -> AsyncIterator[bytes]:
        where, arguments = self.article_filter.where(1)
        scope = f"WHERE {self._event_scope(where)}" if self.article_filter.active else ""
        query = (
            "SELECT e.id, e.slug, e.title, e.summary, e.event_type::text AS event_type, e.mode,"
            " e.contexts::text[] AS contexts, e.modality::text AS modality, e.time_edtf"
            f" FROM event e {scope} ORDER BY e.slug"
        )
        # Evidence is filtered again: an event keeps only the spans of exported articles.
        evidence_where, evidence_arguments = self.article_filter.where(2)
        async for rows in self._batches(query, arguments):
            ids = [row["id"] for row in rows]
            participants = await self._parts(
                "SELECT p.event_id, n.slug, p.role::text AS role FROM event_participant p"
                " JOIN entity n ON n.id = p.entity_id WHERE p.event_id = ANY($1::uuid[])"
                " ORDER BY p.event_id, n.slug, p.role::text",
                ids,
            )
            evidence = await self._parts(
                "SELECT v.event_id, a.slug, v.start_offset, v.end_offset, v.quote"
                " FROM evidence v JOIN article a ON a.id = v.article_id"
                " WHERE v.event_id = ANY($1::uuid[]) AND v.start_offset IS NOT NULL"
                f" AND {evidence_where}"
                " ORDER BY v.event_id, a.slug, v.start_offset, v.end_offset",
                ids,
                *evidence_arguments,
            )
            yield self._chunk(
                "event",
                [
                    {
                        "type": "event",
                        "slug": row["slug"],
                        "title": row["title"],
                        "summary": row["summary"],
                        "event_type": row["event_type"],
                        "mode": row["mode"],
                        "contexts": list(row["contexts"] or []),
                        "modality": row["modality"],
                        "time": row["time_edtf"],
                        "participants": [
                            {"entity": participant["slug"], "role": participant["role"]}
                            for participant in participants.get(row["id"], [])
                        ],
                        "evidence": [
                            {
                                "article": cited["slug"],
                                "start": cited["start_offset"],
                                "end": cited["end_offset"],
                                "quote": cited["quote"],
                            }
                            for cited in evidence.get(row["id"], [])
                        ],
                    }
                    for row in rows
                ],
            )

    async def disputes(self) -> AsyncIterator[bytes]:
        if self.article_filter.active:
            return
        query = (
            "SELECT d.id, d.slug, d.title, d.kind::text AS kind, d.status::text AS status,"
            " d.summary, d.time_edtf FROM dispute d ORDER BY d.slug"
        )
        async for rows in self._batches(query, []):
            ids = [row["id"] for row in rows]
            parties = await self._parts(
                "SELECT p.dispute_id, n.slug, p.role::text AS role, p.position"
                " FROM dispute_party p JOIN entity n ON n.id = p.entity_id"
                " WHERE p.dispute_id = ANY($1::uuid[]) ORDER BY p.dispute_id, n.slug",
                ids,
            )
            territories = await self._parts(
                "SELECT t.dispute_id, n.slug, ad.slug AS administered_by, cl.slug AS claimed_by"
                " FROM dispute_territory t JOIN entity n ON n.id = t.entity_id"
                " LEFT JOIN entity ad ON ad.id = t.administered_by_id"
                " LEFT JOIN entity cl ON cl.id = t.claimed_by_id"
                " WHERE t.dispute_id = ANY($1::uuid[]) ORDER BY t.dispute_id, n.slug",
                ids,
            )
            timeline = await self._parts(
                "SELECT de.dispute_id, e.slug, de.role::text AS role, de.significance"
                " FROM dispute_event de JOIN event e ON e.id = de.event_id"
                " WHERE de.dispute_id = ANY($1::uuid[])"
                " ORDER BY de.dispute_id, e.time_earliest NULLS LAST, e.time_latest NULLS LAST,"
                " e.slug",
                ids,
            )
            yield self._chunk(
                "dispute",
                [
                    {
                        "type": "dispute",
                        "slug": row["slug"],
                        "title": row["title"],
                        "kind": row["kind"],
                        "status": row["status"],
                        "summary": row["summary"],
                        "time": row["time_edtf"],
                        "parties": [
                            {
                                "entity": party["slug"],
                                "role": party["role"],
                                "position": party["position"],
                            }
                            for party in parties.get(row["id"], [])
                        ],
                        "territories": [
                            {
                                "entity": territory["slug"],
                                "administered_by": territory["administered_by"],
                                "claimed_by": territory["claimed_by"],
                            }
                            for territory in territories.get(row["id"], [])
                        ],
                        "timeline": [
                            {
                                "event": entry["slug"],
                                "role": entry["role"],
                                "significance": entry["significance"],
                            }
                            for entry in timeline.get(row["id"], [])
                        ],
                    }
                    for row in rows
                ],
            )


async def export_chunks(
    connection: asyncpg.Connection,
    article_filter: ArticleFilter,
    *,
    batch_size: int = 1000,
    report: ExportReport | None = None,
) -> AsyncGenerator[bytes]:
    """The export as chunks of whole lines, one per batch; `report` is filled in as it goes.

    Holds a transaction open until exhausted or closed (`aclose()`)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if connection.is_in_transaction():
        raise ValueError("the connection must not be in a transaction: the export opens its own")
    report = report if report is not None else ExportReport()
    started = time.monotonic()
    exporter = _Exporter(connection, article_filter, batch_size, report)
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        for records in (
            exporter.sources,
            exporter.entities,
            exporter.articles,
            exporter.events,
            exporter.disputes,
        ):
            async for chunk in records():
                yield chunk
    report.seconds = time.monotonic() - started


async def export_ndjson(
    connection: asyncpg.Connection,
    write: Callable[[bytes], Awaitable[None] | None],
    *,
    source: str | None = None,
    entity: Sequence[str] = (),
    language: str | None = None,
    published_after: datetime | None = None,
    published_before: datetime | None = None,
    batch_size: int = 1000,
) -> ExportReport:
    """Write the database (or the articles the filters select, see the module docstring) as
    corpus lines to `write`, a chunk of whole lines at a time. Raises UnknownReference when
    `source` or an `entity` (ids or slugs) names nothing."""
    article_filter = await resolve_filter(
        connection,
        source=source,
        entity=entity,
        language=language,
        published_after=published_after,
        published_before=published_before,
    )
    report = ExportReport()
    chunks = export_chunks(connection, article_filter, batch_size=batch_size, report=report)
    try:
        async for chunk in chunks:
            written = write(chunk)
            if inspect.isawaitable(written):
                await written
    finally:
        await chunks.aclose()
    return report
