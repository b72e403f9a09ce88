"""CORS for the configured origins (NEWSGRAPH_CORS_ORIGINS), refusing a preflight it does not
allow with problem details rather than Starlette's plain-text 400."""

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from api.shared.errors import REQUEST_ID_HEADER, ProblemError, problem_response
from api.shared.problems import ProblemCode

ALLOWED_METHODS = ["GET", "POST", "PATCH", "DELETE", "OPTIONS"]
ALLOWED_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    REQUEST_ID_HEADER,
]
# What a browser script may read from a response.
EXPOSED_HEADERS = [
    "ETag",
    "Link",
    "Location",
    REQUEST_ID_HEADER,
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
]


class ProblemCORSMiddleware(CORSMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            headers = Headers(scope=scope)
            if "origin" in headers and "access-control-request-method" in headers:
                response = self.preflight_response(request_headers=headers)
                if response.status_code == 400:
                    refused = bytes(response.body).decode().removeprefix("Disallowed CORS ")
                    problem = ProblemError(
                        ProblemCode.CORS_NOT_ALLOWED,
                        f"This cross-origin request is not allowed (its {refused}).",
                    )
                    response = problem_response(Request(scope), problem)
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
