"""Schemas shared by several resources."""

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from db.enums import EntityKind, EventType, Modality, ParticipantRole, StatementKind, TimePrecision
from db.fields import SLUG_MAX_LENGTH, no_nul


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
        return cls.of_fields({name: getattr(row, name, None) for name in _TIME_COLUMNS})

    @classmethod
    def of_fields(cls, fields: Mapping[str, Any]) -> "TimeRead | None":
        """The same from a mapping of those columns (a Core row)."""
        edtf = fields.get("time_edtf")
        if edtf is None:
            return None
        return cls(
            edtf=edtf,
            earliest=fields.get("time_earliest"),
            latest=fields.get("time_latest"),
            precision=fields.get("time_precision"),
        )


_TIME_COLUMNS = ("time_edtf", "time_earliest", "time_latest", "time_precision")


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


_DATE_AND_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _date_and_time(value: object) -> object:
    # Pydantic would also read a number ("0.5", 20211007) as Unix time and a bare date as its
    # midnight; the document promises an RFC 3339 date-time, so that is what is accepted.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE_AND_TIME.match(value):
        raise ValueError("is not an RFC 3339 date-time, e.g. 2021-10-07T09:00:00Z")
    return value


def _representable_in_utc(value: datetime) -> datetime:
    # An offset can carry 9999-12-31 or 0001-01-01 past the years a datetime holds once it is
    # converted to UTC, as the database driver does: refuse it as a client error.
    if value.utcoffset() is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError("is out of range once converted to UTC") from None
    return value


# Timestamps the database can store and compare: within years 1 to 9999 in UTC too.
Timestamp = Annotated[
    datetime, BeforeValidator(_date_and_time), AfterValidator(_representable_in_utc)
]
AwareTimestamp = Annotated[
    AwareDatetime, BeforeValidator(_date_and_time), AfterValidator(_representable_in_utc)
]

# Bounded, NUL-free text for request bodies; slugs and names follow db/fields.py, as the seed
# loader and the bulk import do.
# An id or slug that a body refers to.
Key = Annotated[str, StringConstraints(max_length=SLUG_MAX_LENGTH), AfterValidator(no_nul)]
Text = Annotated[str, StringConstraints(max_length=20_000), AfterValidator(no_nul)]
# No spaces or control characters, spelled out: `\S` means different things to Python, to
# pydantic's Rust engine and to the ECMA-262 regexes of JSON Schema tools (U+0085, for one).
Url = Annotated[
    str, StringConstraints(pattern=r"^https?://[^\x00-\x20\x7f-\x9f]+$", max_length=2048)
]


class WriteModel(BaseModel):
    """Request bodies: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid")
