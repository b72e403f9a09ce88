"""The lean reference `make bench` races beside the API (issue 13, item 3): the fastest a
Python process could serve the API's two hottest reads with the same bytes.

A raw ASGI application (no FastAPI, Starlette, SQLAlchemy or pydantic in the worker), one
asyncpg pool per worker, serving

- `GET /v1/articles/{id}` (by id or slug) and
- `GET /v1/articles?entity=<id or slug>` (first page, `limit` optional, newest first),

with the SQL statements the API sends (the same text, so the same prepared statements and
plans) and the response the API gives: the same JSON bytes (orjson encodes exactly as
pydantic does for these fields), the same ETag, `Cache-Control`, `Content-Type`, signed
`next_cursor` and `Link` header. tests/bench/test_lean.py holds both apps to that, byte for
byte, and the SQL to the API's captured statements.

It deliberately lacks the API's middleware (request id, security headers, metrics, rate limits,
request-line and body limits), the problem+json bodies and the strict parameter checks:
anything it does not serve is a short 400 or 404. It is an upper bound to measure against, not
a design to copy.

    DATABASE_URL=postgresql://... uvicorn bench.lean:create_app --factory --workers 2

Configured from the environment the API reads (DATABASE_URL, NEWSGRAPH_DB_POOL_SIZE,
NEWSGRAPH_DB_MAX_OVERFLOW, NEWSGRAPH_CURSOR_SECRET, NEWSGRAPH_REQUIRE_KEY_FOR_READS,
NEWSGRAPH_DB_STATEMENT_TIMEOUT_MS), plus NEWSGRAPH_LEAN_SERVER_SETTINGS (the connections'
session settings as JSON: bench/run.py passes `db.session.server_settings(...)` so that the
workers need not import SQLAlchemy to compute them; unset, they are computed here) and
NEWSGRAPH_LEAN_IDLE_SECONDS (how long an idle pooled connection stays open).
"""

import base64
import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlencode

import asyncpg
import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

# As api/settings.py has them (the test checks they still agree).
DEVELOPMENT_CURSOR_SECRET = "newsgraph-development-cursor-secret"  # noqa: S105 (not a credential)
DEFAULT_POOL_SIZE = 10
DEFAULT_MAX_OVERFLOW = 5
DEFAULT_STATEMENT_TIMEOUT_MS = 15_000
DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000
# As api/shared/pagination.py and api/shared/http_cache.py have them.
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
PUBLIC_CACHE_CONTROL = b"public, max-age=30, must-revalidate"
PRIVATE_CACHE_CONTROL = b"private, max-age=30, must-revalidate"
# asyncpg's own default.
DEFAULT_IDLE_SECONDS = 300.0

# The statements the API sends, as SQLAlchemy compiles them (captured by bench/floor.py; the
# test compares them with a fresh capture).
_ARTICLE_COLUMNS = (
    "SELECT article.headline, article.byline, article.url, article.language, "
    "article.published_at, article.published_precision, "
)
_SOURCE_COLUMNS = (
    'source.id AS "source.id", source.slug AS "source.slug", source.name AS "source.name"'
)
# The article's own evidence, as a JSON array, and each item as the API names its keys.
_EVIDENCE_FIELDS = (
    "article_id",
    "start_offset",
    "end_offset",
    "quote",
    "editorial",
    "note",
    "field",
)
_EVIDENCE_KEYS = {"start_offset": "start", "end_offset": "end"}
_ARTICLE_FIELDS = (
    _ARTICLE_COLUMNS + "article.body, article.summary, article.content_hash, article.id, "
    "article.slug, article.version, article.created_at, article.updated_at, "
    + _SOURCE_COLUMNS
    + ", CAST((SELECT coalesce(json_agg(json_build_object("
    + ", ".join(f"'{name}', evidence.{name}" for name in _EVIDENCE_FIELDS)
    + ") ORDER BY evidence.subject_article_id, evidence.article_id, evidence.start_offset "
    "NULLS LAST, evidence.id), '[]'::json) AS coalesce_1 \nFROM evidence \n"
    "WHERE evidence.subject_article_id = article.id) AS TEXT) AS evidence"
    " \nFROM article JOIN source ON source.id = article.source_id \n"
)
ARTICLE_BY_ID_SQL = _ARTICLE_FIELDS + "WHERE article.id = $1::UUID"
ARTICLE_BY_SLUG_SQL = _ARTICLE_FIELDS + "WHERE article.slug = $1::VARCHAR"
ENTITY_IDS_SQL = (
    "SELECT entity.id, entity.slug \nFROM entity \n"
    "WHERE entity.id = ANY ($1::UUID[]) OR entity.slug = ANY ($2::TEXT[])"
)
_NEWEST = "coalesce(article.published_at, '-infinity'::timestamptz)"
ARTICLES_OF_ENTITY_SQL = (
    _ARTICLE_COLUMNS + "article.summary, article.id, article.slug, article.version, "
    "article.created_at, article.updated_at, "
    + _SOURCE_COLUMNS
    + f', {_NEWEST} AS "_sort.0", article.id AS "_sort.1" '
    "\nFROM article JOIN source ON source.id = article.source_id \n"
    "WHERE EXISTS (SELECT mention.article_id \nFROM mention \n"
    "WHERE mention.article_id = article.id AND mention.entity_id = $1::UUID) "
    f"ORDER BY {_NEWEST} DESC, article.id DESC \n LIMIT $2::INTEGER"
)

