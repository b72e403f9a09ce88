"""`export_ndjson`: the database -> a corpus file (bench/README.md) that `import_ndjson` loads.

    sources -> entities (with aliases) -> articles (with mentions)
            -> evidence of entities, aliases and articles -> relations (with evidence)
            -> events (with participants; evidence on both) -> statements (with evidence)
            -> disputes (parties, territories, timeline; evidence on all four)

Every fact of every table is exported, each with all its evidence (cited spans and editorial
notes, with the `field` they support); left out are only ids, timestamps, versions and what
the importer computes again (content hashes, time bounds, search columns).

Everything is read in one read-only REPEATABLE READ transaction, so the file is one consistent
snapshot. Each record type is read through a server-side cursor `batch_size` rows at a time,
and the parts of a batch with one query per part table: memory holds one batch, never a table.

Order is by natural keys (slugs, offsets), never by ids, so two databases holding the same data
export byte-identical files. The importer resolves references to earlier lines only: entities
come in `used_by` order (an entity whose alias is used by another comes first), events in
`parent` order, and the evidence of entities, aliases and articles, which may cite any article,
on lines of its own after the articles.

With an article filter only the matching articles are exported, and of any subject only the
evidence of those articles. Relations and statements are exported when some of their evidence
is of an exported article; events too, and also the events of those statements and the
ancestors of those events (with the evidence of exported articles only, maybe none). Entities
are exported when an exported record names them (mentions, participants, locations, speakers
and messengers, both ends of relations), when some of their own or their aliases' evidence is
of an exported article, and when the aliases of an exported entity are `used_by` them; sources
when they published an exported article. Disputes are exported only without a filter: their
timelines would refer to events left out.

Entities whose aliases are `used_by` each other in a cycle, and events whose parents form one,
cannot be ordered; they are written, but the importer rejects the first of them.
"""

# Queries are put together from this module's own fragments; values are always $n parameters.
# ruff: noqa: S608

import inspect
import json
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Sequence,
)
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from db.checks import format_duration

# The record types, in the order an export writes them (the importer's order).
RECORD_TYPES = (
    "source",
    "entity",
    "article",
    "evidence",
    "relation",
    "event",
    "statement",
    "dispute",
)

# Deeper `used_by` and `parent` chains than this are taken to be cycles.
_MAX_DEPTH = 32

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
    # records per type: source, entity, article, evidence, relation, event, statement, dispute
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


# An evidence item's columns (`v` the evidence, `a` the cited article) and its order within
# a subject's list: spans in body order, then editorial items.
_ITEM = "a.slug AS article, v.start_offset, v.end_offset, v.quote, v.editorial, v.note, v.field"
_ITEM_ORDER = (
    "a.slug, v.start_offset NULLS LAST, v.end_offset NULLS LAST, v.editorial,"
    " v.field NULLS FIRST, v.note NULLS FIRST, v.quote NULLS FIRST"
)


def _item(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "article": row["article"],
        "start": row["start_offset"],
        "end": row["end_offset"],
        "quote": row["quote"],
        "editorial": row["editorial"],
        "note": row["note"],
        "field": row["field"],
    }


def _confidence(value: Decimal) -> int | float:
    """numeric(4,3) as the shortest JSON number: 1, 0.85."""
    return int(value) if value == value.to_integral_value() else float(value)


