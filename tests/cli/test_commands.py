"""`newsgraph seed` as a user runs it: one transaction, every problem listed, exit status."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from api.cli import main, seed
from api.settings import get_settings
from api.shared.auth import hash_key
from db import migrate
from db.session import create_engine
from tests.support.database import fresh_database


async def _count(url: str, table: str) -> int:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
            return int(count or 0)
    finally:
        await engine.dispose()


@pytest.fixture
def migrated_database() -> str:
    url = asyncio.run(fresh_database("cli"))
    migrate.upgrade(url)
    return url


def test_seed_loads_everything_then_is_a_no_op(
    migrated_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(migrated_database)
    first = capsys.readouterr().err
    seed(migrated_database)
    second = capsys.readouterr().err

    assert "total                  421        0        0          0" in first
    assert "seeds unchanged since the last load: nothing to do" in second
    assert asyncio.run(_count(migrated_database, "evidence")) == 232


def test_dry_run_writes_nothing(migrated_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed(migrated_database, dry_run=True)

    assert "(dry run, nothing written)" in capsys.readouterr().err
    assert asyncio.run(_count(migrated_database, "entity")) == 0


def test_a_bad_file_exits_1_listing_its_problems_and_changes_nothing(
    migrated_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "entities:\n"
        "  - slug: atlantis\n"
        "    kind: continent\n"
        "    name: Atlantis\n"
        "events:\n"
        "  - slug: sinking\n"
        "    title: Atlantis sinks\n"
        "    type: SINK\n"
        "    time: sometime\n"
    )

    with pytest.raises(SystemExit) as exited:
        seed(migrated_database, [bad])

    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("seed data rejected:")
    assert f"{bad}: entities[0].kind:" in err
    assert f"{bad}: events[0].type:" in err
    assert f"{bad}: events[0].time:" in err
    assert asyncio.run(_count(migrated_database, "entity")) == 0


def test_seeding_an_unmigrated_database_says_to_migrate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = asyncio.run(fresh_database("cli_unmigrated"))

    with pytest.raises(SystemExit):
        seed(url)

    assert "run `newsgraph migrate upgrade` first" in capsys.readouterr().err


def test_api_keys_are_shown_once_listed_without_secret_and_revocable(
    migrated_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_database)
    get_settings.cache_clear()
    try:
        main(["apikey", "create", "--name", "editor desk", "--scope", "write"])
        key = capsys.readouterr().out.strip()
        main(["apikey", "list"])
        listed = capsys.readouterr().out
        main(["apikey", "revoke", key[:9]])
        main(["apikey", "list"])
        after = capsys.readouterr().out
    finally:
        get_settings.cache_clear()

    assert key.startswith("ng_")
    assert len(key) > 40
    assert key not in listed
    assert f"{key[:9]}..." in listed
    assert "write" in listed
    assert "editor desk" in listed
    assert "active" in listed
    assert "revoked" in after
    stored = asyncio.run(_scalar(migrated_database, "SELECT key_hash FROM api_key"))
    assert stored == hash_key(key)
    assert key not in str(stored)


async def _scalar(url: str, sql: str) -> object:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return await connection.scalar(text(sql))
    finally:
        await engine.dispose()
