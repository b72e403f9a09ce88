"""The session settings every API connection runs with (db/session.py)."""

from sqlalchemy.ext.asyncio import AsyncEngine


async def test_connections_plan_per_value_run_serially_and_time_out(engine: AsyncEngine) -> None:
    """Custom plans (skewed filters keep good plans), no parallel workers (they compete with
    the other requests for the cores), the trigram threshold name search relies on, and a
    statement timeout."""
    names = (
        "plan_cache_mode",
        "max_parallel_workers_per_gather",
        "pg_trgm.word_similarity_threshold",
        "statement_timeout",
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
        "application_name": "newsgraph",
    }
