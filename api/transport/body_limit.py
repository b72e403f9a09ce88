"""The request body limit: 413 problem+json, without reading more than the limit.

A declared Content-Length over the limit is refused before any of the body is read; a body
sent without one (chunked) is counted as it arrives and refused as soon as it passes the
limit. (Starlette's own limiter answers in plain text, not problem details.)
"""

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.shared.errors import ProblemError, problem_response
from api.shared.problems import ProblemCode


def _too_large(limit: int) -> str:
    return f"The request body is larger than the {limit} bytes this API accepts."


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            problem = ProblemError(ProblemCode.PAYLOAD_TOO_LARGE, _too_large(self.max_bytes))
            await problem_response(Request(scope), problem)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI lets an HTTPException raised while reading the body through,
                    # and api.shared.errors turns it into problem details.
                    raise HTTPException(413, _too_large(self.max_bytes))
            return message

        await self.app(scope, limited_receive, send)
