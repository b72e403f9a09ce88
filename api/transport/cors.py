"""CORS for a public read API: any page may read, only the configured origins may write.

Reads are public (unless NEWSGRAPH_REQUIRE_KEY_FOR_READS is set), so a page on any origin
may read them, as any HTTP client already can: every public read (GET, HEAD) answers
`Access-Control-Allow-Origin: *`, whatever its `Origin` and without one, so that a shared
cache keeping the response hands every origin the same one (no `Vary: Origin` needed). There
are no credentials to allow: an API key is a bearer token a script sends in `Authorization`,
never a cookie, so `Access-Control-Allow-Credentials` is never sent.

Writes (POST, PATCH, DELETE), and reads where they need a key, are answered cross-origin only
for the origins in NEWSGRAPH_CORS_WRITE_ORIGINS: such a response names the origin it allows
and says `Vary: Origin`; one to another origin allows none, so the browser refuses to send
the request (its preflight fails) or to show its response. NEWSGRAPH_CORS_PUBLIC_READS=false
puts reads behind that list too: an API on a private network whose pages on the internet must
not read it through a visitor's browser.

Preflights (OPTIONS with `Origin` and `Access-Control-Request-Method`) are answered here,
before routing, so the route's checks (unknown parameters, read access) never see them: 204
with the methods and headers allowed and `Access-Control-Max-Age`, or 400 problem details
(`cors_not_allowed`) saying what was refused, which a developer sees in the browser's network
panel. Starlette's CORSMiddleware keeps one origin list for every method; the split by method
is why this is a middleware of its own.

The headers are added to every response that passes, errors included; the 500 answered
outside every middleware gets them from the request's scope (api.shared.errors).
`/metrics` is left alone: it is for the operator's scraper, not for pages.
"""

from collections.abc import Collection

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.shared.errors import (
    OUTER_HEADERS_KEY,
    REQUEST_ID_HEADER,
    ProblemError,
    problem_response,
)
from api.shared.problems import ProblemCode

READ_METHODS = ("GET", "HEAD")
WRITE_METHODS = ("POST", "PATCH", "DELETE")
# What a script may send beyond the CORS-safelisted headers.
ALLOWED_HEADERS = (
    "Accept",
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "Consistency-Token",  # read-your-writes with read replicas (api/shared/consistency.py)
    REQUEST_ID_HEADER,
)
# What a browser script may read from a response beyond the CORS-safelisted ones
# (Cache-Control, Content-Type, ...).
EXPOSED_HEADERS = (
    "ETag",
    "Link",
    "Location",
    REQUEST_ID_HEADER,
    "RateLimit",
    "RateLimit-Policy",
    "Retry-After",
    "Idempotent-Replayed",
    "Consistency-Token",
)
# Headers a browser never lists in Access-Control-Request-Headers as needing permission
# (for short, plain values; Content-Type only for form and text types, so JSON asks).
_SAFELISTED = frozenset({"accept", "accept-language", "content-language", "content-type"})
# How long a browser may reuse a preflight's answer: a change to the allowed origins reaches
# browsers within ten minutes.
PREFLIGHT_MAX_AGE_SECONDS = 600


_EXPOSE = (b"access-control-expose-headers", ", ".join(EXPOSED_HEADERS).encode())
_ANY_ORIGIN = (b"access-control-allow-origin", b"*")
_VARY_ORIGIN = b"Origin"


class CORSMiddleware:
    """Pure ASGI. `public_reads`: GET and HEAD answer every origin; `write_origins`: the
    origins that may also write (and read, when reads are not public)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        public_reads: bool,
        write_origins: Collection[str],
        exempt_paths: Collection[str] = (),
    ) -> None:
        self.app = app
        self.public_reads = public_reads
        self.write_origins = frozenset(write_origins)
        self.exempt_paths = frozenset(exempt_paths)
        # Built once: what every public read carries, and the answers to preflights.
        self.public_headers = [_ANY_ORIGIN, _EXPOSE]
        allowed = {
            "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_SECONDS),
        }
        self.public_preflight = {
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": ", ".join(READ_METHODS),
            **allowed,
        }
        self.origin_preflight = {
            "Access-Control-Allow-Methods": ", ".join(READ_METHODS + WRITE_METHODS),
            **allowed,
            "Vary": "Origin",
        }
        self.allowed_request_headers = _SAFELISTED | {h.lower() for h in ALLOWED_HEADERS}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if self.public_reads and method in READ_METHODS:
            # The hot path: the request's headers are not even looked at.
            added = self.public_headers
        else:
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if method == "OPTIONS" and origin is not None:
                requested = headers.get("access-control-request-method")
                if requested is not None:
                    response = self.preflight(scope, origin, requested, headers)
                    await response(scope, receive, send)
                    return
            if origin is not None and origin in self.write_origins:
                added = [
                    (b"access-control-allow-origin", origin.encode("latin-1")),
                    _EXPOSE,
                ]
            else:
                added = []
            added.append((b"vary", _VARY_ORIGIN))
        scope[OUTER_HEADERS_KEY] = added

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with(list(message.get("headers", ())), added)
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def preflight(self, scope: Scope, origin: str, method: str, headers: Headers) -> Response:
        """The answer to a preflight for `method` from `origin`: 204 with what is allowed, or
        400 problem details saying what is not."""
        public = self.public_reads and method in READ_METHODS
        if method not in READ_METHODS + WRITE_METHODS:
            return _refused(
                scope,
                f"{method} is not a method of this API; it serves "
                f"{', '.join(READ_METHODS + WRITE_METHODS)}.",
            )
        if not public and origin not in self.write_origins:
            opening = "Reads are not public here: a" if method in READ_METHODS else "A"
            return _refused(
                scope,
                f"{opening} cross-origin {method} is answered only for the origins in "
                f"NEWSGRAPH_CORS_WRITE_ORIGINS, and {origin} is not one of them.",
            )
        asked = headers.get("access-control-request-headers", "")
        refused = [
            name.strip()
            for name in asked.split(",")
            if name.strip() and name.strip().lower() not in self.allowed_request_headers
        ]
        if refused:
            return _refused(
                scope,
                f"Not allowed in a cross-origin request: {', '.join(refused)}. The headers "
                f"allowed are {', '.join(ALLOWED_HEADERS)} and the CORS-safelisted ones.",
            )
        if public:
            return Response(status_code=204, headers=self.public_preflight)
        return Response(
            status_code=204,
            headers={"Access-Control-Allow-Origin": origin, **self.origin_preflight},
        )


def _refused(scope: Scope, detail: str) -> Response:
    return problem_response(Request(scope), ProblemError(ProblemCode.CORS_NOT_ALLOWED, detail))


def _with(
    headers: list[tuple[bytes, bytes]], added: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """`headers` with `added`; a `Vary` the response already has gets `Origin` appended."""
    for name, value in added:
        if name == b"vary":
            for index, (existing, present) in enumerate(headers):
                if existing.lower() == b"vary":
                    headers[index] = (existing, present + b", " + value)
                    break
            else:
                headers.append((name, value))
        else:
            headers.append((name, value))
    return headers
