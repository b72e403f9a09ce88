"""The shipped seed data through GET /v1/export and `newsgraph import` into an empty database:
every fact of every table comes back, compared by natural keys (ids and timestamps differ)."""

from pathlib import Path

from api.main import create_app
from api.settings import Settings
from db.models.evidence import SUBJECT_COLUMNS
from db.session import create_engine, create_sessionmaker
from seeds.loader import default_seed_paths, load_seeds
from tests.support.bulk import (
    CANONICAL,
    EVIDENCE_SUBJECTS,
    canonical_dump,
    export_bytes,
    import_bytes,
)
from tests.support.clients import client_for
from tests.support.database import migrated_database


async def _seeded_database() -> str:
    url = await migrated_database("export_seeds")
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with create_sessionmaker(engine)() as session:
            await load_seeds(session, default_seed_paths())
            await session.commit()
    finally:
        await engine.dispose()
    return url


async def test_the_seed_data_round_trips_through_export_and_import(tmp_path: Path) -> None:
    # The comparison covers every kind of evidence subject the table has.
    assert set(EVIDENCE_SUBJECTS) == set(SUBJECT_COLUMNS)
    url = await _seeded_database()
    app = create_app(Settings.model_validate({"DATABASE_URL": url}))
    async with client_for(app) as client:
        response = await client.get("/v1/export")
    assert response.status_code == 200
    data = response.content
    assert data == (await export_bytes(url))[0]

    copy_url = await migrated_database("export_seeds_copy")
    await import_bytes(copy_url, tmp_path / "seeds.ndjson", data)
    seeded, copy = await canonical_dump(url), await canonical_dump(copy_url)
    # The seeds hold rows in every table, and evidence on every kind of subject.
    assert [table for table in CANONICAL if not seeded[table]] == []
    subjects = {row.split(",", 1)[0].lstrip("(") for row in seeded["evidence"]}
    assert subjects == {
        column.removeprefix("subject_").removesuffix("_id") for column in SUBJECT_COLUMNS
    }
    # Per table, the rows the copy lacks and the rows it has in excess.
    differences = {
        table: (
            len(set(seeded[table]) - set(copy[table])),
            len(set(copy[table]) - set(seeded[table])),
        )
        for table in CANONICAL
        if copy[table] != seeded[table]
    }
    assert differences == {}
    assert copy == seeded
    # Export -> import -> export gives the same bytes.
    assert (await export_bytes(copy_url))[0] == data
