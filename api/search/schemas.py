import uuid
from enum import StrEnum

from pydantic import BaseModel, Field

from api.shared.pagination import Page


class HitType(StrEnum):
    ENTITY = "entity"
    EVENT = "event"
    DISPUTE = "dispute"
    ARTICLE = "article"


class SearchHit(BaseModel):
    type: HitType
    id: uuid.UUID
    slug: str
    title: str = Field(description="The entity's name, or the event's, dispute's or headline.")
    score: float = Field(description="Relevance; higher is better. Comparable within one list.")
    snippet: str = Field(
        description="HTML-escaped text around the match, the matched words in <mark></mark>."
    )


class SearchPage(Page[SearchHit]):
    pass
