import uuid
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Timestamps, enum_column
from db.enums import MentionMethod


class Mention(Timestamps, Base):
    """An entity named in an article body, at [start, end) character offsets.

    An ambiguous mention (a name several entities share, "Tokyo" the city or the government) has
    no entity until an editor resolves it: `possible_entity_ids` lists the entities it may be,
    and there is one such mention per span, so it is never counted for any of them. The list
    is not a foreign key: an entity deleted since detection is left out when it is read.

    The primary key leads with article_id so a sharded deployment (distributed by article)
    keeps every mention on its article's shard.
    """

    __tablename__ = "mention"
    __table_args__ = (
        CheckConstraint("start_offset >= 0 AND start_offset < end_offset", name="span"),
        CheckConstraint("char_length(surface) = end_offset - start_offset", name="surface_length"),
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence_range"),
        CheckConstraint(
            "(entity_id IS NULL) = (possible_entity_ids IS NOT NULL)", name="entity_or_possible"
        ),
        CheckConstraint("cardinality(possible_entity_ids) >= 2", name="possible_entities"),
        UniqueConstraint("article_id", "entity_id", "start_offset", "end_offset"),
        Index("ix_mention_entity_id_article_id", "entity_id", "article_id"),
        Index(
            "uq_mention_ambiguous_span",
            "article_id",
            "start_offset",
            "end_offset",
            unique=True,
            postgresql_where=text("entity_id IS NULL"),
        ),
    )

    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        primary_key=True,
        default=uuid.uuid4,
        server_default=text("gen_random_uuid()"),
    )
    entity_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("entity.id", ondelete="CASCADE"))
    possible_entity_ids: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(UUID(as_uuid=True)))
    start_offset: Mapped[int] = mapped_column(nullable=False)
    end_offset: Mapped[int] = mapped_column(nullable=False)
    surface: Mapped[str] = mapped_column(Text, nullable=False)
    method: Mapped[MentionMethod] = mapped_column(
        enum_column(MentionMethod, "method"), nullable=False
    )
    confidence: Mapped[Decimal] = mapped_column(
        Numeric(4, 3), nullable=False, server_default=text("1")
    )
