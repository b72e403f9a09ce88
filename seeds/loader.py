"""The seed loader: YAML files under seeds/data -> the database, idempotently.

    read and hash every file; stop if none changed since the last load (seed_file table)
    parse + validate every file (seeds.files, seeds.schema)  -> SeedError listing all problems
    look up what the files refer to but do not define       (one query per table, if any)
    plan the rows, check spans and references (seeds.plan)   -> SeedError listing all problems
    write inside a SAVEPOINT (seeds.write); dry_run rolls it back

The caller owns the transaction: nothing here commits. A failure anywhere rolls the SAVEPOINT
back, so the session is left as it was.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Article
from db.models.seed import SeedFile
from seeds.files import (
    DATA_DIR,
    SEEDS_DIR,
    SeedFileInput,
    default_seed_paths,
    parse_seed_file,
    read_seed_file,
)
from seeds.plan import build_plan
from seeds.problems import Problems, SeedError, SeedProblem
from seeds.references import defined_slugs, referenced_slugs
from seeds.report import ResourceCounts, SeedReport
from seeds.rows import TABLES, KnownRows, Plan
from seeds.schema import SeedDocument
from seeds.write import MODELS, WriteResult, apply_plan

__all__ = [
    "SeedError",
    "SeedProblem",
    "SeedReport",
    "default_seed_paths",
    "load_seeds",
]

# Two processes seeding at once (e.g. several API workers starting) take turns.
_LOCK_SQL = text("SELECT pg_advisory_xact_lock(hashtext('newsgraph.seed'))")


def _database_problem(error: DBAPIError, hint: str = "") -> SeedProblem:
    detail = " ".join(str(error.orig).split())
    return SeedProblem("(database)", "", f"{hint}the database rejected the seed data: {detail}")


def _owned_ids(records: Sequence[SeedFile]) -> dict[str, set[uuid.UUID]]:
    owned: dict[str, set[uuid.UUID]] = {table: set() for table in TABLES}
    for record in records:
        for table, ids in record.owned.items():
            owned.setdefault(table, set()).update(uuid.UUID(value) for value in ids)
    return owned


def _vanished_files(
    records: dict[str, SeedFile], files: Sequence[SeedFileInput]
) -> list[SeedFileInput]:
    """Shipped files loaded before but deleted since: their rows go too.

    Only when the run loads shipped files, so that loading one file from elsewhere never
    touches what the shipped files own.
    """
    if not any(Path(f.path).resolve().is_relative_to(DATA_DIR) for f in files):
        return []
    run_keys = {f.key for f in files}
    return [
        SeedFileInput(SEEDS_DIR / key, key, key, "", None, SeedDocument())
        for key in sorted(records)
        if key not in run_keys and not key.startswith("/") and not (SEEDS_DIR / key).exists()
    ]


async def known_rows(
    session: AsyncSession, files: Sequence[SeedFileInput], owned_by_run: dict[str, set[uuid.UUID]]
) -> KnownRows:
    """Rows the files refer to without defining them: from the database, in one query a table."""
    known = KnownRows()
    defined = defined_slugs(files)
    for table, slugs in referenced_slugs(files).items():
        wanted = slugs - defined[table]
        if not wanted:
            continue
        model = MODELS[table]
        columns = [model.slug, model.id]  # type: ignore[attr-defined]
        if model is Article:
            columns.append(Article.body)
        rows = (await session.execute(select(*columns).where(columns[0].in_(wanted)))).all()
        for row in rows:
            if row.id in owned_by_run.get(table, set()):
                # Its file no longer defines it (the slug is not in `defined`): it is going away.
                known.removed.setdefault(table, set()).add(row.slug)
                continue
            known.ids.setdefault(table, {})[row.slug] = row.id
            if model is Article:
                known.bodies[row.slug] = row.body
    return known


def _new_ownership(plan: Plan, written: WriteResult) -> dict[str, dict[str, list[str]]]:
    owned: dict[str, dict[str, list[str]]] = {}
    for table in TABLES:
        for key, row in plan.rows[table].items():
            owned.setdefault(row.owner, {}).setdefault(table, []).append(
                str(written.ids[table][key])
            )
    for tables in owned.values():
        for ids in tables.values():
            ids.sort()
    return owned


async def _record_ownership(
    session: AsyncSession,
    records: dict[str, SeedFile],
    files: Sequence[SeedFileInput],
    vanished: Sequence[SeedFileInput],
    owned: dict[str, dict[str, list[str]]],
) -> None:
    taken = {value for tables in owned.values() for ids in tables.values() for value in ids}
    for seed_file in files:
        record = records.get(seed_file.key)
        mine = owned.get(seed_file.key, {})
        if record is None:
            session.add(
                SeedFile(key=seed_file.key, content_hash=seed_file.content_hash, owned=mine)
            )
        elif record.content_hash != seed_file.content_hash or record.owned != mine:
            record.content_hash = seed_file.content_hash
            record.owned = mine
            record.loaded_at = datetime.now(UTC)
    for seed_file in vanished:
        await session.delete(records[seed_file.key])
    run_keys = {f.key for f in (*files, *vanished)}
    for key, record in records.items():
        if key in run_keys:
            continue
        # A row another file took over now belongs to that file alone.
        pruned = {
            table: [value for value in ids if value not in taken]
            for table, ids in record.owned.items()
        }
        pruned = {table: ids for table, ids in pruned.items() if ids}
        if pruned != record.owned:
            record.owned = pruned
    await session.flush()


async def load_seeds(
    session: AsyncSession,
    paths: Sequence[Path],
    *,
    dry_run: bool = False,
    force: bool = False,
) -> SeedReport:
    """Load seed files through `session` without committing; raise SeedError if any is wrong.

    With `dry_run`, report what would change and leave the database as it was. Unless
    `force`, a run where no file changed since the last load does nothing (two queries).
    """
    started = perf_counter()
    problems = Problems()
    files: list[SeedFileInput] = []
    seen: dict[str, str] = {}
    for path in paths:
        seed_file = read_seed_file(Path(path), problems)
        if seed_file.key in seen:
            problems.add(seed_file.display, "", f"listed twice (also as {seen[seed_file.key]})")
            continue
        seen[seed_file.key] = seed_file.display
        files.append(seed_file)
    if problems:
        # Report what is wrong inside the readable files too, not only the unreadable ones.
        for seed_file in files:
            parse_seed_file(seed_file, problems)
        problems.raise_if_any()

    try:
        await session.execute(_LOCK_SQL)
        records = {r.key: r for r in (await session.scalars(select(SeedFile))).all()}
    except DBAPIError as error:
        raise SeedError([_database_problem(error, "is the database migrated to head? ")]) from error
    vanished = _vanished_files(records, files)
    run_records = [records[f.key] for f in (*files, *vanished) if f.key in records]
    owned_by_run = _owned_ids(run_records)
    displays = [f.display for f in files]
    if (
        not force
        and not vanished
        and all(f.key in records and records[f.key].content_hash == f.content_hash for f in files)
    ):
        # The same bytes, read by the same format version, were validated and loaded before.
        counts = {table: ResourceCounts(unchanged=len(owned_by_run[table])) for table in TABLES}
        return SeedReport(counts, perf_counter() - started, displays, dry_run=dry_run, skipped=True)

    files = [parse_seed_file(seed_file, problems) for seed_file in files]
    problems.raise_if_any()
    known = await known_rows(session, files, owned_by_run)
    plan = build_plan([*files, *vanished], known, problems)
    problems.raise_if_any()

    try:
        async with session.begin_nested() as savepoint:
            written = await apply_plan(session, plan, owned_by_run)
            await _record_ownership(
                session, records, files, vanished, _new_ownership(plan, written)
            )
            if dry_run:
                await savepoint.rollback()
    except DBAPIError as error:
        raise SeedError([_database_problem(error)]) from error
    return SeedReport(
        written.counts,
        perf_counter() - started,
        displays,
        dry_run=dry_run,
        removed_files=[f.key for f in vanished],
    )
