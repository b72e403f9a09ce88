from fastapi.openapi.models import Example
from pydantic import Field

from api.shared.candidates import CandidateRead
from api.shared.pagination import Page
from api.shared.schemas import Key, Text, WriteModel
from db.enums import EntityKind
from db.fields import Name, Slug


class CandidatePage(Page[CandidateRead]):
    pass


class CandidateAccept(WriteModel):
    """With `entity`, the name is another name of that entity; otherwise a new entity is
    made from the candidate, each field below overriding what it suggests."""

    entity: Key | None = Field(
        default=None,
        description="Entity id or slug: link the name to this existing entity instead of "
        "creating one (the name becomes its alias).",
    )
    slug: Slug | None = Field(default=None, description="Default: `suggested_slug`.")
    name: Name | None = Field(
        default=None,
        description="Default: the candidate's `name`; when different, the candidate's name "
        "becomes an alias.",
    )
    kind: EntityKind | None = Field(
        default=None,
        description="Default: the candidate's `kind` (`event` makes an entity of kind `other`).",
    )
    description: Text | None = None


ACCEPT_EXAMPLES: dict[str, Example] = {
    "new": {"summary": "Create the entity the candidate suggests", "value": {}},
    "edited": {
        "summary": "Create it with a slug and description of your own",
        "value": {
            "slug": "antony-blinken",
            "description": "United States Secretary of State from 2021 to 2025.",
        },
    },
    "link": {
        "summary": "It is another name of a known entity",
        "value": {"entity": "japan"},
    },
}
