"""Webhooks and their deliveries, as the API reads and writes them."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared.errors import FieldError, NotFound, ProblemError
from api.shared.pagination import Keyset, SortKey, fetch_page
from api.shared.problems import ProblemCode
from api.webhooks import signing
from api.webhooks.schemas import AttemptRead, DeliveryRead, WebhookCreate
from api.webhooks.targets import TargetPolicy, TargetRefused
from db.enums import DeliveryStatus
from db.models import Change, Webhook, WebhookAttempt, WebhookDelivery

# Each write sends one delivery per matching webhook: their number bounds that fan-out.
MAX_WEBHOOKS = 100
# A delivery read shows at most its last attempts.
ATTEMPTS_SHOWN = 25

CREATED_ORDER = (SortKey(Webhook.created_at, "datetime"), SortKey(Webhook.id, "uuid"))
# The change's id grows with every change: newest deliveries first, by the unique index.
DELIVERY_ORDER = (SortKey(WebhookDelivery.change_id, "int", descending=True),)


async def create_webhook(
    session: AsyncSession, *, data: WebhookCreate, targets: TargetPolicy
) -> Webhook:
    """A new webhook with a new secret; 422 for a URL it may not target, 409 beyond
    MAX_WEBHOOKS."""
    try:
        await targets.check(data.url)
    except TargetRefused as refused:
        raise ProblemError(
            ProblemCode.VALIDATION_ERROR,
            f"url: {refused}.",
            status=422,
            errors=[
                FieldError(
                    location="body", field="url", message=str(refused), type="target_refused"
                )
            ],
        ) from None
    count = await session.scalar(select(func.count()).select_from(Webhook))
    if (count or 0) >= MAX_WEBHOOKS:
        raise ProblemError(
            ProblemCode.TOO_MANY_WEBHOOKS,
            f"There are already {MAX_WEBHOOKS} webhooks, the most a server keeps (each write "
            "is sent to every one); delete one first.",
        )
    webhook = Webhook(
        url=data.url,
        types=[kind.value for kind in data.types],
        secret=signing.new_secret(),
    )
    session.add(webhook)
    await session.flush()
    return webhook


async def list_webhooks(
    session: AsyncSession, *, keyset: Keyset, after: Sequence[Any] | None, limit: int
) -> tuple[list[Webhook], list[Any] | None]:
    return await fetch_page(session, select(Webhook), keyset=keyset, after=after, limit=limit)


async def get_webhook(session: AsyncSession, webhook_id: uuid.UUID) -> Webhook:
    row = await session.get(Webhook, webhook_id)
    if row is None:
        raise NotFound("webhook", str(webhook_id))
    return row


async def delete_webhook(session: AsyncSession, webhook_id: uuid.UUID) -> None:
    """Delete it with its deliveries: none is sent from now on (an attempt already in
    flight still reaches the receiver)."""
    deleted = await session.scalar(
        delete(Webhook).where(Webhook.id == webhook_id).returning(Webhook.id)
    )
    if deleted is None:
        raise NotFound("webhook", str(webhook_id))


async def list_deliveries(
    session: AsyncSession,
    *,
    webhook_id: uuid.UUID,
    keyset: Keyset,
    after: Sequence[Any] | None,
    limit: int,
    status: DeliveryStatus | None,
) -> tuple[list[DeliveryRead], list[Any] | None]:
    """A page of the webhook's deliveries, newest first, each with its last attempts."""
    query = (
        select(
            WebhookDelivery.id,
            WebhookDelivery.status,
            WebhookDelivery.created_at,
            WebhookDelivery.next_attempt_at,
            WebhookDelivery.finished_at,
            Change.resource_type,
            Change.resource_id,
            Change.slug,
            Change.resource_version,
            Change.operation,
            Change.changed_at,
        )
        .join(Change, Change.id == WebhookDelivery.change_id)
        .where(WebhookDelivery.webhook_id == webhook_id)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    found, next_key = await fetch_page(
        session, query, keyset=keyset, after=after, limit=limit, whole_rows=True
    )
    names = [column["name"] for column in query.column_descriptions]
    rows = [dict(zip(names, row, strict=True)) for row in found]
    attempts = await _attempts(session, [row["id"] for row in rows])
    deliveries = []
    for row in rows:
        change = signing.change_of(row)
        shown, count = attempts.get(row["id"], ([], 0))
        deliveries.append(
            DeliveryRead(
                id=row["id"],
                event_type=signing.event_type(change),
                change=change,
                status=row["status"],
                created_at=row["created_at"],
                next_attempt_at=row["next_attempt_at"],
                finished_at=row["finished_at"],
                attempt_count=count,
                attempts=shown,
            )
        )
    return deliveries, next_key


async def _attempts(
    session: AsyncSession, delivery_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[list[AttemptRead], int]]:
    """The last ATTEMPTS_SHOWN attempts of each delivery, oldest first, and their count."""
    if not delivery_ids:
        return {}
    newest_first = func.row_number().over(
        partition_by=WebhookAttempt.delivery_id, order_by=WebhookAttempt.id.desc()
    )
    ranked = (
        select(
            WebhookAttempt.delivery_id,
            WebhookAttempt.id,
            WebhookAttempt.started_at,
            WebhookAttempt.status_code,
            WebhookAttempt.error,
            WebhookAttempt.latency_ms,
            newest_first.label("rank"),
            func.count().over(partition_by=WebhookAttempt.delivery_id).label("total"),
        )
        .where(WebhookAttempt.delivery_id.in_(delivery_ids))
        .subquery()
    )
    rows = await session.execute(
        select(ranked)
        .where(ranked.c.rank <= ATTEMPTS_SHOWN)
        .order_by(ranked.c.delivery_id, ranked.c.id)
    )
    found: dict[uuid.UUID, tuple[list[AttemptRead], int]] = {}
    for row in rows:
        shown, _ = found.setdefault(row.delivery_id, ([], row.total))
        shown.append(
            AttemptRead(
                started_at=row.started_at,
                status_code=row.status_code,
                error=row.error,
                latency_ms=row.latency_ms,
            )
        )
    return found
