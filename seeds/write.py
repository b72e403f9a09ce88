"""Making the database match a plan: match rows by natural key, then create, update, delete.

The order matters because of foreign keys:

    1. match     every planned row to an existing row (bulk SELECT per table) or a new id
    2. delete    rows the run's files owned but no longer describe, except entities/sources
    3. write     create and update in dependency order, one flush per stage
    4. delete    entities and sources last: kept rows may have pointed at them until step 3

Rows are only assigned attributes that differ, so an unchanged row gets no UPDATE and keeps
its version.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import Base
from db.models import (
    Article,
    Dispute,
    DisputeEvent,
    DisputeParty,
    DisputeTerritory,
    Entity,
    EntityAlias,
    EntityRelation,
    Event,
    EventParticipant,
    Evidence,
    Mention,
    Source,
    Statement,
)
from db.models.evidence import SUBJECT_COLUMNS
from seeds.report import ResourceCounts
from seeds.rows import SLUGGED_TABLES, TABLES, Key, Plan, PlannedRow

MODELS: dict[str, type[Base]] = {
    "source": Source,
    "article": Article,
    "entity": Entity,
    "entity_alias": EntityAlias,
    "entity_relation": EntityRelation,
    "mention": Mention,
    "event": Event,
    "event_participant": EventParticipant,
    "statement": Statement,
    "dispute": Dispute,
    "dispute_party": DisputeParty,
    "dispute_territory": DisputeTerritory,
    "dispute_event": DisputeEvent,
    "evidence": Evidence,
}

# The columns that identify a child row among its siblings (its unique constraint).
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "entity_alias": ("entity_id", "name", "language"),
    "entity_relation": ("subject_id", "kind", "object_id", "role", "time_edtf"),
    "mention": ("article_id", "entity_id", "start_offset", "end_offset"),
    "event_participant": ("event_id", "entity_id", "role"),
    "dispute_party": ("dispute_id", "entity_id"),
    "dispute_territory": ("dispute_id", "entity_id"),
    "dispute_event": ("dispute_id", "event_id"),
    "evidence": (*SUBJECT_COLUMNS, "article_id", "field", "start_offset", "end_offset"),
}
# Which existing rows can match: those under the same parents as the planned ones.
PARENT_COLUMN = {
    "entity_alias": "entity_id",
    "entity_relation": "subject_id",
    "mention": "article_id",
    "event_participant": "event_id",
    "dispute_party": "dispute_id",
    "dispute_territory": "dispute_id",
    "dispute_event": "dispute_id",
    "evidence": "article_id",
}
# A relation whose dates were edited is the same fact, corrected: match it without the time.
LOOSE_KEY_COLUMNS = {"entity_relation": ("subject_id", "kind", "object_id", "role")}

WRITE_STAGES: tuple[tuple[str, ...], ...] = (
    ("source",),
    ("article", "entity"),
    ("entity_alias", "entity_relation", "mention", "event"),
    ("event_participant", "statement", "dispute"),
    ("dispute_party", "dispute_territory", "dispute_event"),
    ("evidence",),
)
LATE_DELETES = ("entity", "source")
EARLY_DELETES = tuple(t for t in reversed(TABLES) if t not in LATE_DELETES)


def _key(table: str, values: dict[str, Any]) -> Key:
    if table in SLUGGED_TABLES:
        return (values["slug"],)
    key = tuple(values[column] for column in KEY_COLUMNS[table])
    if table == "evidence":
        # Editorial evidence has no span: its note tells two of them apart.
        key += (values["note"] if values["editorial"] else None,)
    return key


def _row_values(row: Base, columns: Iterable[str]) -> dict[str, Any]:
    return {column: getattr(row, column) for column in columns}


@dataclass(slots=True)
class _Match:
    planned: PlannedRow
    values: dict[str, Any]
    existing: Base | None
    id: uuid.UUID


@dataclass(slots=True)
class WriteResult:
    counts: dict[str, ResourceCounts] = field(
        default_factory=lambda: {table: ResourceCounts() for table in TABLES}
    )
    # Planned key -> row id, per table: what each seed file now owns.
    ids: dict[str, dict[Key, uuid.UUID]] = field(
        default_factory=lambda: {table: {} for table in TABLES}
    )


class _Writer:
    def __init__(self, session: AsyncSession, plan: Plan, owned: dict[str, set[uuid.UUID]]):
        self.session = session
        self.plan = plan
        self.owned = owned
        self.result = WriteResult()
        self.matches: dict[str, dict[Key, _Match]] = {table: {} for table in TABLES}
        for table, slugs in plan.known.ids.items():
            for slug, row_id in slugs.items():
                self.result.ids[table][(slug,)] = row_id

    async def run(self) -> WriteResult:
        # Slugged rows first, all of them: an event's parent is in the same table.
        for table in SLUGGED_TABLES:
            await self._match_slugged(table)
        for table in SLUGGED_TABLES:
            for match in self.matches[table].values():
                match.values = self._resolve(match.planned)
        for table in TABLES:
            if table not in SLUGGED_TABLES:
                await self._match_children(table)
        for table in EARLY_DELETES:
            await self._delete(table)
        for stage in WRITE_STAGES:
            for table in stage:
                if table == "event":
                    await self._write_events()
                else:
                    await self._write(table, self.matches[table].values())
            await self.session.flush()
        for table in LATE_DELETES:
            await self._delete(table)
        return self.result

    def _resolve(self, row: PlannedRow) -> dict[str, Any]:
        values = dict(row.values)
        for column, ref in row.refs.items():
            values[column] = None if ref is None else self.result.ids[ref.table][ref.key]
        return values

    async def _match_slugged(self, table: str) -> None:
        planned = self.plan.rows[table]
        if not planned:
            return
        model: Any = MODELS[table]
        statement = select(model).where(model.slug.in_([key[0] for key in planned]))
        by_slug = {row.slug: row for row in (await self.session.scalars(statement)).all()}
        for key in planned:
            current = by_slug.get(key[0])
            row_id = current.id if current is not None else uuid.uuid4()
            self.matches[table][key] = _Match(planned[key], {}, current, row_id)
            self.result.ids[table][key] = row_id

    async def _match_children(self, table: str) -> None:
        planned = self.plan.rows[table]
        if not planned:
            return
        model: Any = MODELS[table]
        resolved = {key: self._resolve(row) for key, row in planned.items()}
        parent = PARENT_COLUMN[table]
        parents = {values[parent] for values in resolved.values()}
        statement = select(model).where(getattr(model, parent).in_(parents))
        existing = (await self.session.scalars(statement)).all()
        columns = KEY_COLUMNS[table]
        if table == "evidence":
            columns += ("note", "editorial")
        by_key = {_key(table, _row_values(row, columns)): row for row in existing}
        unmatched: list[Key] = []
        for key, values in resolved.items():
            current = by_key.pop(_key(table, values), None)
            if current is None:
                unmatched.append(key)
            self._set_match(table, key, values, current)
        loose = LOOSE_KEY_COLUMNS.get(table)
        if loose and unmatched:
            # Only rows this run's files own may be taken over: never a row added by the API.
            candidates = {
                tuple(getattr(row, c) for c in loose): row
                for row in by_key.values()
                if row.id in self.owned.get(table, set())
            }
            for key in unmatched:
                values = self.matches[table][key].values
                current = candidates.pop(tuple(values[c] for c in loose), None)
                if current is not None:
                    self._set_match(table, key, values, current)

    def _set_match(
        self, table: str, key: Key, values: dict[str, Any], current: Base | None
    ) -> None:
        row_id: uuid.UUID = current.id if current is not None else uuid.uuid4()  # type: ignore[attr-defined]
        self.matches[table][key] = _Match(self.plan.rows[table][key], values, current, row_id)
        self.result.ids[table][key] = row_id

    async def _delete(self, table: str) -> None:
        keep = set(self.result.ids[table].values())
        doomed = self.owned.get(table, set()) - keep
        if not doomed:
            return
        model: Any = MODELS[table]
        outcome = await self.session.execute(
            delete(model).where(model.id.in_(doomed)).execution_options(synchronize_session=False)
        )
        self.result.counts[table].deleted += outcome.rowcount  # type: ignore[attr-defined]

    async def _write(self, table: str, matches: Iterable[_Match]) -> None:
        counts = self.result.counts[table]
        new_rows: list[dict[str, Any]] = []
        for match in matches:
            if match.existing is None:
                new_rows.append({"id": match.id, **match.values})
                continue
            changed = False
            for column, value in match.values.items():
                if getattr(match.existing, column) != value:
                    setattr(match.existing, column, value)
                    changed = True
            if changed:
                counts.updated += 1
            else:
                counts.unchanged += 1
        if new_rows:
            # One multi-row INSERT. Added one by one, the ORM would send a statement a row to
            # read back the server-side timestamps; render_nulls keeps NULL columns in the
            # statement so that rows are not split into a batch per set of present columns.
            statement = insert(MODELS[table]).execution_options(render_nulls=True)
            await self.session.execute(statement, new_rows)
            counts.created += len(new_rows)

    async def _write_events(self) -> None:
        # A new parent must be inserted before the child that points at it.
        matches = self.matches["event"]
        parent_of = {key: match.planned.refs["parent_id"] for key, match in matches.items()}

        def depth(key: Key) -> int:
            parent = parent_of.get(key)
            return 0 if parent is None or parent.key not in matches else 1 + depth(parent.key)

        levels: dict[int, list[_Match]] = {}
        for key, match in matches.items():
            levels.setdefault(depth(key), []).append(match)
        for level in sorted(levels):
            await self._write("event", levels[level])
            await self.session.flush()


async def apply_plan(
    session: AsyncSession, plan: Plan, owned: dict[str, set[uuid.UUID]]
) -> WriteResult:
    """Write the plan through `session` (flush only). `owned`: rows the run's files owned."""
    return await _Writer(session, plan, owned).run()
