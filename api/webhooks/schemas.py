import uuid
from datetime import datetime
from typing import Annotated

from fastapi.openapi.models import Example
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.changes.schemas import ChangeRead
from api.shared.pagination import Page
from api.shared.schemas import Url, WriteModel
from db.enums import DeliveryStatus, ResourceType


def _each_once(types: list[ResourceType]) -> list[ResourceType]:
    return sorted(set(types), key=list(ResourceType).index)


class WebhookCreate(WriteModel):
    url: Url = Field(
        description="Where to POST each change: http or https, on a host whose every address "
        "is public (loopback, private, link-local and metadata addresses are refused unless "
        "the server's `NEWSGRAPH_WEBHOOK_ALLOWED_HOSTS` allows them)."
    )
    types: Annotated[list[ResourceType], AfterValidator(_each_once)] = Field(
        default_factory=list,
        max_length=len(ResourceType),
        description="Only changes of these resources; empty or absent: all of them.",
    )


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    types: list[ResourceType] = Field(description="The resources it receives; empty: all.")
    created_at: datetime


CREATE_EXAMPLES: dict[str, Example] = {
    "events": {
        "summary": "Events and disputes to a newsroom system",
        "value": {"url": "https://hooks.newsroom.example/newsgraph", "types": ["event", "dispute"]},
    }
}


class WebhookCreated(WebhookRead):
    secret: str = Field(
        description="Signs every delivery (Standard Webhooks: `whsec_` and the base64 key). "
        "Shown in this response only: store it now.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class WebhookPage(Page[WebhookRead]):
    pass


class AttemptRead(BaseModel):
    """One try at sending. `status_code` and `error` both null: in flight, or its worker
    stopped before it could record an outcome (the delivery is sent again)."""

    started_at: datetime
    status_code: int | None = Field(description="What the receiver answered; 2xx delivers.")
    error: str | None = Field(
        description="Why there was no answer: refused target, connection error, timeout..."
    )
    latency_ms: int | None = Field(description="From sending to the answer (or the error).")


class DeliveryRead(BaseModel):
    id: uuid.UUID = Field(description="Sent as `webhook-id` with every attempt: deduplicate on it.")
    event_type: str = Field(
        description="The payload's `type`: `<resource>.<created|updated|deleted>`.",
        examples=["entity.updated"],
    )
    change: ChangeRead = Field(description="The change delivered: the payload's `data`.")
    status: DeliveryStatus = Field(
        description="`pending` (being tried), `delivered` (a 2xx) or `failed` (given up once "
        "the retry period passed)."
    )
    created_at: datetime
    next_attempt_at: datetime | None = Field(description="When it is tried next, if pending.")
    finished_at: datetime | None = Field(description="When it was delivered or given up.")
    attempt_count: int
    attempts: list[AttemptRead] = Field(
        description="Its attempts in the order they were made: the last 25 when there were more."
    )


class DeliveryPage(Page[DeliveryRead]):
    pass


class WebhookPayload(BaseModel):
    """The body of each delivery, in the shape the Standard Webhooks specification
    recommends. Headers: `webhook-id` (the delivery's id, the same on every retry),
    `webhook-timestamp` (Unix seconds of the attempt), `webhook-signature` (`v1,` and the
    base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` keyed with the base64
    decoded secret)."""

    type: str = Field(
        description="`<resource>.<created|updated|deleted>`.", examples=["entity.updated"]
    )
    timestamp: datetime = Field(description="When the change was made (its `changed_at`).")
    data: ChangeRead
