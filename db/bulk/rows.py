"""Validated records -> rows for COPY, resolving slugs to ids.

A record becomes rows only as a whole: the first problem raises `Invalid` and nothing of that
record is kept. Ids are generated here (uuid4) for every table that evidence or a later line
can refer to, so that children and evidence can be written in the same batch; mentions' ids
come from their server default.
"""

import json
import uuid
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from db.bulk.records import (
    ArticleRecord,
    DisputeRecord,
    EntityRecord,
    EventRecord,
    EvidencePart,
    EvidenceRecord,
    Record,
    RelationRecord,
    SourceRecord,
    StatementRecord,
    time_span,
)
from db.checks import InvalidEDTF, SpanError, check_span, parse_duration
from db.enums import StatementKind
from db.models.evidence import SUBJECT_COLUMNS

Row = tuple[Any, ...]

# COPY order: parents before children, since foreign keys are checked row by row; evidence,
# which may cite any of them, last.
COLUMNS: dict[str, tuple[str, ...]] = {
    "source": ("id", "slug", "name", "kind", "homepage_url"),
    "entity": ("id", "slug", "kind", "name", "description", "external_ids"),
    "entity_alias": ("id", "entity_id", "name", "language", "kind", "used_by_id"),
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
    "mention": (
        "article_id",
        "entity_id",
        "possible_entity_ids",
        "start_offset",
        "end_offset",
        "surface",
        "method",
        "confidence",
    ),
    "entity_relation": (
        "id",
        "subject_id",
        "kind",
        "object_id",
        "role",
        "time_edtf",
        "time_earliest",
        "time_latest",
        "time_precision",
    ),
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
        "duration",
        "location_id",
        "parent_id",
    ),
    "event_participant": ("id", "event_id", "entity_id", "role"),
    "statement": (
        "id",
        "slug",
        "speaker_id",
        "text",
        "kind",
        "conveyed_by_id",
        "conveyed_by_description",
        "event_id",
    ),
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
    "dispute_party": ("id", "dispute_id", "entity_id", "role", "position"),
    "dispute_territory": ("id", "dispute_id", "entity_id", "administered_by_id", "claimed_by_id"),
    "dispute_event": ("id", "dispute_id", "event_id", "role", "significance"),
    "evidence": (
        "article_id",
        "start_offset",
        "end_offset",
        "quote",
        "editorial",
        "note",
        "field",
        *SUBJECT_COLUMNS,
    ),
}
TABLES = tuple(COLUMNS)

# A relation by natural key: (subject slug, kind, object slug, role, time).
RelationKey = tuple[str, str, str, str | None, str | None]
# An alias by natural key: (entity slug, name, language).
AliasKey = tuple[str, str, str | None]


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
    # Articles of earlier batches that editorial evidence names or evidence lines are of.
    articles: dict[str, uuid.UUID] = field(default_factory=dict)
    # Aliases of entities of earlier batches that evidence lines are of.
    aliases: dict[AliasKey, uuid.UUID] = field(default_factory=dict)
    existing_relations: set[RelationKey] = field(default_factory=set)
    # Subjects of evidence lines (EvidenceRecord.subject) that already have evidence.
    evidenced: set[tuple[str | None, ...]] = field(default_factory=set)
    # (article slug, text) of direct quotes that occur in an article of an earlier batch.
    quoted: set[tuple[str, str]] = field(default_factory=set)


@dataclass(slots=True)
class BatchRows:
    """Rows of one batch, per table, and the slugs (with ids) it defines."""

    rows: dict[str, list[Row]] = field(default_factory=lambda: {table: [] for table in TABLES})
    sources: dict[str, uuid.UUID] = field(default_factory=dict)
    entities: dict[str, uuid.UUID] = field(default_factory=dict)
    aliases: dict[AliasKey, uuid.UUID] = field(default_factory=dict)
    articles: dict[str, tuple[uuid.UUID, str]] = field(default_factory=dict)
    relations: set[RelationKey] = field(default_factory=set)
    events: dict[str, uuid.UUID] = field(default_factory=dict)
    statements: set[str] = field(default_factory=set)
    disputes: set[str] = field(default_factory=set)
    evidenced: set[tuple[str | None, ...]] = field(default_factory=set)
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


def relation_key(record: RelationRecord) -> RelationKey:
    return (record.subject, record.kind.value, record.object, record.role, record.time)


