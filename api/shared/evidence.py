"""Loading the evidence behind facts, in bulk: one query for all the facts of a response."""

import json
import uuid
from collections import defaultdict
from collections.abc import Collection
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared.rows import fetch
from api.shared.schemas import EvidenceRead
from db.models import Evidence
from db.models.evidence import SUBJECT_COLUMNS

_EVIDENCE = Evidence.__table__


_FIELDS = ("article_id", "start_offset", "end_offset", "quote", "editorial", "note", "field")


def _order(subject: ColumnElement[Any]) -> tuple[ColumnElement[Any], ...]:
    """Cited spans first, in body order, then editorial notes."""
    return (subject, _EVIDENCE.c.article_id, _EVIDENCE.c.start_offset.nulls_last(), _EVIDENCE.c.id)


def evidence_array(subject_column: str, subject_id: ColumnElement[Any]) -> ColumnElement[str]:
    """The evidence of the row `subject_id` names, as a JSON array PostgreSQL builds inside the
    statement that reads the row: a detail read gets its evidence in the same round trip.
    `parse_array` turns it into `EvidenceRead`s."""
    subject = _EVIDENCE.c[subject_column]
    item = func.json_build_object(
        *(part for name in _FIELDS for part in (literal_column(f"'{name}'"), _EVIDENCE.c[name]))
    )
    array = (
        select(
            func.coalesce(
                func.json_agg(aggregate_order_by(item, *_order(subject))),
                literal_column("'[]'::json"),
            )
        )
        .where(subject == subject_id)
        .scalar_subquery()
    )
    # As text: the same str whichever way the statement is sent (SQLAlchemy decodes json).
    return cast(array, Text).label("evidence")


def parse_array(array: str) -> list[EvidenceRead]:
    return [EvidenceRead.model_validate(item) for item in json.loads(array)]


@cache
def _statement(subject_column: str) -> Select[Any]:
    """Built once per kind of subject. `= ANY($1)` with one array parameter, not `IN` with a
    parameter per id: one statement text (one prepared statement) whatever the page size."""
    subject = _EVIDENCE.c[subject_column]
    return (
        select(
            subject.label("subject"),
            _EVIDENCE.c.article_id,
            _EVIDENCE.c.start_offset,
            _EVIDENCE.c.end_offset,
            _EVIDENCE.c.quote,
            _EVIDENCE.c.editorial,
            _EVIDENCE.c.note,
            _EVIDENCE.c.field,
        )
        .where(subject == any_(bindparam("subject_ids", type_=ARRAY(UUID(as_uuid=True)))))
        .order_by(*_order(subject))
    )


async def evidence_for(
    session: AsyncSession, subject_column: str, subject_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[EvidenceRead]]:
    """Evidence grouped by subject id, in article order (cited spans first by offset,
    editorial notes after), for subjects of one kind, e.g. `("event_id", event_ids)`."""
    if subject_column not in SUBJECT_COLUMNS:
        raise ValueError(f"not an evidence subject: {subject_column}")
    grouped: dict[uuid.UUID, list[EvidenceRead]] = defaultdict(list)
    if not subject_ids:
        return grouped
    rows = await fetch(session, _statement(subject_column), {"subject_ids": list(subject_ids)})
    for row in rows:
        grouped[row["subject"]].append(EvidenceRead.model_validate(row))
    return grouped
