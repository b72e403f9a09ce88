"""The webhook worker: sends due deliveries, in `newsgraph worker` or inside `newsgraph serve`.

One loop claims as many due deliveries as it has free sending slots (`webhook_concurrency`),
each in a task of its own that signs and sends the delivery outside any transaction and then
records the outcome in a short one (api/webhooks/outbox.py). When there is nothing to claim,
it waits until new changes are committed (the outbox trigger writes deliveries in the same
transaction as the change rows, so the process's ChangeWatch, api/shared/change_watch.py,
sees them within `change_poll_interval`), a slot frees up, or the next retry or lease falls
due, whichever comes first, and at most `_MAX_IDLE_SECONDS`. Any number of workers, in any
number of processes, share the queue: each claims with SKIP LOCKED.

Stopping (SIGTERM, or the server's shutdown) claims nothing more and lets the sends in
flight finish, each bounded by `webhook_timeout`; a worker killed outright leaves its
deliveries to be sent again when their lease ends.
"""

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import asyncpg
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.settings import Settings
from api.shared.change_watch import ChangeWatch
from api.webhooks import outbox, signing
from api.webhooks.targets import TargetPolicy
from db.enums import DeliveryStatus

if TYPE_CHECKING:
    from api.webhooks.sender import Sender

logger = logging.getLogger(__name__)

_MAX_IDLE_SECONDS = 10.0
# After a database error, before trying again.
_PAUSE_SECONDS = 2.0
_DATABASE_ERRORS = (DBAPIError, SQLAlchemyError, OSError, asyncpg.PostgresError)


def target_policy(settings: Settings) -> TargetPolicy:
    return TargetPolicy(settings.webhook_allowed_hosts, resolve_timeout=settings.webhook_timeout)


class WebhookWorker:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        *,
        watch: ChangeWatch | None = None,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        # Inside `newsgraph serve` the change streams' watch; in `newsgraph worker`, its own.
        self._watch = watch if watch is not None else ChangeWatch(settings)
        self._owns_watch = watch is None
        # Made for the first delivery: the HTTP client (httpcore, and trio, which it imports
        # when installed) is 5 MB of RSS that a serving worker with no webhooks never needs.
        self._sender: Sender | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._claim_failed = False

    def _http(self) -> "Sender":
        if self._sender is None:
            from api.webhooks.sender import Sender

            self._sender = Sender(
                target_policy(self._settings),
                timeout=self._settings.webhook_timeout,
                concurrency=self._settings.webhook_concurrency,
            )
        return self._sender

    def stop(self) -> None:
        """Claim nothing more; `run` returns once the sends in flight are done."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        self._watch.follow()
        try:
            while not self._stopping:
                try:
                    await self._step()
                except Exception:  # a bug must not stop every delivery for good
                    logger.exception("webhooks: the worker failed; going on shortly")
                    await self._idle(_PAUSE_SECONDS)
        finally:
            self._watch.unfollow()
            await self._close()

    async def _step(self) -> None:
        free = self._settings.webhook_concurrency - len(self._sending)
        claimed = await self._claim(free) if free > 0 else None
        if claimed is None:
            await self._idle(_PAUSE_SECONDS if free > 0 else _MAX_IDLE_SECONDS)
        elif len(claimed) < free:
            await self._idle(await self._until_due())
        # else: every free slot got one; more may be due, so claim again at once

    async def _claim(self, free: int) -> list[outbox.Claimed] | None:
        """Claim and start sending up to `free` deliveries; None when the database failed."""
        try:
            async with self._sessions() as session, session.begin():
                claimed = await outbox.claim(
                    session, limit=free, lease=self._settings.webhook_lease
                )
        except _DATABASE_ERRORS as error:
            if not self._claim_failed:  # once an outage, not every few seconds
                logger.warning("webhooks: cannot claim deliveries (%s); trying again", error)
            self._claim_failed = True
            return None
        self._claim_failed = False
        for delivery in claimed:
            task = asyncio.create_task(self._deliver(delivery))
            self._sending.add(task)
            task.add_done_callback(self._sent)
        return claimed

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._wake.set()

    async def _until_due(self) -> float:
        try:
            async with self._sessions() as session:
                seconds = await outbox.seconds_until_due(session)
        except _DATABASE_ERRORS:
            return _PAUSE_SECONDS
        if seconds is None:
            return _MAX_IDLE_SECONDS
        return min(max(seconds, 0.0), _MAX_IDLE_SECONDS)

    async def _idle(self, seconds: float) -> None:
        """Until a slot frees up, the worker stops, new changes commit, or `seconds` pass."""
        woken = asyncio.ensure_future(self._wake.wait())
        changed = asyncio.ensure_future(self._watch.wait(seconds))
        try:
            await asyncio.wait({woken, changed}, timeout=seconds, return_when="FIRST_COMPLETED")
        finally:
            for waiting in (woken, changed):
                waiting.cancel()
            await asyncio.gather(woken, changed, return_exceptions=True)
        self._wake.clear()

    async def _deliver(self, claimed: outbox.Claimed) -> None:
        try:
            await self._send_and_record(claimed)
        except Exception:  # sent again once its lease ends
            logger.exception("webhooks: delivery %s failed unexpectedly", claimed.delivery_id)

    async def _send_and_record(self, claimed: outbox.Claimed) -> None:
        change = signing.change_of(claimed.change)
        body = signing.payload(change)
        message_id = str(claimed.delivery_id)
        timestamp = int(time.time())
        headers = [
            ("webhook-id", message_id),
            ("webhook-timestamp", str(timestamp)),
            ("webhook-signature", signing.signature(claimed.secret, message_id, timestamp, body)),
        ]
        outcome = await self._http().send(claimed.url, headers, body)
        delay = outbox.backoff(
            claimed.earlier_attempts,
            base=self._settings.webhook_backoff_base,
            cap=self._settings.webhook_backoff_max,
        )
        try:
            async with self._sessions() as session, session.begin():
                status = await outbox.record(
                    session,
                    claimed,
                    outcome,
                    delay=delay,
                    period=self._settings.webhook_retry_period,
                )
        except _DATABASE_ERRORS as error:
            # Sent again once the lease ends: at least once, never lost.
            logger.warning(
                "webhooks: delivery %s: cannot record its outcome (%s)", message_id, error
            )
            return
        if status is DeliveryStatus.FAILED:
            logger.warning(
                "webhooks: delivery %s of %s to %s failed for good after %d attempts: %s",
                message_id,
                signing.event_type(change),
                claimed.url,
                claimed.earlier_attempts + 1,
                outcome.error or f"status {outcome.status_code}",
            )
        elif status is DeliveryStatus.PENDING:
            logger.info(
                "webhooks: delivery %s to %s: %s; next attempt in %.1f s",
                message_id,
                claimed.url,
                outcome.error or f"status {outcome.status_code}",
                delay,
            )

    async def _close(self) -> None:
        if self._sending:
            # Each send ends within the timeout; recording it takes a moment more.
            _, late = await asyncio.wait(
                self._sending, timeout=self._settings.webhook_timeout + _PAUSE_SECONDS
            )
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        if self._owns_watch:
            await self._watch.close()
        if self._sender is not None:
            await self._sender.aclose()
