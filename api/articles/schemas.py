import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from api.pagination import Page
from api.schemas import EntityRef, EventRef, StatementRef
from db.enums import MentionMethod, TimePrecision


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

    entity: EntityRef
    start: int = Field(
        validation_alias="start_offset", description="Offset of the first character in `body`."
    )
    end: int = Field(
        validation_alias="end_offset", description="Offset one past the last character."
    )
    surface: str = Field(description="`body[start:end]`, the words as written.")
    method: MentionMethod
    confidence: Decimal


class ArticleRead(ArticleSummary):
    body: str
    content_hash: str = Field(description="sha256 of the normalized body.")
    mentions: list[MentionRead] | None = Field(
        default=None, description="With `include=mentions`: every entity named, in body order."
    )
    events: list[EventRef] | None = Field(
        default=None, description="With `include=events`: the events it reports, by time."
    )
    statements: list[StatementRef] | None = Field(
        default=None, description="With `include=statements`: what it quotes or paraphrases."
    )


class ArticlePage(Page[ArticleSummary]):
    pass
