"""Schemas shared by several resources."""

import uuid
from datetime import date
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from db.enums import EntityKind, EventType, Modality, ParticipantRole, StatementKind, TimePrecision


class TimeRead(BaseModel):
    """A news time: as stated (EDTF) and as bounds that range queries use."""

    model_config = ConfigDict(from_attributes=True)

    edtf: str = Field(examples=["2021-10-07", "197X/198X", "2021-10-04/.."])
    earliest: date | None = Field(description="First day it may cover; null when open.")
    latest: date | None = Field(description="Last day it may cover; null when open.")
    precision: TimePrecision | None

    @classmethod
    def of(cls, row: object) -> "TimeRead | None":
        """The time of any row with the TimeBounds columns; None when it has no time."""
        edtf = getattr(row, "time_edtf", None)
        if edtf is None:
            return None
        return cls(
            edtf=edtf,
            earliest=getattr(row, "time_earliest", None),
            latest=getattr(row, "time_latest", None),
            precision=getattr(row, "time_precision", None),
        )


class EntityRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    kind: EntityKind
    name: str


class EvidenceRead(BaseModel):
    """The words of an article that support a fact, or an editorial note where there are none."""

    model_config = ConfigDict(from_attributes=True)

    article_id: uuid.UUID
    start: int | None = Field(validation_alias="start_offset")
    end: int | None = Field(validation_alias="end_offset")
    quote: str | None
    editorial: bool
    note: str | None
    field: str | None = Field(description="The attribute supported, when not the whole fact.")


class EventRef(BaseModel):
    id: uuid.UUID
    slug: str
    title: str
    event_type: EventType
    modality: Modality
    time: TimeRead | None

    @classmethod
    def of(cls, event: Any) -> Self:
        return cls(
            id=event.id,
            slug=event.slug,
            title=event.title,
            event_type=event.event_type,
            modality=event.modality,
            time=TimeRead.of(event),
        )


class ParticipantRef(BaseModel):
    """An entity taking part in an event, and how."""

    entity: EntityRef
    role: ParticipantRole


class StatementRef(BaseModel):
    id: uuid.UUID
    slug: str
    speaker: EntityRef
    text: str
    kind: StatementKind


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it as a client error rather than fail later.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# Bounded, NUL-free text for request bodies.
Name = Annotated[str, StringConstraints(min_length=1, max_length=300), AfterValidator(_no_nul)]
Text = Annotated[str, StringConstraints(max_length=20_000), AfterValidator(_no_nul)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=500_000), AfterValidator(_no_nul)]
Slug = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", min_length=1, max_length=120)
]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2048)]


class WriteModel(BaseModel):
    """Request bodies: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid")
