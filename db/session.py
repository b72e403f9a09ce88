"""Engine and session factory. The API's request dependency lives in api/shared/deps.py."""

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from db.pool import FairAsyncQueuePool


def async_url(url: str | URL) -> URL:
    """Accept the libpq spellings people paste (postgres://, postgresql://) and use asyncpg."""
    parsed = (
        make_url(str(url).replace("postgres://", "postgresql://", 1))
        if isinstance(url, str)
        else url
    )
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"only PostgreSQL is supported, not {parsed.get_backend_name()!r}")
    return parsed.set(drivername="postgresql+asyncpg")


def connection_dsn(url: str | URL) -> str:
    """The URL as asyncpg.connect takes it (a libpq URL, password included): for the
    connections the app opens outside its pool (exports, the change stream's listener)."""
    return async_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


WORD_SIMILARITY_THRESHOLD = 0.5


def server_settings(
    statement_timeout_ms: int, idle_in_transaction_timeout_ms: int = 60_000
) -> dict[str, str]:
    """The session settings of every connection the API opens (the benchmark's floor uses them
    too, so both run the same statements under the same settings)."""
    return {
        "statement_timeout": str(statement_timeout_ms),
        # A transaction left open by a path that lost track of it (a cancelled request) ends
        # here at the latest, releasing its locks and snapshot.
        "idle_in_transaction_session_timeout": str(idle_in_transaction_timeout_ms),
        "application_name": "newsgraph",
        # asyncpg prepares every statement, and after five executions PostgreSQL may keep a
        # generic plan that ignores the parameter values. Filters are skewed (one entity is in
        # 60% of the articles, most in a handful), so a plan good for one value is ruinous for
        # another: plan each execution for its values (bench/RESULTS.md measures both).
        "plan_cache_mode": "force_custom_plan",
        # Name search (`<%`, served by the trigram indexes) reads this; pg_trgm's default, 0.6,
        # misses one-letter typos in short names ("Kishda"). Set per connection, it costs no
        # statement per request.
        "pg_trgm.word_similarity_threshold": str(WORD_SIMILARITY_THRESHOLD),
        # Many small concurrent queries, not one big one: a parallel plan's workers compete
        # with the other requests for the same cores. A popular participant's events in a
        # three-year range at 100k articles: 35 ms with two workers (three processes busy),
        # 17 ms in one.
        "max_parallel_workers_per_gather": "0",
        # The server probes an idle TCP connection after 30 s and drops it after three
        # unanswered probes 10 s apart: a backend whose API process vanished with the network
        # (and any lock it held) is freed within a minute, not after the kernel's two hours.
        # The API's side is bounded by asyncpg's command_timeout instead (create_engine).
        # Unix-socket connections ignore these.
        "tcp_keepalives_idle": "30",
        "tcp_keepalives_interval": "10",
        "tcp_keepalives_count": "3",
    }


def create_engine(
    url: str | URL,
    *,
    pool_size: int = 10,
    max_overflow: int = 5,
    pool_timeout: float = 5.0,
    statement_timeout_ms: int = 15_000,
    connect_timeout: float = 5.0,
    idle_in_transaction_timeout_ms: int = 60_000,
    command_timeout: float | None = None,
) -> AsyncEngine:
    engine = create_async_engine(
        async_url(url),
        poolclass=FairAsyncQueuePool,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        # No pre-ping: it costs three round trips (BEGIN, ping, ROLLBACK) on every checkout,
        # i.e. every request. A connection the server closed is dropped at checkout for free
        # (_discard_unusable); one that dies mid-query fails that request with a 503 and
        # SQLAlchemy then recycles the whole pool.
        pool_pre_ping=False,
        connect_args={
            "timeout": connect_timeout,
            "command_timeout": command_timeout,
            "server_settings": server_settings(
                statement_timeout_ms, idle_in_transaction_timeout_ms
            ),
        },
    )
    event.listen(engine.sync_engine, "checkout", _discard_unusable)
    return engine


def _discard_unusable(
    dbapi_connection: DBAPIConnection,
    connection_record: ConnectionPoolEntry,
    connection_proxy: PoolProxiedConnection,
) -> None:
    """Refuse a pooled connection the server has closed (restart, pg_terminate_backend), or
    one that came back still inside a transaction (a path that was cancelled half-way through
    its rollback): the pool then opens a new one. asyncpg knows both from the last message the
    server sent, so asking costs no round trip."""
    driver = dbapi_connection.driver_connection
    if driver.is_closed():
        raise DisconnectionError("the server closed this pooled connection")
    if driver.is_in_transaction():
        raise DisconnectionError("this pooled connection came back inside a transaction")


def create_sessionmaker(
    engine: AsyncEngine, session_class: type[AsyncSession] = AsyncSession
) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=session_class, expire_on_commit=False, autoflush=False)