_ARTICLES_PATH = "/v1/articles"
_ARTICLE_PREFIX = "/v1/articles/"


def _as_uuid(key: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(key)
    except ValueError:
        return None


def _summary(row: asyncpg.Record) -> dict[str, Any]:
    """An article as ArticleSummary serializes it: its fields in the model's order. asyncpg's
    UUIDs are a subclass orjson does not take, hence str() (what pydantic writes too)."""
    return {
        "id": str(row["id"]),
        "slug": row["slug"],
        "source": {
            "id": str(row["source.id"]),
            "slug": row["source.slug"],
            "name": row["source.name"],
        },
        "headline": row["headline"],
        "byline": row["byline"],
        "url": row["url"],
        "language": row["language"],
        "published_at": row["published_at"],
        "published_precision": row["published_precision"],
        "summary": row["summary"],
        "version": row["version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _dumps(payload: Any) -> bytes:
    # pydantic writes an aware UTC datetime with `Z`; orjson does with OPT_UTC_Z.
    return orjson.dumps(payload, option=orjson.OPT_UTC_Z)


def _etag_matches(if_none_match: str, etag: str) -> bool:
    candidates = {tag.strip() for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates or f"W/{etag}" in candidates


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def _url_path(scope: Scope) -> str:
    # What Starlette's request.url.path gives for it.
    path: str = scope["path"]
    return path.replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")


def _netloc(scope: Scope) -> str:
    """The request URL's host as Starlette builds it: the Host header (taken as sent, where
    Starlette would first check it), else the server's address."""
    host = _header(scope, b"host")
    if host is not None:
        return host
    name, port = scope["server"]
    default = {"http": 80, "https": 443}[scope.get("scheme", "http")]
    return name if port == default else f"{name}:{port}"


class Lean:
    """The ASGI application: its pool is opened by the lifespan's startup."""

    def __init__(
        self,
        dsn: str,
        *,
        pool_size: int,
        server_settings: Mapping[str, str],
        cursor_secret: str,
        public: bool = True,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
    ) -> None:
        self.dsn = dsn
        self.pool_size = pool_size
        self.server_settings = dict(server_settings)
        self.idle_seconds = idle_seconds
        self.secret = cursor_secret.encode()
        self.cache_control = PUBLIC_CACHE_CONTROL if public else PRIVATE_CACHE_CONTROL
        self._pool: asyncpg.Pool | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(
            self.dsn,
            min_size=0,
            max_size=self.pool_size,
            server_settings=self.server_settings,
            max_inactive_connection_lifetime=self.idle_seconds,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.open()
                except (OSError, asyncpg.PostgresError) as error:
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the lean app's pool is not open (no lifespan startup)")
        return self._pool

    async def _http(self, scope: Scope, send: Send) -> None:
        path: str = scope["path"]
        if scope["method"] != "GET":
            await _plain(send, 405, b"only GET")
        elif path == _ARTICLES_PATH:
            await self._articles(scope, send)
        elif path.startswith(_ARTICLE_PREFIX) and "/" not in path[len(_ARTICLE_PREFIX) :]:
            await self._article(scope, send, path[len(_ARTICLE_PREFIX) :])
        elif path == "/readyz":
            await _plain(send, 200, b"ready")
        else:
            await _plain(send, 404, b"not served by the lean reference")

    async def _article(self, scope: Scope, send: Send, key: str) -> None:
        as_id = _as_uuid(key)
        if as_id is not None:
            row = await self.pool.fetchrow(ARTICLE_BY_ID_SQL, as_id)
        else:
            row = await self.pool.fetchrow(ARTICLE_BY_SLUG_SQL, key)
        if row is None:
            await _plain(send, 404, b"no such article")
            return
        fields = _summary(row)
        fields["body"] = row["body"]
        fields["content_hash"] = row["content_hash"]
        fields["evidence"] = [
            {_EVIDENCE_KEYS.get(key, key): value for key, value in item.items()}
            for item in orjson.loads(row["evidence"])
        ]
        body = _dumps(fields)
        digest = hashlib.sha256(body).hexdigest()
        await self._json(scope, send, body, f'"v{row["version"]}-{digest[:16]}"')

    async def _articles(self, scope: Scope, send: Send) -> None:
        query_string: bytes = scope["query_string"]
        params = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
        entities = [value for name, value in params if name == "entity"]
        limits = [value for name, value in params if name == "limit"]
        if len(entities) != 1 or len(limits) > 1 or len(params) != len(entities) + len(limits):
            await _plain(send, 400, b"the lean reference serves ?entity= (and limit) only")
            return
        if limits and not limits[0].isdigit():
            await _plain(send, 400, b"limit is not a number")
            return
        limit = int(limits[0]) if limits else DEFAULT_LIMIT
        if not 1 <= limit <= MAX_LIMIT:
            await _plain(send, 400, b"limit out of range")
            return
        key = entities[0]
        as_id = _as_uuid(key)
        async with self.pool.acquire() as connection:
            found = await connection.fetch(
                ENTITY_IDS_SQL,
                [as_id] if as_id is not None else [],
                [] if as_id is not None else [key],
            )
            if not found:
                await _plain(send, 400, b"unknown entity")
                return
            rows = await connection.fetch(ARTICLES_OF_ENTITY_SQL, found[0]["id"], limit + 1)
        items = [_summary(row) for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = self._cursor(
                scope, params, [last["_sort.0"].isoformat(), str(last["_sort.1"])]
            )
        body = _dumps({"items": items, "next_cursor": next_cursor})
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        link = None
        if next_cursor is not None:
            link = _next_link(scope, next_cursor)
        await self._json(scope, send, body, etag, link)

    def _cursor(self, scope: Scope, params: list[tuple[str, str]], key: list[str]) -> str:
        """A cursor as api/shared/pagination.py's Keyset.encode signs it, bound to the query
        as its query_digest binds it."""
        bound = sorted((k, v) for k, v in params if k not in {"cursor", "limit"})
        digest = hashlib.sha256(json.dumps([_url_path(scope), bound]).encode()).hexdigest()[:16]
        payload = json.dumps({"k": key, "q": digest}, separators=(",", ":")).encode()
        signature = hmac.new(self.secret, payload, hashlib.sha256).digest()[:12]
        return (
            base64.urlsafe_b64encode(payload).decode().rstrip("=")
            + "."
            + base64.urlsafe_b64encode(signature).decode().rstrip("=")
        )

    async def _json(
        self, scope: Scope, send: Send, body: bytes, etag: str, link: str | None = None
    ) -> None:
        headers: Headers = [(b"etag", etag.encode()), (b"cache-control", self.cache_control)]
        if link is not None:
            headers.append((b"link", link.encode("latin-1")))
        if_none_match = _header(scope, b"if-none-match")
        if if_none_match and _etag_matches(if_none_match, etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers += [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _next_link(scope: Scope, next_cursor: str) -> str:
    """`request.url.include_query_params(cursor=...)` in a Link header, as the API sets it."""
    query_string: bytes = scope["query_string"]
    kept = [
        (name, value)
        for name, value in parse_qsl(query_string.decode(), keep_blank_values=True)
        if name != "cursor"
    ]
    url = SplitResult(
        scheme=scope.get("scheme", "http"),
        netloc=_netloc(scope),
        path=_url_path(scope),
        query=urlencode([*kept, ("cursor", next_cursor)]),
        fragment="",
    ).geturl()
    return f'<{url}>; rel="next"'


async def _plain(send: Send, status: int, text: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-length", str(len(text)).encode()),
                (b"content-type", b"text/plain; charset=utf-8"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": text})


def _postgresql_dsn(url: str) -> str:
    """asyncpg's spelling of the URLs the API accepts (postgres://, postgresql+asyncpg://)."""
    scheme, separator, rest = url.partition("://")
    if not separator or scheme not in {"postgres", "postgresql", "postgresql+asyncpg"}:
        raise ValueError("DATABASE_URL must be a postgresql:// URL")
    return f"postgresql://{rest}"


def _session_settings() -> dict[str, str]:
    configured = os.environ.get("NEWSGRAPH_LEAN_SERVER_SETTINGS")
    if configured:
        settings: dict[str, str] = json.loads(configured)
        return settings
    # Imports SQLAlchemy (about 20 MB of RSS per worker): bench/run.py passes them instead.
    from db.session import server_settings

    return server_settings(
        int(os.environ.get("NEWSGRAPH_DB_STATEMENT_TIMEOUT_MS", DEFAULT_STATEMENT_TIMEOUT_MS)),
        int(
            os.environ.get(
                "NEWSGRAPH_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS",
                DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS,
            )
        ),
    )


def create_app(
    database_url: str | None = None, *, server_settings: Mapping[str, str] | None = None
) -> Lean:
    """The lean app as configured by the environment (uvicorn's `--factory` calls it)."""
    url = database_url or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("set DATABASE_URL to the database the lean reference serves")
    environ = os.environ
    return Lean(
        _postgresql_dsn(url),
        pool_size=int(environ.get("NEWSGRAPH_DB_POOL_SIZE", DEFAULT_POOL_SIZE))
        + int(environ.get("NEWSGRAPH_DB_MAX_OVERFLOW", DEFAULT_MAX_OVERFLOW)),
        server_settings=server_settings if server_settings is not None else _session_settings(),
        cursor_secret=environ.get("NEWSGRAPH_CURSOR_SECRET", DEVELOPMENT_CURSOR_SECRET),
        public=environ.get("NEWSGRAPH_REQUIRE_KEY_FOR_READS", "").lower()
        not in {"1", "true", "yes", "on"},
        idle_seconds=float(environ.get("NEWSGRAPH_LEAN_IDLE_SECONDS", DEFAULT_IDLE_SECONDS)),
    )
