"""The session settings every API connection runs with (db/session.py)."""

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.session import create_engine


async def test_connections_plan_per_value_run_serially_and_time_out(engine: AsyncEngine) -> None:
    """Custom plans (skewed filters keep good plans), no parallel workers (they compete with
    the other requests for the cores), the trigram threshold name search relies on, and a
    statement timeout."""
    names = (
        "plan_cache_mode",
        "max_parallel_workers_per_gather",
        "pg_trgm.word_similarity_threshold",
        "statement_timeout",
        "idle_in_transaction_session_timeout",
        "application_name",
    )
    async with engine.connect() as connection:
        shown = {
            name: (await connection.exec_driver_sql(f"SHOW {name}")).scalar() for name in names
        }

    assert shown == {
        "plan_cache_mode": "force_custom_plan",
        "max_parallel_workers_per_gather": "0",
        "pg_trgm.word_similarity_threshold": "0.5",
        "statement_timeout": "15s",
        "idle_in_transaction_session_timeout": "1min",
        "application_name": "newsgraph",
    }


async def test_a_pooled_connection_returned_inside_a_transaction_is_never_handed_out(
    database_url: str,
) -> None:
    """A path cancelled half-way through its rollback can leave the driver inside a
    transaction that SQLAlchemy does not know of; the next checkout drops that connection
    rather than give a request one whose statements would fail ("current transaction is
    aborted") or run inside someone else's snapshot."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            first_pid = await driver.fetchval("SELECT pg_backend_pid()")
            await driver.execute("BEGIN")
            with pytest.raises(asyncpg.DivisionByZeroError):  # and the transaction is aborted
                await driver.execute("SELECT 1/0")
        assert driver.is_in_transaction()  # back in the pool, still inside it

        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            replacement = raw.driver_connection
            assert replacement is not None
            assert not replacement.is_in_transaction()
            assert (await connection.exec_driver_sql("SELECT pg_backend_pid()")).scalar() != (
                first_pid
            )
        assert driver.is_closed()
    finally:
        await engine.dispose()
