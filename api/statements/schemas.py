from datetime import datetime

from fastapi.openapi.models import Example
from pydantic import Field

from api.shared.pagination import LookupPage
from api.shared.schemas import EntityRef, EventRef, EvidenceRead, StatementRef, WriteModel
from db.enums import StatementKind
from db.fields import ItemSlug, Name, Slug
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

    slug: ItemSlug | None = None
    speaker: Slug | None = None
    kind: StatementKind | None = None
    text: seed.Text | None = None
    conveyed_by: Slug | None = None
    conveyed_by_description: Name | None = None
    event: Slug | None = None
    evidence: list[seed.EvidenceSeed] | None = None


# Request body examples in the contract; tests/contract/test_headers.py sends each one to an
# app holding the seed data, so every one is a request that works.
_ARTICLE = "kyodo-2021-10-07-kishida-putin-phone-call"
CREATE_EXAMPLES: dict[str, Example] = {
    "paraphrase": {
        "summary": "A paraphrase, tied to the event it was made in",
        "value": {
            "slug": "kishida-says-leaders-agreed-to-advance-treaty-talks",
            "speaker": "fumio-kishida",
            "kind": "paraphrase",
            "text": "Kishida and Putin agreed to advance peace treaty negotiations.",
            "conveyed_by": "fumio-kishida",
            "conveyed_by_description": "Kishida, speaking to reporters",
            "event": "kishida-putin-agree-to-advance-peace-treaty-talks",
            "evidence": [
                {
                    "quote": "they agreed to advance negotiations for a postwar peace treaty",
                    "article": _ARTICLE,
                },
                {"field": "conveyed_by", "quote": "Kishida told reporters", "article": _ARTICLE},
            ],
        },
    }
}
UPDATE_EXAMPLES: dict[str, Example] = {
    "text": {
        "summary": "Change the text",
        "value": {"text": "Kishida said he and Putin agreed to advance peace treaty talks."},
    },
    "clear": {
        "summary": "Clear who conveyed it",
        "value": {"conveyed_by": None, "conveyed_by_description": None},
    },
}