class _Exporter:
    def __init__(
        self,
        connection: asyncpg.Connection,
        article_filter: ArticleFilter,
        batch_size: int,
    ) -> None:
        self.connection = connection
        self.article_filter = article_filter
        self.batch_size = batch_size

    async def _batches(self, query: str, arguments: list[Any]) -> AsyncIterator[list[Any]]:
        cursor = await self.connection.cursor(query, *arguments)
        while rows := await cursor.fetch(self.batch_size):
            yield rows

    async def _parts(
        self, query: str, ids: list[uuid.UUID], *arguments: Any
    ) -> dict[uuid.UUID, list[asyncpg.Record]]:
        return _grouped(await self.connection.fetch(query, ids, *arguments))

    async def _evidence(self, column: str, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
        """The evidence of the rows `ids` of the subject column `column`, per row: with a
        filter, only the items of exported articles."""
        if not ids:
            return {}
        where, arguments = self.article_filter.where(2)
        rows = await self._parts(
            f"SELECT v.{column}, {_ITEM} FROM evidence v JOIN article a ON a.id = v.article_id"
            f" WHERE v.{column} = ANY($1::uuid[]) AND {where}"
            f" ORDER BY v.{column}, {_ITEM_ORDER}",
            ids,
            *arguments,
        )
        return {subject: [_item(row) for row in items] for subject, items in rows.items()}

    def _cites(self, column: str, where: str) -> str:
        """Some evidence of the row `column` names (`v.<subject column> = <row id>`) is of an
        exported article."""
        return (
            "EXISTS (SELECT 1 FROM evidence v JOIN article a ON a.id = v.article_id"
            f" WHERE {column} AND {where})"
        )

    def _scope(self, where: str) -> str:
        """With a filter, the statements, relations and events to export, as CTEs of a WITH
        RECURSIVE: those whose evidence is of an exported article, the events of those
        statements, and the ancestors (`parent`) of those events."""
        if not self.article_filter.active:
            return ""
        cited = "FROM evidence v JOIN article a ON a.id = v.article_id WHERE"
        return (
            f"scope_statement(id) AS (SELECT DISTINCT v.statement_id {cited}"
            f" v.statement_id IS NOT NULL AND {where}),"
            f" scope_relation(id) AS (SELECT DISTINCT v.entity_relation_id {cited}"
            f" v.entity_relation_id IS NOT NULL AND {where}),"
            f" scope_event(id) AS (SELECT v.event_id {cited} v.event_id IS NOT NULL AND {where}"
            " UNION SELECT s.event_id FROM statement s WHERE s.event_id IS NOT NULL"
            " AND s.id IN (SELECT id FROM scope_statement)"
            " UNION SELECT e.parent_id FROM event e JOIN scope_event se ON se.id = e.id"
            " WHERE e.parent_id IS NOT NULL),"
        )

    async def sources(self) -> AsyncIterator[list[dict[str, Any]]]:
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
            yield [
                {
                    "type": "source",
                    "slug": row["slug"],
                    "name": row["name"],
                    "kind": row["kind"],
                    "homepage_url": row["homepage_url"],
                }
                for row in rows
            ]

    async def entities(self) -> AsyncIterator[list[dict[str, Any]]]:
        where, arguments = self.article_filter.where(1)
        if self.article_filter.active:
            # Entities the exported articles, events, statements and relations name, those
            # whose evidence (or their aliases') is of an exported article, and those their
            # aliases' `used_by` need, transitively.
            events = "(SELECT id FROM scope_event)"
            statements = "(SELECT id FROM scope_statement)"
            relations = "(SELECT id FROM scope_relation)"
            wanted = (
                f"{self._scope(where)} wanted(id) AS ("
                " SELECT coalesce(m.entity_id, possible.id) FROM mention m"
                " JOIN article a ON a.id = m.article_id"
                " LEFT JOIN LATERAL unnest(m.possible_entity_ids) AS possible(id) ON true"
                f" WHERE {where}"
                f" UNION SELECT p.entity_id FROM event_participant p WHERE p.event_id IN {events}"
                " UNION SELECT e.location_id FROM event e"
                f" WHERE e.id IN {events} AND e.location_id IS NOT NULL"
                f" UNION SELECT s.speaker_id FROM statement s WHERE s.id IN {statements}"
                " UNION SELECT s.conveyed_by_id FROM statement s"
                f" WHERE s.id IN {statements} AND s.conveyed_by_id IS NOT NULL"
                f" UNION SELECT r.subject_id FROM entity_relation r WHERE r.id IN {relations}"
                f" UNION SELECT r.object_id FROM entity_relation r WHERE r.id IN {relations}"
                " UNION SELECT v.entity_id FROM evidence v JOIN article a ON a.id = v.article_id"
                f" WHERE v.entity_id IS NOT NULL AND {where}"
                " UNION SELECT al.entity_id FROM evidence v"
                " JOIN entity_alias al ON al.id = v.entity_alias_id"
                f" JOIN article a ON a.id = v.article_id WHERE {where}"
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
            f" WHERE al.used_by_id <> al.entity_id AND l.depth < {_MAX_DEPTH} {scope})"
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
            yield [
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
            ]

    async def articles(self) -> AsyncIterator[list[dict[str, Any]]]:
        where, arguments = self.article_filter.where(1)
        query = (
            "SELECT a.id, a.slug, s.slug AS source, a.headline, a.byline, a.url, a.language,"
            " a.published_at, a.published_precision::text AS published_precision, a.summary,"
            f" a.body FROM article a JOIN source s ON s.id = a.source_id WHERE {where}"
            " ORDER BY a.slug"
        )
        async for rows in self._batches(query, arguments):
            mentions = await self._parts(
                "SELECT m.article_id, e.slug, m.start_offset, m.end_offset, m.surface,"
                " m.method::text AS method, m.confidence,"
                # An ambiguous mention: the entities it may be (those not deleted since).
                " ARRAY(SELECT p.slug FROM entity p WHERE p.id = ANY(m.possible_entity_ids)"
                " ORDER BY p.slug) AS possible"
                " FROM mention m LEFT JOIN entity e ON e.id = m.entity_id"
                " WHERE m.article_id = ANY($1::uuid[])"
                " ORDER BY m.article_id, m.start_offset, m.end_offset, e.slug NULLS FIRST",
                [row["id"] for row in rows],
            )
            yield [
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
                            **(
                                {"possible_entities": list(mention["possible"])}
                                if mention["slug"] is None
                                else {}
                            ),
                            "start": mention["start_offset"],
                            "end": mention["end_offset"],
                            "surface": mention["surface"],
                            "method": mention["method"],
                            "confidence": _confidence(mention["confidence"]),
                        }
                        for mention in mentions.get(row["id"], [])
                    ],
                }
                for row in rows
            ]

    async def evidence(self) -> AsyncIterator[list[dict[str, Any]]]:
        """Evidence of entities, aliases and articles: a line of its own after the articles it
        cites (an entity's line comes before them). With a filter, only subjects with
        evidence of an exported article; those entities are exported (see `entities`)."""
        where, arguments = self.article_filter.where(1)
        scoped_article = (
            f"x.id IN (SELECT a.id FROM article a WHERE {where}) AND"
            if self.article_filter.active
            else ""
        )
        subjects: list[tuple[str, str, str]] = [
            (
                "entity_id",
                "SELECT x.id, x.slug FROM entity x"
                f" WHERE {self._cites('v.entity_id = x.id', where)} ORDER BY x.slug",
                "entity",
            ),
            (
                "entity_alias_id",
                "SELECT x.id, e.slug, x.name, x.language FROM entity_alias x"
                " JOIN entity e ON e.id = x.entity_id"
                f" WHERE {self._cites('v.entity_alias_id = x.id', where)}"
                " ORDER BY e.slug, x.name, x.language NULLS FIRST",
                "alias",
            ),
            (
                "subject_article_id",
                f"SELECT x.id, x.slug FROM article x WHERE {scoped_article}"
                f" {self._cites('v.subject_article_id = x.id', where)} ORDER BY x.slug",
                "article",
            ),
        ]
        for column, query, of in subjects:
            async for rows in self._batches(query, arguments):
                items = await self._evidence(column, [row["id"] for row in rows])
                records: list[dict[str, Any]] = []
                for row in rows:
                    record: dict[str, Any] = {"type": "evidence", "of": of}
                    if of == "alias":
                        record |= {
                            "entity": row["slug"],
                            "name": row["name"],
                            "language": row["language"],
                        }
                    else:
                        record[of] = row["slug"]
                    record["items"] = items[row["id"]]
                    records.append(record)
                yield records

    async def relations(self) -> AsyncIterator[list[dict[str, Any]]]:
        where, arguments = self.article_filter.where(1)
        if self.article_filter.active:
            scope = f"WITH RECURSIVE {self._scope(where).rstrip(',')}"
            condition = "WHERE r.id IN (SELECT id FROM scope_relation)"
        else:
            scope = condition = ""
        query = (
            f"{scope} SELECT r.id, s.slug AS subject, r.kind::text AS kind, o.slug AS object,"
            " r.role, r.time_edtf FROM entity_relation r JOIN entity s ON s.id = r.subject_id"
            f" JOIN entity o ON o.id = r.object_id {condition}"
            " ORDER BY s.slug, r.kind, o.slug, r.role NULLS FIRST, r.time_edtf NULLS FIRST"
        )
        async for rows in self._batches(query, arguments):
            evidence = await self._evidence("entity_relation_id", [row["id"] for row in rows])
            yield [
                {
                    "type": "relation",
                    "subject": row["subject"],
                    "kind": row["kind"],
                    "object": row["object"],
                    "role": row["role"],
                    "time": row["time_edtf"],
                    "evidence": evidence.get(row["id"], []),
                }
                for row in rows
            ]

    async def events(self) -> AsyncIterator[list[dict[str, Any]]]:
        where, arguments = self.article_filter.where(1)
        if self.article_filter.active:
            scope = self._scope(where)
            roots = "WHERE id IN (SELECT id FROM scope_event)"
            children = "AND e.id IN (SELECT id FROM scope_event)"
        else:
            scope = roots = children = ""
        # An event's level is the length of its chain of parents: ordering by level puts
        # every event after its parent.
        query = (
            f"WITH RECURSIVE {scope} parent_level(id, depth) AS (SELECT id, 0 FROM event"
            f" {roots} UNION SELECT e.id, l.depth + 1 FROM event e"
            f" JOIN parent_level l ON e.parent_id = l.id WHERE l.depth < {_MAX_DEPTH}"
            f" {children})"
            " SELECT e.id, e.slug, e.title, e.summary, e.event_type::text AS event_type, e.mode,"
            " e.contexts::text[] AS contexts, e.modality::text AS modality, e.time_edtf,"
            " e.duration, n.slug AS location, p.slug AS parent FROM event e"
            " JOIN (SELECT id, max(depth) AS depth FROM parent_level GROUP BY id) l"
            " ON l.id = e.id LEFT JOIN entity n ON n.id = e.location_id"
            " LEFT JOIN event p ON p.id = e.parent_id ORDER BY l.depth, e.slug"
        )
        async for rows in self._batches(query, arguments):
            ids = [row["id"] for row in rows]
            participants = await self._parts(
                "SELECT p.event_id, p.id, n.slug, p.role::text AS role FROM event_participant p"
                " JOIN entity n ON n.id = p.entity_id WHERE p.event_id = ANY($1::uuid[])"
                " ORDER BY p.event_id, n.slug, p.role::text",
                ids,
            )
            evidence = await self._evidence("event_id", ids)
            participant_evidence = await self._evidence(
                "event_participant_id",
                [participant["id"] for group in participants.values() for participant in group],
            )
            yield [
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
                    "duration": None
                    if row["duration"] is None
                    else format_duration(row["duration"]),
                    "location": row["location"],
                    "parent": row["parent"],
                    "participants": [
                        {
                            "entity": participant["slug"],
                            "role": participant["role"],
                            "evidence": participant_evidence.get(participant["id"], []),
                        }
                        for participant in participants.get(row["id"], [])
                    ],
                    "evidence": evidence.get(row["id"], []),
                }
                for row in rows
            ]

    async def statements(self) -> AsyncIterator[list[dict[str, Any]]]:
        where, arguments = self.article_filter.where(1)
        if self.article_filter.active:
            scope = f"WITH RECURSIVE {self._scope(where).rstrip(',')}"
            condition = "WHERE s.id IN (SELECT id FROM scope_statement)"
        else:
            scope = condition = ""
        query = (
            f"{scope} SELECT s.id, s.slug, sp.slug AS speaker, s.kind::text AS kind, s.text,"
            " cb.slug AS conveyed_by, s.conveyed_by_description, e.slug AS event"
            " FROM statement s JOIN entity sp ON sp.id = s.speaker_id"
            " LEFT JOIN entity cb ON cb.id = s.conveyed_by_id"
            f" LEFT JOIN event e ON e.id = s.event_id {condition} ORDER BY s.slug"
        )
        async for rows in self._batches(query, arguments):
            evidence = await self._evidence("statement_id", [row["id"] for row in rows])
            yield [
                {
                    "type": "statement",
                    "slug": row["slug"],
                    "speaker": row["speaker"],
                    "kind": row["kind"],
                    "text": row["text"],
                    "conveyed_by": row["conveyed_by"],
                    "conveyed_by_description": row["conveyed_by_description"],
                    "event": row["event"],
                    "evidence": evidence.get(row["id"], []),
                }
                for row in rows
            ]

    async def disputes(self) -> AsyncIterator[list[dict[str, Any]]]:
        if self.article_filter.active:
            return
        query = (
            "SELECT d.id, d.slug, d.title, d.kind::text AS kind, d.status::text AS status,"
            " d.summary, d.time_edtf FROM dispute d ORDER BY d.slug"
        )
        async for rows in self._batches(query, []):
            ids = [row["id"] for row in rows]
            parties = await self._parts(
                "SELECT p.dispute_id, p.id, n.slug, p.role::text AS role, p.position"
                " FROM dispute_party p JOIN entity n ON n.id = p.entity_id"
                " WHERE p.dispute_id = ANY($1::uuid[]) ORDER BY p.dispute_id, n.slug",
                ids,
            )
            territories = await self._parts(
                "SELECT t.dispute_id, t.id, n.slug, ad.slug AS administered_by,"
                " cl.slug AS claimed_by FROM dispute_territory t"
                " JOIN entity n ON n.id = t.entity_id"
                " LEFT JOIN entity ad ON ad.id = t.administered_by_id"
                " LEFT JOIN entity cl ON cl.id = t.claimed_by_id"
                " WHERE t.dispute_id = ANY($1::uuid[]) ORDER BY t.dispute_id, n.slug",
                ids,
            )
            timeline = await self._parts(
                "SELECT de.dispute_id, de.id, e.slug, de.role::text AS role, de.significance"
                " FROM dispute_event de JOIN event e ON e.id = de.event_id"
                " WHERE de.dispute_id = ANY($1::uuid[])"
                " ORDER BY de.dispute_id, e.time_earliest NULLS LAST, e.time_latest NULLS LAST,"
                " e.slug",
                ids,
            )

            def part_ids(parts: dict[uuid.UUID, list[asyncpg.Record]]) -> list[uuid.UUID]:
                return [part["id"] for group in parts.values() for part in group]

            evidence = await self._evidence("dispute_id", ids)
            party_evidence = await self._evidence("dispute_party_id", part_ids(parties))
            territory_evidence = await self._evidence("dispute_territory_id", part_ids(territories))
            timeline_evidence = await self._evidence("dispute_event_id", part_ids(timeline))
            yield [
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
                            "evidence": party_evidence.get(party["id"], []),
                        }
                        for party in parties.get(row["id"], [])
                    ],
                    "territories": [
                        {
                            "entity": territory["slug"],
                            "administered_by": territory["administered_by"],
                            "claimed_by": territory["claimed_by"],
                            "evidence": territory_evidence.get(territory["id"], []),
                        }
                        for territory in territories.get(row["id"], [])
                    ],
                    "timeline": [
                        {
                            "event": entry["slug"],
                            "role": entry["role"],
                            "significance": entry["significance"],
                            "evidence": timeline_evidence.get(entry["id"], []),
                        }
                        for entry in timeline.get(row["id"], [])
                    ],
                    "evidence": evidence.get(row["id"], []),
                }
                for row in rows
            ]


