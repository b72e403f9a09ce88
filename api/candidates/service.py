"""Reviewing candidates: listing them, and accepting (an entity, its aliases, a mention for every
span, with evidence) or rejecting one. Both are idempotent: the candidate's status says what
was done."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from api.candidates.schemas import CandidateAccept
from api.shared.candidates import CANDIDATES
from api.shared.errors import NotFound, ProblemError
from api.shared.lookup import ids_for_filter
from api.shared.pagination import Keyset, SortKey, count_rows, fetch_page
from api.shared.problems import ProblemCode
from api.shared.writes import flush_or_conflict
from db.enums import (
    AliasKind,
    CandidateKind,
    CandidateStatus,
    EntityKind,
    MentionMethod,
)
from db.gazetteer import fold_name
from db.models import Article, Entity, EntityAlias, EntityCandidate, Evidence, Mention

# Newest detections first; within one detection, in the order the article reads.
NEWEST_FIRST = (
    SortKey(EntityCandidate.created_at, "datetime", True),
    SortKey(EntityCandidate.article_id, "uuid"),
    SortKey(EntityCandidate.start_offset, "int"),
    SortKey(EntityCandidate.id, "uuid"),
)


async def list_candidates(
    session: AsyncSession,
    *,
    keyset: Keyset,
    after: Sequence[Any] | None,
    limit: int,
    article_id: uuid.UUID | None,
    kind: CandidateKind | None,
    status: CandidateStatus | None,
    count: bool,
) -> tuple[list[Any], list[Any] | None, int | None]:
    query = CANDIDATES
    if article_id is not None:
        query = query.where(EntityCandidate.article_id == article_id)
    if kind is not None:
        query = query.where(EntityCandidate.kind == kind)
    if status is not None:
        query = query.where(EntityCandidate.status == status)
    rows, next_key = await fetch_page(
        session, query, keyset=keyset, after=after, limit=limit, whole_rows=True
    )
    total = await count_rows(session, query) if count else None
    return [tuple(row) for row in rows], next_key, total


async def get_candidate(session: AsyncSession, key: str) -> EntityCandidate:
    """The candidate with id `key`, locked until the transaction ends (two reviews take turns)."""
    try:
        candidate_id = uuid.UUID(key)
    except ValueError:
        raise NotFound("candidate", key) from None
    candidate = await session.scalar(
        select(EntityCandidate).where(EntityCandidate.id == candidate_id).with_for_update()
    )
    if candidate is None:
        raise NotFound("candidate", key)
    return candidate


def _settled(candidate: EntityCandidate, entity: Entity | None, doing: str) -> ProblemError:
    named = f"{entity.slug!r}" if entity is not None else "an entity deleted since"
    return ProblemError(
        ProblemCode.CANDIDATE_SETTLED,
        f"The candidate {candidate.name!r} was accepted as {named}: it cannot be {doing}.",
    )


def _entity_kind(kind: CandidateKind) -> EntityKind:
    return EntityKind.OTHER if kind == CandidateKind.EVENT else EntityKind(kind.value)


async def _add_aliases(
    session: AsyncSession, *, article: Article, candidate: EntityCandidate, entity: Entity
) -> None:
    """Every form the article writes the name in that the entity lacks, as an alias, with the
    span it was first written at as evidence: the full name (`common`) and a lone surname or
    given name (`short`)."""
    known = {fold_name(entity.name)}
    known.update(
        fold_name(name)
        for name in await session.scalars(
            select(EntityAlias.name).where(EntityAlias.entity_id == entity.id)
        )
    )
    evidence = []
    for start, end in candidate.spans:
        surface = article.body[start:end]
        if fold_name(surface) in known:
            continue
        known.add(fold_name(surface))
        alias = EntityAlias(
            id=uuid.uuid4(),
            entity_id=entity.id,
            name=surface,
            language=article.language.split("-")[0].lower(),
            kind=AliasKind.COMMON if surface == candidate.name else AliasKind.SHORT,
        )
        session.add(alias)
        evidence.append(
            Evidence(
                article_id=article.id,
                entity_alias_id=alias.id,
                start_offset=start,
                end_offset=end,
                quote=surface,
            )
        )
    # The aliases written before the evidence that refers to them: one flush, not one each.
    await session.flush()
    session.add_all(evidence)


async def accept(
    session: AsyncSession, *, candidate: EntityCandidate, data: CandidateAccept
) -> tuple[EntityCandidate, Entity | None]:
    """Accept the candidate: a new entity, or the one `data.entity` names, and a curated
    mention at every span. Accepting again does nothing (unless it names another entity)."""
    linked: uuid.UUID | None = None
    if data.entity is not None:
        [linked] = await ids_for_filter(session, Entity, [data.entity], "entity", location="body")
    if candidate.status == CandidateStatus.ACCEPTED:
        entity = await session.get(Entity, candidate.entity_id) if candidate.entity_id else None
        if linked is not None and linked != candidate.entity_id:
            raise _settled(candidate, entity, "accepted as another entity")
        return candidate, entity
    article = await session.get(Article, candidate.article_id, with_for_update=True)
    assert article is not None  # the candidate's article_id is a NOT NULL foreign key
    if linked is not None:
        entity = await session.get(Entity, linked)
        assert entity is not None
    else:
        entity = Entity(
            id=uuid.uuid4(),
            slug=data.slug or candidate.suggested_slug,
            kind=data.kind or _entity_kind(candidate.kind),
            name=data.name or candidate.name,
            description=data.description,
        )
        session.add(entity)
        await flush_or_conflict(session, resource="entity")
        start, end = candidate.start_offset, candidate.end_offset
        session.add(
            Evidence(
                article_id=article.id,
                entity_id=entity.id,
                start_offset=start,
                end_offset=end,
                quote=article.body[start:end],
                field="name",
            )
        )
    await _add_aliases(session, article=article, candidate=candidate, entity=entity)
    # Every span a mention; a span already naming this entity (an editor's) is left as it is.
    await session.execute(
        insert(Mention)
        .values(
            [
                {
                    "article_id": article.id,
                    "entity_id": entity.id,
                    "start_offset": start,
                    "end_offset": end,
                    "surface": article.body[start:end],
                    "method": MentionMethod.CURATED,
                }
                for start, end in candidate.spans
            ]
        )
        .on_conflict_do_nothing()
    )
    candidate.status = CandidateStatus.ACCEPTED
    candidate.entity_id = entity.id
    # The mentions are part of the article's representation: a new version, a new ETag.
    article.updated_at = func.now()
    await session.flush()
    await session.refresh(candidate)
    return candidate, entity


async def reject(session: AsyncSession, *, candidate: EntityCandidate) -> EntityCandidate:
    """Reject the candidate (again: nothing changes); an accepted one is a 409."""
    if candidate.status == CandidateStatus.ACCEPTED:
        entity = await session.get(Entity, candidate.entity_id) if candidate.entity_id else None
        raise _settled(candidate, entity, "rejected")
    if candidate.status == CandidateStatus.PENDING:
        candidate.status = CandidateStatus.REJECTED
        await session.flush()
        await session.refresh(candidate)
    return candidate
