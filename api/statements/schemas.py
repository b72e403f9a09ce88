from datetime import datetime

from pydantic import Field

from api.shared.pagination import LookupPage
from api.shared.schemas import EntityRef, EventRef, EvidenceRead, StatementRef, WriteModel
from db.enums import StatementKind
from db.fields import Name, Slug
from seeds import schema as seed


class StatementSummary(StatementRef):
    """Something someone said, quoted or paraphrased, and who passed it on."""

    conveyed_by: EntityRef | None = Field(description="Who passed the statement on, if known.")
    conveyed_by_description: str | None = Field(
        description="How the article describes the messenger.", examples=["a ministry official"]
    )
    event: EventRef | None = Field(description="The event the statement was made in.")
    version: int
    created_at: datetime
    updated_at: datetime


class StatementRead(StatementSummary):
    evidence: list[EvidenceRead] = Field(description="The words of the articles that report it.")


class StatementPage(LookupPage[StatementSummary]):
    pass


class StatementCreate(seed.StatementSeed):
    """A new statement, in the seed file format and checked by the same code: `speaker`,
    `conveyed_by` and `event` must name existing rows, evidence must quote its `article`, and
    a `direct_quote` must appear word for word in an article its evidence cites."""


class StatementUpdate(WriteModel):
    """Only the fields sent change (`null` clears an optional one); `evidence`, when sent,
    replaces the statement's whole set."""

    slug: Slug | None = None
    speaker: Slug | None = None
    kind: StatementKind | None = None
    text: seed.Text | None = None
    conveyed_by: Slug | None = None
    conveyed_by_description: Name | None = None
    event: Slug | None = None
    evidence: list[seed.EvidenceSeed] | None = None
