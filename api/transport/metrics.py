"""Prometheus metrics at GET /metrics (text format; not in the OpenAPI document).

    newsgraph_http_requests_total{method,route,status}        every response
    newsgraph_http_server_errors_total{method,route}          5xx responses and crashes
    newsgraph_http_request_duration_seconds{method,route}     histogram, to the last byte
    newsgraph_http_requests_in_flight                         being served now
    newsgraph_db_pool_{size,max_overflow,checked_out,checked_in,overflow}   read at scrape
    newsgraph_rate_limit_storage_failures_total               Redis errors (limiter failed open)
    newsgraph_db_reads_total{target}                          reads by the server that took
                                                              them (`primary` or a replica)
    newsgraph_db_replica_up{replica}                          1 while a replica takes reads
    newsgraph_db_replica_lag_seconds{replica}                 behind the primary, last probe
    newsgraph_db_replica_state{replica,state}                 1 for its state (db/replicas.py)

The reads and replica series exist only with read replicas (NEWSGRAPH_REPLICA_URLS); a
replica is named by host, port and database, never with its credentials.

`route` is the route's template (`/v1/sources/{source}`), never the raw path, so the number
of series stays bounded. It is `none` when no route handled the request: an unknown path
(404), or a request refused before routing (413 too large, 429 rate limited).

Each process counts its own requests (a registry per app). `newsgraph serve --workers N`
runs N processes behind one port: it sets PROMETHEUS_MULTIPROC_DIR (a directory of its own,
removed when it stops) before they start, so prometheus_client keeps every counter and
histogram in files there, and whichever worker answers a scrape sums all of them. The values
read at scrape time (pool, replicas, rate-limit storage) are the answering worker's own.
Several hosts are several Prometheus targets, summed in queries.
"""

import hmac
import logging
import os
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.pool import QueuePool

from api.shared.errors import ProblemError
from api.shared.problems import ProblemCode

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
NO_ROUTE = "none"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_Children = tuple[Counter, Histogram, Counter | None]


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["method", "route"]
        self.requests = Counter(
            "newsgraph_http_requests",
            "HTTP responses sent, by method, route template and status.",
            [*labels, "status"],
            registry=registry,
        )
        self.server_errors = Counter(
            "newsgraph_http_server_errors",
            "HTTP requests that ended in a 5xx response or an unhandled exception.",
            labels,
            registry=registry,
        )
        self.duration = Histogram(
            "newsgraph_http_request_duration_seconds",
            "Time from the request's arrival to its response's last byte.",
            labels,
            registry=registry,
        )
        self.in_flight = Gauge(
            "newsgraph_http_requests_in_flight",
            "HTTP requests being served.",
            registry=registry,
            multiprocess_mode="livesum",  # summed over the workers alive (--workers)
        )
        self.db_reads = Counter(
            "newsgraph_db_reads",
            "Reads, by the database server that served them: `primary` or a replica.",
            ["target"],
            registry=registry,
        )
        self._reads: dict[str, Counter] = {}
        # labels() takes a lock and builds a key on every call; the hot path looks its
        # children up here instead (bounded: methods x routes x statuses).
        self._children: dict[tuple[str, str, int], _Children] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        if method not in _METHODS:
            method = "other"  # a client can send any token as a method
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(method, route, str(status)),
                self.duration.labels(method, route),
                self.server_errors.labels(method, route) if status >= 500 else None,
            )
        requests, duration, server_errors = children
        requests.inc()
        duration.observe(seconds)
        if server_errors is not None:
            server_errors.inc()

    def count_read(self, target: str) -> None:
        child = self._reads.get(target)
        if child is None:
            child = self._reads[target] = self.db_reads.labels(target)
        child.inc()


def reads_by_target(exposition: str) -> dict[str, float]:
    """`newsgraph_db_reads_total` per target, from a scrape of /metrics: how a test or the
    replicas benchmark sees where reads went."""
    # Imported here: a worker never parses metrics, and need not hold the parser.
    from prometheus_client.parser import text_string_to_metric_families

    return {
        sample.labels["target"]: sample.value
        for family in text_string_to_metric_families(exposition)
        if family.name == "newsgraph_db_reads"
        for sample in family.samples
        if sample.name == "newsgraph_db_reads_total"
    }


