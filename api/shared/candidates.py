"""Candidates as the API shows them: what article reads embed (`include=candidates`) and the
candidates feature lists, accepts and rejects."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared.schemas import EntityRef
from db.enums import CandidateKind, CandidateStatus
from db.models import Entity, EntityCandidate


class CandidateRead(BaseModel):
    """A proper name in an article that no known entity matched, for an editor to review."""

    id: uuid.UUID
    article: uuid.UUID = Field(description="The article's id.")
    name: str = Field(
        description='The name itself, titles and possessives left out: "Antony Blinken" in '
        '"U.S. Secretary of State Antony Blinken", "Japan" in "Japan\'s".'
    )
    start: int = Field(description="Where it is first named, an offset into the body.")
    end: int = Field(description="One past the last character of that first span.")
    spans: list[Annotated[list[int], Field(min_length=2, max_length=2)]] = Field(
        description="Every [start, end) where the article names it, shorter forms included "
        '("Blinken" after "Antony Blinken"); accepting turns each into a mention.'
    )
    kind: CandidateKind = Field(description="What the name seems to be.")
    cue: str | None = Field(
        description='The words that suggested `kind`: a title ("Secretary of State"), a last '
        'word ("Islands", "Sea", "Council"), a first word with "of" ("Ministry of"); null when '
        "none did (two or three plain capitalised words are guessed a person)."
    )
    suggested_slug: str = Field(description="The slug accepting gives a new entity by default.")
    status: CandidateStatus
    entity: EntityRef | None = Field(
        description="Once accepted: the entity it became or was linked to."
    )
    version: int
    created_at: datetime
    updated_at: datetime


# Candidates in the order an article reads them.
IN_BODY_ORDER = (EntityCandidate.start_offset, EntityCandidate.id)


def candidate_read(candidate: EntityCandidate, entity: Entity | None) -> CandidateRead:
    return CandidateRead(
        id=candidate.id,
        article=candidate.article_id,
        name=candidate.name,
        start=candidate.start_offset,
        end=candidate.end_offset,
        spans=[[start, end] for start, end in candidate.spans],
        kind=candidate.kind,
        cue=candidate.cue,
        suggested_slug=candidate.suggested_slug,
        status=candidate.status,
        entity=EntityRef.model_validate(entity) if entity is not None else None,
        version=candidate.version,
        created_at=candidate.created_at,
        updated_at=candidate.updated_at,
    )


def with_entities(rows: Sequence[tuple[EntityCandidate, Entity | None]]) -> list[CandidateRead]:
    return [candidate_read(candidate, entity) for candidate, entity in rows]


CANDIDATES = select(EntityCandidate, Entity).outerjoin(
    Entity, Entity.id == EntityCandidate.entity_id
)


async def candidates_of_article(
    session: AsyncSession, *, article_id: uuid.UUID, limit: int = 1000
) -> list[CandidateRead]:
    """The article's candidates, in body order (at most `limit`: detection stores 200)."""
    rows = await session.execute(
        CANDIDATES.where(EntityCandidate.article_id == article_id)
        .order_by(*IN_BODY_ORDER)
        .limit(limit)
    )
    return with_entities([(candidate, entity) for candidate, entity in rows])
