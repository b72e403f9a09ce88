"""Limits on the request target, checked before routing: problem details, never a 500.

    too long (path and query over `max_url_bytes`)     414 uri_too_long
    too many query parameters                          400 too_many_parameters
    a path that is not UTF-8, or holds NUL (%00)       400 invalid_path
    a query value or name that is not UTF-8, or NUL    400 validation_error (per parameter)

Servers decode percent-escapes leniently (an invalid UTF-8 sequence becomes U+FFFD, so a
search for `%FF` would silently look for something else), and PostgreSQL refuses NUL in text,
so such values must be refused here rather than reach a query. The common request (short,
ASCII, no `%00`) costs a few byte scans.
"""

from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.shared.errors import FieldError, ProblemError, problem_response
from api.shared.problems import ProblemCode


def _undecodable(raw: bytes) -> str | None:
    """Why the percent-encoded `raw` is no acceptable text, or None when it is."""
    decoded = unquote_to_bytes(raw)
    if b"\x00" in decoded:
        return "nul"
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        return "utf8"
    return None


_MESSAGES = {
    "nul": "must not contain NUL characters (%00)",
    "utf8": "is not valid UTF-8 once percent-decoded",
}


def _path_problem(raw_path: bytes) -> ProblemError | None:
    if b"%" not in raw_path and raw_path.isascii() and b"\x00" not in raw_path:
        return None
    reason = _undecodable(raw_path)
    if reason is None:
        return None
    return ProblemError(ProblemCode.INVALID_PATH, f"The request path {_MESSAGES[reason]}.")


def _query_problem(query_string: bytes) -> ProblemError | None:
    if b"%" not in query_string and query_string.isascii() and b"\x00" not in query_string:
        return None
    errors = []
    for pair in query_string.split(b"&"):
        name, _, value = pair.replace(b"+", b" ").partition(b"=")
        reason = _undecodable(name) or _undecodable(value)
        if reason is not None:
            errors.append(
                FieldError(
                    location="query",
                    field=unquote_to_bytes(name).decode("utf-8", "replace").replace("\x00", ""),
                    message=_MESSAGES[reason],
                    type=reason,
                )
            )
    if not errors:
        return None
    names = ", ".join(sorted({error.field for error in errors}))
    return ProblemError(
        ProblemCode.VALIDATION_ERROR, f"Invalid request: {names}.", status=400, errors=errors
    )


class RequestLineMiddleware:
    """Pure ASGI; placed inside the request id middleware so its answers carry the id."""

    def __init__(self, app: ASGIApp, *, max_url_bytes: int, max_query_parameters: int) -> None:
        self.app = app
        self.max_url_bytes = max_url_bytes
        self.max_query_parameters = max_query_parameters

    def _problem(self, scope: Scope) -> ProblemError | None:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        query_string: bytes = scope.get("query_string", b"")
        if len(raw_path) + len(query_string) + 1 > self.max_url_bytes:
            return ProblemError(
                ProblemCode.URI_TOO_LONG,
                f"The request path and query are longer than the {self.max_url_bytes} bytes "
                "this API accepts.",
            )
        if query_string.count(b"&") >= self.max_query_parameters:
            return ProblemError(
                ProblemCode.TOO_MANY_PARAMETERS,
                f"The query string has more than the {self.max_query_parameters} parameters "
                "this API accepts.",
            )
        # The decoded path can hold a NUL even when raw_path (as some clients send it) does not.
        if "\x00" in scope["path"]:
            return ProblemError(ProblemCode.INVALID_PATH, f"The request path {_MESSAGES['nul']}.")
        return _path_problem(raw_path) or _query_problem(query_string)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = self._problem(scope)
        if problem is not None:
            await problem_response(Request(scope), problem)(scope, receive, send)
            return
        await self.app(scope, receive, send)
