"""uvicorn's HTTP protocol with a deadline for the request head.

uvicorn closes a keep-alive connection left idle between requests (`timeout_keep_alive`), but
has no deadline for a request whose head never finishes: a client that connects and sends
nothing, or a few bytes of header a minute (slowloris), holds its connection for as long as it
likes, and a few hundred of them hold the server's file descriptors and memory. This protocol
gives every request `request_head_timeout` seconds from its first byte (or from the connection,
for the first request) to the end of its headers, then closes the connection. What the app
receives is unchanged; the body is bounded by the app's own body limit.
"""

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HeadTimeoutHttpToolsProtocol(HttpToolsProtocol):
    request_head_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._head_deadline = self.loop.call_later(self.request_head_timeout, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_deadline is None:  # a second request on a kept-alive connection
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def protocol_with_head_timeout(seconds: float) -> type[HeadTimeoutHttpToolsProtocol]:
    """The protocol class uvicorn's `http=` takes, with this deadline."""
    return type(
        "HeadTimeoutHttpToolsProtocol",
        (HeadTimeoutHttpToolsProtocol,),
        {"request_head_timeout": seconds},
    )
