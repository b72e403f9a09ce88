"""Validated records -> rows for COPY, resolving slugs to ids.

A record becomes rows only as a whole: the first problem raises `Invalid` and nothing of that
record is kept. Ids of the five slugged tables are generated here (uuid4) so that children can
be written in the same batch; the other tables' ids come from their server default.
"""

import json
import uuid
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from db.bulk.records import (
    ArticleRecord,
    DisputeRecord,
    EntityRecord,
    EventRecord,
    Record,
    SourceRecord,
    time_span,
)
from db.checks import InvalidEDTF, SpanError, check_span

Row = tuple[Any, ...]

# COPY order: parents before children, since foreign keys are checked row by row.
COLUMNS: dict[str, tuple[str, ...]] = {
    "source": ("id", "slug", "name", "kind", "homepage_url"),
    "entity": ("id", "slug", "kind", "name", "description", "external_ids"),
    "entity_alias": ("entity_id", "name", "language", "kind", "used_by_id"),
    "article": (
        "id",
        "slug",
        "source_id",
        "headline",
        "byline",
        "url",
        "language",
        "published_at",
        "published_precision",
        "body",
        "summary",
        "content_hash",
    ),
    "mention": ("article_id", "entity_id", "start_offset", "end_offset", "surface", "method"),
    "event": (
        "id",
        "slug",
        "title",
        "summary",
        "event_type",
        "mode",
        "contexts",
        "modality",
        "time_edtf",
        "time_earliest",
        "time_latest",
        "time_precision",
    ),
    "event_participant": ("event_id", "entity_id", "role"),
    "evidence": ("article_id", "start_offset", "end_offset", "quote", "event_id"),
    "dispute": (
        "id",
        "slug",
        "title",
        "kind",
        "status",
        "summary",
        "time_edtf",
        "time_earliest",
        "time_latest",
        "time_precision",
    ),
    "dispute_party": ("dispute_id", "entity_id", "role", "position"),
    "dispute_territory": ("dispute_id", "entity_id", "administered_by_id", "claimed_by_id"),
    "dispute_event": ("dispute_id", "event_id", "role", "significance"),
}
TABLES = tuple(COLUMNS)


class Invalid(ValueError):
    """The line's record cannot be imported; the message says why."""


@dataclass(slots=True)
class CitedSpan:
    """What the database holds at an evidence span of an article written by an earlier batch."""

    article_id: uuid.UUID
    body_length: int
    text: str


@dataclass(slots=True)
class Lookup:
    """Slug -> id for rows this batch may refer to, and the slugs it must not define again."""

    sources: dict[str, uuid.UUID]
    entities: dict[str, uuid.UUID]
    events: dict[str, uuid.UUID]
    # (article slug, start, end) -> the span as stored
    cited: dict[tuple[str, int, int], CitedSpan]
    existing: dict[str, set[str]]
    existing_urls: set[str]
    existing_hashes: set[str]


@dataclass(slots=True)
class BatchRows:
    """Rows of one batch, per table, and the slugs (with ids) it defines."""

    rows: dict[str, list[Row]] = field(default_factory=lambda: {table: [] for table in TABLES})
    sources: dict[str, uuid.UUID] = field(default_factory=dict)
    entities: dict[str, uuid.UUID] = field(default_factory=dict)
    articles: dict[str, tuple[uuid.UUID, str]] = field(default_factory=dict)
    events: dict[str, uuid.UUID] = field(default_factory=dict)
    disputes: set[str] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)
    hashes: set[str] = field(default_factory=set)


def _time(text: str | None) -> tuple[str | None, date | None, date | None, str | None]:
    if text is None:
        return None, None, None, None
    try:
        span = time_span(text)
    except InvalidEDTF as error:
        raise Invalid(f"time: {error}") from error
    precision = None if span.precision is None else span.precision.value
    return span.edtf, span.earliest, span.latest, precision


def _unique(where: str, keys: list[Any]) -> None:
    seen: set[Any] = set()
    for key in keys:
        if key in seen:
            raise Invalid(f"{where}: {key!r} is listed twice")
        seen.add(key)


