"""Server-level chores: creating and dropping whole databases."""

import asyncpg
from sqlalchemy.engine import URL

from db.session import async_url


def _maintenance_dsn(url: URL) -> tuple[str, str]:
    url = async_url(url)
    name = url.database
    if not name:
        raise ValueError("the database URL names no database")
    dsn = url.set(drivername="postgresql", database="postgres")
    return dsn.render_as_string(hide_password=False), name


async def ensure_database(url: URL) -> bool:
    """Create the database `url` names unless it exists. True when it was created."""
    dsn, name = _maintenance_dsn(url)
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        await connection.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        await connection.close()


async def drop_database(url: URL) -> None:
    dsn, name = _maintenance_dsn(url)
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
