import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from api.shared.pagination import LookupPage
from api.shared.schemas import Url, WriteModel
from db.enums import SourceKind
from db.fields import Slug, SourceName


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


class SourcePage(LookupPage[SourceRead]):
    pass


class SourceCreate(WriteModel):
    slug: Slug
    name: SourceName
    kind: SourceKind
    homepage_url: Url | None = None


class SourceUpdate(WriteModel):
    """Only the fields sent change; `null` clears an optional one."""

    slug: Slug | None = None
    name: SourceName | None = None
    kind: SourceKind | None = None
    homepage_url: Url | None = None
