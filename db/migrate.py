"""Alembic, driven from code: `newsgraph migrate`, `newsgraph serve` and the test suite.

A serving worker needs two facts only, the head revision and the database's, and reads both
without importing alembic: alembic, mako and pygments were 10 MB of every worker's RSS
(bench/README.md). Alembic is imported by the commands that migrate.
"""

import re
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(str(files("db") / "migrations"))
# What every revision file declares (alembic's template, kept by db/migrations/script.py.mako).
# `down_revision` is None, one revision, or a tuple of them (a merge).
_DECLARED = re.compile(r"^(revision|down_revision)\b[^=\n]*=(.*)$", re.MULTILINE)
_QUOTED = re.compile(r"[\"']([0-9A-Za-z_]+)[\"']")


def alembic_config(database_url: str | None = None) -> "Config":
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option(
        "file_template",
        "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s",
    )
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


def head_revision() -> str | None:
    """The revision no other revision follows, as alembic's `get_current_head` answers it
    (tests/db/test_migrations.py compares them), read from the revision files' declarations."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        declared = {
            match[1]: _QUOTED.findall(match[2]) for match in _DECLARED.finditer(path.read_text())
        }
        if "revision" not in declared:
            continue  # not a revision (the package's __init__.py)
        revisions.update(declared["revision"])
        followed.update(declared.get("down_revision", ()))
    heads = revisions - followed
    if len(heads) > 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return next(iter(heads), None)


def upgrade(database_url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)


def current(database_url: str) -> None:
    from alembic import command

    command.current(alembic_config(database_url), verbose=False)


async def current_revision(connection: AsyncConnection) -> str | None:
    """The database's revision, from alembic's version table; None when it has none."""
    if await connection.scalar(text("SELECT to_regclass('alembic_version')")) is None:
        return None
    versions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
    if len(versions) > 1:
        raise RuntimeError("the database is at more than one revision")
    return str(versions[0][0]) if versions else None
