"""Loading the evidence behind facts, in bulk: one query for all the facts of a response."""

import uuid
from collections import defaultdict
from collections.abc import Callable, Collection
from functools import cache
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Label,
    Select,
    any_,
    bindparam,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared import plain_json
from api.shared.rows import fetch, json_array, json_object
from api.shared.schemas import EvidenceRead
from db.models import Evidence
from db.models.evidence import SUBJECT_COLUMNS

_EVIDENCE = Evidence.__table__


_FIELDS = ("article_id", "start_offset", "end_offset", "quote", "editorial", "note", "field")


def _order(
    subject: ColumnElement[Any],
    column: Callable[[str], ColumnElement[Any]] = _EVIDENCE.c.__getitem__,
) -> tuple[ColumnElement[Any], ...]:
    """Per subject, cited spans first, in body order, then editorial notes; `column` gives the
    evidence column of a name (the table's, or a union's output column of that name)."""
    return (subject, column("article_id"), column("start_offset").nulls_last(), column("id"))


def evidence_array(
    subject_column: str, subject_id: ColumnElement[Any], *, name: str = "evidence"
) -> Label[str]:
    """The evidence of the row `subject_id` names, as a JSON array PostgreSQL builds inside the
    statement that reads the row (`rows.json_array`), labelled `name`: a read gets its
    evidence in the same round trip. `parse_array` turns it into `EvidenceRead`s."""
    subject = _EVIDENCE.c[subject_column]
    item = json_object({field: _EVIDENCE.c[field] for field in _FIELDS})
    return json_array(item, order_by=_order(subject), where=subject == subject_id).label(name)


# Parsed and validated in one pass by pydantic's JSON parser (json.loads, then a validation a
# quote, cost an article's read 5% of its CPU).
_EVIDENCE_ARRAY = TypeAdapter(list[EvidenceRead])


def parse_array(array: str) -> list[EvidenceRead]:
    return _EVIDENCE_ARRAY.validate_json(array)


def evidence_values(array: str) -> list[dict[str, Any]]:
    """The same array as plain JSON values (api/shared/plain_json.py), in `EvidenceRead`'s
    fields and their order, whatever the order of the array's keys."""
    return [
        {
            "article_id": item["article_id"],
            "start": item["start_offset"],
            "end": item["end_offset"],
            "quote": item["quote"],
            "editorial": item["editorial"],
            "note": item["note"],
            "field": item["field"],
        }
        for item in plain_json.loads(array)
    ]


@cache
def _statement(subject_columns: tuple[str, ...]) -> CompoundSelect[Any] | Select[Any]:
    """Built once per combination of subject kinds: one part per kind, each `= ANY($n)` with
    one array parameter (one statement text, one prepared statement, whatever the page size)
    and each served by its own index, in one round trip."""
    parts = [
        select(
            literal_column(f"'{column}'").label("kind"),
            _EVIDENCE.c[column].label("subject"),
            *(_EVIDENCE.c[name] for name in _FIELDS),
            _EVIDENCE.c.id,
        ).where(_EVIDENCE.c[column] == any_(bindparam(column, type_=ARRAY(UUID(as_uuid=True)))))
        for column in subject_columns
    ]
    order = (literal_column("kind"), *_order(literal_column("subject"), literal_column))
    if len(parts) == 1:
        return parts[0].order_by(*order)
    return union_all(*parts).order_by(*order)


EvidenceBySubject = dict[uuid.UUID, list[EvidenceRead]]


async def evidence_of(
    session: AsyncSession, **subjects: Collection[uuid.UUID]
) -> dict[str, EvidenceBySubject]:
    """The evidence of every fact of a response in one statement: for each subject kind given
    (an evidence subject column, e.g. `event_id=[...]`, `dispute_event_id=[...]`), its
    evidence grouped by subject id in article order (cited spans first by offset, editorial
    notes after); a subject with none has an empty list."""
    unknown = set(subjects) - set(SUBJECT_COLUMNS)
    if unknown:
        raise ValueError(f"not evidence subjects: {sorted(unknown)}")
    found: dict[str, EvidenceBySubject] = {column: defaultdict(list) for column in subjects}
    asked = tuple(column for column, ids in subjects.items() if ids)
    if not asked:
        return found
    rows = await fetch(
        session, _statement(asked), {column: list(subjects[column]) for column in asked}
    )
    for row in rows:
        found[row["kind"]][row["subject"]].append(EvidenceRead.model_validate(row))
    return found


async def evidence_for(
    session: AsyncSession, subject_column: str, subject_ids: Collection[uuid.UUID]
) -> EvidenceBySubject:
    """`evidence_of` for subjects of one kind, e.g. `("event_id", event_ids)`."""
    return (await evidence_of(session, **{subject_column: subject_ids}))[subject_column]
