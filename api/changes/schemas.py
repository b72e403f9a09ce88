import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from db.enums import ChangeOperation, ResourceType


class ChangeRead(BaseModel):
    """One resource created, updated or deleted by one committed transaction."""

    type: ResourceType = Field(description="The kind of resource.")
    id: uuid.UUID = Field(description="The resource's id.")
    slug: str = Field(description="Its slug; for a deletion, the last one it had (a tombstone).")
    version: int = Field(description="Its version after the change (before it, for a deletion).")
    operation: ChangeOperation = Field(
        description="`create`, `update` (the resource or any of its parts: aliases, "
        "participants, parties, evidence, mentions...) or `delete`; a transaction's net effect."
    )
    changed_at: datetime = Field(description="When the writing transaction began.")


class ChangePage(BaseModel):
    items: list[ChangeRead]
    next_cursor: str | None = Field(
        description="Where to read on from: pass it as `after`, now or later. Present once "
        "the feed has a position (null only for an empty feed read from its start)."
    )
    has_more: bool = Field(
        description="More changes are ready now; false: poll again later with `next_cursor`."
    )
