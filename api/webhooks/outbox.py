"""The delivery queue: claiming due deliveries and recording what became of them (db/models/
webhook.py describes the tables).

Claiming is one statement in a short transaction: the due deliveries, oldest due first,
locked with FOR UPDATE SKIP LOCKED (so workers claiming at once each get others), their
`next_attempt_at` pushed one lease ahead, an attempt written for each, and what sending needs
(the URL, the secret, the change) returned. A worker that dies before it records anything
leaves the delivery due again once the lease ends: it is sent again, with the same id.

Recording locks the delivery first, then the attempt: the order a webhook's deletion locks
them in (delivery, then its attempts, by cascade), so the two never deadlock.
"""

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Float,
    bindparam,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import DeliveryStatus
from db.models import Change, Webhook, WebhookAttempt, WebhookDelivery

if TYPE_CHECKING:
    from api.webhooks.sender import Outcome

# Exponents beyond this change nothing (any base times 2**30 is past any sensible cap).
_MAX_DOUBLINGS = 30


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery a worker holds for one attempt."""

    delivery_id: uuid.UUID
    attempt_id: int
    earlier_attempts: int
    url: str
    secret: str
    change: Mapping[Any, Any]  # the change feed's columns


def _seconds(name: str) -> Any:
    return func.make_interval(0, 0, 0, 0, 0, 0, bindparam(name, type_=Float))


def _claim_statement() -> Any:
    delivery = WebhookDelivery
    due = (
        select(delivery.id)
        .where(
            delivery.status == DeliveryStatus.PENDING,
            delivery.next_attempt_at <= func.now(),
        )
        .order_by(delivery.next_attempt_at)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    leased = (
        update(delivery)
        .where(delivery.id == due.c.id)
        .values(next_attempt_at=func.now() + _seconds("lease"))
        .returning(delivery.id, delivery.webhook_id, delivery.change_id)
        .cte("leased")
    )
    attempted = (
        insert(WebhookAttempt)
        .from_select(["delivery_id"], select(leased.c.id))
        .returning(WebhookAttempt.id, WebhookAttempt.delivery_id)
        .cte("attempted")
    )
    # The statement does not see its own inserts: these are the attempts made before.
    earlier = (
        select(func.count()).where(WebhookAttempt.delivery_id == leased.c.id).scalar_subquery()
    )
    return (
        select(
            leased.c.id.label("delivery_id"),
            attempted.c.id.label("attempt_id"),
            earlier.label("earlier_attempts"),
            Webhook.url,
            Webhook.secret,
            Change.resource_type,
            Change.resource_id,
            Change.slug,
            Change.resource_version,
            Change.operation,
            Change.changed_at,
        )
        .select_from(leased)
        .join(attempted, attempted.c.delivery_id == leased.c.id)
        .join(Webhook, Webhook.id == leased.c.webhook_id)
        .join(Change, Change.id == leased.c.change_id)
    )


_CLAIM = _claim_statement()


async def claim(session: AsyncSession, *, limit: int, lease: float) -> list[Claimed]:
    """Up to `limit` due deliveries, each held for `lease` seconds, in the session's
    transaction (commit it at once: the locks are held until then)."""
    rows = (await session.execute(_CLAIM, {"limit": limit, "lease": lease})).all()
    return [
        Claimed(
            delivery_id=row.delivery_id,
            attempt_id=row.attempt_id,
            earlier_attempts=row.earlier_attempts,
            url=row.url,
            secret=row.secret,
            change=row._mapping,
        )
        for row in rows
    ]


def backoff(earlier_attempts: int, *, base: float, cap: float) -> float:
    """Seconds to wait after a failed attempt: exponential, with full jitter (a uniform
    draw below the exponential bound), so receivers coming back are not hit all at once."""
    bound = min(cap, base * 2 ** min(earlier_attempts, _MAX_DOUBLINGS))
    return random.uniform(0, bound)  # noqa: S311 (jitter, not a secret)


_FINISHED: Any = func.now()


async def record(
    session: AsyncSession, claimed: Claimed, outcome: "Outcome", *, delay: float, period: float
) -> DeliveryStatus | None:
    """The outcome of an attempt, and the delivery's new state: delivered on a 2xx; else
    due again in `delay` seconds, or failed when that falls after `period` seconds from its
    creation. None when the delivery is gone (its webhook deleted) or was already finished
    (another worker sent it after this one's lease ran out)."""
    delivery = WebhookDelivery
    retry_at = func.now() + _seconds("delay")
    give_up = retry_at > delivery.created_at + _seconds("period")
    if outcome.delivered:
        status: Any = DeliveryStatus.DELIVERED.value
        next_attempt: Any = None
        finished: Any = _FINISHED
    else:
        status = case((give_up, DeliveryStatus.FAILED.value), else_=DeliveryStatus.PENDING.value)
        next_attempt = case((give_up, None), else_=retry_at)
        finished = case((give_up, _FINISHED), else_=None)
    new_status = await session.scalar(
        update(delivery)
        .where(
            delivery.id == claimed.delivery_id,
            delivery.status == DeliveryStatus.PENDING,
        )
        .values(status=status, next_attempt_at=next_attempt, finished_at=finished)
        .returning(delivery.status),
        {"delay": delay, "period": period},
    )
    await session.execute(
        update(WebhookAttempt)
        .where(WebhookAttempt.id == claimed.attempt_id)
        .values(
            status_code=outcome.status_code,
            error=outcome.error,
            latency_ms=outcome.latency_ms,
        )
    )
    return DeliveryStatus(new_status) if new_status is not None else None


_NEXT_DUE = select(
    func.extract("epoch", func.min(WebhookDelivery.next_attempt_at) - func.now())
).where(WebhookDelivery.status == DeliveryStatus.PENDING.value)


async def seconds_until_due(session: AsyncSession) -> float | None:
    """How long until the next pending delivery is due (negative: overdue); None: none."""
    seconds = await session.scalar(_NEXT_DUE)
    return float(seconds) if seconds is not None else None
