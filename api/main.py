"""The app factory. create_app builds a complete app from its settings in named steps: its
shared state, the error handlers, the middleware stack, the routes and the OpenAPI contract
(api/contract.py).

Apps are built again and again in one process (tests, a process embedding the API), and
FastAPI caches what it learns about endpoint and dependency functions by identity: nothing
here is a function made per app. The lifespan and the contract document are module-level
functions of the app they are given, reading its state.
"""

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.telemetry import TelemetryConfig
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from api import contract
from api.articles.router import router as articles_router
from api.candidates.router import router as candidates_router
from api.changes.pruning import prune_forever
from api.changes.router import router as changes_router
from api.changes.stream import ChangeHub
from api.disputes.router import router as disputes_router
from api.entities.router import router as entities_router
from api.events.router import router as events_router
from api.export.router import router as export_router
from api.export.stream import ExportSlots
from api.health.router import router as health_router
from api.search.router import router as search_router
from api.settings import Settings, get_settings
from api.shared import errors, fastapi_speedups
from api.shared.auth import key_is_valid, read_access
from api.shared.change_watch import ChangeWatch
from api.shared.fast_reads import FastReads
from api.shared.rows import ReadSession
from api.sources.router import router as sources_router
from api.statements.router import router as statements_router
from api.transport import docs, explore, metrics
from api.transport.body_limit import BodyLimitMiddleware
from api.transport.cors import CORSMiddleware
from api.transport.media_type import require_json_body
from api.transport.observability import ObservabilityMiddleware
from api.transport.query import reject_unknown_parameters
from api.transport.ratelimit import RateLimiter, RateLimitMiddleware
from api.transport.request_id import RequestIdMiddleware
from api.transport.request_line import RequestLineMiddleware
from api.transport.security_headers import SecurityHeadersMiddleware
from api.webhooks.router import deliveries as webhook_deliveries
from api.webhooks.router import router as webhooks_router
from api.webhooks.worker import WebhookWorker, target_policy
from db.migrate import head_revision
from db.replicas import Replica, ReplicaSet, replica_name
from db.session import connection_dsn, create_engine, create_sessionmaker

# Under /v1, in the order the OpenAPI document lists their paths.
_V1_ROUTERS = (
    articles_router,
    candidates_router,
    disputes_router,
    entities_router,
    events_router,
    sources_router,
    statements_router,
    search_router,
    export_router,
    changes_router,
    webhooks_router,
)


# FastAPI's native OpenTelemetry, off unless NEWSGRAPH_OPENTELEMETRY=true: the /metrics
# endpoint and the access log are the API's own observability.
_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    fastapi_speedups.install()
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set; `newsgraph serve` starts a database for you")
    app = _Api(
        title=contract.TITLE,
        version=contract.VERSION,
        summary=contract.SUMMARY,
        description=contract.DESCRIPTION,
        lifespan=_lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # replaced by api.transport.docs, which serves its assets itself
        redoc_url=None,
        generate_unique_id_function=_operation_id,
        telemetry=None if settings.opentelemetry else _NO_TELEMETRY,
    )
    _add_state(app, settings)
    errors.install(app)
    _add_middleware_stack(app, settings)
    docs.install(app)
    explore.install(app)
    _include_routers(app)
    app.openapi = partial(contract.document, app)  # type: ignore[method-assign]
    return app


class _Api(FastAPI):
    """FastAPI with the plain reads matched below its router (api/shared/fast_reads.py)."""

    def build_middleware_stack(self) -> ASGIApp:
        # Built at the first request, when every route is in: FastAPI's stack, with its
        # innermost layer (the exit-stack middleware) calling FastReads in place of the router.
        stack = super().build_middleware_stack()
        layer = stack
        while layer.app is not self.router:  # type: ignore[attr-defined]
            layer = layer.app  # type: ignore[attr-defined]
        self.state.fast_reads = layer.app = FastReads(self, self.router)  # type: ignore[attr-defined]
        return stack


def _operation_id(route: APIRoute) -> str:
    """The handler's name (`list_articles`), so that generated SDKs read well."""
    return route.name


def _add_state(app: FastAPI, settings: Settings) -> None:
    """What the app's requests and its lifespan share, on app.state: the settings, the rate
    limiter, the engine and its session makers, the export slots, and the migration head that
    readiness compares the database with."""
    assert settings.database_url is not None  # create_app refuses an app without one
    # The engine connects lazily, so creating it here costs nothing and an app built without
    # running its lifespan (tests over ASGITransport) is still complete.
    engine = _engine(settings, settings.database_url)
    rate_limiter = (
        RateLimiter(settings, key_is_valid=partial(key_is_valid, engine))
        if settings.rate_limit_enabled
        else None
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.export_slots = ExportSlots(settings)
    app.state.change_watch = ChangeWatch(settings)
    app.state.change_hub = ChangeHub(settings, app.state.change_watch)
    app.state.webhook_targets = target_policy(settings)
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.read_sessionmaker = create_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"), ReadSession
    )
    app.state.migration_head = head_revision()
    app.state.check_request = _check_request
    app.state.rate_limiter = rate_limiter
    app.state.replicas = _replica_set(settings, engine)


