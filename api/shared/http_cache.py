"""Strong ETags on reads, 304 on a matching If-None-Match, and Cache-Control."""

import hashlib

from fastapi import Request, Response
from pydantic import BaseModel

# Shared caches may keep public reads briefly; with keys required for reads, only the client;
# the response to a write, nobody.
PUBLIC_CACHE_CONTROL = "public, max-age=30, must-revalidate"
PRIVATE_CACHE_CONTROL = "private, max-age=30, must-revalidate"
WRITE_CACHE_CONTROL = "no-store"


def _matches(if_none_match: str, etag: str) -> bool:
    candidates = {tag.strip() for tag in if_none_match.split(",")}
    # Weak comparison (RFC 9110 13.1.2): W/"x" matches "x" for If-None-Match.
    return "*" in candidates or etag in candidates or f"W/{etag}" in candidates


def json_with_etag(
    request: Request,
    payload: BaseModel,
    headers: dict[str, str] | None = None,
    *,
    exclude_unset: bool = False,
    exclude: set[str] | None = None,
    version: int | None = None,
    status_code: int = 200,
) -> Response:
    """`exclude_unset` leaves out optional parts (e.g. `include=` data) that were not asked for,
    `exclude` the top-level fields named (a page's `total` when not counted). With the
    resource's `version`, the ETag carries it for If-Match (api/shared/concurrency.py)."""
    body = payload.model_dump_json(exclude_unset=exclude_unset, exclude=exclude).encode()
    return body_with_etag(request, body, headers, version=version, status_code=status_code)


def body_with_etag(
    request: Request,
    body: bytes,
    headers: dict[str, str] | None = None,
    *,
    media_type: str = "application/json",
    version: int | None = None,
    status_code: int = 200,
) -> Response:
    """`body` with its ETag and Cache-Control, or a 304 when the client holds it already: a
    JSON body (`json_with_etag`) or another representation of the same resource (CSV)."""
    digest = hashlib.sha256(body).hexdigest()
    etag = f'"v{version}-{digest[:16]}"' if version is not None else f'"{digest[:32]}"'
    if request.method not in {"GET", "HEAD"}:
        cache_control = WRITE_CACHE_CONTROL
    elif request.app.state.settings.require_key_for_reads:
        cache_control = PRIVATE_CACHE_CONTROL
    else:
        cache_control = PUBLIC_CACHE_CONTROL
    all_headers = {"ETag": etag, "Cache-Control": cache_control, **(headers or {})}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and _matches(if_none_match, etag):
        return Response(status_code=304, headers=all_headers)
    return Response(body, status_code=status_code, media_type=media_type, headers=all_headers)
