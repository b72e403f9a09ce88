"""Loading the evidence behind facts, in bulk: one query for all the facts of a response."""

import uuid
from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas import EvidenceRead
from db.models import Evidence
from db.models.evidence import SUBJECT_COLUMNS


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
    column = getattr(Evidence, subject_column)
    rows = await session.scalars(
        select(Evidence)
        .where(column.in_(list(subject_ids)))
        .order_by(column, Evidence.article_id, Evidence.start_offset.nulls_last(), Evidence.id)
    )
    for evidence in rows:
        grouped[getattr(evidence, subject_column)].append(EvidenceRead.model_validate(evidence))
    return grouped