def _evidence_row(
    article_id: uuid.UUID, item: EvidencePart, subject_column: str, subject_id: uuid.UUID
) -> Row:
    subjects = tuple(subject_id if column == subject_column else None for column in SUBJECT_COLUMNS)
    return (
        article_id,
        item.start,
        item.end,
        item.quote,
        item.editorial,
        item.note,
        item.field,
        *subjects,
    )


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

    def _article(self, where: str, slug: str) -> uuid.UUID:
        in_batch = self.batch.articles.get(slug)
        found = in_batch[0] if in_batch is not None else self.lookup.articles.get(slug)
        if found is None:
            raise Invalid(f"{where}: unknown article {slug!r}")
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
            self._article_record(record, content_hash)
        elif isinstance(record, EvidenceRecord):
            self._evidence_record(record)
        elif isinstance(record, RelationRecord):
            self._relation(record)
        elif isinstance(record, EventRecord):
            self._event_record(record)
        elif isinstance(record, StatementRecord):
            self._statement(record)
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
            aliases.append(
                (uuid.uuid4(), entity_id, alias.name, alias.language, alias.kind.value, used_by)
            )
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
        for alias_row in aliases:
            self.batch.aliases[(record.slug, alias_row[2], alias_row[3])] = alias_row[0]

    def _article_record(self, record: ArticleRecord, content_hash: str) -> None:
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
            entity_id = None if mention.entity is None else self._entity(where, mention.entity)
            possible = sorted(
                {
                    self._entity(f"{where}.possible_entities[{index}]", slug)
                    for index, slug in enumerate(mention.possible_entities)
                }
            )
            mentions.append(
                (
                    article_id,
                    entity_id,
                    possible or None,
                    mention.start,
                    mention.end,
                    mention.surface,
                    mention.method.value,
                    mention.confidence,
                )
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

    def _evidence(
        self,
        where: str,
        items: Sequence[EvidencePart],
        subject_column: str,
        subject_id: uuid.UUID,
    ) -> list[Row]:
        """Evidence rows of one subject: spans checked against the article body, editorial
        items' articles known (records.EvidencePart checked the rest)."""
        rows: list[Row] = []
        for number, item in enumerate(items):
            item_where = f"{where}[{number}]"
            if item.start is not None and item.end is not None and item.quote is not None:
                article_id = self._cited(item_where, item.article, item.start, item.end, item.quote)
            else:
                article_id = self._article(item_where, item.article)
            rows.append(_evidence_row(article_id, item, subject_column, subject_id))
        return rows

    def _evidence_record(self, record: EvidenceRecord) -> None:
        subject = record.subject
        if subject in self.lookup.evidenced:
            raise Invalid(f"the {record.of}'s evidence already exists in the database")
        if subject in self.batch.evidenced:
            raise Invalid(f"the {record.of}'s evidence is listed twice")
        if record.of == "article":
            assert record.article is not None
            column, subject_id = "subject_article_id", self._article("article", record.article)
        elif record.of == "entity":
            assert record.entity is not None
            column, subject_id = "entity_id", self._entity("entity", record.entity)
        else:
            assert record.entity is not None
            assert record.name is not None
            key = (record.entity, record.name, record.language)
            self._entity("entity", record.entity)
            found = self.batch.aliases.get(key) or self.lookup.aliases.get(key)
            if found is None:
                raise Invalid(
                    f"unknown alias {record.name!r} ({record.language or 'no language'}) "
                    f"of entity {record.entity!r}"
                )
            column, subject_id = "entity_alias_id", found
        self.batch.rows["evidence"].extend(
            self._evidence("items", record.items, column, subject_id)
        )
        self.batch.evidenced.add(subject)

    def _relation(self, record: RelationRecord) -> None:
        key = relation_key(record)
        if key in self.lookup.existing_relations:
            raise Invalid("the relation already exists in the database")
        if key in self.batch.relations:
            raise Invalid("the relation is defined twice")
        subject_id = self._entity("subject", record.subject)
        object_id = self._entity("object", record.object)
        if subject_id == object_id:
            raise Invalid("subject and object are the same entity")
        edtf, earliest, latest, precision = _time(record.time)
        relation_id = uuid.uuid4()
        evidence = self._evidence("evidence", record.evidence, "entity_relation_id", relation_id)
        self.batch.rows["entity_relation"].append(
            (
                relation_id,
                subject_id,
                record.kind.value,
                object_id,
                record.role,
                edtf,
                earliest,
                latest,
                precision,
            )
        )
        self.batch.rows["evidence"].extend(evidence)
        self.batch.relations.add(key)

    def _event_record(self, record: EventRecord) -> None:
        self._defined("event", record.slug, self.batch.events)
        _unique(
            "participants",
            [(participant.entity, participant.role) for participant in record.participants],
        )
        edtf, earliest, latest, precision = _time(record.time)
        location_id = None if record.location is None else self._entity("location", record.location)
        parent_id = None
        if record.parent is not None:
            if record.parent == record.slug:
                raise Invalid("parent: an event is not its own parent")
            parent_id = self._event("parent", record.parent)
        event_id = uuid.uuid4()
        participants: list[Row] = []
        evidence = self._evidence("evidence", record.evidence, "event_id", event_id)
        for number, participant in enumerate(record.participants):
            where = f"participants[{number}]"
            participant_id = uuid.uuid4()
            participants.append(
                (
                    participant_id,
                    event_id,
                    self._entity(where, participant.entity),
                    participant.role.value,
                )
            )
            evidence.extend(
                self._evidence(
                    f"{where}.evidence",
                    participant.evidence,
                    "event_participant_id",
                    participant_id,
                )
            )
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
                None if record.duration is None else parse_duration(record.duration),
                location_id,
                parent_id,
            )
        )
        self.batch.rows["event_participant"].extend(participants)
        self.batch.rows["evidence"].extend(evidence)
        self.batch.events[record.slug] = event_id

    def _statement(self, record: StatementRecord) -> None:
        self._defined("statement", record.slug, self.batch.statements)
        speaker_id = self._entity("speaker", record.speaker)
        conveyed_by_id = (
            None if record.conveyed_by is None else self._entity("conveyed_by", record.conveyed_by)
        )
        event_id = None if record.event is None else self._event("event", record.event)
        statement_id = uuid.uuid4()
        evidence = self._evidence("evidence", record.evidence, "statement_id", statement_id)
        if record.kind is StatementKind.DIRECT_QUOTE and not any(
            self._quotes(item.article, record.text)
            for item in record.evidence
            if not item.editorial
        ):
            raise Invalid(
                "text: a direct quote must appear word for word in an article its evidence cites"
            )
        self.batch.rows["statement"].append(
            (
                statement_id,
                record.slug,
                speaker_id,
                record.text,
                record.kind.value,
                conveyed_by_id,
                record.conveyed_by_description,
                event_id,
            )
        )
        self.batch.rows["evidence"].extend(evidence)
        self.batch.statements.add(record.slug)

    def _quotes(self, article: str, text: str) -> bool:
        in_batch = self.batch.articles.get(article)
        if in_batch is not None:
            return text in in_batch[1]
        return (article, text) in self.lookup.quoted

    def _dispute(self, record: DisputeRecord) -> None:
        self._defined("dispute", record.slug, self.batch.disputes)
        _unique("parties", [party.entity for party in record.parties])
        _unique("territories", [territory.entity for territory in record.territories])
        _unique("timeline", [entry.event for entry in record.timeline])
        edtf, earliest, latest, precision = _time(record.time)
        dispute_id = uuid.uuid4()
        evidence = self._evidence("evidence", record.evidence, "dispute_id", dispute_id)
        parties: list[Row] = []
        for number, party in enumerate(record.parties):
            where = f"parties[{number}]"
            party_id = uuid.uuid4()
            parties.append(
                (
                    party_id,
                    dispute_id,
                    self._entity(where, party.entity),
                    party.role.value,
                    party.position,
                )
            )
            evidence.extend(
                self._evidence(f"{where}.evidence", party.evidence, "dispute_party_id", party_id)
            )
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
            territory_id = uuid.uuid4()
            territories.append(
                (
                    territory_id,
                    dispute_id,
                    self._entity(where, territory.entity),
                    administered_by,
                    claimed_by,
                )
            )
            evidence.extend(
                self._evidence(
                    f"{where}.evidence", territory.evidence, "dispute_territory_id", territory_id
                )
            )
        timeline: list[Row] = []
        for number, entry in enumerate(record.timeline):
            where = f"timeline[{number}]"
            entry_id = uuid.uuid4()
            timeline.append(
                (
                    entry_id,
                    dispute_id,
                    self._event(where, entry.event),
                    entry.role.value,
                    entry.significance,
                )
            )
            evidence.extend(
                self._evidence(f"{where}.evidence", entry.evidence, "dispute_event_id", entry_id)
            )
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
        self.batch.rows["evidence"].extend(evidence)
        self.batch.disputes.add(record.slug)
