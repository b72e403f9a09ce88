"""API keys: `Authorization: Bearer <key>`, stored hashed, with scopes.

Scopes nest: `admin` can do what `write` can, and `write` what `read` can. Reads are public
unless NEWSGRAPH_REQUIRE_KEY_FOR_READS is set.
"""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import func, or_, select, text, update
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.shared.deps import SessionDep
from api.shared.errors import ProblemError
from api.shared.problems import ProblemCode
from db.enums import ApiKeyScope
from db.models import ApiKey
from db.session import create_engine, create_sessionmaker

KEY_PREFIX = "ng_"
_SCOPE_RANK = {ApiKeyScope.READ: 0, ApiKeyScope.WRITE: 1, ApiKeyScope.ADMIN: 2}

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `newsgraph apikey create`, sent as `Authorization: Bearer <key>`.",
)


def hash_key(key: str) -> str:
    # Keys are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def create_key(
    session: AsyncSession, *, name: str, scopes: list[ApiKeyScope]
) -> tuple[ApiKey, str]:
    """A new key row and the key itself, which is not stored and cannot be shown again."""
    key = new_key()
    row = ApiKey(
        name=name,
        prefix=key[: len(KEY_PREFIX) + 6],
        key_hash=hash_key(key),
        scopes=[scope.value for scope in scopes],
    )
    session.add(row)
    await session.flush()
    return row, key


async def issue_key(database_url: str | URL, *, name: str, scopes: list[ApiKeyScope]) -> str:
    """A new key in the database at `database_url`, committed over a connection of its own:
    for callers outside a request (tests that start servers, the benchmark)."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with create_sessionmaker(engine)() as session:
            _, key = await create_key(session, name=name, scopes=scopes)
            await session.commit()
    finally:
        await engine.dispose()
    return key


_KEY_IS_VALID = text(
    "SELECT EXISTS (SELECT 1 FROM api_key WHERE key_hash = :key_hash AND revoked_at IS NULL)"
)


async def key_is_valid(engine: AsyncEngine, key_hash: str) -> bool:
    """Whether a key with this hash exists and is not revoked, outside any request's session
    (the rate limiter asks before the request has one)."""
    async with engine.connect() as connection:
        return bool(await connection.scalar(_KEY_IS_VALID, {"key_hash": key_hash}))


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(
        ProblemCode.UNAUTHORIZED, detail, headers={"WWW-Authenticate": 'Bearer realm="newsgraph"'}
    )


# How fresh `last_used_at` is kept.
LAST_USED_RESOLUTION = timedelta(minutes=1)


async def _authenticate(
    session: AsyncSession, credentials: HTTPAuthorizationCredentials | None
) -> ApiKey:
    if credentials is None:
        raise _unauthorized("This endpoint needs an API key: `Authorization: Bearer <key>`.")
    row = await session.scalar(
        select(ApiKey).where(
            ApiKey.key_hash == hash_key(credentials.credentials), ApiKey.revoked_at.is_(None)
        )
    )
    if row is None:
        raise _unauthorized("The API key is not valid or has been revoked.")
    # At most once a minute (what `newsgraph apikey list` shows): an UPDATE on every request
    # held the key's row lock until the request's transaction ended, so concurrent writes with
    # one key queued behind each other (mixed benchmark profile: p99 3.5 s).
    await session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == row.id,
            or_(
                ApiKey.last_used_at.is_(None),
                ApiKey.last_used_at < func.now() - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=datetime.now(UTC))
    )
    return row


def has_scope(key: ApiKey, needed: ApiKeyScope) -> bool:
    return any(_SCOPE_RANK[ApiKeyScope(scope)] >= _SCOPE_RANK[needed] for scope in key.scopes)


def require(scope: ApiKeyScope) -> object:
    """A valid key with `scope` (or a wider one). The contract lists the scope in the
    operation's security requirement (OpenAPI 3.1 allows roles for any scheme)."""

    async def dependency(
        session: SessionDep,
        credentials: Annotated[
            HTTPAuthorizationCredentials | None, Security(bearer, scopes=[scope.value])
        ],
    ) -> ApiKey:
        key = await _authenticate(session, credentials)
        if not has_scope(key, scope):
            raise ProblemError(
                ProblemCode.INSUFFICIENT_SCOPE,
                f"This API key lacks the `{scope.value}` scope.",
            )
        return key

    return Depends(dependency)


WriteKey = Annotated[ApiKey, require(ApiKeyScope.WRITE)]
AdminKey = Annotated[ApiKey, require(ApiKeyScope.ADMIN)]


async def read_access(request: Request) -> None:
    """Reads are public unless the deployment asks for a key on every request. The header is
    read here directly so that public reads do not advertise a security requirement. Only then
    is a session opened, its own: a public read pays nothing for this check."""
    if not request.app.state.settings.require_key_for_reads:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    credentials = (
        HTTPAuthorizationCredentials(scheme=scheme, credentials=token.strip())
        if scheme.lower() == "bearer" and token.strip()
        else None
    )
    async with request.app.state.read_sessionmaker() as session:
        await _authenticate(session, credentials)
