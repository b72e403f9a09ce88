import uuid
from datetime import datetime
from typing import Any

from fastapi.openapi.models import Example
from pydantic import BaseModel, ConfigDict, Field

from api.shared.pagination import LookupPage, Page
from api.shared.schemas import EntityRef, EvidenceRead, TimeRead, WriteModel
from db.enums import AliasKind, EntityKind, RelationKind
from db.fields import Name, Slug
from seeds import schema as seed


class EntitySummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    kind: EntityKind
    name: str
    description: str | None
    external_ids: dict[str, Any] = Field(examples=[{"wikidata": "Q17"}])
    version: int
    created_at: datetime
    updated_at: datetime


class AliasRead(BaseModel):
    name: str
    language: str | None
    kind: AliasKind
    used_by: EntityRef | None = Field(description="The party whose name this is.")
    evidence: list[EvidenceRead] = Field(
        description="What supports the name and whose it is (`field: used_by`): the article's "
        "words, or an editorial note."
    )


class RelationRead(BaseModel):
    kind: RelationKind
    direction: str = Field(description="`outgoing` (this entity is the subject) or `incoming`.")
    role: str | None = Field(description="The office or capacity, e.g. `prime minister`.")
    other: EntityRef
    time: TimeRead | None
    evidence: list[EvidenceRead] = Field(
        description="What supports the relation and its time (`field: time`)."
    )


class EntityCounts(BaseModel):
    articles: int = Field(description="Articles that mention the entity.")
    events: int = Field(description="Events the entity takes part in.")


class EntityRead(EntitySummary):
    evidence: list[EvidenceRead] = Field(
        description="What supports the entity's description and identifiers (`field`: "
        "`description`, `external_ids`, ...): the article's words, or an editorial note."
    )
    aliases: list[AliasRead]
    relations: list[RelationRead]
    counts: EntityCounts
    pov: EntityRef | None = Field(
        description="Whose names the entity names are (`pov`); null for canonical names."
    )


class EntityPage(LookupPage[EntitySummary]):
    pass


class RelatedEntity(BaseModel):
    entity: EntityRef
    articles: int = Field(description="Articles that mention both entities.")


class RelatedEntityPage(Page[RelatedEntity]):
    pass


class EntityCreate(seed.EntitySeed):
    """A new entity, in the seed file format and checked by the same code: `used_by` and
    relation `object` slugs must name entities, evidence must quote its `article`."""


class EntityUpdate(WriteModel):
    """Only the fields sent change (`null` clears `description`); `aliases`, `relations` or
    `evidence`, when sent, replace the entity's whole set."""

    slug: Slug | None = None
    kind: EntityKind | None = None
    name: Name | None = None
    description: seed.Text | None = None
    external_ids: seed.ExternalIds | None = None
    aliases: list[seed.AliasSeed] | None = None
    relations: list[seed.RelationSeed] | None = Field(
        default=None, description="Relations whose subject is this entity."
    )
    evidence: list[seed.EvidenceSeed] | None = None


# Request body examples in the contract; tests/contract/test_headers.py sends each one to an
# app holding the seed data, so every one is a request that works.
_ARTICLE = "kyodo-2021-10-07-kishida-putin-phone-call"
CREATE_EXAMPLES: dict[str, Example] = {
    "place": {
        "summary": "A place with a former name, a relation and editorial evidence",
        "value": {
            "slug": "sakhalin",
            "kind": "place",
            "name": "Sakhalin",
            "description": "An island north of Hokkaido, administered by Russia.",
            "aliases": [
                {
                    "name": "Karafuto",
                    "language": "ja-Latn",
                    "kind": "former",
                    "used_by": "japan",
                    "evidence": [
                        {
                            "editorial": True,
                            "article": _ARTICLE,
                            "note": "Not in the article: Japan's name for the island's south "
                            "while it held it (1905-1945).",
                        }
                    ],
                }
            ],
            "relations": [
                {
                    "kind": "administered_by",
                    "object": "russia",
                    "evidence": [
                        {
                            "editorial": True,
                            "article": _ARTICLE,
                            "note": "Not in the article: a region of Russia.",
                        }
                    ],
                }
            ],
            "evidence": [
                {
                    "field": "description",
                    "editorial": True,
                    "article": _ARTICLE,
                    "note": "Not in the article, which names only the islands off Hokkaido.",
                }
            ],
        },
    }
}
UPDATE_EXAMPLES: dict[str, Example] = {
    "description": {
        "summary": "Change the description",
        "value": {"description": "The largest island of Russia, north of Hokkaido."},
    },
    "clear": {"summary": "Clear the description", "value": {"description": None}},
}
