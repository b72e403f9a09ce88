"""Logging for `newsgraph serve`: one JSON object per line on stderr (or plain text).

Every record logged while a request is served carries its `request_id`. The access log
(`newsgraph.access`, one line per request, written by api.transport.observability) replaces
uvicorn's:

    {"timestamp": "2025-01-01T12:00:00.123456+00:00", "level": "INFO",
     "logger": "newsgraph.access", "message": "GET /v1/articles 200 3.1 ms",
     "request_id": "...", "method": "GET", "path": "/v1/articles",
     "route": "/v1/articles", "status": 200, "duration_ms": 3.1,
     "client": "127.0.0.1", "key_prefix": "ng_AbC123"}

`key_prefix` is the part of an API key that `newsgraph apikey list` shows; the key itself is
never logged, nor is the query string.
"""

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Adds the request id of the request being served, unless the record has one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            request_id = current_request_id.get()
            if request_id is not None:
                record.request_id = request_id
        return True


class _AlreadyLogged(logging.Filter):
    """uvicorn logs an exception that escaped the app with its traceback again, without the
    request id; api.shared.errors (or api.transport.observability, for a failed stream) has
    logged it with the id already."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Exception in ASGI application")


class _JsonFormatter(JsonFormatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="microseconds")


def json_formatter() -> logging.Formatter:
    return _JsonFormatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "timestamp", "levelname": "level", "name": "logger"},
        # uvicorn's copy of its message with terminal colours.
        reserved_attrs=[*RESERVED_ATTRS, "color_message"],
    )


def text_formatter() -> logging.Formatter:
    return logging.Formatter(TEXT_FORMAT, defaults={"request_id": "-"})


def configure_logging(*, level: str, log_format: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(json_formatter() if log_format == "json" else text_formatter())
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    logging.getLogger("uvicorn.error").addFilter(_AlreadyLogged())
