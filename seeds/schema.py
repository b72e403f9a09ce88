"""The YAML seed format, as pydantic models. Every key is checked: a typo is an error.

Cross-references (slugs), spans and everything that needs other files or the database are
checked later, in seeds.plan; these models only check each file on its own.
"""

import re
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from db.checks import parse_duration
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
)
from db.fields import VISIBLE, ArticleBody, EdtfText, ItemSlug, Name, Slug, SourceName, no_nul

# These raise PydanticCustomError rather than ValueError so that the message is the check's own,
# word for word, wherever the model is validated: in a seed file or in a write API request body
# (pydantic would prefix a ValueError's message with "Value error, ").


def _duration(value: str) -> str:
    try:
        parse_duration(value)
    except ValueError as error:
        raise PydanticCustomError("duration", str(error)) from error
    return value


def _event_type(value: Any) -> Any:
    if isinstance(value, str) and value not in EventType.__members__.values():
        known = ", ".join(EventType)
        raise PydanticCustomError(
            "event_type", f"unknown PLOVER event type {value!r}; expected one of {known}"
        )
    return value


# Bounded so a request body cannot smuggle a huge field past the body limit's intent; an
# article's body has its own, larger bound (db.fields.ArticleBody).
Text = Annotated[
    str,
    StringConstraints(min_length=1, max_length=20_000, pattern=VISIBLE),
    AfterValidator(no_nul),
]
Duration = Annotated[str, AfterValidator(_duration)]
Language = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", max_length=35)
]
FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=50)]
Context = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=50)]
Mode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*$", max_length=50)]
_WIKIDATA_ID = re.compile(r"Q[1-9][0-9]*")
PloverType = Annotated[EventType, BeforeValidator(_event_type)]


# Ids in other catalogues, by catalogue: {"wikidata": "Q17"}.
ExternalIds = dict[
    Annotated[str, StringConstraints(min_length=1, max_length=50), AfterValidator(no_nul)],
    Annotated[str, StringConstraints(max_length=300), AfterValidator(no_nul)],
]


class SeedModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EvidenceSeed(SeedModel):
    """Words of an article supporting a fact (`quote`, located or checked), or an editorial note."""

    quote: Text | None = None
    occurrence: int | None = Field(default=None, ge=1)
    start: int | None = Field(default=None, ge=0)
    end: int | None = Field(default=None, ge=1)
    editorial: bool = False
    note: Text | None = None
    field: FieldName | None = None
    article: Slug | None = Field(
        default=None,
        description="The slug of the article cited. A seed file may leave it out: it defaults "
        "to the file's `cites:` or to the one article the file defines.",
    )

    @model_validator(mode="after")
    def _cited_or_editorial(self) -> Self:
        spanned = self.quote is not None or self.start is not None or self.end is not None
        if self.editorial:
            if spanned or self.occurrence is not None:
                raise ValueError("editorial evidence cites no span: drop quote/start/end")
            if self.note is None:
                raise ValueError("editorial evidence needs a `note` saying how it was derived")
            return self
        if self.quote is None:
            raise ValueError("evidence needs a `quote` from the article, or `editorial: true`")
        if (self.start is None) != (self.end is None):
            raise ValueError("give both `start` and `end`, or neither")
        if self.start is not None and self.occurrence is not None:
            raise ValueError("give `occurrence` or `start`/`end`, not both")
        return self


Evidence = Annotated[list[EvidenceSeed], Field(max_length=200)]


class SourceSeed(SeedModel):
    slug: Slug
    name: SourceName
    kind: SourceKind
    homepage_url: Text | None = None


class MentionSeed(SeedModel):
    entity: Slug
    surface: Text
    start: int | None = Field(default=None, ge=0)
    end: int | None = Field(default=None, ge=1)
    occurrence: int | None = Field(default=None, ge=1)
    method: MentionMethod = MentionMethod.CURATED
    confidence: Decimal = Field(default=Decimal(1), ge=0, le=1, max_digits=4, decimal_places=3)

    @model_validator(mode="after")
    def _one_locator(self) -> Self:
        if self.start is not None and self.occurrence is not None:
            raise ValueError("give `occurrence` or `start`/`end`, not both")
        if self.end is not None and self.start is None:
            raise ValueError("`end` needs `start`")
        return self


