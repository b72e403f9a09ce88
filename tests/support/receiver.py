"""A webhook receiver on loopback, for tests: a small HTTP/1.1 server on asyncio that keeps
every request it gets, verifies nothing itself (tests verify signatures with the
`standardwebhooks` package, not with the code that signs), and answers as the test says: a
status, or holding the request open until the test lets go.

It can be down: made with a port, it refuses connections until `start`, and again after
`stop`. It answers `Connection: close`, so no pooled connection outlives an answer.
"""

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks import Webhook as Verifier

from tests.support.clients import free_port

HOLD = -1  # an answer: keep the request open, answer nothing


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    at: float  # time.monotonic() when the request was read

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    # The status for the n-th request (from 0), or HOLD.
    answer: Callable[[int], int] = lambda _: 204
    received: list[Received] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/newsgraph"

    async def start(self) -> None:
        self._release = asyncio.Event()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.close()
            for task in list(self._handlers):
                task.cancel()
            await self._server.wait_closed()
            self._server = None

    def processed(self, secret: str) -> dict[str, Any]:
        """What a receiver that deduplicates processes: each webhook-id once, its payload
        verified (WebhookVerificationError on a bad signature)."""
        verifier = Verifier(secret)
        payloads: dict[str, Any] = {}
        for request in self.received:
            payload = verifier.verify(request.body, request.headers)
            payloads.setdefault(request.webhook_id, payload)
        return payloads

    async def wait_for(self, count: int, seconds: float = 30) -> list[Received]:
        """Once `count` requests have arrived (AssertionError after `seconds`)."""
        try:
            async with asyncio.timeout(seconds):
                while True:
                    self._arrived.clear()
                    if len(self.received) >= count:
                        break
                    await self._arrived.wait()
        except TimeoutError:
            raise AssertionError(
                f"{len(self.received)} of {count} requests arrived in {seconds} s"
            ) from None
        return self.received

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in lines if line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            number = len(self.received)
            self.received.append(
                Received(request_line.split(" ")[1], headers, body, time.monotonic())
            )
            self._arrived.set()
            status = self.answer(number)
            if status == HOLD:
                await self._release.wait()
                return
            extra = "Location: /elsewhere\r\n" if 300 <= status < 400 else ""
            writer.write(
                f"HTTP/1.1 {status} Answer\r\nContent-Length: 0\r\n{extra}"
                "Connection: close\r\n\r\n".encode()
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
