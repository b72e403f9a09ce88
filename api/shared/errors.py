"""RFC 9457 problem details for every error the API returns.

    ProblemError(code, detail)   raised by handlers, services and middleware; `code` is a
    │                            ProblemCode from api.shared.problems, the registry of every
    │                            code with its status(es), title and meaning; the status comes
    │                            from there (given only for a code with two: 400 or 422)
    └── NotFound                 404 not_found for an id or slug that matches nothing
    problem_response             a ProblemError as the response (middleware answers with it)
    install                      the exception handlers below, on the app
    problem_responses            OpenAPI `responses` entries for error statuses
    document_problems            OpenAPI post-processing: what the API really answers

Framework errors are translated too: Starlette's HTTPException (unknown route, wrong method, a
body over the limit or unreadable), FastAPI's RequestValidationError (400 for query/path/header,
422 for a body), an unreachable or slow database (503 with Retry-After) and anything unexpected
(500, logged, never a traceback).

On the wire, `type` is PROBLEM_TYPE_BASE + code and `title` the status's reason phrase.
"""

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.shared.problems import PROBLEM_TYPE_BASE, ProblemCode, status_of
from api.shared.routing import CONFLICT_SQLSTATES, QUERY_CANCELED
from db.fields import blank_message

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
# Where a middleware leaves the headers it adds to every response it passes (CORS), so that
# the 500 answered outside every middleware (`_on_crash`) carries them too.
OUTER_HEADERS_KEY = "newsgraph.response_headers"

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    location: str = Field(description="Where the bad value is: query, path, header or body.")
    field: str = Field(description="The parameter name, or a dotted path into the body.")
    message: str
    type: str = Field(description="A machine-readable kind of error, e.g. `missing`.")


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = Field(description="A URI identifying the kind of problem.")
    title: str
    status: int
    detail: str
    code: str = Field(
        description="A stable machine-readable error code, the last segment of `type`; "
        "docs/problems.md gives each code's statuses and meaning.",
        json_schema_extra={"enum": [code.value for code in ProblemCode]},
    )
    instance: str | None = Field(default=None, description="The request path.")
    request_id: str | None = None
    errors: list[FieldError] | None = None
    existing: str | None = Field(
        default=None, description="For a duplicate (409): the path of the resource that exists."
    )


