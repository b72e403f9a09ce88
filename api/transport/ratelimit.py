"""Rate limits: a budget per API key, and one per client address for requests without a key.

Every limited response says where its client stands, in the header fields of
draft-ietf-httpapi-ratelimit-headers-10 (structured fields, not the older
RateLimit-Limit/-Remaining/-Reset trio):

    RateLimit-Policy: "address";q=300;w=60     the budget: q requests per w seconds
    RateLimit: "address";r=299;t=42             r left now; in t seconds at least one more

and a spent budget gets 429 problem+json (`rate_limited`) with `Retry-After: t`.

Budgets are sliding window counters (the `limits` library): the count of the current window
plus the previous window's, weighted by how much of it still lies inside the last w seconds.
That approximates a true sliding window with two counters per client, so a busy API with
many clients costs little memory in Redis and little CPU in process (the library's exact
moving window keeps every request's time, and its in-memory storage re-scans them all with
a thread hop after each request). Budgets live in this process's memory, or in Redis when
NEWSGRAPH_REDIS_URL is set, so that every worker and host draws on one budget. When Redis
cannot be reached the limiter fails open: requests pass unlimited (without RateLimit
fields), a warning is logged once per outage, and Redis is tried again after a few seconds.

A request gets its key's budget only once the key is known to be valid: any `ng_…` string
would otherwise buy a fresh budget (a spent address got 200 again with a random token). Keys
are checked against the database once and remembered for a minute (`KnownKeys`); a token not
known yet is charged to the client address's budget first, and only a request that budget
allows is worth a lookup, so random tokens cost an attacker their address's budget and cost
the database at most one lookup per allowed request. Whether the key may do what the request
asks is still for the route to decide.
"""

import ipaddress
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.settings import Settings, parse_rate_limit
from api.shared.auth import KEY_PREFIX, hash_key
from api.shared.errors import PROBLEM_MEDIA_TYPE, ProblemError, problem_response
from api.shared.problems import ProblemCode

logger = logging.getLogger(__name__)

# Probes and scrapes must keep working while a client is throttled.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# After a storage failure, requests skip the limiter this long before Redis is tried again,
# so an outage costs one failed round trip per interval rather than one per request.
STORAGE_RETRY_SECONDS = 5.0
# A Redis that accepts connections but does not answer must not hold requests up.
REDIS_TIMEOUT_SECONDS = 0.25

PolicyName = Literal["address", "key"]


class Policy:
    __slots__ = ("header", "item", "name", "window_seconds")

    def __init__(self, name: PolicyName, item: RateLimitItem) -> None:
        self.name = name
        self.item = item
        self.window_seconds = item.get_expiry()
        self.header = f'"{name}";q={item.amount};w={self.window_seconds}'.encode()


@dataclass(frozen=True, slots=True)
class Decision:
    policy: Policy
    allowed: bool
    remaining: int
    reset_seconds: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"ratelimit-policy", self.policy.header),
            (
                b"ratelimit",
                f'"{self.policy.name}";r={self.remaining};t={self.reset_seconds}'.encode(),
            ),
        ]


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


def _address(scope: Scope) -> str:
    client = scope.get("client")
    host: str = client[0] if client else "unknown"
    if ":" not in host:
        return host
    # An IPv6 host usually holds a whole /64: budget the /64, not each address in it.
    try:
        return str(ipaddress.IPv6Network(f"{host}/64", strict=False).network_address)
    except ValueError:
        return host


class KnownKeys:
    """Whether a key (by its hash) is a valid API key, asked of `lookup` and remembered for
    `seconds`, for at most `size` keys (the oldest answer is forgotten first)."""

    def __init__(
        self,
        lookup: Callable[[str], Awaitable[bool]],
        *,
        seconds: float = 60.0,
        size: int = 10_000,
    ) -> None:
        self._lookup = lookup
        self._seconds = seconds
        self._size = size
        self._answers: dict[str, tuple[bool, float]] = {}
        self.lookups = 0

    def remembered(self, key_hash: str) -> bool | None:
        answer = self._answers.get(key_hash)
        if answer is None:
            return None
        valid, until = answer
        if time.monotonic() >= until:
            del self._answers[key_hash]
            return None
        return valid

    async def check(self, key_hash: str) -> bool:
        """Ask the database (raises what the lookup raises; nothing is remembered then)."""
        self.lookups += 1
        valid = await self._lookup(key_hash)
        if len(self._answers) >= self._size:
            del self._answers[next(iter(self._answers))]
        self._answers[key_hash] = (valid, time.monotonic() + self._seconds)
        return valid