class _StateCollector(Collector):
    """Values read from the app when Prometheus scrapes, costing nothing per request."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        pool = self.app.state.engine.pool
        if isinstance(pool, QueuePool):
            gauges = {
                "size": ("Connections the pool keeps open.", pool.size()),
                "max_overflow": (
                    "Connections it may open beyond that.",
                    self.app.state.settings.db_max_overflow,
                ),
                "checked_out": ("Connections in use by requests.", pool.checkedout()),
                "checked_in": ("Idle connections in the pool.", pool.checkedin()),
                # SQLAlchemy counts overflow from -size; only connections beyond size matter.
                "overflow": ("Connections open beyond the pool size.", max(0, pool.overflow())),
            }
            for name, (documentation, value) in gauges.items():
                yield GaugeMetricFamily(f"newsgraph_db_pool_{name}", documentation, value=value)
        replicas = getattr(self.app.state, "replicas", None)
        if replicas is not None:
            yield from _replica_metrics(replicas.status())
        limiter = getattr(self.app.state, "rate_limiter", None)
        if limiter is not None:
            yield CounterMetricFamily(
                "newsgraph_rate_limit_storage_failures",
                "Rate-limit storage errors; each let a request through unlimited.",
                value=limiter.storage_failures,
            )


_REPLICA_STATES = ("unknown", "ok", "lagging", "down", "not_standby")


def _replica_metrics(status: list[dict[str, Any]]) -> Iterator[Metric]:
    up = GaugeMetricFamily(
        "newsgraph_db_replica_up", "1 while the read replica takes reads.", labels=["replica"]
    )
    lag = GaugeMetricFamily(
        "newsgraph_db_replica_lag_seconds",
        "Seconds the replica was behind the primary at its last probe (absent when unknown).",
        labels=["replica"],
    )
    state = GaugeMetricFamily(
        "newsgraph_db_replica_state", "1 for the replica's state.", labels=["replica", "state"]
    )
    for replica in status:
        up.add_metric([replica["name"]], 1 if replica["state"] == "ok" else 0)
        if replica["lag_seconds"] is not None:
            lag.add_metric([replica["name"]], replica["lag_seconds"])
        for name in _REPLICA_STATES:
            state.add_metric([replica["name"], name], 1 if replica["state"] == name else 0)
    yield from (up, lag, state)


def install(app: FastAPI, *, token: str | None, served_without_token: bool) -> HttpMetrics:
    """Count every request; serve GET /metrics with `token`, or without one when
    `served_without_token` (a server on loopback), else not at all (404)."""
    registry = CollectorRegistry()
    metrics = HttpMetrics(registry)
    served = registry
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # several workers (`serve --workers`)
        served = CollectorRegistry()
        MultiProcessCollector(served)  # type: ignore[no-untyped-call]
    served.register(_StateCollector(app))
    replicas = getattr(app.state, "replicas", None)
    if replicas is not None:
        replicas.on_read = metrics.count_read
    app.state.metrics_registry = served
    app.state.metrics_authorization = f"Bearer {token}".encode() if token else None
    if token or served_without_token:
        app.add_api_route(METRICS_PATH, get_metrics, methods=["GET"], include_in_schema=False)
    else:
        logger.warning(
            "/metrics is off: the server listens beyond loopback and NEWSGRAPH_METRICS_TOKEN "
            "is not set"
        )
    return metrics


# At module level, its state on the app: FastAPI caches what it learns about an endpoint
# function (in lru_caches keyed by the function), so a closure made per app would keep its
# app, registry and routes alive for as long as the process runs.
async def get_metrics(request: Request) -> Response:
    state = request.app.state
    expected: bytes | None = state.metrics_authorization
    if expected is not None:
        sent = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(sent, expected):
            raise ProblemError(
                ProblemCode.UNAUTHORIZED,
                "/metrics needs the metrics token: `Authorization: Bearer <token>`.",
                headers={"WWW-Authenticate": 'Bearer realm="newsgraph-metrics"'},
            )
    return Response(generate_latest(state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
