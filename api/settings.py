import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from limits import RateLimitItem, parse_many
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEVELOPMENT_CURSOR_SECRET = "newsgraph-development-cursor-secret"  # noqa: S105 (not a credential)


class Settings(BaseSettings):
    """From the environment: DATABASE_URL, HOST, PORT, and NEWSGRAPH_* for the rest."""

    model_config = SettingsConfigDict(env_prefix="NEWSGRAPH_", extra="ignore")

    # Unset: `newsgraph serve` starts the embedded PostgreSQL under `data_dir`.
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    host: str = Field(default="127.0.0.1", validation_alias="HOST")
    port: int = Field(default=8000, ge=1, le=65535, validation_alias="PORT")

    data_dir: Path = Path(".data")
    # Streaming read replicas of DATABASE_URL, comma-separated (db/replicas.py, README: Read
    # replicas): reads go to a healthy one, writes and key checks to the primary. Empty: every
    # request uses DATABASE_URL, as before.
    replica_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # A replica more than this many seconds behind the primary takes no reads until it
    # catches up.
    replica_max_lag: float = Field(default=5.0, gt=0)
    # Seconds between probes of each replica, and the most one probe may take.
    replica_check_interval: float = Field(default=1.0, gt=0)
    replica_check_timeout: float = Field(default=1.0, gt=0)
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=5, ge=0)
    db_pool_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to wait for a pooled connection."
    )
    db_statement_timeout_ms: int = Field(default=15_000, ge=100)
    # Seconds to wait for a new database connection (TCP, TLS, authentication). A database
    # that accepts but never answers then costs a request this long before its 503; a healthy
    # one connects in milliseconds, so 1.5 s keeps the 503 under 2 s with room to spare.
    db_connect_timeout: float = Field(default=1.5, gt=0)
    # Seconds the API waits for the database to answer a statement it sent before giving up on
    # the connection (503): a network that stops forwarding is noticed here, since the
    # server's own statement_timeout cannot reach a client it is cut off from. Above the
    # statement timeout, so a merely slow query gets the server's clean cancel first.
    db_command_timeout: float = Field(default=20.0, gt=0)
    # Seconds `newsgraph serve` lets requests in flight finish after SIGTERM (new connections
    # are refused at once); what is still running then is cancelled.
    shutdown_grace_seconds: int = Field(default=10, ge=0)
    # Seconds a client has to send a request's head (request line and headers) once it has
    # connected or started the request; slower ones are disconnected (api/transport/
    # http_protocol.py).
    request_head_timeout: float = Field(default=10.0, gt=0)
    # Connections plus requests in flight one `newsgraph serve` process takes on; beyond
    # that uvicorn answers 503 at once rather than queue without bound.
    max_concurrency: int = Field(default=1000, ge=1)
    # Days the change feed (GET /v1/changes) keeps a change; an older cursor is 410
    # `changes_expired`. Each serving process prunes every `change_prune_interval` seconds.
    change_retention_days: int = Field(default=90, ge=1)
    change_prune_interval: float = Field(default=3600.0, gt=0)
    # Change streams (GET /v1/changes/stream) one process serves at once (503 `stream_busy`
    # beyond), and the seconds between heartbeats on a quiet stream.
    change_stream_max_clients: int = Field(default=100, ge=1)
    # Seconds between a process's looks for new changes (api/shared/change_watch.py), which
    # wake its change streams and webhook worker: the most a change waits to be pushed.
    change_poll_interval: float = Field(default=0.05, gt=0, le=5)
    change_stream_heartbeat: float = Field(default=15.0, gt=0)
    # Seconds one stream lasts; then it ends and the client reconnects with Last-Event-ID
    # (a browser's EventSource does so by itself), so no request holds a place for ever.
    change_stream_max_seconds: float = Field(default=300.0, gt=0)
    # Webhooks (api/webhooks/): `newsgraph serve` sends deliveries itself unless
    # `webhook_worker` is off (then run `newsgraph worker`). A delivery is retried, with
    # exponential backoff (`webhook_backoff_base` seconds doubling up to `webhook_backoff_max`,
    # full jitter), for `webhook_retry_period` seconds after its change, then marked failed.
    # Each attempt may take `webhook_timeout` seconds in all; a worker sends at most
    # `webhook_concurrency` at once, and holds each for `webhook_lease` seconds, after which
    # another worker may send it again (its sender having died).
    webhook_worker: bool = True
    webhook_retry_period: float = Field(default=86_400.0, gt=0)
    webhook_backoff_base: float = Field(default=5.0, gt=0)
    webhook_backoff_max: float = Field(default=3_600.0, gt=0)
    webhook_timeout: float = Field(default=10.0, gt=0, le=300)
    webhook_concurrency: int = Field(default=8, ge=1, le=256)
    webhook_lease: float = Field(default=60.0, gt=0)
    # Host names and networks (CIDR) webhooks may target although they are loopback, private,
    # link-local or otherwise not public (refused by default: SSRF), e.g.
    # '["hooks.internal", "10.2.0.0/16"]'.
    webhook_allowed_hosts: list[str] = Field(default_factory=list)
    # Exports (GET /v1/export) each hold a connection of their own, outside the pool, for as
    # long as their client reads: at most this many at once (503 `export_busy` beyond).
    export_concurrency: int = Field(default=2, ge=1)
    # Seconds an export waits for a client that reads nothing before it cuts the stream.
    export_send_timeout: float = Field(default=30.0, gt=0)
    # Milliseconds PostgreSQL lets an API connection sit idle inside a transaction before it
    # ends the session: the backstop for a transaction nothing will ever finish.
    db_idle_in_transaction_timeout_ms: int = Field(default=60_000, ge=1000)
    # CORS (api/transport/cors.py). Public reads answer every origin (`Access-Control-Allow-
    # Origin: *`, no credentials); false puts them behind the list below, for an API on a
    # private network that pages on the internet must not read through a visitor's browser.
    # Reads that need a key (require_key_for_reads) are never public.
    cors_public_reads: bool = True
    # Origins (`https://app.example`) whose pages may also write, and read when reads are not
    # public. Empty: no page on another origin may write.
    cors_write_origins: list[str] = Field(default_factory=list)
    # The setting cors_write_origins replaced: set, the settings are refused with a message.
    cors_origins: list[str] | None = Field(default=None, exclude=True)
    log_level: str = "info"
    # `newsgraph serve` loads the shipped seed files after migrating (a no-op when unchanged).
    seed_on_start: bool = True
    # Signs pagination cursors so an altered one is refused. Set it in production; every
    # worker behind one load balancer needs the same value. `newsgraph serve` refuses to listen
    # beyond loopback with the development value.
    cursor_secret: str = DEVELOPMENT_CURSOR_SECRET
    # Largest request body accepted; larger ones get 413 before they are read in full.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Longest request path plus query string accepted (414 beyond); uvicorn itself refuses
    # request lines over about 64 KiB with a plain 400.
    max_url_bytes: int = Field(default=8192, ge=1024)
    # Most query parameters one request may carry, repeats included (400 beyond). A batch
    # lookup takes up to 100 `id` values and each repeatable filter 20, so 128 leaves room
    # for a full lookup with `count`, and for every filter.
    max_query_parameters: int = Field(default=128, ge=10)
    # Reads are public unless this is set; then every request needs an API key.
    require_key_for_reads: bool = False
    # Seconds a client is told to wait after a 503 from an unavailable database.
    retry_after_seconds: int = Field(default=2, ge=1)

    # Rate limits (api/transport/ratelimit.py), as `<count>/<second|minute|hour|day>`: requests
    # without an API key are budgeted per client address, requests with one per key.
    # Off: no limit.
    rate_limit_enabled: bool = True
    rate_limit_per_address: str = "300/minute"
    rate_limit_per_key: str = "1200/minute"
    # Unset: each process keeps its own budgets in memory. Set (redis://host:6379/0): every
    # worker and host shares them. While Redis is unreachable requests pass unlimited.
    redis_url: str | None = None
    # Namespaces the rate-limit keys in Redis, for deployments sharing one server.
    rate_limit_key_prefix: str = "newsgraph-ratelimit"

    # Security headers (api/transport/security_headers.py): Strict-Transport-Security max-age
    # in seconds; 0 sends none. Set it only when the API is reached over HTTPS.
    hsts_seconds: int = Field(default=0, ge=0)

    # Logs: one JSON object per line, or "text" for reading in a terminal.
    log_format: Literal["json", "text"] = "json"
    # When set, GET /metrics needs `Authorization: Bearer <token>`. Unset, it is served
    # without one only to a server listening on loopback; beyond it, there is no /metrics.
    metrics_token: str | None = None
    # FastAPI's own OpenTelemetry spans, metrics and logs, through the providers the process
    # configures (an OpenTelemetry SDK this project does not install). Off, no request looks
    # for them: the look-up cost 2.6% of a by-id read's CPU (bench/README.md, ninth round).
    opentelemetry: bool = False

    @property
    def on_loopback(self) -> bool:
        """Whether the server listens on this machine only (the development default)."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False  # a host name: assume it is reachable

    def exposure_problems(self) -> list[str]:
        """What makes these settings unfit for a server reachable from other machines."""
        if self.on_loopback or self.cursor_secret != DEVELOPMENT_CURSOR_SECRET:
            return []
        return [
            f"NEWSGRAPH_CURSOR_SECRET is not set, and the server would listen on {self.host}: "
            "anyone could sign cursors with the development secret. Set it to a long random "
            "value (`python -c 'import secrets; print(secrets.token_urlsafe(32))'`), the same "
            "on every worker."
        ]

    @field_validator("webhook_allowed_hosts")
    @classmethod
    def _are_hosts_or_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not is_host_or_network(entry):
                raise ValueError(
                    f"{entry!r} is neither a host name nor an IP network such as 10.0.0.0/8"
                )
        return [entry.lower() for entry in value]

    @model_validator(mode="after")
    def _webhook_timing_fits(self) -> Self:
        if self.webhook_lease <= self.webhook_timeout:
            raise ValueError(
                "NEWSGRAPH_WEBHOOK_LEASE must be longer than NEWSGRAPH_WEBHOOK_TIMEOUT: a "
                "delivery still being sent would be sent again by another worker"
            )
        if self.webhook_retry_period >= self.change_retention_days * 86_400:
            raise ValueError(
                "NEWSGRAPH_WEBHOOK_RETRY_PERIOD must be shorter than the change feed's "
                "retention (NEWSGRAPH_CHANGE_RETENTION_DAYS): a delivery goes with its change"
            )
        return self

    @property
    def public_reads(self) -> bool:
        """Whether reads are public, as CORS answers them: every origin may read."""
        return self.cors_public_reads and not self.require_key_for_reads

    @field_validator("cors_write_origins")
    @classmethod
    def _are_origins(cls, values: list[str]) -> list[str]:
        return [_origin(value) for value in values]

    @field_validator("cors_origins")
    @classmethod
    def _was_renamed(cls, value: list[str] | None) -> None:
        if value is not None:
            raise ValueError(
                "NEWSGRAPH_CORS_ORIGINS is now NEWSGRAPH_CORS_WRITE_ORIGINS: every origin may "
                "read the public API, and the origins listed there may also write"
            )

    @field_validator("rate_limit_per_address", "rate_limit_per_key")
    @classmethod
    def _is_rate_limit(cls, value: str) -> str:
        parse_rate_limit(value)  # refused at start-up rather than on the first request
        return value

    @field_validator("replica_urls", mode="before")
    @classmethod
    def _split_replica_urls(cls, value: object) -> object:
        if isinstance(value, str):
            return [url.strip() for url in value.split(",") if url.strip()]
        return value

    @field_validator("replica_urls")
    @classmethod
    def _are_postgres_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
                raise ValueError("each replica URL must be a postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _is_redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://")):
            raise ValueError("must be a redis:// or rediss:// URL")
        return value or None


_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$",
    re.IGNORECASE,
)


def is_host_or_network(entry: str) -> bool:
    """A DNS host name (ASCII, as IDNA spells it) or an IP network or address."""
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return bool(_HOST_NAME.match(entry))
    return True


def _origin(value: str) -> str:
    """An origin as browsers send it in `Origin`: scheme, host and a port other than the
    scheme's own, lower case, nothing else."""
    if value.strip() == "*":
        raise ValueError(
            "'*' is not an origin: every origin may read already (NEWSGRAPH_CORS_PUBLIC_READS), "
            "and the origins that may write are named one by one"
        )
    parts = urlsplit(value.strip())
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise ValueError(
            f"{value!r} is not an origin such as 'https://app.example' or "
            "'http://localhost:5173' (scheme, host and port only)"
        )
    default_port = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port not in (None, default_port) else ""
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}{port}"


def parse_rate_limit(value: str) -> RateLimitItem:
    """One limit such as `300/minute` or `10 per 2 seconds`."""
    items = parse_many(value)
    if len(items) != 1:
        raise ValueError(f"expected one rate limit such as '300/minute', not {value!r}")
    return items[0]


@lru_cache
def get_settings() -> Settings:
    return Settings()
