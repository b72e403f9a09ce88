"""Idempotency-Key on creates: a retried request gets the first response and creates nothing.

    1. INSERT a claim on (api key, Idempotency-Key) ... ON CONFLICT DO NOTHING, inside the
       request's transaction. A concurrent request with the same key blocks on that INSERT
       until the first transaction ends.
    2. First request: do the write, then store its status, body and headers on the claim,
       still in the same transaction, so the record exists exactly when the write does.
    3. A retry (or the request that waited): finds the record and replays it, or answers 422
       when the same key came with a different request.

Records expire after 24 hours; an expired record is replaced by a new claim.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared.errors import ProblemError
from api.shared.http_cache import WRITE_CACHE_CONTROL, json_with_etag
from api.shared.problems import ProblemCode
from db.models import ApiKey, IdempotencyRecord

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# Visible ASCII, spaces only inside: what a header carries intact through proxies.
KEY_PATTERN = r"^[!-~]([ -~]*[!-~])?$"
# Response headers worth replaying; the rest (date, request id) belong to each response, and
# Cache-Control is set on the replay as on every answer to a write.
_REPLAYED_HEADERS = ("location", "etag")
_CLAIMED = 102  # a placeholder status never visible outside the claiming transaction


@dataclass(frozen=True, slots=True)
class Claim:
    api_key_id: Any
    key: str


def _request_hash(request: Request, payload: BaseModel) -> str:
    canonical = json.dumps(
        [request.method, request.url.path, payload.model_dump(mode="json")], sort_keys=True
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def begin(
    session: AsyncSession, request: Request, api_key: ApiKey, payload: BaseModel
) -> Claim | Response | None:
    """None without an Idempotency-Key; a Response to replay; or a Claim to finish."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if len(key) > MAX_KEY_LENGTH or not re.fullmatch(KEY_PATTERN, key):
        raise ProblemError(
            ProblemCode.INVALID_IDEMPOTENCY_KEY,
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters.",
        )
    now = datetime.now(UTC)
    request_hash = _request_hash(request, payload)
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == api_key.id,
            IdempotencyRecord.key == key,
            IdempotencyRecord.expires_at <= now,
        )
    )
    claimed = await session.scalar(
        insert(IdempotencyRecord)
        .values(
            api_key_id=api_key.id,
            key=key,
            method=request.method,
            path=request.url.path,
            request_hash=request_hash,
            status_code=_CLAIMED,
            response_body=None,
            response_headers={},
            expires_at=now + TTL,
        )
        .on_conflict_do_nothing()
        .returning(IdempotencyRecord.key)
    )
    if claimed is not None:
        return Claim(api_key.id, key)
    record = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == api_key.id, IdempotencyRecord.key == key
        )
    )
    assert record is not None  # the conflicting row is committed: we waited for it
    if record.request_hash != request_hash:
        raise ProblemError(
            ProblemCode.IDEMPOTENCY_KEY_REUSED,
            f"This {HEADER} was used for a different request "
            f"({record.method} {record.path}); use a new key for a new request.",
        )
    return Response(
        json.dumps(record.response_body).encode(),
        status_code=record.status_code,
        media_type="application/json",
        headers={
            **record.response_headers,
            "Cache-Control": WRITE_CACHE_CONTROL,
            "Idempotent-Replayed": "true",
        },
    )


async def finish(session: AsyncSession, claim: Claim | None, response: Response) -> Response:
    if claim is None:
        return response
    headers = {name: value for name, value in response.headers.items() if name in _REPLAYED_HEADERS}
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.api_key_id == claim.api_key_id, IdempotencyRecord.key == claim.key)
        .values(
            status_code=response.status_code,
            response_body=json.loads(bytes(response.body)),
            response_headers=headers,
        )
    )
    return response


async def _declare_idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            max_length=MAX_KEY_LENGTH,
            pattern=KEY_PATTERN,
            description="Any unique string; a retry with the same key and body returns the "
            "first response and creates nothing (kept 24 hours).",
        ),
    ] = None,
) -> None:
    """Declares the header in the OpenAPI document so generated SDKs expose it."""


IDEMPOTENCY_KEY = Depends(_declare_idempotency_key)


async def created(
    session: AsyncSession,
    request: Request,
    claim: Claim | None,
    read: BaseModel,
    *,
    version: int,
    location: str,
    exclude_unset: bool = False,
) -> Response:
    """The 201 for a create, with `Location` and the ETag, stored for replay under its key."""
    response = json_with_etag(
        request,
        read,
        exclude_unset=exclude_unset,
        version=version,
        status_code=201,
        headers={"Location": location},
    )
    return await finish(session, claim, response)
