import uuid
from datetime import date, timedelta

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Interval,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
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
from db.enums import EventType, Modality, ParticipantRole, StatementKind
from db.fields import NAME_MAX_LENGTH


class Event(UUIDPrimaryKey, Slugged, TimeBounds, TitleSummarySearch, Versioned, Timestamps, Base):
    """Who did what to whom, when and where, typed with the PLOVER ontology."""

    __tablename__ = "event"
    __table_args__ = (
        slug_format(),
        slug_not_reserved(),
        nonblank("title"),
        *time_bounds_constraints(),
        CheckConstraint("duration IS NULL OR duration > interval '0'", name="duration_positive"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        Index("ix_event_time_sort", "time_earliest", "time_latest", "id"),
        Index(
            "ix_event_time_range",
            text("daterange(time_earliest, time_latest, '[]')"),
            postgresql_using="gist",
        ),
        Index("ix_event_event_type", "event_type"),
        Index("ix_event_contexts", "contexts", postgresql_using="gin"),
        Index("ix_event_location_id", "location_id"),
        Index("ix_event_parent_id", "parent_id"),
        search_index("event"),
    )

    title: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH), nullable=False)
    summary: Mapped[str | None] = mapped_column(Text)
    event_type: Mapped[EventType] = mapped_column(
        enum_column(EventType, "event_type"), nullable=False
    )
    # PLOVER mode within the type, e.g. "phone" or "visit" for CONSULT.
    mode: Mapped[str | None] = mapped_column(String(50))
    contexts: Mapped[list[str]] = mapped_column(
        ARRAY(String(50)), nullable=False, server_default=text("'{}'")
    )
    modality: Mapped[Modality] = mapped_column(
        enum_column(Modality, "modality"), nullable=False, server_default=Modality.ASSERTED.value
    )
    duration: Mapped[timedelta | None] = mapped_column(Interval)
    location_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("entity.id", ondelete="RESTRICT")
    )
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"))


class EventParticipant(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "event_participant"
    __table_args__ = (
        UniqueConstraint("event_id", "entity_id", "role"),
        # With the event id, an entity's events are an index-only scan.
        Index("ix_event_participant_entity_id_event_id", "entity_id", "event_id"),
        # An entity's events in the events list's time order: one range, read a page at a time.
        Index(
            "ix_event_participant_entity_time", "entity_id", "event_start", "event_end", "event_id"
        ),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), nullable=False
    )
    entity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("entity.id", ondelete="RESTRICT"), nullable=False
    )
    role: Mapped[ParticipantRole] = mapped_column(
        enum_column(ParticipantRole, "role"), nullable=False
    )
    # The event's keys in api.events.service.TIME_ORDER_UNDATED_LAST, copied from the event by
    # triggers (migration 3a7f1c9e5b20) whenever either row is written: never set them.
    event_start: Mapped[date] = mapped_column(Date, nullable=False, deferred=True)
    event_end: Mapped[date] = mapped_column(Date, nullable=False, deferred=True)


class Statement(UUIDPrimaryKey, Slugged, Versioned, Timestamps, Base):
    """Something someone said, as quoted or paraphrased, and who passed it on."""

    __tablename__ = "statement"
    __table_args__ = (
        slug_format(),
        slug_not_reserved(),
        nonblank("text"),
        Index("ix_statement_speaker_id", "speaker_id"),
        Index("ix_statement_event_id", "event_id"),
        Index("ix_statement_conveyed_by_id", "conveyed_by_id"),
    )

    speaker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("entity.id", ondelete="RESTRICT"), nullable=False
    )
    text: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[StatementKind] = mapped_column(enum_column(StatementKind, "kind"), nullable=False)
    conveyed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("entity.id", ondelete="RESTRICT")
    )
    # How the article describes the messenger, e.g. "a ministry official".
    conveyed_by_description: Mapped[str | None] = mapped_column(String(300))
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"))
