"""What a seed run plans to write: rows keyed by natural keys written with slugs."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

Key = tuple[Any, ...]

SLUGGED_TABLES = ("source", "article", "entity", "event", "statement", "dispute")
# Dependency order: a table only refers to tables before it.
TABLES = (
    "source",
    "article",
    "entity",
    "entity_alias",
    "entity_relation",
    "mention",
    "event",
    "event_participant",
    "statement",
    "dispute",
    "dispute_party",
    "dispute_territory",
    "dispute_event",
    "evidence",
)
# The evidence column naming each kind of subject (see db/models/evidence.py).
EVIDENCE_SUBJECT_COLUMN = {
    "entity": "entity_id",
    "entity_alias": "entity_alias_id",
    "entity_relation": "entity_relation_id",
    "event": "event_id",
    "event_participant": "event_participant_id",
    "statement": "statement_id",
    "dispute": "dispute_id",
    "dispute_party": "dispute_party_id",
    "dispute_territory": "dispute_territory_id",
    "dispute_event": "dispute_event_id",
    "article": "subject_article_id",
}


@dataclass(frozen=True, slots=True)
class Ref:
    table: str
    key: Key


@dataclass(slots=True)
class PlannedRow:
    table: str
    key: Key
    values: dict[str, Any]
    # Foreign-key column -> the row it points to (None: NULL).
    refs: dict[str, Ref | None]
    owner: str
    file: str
    path: str
    # Foreign-key column -> where the slug was written, for error messages.
    ref_paths: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class KnownRows:
    """Rows the run refers to without defining them, as found in the database."""

    ids: dict[str, dict[str, uuid.UUID]] = field(default_factory=dict)
    bodies: dict[str, str] = field(default_factory=dict)
    # Slugs that exist now but that this run deletes (their file no longer describes them).
    removed: dict[str, set[str]] = field(default_factory=dict)


@dataclass(slots=True)
class Plan:
    rows: dict[str, dict[Key, PlannedRow]]
    known: KnownRows

    def planned(self, table: str) -> Iterator[PlannedRow]:
        return iter(self.rows[table].values())

    def cited_articles(self) -> set[str]:
        cited: set[str] = set()
        for row in self.planned("evidence"):
            article = row.refs["article_id"]
            if article is not None:
                cited.add(article.key[0])
        return cited