class RateLimiter:
    def __init__(
        self, settings: Settings, *, key_is_valid: Callable[[str], Awaitable[bool]]
    ) -> None:
        self.known_keys = KnownKeys(key_is_valid)
        self.per_address = Policy("address", parse_rate_limit(settings.rate_limit_per_address))
        self.per_key = Policy("key", parse_rate_limit(settings.rate_limit_per_key))
        self._pool: Any = None
        if settings.redis_url:
            # Imported only when configured: redis-py costs each worker 7 MB.
            from redis.asyncio import ConnectionPool

            self._pool = ConnectionPool.from_url(
                settings.redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            self.storage: MemoryStorage | RedisStorage = RedisStorage(
                "async+" + settings.redis_url,
                implementation="redispy",
                key_prefix=settings.rate_limit_key_prefix,
                connection_pool=self._pool,  # passed to redis-py
            )
            errors = self.storage.base_exceptions
            self._storage_errors: tuple[type[Exception], ...] = (
                *(errors if isinstance(errors, tuple) else (errors,)),
                OSError,
                TimeoutError,
            )
        else:
            self.storage = MemoryStorage()
            self._storage_errors = (OSError, TimeoutError)
        self._limiter = SlidingWindowCounterRateLimiter(self.storage)
        self._skip_until = 0.0
        self.storage_failures = 0

    async def hit(self, scope: Scope) -> Decision | None:
        """Count this request against its budget; None when the budget is unknown (the
        storage is unreachable) and the request goes through unlimited."""
        if self._skip_until and time.monotonic() < self._skip_until:
            return None
        token = bearer_token(scope)
        key_hash = hash_key(token) if token is not None and token.startswith(KEY_PREFIX) else None
        valid = self.known_keys.remembered(key_hash) if key_hash is not None else False
        if valid:
            assert key_hash is not None
            return await self._charge(self.per_key, key_hash[:32])
        # No key, a key known to be invalid, or one not checked yet: the address pays.
        decision = await self._charge(self.per_address, _address(scope))
        if key_hash is not None and valid is None and decision is not None and decision.allowed:
            try:
                await self.known_keys.check(key_hash)  # budgeted by key from the next request
            except Exception as error:  # the database is down: the route will say so
                logger.debug("API key lookup for rate limiting failed: %s", error)
        return decision

    async def _charge(self, policy: Policy, identity: str) -> Decision | None:
        try:
            allowed = await self._limiter.hit(policy.item, policy.name, identity)
            stats = await self._limiter.get_window_stats(policy.item, policy.name, identity)
        except self._storage_errors as error:
            self._storage_failed(error)
            return None
        if self._skip_until:
            self._skip_until = 0.0
            logger.warning("rate limiting resumed: its storage answers again")
        return Decision(
            policy=policy,
            allowed=allowed,
            remaining=max(0, stats.remaining),
            reset_seconds=max(0, math.ceil(stats.reset_time - time.time())),
        )

    def _storage_failed(self, error: Exception) -> None:
        self.storage_failures += 1
        outage_starts = not self._skip_until
        self._skip_until = time.monotonic() + STORAGE_RETRY_SECONDS
        if outage_starts:
            logger.warning(
                "rate limiting is off: its storage failed (%s: %s); requests pass unlimited "
                "until it answers again (tried every %.0f s)",
                type(error).__name__,
                error,
                STORAGE_RETRY_SECONDS,
            )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()


class RateLimitMiddleware:
    """Pure ASGI. Placed inside the CORS middleware, so a browser can read a 429."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        decision = await self.limiter.hit(scope)
        if decision is None:
            await self.app(scope, receive, send)
            return
        fields = decision.headers()
        if not decision.allowed:
            await problem_response(Request(scope), _refusal(decision))(scope, receive, send)
            return

        async def send_with_fields(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *fields]
            await send(message)

        await self.app(scope, receive, send_with_fields)


def _refusal(decision: Decision) -> ProblemError:
    policy = decision.policy
    wait = max(1, decision.reset_seconds)
    whose = "this API key's" if policy.name == "key" else "this client address's"
    headers = {"Retry-After": str(wait)}
    headers.update((name.decode(), value.decode()) for name, value in decision.headers())
    return ProblemError(
        ProblemCode.RATE_LIMITED,
        f"Too many requests: {whose} budget of {policy.item.amount} requests per "
        f"{policy.window_seconds} s is spent; retry in {wait} s.",
        headers=headers,
    )


_OPERATIONS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def document_rate_limits(document: dict[str, Any]) -> dict[str, Any]:
    """Add the 429 that every operation but the exempt ones may answer to the OpenAPI
    document; its headers (Retry-After, RateLimit, RateLimit-Policy) are declared with every
    other header, in api/contract.py."""
    for path, path_item in document.get("paths", {}).items():
        if path in EXEMPT_PATHS:
            continue
        for method, operation in path_item.items():
            if method not in _OPERATIONS:
                continue
            operation.setdefault("responses", {})["429"] = {
                "description": "Too Many Requests: the client's rate limit is spent.",
                "content": {
                    PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }
    return document