async def export_records(
    connection: asyncpg.Connection,
    article_filter: ArticleFilter,
    *,
    types: Collection[str] = RECORD_TYPES,
    batch_size: int = 1000,
) -> AsyncGenerator[list[dict[str, Any]]]:
    """The export as batches of records (dicts of one `type`, up to `batch_size` each), in
    corpus order; only the record `types` asked for, each read as it is in a full export.

    Holds a transaction open until exhausted or closed (`aclose()`)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if unknown := set(types) - set(RECORD_TYPES):
        raise ValueError(f"unknown record types: {', '.join(sorted(unknown))}")
    if connection.is_in_transaction():
        raise ValueError("the connection must not be in a transaction: the export opens its own")
    exporter = _Exporter(connection, article_filter, batch_size)
    readers = {
        "source": exporter.sources,
        "entity": exporter.entities,
        "article": exporter.articles,
        "evidence": exporter.evidence,
        "relation": exporter.relations,
        "event": exporter.events,
        "statement": exporter.statements,
        "dispute": exporter.disputes,
    }
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        # The scope of a filtered export is one query of many CTEs whose estimates pass
        # jit_above_cost: compiling it took 0.9 s of the 0.95 s it ran at 10,000 articles
        # (0.03 s without). The export's other statements gain nothing from JIT either.
        await connection.execute("SET LOCAL jit = off")
        for record_type in RECORD_TYPES:
            if record_type in types:
                async for records in readers[record_type]():
                    yield records


async def export_chunks(
    connection: asyncpg.Connection,
    article_filter: ArticleFilter,
    *,
    types: Collection[str] = RECORD_TYPES,
    batch_size: int = 1000,
    report: ExportReport | None = None,
) -> AsyncGenerator[bytes]:
    """The export as NDJSON chunks of whole lines, one per batch (`export_records`); `report`
    is filled in as it goes.

    Holds a transaction open until exhausted or closed (`aclose()`)."""
    report = report if report is not None else ExportReport()
    started = time.monotonic()
    batches = export_records(connection, article_filter, types=types, batch_size=batch_size)
    try:
        async for records in batches:
            chunk = "".join(_encode(record) + "\n" for record in records).encode()
            report.records[records[0]["type"]] += len(records)
            report.bytes += len(chunk)
            yield chunk
    finally:
        await batches.aclose()
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
