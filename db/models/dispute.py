import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import (
    Base,
    Slugged,
    TimeBounds,
    Timestamps,
    TitleSummarySearch,
    UUIDPrimaryKey,
    Versioned,
    enum_column,
    nonblank,
    search_index,
    slug_format,
    slug_not_reserved,
    time_bounds_constraints,
)
from db.enums import DisputeEventRole, DisputeKind, DisputePartyRole, DisputeStatus
from db.fields import NAME_MAX_LENGTH


class Dispute(UUIDPrimaryKey, Slugged, TimeBounds, TitleSummarySearch, Versioned, Timestamps, Base):
    """A long-running conflict; its time span is `time_*` (an EDTF interval, open while active)."""

    __tablename__ = "dispute"
    __table_args__ = (
        slug_format(),
        slug_not_reserved(),
        nonblank("title"),
        *time_bounds_constraints(),
        Index("ix_dispute_kind_status", "kind", "status"),
        search_index("dispute"),
    )

    title: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH), nullable=False)
    kind: Mapped[DisputeKind] = mapped_column(enum_column(DisputeKind, "kind"), nullable=False)
    status: Mapped[DisputeStatus] = mapped_column(
        enum_column(DisputeStatus, "status"), nullable=False
    )
    summary: Mapped[str | None] = mapped_column(Text)


class DisputeParty(UUIDPrimaryKey, Versioned, Timestamps, Base):
    """A side of a dispute, and its position in its own terms."""

    __tablename__ = "dispute_party"
    __table_args__ = (
        UniqueConstraint("dispute_id", "entity_id"),
        Index("ix_dispute_party_entity_id", "entity_id"),
    )

    dispute_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("dispute.id", ondelete="CASCADE"), nullable=False
    )
    entity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("entity.id", ondelete="RESTRICT"), nullable=False
    )
    role: Mapped[DisputePartyRole] = mapped_column(
        enum_column(DisputePartyRole, "role"), nullable=False
    )
    position: Mapped[str | None] = mapped_column(Text)


class DisputeTerritory(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "dispute_territory"
    __table_args__ = (
        UniqueConstraint("dispute_id", "entity_id"),
        CheckConstraint(
            "administered_by_id IS NULL OR claimed_by_id IS NULL"
            " OR administered_by_id <> claimed_by_id",
            name="claimant_not_administrator",
        ),
        Index("ix_dispute_territory_entity_id", "entity_id"),
        Index("ix_dispute_territory_administered_by_id", "administered_by_id"),
        Index("ix_dispute_territory_claimed_by_id", "claimed_by_id"),
    )

    dispute_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("dispute.id", ondelete="CASCADE"), nullable=False
    )
    entity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("entity.id", ondelete="RESTRICT"), nullable=False
    )
    administered_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("entity.id", ondelete="RESTRICT")
    )
    claimed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("entity.id", ondelete="RESTRICT")
    )


class DisputeEvent(UUIDPrimaryKey, Timestamps, Base):
    """An event in a dispute's history and what it did to the dispute."""

    __tablename__ = "dispute_event"
    __table_args__ = (
        UniqueConstraint("dispute_id", "event_id"),
        Index("ix_dispute_event_event_id", "event_id"),
    )

    dispute_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("dispute.id", ondelete="CASCADE"), nullable=False
    )
    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("event.id", ondelete="RESTRICT"), nullable=False
    )
    role: Mapped[DisputeEventRole] = mapped_column(
        enum_column(DisputeEventRole, "role"), nullable=False
    )
    significance: Mapped[str | None] = mapped_column(Text)
