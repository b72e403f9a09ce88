"""Exports stream for as long as the client reads, so each one holds a database transaction for
that long. Two rules keep that from hurting anyone else:

- **Bounded, and outside the pool.** At most `export_concurrency` exports run at once, each on a
  connection of its own opened for it (never one of the API's pooled connections); one more
  gets 503 `export_busy` with `Retry-After`. Clients that never read can hold every export
  slot, but no other request.
- **Every ending leaves nothing behind.** An export that ran to its end closes its connection;
  any other ending (the client hung up, stopped reading for `export_send_timeout` seconds, the
  server shut down and cancelled it) *terminates* it: a synchronous close of the socket that no
  cancellation can interrupt, after which PostgreSQL rolls the transaction back itself. The
  connection's `idle_in_transaction_session_timeout` is the database's own backstop.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator

import asyncpg
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope, Send

from api.settings import Settings
from api.shared.errors import ProblemError
from api.shared.problems import ProblemCode
from db.session import connection_dsn, server_settings

logger = logging.getLogger(__name__)

NDJSON = "application/x-ndjson"

# What asyncpg raises when the database is down, refuses or fails a statement: the export
# talks to asyncpg directly, so SQLAlchemy's error translation does not apply.
DRIVER_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)

# The database ends an export transaction left idle this much longer than the send timeout
# (the process hung, or lost track of it).
_IDLE_MARGIN_MS = 10_000


class ExportSlots:
    """The exports running in one app, and the connections they hold."""

    def __init__(self, settings: Settings) -> None:
        assert settings.database_url is not None
        self.limit = settings.export_concurrency
        self.send_timeout = settings.export_send_timeout
        self.retry_after = settings.retry_after_seconds
        self._connect_timeout = settings.db_connect_timeout
        self._dsn = connection_dsn(settings.database_url)
        self._server_settings = server_settings(settings.db_statement_timeout_ms) | {
            "application_name": "newsgraph-export",
            "idle_in_transaction_session_timeout": str(
                int(self.send_timeout * 1000) + _IDLE_MARGIN_MS
            ),
        }
        self._open: set[ExportSlot] = set()

    @property
    def in_use(self) -> int:
        return len(self._open)

    async def take(self) -> "ExportSlot":
        """A slot with its own connection, or 503 `export_busy` when all are taken."""
        if len(self._open) >= self.limit:
            raise ProblemError(
                ProblemCode.EXPORT_BUSY,
                f"{self.limit} exports are already running, the most this server runs at once; "
                "retry shortly.",
                headers={"Retry-After": str(self.retry_after)},
            )
        slot = ExportSlot(self)
        self._open.add(slot)  # taken before the first await: no two requests get the last one
        try:
            slot.connection = await asyncpg.connect(
                self._dsn,
                timeout=self._connect_timeout,
                server_settings=self._server_settings,
            )
        except BaseException as error:
            slot.terminate()
            if isinstance(error, DRIVER_ERRORS):
                raise self.unavailable(error) from error
            raise
        return slot

    def unavailable(self, error: BaseException) -> ProblemError:
        """503 for the database failing an export before its stream starts."""
        logger.warning("export: the database failed: %s", type(error).__name__)
        return ProblemError(
            ProblemCode.DATABASE_UNAVAILABLE,
            "The database is unavailable; retry shortly.",
            headers={"Retry-After": str(self.retry_after)},
        )

    def release(self, slot: "ExportSlot") -> None:
        self._open.discard(slot)

    def terminate_all(self) -> None:
        """At shutdown: whatever is still open is cut."""
        for slot in list(self._open):
            slot.terminate()


class ExportSlot:
    def __init__(self, slots: ExportSlots) -> None:
        self._slots = slots
        self.send_timeout = slots.send_timeout
        self.connection: asyncpg.Connection | None = None

    @property
    def driver(self) -> asyncpg.Connection:
        assert self.connection is not None
        return self.connection

    def terminate(self) -> None:
        """Cut the connection (PostgreSQL rolls back) and free the slot. Never awaits, so a
        cancelled task runs it to the end."""
        try:
            if self.connection is not None and not self.connection.is_closed():
                self.connection.terminate()
        finally:
            self._slots.release(self)

    async def close(self) -> None:
        """After a finished export: the slot is free at once (the export is over: a client
        that asks again as soon as it has the last byte must not get 503), then a polite close
        of the connection, cut short if it cannot be polite."""
        self._slots.release(self)
        try:
            if self.connection is not None and not self.connection.is_closed():
                await self.connection.close(timeout=self.send_timeout)
        finally:
            self.terminate()


class ExportStalled(Exception):
    """The client read nothing for the whole send timeout."""


class ExportResponse(StreamingResponse):
    """Streams the export's chunks; however the stream ends, its slot is freed and its
    connection closed or cut (see the module docstring)."""

    def __init__(
        self, chunks: AsyncGenerator[bytes], slot: ExportSlot, *, media_type: str = NDJSON
    ) -> None:
        super().__init__(chunks, media_type=media_type)
        self.chunks = chunks
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        send_timeout = self.slot.send_timeout
        finished = stalled = False

        async def send_within_timeout(message: Message) -> None:
            nonlocal finished
            try:
                async with asyncio.timeout(send_timeout):
                    await send(message)
            except TimeoutError as error:
                raise ExportStalled from error
            if message["type"] == "http.response.body" and not message.get("more_body"):
                finished = True  # the last chunk is out: the export ran to its end

        try:
            await super().__call__(scope, receive, send_within_timeout)
        except ClientDisconnect:
            pass  # ASGI 2.4 servers say so by failing a send; older ones by a message
        except ExportStalled:
            # The response has started, so there is nothing to answer: the server closes the
            # connection when this returns.
            logger.warning("export cut short: the client read nothing for %s s", send_timeout)
            stalled = True
        finally:
            if not finished:
                self.slot.terminate()
            # The generator may be suspended inside its transaction; with its connection cut,
            # closing it only unwinds Python frames (the rollback it tries fails at once).
            with contextlib.suppress(Exception):
                await self.chunks.aclose()
        if finished:
            await self.slot.close()
        elif not stalled:
            logger.info("export cut short: the client went away")
