"""One pure-ASGI middleware for the access log line and the request metrics of every request:
one clock read at each end and one wrapped `send`, whatever is enabled."""

import logging
import time

from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.shared.auth import KEY_PREFIX
from api.transport.logs import current_request_id
from api.transport.metrics import NO_ROUTE, HttpMetrics
from api.transport.ratelimit import bearer_token

access_log = logging.getLogger("newsgraph.access")
logger = logging.getLogger(__name__)

_KEY_PREFIX_LENGTH = len(KEY_PREFIX) + 6  # what `newsgraph apikey list` shows
_LOGGED_PATH_LENGTH = 2048


class RouteTemplates:
    """The template of the route that served a request (`/v1/sources/{source}`), for labels.

    FastAPI hands over the route object, whose own path lacks the prefixes of the routers it
    was included through; the app's route contexts know the full one. Looked up once per
    route, so there is one label per route.
    """

    def __init__(self) -> None:
        self._known: dict[int, str] = {}

    def of(self, scope: Scope, root_path_before: str) -> str:
        route = scope.get("route")
        if route is None:
            root_path: str = scope.get("root_path", "")
            if root_path != root_path_before:  # a mounted app (the docs assets) served it
                return root_path[len(root_path_before) :] + "/{path}"
            return NO_ROUTE
        template = self._known.get(id(route))
        if template is None:
            # A route not seen yet (the first request, or one added since): map them all.
            for context in iter_route_contexts(scope["app"].routes):
                self._known.setdefault(
                    id(context.original_route), str(context.path_format or context.path)
                )
            template = self._known.setdefault(id(route), NO_ROUTE)
        return template


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = RouteTemplates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        root_path = scope.get("root_path", "")
        request_id = scope.get("state", {}).get("request_id")
        context = current_request_id.set(request_id)
        status = 0

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_and_watch)
        except Exception:
            if status:
                # The response had started (a stream failed): no error handler ran, so the
                # traceback is logged here, with the request id.
                logger.exception("unhandled error while sending %s", scope["path"])
            else:
                status = 500  # what the error handler outside this middleware answers
            raise
        finally:
            seconds = time.perf_counter() - started
            # No status at all: the request was cancelled (the client went away, or shutdown
            # gave up on it): 499, as nginx logs it.
            status = status or 499
            self.metrics.in_flight.dec()
            route = self.routes.of(scope, root_path)
            self.metrics.observe(scope["method"], route, status, seconds)
            if access_log.isEnabledFor(logging.INFO):
                _log_access(scope, route, status, seconds, request_id)
            current_request_id.reset(context)


def _log_access(
    scope: Scope, route: str, status: int, seconds: float, request_id: str | None
) -> None:
    method, path = scope["method"], scope["path"][:_LOGGED_PATH_LENGTH]
    duration_ms = round(seconds * 1000, 2)
    fields: dict[str, object] = {
        "request_id": request_id,
        "method": method,
        "path": path,
        "route": route,
        "status": status,
        "duration_ms": duration_ms,
        "client": scope["client"][0] if scope.get("client") else None,
    }
    token = bearer_token(scope)
    if token is not None and token.startswith(KEY_PREFIX):
        fields["key_prefix"] = token[:_KEY_PREFIX_LENGTH]
    # The path is percent-decoded: a %0A in it must not start a forged line of a text log.
    shown = path if path.isprintable() else path.encode("unicode_escape").decode()
    access_log.info("%s %s %d %.1f ms", method, shown, status, duration_ms, extra=fields)
