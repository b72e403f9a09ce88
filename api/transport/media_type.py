"""Request bodies are JSON: any other (or no) Content-Type is a 415, whatever the body holds.

Without this a form, a text/plain body or a body without a Content-Type reached validation as
raw bytes and came back as a 422 about the body's shape, which sends the client looking in
the wrong place.
"""

from fastapi import Request
from fastapi.routing import APIRoute

from api.shared.errors import ProblemError
from api.shared.problems import ProblemCode

_ACCEPT_HEADERS = {"POST": "Accept-Post", "PATCH": "Accept-Patch"}


def is_json(content_type: str | None) -> bool:
    """`application/json` or a structured `+json` type such as `application/merge-patch+json`,
    with any parameters: the types FastAPI parses as JSON."""
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    kind, _, subtype = media_type.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def require_json_body(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return
    content_type = request.headers.get("content-type")
    if is_json(content_type):
        return
    given = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
    header = _ACCEPT_HEADERS.get(request.method)
    raise ProblemError(
        ProblemCode.UNSUPPORTED_MEDIA_TYPE,
        f"This operation takes a JSON body (Content-Type: application/json); "
        f"the request has {given}.",
        headers={header: "application/json"} if header else None,
    )
