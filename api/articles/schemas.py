import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from fastapi.openapi.models import Example
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from api.shared.candidates import CandidateRead
from api.shared.pagination import LookupPage, Page
from api.shared.schemas import (
    AwareTimestamp,
    EntityRef,
    EventRef,
    EvidenceRead,
    Key,
    StatementRef,
    Text,
    Url,
    WriteModel,
)
from db.enums import MentionMethod, TimePrecision
from db.fields import ArticleBody, ItemSlug, Name


class SourceRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    name: str


class ArticleSummary(BaseModel):
    """An article without its body, as lists return it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    source: SourceRef
    headline: str | None
    byline: str | None
    url: str | None
    language: str = Field(description="BCP 47 language tag.")
    published_at: datetime | None
    published_precision: TimePrecision | None
    summary: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class MentionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="`PATCH /v1/articles/{article}/mentions/{mention}` takes it.")
    entity: EntityRef | None = Field(
        description="The entity named; null while the mention is `ambiguous`."
    )
    ambiguous: bool = Field(
        description="The words name several known entities (`possible_entities`) and no editor "
        "has chosen one yet: the mention counts for none of them."
    )
    possible_entities: list[EntityRef] = Field(
        description="While `ambiguous`: the entities the words may name; otherwise empty."
    )
    start: int = Field(
        validation_alias="start_offset", description="Offset of the first character in `body`."
    )
    end: int = Field(
        validation_alias="end_offset", description="Offset one past the last character."
    )
    surface: str = Field(description="`body[start:end]`, the words as written.")
    method: MentionMethod
    confidence: Decimal


class ArticleInclude(StrEnum):
    MENTIONS = "mentions"
    CANDIDATES = "candidates"
    EVENTS = "events"
    STATEMENTS = "statements"


class ArticleRead(ArticleSummary):
    body: str
    content_hash: str = Field(description="sha256 of the normalized body.")
    evidence: list[EvidenceRead] = Field(
        description="Where the article's own metadata comes from, by `field` (`headline`, "
        "`summary`, `byline`, `published_at`, ...): its words, or an editorial note saying how "
        'a value was derived (a date worked out from "Thursday", a headline an editor wrote).'
    )
    mentions: list[MentionRead] | None = Field(
        default=None,
        description="With `include=mentions`: the entities named, in body order; at most the "
        "first 1,000 (`GET /v1/articles/{article}/mentions` pages through all of them).",
    )
    mentions_truncated: bool | None = Field(
        default=None,
        description="With `include=mentions`: true when the article has more mentions than "
        "`mentions` embeds.",
    )
    candidates: list[CandidateRead] | None = Field(
        default=None,
        description="With `include=candidates`, and in the answer to a create or a detection: "
        "the proper names in the body that no known entity matches, for an editor to accept or "
        "reject (`GET /v1/candidates?article=...` pages through them), in body order.",
    )
    events: list[EventRef] | None = Field(
        default=None, description="With `include=events`: the events it reports, by time."
    )
    statements: list[StatementRef] | None = Field(
        default=None, description="With `include=statements`: what it quotes or paraphrases."
    )


class MentionPage(Page[MentionRead]):
    pass


class MentionUpdate(WriteModel):
    """Resolve an ambiguous mention, or correct one: the entity the words name. The mention
    becomes `curated` (an editor's), so detecting mentions again keeps it."""

    entity: Key = Field(description="Entity id or slug.")


MENTION_UPDATE_EXAMPLES: dict[str, Example] = {
    "resolve": {
        "summary": "Say which entity an ambiguous mention names",
        "value": {"entity": "tokyo"},
    }
}


class ArticlePage(LookupPage[ArticleSummary]):
    pass


Language = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", max_length=35)
]


class ArticleCreate(WriteModel):
    source: Key = Field(description="Source id or slug.")
    slug: ItemSlug | None = Field(
        default=None,
        description="Made from the source, date and headline when not given.",
    )
    headline: Name | None = None
    byline: Name | None = None
    url: Url | None = None
    language: Language = Field(description="BCP 47 language tag.")
    published_at: AwareTimestamp | None = None
    published_precision: TimePrecision | None = Field(
        default=None,
        description="Only with `published_at`; defaults to `day` when `published_at` is given.",
    )
    summary: Text | None = None
    body: ArticleBody
    detect_mentions: bool = Field(
        default=True,
        description="Scan the body for every known entity name and alias and store the "
        "mentions found (`method: gazetteer`).",
    )

    @field_validator("published_precision")
    @classmethod
    def _precision_needs_a_time(
        cls, precision: TimePrecision | None, info: ValidationInfo
    ) -> TimePrecision | None:
        # Only when published_at was valid and absent: a bad published_at has its own error.
        if (
            precision is not None
            and "published_at" in info.data
            and info.data["published_at"] is None
        ):
            raise ValueError("needs `published_at`: it is the precision of that time")
        return precision


class ArticleUpdate(WriteModel):
    """Only the fields sent change; `null` clears an optional one. Changing `body` is refused
    while evidence or curated mentions point into it, and re-runs mention detection. A
    `published_precision` needs a `published_at`; clearing `published_at` clears it too, and
    setting one where there was none makes it `day` unless sent."""

    slug: ItemSlug | None = None
    headline: Name | None = None
    byline: Name | None = None
    url: Url | None = None
    language: Language | None = None
    published_at: AwareTimestamp | None = None
    published_precision: TimePrecision | None = None
    summary: Text | None = None
    body: ArticleBody | None = None


# Request body examples in the contract; tests/contract/test_headers.py sends each one to an
# app holding the seed data, so every one is a request that works.
CREATE_EXAMPLES: dict[str, Example] = {
    "article": {
        "summary": "An article; the entities it names are found and returned as mentions",
        "value": {
            "source": "kyodo",
            "headline": "Japan and Russia to continue peace treaty talks",
            "byline": "Kyodo",
            "url": "https://news.example/2021/10/08/japan-russia-peace-treaty-talks",
            "language": "en",
            "published_at": "2021-10-08T00:00:00Z",
            "published_precision": "day",
            "summary": "Japan and Russia will keep negotiating a postwar peace treaty.",
            "body": "Japan and Russia will continue negotiations for a postwar peace treaty, "
            "Prime Minister Fumio Kishida said after speaking with Vladimir Putin.",
        },
    }
}
UPDATE_EXAMPLES: dict[str, Example] = {
    "headline": {
        "summary": "Change the headline",
        "value": {"headline": "Kishida says Japan and Russia will continue treaty talks"},
    },
    "clear": {"summary": "Clear the summary", "value": {"summary": None}},
}
