import uuid
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Timestamps, UUIDPrimaryKey, Versioned, enum_column
from db.enums import CandidateKind, CandidateStatus
from db.fields import NAME_MAX_LENGTH, SLUG_MAX_LENGTH


class EntityCandidate(UUIDPrimaryKey, Versioned, Timestamps, Base):
    """A proper name in an article that no stored entity matched, for an editor to accept (as a
    new entity, or as another name of an existing one) or reject.

    `name` is the name itself ("Antony Blinken" out of "U.S. Secretary of State Antony
    Blinken"), first written at [start_offset, end_offset); `spans` lists every place the article
    names it, [[start, end], ...], shorter forms included ("Blinken"). `cue` is the title or word
    that suggested `kind`. One candidate per name per article: a rejected name stays rejected
    when mentions are detected again.
    """

    __tablename__ = "entity_candidate"
    __table_args__ = (
        CheckConstraint("start_offset >= 0 AND start_offset < end_offset", name="span"),
        CheckConstraint("jsonb_typeof(spans) = 'array'", name="spans_array"),
        # Deleting the entity later leaves the candidate accepted, with no entity.
        CheckConstraint("entity_id IS NULL OR status = 'accepted'", name="entity_when_accepted"),
        UniqueConstraint("article_id", "name"),
        Index("ix_entity_candidate_entity_id", "entity_id"),
    )

    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH), nullable=False)
    start_offset: Mapped[int] = mapped_column(nullable=False)
    end_offset: Mapped[int] = mapped_column(nullable=False)
    spans: Mapped[list[Any]] = mapped_column(JSONB, nullable=False)
    kind: Mapped[CandidateKind] = mapped_column(enum_column(CandidateKind, "kind"), nullable=False)
    cue: Mapped[str | None] = mapped_column(Text)
    suggested_slug: Mapped[str] = mapped_column(String(SLUG_MAX_LENGTH), nullable=False)
    status: Mapped[CandidateStatus] = mapped_column(
        enum_column(CandidateStatus, "status"), nullable=False
    )
    # The entity an accepted candidate became or was linked to.
    entity_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("entity.id", ondelete="SET NULL")
    )