class ProblemError(Exception):
    def __init__(
        self,
        code: ProblemCode,
        detail: str,
        *,
        status: int | None = None,
        errors: Sequence[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        existing: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.existing = existing
        self.code = code
        # A status the registry does not give the code raises here, at the raise site.
        self.status = status_of(code, status)
        self.detail = detail
        self.title = HTTPStatus(self.status).phrase
        self.errors = list(errors) if errors else None
        self.headers = headers or {}


class NotFound(ProblemError):
    def __init__(self, resource: str, key: str) -> None:
        super().__init__(ProblemCode.NOT_FOUND, f"No {resource} with id or slug {key!r}.")


def request_id_of(request: Request) -> str | None:
    """The id `api.transport.request_id` gave the request, which every problem carries."""
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


def problem_response(request: Request, error: ProblemError) -> JSONResponse:
    request_id = request_id_of(request)
    problem = Problem(
        type=PROBLEM_TYPE_BASE + error.code.value,
        title=error.title,
        status=error.status,
        detail=error.detail,
        code=error.code.value,
        instance=request.url.path,
        request_id=request_id,
        errors=error.errors,
        existing=error.existing,
    )
    headers = dict(error.headers)
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=error.status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


# Every status an HTTPException has in this app: Starlette's routing and the /docs assets'
# StaticFiles (404, 405), api.transport.body_limit for a body that outgrows the limit (413),
# FastAPI for a body it cannot read at all, as when the client hangs up mid-body (400), and
# StaticFiles for an asset it may not read (401).
_HTTP_CODES: Final[dict[int, ProblemCode]] = {
    400: ProblemCode.HTTP_400,
    401: ProblemCode.HTTP_401,
    404: ProblemCode.NOT_FOUND,
    405: ProblemCode.METHOD_NOT_ALLOWED,
    413: ProblemCode.PAYLOAD_TOO_LARGE,
}


async def _on_problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)
    return problem_response(request, error)


def _unparsable_body(error: StarletteHTTPException) -> ProblemError | None:
    """FastAPI answers a body that `json.loads` cannot even tokenize with a bare 400 (the
    cause chained); such a body is refused like any other malformed JSON: 422, `json_invalid`."""
    if isinstance(error.__cause__, RecursionError):
        message = "JSON nested too deeply"
    elif isinstance(error.__cause__, UnicodeError):
        message = "JSON must be UTF-8 encoded"
    elif isinstance(error.__cause__, ValueError):  # e.g. a number of thousands of digits
        message = "not JSON this API can read"
    else:
        return None
    body = FieldError(location="body", field="body", message=message, type="json_invalid")
    return ProblemError(
        ProblemCode.VALIDATION_ERROR, "Invalid request: body.", status=422, errors=[body]
    )


async def _on_http_exception(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    unparsable = _unparsable_body(error) if error.status_code == 400 else None
    if unparsable is not None:
        return problem_response(request, unparsable)
    status = error.status_code
    code = _HTTP_CODES.get(status)
    if code is None:
        # Every code is registered and in the contract's enum: a status the framework starts
        # raising is a gap to fill in the registry, not a code to make up.
        return await _on_unexpected(request, error)
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(status).phrase
    if status == 404 and detail == "Not Found":
        detail = f"No route matches {request.method} {request.url.path}."
    headers = dict(error.headers or {})
    if status == 405:
        allowed = _allowed_methods(request)
        headers["Allow"] = allowed
        detail = f"{request.method} is not allowed on {request.url.path}; it allows {allowed}."
    problem = ProblemError(code, detail, status=status, headers=headers)
    return problem_response(request, problem)


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path. Starlette's own 405 names only the first
    route whose path matched, and FastAPI makes one route per method, so `Allow` on
    /v1/articles/{article} would say GET alone."""
    methods: set[str] = set()
    # The app's routes include its routers as a whole; iter_route_contexts walks into them.
    for route in iter_route_contexts(request.app.routes):
        path_regex = getattr(route, "path_regex", None)
        if route.methods and path_regex is not None and path_regex.match(request.scope["path"]):
            methods |= route.methods
    if "GET" in methods:
        methods.add("HEAD")  # api/shared/fast_reads.py serves a HEAD as its GET
    return ", ".join(sorted(methods))


def _message(item: Mapping[str, Any]) -> str:
    """pydantic's message, with the check's own words where it has them (as the seed loader
    words it): no "Value error, " before a validator's message, no pattern for blank text."""
    if item.get("type") == "value_error" and "error" in (item.get("ctx") or {}):
        return str(item["ctx"]["error"])
    return blank_message(item) or str(item.get("msg", "invalid value"))


def _field_errors(raw: Sequence[Any]) -> list[FieldError]:
    errors = []
    for item in raw:
        location, *path = item.get("loc", ("body",))
        errors.append(
            FieldError(
                location=str(location),
                field=".".join(str(part) for part in path) or str(location),
                message=_message(item),
                type=str(item.get("type", "value_error")),
            )
        )
    return errors


async def _on_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = _field_errors(error.errors())
    in_body = any(e.location == "body" for e in errors)
    # A malformed query, path or header value is a bad request; a well-formed request whose
    # body fails validation is unprocessable.
    status = 422 if in_body else 400
    names = ", ".join(sorted({e.field for e in errors}))
    problem = ProblemError(
        ProblemCode.VALIDATION_ERROR, f"Invalid request: {names}.", status=status, errors=errors
    )
    return problem_response(request, problem)


def _database_problem(
    request: Request, error: Exception, code: ProblemCode, detail: str
) -> JSONResponse:
    logger.warning("%s: %s", code.value, type(error).__name__)
    retry_after = request.app.state.settings.retry_after_seconds
    problem = ProblemError(code, detail, headers={"Retry-After": str(retry_after)})
    return problem_response(request, problem)


async def _on_database_unavailable(request: Request, error: Exception) -> JSONResponse:
    return _database_problem(
        request,
        error,
        ProblemCode.DATABASE_UNAVAILABLE,
        "The database is unavailable; retry shortly.",
    )


async def _on_unexpected(request: Request, error: Exception) -> JSONResponse:
    # Handled outside every middleware, so the request id is passed along explicitly.
    logger.exception(
        "unhandled error on %s %s",
        request.method,
        request.url.path,
        extra={"request_id": request_id_of(request)},
    )
    problem = ProblemError(
        ProblemCode.INTERNAL_ERROR, "An unexpected error occurred; it has been logged."
    )
    return problem_response(request, problem)


async def _on_crash(request: Request, error: Exception) -> JSONResponse:
    """The 500 for an exception no other handler took, answered by Starlette outside every
    middleware: it gets the headers they would have added from the request's scope."""
    response = await _on_unexpected(request, error)
    response.raw_headers.extend(request.scope.get(OUTER_HEADERS_KEY, ()))
    return response


async def _on_stale_version(request: Request, error: Exception) -> JSONResponse:
    # Two writers passed If-Match with the same version; the version check in the UPDATE
    # let only the first through.
    problem = ProblemError(
        ProblemCode.PRECONDITION_FAILED,
        "The resource was changed by a concurrent request; read it again and reapply.",
    )
    return problem_response(request, problem)


def _is_connection_error(error: DBAPIError) -> bool:
    return bool(error.connection_invalidated) or isinstance(error.orig, (OSError, ConnectionError))


# SQLSTATE classes that mean "not now" rather than "never": 08 connection exception, 53
# insufficient resources (too many connections), 57 operator intervention (the server shutting
# down or starting up, a backend terminated, a statement cancelled).
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57")


async def _on_dbapi_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DBAPIError)
    sqlstate = str(getattr(error.orig, "sqlstate", None) or "")
    if sqlstate in CONFLICT_SQLSTATES:  # what ApiRoute's last attempt still met
        return _database_problem(
            request,
            error,
            ProblemCode.TRANSACTION_CONFLICT,
            "The request collided with concurrent ones and nothing changed; retry shortly.",
        )
    if sqlstate == QUERY_CANCELED:
        return _database_problem(
            request,
            error,
            ProblemCode.DATABASE_TIMEOUT,
            "The database did not finish the query in time; retry shortly.",
        )
    if (
        isinstance(error, (OperationalError, InterfaceError))
        or _is_connection_error(error)
        or sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES
    ):
        return await _on_database_unavailable(request, error)
    return await _on_unexpected(request, error)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(PoolTimeoutError, _on_database_unavailable)
    # asyncpg raises OSErrors unwrapped when it cannot reach the server at all: refused
    # (ConnectionRefusedError), no Unix socket (FileNotFoundError, a stopped embedded server),
    # an unknown host (socket.gaierror), no answer within the connect timeout (TimeoutError).
    app.add_exception_handler(OSError, _on_database_unavailable)
    app.add_exception_handler(DBAPIError, _on_dbapi_error)
    app.add_exception_handler(StaleDataError, _on_stale_version)
    app.add_exception_handler(Exception, _on_crash)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting error statuses with the Problem schema."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def document_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Replace FastAPI's default 422 `HTTPValidationError` entries with what the API really
    answers: problem details, 400 for parameters and 422 only for request bodies; 415 on
    every operation that takes a body (api.transport.media_type requires JSON); and 414 on every
    operation, since api.transport.request_line refuses any URL over the limit before routing."""
    for path in document.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            entry = problem_responses(414)[414]
            responses.setdefault(
                "414", {"description": entry["description"], "content": entry["content"]}
            )
            if "requestBody" in operation:
                entry = problem_responses(415)[415]
                responses.setdefault(
                    "415", {"description": entry["description"], "content": entry["content"]}
                )
            if "422" not in responses:
                continue
            del responses["422"]
            problem = problem_responses(422 if "requestBody" in operation else 400)
            for status, entry in problem.items():
                responses.setdefault(
                    str(status),
                    {"description": entry["description"], "content": entry["content"]},
                )
    # What the API sends to webhooks (`webhooks`): how a receiver refuses a body is its own.
    for item in document.get("webhooks", {}).values():
        for operation in item.values():
            operation.get("responses", {}).pop("422", None)
    schemas = document.get("components", {}).get("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    return document
