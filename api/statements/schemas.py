from datetime import datetime

from pydantic import Field

from api.pagination import Page
from api.schemas import EntityRef, EventRef, EvidenceRead, StatementRef


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


class StatementPage(Page[StatementSummary]):
    pass
