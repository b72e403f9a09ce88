"""Reads matched below FastAPI's router: the same handler, checks, session and errors, without
the router's per-request work.

FastAPI (0.165) finds a request's route by walking each included router's effective routes,
then solves the route's dependencies one parameter at a time through its generic machinery
(exit stacks, dependency cache, override lookups). On `GET /v1/articles/{id}` that is about a
third of the request's CPU, more than the handler's own statement. `FastReads` sits where the
router is, innermost in the app (inside the exception handlers and every middleware), and
answers a GET itself when the route it matches is a plain read:

- an ApiRoute answering GET with a handler that returns a `Response`;
- whose only dependency is the request's session (`SessionDep`), and whose other parameters
  are the `Request`, path and query parameters: no header, cookie or body parameter, no
  security scheme.

For those it matches the path against the routes in the router's own order (indexed by the
path's first two segments), validates the path and query parameters with FastAPI's own
`request_params_to_args` (the function `solve_dependencies` calls; a query parameter the
request leaves out takes a copy of its default, as there), and runs the handler
through `serve` (api/shared/routing.py), as the route itself does: the request checks (400 on
an unknown parameter, read access), read replicas, the session ended before the response is
sent. An error the handler raises goes to the app's exception handlers, as it would from the
route.

Everything else goes to FastAPI's router unchanged, so every answer this path does not give
comes from one place: a parameter that does not validate (FastAPI's 400 or 422, with its
wording), a route that matches only for another method (405), no route (404), a route
with other dependencies, an app with dependency overrides (tests), a request under a root
path. tests/shared/test_fast_reads.py compares the two paths' answers byte for byte.

A HEAD is served here as the GET it stands for, whichever path answers it, with the body
left out (`_head`).
"""

import copy
import inspect
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from re import Pattern
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi._compat import ModelField
from fastapi.dependencies import utils as dependency_utils
from fastapi.dependencies.utils import request_params_to_args
from fastapi.routing import iter_route_contexts
from starlette.convertors import Convertor
from starlette.datastructures import QueryParams
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.shared.deps import get_session
from api.shared.routing import ApiRoute, serve

_Endpoint = Callable[..., Coroutine[Any, Any, Response]]


@dataclass(frozen=True, slots=True)
class _Route:
    """One route as this path sees it: its full path's pattern, and when it is a plain read,
    what its handler is called with (`read` None otherwise: the router answers)."""

    literal_prefix: str  # the path up to its first parameter; a mount's whole path
    regex: Pattern[str] | None  # None for a mount
    convertors: dict[str, Convertor[Any]]
    methods: frozenset[str]
    read: "_Read | None"


@dataclass(frozen=True, slots=True)
class _QueryField:
    """A query parameter of a plain read, and what it takes when a request leaves it out."""

    field: ModelField
    keys: tuple[str, ...]  # the query keys that give it (its alias, or alias choices)
    # Validated even when left out (required, a default to validate, a parameter model):
    # FastAPI's to answer. Otherwise a copy of its default, as FastAPI gives it.
    always: bool


def _query_field(field: ModelField) -> _QueryField:
    aliases = getattr(dependency_utils, "_get_param_aliases", None)
    param_model = getattr(dependency_utils, "_get_param_model", None)
    if aliases is None or param_model is None:  # FastAPI changed: validate every parameter
        return _QueryField(field, (), always=True)
    always = (
        field.field_info.is_required()
        or bool(field.field_info.validate_default)
        or param_model(field) is not None
    )
    return _QueryField(field, tuple(key for _, key in aliases(field)), always=always)


@dataclass(frozen=True, slots=True)
class _Read:
    route: ApiRoute
    session_names: tuple[str, ...]  # the handler's parameters that take the session
    query_fields: tuple[_QueryField, ...]

    def query_values(self, query: QueryParams) -> tuple[dict[str, Any], list[Any]]:
        """The query parameters' values, or FastAPI's errors, as `request_params_to_args`
        gives them: it validates the parameters the request gives (and those it must); one
        the request leaves out takes a copy of its default, as FastAPI gives it. (Validating
        every declared parameter was a tenth of the events list's CPU: twelve parameters, a
        request gives three.)"""
        given: list[ModelField] = []
        defaults: dict[str, Any] = {}
        for declared in self.query_fields:
            if declared.always or any(key in query for key in declared.keys):
                given.append(declared.field)
            else:
                defaults[declared.field.name] = copy.deepcopy(declared.field.default)
        values, errors = request_params_to_args(given, query)
        return defaults | values, errors

    async def handler(self, request: Request, values: dict[str, Any]) -> Response:
        arguments = dict(values)
        if self.route.dependant.request_param_name is not None:
            arguments[self.route.dependant.request_param_name] = request
        if self.session_names:
            # One session however many parameters ask for it, as FastAPI caches a dependency.
            session = await get_session(request)
            for name in self.session_names:
                arguments[name] = session
        endpoint: _Endpoint = self.route.endpoint
        return await endpoint(**arguments)


