"""RFC 9457 problem details for every error the API returns.

    ProblemError            raised by handlers and services; carries status, code, detail
    ├── NotFound            404 not_found
    └── (others later: Conflict 409, PreconditionFailed 412, ...)

Framework errors are translated too: Starlette's HTTPException (unknown route, wrong method),
FastAPI's RequestValidationError (400 for query/path/header, 422 for a body), an unreachable
database (503 with Retry-After) and anything unexpected (500, logged, never a traceback).
"""

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.request_id import REQUEST_ID_HEADER, request_id_of

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://newsgraph.dev/problems/"


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
    code: str = Field(description="A stable machine-readable error code.")
    instance: str | None = Field(default=None, description="The request path.")
    request_id: str | None = None
    errors: list[FieldError] | None = None
    existing: str | None = Field(
        default=None, description="For a duplicate (409): the path of the resource that exists."
    )


class ProblemError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        errors: Sequence[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        existing: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.existing = existing
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.errors = list(errors) if errors else None
        self.headers = headers or {}


class NotFound(ProblemError):
    def __init__(self, resource: str, key: str) -> None:
        super().__init__(404, "not_found", f"No {resource} with id or slug {key!r}.")


def problem_response(request: Request, error: ProblemError) -> JSONResponse:
    request_id = request_id_of(request)
    problem = Problem(
        type=PROBLEM_TYPE_BASE + error.code,
        title=error.title,
        status=error.status,
        detail=error.detail,
        code=error.code,
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


_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


async def _on_problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)
    return problem_response(request, error)


async def _on_http_exception(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(status).phrase
    if status == 404 and detail == "Not Found":
        detail = f"No route matches {request.method} {request.url.path}."
    problem = ProblemError(
        status, _HTTP_CODES.get(status, f"http_{status}"), detail, headers=dict(error.headers or {})
    )
    return problem_response(request, problem)


def _field_errors(raw: Sequence[Any]) -> list[FieldError]:
    errors = []
    for item in raw:
        location, *path = item.get("loc", ("body",))
        errors.append(
            FieldError(
                location=str(location),
                field=".".join(str(part) for part in path) or str(location),
                message=str(item.get("msg", "invalid value")),
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
    problem = ProblemError(status, "validation_error", f"Invalid request: {names}.", errors=errors)
    return problem_response(request, problem)


async def _on_database_unavailable(request: Request, error: Exception) -> JSONResponse:
    from api.settings import get_settings

    logger.warning("database unavailable: %s", type(error).__name__)
    problem = ProblemError(
        503,
        "database_unavailable",
        "The database is unavailable; retry shortly.",
        headers={"Retry-After": str(get_settings().retry_after_seconds)},
    )
    return problem_response(request, problem)


async def _on_unexpected(request: Request, error: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    problem = ProblemError(
        500, "internal_error", "An unexpected error occurred; it has been logged."
    )
    return problem_response(request, problem)


async def _on_stale_version(request: Request, error: Exception) -> JSONResponse:
    # Two writers passed If-Match with the same version; the version check in the UPDATE
    # let only the first through.
    problem = ProblemError(
        412,
        "precondition_failed",
        "The resource was changed by a concurrent request; read it again and reapply.",
    )
    return problem_response(request, problem)


def _is_connection_error(error: DBAPIError) -> bool:
    return bool(error.connection_invalidated) or isinstance(error.orig, (OSError, ConnectionError))


async def _on_dbapi_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DBAPIError)
    if isinstance(error, (OperationalError, InterfaceError)) or _is_connection_error(error):
        return await _on_database_unavailable(request, error)
    return await _on_unexpected(request, error)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(PoolTimeoutError, _on_database_unavailable)
    # asyncpg raises these unwrapped when it cannot reach the server at all.
    app.add_exception_handler(ConnectionError, _on_database_unavailable)
    app.add_exception_handler(TimeoutError, _on_database_unavailable)
    app.add_exception_handler(DBAPIError, _on_dbapi_error)
    app.add_exception_handler(StaleDataError, _on_stale_version)
    app.add_exception_handler(Exception, _on_unexpected)


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
    answers: problem details, 400 for parameters and 422 only for request bodies."""
    for path in document.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            if "422" not in responses:
                continue
            del responses["422"]
            problem = problem_responses(422 if "requestBody" in operation else 400)
            for status, entry in problem.items():
                responses.setdefault(
                    str(status),
                    {"description": entry["description"], "content": entry["content"]},
                )
    schemas = document.get("components", {}).get("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    return document
