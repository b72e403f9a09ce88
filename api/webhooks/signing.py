"""Secrets, signatures and payloads as the Standard Webhooks specification has them
(https://www.standardwebhooks.com): receivers verify deliveries with any of its libraries.

    secret      `whsec_` + base64 of 32 random bytes
    webhook-id  the delivery's id: the same on every retry, so receivers deduplicate on it
    webhook-timestamp   Unix seconds when the attempt is made (receivers refuse old ones)
    webhook-signature   `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`, keyed with
                the secret's decoded bytes
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from api.changes.schemas import ChangeRead
from api.webhooks.schemas import WebhookPayload
from db.enums import ChangeOperation

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
SECRET_BYTES = 32

_PAST = {
    ChangeOperation.CREATE: "created",
    ChangeOperation.UPDATE: "updated",
    ChangeOperation.DELETE: "deleted",
}


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def event_type(change: ChangeRead) -> str:
    return f"{change.type.value}.{_PAST[change.operation]}"


def payload(change: ChangeRead) -> bytes:
    """The body of a delivery of `change`: the same bytes on every attempt."""
    return (
        WebhookPayload(type=event_type(change), timestamp=change.changed_at, data=change)
        .model_dump_json()
        .encode()
    )


def change_of(fields: Mapping[Any, Any]) -> ChangeRead:
    """The change of a delivery, from the change feed's columns under their own names."""
    return ChangeRead(
        type=fields["resource_type"],
        id=fields["resource_id"],
        slug=fields["slug"],
        version=fields["resource_version"],
        operation=fields["operation"],
        changed_at=fields["changed_at"],
    )
