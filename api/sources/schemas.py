import uuid
from datetime import datetime

from fastapi.openapi.models import Example
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


# Request body examples in the contract; tests/contract/test_headers.py sends each one to an
# app holding the seed data, so every one is a request that works.
CREATE_EXAMPLES: dict[str, Example] = {
    "broadcaster": {
        "summary": "A broadcaster",
        "value": {
            "slug": "nhk-world",
            "name": "NHK World-Japan",
            "kind": "broadcaster",
            "homepage_url": "https://www3.nhk.or.jp/nhkworld/",
        },
    }
}
UPDATE_EXAMPLES: dict[str, Example] = {
    "rename": {"summary": "Change the name", "value": {"name": "NHK World"}},
    "clear": {"summary": "Clear the homepage", "value": {"homepage_url": None}},
}