class Resolver:
    """Turns one batch's records into rows; `lookup` answers for rows outside the batch."""

    def __init__(self, lookup: Lookup) -> None:
        self.lookup = lookup
        self.batch = BatchRows()

    def _defined(self, kind: str, slug: str, in_batch: Container[str]) -> None:
        if slug in self.lookup.existing.get(kind, set()):
            raise Invalid(f"{kind} {slug!r} already exists in the database")
        if slug in in_batch:
            raise Invalid(f"{kind} {slug!r} is defined twice")

    def _entity(self, where: str, slug: str) -> uuid.UUID:
        found = self.batch.entities.get(slug) or self.lookup.entities.get(slug)
        if found is None:
            raise Invalid(f"{where}: unknown entity {slug!r}")
        return found

    def _event(self, where: str, slug: str) -> uuid.UUID:
        found = self.batch.events.get(slug) or self.lookup.events.get(slug)
        if found is None:
            raise Invalid(f"{where}: unknown event {slug!r}")
        return found

    def add(self, record: Record, *, content_hash: str = "") -> None:
        """Add the record's rows, or raise Invalid leaving the batch unchanged.

        `content_hash` is the article body's (db.checks.article_content_hash).
        """
        if isinstance(record, SourceRecord):
            self._source(record)
        elif isinstance(record, EntityRecord):
            self._entity_record(record)
        elif isinstance(record, ArticleRecord):
            self._article(record, content_hash)
        elif isinstance(record, EventRecord):
            self._event_record(record)
        else:
            self._dispute(record)

    def _source(self, record: SourceRecord) -> None:
        self._defined("source", record.slug, self.batch.sources)
        source_id = uuid.uuid4()
        self.batch.rows["source"].append(
            (source_id, record.slug, record.name, record.kind.value, record.homepage_url)
        )
        self.batch.sources[record.slug] = source_id

    def _entity_record(self, record: EntityRecord) -> None:
        self._defined("entity", record.slug, self.batch.entities)
        _unique("aliases", [(alias.name, alias.language) for alias in record.aliases])
        entity_id = uuid.uuid4()
        aliases: list[Row] = []
        for number, alias in enumerate(record.aliases):
            used_by = None
            if alias.used_by is not None:
                # An entity may name itself; otherwise the user must be defined earlier.
                used_by = (
                    entity_id
                    if alias.used_by == record.slug
                    else self._entity(f"aliases[{number}].used_by", alias.used_by)
                )
            aliases.append((entity_id, alias.name, alias.language, alias.kind.value, used_by))
        self.batch.rows["entity"].append(
            (
                entity_id,
                record.slug,
                record.kind.value,
                record.name,
                record.description,
                json.dumps(record.external_ids, ensure_ascii=False),
            )
        )
        self.batch.rows["entity_alias"].extend(aliases)
        self.batch.entities[record.slug] = entity_id

    def _article(self, record: ArticleRecord, content_hash: str) -> None:
        self._defined("article", record.slug, self.batch.articles)
        if record.url is not None and (
            record.url in self.lookup.existing_urls or record.url in self.batch.urls
        ):
            raise Invalid(f"another article has the url {record.url!r}")
        if content_hash in self.lookup.existing_hashes or content_hash in self.batch.hashes:
            raise Invalid("another article has the same body (content hash)")
        if (record.published_at is None) != (record.published_precision is None):
            raise Invalid("published_at and published_precision go together")
        source_id = self.batch.sources.get(record.source) or self.lookup.sources.get(record.source)
        if source_id is None:
            raise Invalid(f"source: unknown source {record.source!r}")
        _unique(
            "mentions",
            [(mention.entity, mention.start, mention.end) for mention in record.mentions],
        )
        article_id = uuid.uuid4()
        mentions: list[Row] = []
        for number, mention in enumerate(record.mentions):
            where = f"mentions[{number}]"
            try:
                check_span(record.body, mention.start, mention.end, mention.surface)
            except SpanError as error:
                raise Invalid(f"{where}: {error}") from error
            entity_id = self._entity(where, mention.entity)
            mentions.append(
                (article_id, entity_id, mention.start, mention.end, mention.surface, "curated")
            )
        self.batch.rows["article"].append(
            (
                article_id,
                record.slug,
                source_id,
                record.headline,
                record.byline,
                record.url,
                record.language,
                record.published_at,
                None if record.published_precision is None else record.published_precision.value,
                record.body,
                record.summary,
                content_hash,
            )
        )
        self.batch.rows["mention"].extend(mentions)
        self.batch.articles[record.slug] = (article_id, record.body)
        if record.url is not None:
            self.batch.urls.add(record.url)
        self.batch.hashes.add(content_hash)

    def _cited(self, where: str, article: str, start: int, end: int, quote: str) -> uuid.UUID:
        in_batch = self.batch.articles.get(article)
        if in_batch is not None:
            article_id, body = in_batch
        else:
            stored = self.lookup.cited.get((article, start, end))
            if stored is None:
                raise Invalid(f"{where}: unknown article {article!r}")
            # The database sent only the cited slice, not the body: the same checks, on it.
            if end > stored.body_length or start >= end:
                raise Invalid(
                    f"{where}: span [{start}, {end}) is outside the body "
                    f"(length {stored.body_length}) or empty"
                )
            if stored.text != quote:
                raise Invalid(
                    f"{where}: span [{start}, {end}) covers {stored.text!r}, not {quote!r}"
                )
            return stored.article_id
        try:
            check_span(body, start, end, quote)
        except SpanError as error:
            raise Invalid(f"{where}: {error}") from error
        return article_id

    def _event_record(self, record: EventRecord) -> None:
        self._defined("event", record.slug, self.batch.events)
        _unique(
            "participants",
            [(participant.entity, participant.role) for participant in record.participants],
        )
        edtf, earliest, latest, precision = _time(record.time)
        event_id = uuid.uuid4()
        participants = [
            (
                event_id,
                self._entity(f"participants[{number}]", participant.entity),
                participant.role.value,
            )
            for number, participant in enumerate(record.participants)
        ]
        evidence = [
            (
                self._cited(
                    f"evidence[{number}]", cited.article, cited.start, cited.end, cited.quote
                ),
                cited.start,
                cited.end,
                cited.quote,
                event_id,
            )
            for number, cited in enumerate(record.evidence)
        ]
        self.batch.rows["event"].append(
            (
                event_id,
                record.slug,
                record.title,
                record.summary,
                record.event_type.value,
                record.mode,
                record.contexts,
                record.modality.value,
                edtf,
                earliest,
                latest,
                precision,
            )
        )
        self.batch.rows["event_participant"].extend(participants)
        self.batch.rows["evidence"].extend(evidence)
        self.batch.events[record.slug] = event_id

    def _dispute(self, record: DisputeRecord) -> None:
        self._defined("dispute", record.slug, self.batch.disputes)
        _unique("parties", [party.entity for party in record.parties])
        _unique("territories", [territory.entity for territory in record.territories])
        _unique("timeline", [entry.event for entry in record.timeline])
        edtf, earliest, latest, precision = _time(record.time)
        dispute_id = uuid.uuid4()
        parties = [
            (
                dispute_id,
                self._entity(f"parties[{number}]", party.entity),
                party.role.value,
                party.position,
            )
            for number, party in enumerate(record.parties)
        ]
        territories: list[Row] = []
        for number, territory in enumerate(record.territories):
            where = f"territories[{number}]"
            administered_by = claimed_by = None
            if territory.administered_by is not None:
                administered_by = self._entity(
                    f"{where}.administered_by", territory.administered_by
                )
            if territory.claimed_by is not None:
                claimed_by = self._entity(f"{where}.claimed_by", territory.claimed_by)
            if administered_by is not None and administered_by == claimed_by:
                raise Invalid(f"{where}: administered_by and claimed_by are the same entity")
            territories.append(
                (dispute_id, self._entity(where, territory.entity), administered_by, claimed_by)
            )
        timeline = [
            (
                dispute_id,
                self._event(f"timeline[{number}]", entry.event),
                entry.role.value,
                entry.significance,
            )
            for number, entry in enumerate(record.timeline)
        ]
        self.batch.rows["dispute"].append(
            (
                dispute_id,
                record.slug,
                record.title,
                record.kind.value,
                record.status.value,
                record.summary,
                edtf,
                earliest,
                latest,
                precision,
            )
        )
        self.batch.rows["dispute_party"].extend(parties)
        self.batch.rows["dispute_territory"].extend(territories)
        self.batch.rows["dispute_event"].extend(timeline)
        self.batch.disputes.add(record.slug)
