"""The NDJSON corpus records (bench/README.md), validated one line at a time by pydantic."""

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)
from pydantic import StringConstraints as Text
from pydantic_core import PydanticCustomError

from db.checks import TimeSpan, parse_duration, parse_time
from db.enums import (
    AliasKind,
    DisputeEventRole,
    DisputeKind,
    DisputePartyRole,
    DisputeStatus,
    EntityKind,
    EventType,
    MentionMethod,
    Modality,
    ParticipantRole,
    RelationKind,
    SourceKind,
    StatementKind,
    TimePrecision,
)
from db.fields import ItemSlug, Name, Slug, SourceName


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _duration(value: str) -> str:
    try:
        parse_duration(value)
    except ValueError as error:
        raise PydanticCustomError("duration", str(error)) from error
    return value


Offset = Annotated[int, Field(ge=0)]
# What an evidence item supports when not the whole fact, e.g. "time" (evidence.field).
FieldName = Annotated[str, Text(pattern=r"^[a-z][a-z0-9_]*$", max_length=50)]
Language = Annotated[str, Text(max_length=35)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRecord(_Part):
    type: Literal["source"]
    slug: Slug
    name: SourceName
    kind: SourceKind
    homepage_url: str | None = None


class EvidencePart(_Part):
    """A cited span of an article (`start`, `end`, `quote`), or an editorial note naming the
    article it was derived from (`editorial`, `note`); `field` is what it supports."""

    article: Slug
    start: Offset | None = None
    end: Offset | None = None
    quote: str | None = None
    editorial: bool = False
    note: str | None = None
    field: FieldName | None = None

    @model_validator(mode="after")
    def _cited_or_editorial(self) -> Self:
        spanned = (self.start, self.end, self.quote)
        if any(value is not None for value in spanned):
            if any(value is None for value in spanned):
                raise PydanticCustomError("span", "a cited span needs start, end and quote")
        elif not self.editorial:
            raise PydanticCustomError(
                "span", "evidence needs a span (start, end, quote) or editorial: true"
            )
        if self.editorial and (self.note is None or not self.note.strip()):
            raise PydanticCustomError("note", "editorial evidence needs a non-blank note")
        return self


class AliasPart(_Part):
    name: Name
    language: Language | None = None
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
    """A mention of `entity`, or an ambiguous one (`entity` null) of one of the two or more
    `possible_entities`."""

    entity: Slug | None
    possible_entities: list[Slug] = Field(default_factory=list, max_length=100)
    start: Offset
    end: Offset
    surface: str
    method: MentionMethod = MentionMethod.CURATED
    confidence: Annotated[Decimal, Field(ge=0, le=1, max_digits=4, decimal_places=3)] = Decimal(1)

    @model_validator(mode="after")
    def _entity_or_possible(self) -> Self:
        if self.entity is None and len(set(self.possible_entities)) < 2:
            raise PydanticCustomError(
                "entity", "a mention names an entity, or two or more possible_entities"
            )
        if self.entity is not None and self.possible_entities:
            raise PydanticCustomError(
                "entity", "possible_entities only for an ambiguous mention (entity null)"
            )
        return self


class ArticleRecord(_Part):
    type: Literal["article"]
    slug: ItemSlug
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


class EvidenceRecord(_Part):
    """Evidence of an entity, an alias (`entity`, `name`, `language`) or an article: facts
    defined before the articles that their evidence cites."""

    type: Literal["evidence"]
    of: Literal["entity", "alias", "article"]
    entity: Slug | None = None
    name: Name | None = None
    language: Language | None = None
    article: Slug | None = None
    items: Annotated[list[EvidencePart], Field(min_length=1)]

    @model_validator(mode="after")
    def _keys_of_the_subject(self) -> Self:
        given = {
            key
            for key in ("entity", "name", "language", "article")
            if getattr(self, key) is not None
        }
        required, optional = _SUBJECT_KEYS[self.of]
        if not required <= given <= required | optional:
            raise PydanticCustomError(
                "subject",
                "evidence of {what} names it by {keys}",
                {"what": f"an {self.of}", "keys": _SUBJECT_KEYS_TEXT[self.of]},
            )
        return self

    @property
    def subject(self) -> tuple[str | None, ...]:
        """The subject by natural key: (of, entity, name, language, article)."""
        return (self.of, self.entity, self.name, self.language, self.article)


# Keys an evidence line names its subject by, per kind of subject: required, optional.
_SUBJECT_KEYS: dict[str, tuple[set[str], set[str]]] = {
    "entity": ({"entity"}, set()),
    "alias": ({"entity", "name"}, {"language"}),
    "article": ({"article"}, set()),
}
_SUBJECT_KEYS_TEXT = {
    "entity": "`entity` alone",
    "alias": "`entity`, `name` and `language` (null for none)",
    "article": "`article` alone",
}


class RelationRecord(_Part):
    """`subject` `kind` `object` during `time`, e.g. fumio-kishida holds_office japan."""

    type: Literal["relation"]
    subject: Slug
    kind: RelationKind
    object: Slug
    role: Annotated[str, Text(max_length=200)] | None = None
    time: Annotated[str, Text(max_length=100)] | None = None
    evidence: list[EvidencePart] = Field(default_factory=list)


class ParticipantPart(_Part):
    entity: Slug
    role: ParticipantRole
    evidence: list[EvidencePart] = Field(default_factory=list)


class EventRecord(_Part):
    type: Literal["event"]
    slug: ItemSlug
    title: Name
    summary: str | None = None
    event_type: EventType
    mode: Annotated[str, Text(max_length=50)] | None = None
    contexts: list[Annotated[str, Text(max_length=50)]] = Field(default_factory=list)
    modality: Modality = Modality.ASSERTED
    time: Annotated[str, Text(max_length=100)] | None = None
    # ISO 8601, weeks, days, hours, minutes and seconds: "PT25M".
    duration: Annotated[str, AfterValidator(_duration)] | None = None
    location: Slug | None = None
    # An event defined on an earlier line.
    parent: Slug | None = None
    participants: list[ParticipantPart] = Field(default_factory=list)
    evidence: list[EvidencePart] = Field(default_factory=list)


class StatementRecord(_Part):
    type: Literal["statement"]
    slug: ItemSlug
    speaker: Slug
    kind: StatementKind
    text: Annotated[str, AfterValidator(_not_blank)]
    conveyed_by: Slug | None = None
    conveyed_by_description: Annotated[str, Text(max_length=300)] | None = None
    event: Slug | None = None
    evidence: list[EvidencePart] = Field(default_factory=list)


class PartyPart(_Part):
    entity: Slug
    role: DisputePartyRole
    position: str | None = None
    evidence: list[EvidencePart] = Field(default_factory=list)


class TerritoryPart(_Part):
    entity: Slug
    administered_by: Slug | None = None
    claimed_by: Slug | None = None
    evidence: list[EvidencePart] = Field(default_factory=list)


class TimelinePart(_Part):
    event: Slug
    role: DisputeEventRole
    significance: str | None = None
    evidence: list[EvidencePart] = Field(default_factory=list)


class DisputeRecord(_Part):
    type: Literal["dispute"]
    slug: ItemSlug
    title: Name
    kind: DisputeKind
    status: DisputeStatus
    summary: str | None = None
    time: Annotated[str, Text(max_length=100)] | None = None
    parties: list[PartyPart] = Field(default_factory=list)
    territories: list[TerritoryPart] = Field(default_factory=list)
    timeline: list[TimelinePart] = Field(default_factory=list)
    evidence: list[EvidencePart] = Field(default_factory=list)


Record = (
    SourceRecord
    | EntityRecord
    | ArticleRecord
    | EvidenceRecord
    | RelationRecord
    | EventRecord
    | StatementRecord
    | DisputeRecord
)

RECORD: TypeAdapter[Record] = TypeAdapter(Annotated[Record, Field(discriminator="type")])

# Each record type's model, by the `type` a line carries.
RECORD_MODELS: dict[str, type[BaseModel]] = {
    "source": SourceRecord,
    "entity": EntityRecord,
    "article": ArticleRecord,
    "evidence": EvidenceRecord,
    "relation": RelationRecord,
    "event": EventRecord,
    "statement": StatementRecord,
    "dispute": DisputeRecord,
}

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
