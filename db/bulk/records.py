"""The NDJSON corpus records (bench/README.md), validated one line at a time by pydantic."""

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter
from pydantic import StringConstraints as Text

from db.checks import TimeSpan, parse_time
from db.enums import (
    AliasKind,
    DisputeEventRole,
    DisputeKind,
    DisputePartyRole,
    DisputeStatus,
    EntityKind,
    EventType,
    Modality,
    ParticipantRole,
    SourceKind,
    TimePrecision,
)
from db.fields import Name, Slug, SourceName


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Offset = Annotated[int, Field(ge=0)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRecord(_Part):
    type: Literal["source"]
    slug: Slug
    name: SourceName
    kind: SourceKind
    homepage_url: str | None = None


class AliasPart(_Part):
    name: Name
    language: Annotated[str, Text(max_length=35)] | None = None
    kind: AliasKind
    used_by: Slug | None = None


class EntityRecord(_Part):
    type: Literal["entity"]
    slug: Slug
    kind: EntityKind
    name: Name
    description: str | None = None
    external_ids: dict[str, Any] = Field(default_factory=dict)
    aliases: list[AliasPart] = Field(default_factory=list)


class MentionPart(_Part):
    entity: Slug
    start: Offset
    end: Offset
    surface: str


class ArticleRecord(_Part):
    type: Literal["article"]
    slug: Slug
    source: Slug
    headline: str | None = None
    byline: Annotated[str, Text(max_length=300)] | None = None
    url: str | None = None
    language: Annotated[str, Text(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", max_length=35)]
    published_at: AwareDatetime | None = None
    published_precision: TimePrecision | None = None
    summary: str | None = None
    body: Annotated[str, AfterValidator(_not_blank)]
    mentions: list[MentionPart] = Field(default_factory=list)


class ParticipantPart(_Part):
    entity: Slug
    role: ParticipantRole


class EvidencePart(_Part):
    article: Slug
    start: Offset
    end: Offset
    quote: str


class EventRecord(_Part):
    type: Literal["event"]
    slug: Slug
    title: Name
    summary: str | None = None
    event_type: EventType
    mode: Annotated[str, Text(max_length=50)] | None = None
    contexts: list[Annotated[str, Text(max_length=50)]] = Field(default_factory=list)
    modality: Modality = Modality.ASSERTED
    time: Annotated[str, Text(max_length=100)] | None = None
    participants: list[ParticipantPart] = Field(default_factory=list)
    evidence: list[EvidencePart] = Field(default_factory=list)


class PartyPart(_Part):
    entity: Slug
    role: DisputePartyRole
    position: str | None = None


class TerritoryPart(_Part):
    entity: Slug
    administered_by: Slug | None = None
    claimed_by: Slug | None = None


class TimelinePart(_Part):
    event: Slug
    role: DisputeEventRole
    significance: str | None = None


class DisputeRecord(_Part):
    type: Literal["dispute"]
    slug: Slug
    title: Name
    kind: DisputeKind
    status: DisputeStatus
    summary: str | None = None
    time: Annotated[str, Text(max_length=100)] | None = None
    parties: list[PartyPart] = Field(default_factory=list)
    territories: list[TerritoryPart] = Field(default_factory=list)
    timeline: list[TimelinePart] = Field(default_factory=list)


Record = SourceRecord | EntityRecord | ArticleRecord | EventRecord | DisputeRecord

RECORD: TypeAdapter[Record] = TypeAdapter(Annotated[Record, Field(discriminator="type")])

# The corpus's event times are plain dates, months and years; the general EDTF parser takes
# ~20 ms a value, which would dominate an import, so those three forms are computed here.
_PLAIN_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def time_span(text: str) -> TimeSpan:
    """Like db.checks.parse_time (raises InvalidEDTF), fast for YYYY, YYYY-MM and YYYY-MM-DD."""
    match = _PLAIN_DATE.fullmatch(text)
    if match is not None:
        year, month, day = (int(part) if part else None for part in match.groups())
        assert year is not None
        try:
            if day is not None and month is not None:
                value = date(year, month, day)
                return TimeSpan(text, value, value, TimePrecision.DAY)
            if month is not None:
                following = date(year + month // 12, month % 12 + 1, 1)
                return TimeSpan(
                    text,
                    date(year, month, 1),
                    date.fromordinal(following.toordinal() - 1),
                    TimePrecision.MONTH,
                )
            return TimeSpan(text, date(year, 1, 1), date(year, 12, 31), TimePrecision.YEAR)
        except ValueError:
            pass  # e.g. 2021-02-30 or year 0: the parser decides and explains
    return parse_time(text)
