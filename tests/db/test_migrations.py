from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

import db.models  # noqa: F401  (registers every table)
from db import migrate
from db.base import Base
from db.session import create_engine
from tests.support.database import fresh_database, run_migration


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


def test_the_head_read_from_the_revision_files_is_alembics() -> None:
    # Serving workers read it without importing alembic (db/migrate.py).
    script = ScriptDirectory.from_config(migrate.alembic_config())

    assert migrate.head_revision() == script.get_current_head()
    assert migrate.head_revision() is not None


async def test_the_database_revision_read_without_alembic_is_alembics() -> None:
    url = await fresh_database("revision")
    engine = create_engine(url, pool_size=1)
    script = ScriptDirectory.from_config(migrate.alembic_config())
    first = script.get_base()
    assert isinstance(first, str)

    async def both() -> tuple[str | None, str | None]:
        async with engine.connect() as connection:
            ours = await migrate.current_revision(connection)
            alembics = await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
            return ours, alembics

    try:
        before = await both()
        await run_migration(migrate.upgrade, url, first)
        at_first = await both()
        await run_migration(migrate.upgrade, url)
        at_head = await both()
        await run_migration(migrate.downgrade, url, "base")
        at_base = await both()
    finally:
        await engine.dispose()

    assert before == (None, None)
    assert at_first == (first, first)
    assert at_head == (migrate.head_revision(), migrate.head_revision())
    assert at_base == (None, None)


async def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_schema_differences)
    finally:
        await engine.dispose()

    assert differences == []


def _declared_storage_parameters() -> dict[str, dict[str, str]]:
    """Index storage parameters the models declare (`postgresql_with`), which alembic's
    comparison leaves out."""
    return {
        str(index.name): {k: str(v) for k, v in index.dialect_options["postgresql"]["with"].items()}
        for table in Base.metadata.tables.values()
        for index in table.indexes
        if index.dialect_options["postgresql"]["with"]
    }


async def _storage_parameters(url: str) -> dict[str, dict[str, str]]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT c.relname, o.option_name, o.option_value FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public' "
                    "CROSS JOIN LATERAL pg_options_to_table(c.reloptions) o "
                    "WHERE c.relkind = 'i'"
                )
            )
            found: dict[str, dict[str, str]] = {}
            for index, name, value in rows:
                found.setdefault(index, {})[name] = value
            return found
    finally:
        await engine.dispose()


async def test_search_indexes_keep_small_pending_lists_as_the_models_declare(
    database_url: str,
) -> None:
    declared = _declared_storage_parameters()

    assert await _storage_parameters(database_url) == declared
    small = {"gin_pending_list_limit": "64"}
    assert declared == {
        "ix_article_search_vector": small,
        "ix_event_search_vector": small,
        "ix_dispute_search_vector": small,
        "ix_entity_search_name_trgm": small,
        "ix_entity_alias_search_name_trgm": small,
    }


async def test_the_pending_list_limit_is_undone_by_its_downgrade() -> None:
    url = await fresh_database("pending")
    await run_migration(migrate.upgrade, url)
    await run_migration(migrate.downgrade, url, "5c8e2f1a9d34")
    after_downgrade = await _storage_parameters(url)
    await run_migration(migrate.upgrade, url)

    assert after_downgrade == {}
    assert await _storage_parameters(url) == _declared_storage_parameters()


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
