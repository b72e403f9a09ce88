"""Storing the candidates recognition finds (db/recognizer.py) for one article: the pending
ones are replaced, a name an editor accepted or rejected keeps its row and is not suggested
again."""

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import CandidateStatus
from db.models import Article, EntityCandidate
from db.recognizer import Candidate


async def store_candidates(
    session: AsyncSession, *, article: Article, candidates: list[Candidate]
) -> list[EntityCandidate]:
    """Replace the article's pending candidates with `candidates`; return those stored."""
    await session.execute(
        delete(EntityCandidate).where(
            EntityCandidate.article_id == article.id,
            EntityCandidate.status == CandidateStatus.PENDING,
        )
    )
    settled = set(
        await session.scalars(
            select(EntityCandidate.name).where(EntityCandidate.article_id == article.id)
        )
    )
    rows = [
        EntityCandidate(
            article_id=article.id,
            name=candidate.name,
            start_offset=candidate.start,
            end_offset=candidate.end,
            spans=[list(span) for span in candidate.spans],
            kind=candidate.kind,
            cue=candidate.cue,
            suggested_slug=candidate.suggested_slug,
            status=CandidateStatus.PENDING,
        )
        for candidate in candidates
        if candidate.name not in settled
    ]
    session.add_all(rows)
    await session.flush()
    return rows
