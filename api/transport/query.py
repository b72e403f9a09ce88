"""Strict query strings: an unknown or wrongly repeated parameter is a 400, never ignored."""

import typing
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.shared.errors import FieldError, ProblemError
from api.shared.problems import ProblemCode

_SEQUENCES = (list, tuple, set, frozenset)


def _is_sequence(annotation: object) -> bool:
    origin = typing.get_origin(annotation)
    if origin in _SEQUENCES:
        return True
    return any(_is_sequence(arg) for arg in typing.get_args(annotation))


def _query_params(dependant: Dependant) -> list[Any]:
    params = list(dependant.query_params)
    for sub in dependant.dependencies:
        params.extend(_query_params(sub))
    return params


_CACHE_ATTRIBUTE = "_newsgraph_declared_query"


def _documented(route: APIRoute) -> list[dict[str, Any]]:
    """The query parameters a route documents itself (`openapi_extra`) rather than declares:
    those its handler reads only when present (api/shared/params.py: `list_parameters`)."""
    parameters = (route.openapi_extra or {}).get("parameters", [])
    return [p for p in parameters if isinstance(p, dict) and p.get("in") == "query"]


def _declared(route: APIRoute) -> tuple[frozenset[str], frozenset[str]]:
    """The query parameter names a route accepts, and those it accepts more than once."""
    cached: tuple[frozenset[str], frozenset[str]] | None = getattr(route, _CACHE_ATTRIBUTE, None)
    if cached is None:
        params = _query_params(route.dependant)
        documented = _documented(route)
        names = frozenset(param.alias for param in params) | {p["name"] for p in documented}
        repeatable = frozenset(
            param.alias for param in params if _is_sequence(param.field_info.annotation)
        ) | {p["name"] for p in documented if p.get("schema", {}).get("type") == "array"}
        cached = (names, repeatable)
        # Routes are unhashable, so the answer is kept on the route itself.
        setattr(route, _CACHE_ATTRIBUTE, cached)
    return cached


def reject_unknown_parameters(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    accepted, repeatable = _declared(route)
    given = request.query_params.multi_items()
    unknown = sorted({name for name, _ in given} - accepted)
    if unknown:
        raise ProblemError(
            ProblemCode.UNKNOWN_PARAMETER,
            f"Unknown query parameter: {', '.join(unknown)}. "
            f"This endpoint accepts: {', '.join(sorted(accepted)) or 'none'}.",
            errors=[
                FieldError(
                    location="query",
                    field=name,
                    message="not a parameter of this endpoint",
                    type="unknown_parameter",
                )
                for name in unknown
            ],
        )
    names = [name for name, _ in given]
    repeated = sorted({n for n in names if names.count(n) > 1 and n not in repeatable})
    if repeated:
        raise ProblemError(
            ProblemCode.REPEATED_PARAMETER,
            f"Query parameter given more than once: {', '.join(repeated)}.",
            errors=[
                FieldError(
                    location="query",
                    field=name,
                    message="accepts a single value",
                    type="repeated_parameter",
                )
                for name in repeated
            ],
        )