def _engine(settings: Settings, url: str) -> AsyncEngine:
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        statement_timeout_ms=settings.db_statement_timeout_ms,
        connect_timeout=settings.db_connect_timeout,
        idle_in_transaction_timeout_ms=settings.db_idle_in_transaction_timeout_ms,
        command_timeout=settings.db_command_timeout,
    )


def _replica_set(settings: Settings, primary: AsyncEngine) -> ReplicaSet | None:
    """The read replicas, or None without any: then nothing on a request's path looks for
    them."""
    if not settings.replica_urls:
        return None
    assert settings.database_url is not None
    replicas = []
    for url in settings.replica_urls:
        engine = _engine(settings, url)
        replicas.append(
            Replica(
                name=replica_name(url),
                dsn=connection_dsn(url),
                engine=engine,
                sessionmaker=create_sessionmaker(
                    engine.execution_options(isolation_level="AUTOCOMMIT"), ReadSession
                ),
            )
        )
    return ReplicaSet(
        primary,
        settings.database_url,
        replicas,
        max_lag=settings.replica_max_lag,
        interval=settings.replica_check_interval,
        timeout=settings.replica_check_timeout,
    )


def _add_middleware_stack(app: FastAPI, settings: Settings) -> None:
    """The middleware stack. Each add_middleware wraps the ones before it, so the first added
    runs innermost; a request passes, from the outside in: request id, observability (with
    /metrics), security headers, CORS, request line, body limit, rate limit."""
    rate_limiter: RateLimiter | None = app.state.rate_limiter
    if rate_limiter is not None:
        app.add_middleware(RateLimitMiddleware, limiter=rate_limiter)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Outside the body limit: a request whose URL is refused is never read further.
    app.add_middleware(
        RequestLineMiddleware,
        max_url_bytes=settings.max_url_bytes,
        max_query_parameters=settings.max_query_parameters,
    )
    if settings.public_reads or settings.cors_write_origins:
        # Outside every middleware that answers a refusal (414, 413, 429, ...), so that a
        # browser can read those too; inside the security headers and the request id, which
        # preflights carry like any response.
        app.add_middleware(
            CORSMiddleware,
            public_reads=settings.public_reads,
            write_origins=settings.cors_write_origins,
            exempt_paths=[metrics.METRICS_PATH],
        )
    app.add_middleware(SecurityHeadersMiddleware, hsts_seconds=settings.hsts_seconds)
    app.add_middleware(
        ObservabilityMiddleware,
        metrics=metrics.install(
            app, token=settings.metrics_token, served_without_token=settings.on_loopback
        ),
    )
    # Added last, so outermost: every response, even a 413, carries the request id.
    app.add_middleware(RequestIdMiddleware)


async def _check_request(request: Request) -> None:
    """What every /v1 request is checked for before its handler and its dependencies run
    (ApiRoute, api/shared/routing.py): unknown query parameters (400), read access (401 when
    the deployment requires a key), a JSON body where the operation takes one (415)."""
    reject_unknown_parameters(request)
    await read_access(request)
    require_json_body(request)


def _include_routers(app: FastAPI) -> None:
    """The probes at the root; the API under /v1, where every operation is an ApiRoute (the
    request checked for unknown query parameters, read access and a JSON body before its
    handler runs: `_check_request`). Each router is
    included in the app itself, not in a /v1 router of its own: FastAPI matches a request
    level by level, and the extra level cost 0.04 ms of CPU on every request."""
    app.include_router(health_router)
    for router in _V1_ROUTERS:
        app.include_router(router, prefix="/v1")
    app.webhooks.include_router(webhook_deliveries)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # What is alive once the app is built (modules, routes, schemas, validators) lives as
    # long as the process. Frozen, the collector's full passes no longer walk it: they were
    # the pauses behind the p99 under load (GET /v1/articles/{id} at 32 connections,
    # p99 135 -> 34 ms; bench/README.md). A process that froze its objects itself (the
    # test session) keeps its own arrangement.
    freezes = gc.get_freeze_count() == 0
    if freezes:
        gc.collect()
        gc.freeze()
    settings: Settings = app.state.settings
    pruning = asyncio.create_task(
        prune_forever(
            app.state.sessionmaker,
            keep=timedelta(days=settings.change_retention_days),
            every=settings.change_prune_interval,
        )
    )
    # The one-machine default: this process sends webhook deliveries too, unless
    # NEWSGRAPH_WEBHOOK_WORKER=false leaves them to `newsgraph worker` processes.
    worker = (
        WebhookWorker(settings, app.state.sessionmaker, watch=app.state.change_watch)
        if settings.webhook_worker
        else None
    )
    sending = asyncio.create_task(worker.run()) if worker is not None else None
    replicas: ReplicaSet | None = app.state.replicas
    if replicas is not None:
        replicas.start()
    try:
        yield
    finally:
        pruning.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pruning
        if worker is not None and sending is not None:
            worker.stop()  # the sends in flight finish, each within the webhook timeout
            await sending
        if freezes:
            gc.unfreeze()
        app.state.export_slots.terminate_all()
        await app.state.change_hub.close()
        await app.state.change_watch.close()
        await app.state.engine.dispose()
        if replicas is not None:
            await replicas.close()
        if app.state.rate_limiter is not None:
            await app.state.rate_limiter.close()
