"""JSON logs with the request id, and Prometheus metrics at /metrics."""

import asyncio
import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from opentelemetry import trace
from prometheus_client.parser import text_string_to_metric_families

from api.main import create_app
from api.settings import Settings
from api.transport.logs import RequestIdFilter, json_formatter, text_formatter
from tests.support.clients import client_for, free_port
from tests.support.database import fresh_database

KEY = "ng_Zq9xT2" + "k" * 37

LogLines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    """The JSON lines that `newsgraph serve` would write, captured from the root logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(json_formatter())
    root, access = logging.getLogger(), logging.getLogger("newsgraph.access")
    root.addHandler(handler)
    previous_level = access.level
    access.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        access.setLevel(previous_level)


@pytest.fixture
def boom_app(app: FastAPI) -> FastAPI:
    @app.get("/_probe/boom/{thing}")
    async def boom(thing: str) -> None:
        raise RuntimeError(f"{thing} exploded")

    return app


def _access_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["logger"] == "newsgraph.access"]


async def test_each_request_is_one_json_access_line(
    client: AsyncClient, log_lines: LogLines
) -> None:
    response = await client.get(
        "/v1/sources",
        params={"limit": "7"},
        headers={"X-Request-ID": "log-check-1", "Authorization": f"Bearer {KEY}"},
    )

    assert response.status_code == 200
    [line] = _access_lines(log_lines())
    timestamp = datetime.fromisoformat(line.pop("timestamp"))
    assert timestamp.utcoffset() == UTC.utcoffset(None)
    assert abs((datetime.now(UTC) - timestamp).total_seconds()) < 60
    duration_ms = line.pop("duration_ms")
    assert isinstance(duration_ms, float)
    assert 0 < duration_ms < 10_000
    assert line == {
        "level": "INFO",
        "logger": "newsgraph.access",
        "message": f"GET /v1/sources 200 {duration_ms:.1f} ms",
        "request_id": "log-check-1",
        "method": "GET",
        "path": "/v1/sources",
        "route": "/v1/sources",
        "status": 200,
        "client": "127.0.0.1",
        "key_prefix": "ng_Zq9xT2",
    }
    logged = json.dumps(log_lines())
    assert KEY not in logged  # never the key itself
    assert "limit" not in logged  # nor the query string


async def test_an_unhandled_error_is_logged_as_json_with_its_traceback_and_request_id(
    boom_app: FastAPI, client: AsyncClient, log_lines: LogLines
) -> None:
    response = await client.get("/_probe/boom/reactor", headers={"X-Request-ID": "crash-1"})

    assert response.status_code == 500
    lines = log_lines()
    [error] = [line for line in lines if line["level"] == "ERROR"]
    assert error["logger"] == "api.shared.errors"
    assert error["request_id"] == "crash-1"
    assert error["message"] == "unhandled error on GET /_probe/boom/reactor"
    assert error["exc_info"].startswith("Traceback (most recent call last):")
    assert error["exc_info"].endswith("RuntimeError: reactor exploded")
    [access] = _access_lines(lines)
    assert (access["request_id"], access["status"]) == ("crash-1", 500)
    assert access["route"] == "/_probe/boom/{thing}"


async def test_what_is_logged_while_serving_a_request_carries_its_id(
    database_url: str, log_lines: LogLines
) -> None:
    unreachable = Settings.model_validate({"DATABASE_URL": "postgresql://x@127.0.0.1:1/none"})
    async with client_for(create_app(unreachable)) as client:
        response = await client.get("/v1/sources", headers={"X-Request-ID": "db-down-1"})

    assert response.status_code == 503
    [warning] = [line for line in log_lines() if line["logger"] == "api.shared.errors"]
    assert warning["level"] == "WARNING"
    assert "ConnectionRefusedError" in warning["message"]
    assert warning["request_id"] == "db-down-1"


async def test_the_text_format_reads_as_one_line_per_request(client: AsyncClient) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(text_formatter())
    access = logging.getLogger("newsgraph.access")
    access.addHandler(handler)
    previous_level = access.level
    access.setLevel(logging.INFO)
    try:
        await client.get("/healthz", headers={"X-Request-ID": "text-1"})
        await client.get("/nowhere%0A2030-01-01 INFO newsgraph.access forged")
    finally:
        access.removeHandler(handler)
        access.setLevel(previous_level)

    first, second = stream.getvalue().splitlines()  # the %0A did not start a line
    assert " INFO newsgraph.access [text-1] GET /healthz 200 " in first
    assert "GET /nowhere\\n2030-01-01 INFO newsgraph.access forged 404 " in second


# Metrics ----------------------------------------------------------------------------------


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def test_metrics_count_requests_by_route_template_and_status(
    boom_app: FastAPI, client: AsyncClient
) -> None:
    for _ in range(2):
        assert (await client.get("/v1/sources")).status_code == 200
    assert (await client.get("/v1/sources/nope")).status_code == 404
    assert (await client.get("/v1/sources/also-nope")).status_code == 404
    assert (await client.get("/v1/nowhere")).status_code == 404
    assert (await client.get("/_probe/boom/x")).status_code == 500
    assert (await client.get("/docs/assets/swagger-ui.css")).status_code == 200
    assert (await client.request("BREW", "/v1/sources")).status_code == 405

    scrape = await client.get("/metrics")

    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain; version=")
    samples = _samples(scrape.text)
    requests = "newsgraph_http_requests_total"
    assert _value(samples, requests, method="GET", route="/v1/sources", status="200") == 2
    assert _value(samples, requests, method="GET", route="/v1/sources/{source}", status="404") == 2
    assert _value(samples, requests, method="GET", route="none", status="404") == 1
    assert _value(samples, requests, method="GET", route="/_probe/boom/{thing}", status="500") == 1
    assert _value(samples, requests, method="GET", route="/docs/assets/{path}", status="200") == 1
    assert _value(samples, requests, method="other", route="/v1/sources", status="405") == 1
    # Raw paths never become labels.
    assert not any("nope" in value for (_, labels) in samples for _, value in labels)
    errors = "newsgraph_http_server_errors_total"
    assert _value(samples, errors, method="GET", route="/_probe/boom/{thing}") == 1
    assert _value(samples, errors, method="GET", route="/v1/sources") is None
    durations = "newsgraph_http_request_duration_seconds_count"
    assert _value(samples, durations, method="GET", route="/v1/sources") == 2
    bucket = "newsgraph_http_request_duration_seconds_bucket"
    assert _value(samples, bucket, method="GET", route="/v1/sources", le="+Inf") == 2
    # The scrape itself is the one request in flight.
    assert _value(samples, "newsgraph_http_requests_in_flight") == 1


async def test_pool_usage_is_read_when_prometheus_scrapes(database_url: str) -> None:
    settings = Settings.model_validate(
        {"DATABASE_URL": database_url, "db_pool_size": 4, "db_max_overflow": 2}
    )
    app = create_app(settings)
    async with client_for(app) as client:
        assert (await client.get("/v1/sources")).status_code == 200  # opens one connection
        idle = _samples((await client.get("/metrics")).text)
        async with app.state.engine.connect(), app.state.engine.connect():
            busy = _samples((await client.get("/metrics")).text)

    assert _value(idle, "newsgraph_db_pool_size") == 4
    assert _value(idle, "newsgraph_db_pool_max_overflow") == 2
    assert _value(idle, "newsgraph_db_pool_checked_out") == 0
    assert _value(idle, "newsgraph_db_pool_checked_in") == 1
    assert _value(busy, "newsgraph_db_pool_checked_out") == 2
    assert _value(busy, "newsgraph_db_pool_overflow") == 0


async def test_a_throttled_request_is_counted_with_no_route(database_url: str) -> None:
    settings = Settings.model_validate(
        {
            "DATABASE_URL": database_url,
            "rate_limit_enabled": True,
            "rate_limit_per_address": "1/day",
        }
    )
    app = create_app(settings)
    try:
        async with client_for(app) as client:
            await client.get("/v1/sources")
            assert (await client.get("/v1/sources")).status_code == 429
            samples = _samples((await client.get("/metrics")).text)
    finally:
        await app.state.rate_limiter.close()

    requests = "newsgraph_http_requests_total"
    assert _value(samples, requests, method="GET", route="none", status="429") == 1
    assert _value(samples, requests, method="GET", route="/v1/sources", status="200") == 1
    assert _value(samples, "newsgraph_rate_limit_storage_failures_total") == 0


async def test_a_metrics_token_protects_the_endpoint(database_url: str) -> None:
    settings = Settings.model_validate({"DATABASE_URL": database_url, "metrics_token": "s3cret"})
    async with client_for(create_app(settings)) as client:
        anonymous = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer guess"})
        right = await client.get("/metrics", headers={"Authorization": "Bearer s3cret"})

    for refused in (anonymous, wrong):
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "unauthorized"
    assert right.status_code == 200
    assert "newsgraph_http_requests_total" in right.text


async def test_metrics_are_not_part_of_the_api_document(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    assert "/metrics" not in document["paths"]


# A live server ----------------------------------------------------------------------------


@pytest.mark.process
def test_newsgraph_serve_writes_json_access_lines_to_stderr(tmp_path: Path) -> None:
    database_url = asyncio.run(fresh_database("logs"))
    port = free_port()
    log = tmp_path / "serve.log"
    env = os.environ | {
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "NEWSGRAPH_SEED_ON_START": "false",
        "NEWSGRAPH_LOG_FORMAT": "json",
        "NEWSGRAPH_LOG_LEVEL": "info",
    }
    with log.open("wb") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "server did not start:\n" + log.read_text()
            try:
                if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        response = httpx.get(
            f"{base_url}/v1/sources",
            headers={"X-Request-ID": "live-log-1", "Authorization": f"Bearer {KEY}"},
        )
        assert response.status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    text = log.read_text()
    records = []
    for raw in text.splitlines():
        if raw.startswith("{"):
            records.append(json.loads(raw))
    [access] = [r for r in records if r.get("request_id") == "live-log-1"]
    assert access["logger"] == "newsgraph.access"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/v1/sources", 200)
    assert access["client"] == "127.0.0.1"
    assert access["key_prefix"] == "ng_Zq9xT2"
    assert isinstance(access["duration_ms"], float)
    # uvicorn's own lines are JSON too, and its plain access log is gone.
    assert any(r["logger"].startswith("uvicorn") for r in records)
    assert '"GET /v1/sources HTTP/1.1"' not in text
    assert KEY not in text


class _RecordingTracer(trace.NoOpTracer):
    """A tracer as an OpenTelemetry SDK would give one: it records the spans started."""

    def __init__(self, spans: list[str]) -> None:
        self.spans = spans

    def start_span(self, name: str, *args: Any, **kwargs: Any) -> trace.Span:
        self.spans.append(name)
        return super().start_span(name, *args, **kwargs)


class _RecordingTracerProvider(trace.TracerProvider):
    def __init__(self) -> None:
        self.spans: list[str] = []

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return _RecordingTracer(self.spans)


@pytest.mark.parametrize("opentelemetry", [False, True])
async def test_opentelemetry_spans_only_when_turned_on(
    database_url: str, monkeypatch: pytest.MonkeyPatch, opentelemetry: bool
) -> None:
    """NEWSGRAPH_OPENTELEMETRY=true hands each request to the process's OpenTelemetry tracer
    (FastAPI's own spans); by default no request looks for one, even when one is configured."""
    provider = _RecordingTracerProvider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    settings = Settings.model_validate(
        {"DATABASE_URL": database_url, "opentelemetry": opentelemetry}
    )
    async with client_for(create_app(settings)) as client:
        response = await client.get("/v1/sources")

    assert response.status_code == 200
    # The request's server span (OpenTelemetry's HTTP conventions start it by its method).
    assert provider.spans == (["GET"] if opentelemetry else [])
