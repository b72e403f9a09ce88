"""Engine and session factory. The API's request dependency lives in api/deps.py."""

from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


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


def server_settings(statement_timeout_ms: int) -> dict[str, str]:
    """The session settings of every connection the API opens (the benchmark's floor uses them
    too, so both run the same statements under the same settings)."""
    return {
        "statement_timeout": str(statement_timeout_ms),
        "application_name": "newsgraph",
        # asyncpg prepares every statement, and after five executions PostgreSQL may keep a
        # generic plan that ignores the parameter values. Filters are skewed (one entity is in
        # 60% of the articles, most in a handful), so a plan good for one value is ruinous for
        # another: plan each execution for its values (bench/RESULTS.md measures both).
        "plan_cache_mode": "force_custom_plan",
    }


def create_engine(
    url: str | URL,
    *,
    pool_size: int = 10,
    max_overflow: int = 5,
    pool_timeout: float = 5.0,
    statement_timeout_ms: int = 15_000,
    connect_timeout: float = 5.0,
) -> AsyncEngine:
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
        connect_args={
            "timeout": connect_timeout,
            "server_settings": server_settings(statement_timeout_ms),
        },
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
