import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from api.shared.pagination import LookupPage
from api.shared.schemas import (
    EntityRef,
    EventRef,
    EvidenceRead,
    ParticipantRef,
    StatementRef,
    TimeRead,
    WriteModel,
)
from db.enums import DisputeEventRole, EventType, Modality
from db.fields import EdtfText, Name, Slug
from seeds import schema as seed


def iso_duration(duration: timedelta | None) -> str | None:
    """ISO 8601 in days, hours, minutes and seconds ("PT25M", "P1DT2H"): months and years
    have no fixed length, so a stored interval is never rounded into them."""
    if duration is None:
        return None
    hours, rest = divmod(duration.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    days = f"{duration.days}D" if duration.days else ""
    clock = "".join(f"{amount}{unit}" for amount, unit in ((hours, "H"), (minutes, "M")) if amount)
    if duration.microseconds:
        clock += f"{seconds}.{duration.microseconds:06d}".rstrip("0") + "S"
    elif seconds:
        clock += f"{seconds}S"
    if not days and not clock:
        return "PT0S"
    return f"P{days}" + (f"T{clock}" if clock else "")


class ParticipantRead(ParticipantRef):
    evidence: list[EvidenceRead] = Field(description="What supports this entity's part.")


class EventBase(BaseModel):
    """What an event's list and detail forms share: what happened, when and where."""

    id: uuid.UUID
    slug: str
    title: str
    summary: str | None
    event_type: EventType = Field(description="PLOVER event type.")
    mode: str | None = Field(description="PLOVER mode within the type, e.g. `phone`.")
    contexts: list[str] = Field(examples=[["diplomatic", "territory"]])
    modality: Modality
    time: TimeRead | None
    duration: str | None = Field(description="ISO 8601 duration.", examples=["PT25M"])
    location: EntityRef | None
    version: int
    created_at: datetime
    updated_at: datetime


class EventSummary(EventBase):
    """An event as lists return it, with who took part."""

    participants: list[ParticipantRef]


class EventStatementRead(StatementRef):
    """A statement made as part of an event."""

    conveyed_by: EntityRef | None = Field(description="Who passed the statement on, if known.")
    conveyed_by_description: str | None = Field(
        description="How the article describes the messenger.", examples=["a ministry official"]
    )


class EventDisputeRead(BaseModel):
    """A dispute whose timeline includes the event, and what the event did to it."""

    id: uuid.UUID
    slug: str
    title: str
    role: DisputeEventRole
    significance: str | None
    evidence: list[EvidenceRead] = Field(
        description="What supports the event's part in the dispute (`role`, `significance`)."
    )


class EventRead(EventBase):
    participants: list[ParticipantRead]
    parent: EventRef | None = Field(description="The larger event this one is part of.")
    statements: list[EventStatementRead]
    disputes: list[EventDisputeRead]
    evidence: list[EvidenceRead] = Field(description="What supports the event itself.")


class EventPage(LookupPage[EventSummary]):
    pass


class EventCreate(seed.EventSeed):
    """A new event, in the seed file format and checked by the same code: `type` is a PLOVER
    event type, `time` EDTF, `duration` ISO 8601; `location`, `parent` and participants'
    `entity` must name existing rows; evidence must quote its `article`."""


class EventUpdate(WriteModel):
    """Only the fields sent change (`null` clears an optional one); `participants` or
    `evidence`, when sent, replace the event's whole set."""

    slug: Slug | None = None
    title: Name | None = None
    summary: seed.Text | None = None
    type: seed.PloverType | None = None
    mode: seed.Mode | None = None
    modality: Modality | None = None
    contexts: list[seed.Context] | None = None
    time: EdtfText | None = None
    duration: seed.Duration | None = None
    location: Slug | None = None
    parent: Slug | None = None
    participants: list[seed.ParticipantSeed] | None = None
    evidence: list[seed.EvidenceSeed] | None = None
