import uuid

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Timestamps, UUIDPrimaryKey

# Exactly one of these names what the evidence supports. Real foreign keys (rather than a
# type/id pair) keep integrity in the database and let deletes cascade to the evidence.
SUBJECT_COLUMNS = (
    "entity_id",
    "entity_alias_id",
    "entity_relation_id",
    "event_id",
    "event_participant_id",
    "statement_id",
    "dispute_id",
    "dispute_party_id",
    "dispute_territory_id",
    "dispute_event_id",
    "subject_article_id",
)


class Evidence(UUIDPrimaryKey, Timestamps, Base):
    """The words of an article that support a fact, or an editorial note where it has none.

    A cited span is [start_offset, end_offset) of the article body and `quote` is that text
    exactly (checked on write). Editorial evidence has no span: its `note` says how the fact
    was derived (e.g. a date worked out from "Thursday").
    """

    __tablename__ = "evidence"
    __table_args__ = (
        CheckConstraint(
            "num_nonnulls(" + ", ".join(SUBJECT_COLUMNS) + ") = 1", name="exactly_one_subject"
        ),
        CheckConstraint(
            "(start_offset IS NULL AND end_offset IS NULL AND quote IS NULL)"
            " OR (start_offset >= 0 AND start_offset < end_offset"
            " AND char_length(quote) = end_offset - start_offset)",
            name="span",
        ),
        CheckConstraint("editorial OR start_offset IS NOT NULL", name="cited_or_editorial"),
        CheckConstraint(
            "NOT editorial OR (note IS NOT NULL AND btrim(note) <> '')", name="editorial_note"
        ),
        Index("ix_evidence_article_id", "article_id"),
        *(
            Index(f"ix_evidence_{column}", column, postgresql_where=text(f"{column} IS NOT NULL"))
            for column in SUBJECT_COLUMNS
        ),
    )

    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), nullable=False
    )
    start_offset: Mapped[int | None] = mapped_column()
    end_offset: Mapped[int | None] = mapped_column()
    quote: Mapped[str | None] = mapped_column(Text)
    editorial: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    note: Mapped[str | None] = mapped_column(Text)
    # The attribute of the subject this supports when not the whole fact, e.g. "time".
    field: Mapped[str | None] = mapped_column(String(50))

    entity_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("entity.id", ondelete="CASCADE"))
    entity_alias_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("entity_alias.id", ondelete="CASCADE")
    )
    entity_relation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("entity_relation.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    event_participant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("event_participant.id", ondelete="CASCADE")
    )
    statement_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("statement.id", ondelete="CASCADE")
    )
    dispute_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("dispute.id", ondelete="CASCADE")
    )
    dispute_party_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("dispute_party.id", ondelete="CASCADE")
    )
    dispute_territory_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("dispute_territory.id", ondelete="CASCADE")
    )
    dispute_event_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("dispute_event.id", ondelete="CASCADE")
    )
    subject_article_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE")
    )
