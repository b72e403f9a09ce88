"""Loading the evidence behind facts, in bulk: one query for all the facts of a response."""

import uuid
from collections import defaultdict
from collections.abc import Collection
from functools import cache
from typing import Any

from sqlalchemy import Select, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared.rows import fetch
from api.shared.schemas import EvidenceRead
from db.models import Evidence
from db.models.evidence import SUBJECT_COLUMNS

_EVIDENCE = Evidence.__table__


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
        .order_by(
            subject,
            _EVIDENCE.c.article_id,
            _EVIDENCE.c.start_offset.nulls_last(),
            _EVIDENCE.c.id,
        )
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