class ArticleSeed(SeedModel):
    slug: ItemSlug
    source: Slug
    headline: Text | None = None
    byline: (
        Annotated[str, StringConstraints(min_length=1, max_length=300), AfterValidator(no_nul)]
        | None
    ) = None
    url: Text | None = None
    language: Language
    # A single EDTF date (day, month or year); stored as midnight UTC with its precision.
    published: EdtfText | None = None
    summary: Text | None = None
    body: ArticleBody
    mentions: Annotated[list[MentionSeed], Field(max_length=10000)] = []
    evidence: Evidence = []

    @model_validator(mode="after")
    def _published_is_a_date(self) -> Self:
        if self.published is not None and "/" in self.published:
            raise ValueError("`published` is one date, not an interval")
        return self


class AliasSeed(SeedModel):
    name: Name
    language: Language | None = "en"
    kind: AliasKind
    used_by: Slug | None = None
    evidence: Evidence = []


class RelationSeed(SeedModel):
    kind: RelationKind
    object: Slug
    role: (
        Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(no_nul)]
        | None
    ) = None
    time: EdtfText | None = None
    evidence: Evidence = []


class EntitySeed(SeedModel):
    slug: Slug
    kind: EntityKind
    name: Name
    description: Text | None = None
    external_ids: ExternalIds = {}
    aliases: Annotated[list[AliasSeed], Field(max_length=200)] = []
    # Relations whose subject is this entity.
    relations: Annotated[list[RelationSeed], Field(max_length=200)] = []
    evidence: Evidence = []

    @field_validator("external_ids")
    @classmethod
    def _wikidata_format(cls, external_ids: dict[str, str]) -> dict[str, str]:
        qid = external_ids.get("wikidata")
        if qid is not None and not _WIKIDATA_ID.fullmatch(qid):
            raise ValueError(f"{qid!r} is not a Wikidata item id such as 'Q17'")
        return external_ids


class ParticipantSeed(SeedModel):
    entity: Slug
    role: ParticipantRole
    evidence: Evidence = []


class EventSeed(SeedModel):
    slug: ItemSlug
    title: Name
    summary: Text | None = None
    type: PloverType
    mode: Mode | None = None
    modality: Modality = Modality.ASSERTED
    contexts: Annotated[list[Context], Field(max_length=20)] = []
    time: EdtfText | None = None
    duration: Duration | None = None
    location: Slug | None = None
    parent: Slug | None = None
    participants: Annotated[list[ParticipantSeed], Field(max_length=100)] = []
    evidence: Evidence = []


class StatementSeed(SeedModel):
    slug: ItemSlug
    speaker: Slug
    kind: StatementKind
    text: Text
    conveyed_by: Slug | None = None
    conveyed_by_description: Name | None = None
    event: Slug | None = None
    evidence: Evidence = []


class PartySeed(SeedModel):
    entity: Slug
    role: DisputePartyRole
    position: Text | None = None
    evidence: Evidence = []


class TerritorySeed(SeedModel):
    entity: Slug
    administered_by: Slug | None = None
    claimed_by: Slug | None = None
    evidence: Evidence = []


class DisputeEventSeed(SeedModel):
    event: Slug
    role: DisputeEventRole
    significance: Text | None = None
    evidence: Evidence = []


class DisputeSeed(SeedModel):
    slug: ItemSlug
    title: Name
    kind: DisputeKind
    status: DisputeStatus
    time: EdtfText | None = None
    summary: Text | None = None
    parties: Annotated[list[PartySeed], Field(max_length=50)] = []
    territories: Annotated[list[TerritorySeed], Field(max_length=200)] = []
    events: Annotated[list[DisputeEventSeed], Field(max_length=1000)] = []
    evidence: Evidence = []


class SeedDocument(SeedModel):
    """One YAML file. Every section is optional; slugs may refer to other files of the run."""

    # The article that evidence in this file cites unless an item names its own `article:`.
    cites: Slug | None = None
    sources: list[SourceSeed] = []
    articles: list[ArticleSeed] = []
    entities: list[EntitySeed] = []
    events: list[EventSeed] = []
    statements: list[StatementSeed] = []
    disputes: list[DisputeSeed] = []