def _plain_read(route: Any) -> _Read | None:
    """What a plain read's handler takes, or None when the route is not one."""
    if not isinstance(route, ApiRoute) or "GET" not in (route.methods or ()):
        return None
    dependant = route.dependant
    if (
        dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    ):
        return None
    if any(sub.call is not get_session or sub.name is None for sub in dependant.dependencies):
        return None
    returns = inspect.signature(route.endpoint, eval_str=True).return_annotation
    if not (isinstance(returns, type) and issubclass(returns, Response)):
        return None  # FastAPI would serialise what it returns through the response model
    return _Read(
        route,
        tuple(str(sub.name) for sub in dependant.dependencies),
        tuple(_query_field(field) for field in dependant.query_params),
    )


def _segments_key(path: str) -> str:
    """A path's first two segments (`/v1/articles` of `/v1/articles/abc`): the index's key."""
    return "/".join(path.split("/", 3)[:3])


class FastReads:
    """The app's innermost layer, in place of its router: plain reads answered here, the rest
    handed to `router`."""

    def __init__(self, app: FastAPI, router: ASGIApp) -> None:
        self.app = app
        self.router = router
        # key -> the routes a path with that key may match, in the router's order.
        self._candidates: dict[str, tuple[_Route, ...]] = {}
        self._anywhere: tuple[_Route, ...] = ()  # routes whose key their pattern leaves open
        self._index(app.routes)

    def _index(self, routes: Sequence[Any]) -> None:
        ordered: list[tuple[str | None, _Route]] = []
        for context in iter_route_contexts(routes):
            original = context.original_route
            path = context.path or ""
            methods = getattr(original, "methods", None)
            if not methods:
                # A mount: whatever starts with its path is its, and the router's to answer.
                fixed = path.count("/") >= 2
                route = _Route(path, None, {}, frozenset(), None)
            else:
                regex, _, convertors = compile_path(path)
                literal_prefix = path.split("{", 1)[0]
                # The key is fixed when the literal part covers the first two segments.
                fixed = "{" not in path or literal_prefix.count("/") >= 3
                read = _plain_read(original)
                route = _Route(literal_prefix, regex, convertors, frozenset(methods), read)
            ordered.append((_segments_key(route.literal_prefix) if fixed else None, route))
        keys = {key for key, _ in ordered if key is not None}
        self._candidates = {
            key: tuple(route for k, route in ordered if k in (key, None)) for key in keys
        }
        self._anywhere = tuple(route for k, route in ordered if k is None)

    def plain_reads(self) -> list[ApiRoute]:
        """The routes answered here (for tests and docs)."""
        seen: dict[int, ApiRoute] = {}
        for routes in self._candidates.values():
            for route in routes:
                if route.read is not None:
                    seen.setdefault(id(route.read.route), route.read.route)
        return list(seen.values())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":
            await self._head(scope, receive, send)
            return
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or scope.get("root_path")
            or self.app.dependency_overrides
        ):
            await self.router(scope, receive, send)
            return
        path: str = scope["path"]
        for route in self._candidates.get(_segments_key(path), self._anywhere):
            if route.regex is None:
                if path.startswith(route.literal_prefix):
                    break  # a mount's: the router answers
                continue
            match = route.regex.match(path)
            if match is None:
                continue
            if "GET" not in route.methods:
                continue  # the router, too, looks on for a route that takes GET
            if route.read is not None:
                await self._serve(route, route.read, match.groupdict(), scope, receive, send)
                return
            break
        await self.router(scope, receive, send)

    async def _head(self, scope: Scope, receive: Receive, send: Send) -> None:
        """HEAD as RFC 9110 has it: the GET's status and headers (its `Content-Length`, `ETag`,
        304 for a matching `If-None-Match`), without the body. FastAPI's routes take only the
        methods they declare, so HEAD was a 405 on every read. The request is served as a GET
        (the middlewares outside, the access log and the metrics, still see HEAD). The answer
        is complete with its headers: its first body message goes on empty and final. A
        stream (the export, the change stream) then hears `http.disconnect`, as ASGI has the
        server answer a `receive` after the response, and stops as after a hang-up, its
        connection and its place given back, instead of running to its end for nobody."""
        answered = False

        async def send_headers_only(message: Message) -> None:
            nonlocal answered
            if answered:
                return
            if message["type"] == "http.response.body":
                answered = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        # A scope of its own: the server reads the method in the scope it made as the answer
        # goes out (uvicorn frames a GET's body, and sends none for a HEAD). What the layers
        # inside add to it (the route, for the metrics outside) is handed back.
        as_get = {**scope, "method": "GET"}
        try:
            await self(as_get, receive, send_headers_only)
        finally:
            scope.update((key, value) for key, value in as_get.items() if key != "method")

    async def _serve(
        self,
        route: _Route,
        read: _Read,
        matched: dict[str, str],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        path_params = {
            name: route.convertors[name].convert(value) for name, value in matched.items()
        }
        request = Request(scope, receive, send)
        dependant = read.route.dependant
        path_values, path_errors = request_params_to_args(dependant.path_params, path_params)
        query_values, query_errors = read.query_values(request.query_params)
        if path_errors or query_errors:
            # FastAPI words the problem (and checks the request before it).
            await self.router(scope, receive, send)
            return
        scope["path_params"] = path_params
        scope["route"] = read.route
        scope["endpoint"] = read.route.endpoint
        scope.setdefault("router", self.app.router)
        values = {**path_values, **query_values}

        async def handler(request: Request) -> Response:
            return await read.handler(request, values)

        response = await serve(request, handler, replica_reads=read.route.replica_reads)
        await response(scope, receive, send)
