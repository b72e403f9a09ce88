"""Webhooks: where to send changes, and the outbox of what is still to send.

A trigger on the change feed (the migration `webhooks`) writes one `webhook_delivery` per
change row and matching webhook, in the writing transaction: a delivery exists exactly when
its change was committed. The body is built from the change row when the delivery is sent, so
it is the committed state (a later write of the same transaction merges into that row).

Workers claim due deliveries (`next_attempt_at` passed) with FOR UPDATE SKIP LOCKED, pushing
`next_attempt_at` one lease ahead and writing an attempt, in one short transaction; they send
outside it and then record the outcome on the attempt. A worker that dies mid-send leaves its
attempt without an outcome, and the delivery due again when the lease ends. Deliveries go with
their change when the feed is pruned (and with their webhook when it is deleted).
"""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UUIDPrimaryKey, enum_column
from db.enums import DeliveryStatus, ResourceType

URL_MAX_LENGTH = 2048
ERROR_MAX_LENGTH = 500
_RESOURCE_TYPES = ", ".join(f"'{kind.value}'" for kind in ResourceType)


class Webhook(UUIDPrimaryKey, Base):
    """A receiver of changes: its URL, the resource types it wants (none: all) and the secret
    that signs what it is sent (kept in clear: signing needs it; shown once, at creation)."""

    __tablename__ = "webhook"
    __table_args__ = (
        CheckConstraint(f"types <@ ARRAY[{_RESOURCE_TYPES}]::varchar[]", name="known_types"),
        CheckConstraint("secret ~ '^whsec_[A-Za-z0-9+/]{32,}={0,2}$'", name="secret_format"),
    )

    url: Mapped[str] = mapped_column(String(URL_MAX_LENGTH), nullable=False)
    types: Mapped[list[str]] = mapped_column(ARRAY(String(32)), nullable=False)
    secret: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class WebhookDelivery(UUIDPrimaryKey, Base):
    """One change to send to one webhook. Its id is the `webhook-id` of every attempt."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        # Also the webhook's deliveries, newest (the latest change) first.
        UniqueConstraint("webhook_id", "change_id"),
        Index("ix_webhook_delivery_change_id", "change_id"),
        Index(
            "ix_webhook_delivery_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        CheckConstraint(
            "(status = 'pending') = (next_attempt_at IS NOT NULL)", name="pending_is_due"
        ),
        CheckConstraint(
            "(status = 'pending') = (finished_at IS NULL)", name="finished_unless_pending"
        ),
    )

    webhook_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook.id", ondelete="CASCADE"), nullable=False
    )
    change_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("change.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "status"),
        nullable=False,
        server_default=DeliveryStatus.PENDING.value,
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    # When it may be sent next: now for a new one, after a backoff when an attempt failed, the
    # end of the lease while a worker sends it. Null once delivered or failed.
    next_attempt_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookAttempt(Base):
    """One try at sending a delivery: the status the receiver answered, or why there was
    none, and how long it took. Written when a worker claims the delivery; both outcome
    columns null means it is in flight, or its worker stopped before it could say."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (
        Index("ix_webhook_attempt_delivery_id_id", "delivery_id", "id"),
        CheckConstraint("status_code BETWEEN 100 AND 599", name="status_code_http"),
        CheckConstraint("latency_ms >= 0", name="latency_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_delivery.id", ondelete="CASCADE"), nullable=False
    )
    started_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    error: Mapped[str | None] = mapped_column(String(ERROR_MAX_LENGTH))
    latency_ms: Mapped[int | None] = mapped_column()
