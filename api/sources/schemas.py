import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from api.pagination import Page
from db.enums import SourceKind


class SourceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    name: str
    kind: SourceKind
    homepage_url: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class SourcePage(Page[SourceRead]):
    pass
