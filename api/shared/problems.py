"""Every problem code the API answers with: its HTTP status (or statuses), a title and what it
means for the client. The one place codes are spelled: `ProblemError` takes a `ProblemCode`
and takes its status from here, and docs/problems.md is generated from here (`newsgraph
problems`; a test fails when the page and the registry differ).

A code is answered with one status, except where the same mistake is a bad request in the URL
or a header (400) and an unprocessable body (422): `validation_error` and `unknown_reference`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

PROBLEM_TYPE_BASE: Final = "https://newsgraph.dev/problems/"


class ProblemCode(StrEnum):
    # The request's URL, headers or body
    VALIDATION_ERROR = "validation_error"
    INVALID_PATH = "invalid_path"
    TOO_MANY_PARAMETERS = "too_many_parameters"
    UNKNOWN_PARAMETER = "unknown_parameter"
    REPEATED_PARAMETER = "repeated_parameter"
    INVALID_CURSOR = "invalid_cursor"
    TOO_MANY_BUCKETS = "too_many_buckets"
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
    INVALID_CONSISTENCY_TOKEN = "invalid_consistency_token"  # noqa: S105 (a problem code)
    UNKNOWN_REFERENCE = "unknown_reference"
    CORS_NOT_ALLOWED = "cors_not_allowed"
    HTTP_400 = "http_400"
    URI_TOO_LONG = "uri_too_long"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    # Who is asking
    UNAUTHORIZED = "unauthorized"
    HTTP_401 = "http_401"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    RATE_LIMITED = "rate_limited"
    # What the request is about
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    DUPLICATE_ARTICLE = "duplicate_article"
    STILL_REFERENCED = "still_referenced"
    BODY_IS_CITED = "body_is_cited"
    CANDIDATE_SETTLED = "candidate_settled"
    PRECONDITION_REQUIRED = "precondition_required"
    PRECONDITION_FAILED = "precondition_failed"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    CHANGES_EXPIRED = "changes_expired"
    TOO_MANY_WEBHOOKS = "too_many_webhooks"
    # The server
    INTERNAL_ERROR = "internal_error"
    DATABASE_UNAVAILABLE = "database_unavailable"
    DATABASE_TIMEOUT = "database_timeout"
    TRANSACTION_CONFLICT = "transaction_conflict"
    EXPORT_BUSY = "export_busy"
    STREAM_BUSY = "stream_busy"
    MIGRATIONS_PENDING = "migrations_pending"


@dataclass(frozen=True, slots=True)
class ProblemType:
    statuses: tuple[int, ...]
    title: str
    meaning: str


def _entry(statuses: int | tuple[int, ...], title: str, meaning: str) -> ProblemType:
    return ProblemType(statuses if isinstance(statuses, tuple) else (statuses,), title, meaning)


PROBLEM_TYPES: Final[Mapping[ProblemCode, ProblemType]] = MappingProxyType(
    {
        ProblemCode.VALIDATION_ERROR: _entry(
            (400, 422),
            "Invalid request",
            "A query, path or header value (400) or the request body (422) is malformed or "
            "breaks a rule; `errors` (or, for a single field, `detail`) says which and why: fix "
            "those and send again.",
        ),
        ProblemCode.INVALID_PATH: _entry(
            400,
            "Invalid path",
            "The request path is not valid UTF-8 once percent-decoded, or holds a NUL (`%00`); "
            "fix the URL.",
        ),
        ProblemCode.TOO_MANY_PARAMETERS: _entry(
            400,
            "Too many query parameters",
            "The query string has more parameters (repeats included) than the server accepts, "
            "as `detail` says; send fewer.",
        ),
        ProblemCode.UNKNOWN_PARAMETER: _entry(
            400,
            "Unknown query parameter",
            "A query parameter the endpoint does not define (`detail` lists those it accepts); "
            "check its spelling, or drop it.",
        ),
        ProblemCode.REPEATED_PARAMETER: _entry(
            400,
            "Repeated query parameter",
            "A query parameter that takes a single value was given more than once; send it once.",
        ),
        ProblemCode.INVALID_CURSOR: _entry(
            400,
            "Invalid cursor",
            "The `cursor` is malformed, altered, not one this API issued, or from a different "
            "query; repeat the same filters with the cursor the previous page gave, or start "
            "again without one.",
        ),
        ProblemCode.TOO_MANY_BUCKETS: _entry(
            400,
            "Too many buckets",
            "A histogram's axis would hold more buckets than one response may (`detail` gives "
            "the limit): choose a longer `interval`, or narrow the range with `from` and `to` "
            "or a filter.",
        ),
        ProblemCode.INVALID_IDEMPOTENCY_KEY: _entry(
            400,
            "Invalid idempotency key",
            "The `Idempotency-Key` header is empty, too long or not visible ASCII (`detail` "
            "gives the rule); send a valid key, such as a UUID.",
        ),
        ProblemCode.INVALID_CONSISTENCY_TOKEN: _entry(
            400,
            "Invalid consistency token",
            "The `Consistency-Token` header is not a token a write's answer gave (a WAL "
            "position such as `16/B374D848`), or was sent more than once; send it back as "
            "received, or not at all.",
        ),
        ProblemCode.UNKNOWN_REFERENCE: _entry(
            (400, 422),
            "Unknown reference",
            "An id or slug the request refers to, in a query parameter (400) or in the body "
            "(422), matches nothing; `errors` lists each unknown one: correct it, or create "
            "what it refers to first.",
        ),
        ProblemCode.CORS_NOT_ALLOWED: _entry(
            400,
            "Cross-origin request not allowed",
            "A CORS preflight from an origin, or for a method or header, that the server does "
            "not allow (`detail` says which); have the origin configured, or send only what "
            "is allowed.",
        ),
        ProblemCode.HTTP_400: _entry(
            400,
            "Bad Request",
            "The request body could not be read at all, typically because the connection broke "
            "off while it was being sent; send the request again.",
        ),
        ProblemCode.URI_TOO_LONG: _entry(
            414,
            "URI too long",
            "The path and query together are longer than the server accepts, as `detail` says; "
            "shorten the query, for instance with fewer filter values per request.",
        ),
        ProblemCode.PAYLOAD_TOO_LARGE: _entry(
            413,
            "Payload too large",
            "The request body is larger than the server accepts, as `detail` says; send a "
            "smaller body.",
        ),
        ProblemCode.UNSUPPORTED_MEDIA_TYPE: _entry(
            415,
            "Unsupported media type",
            "The operation takes a JSON body and the request's `Content-Type` is missing or not "
            "JSON; send `Content-Type: application/json` (`Accept-Post` or `Accept-Patch` says "
            "so too).",
        ),
        ProblemCode.UNAUTHORIZED: _entry(
            401,
            "Unauthorized",
            "No API key (on /metrics: no metrics token), or one that is not valid or has been "
            "revoked; send `Authorization: Bearer <key>` with a valid key.",
        ),
        ProblemCode.HTTP_401: _entry(
            401,
            "Unauthorized",
            "The server could not read a file of its interactive docs (/docs/assets): a fault "
            "in the deployment, not in the request's credentials; report it.",
        ),
        ProblemCode.INSUFFICIENT_SCOPE: _entry(
            403,
            "Insufficient scope",
            "The API key is valid but lacks the scope the operation needs (`detail` names it); "
            "use a key with that scope.",
        ),
        ProblemCode.RATE_LIMITED: _entry(
            429,
            "Rate limited",
            "The budget of requests for this API key, or for this client address without one, "
            "is spent; wait the `Retry-After` seconds (the `RateLimit` header says where the "
            "client stands).",
        ),
        ProblemCode.NOT_FOUND: _entry(
            404,
            "Not found",
            "Nothing has this id or slug, or no route matches the path; check the identifier "
            "or the URL.",
        ),
        ProblemCode.METHOD_NOT_ALLOWED: _entry(
            405,
            "Method not allowed",
            "The path exists but does not take this method; the `Allow` header lists those it "
            "takes.",
        ),
        ProblemCode.CONFLICT: _entry(
            409,
            "Conflict",
            "Another resource already has this slug or other unique value (`existing`, when "
            "present, is its path); choose another value, or change that resource instead.",
        ),
        ProblemCode.DUPLICATE_ARTICLE: _entry(
            409,
            "Duplicate article",
            "An article with the same URL or the same text already exists; `existing` is its "
            "path: update that one instead of creating it again.",
        ),
        ProblemCode.STILL_REFERENCED: _entry(
            409,
            "Still referenced",
            "The resource to delete is still referred to by others (`detail` counts them); "
            "delete those first, or repeat the request with `cascade=true`.",
        ),
        ProblemCode.BODY_IS_CITED: _entry(
            409,
            "Body is cited",
            "The article's body cannot change while evidence items or curated mentions point "
            "into it by character offsets (`detail` counts them); remove those first.",
        ),
        ProblemCode.CANDIDATE_SETTLED: _entry(
            409,
            "Candidate settled",
            "The candidate was accepted already, as the entity `detail` names: it cannot be "
            "rejected, nor accepted as another entity (edit the entity, or resolve its "
            "mentions with `PATCH /v1/articles/{article}/mentions/{mention}`, instead).",
        ),
        ProblemCode.PRECONDITION_REQUIRED: _entry(
            428,
            "Precondition required",
            "A change or delete needs `If-Match` with the ETag of the resource as you read it; "
            "read it, and send its ETag.",
        ),
        ProblemCode.PRECONDITION_FAILED: _entry(
            412,
            "Precondition failed",
            "The resource changed since you read it (`If-Match` names an older version, or a "
            "concurrent request changed it first); read it again, reapply your change and send "
            "the new ETag.",
        ),
        ProblemCode.IDEMPOTENCY_KEY_REUSED: _entry(
            422,
            "Idempotency key reused",
            "This `Idempotency-Key` was used for a different request (`detail` names it); use "
            "a new key for a new request.",
        ),
        ProblemCode.TOO_MANY_WEBHOOKS: _entry(
            409,
            "Too many webhooks",
            "The server keeps as many webhooks as it allows (every write is sent to each "
            "one); delete one you no longer need, or send several resource types to one.",
        ),
        ProblemCode.INTERNAL_ERROR: _entry(
            500,
            "Internal error",
            "The server failed unexpectedly and logged it with the `request_id`; retry, and "
            "report the `request_id` if it persists.",
        ),
        ProblemCode.DATABASE_UNAVAILABLE: _entry(
            503,
            "Database unavailable",
            "The database cannot be reached, or every connection is busy; retry after the "
            "`Retry-After` seconds.",
        ),
        ProblemCode.DATABASE_TIMEOUT: _entry(
            503,
            "Database timeout",
            "The database did not finish the query within the statement timeout; retry after "
            "the `Retry-After` seconds, or narrow the query.",
        ),
        ProblemCode.TRANSACTION_CONFLICT: _entry(
            503,
            "Transaction conflict",
            "The request's transaction kept colliding with concurrent ones (a deadlock or a "
            "serialization failure) and was rolled back, so nothing changed; the server had "
            "already tried again. Retry after the `Retry-After` seconds.",
        ),
        ProblemCode.CHANGES_EXPIRED: _entry(
            410,
            "Changes expired",
            "The change feed no longer keeps the changes after this cursor (they are kept for "
            "`change_retention_days`); read everything again from `GET /v1/export`, then follow "
            "the feed from a fresh cursor.",
        ),
        ProblemCode.EXPORT_BUSY: _entry(
            503,
            "Exports busy",
            "The server is running as many exports as it allows at once; retry after the "
            "`Retry-After` seconds.",
        ),
        ProblemCode.STREAM_BUSY: _entry(
            503,
            "Change streams busy",
            "The server has as many change streams open as it serves at once; retry after the "
            "`Retry-After` seconds, or poll `GET /v1/changes`.",
        ),
        ProblemCode.MIGRATIONS_PENDING: _entry(
            503,
            "Migrations pending",
            "Readiness only: the database schema is behind the server's latest migration; the "
            "operator runs `newsgraph migrate upgrade`.",
        ),
    }
)

_unregistered = [code for code in ProblemCode if code not in PROBLEM_TYPES]
if _unregistered:  # at import, so a code without an entry never reaches a client
    raise RuntimeError(f"problem codes without an entry in PROBLEM_TYPES: {_unregistered}")


def status_of(code: ProblemCode, status: int | None = None) -> int:
    """The status `code` is answered with: its only one, or `status`, which must be one of its
    statuses (and must be given for a code with several)."""
    statuses = PROBLEM_TYPES[code].statuses
    if status is None:
        if len(statuses) > 1:
            raise ValueError(f"{code} is answered with {statuses}: say which")
        return statuses[0]
    if status not in statuses:
        raise ValueError(f"{code} is answered with {statuses}, not {status}")
    return status


def problems_page() -> str:
    """docs/problems.md: every code as a Markdown table."""
    lines = [
        "# Problem codes",
        "",
        "<!-- Generated from api/shared/problems.py by `newsgraph problems`: edit the registry,",
        "     not this page (a test fails when the two differ). -->",
        "",
        "Every error the API answers is an RFC 9457 `application/problem+json` body whose `code`",
        f"is one of these, and whose `type` is `{PROBLEM_TYPE_BASE}<code>`. Codes are",
        "stable: a client can branch on `code`; `detail` is for people and may change. The",
        "body's `title` is the status's reason phrase (`Conflict`); the titles here name codes.",
        "",
        "| Code | Status | Title | Meaning |",
        "| --- | --- | --- | --- |",
    ]
    for code in ProblemCode:
        entry = PROBLEM_TYPES[code]
        statuses = ", ".join(str(status) for status in entry.statuses)
        meaning = entry.meaning.replace("|", "\\|")
        lines.append(f"| `{code}` | {statuses} | {entry.title} | {meaning} |")
    return "\n".join(lines) + "\n"
