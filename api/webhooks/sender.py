"""Sending one delivery attempt: a signed POST, bounded in every way.

httpcore, without httpx on top: no redirects are followed (a 3xx is an answer, and not a
2xx), no proxy is taken from the environment, and the connection goes through `_CheckedBackend`,
which resolves the host itself and connects only to addresses the SSRF policy allows
(api/webhooks/targets.py), the very addresses it checked. Each attempt has one deadline for
everything (resolving, connecting, TLS, sending, the answer); at most `RESPONSE_LIMIT` bytes
of the answer's body are read, and nothing of it is kept. Connections are pooled per host, at
most `concurrency` of them, and closed after `KEEPALIVE_SECONDS` idle.
"""

import asyncio
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore

from api.webhooks.targets import HostUnresolved, TargetPolicy, TargetRefused, parse_target
from db.models.webhook import ERROR_MAX_LENGTH

RESPONSE_LIMIT = 4096
KEEPALIVE_SECONDS = 5.0
USER_AGENT = "Newsgraph-Webhooks/0.1"
_PHASES = ("connect", "read", "write", "pool")


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None
    latency_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to the addresses the policy allows for the host (all of them must be)."""

    def __init__(self, policy: TargetPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._policy.addresses(host, port)
        failures = []
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectTimeout:
                failures.append(f"{address} port {port}: timed out")
            except httpcore.ConnectError as error:
                failures.append(f"{address} port {port}: {_root_cause(error)}")
        raise httpcore.ConnectError("; ".join(failures))

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise TargetRefused("webhooks are sent over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _root_cause(error: BaseException) -> str:
    """What the operating system said (anyio wraps it in "All connection attempts failed")."""
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    if isinstance(error, OSError) and error.errno:
        return os.strerror(error.errno).lower()
    return str(error) or type(error).__name__


def _error(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, TargetRefused) and not isinstance(error, HostUnresolved):
        text = f"refused: {text}"
    elif isinstance(error, httpcore.ConnectError):
        text = f"cannot connect: {text}"
    return text[:ERROR_MAX_LENGTH]


class Sender:
    def __init__(self, policy: TargetPolicy, *, timeout: float, concurrency: int) -> None:
        self._timeout = timeout
        self._pool = httpcore.AsyncConnectionPool(
            max_connections=concurrency,
            keepalive_expiry=KEEPALIVE_SECONDS,
            retries=0,
            network_backend=_CheckedBackend(policy),
        )

    async def send(self, url: str, headers: list[tuple[str, str]], body: bytes) -> Outcome:
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            target = parse_target(url)
            request_headers = [
                ("Host", target.netloc),
                ("User-Agent", USER_AGENT),
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                *headers,
            ]
            async with asyncio.timeout(self._timeout):
                async with self._pool.stream(
                    "POST",
                    httpcore.URL(
                        scheme=target.scheme.encode(),
                        host=target.host.encode(),
                        port=target.port,
                        target=target.path.encode(),
                    ),
                    headers=request_headers,
                    content=body,
                    extensions={"timeout": dict.fromkeys(_PHASES, self._timeout)},
                ) as response:
                    status = response.status
                    read = 0
                    async for chunk in response.aiter_stream():
                        read += len(chunk)
                        if read >= RESPONSE_LIMIT:
                            break  # the connection is closed rather than drained
        except Exception as failed:  # whatever the network or the receiver did
            # An answer whose body then failed is still the receiver's answer.
            if status is None:
                error = (
                    f"no answer within {self._timeout:g} s"
                    if isinstance(failed, TimeoutError | httpcore.TimeoutException)
                    else _error(failed)
                )
        latency_ms = round((time.perf_counter() - started) * 1000)
        return Outcome(status_code=status, error=error, latency_ms=latency_ms)

    async def aclose(self) -> None:
        await self._pool.aclose()
