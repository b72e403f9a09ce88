import uuid
from datetime import datetime
from typing import Self

from fastapi.openapi.models import Example
from pydantic import BaseModel, Field

from api.shared.pagination import LookupPage, Page
from api.shared.pov import POV_FIELD_DESCRIPTION
from api.shared.schemas import (
    EntityRef,
    EventRef,
    EvidenceRead,
    ParticipantRef,
    TimeRead,
    WriteModel,
)
from db.enums import (
    AliasKind,
    DisputeEventRole,
    DisputeKind,
    DisputePartyRole,
    DisputeStatus,
)
from db.fields import EdtfText, ItemSlug, Name
from db.models import Dispute
from seeds import schema as seed


class DisputeSummary(BaseModel):
    id: uuid.UUID
    slug: str
    title: str
    kind: DisputeKind
    status: DisputeStatus
    summary: str | None
    time: TimeRead | None = Field(description="The dispute's span; open-ended while active.")
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, dispute: Dispute) -> Self:
        return cls(
            id=dispute.id,
            slug=dispute.slug,
            title=dispute.title,
            kind=dispute.kind,
            status=dispute.status,
            summary=dispute.summary,
            time=TimeRead.of(dispute),
            version=dispute.version,
            created_at=dispute.created_at,
            updated_at=dispute.updated_at,
        )


class PartyRead(BaseModel):
    entity: EntityRef
    role: DisputePartyRole
    position: str | None = Field(description="The party's position, in its own terms.")
    evidence: list[EvidenceRead]


class TerritoryRead(BaseModel):
    entity: EntityRef
    administered_by: EntityRef | None
    claimed_by: EntityRef | None
    evidence: list[EvidenceRead]


class NameRead(BaseModel):
    """What one side calls a disputed place."""

    entity: EntityRef = Field(description="The place named: a territory or the group it is in.")
    name: str = Field(examples=["Northern Territories"])
    language: str | None
    kind: AliasKind
    used_by: EntityRef = Field(description="The party whose name this is.")
    evidence: list[EvidenceRead] = Field(description="What supports the name and whose it is.")


class DisputeRead(DisputeSummary):
    parties: list[PartyRead]
    territories: list[TerritoryRead]
    evidence: list[EvidenceRead]
    names: list[NameRead] = Field(
        description="The names each party uses for the territories and the groups they are "
        "part of; with `pov`, only that party's names."
    )
    pov: EntityRef | None = Field(description=POV_FIELD_DESCRIPTION)


class DisputePage(LookupPage[DisputeSummary]):
    pass


class TimelineEntry(EventRef):
    """An event of the dispute and what it did to the dispute."""

    location: EntityRef | None
    participants: list[ParticipantRef]
    role: DisputeEventRole = Field(description="What the event did to the dispute.")
    significance: str | None
    evidence: list[EvidenceRead] = Field(description="The article words behind the event.")
    link_evidence: list[EvidenceRead] = Field(
        description="What supports the event's part in the dispute (`role`, `significance`)."
    )


class TimelinePage(Page[TimelineEntry]):
    pov: EntityRef | None = Field(description=POV_FIELD_DESCRIPTION)


class DisputeCreate(seed.DisputeSeed):
    """A new dispute, in the seed file format and checked by the same code: parties,
    territories (with who administers and who claims each) and timeline `events` must name
    existing entities and events, `time` is EDTF, evidence must quote its `article`."""


class DisputeUpdate(WriteModel):
    """Only the fields sent change (`null` clears an optional one); `parties`, `territories`,
    `events` or `evidence`, when sent, replace the dispute's whole set."""

    slug: ItemSlug | None = None
    title: Name | None = None
    kind: DisputeKind | None = None
    status: DisputeStatus | None = None
    time: EdtfText | None = None
    summary: seed.Text | None = None
    parties: list[seed.PartySeed] | None = None
    territories: list[seed.TerritorySeed] | None = None
    events: list[seed.DisputeEventSeed] | None = Field(
        default=None, description="The dispute's timeline: events and what each did to it."
    )
    evidence: list[seed.EvidenceSeed] | None = None


# Request body examples in the contract; tests/contract/test_headers.py sends each one to an
# app holding the seed data, so every one is a request that works.
_ARTICLE = "kyodo-2021-10-07-kishida-putin-phone-call"
CREATE_EXAMPLES: dict[str, Example] = {
    "diplomatic": {
        "summary": "A dispute with parties and a timeline of existing events",
        "value": {
            "slug": "japan-russia-peace-treaty",
            "title": "Japan-Russia peace treaty",
            "kind": "diplomatic",
            "status": "active",
            "time": "1945/..",
            "summary": "Japan and Russia have signed no peace treaty since World War II.",
            "parties": [
                {"entity": "japan", "role": "affected_party"},
                {"entity": "russia", "role": "affected_party"},
            ],
            "events": [
                {"event": "japan-russia-peace-treaty-not-signed", "role": "origin"},
                {
                    "event": "kishida-putin-agree-to-advance-peace-treaty-talks",
                    "role": "negotiation",
                    "significance": "The leaders agree to advance the negotiations.",
                },
            ],
            "evidence": [
                {
                    "quote": "prevented them from signing a peace treaty since the end of "
                    "World War II",
                    "article": _ARTICLE,
                }
            ],
        },
    }
}
UPDATE_EXAMPLES: dict[str, Example] = {
    "status": {"summary": "Change the status", "value": {"status": "dormant"}},
    "clear": {"summary": "Clear the summary", "value": {"summary": None}},
}
