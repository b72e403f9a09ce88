from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text

import db.models  # noqa: F401  (registers every table)
from db import migrate
from db.base import Base
from db.session import create_engine
from tests.conftest import fresh_database, run_migration


def _schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


async def _tables(url: str) -> set[str]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade_round_trips() -> None:
    url = await fresh_database("roundtrip")

    await run_migration(migrate.upgrade, url)
    after_upgrade = await _tables(url)
    await run_migration(migrate.downgrade, url, "base")
    after_downgrade = await _tables(url)
    await run_migration(migrate.upgrade, url)

    assert after_upgrade == {table.name for table in Base.metadata.tables.values()} | {
        "alembic_version"
    }
    assert after_downgrade == {"alembic_version"}
    assert await _tables(url) == after_upgrade


async def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_schema_differences)
    finally:
        await engine.dispose()

    assert differences == []


async def test_migration_creates_the_search_extensions(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            extensions = set(
                (await connection.execute(text("SELECT extname FROM pg_extension"))).scalars()
            )
            folded = await connection.scalar(text("SELECT immutable_unaccent(lower('Étorofu'))"))
    finally:
        await engine.dispose()

    assert {"pg_trgm", "unaccent"} <= extensions
    assert folded == "etorofu"
