import uuid
from datetime import datetime, timedelta

from fastapi.openapi.models import Example
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
from db.checks import format_duration
from db.enums import DisputeEventRole, EventType, Modality
from db.fields import EdtfText, ItemSlug, Name, Slug
from seeds import schema as seed


def iso_duration(duration: timedelta | None) -> str | None:
    """ISO 8601 in days, hours, minutes and seconds ("PT25M", "P1DT2H"): months and years
    have no fixed length, so a stored interval is never rounded into them."""
    return None if duration is None else format_duration(duration)


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

    slug: ItemSlug | None = None
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


# Request body examples in the contract; tests/contract/test_headers.py sends each one to an
# app holding the seed data, so every one is a request that works.
_ARTICLE = "kyodo-2021-10-07-kishida-putin-phone-call"
CREATE_EXAMPLES: dict[str, Example] = {
    "request": {
        "summary": "An event with participants, each fact quoting the article",
        "value": {
            "slug": "japan-demands-return-of-disputed-islands",
            "title": "Japan demands the return of the disputed islands",
            "summary": "Japan argues the islands' annexation was illegal and demands them back.",
            "type": "REQUEST",
            "modality": "asserted",
            "participants": [
                {
                    "entity": "japan",
                    "role": "actor",
                    "evidence": [{"quote": "is demanding their return", "article": _ARTICLE}],
                },
                {
                    "entity": "disputed-kuril-islands",
                    "role": "subject",
                    "evidence": [
                        {"quote": "which calls them the Northern Territories", "article": _ARTICLE}
                    ],
                },
            ],
            "evidence": [
                {
                    "quote": "argues the annexation was illegal and is demanding their return",
                    "article": _ARTICLE,
                }
            ],
        },
    }
}
UPDATE_EXAMPLES: dict[str, Example] = {
    "modality": {"summary": "Change the modality", "value": {"modality": "intended"}},
    "clear": {"summary": "Clear the summary", "value": {"summary": None}},
}
