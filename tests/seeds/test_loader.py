"""Loading, re-loading and editing seed files: idempotent, exact about what changed."""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AliasKind
from db.models import (
    Dispute,
    DisputeParty,
    Entity,
    EntityAlias,
    EntityRelation,
    Event,
    EventParticipant,
    Evidence,
    Mention,
    SeedFile,
    Statement,
)
from seeds import files as seed_files
from seeds import loader as seed_loader
from seeds.loader import SeedError, default_seed_paths, load_seeds
from seeds.report import SeedReport
from tests.support.seed_files import STORY, write

VERSIONED: tuple[Any, ...] = (Entity, EntityRelation, Event, Statement, Dispute, DisputeParty)


def changes(report: SeedReport) -> dict[str, tuple[int, int, int]]:
    """Per resource: (created, updated, deleted), only where something changed."""
    return {
        name: (counts.created, counts.updated, counts.deleted)
        for name, counts in report.counts.items()
        if counts.changed
    }


async def count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def versions(session: AsyncSession) -> dict[str, list[tuple[str, int]]]:
    return {
        model.__tablename__: sorted(
            (str(row.id), row.version) for row in (await session.scalars(select(model))).all()
        )
        for model in VERSIONED
    }


async def test_second_load_of_the_shipped_seeds_changes_nothing(session: AsyncSession) -> None:
    first = await load_seeds(session, default_seed_paths())
    before = await versions(session)

    second = await load_seeds(session, default_seed_paths())
    forced = await load_seeds(session, default_seed_paths(), force=True)

    assert first.total().created == 421
    assert second.skipped
    assert not second.changed
    assert {name: c.unchanged for name, c in second.counts.items()} == {
        name: c.created for name, c in first.counts.items()
    }
    assert not forced.skipped
    assert not forced.changed
    assert {name: c.unchanged for name, c in forced.counts.items()} == {
        name: c.created for name, c in first.counts.items()
    }
    assert await versions(session) == before
    assert all(version == 1 for rows in before.values() for _, version in rows)


async def test_dry_run_reports_what_would_change_and_writes_nothing(
    session: AsyncSession,
) -> None:
    report = await load_seeds(session, default_seed_paths(), dry_run=True)

    assert report.dry_run
    assert changes(report) == {
        "source": (1, 0, 0),
        "article": (1, 0, 0),
        "entity": (16, 0, 0),
        "entity_alias": (37, 0, 0),
        "entity_relation": (22, 0, 0),
        "mention": (42, 0, 0),
        "event": (13, 0, 0),
        "event_participant": (29, 0, 0),
        "statement": (8, 0, 0),
        "dispute": (3, 0, 0),
        "dispute_party": (5, 0, 0),
        "dispute_territory": (5, 0, 0),
        "dispute_event": (7, 0, 0),
        "evidence": (232, 0, 0),
    }
    assert "(dry run, nothing written)" in report.summary()
    for model in (Entity, Event, Evidence, Mention, SeedFile):
        assert await count(session, model) == 0


async def test_dry_run_of_an_edit_leaves_the_loaded_rows_alone(
    session: AsyncSession, tmp_path: Path
) -> None:
    path = write(tmp_path, STORY)
    await load_seeds(session, [path])
    write(tmp_path, STORY.replace("description: A person.", "description: A diplomat."))

    report = await load_seeds(session, [path], dry_run=True)
    alpha = (await session.scalars(select(Entity).where(Entity.slug == "alpha"))).one()

    assert changes(report) == {"entity": (0, 1, 0)}
    assert (alpha.description, alpha.version) == ("A person.", 1)
    again = await load_seeds(session, [path])
    assert changes(again) == {"entity": (0, 1, 0)}


async def test_an_edit_updates_exactly_what_changed(session: AsyncSession, tmp_path: Path) -> None:
    path = write(tmp_path, STORY)
    await load_seeds(session, [path])
    relation_id = await session.scalar(select(EntityRelation.id))
    beta_version = await session.scalar(select(Entity.version).where(Entity.slug == "beta"))

    write(
        tmp_path,
        STORY.replace("description: A person.", "description: A diplomat.")
        .replace('time: "2020"', 'time: "2019"')
        .replace("      - {name: A., kind: abbreviation}\n", ""),
    )
    report = await load_seeds(session, [path])

    alpha = (await session.scalars(select(Entity).where(Entity.slug == "alpha"))).one()
    relation = (await session.scalars(select(EntityRelation))).one()
    aliases = (await session.scalars(select(EntityAlias.name))).all()
    assert changes(report) == {
        "entity": (0, 1, 0),
        "entity_relation": (0, 1, 0),
        "entity_alias": (0, 0, 1),
    }
    assert report.counts["entity"].unchanged == 2
    assert report.counts["evidence"].unchanged == 5
    assert (alpha.description, alpha.version) == ("A diplomat.", 2)
    # The corrected date updates the same relation rather than replacing it.
    assert (relation.id, relation.time_edtf, relation.version) == (relation_id, "2019", 2)
    assert str(relation.time_earliest) == "2019-01-01"
    assert aliases == ["Al"]
    assert await session.scalar(select(Entity.version).where(Entity.slug == "beta")) == (
        beta_version
    )


async def test_removing_an_entity_deletes_it_and_everything_that_hung_on_it(
    session: AsyncSession, tmp_path: Path
) -> None:
    path = write(tmp_path, STORY)
    await load_seeds(session, [path])

    without_beta = (
        STORY.replace("  - {slug: beta, kind: person, name: Beta}\n", "")
        .replace("      - {entity: beta, surface: Beta, occurrence: 1}\n", "")
        .replace("      - {entity: beta, surface: Beta, occurrence: 2}\n", "")
        .replace("      - {entity: beta, role: actor, evidence: [{quote: Alpha met Beta}]}\n", "")
    )
    write(tmp_path, without_beta)
    report = await load_seeds(session, [path])

    assert changes(report) == {
        "entity": (0, 0, 1),
        "mention": (0, 0, 2),
        "event_participant": (0, 0, 1),
        "evidence": (0, 0, 1),
    }
    assert (await session.scalars(select(Entity.slug).order_by(Entity.slug))).all() == [
        "alpha",
        "gamma",
    ]
    assert await count(session, Mention) == 3
    assert await count(session, EventParticipant) == 1


async def test_rows_added_outside_the_seed_files_are_kept(
    session: AsyncSession, tmp_path: Path
) -> None:
    path = write(tmp_path, STORY)
    await load_seeds(session, [path])
    alpha_id = await session.scalar(select(Entity.id).where(Entity.slug == "alpha"))
    session.add(EntityAlias(entity_id=alpha_id, name="Alfa", language="es", kind=AliasKind.COMMON))
    await session.flush()

    write(tmp_path, STORY.replace("      - {name: Al, kind: short}\n", ""))
    report = await load_seeds(session, [path])

    names = (await session.scalars(select(EntityAlias.name).order_by(EntityAlias.name))).all()
    assert changes(report) == {"entity_alias": (0, 0, 1)}
    assert names == ["A.", "Alfa"]


async def test_a_file_may_refer_to_rows_another_file_loaded(
    session: AsyncSession, tmp_path: Path
) -> None:
    story = write(tmp_path, STORY)
    await load_seeds(session, [story])
    follow_up = write(
        tmp_path,
        """\
cites: test-wire-story
events:
  - slug: alpha-and-beta-agree
    title: Alpha and Beta agree to meet again
    type: AGREE
    modality: intended
    parent: alpha-meets-beta
    participants:
      - {entity: beta, role: actor, evidence: [{quote: Alpha and Beta agreed}]}
    evidence: [{quote: Alpha and Beta agreed to meet again}]
""",
        "follow-up.yaml",
    )

    report = await load_seeds(session, [follow_up])

    assert changes(report) == {"event": (1, 0, 0), "event_participant": (1, 0, 0),
                               "evidence": (2, 0, 0)}  # fmt: skip
    parent = await session.scalar(
        select(Event.slug).where(
            Event.id
            == select(Event.parent_id).where(Event.slug == "alpha-and-beta-agree").scalar_subquery()
        )
    )
    assert parent == "alpha-meets-beta"

    # Removing beta from the first file, while the second still refers to it, is refused.
    write(tmp_path, STORY.replace("  - {slug: beta, kind: person, name: Beta}\n", ""))
    with pytest.raises(SeedError) as raised:
        await load_seeds(session, [story, follow_up])
    messages = {(Path(p.file).name, p.path, p.message) for p in raised.value.problems}
    assert (
        "follow-up.yaml",
        "events[0].participants[0].entity",
        "unknown entity slug 'beta' (its seed file no longer defines it, so this run deletes it)",
    ) in messages
    assert await count(session, Entity) == 3


async def test_each_file_owns_its_rows(session: AsyncSession, tmp_path: Path) -> None:
    path = write(tmp_path, STORY)
    await load_seeds(session, [path])

    record = (await session.scalars(select(SeedFile))).one()
    owned = {table: len(ids) for table, ids in record.owned.items()}

    assert record.key == path.resolve().as_posix()
    assert owned == {
        "source": 1,
        "article": 1,
        "entity": 3,
        "entity_alias": 2,
        "entity_relation": 1,
        "mention": 5,
        "event": 1,
        "event_participant": 2,
        "evidence": 5,
    }


async def test_summary_lists_counts_per_resource(session: AsyncSession, tmp_path: Path) -> None:
    path = write(tmp_path, STORY)

    summary = (await load_seeds(session, [path])).summary().splitlines()
    skipped = (await load_seeds(session, [path])).summary().splitlines()

    assert summary[0].startswith("seeds: 1 file(s), ")
    assert summary[1:] == [
        "resource           created  updated  deleted  unchanged",
        "source                   1        0        0          0",
        "article                  1        0        0          0",
        "entity                   3        0        0          0",
        "entity_alias             2        0        0          0",
        "entity_relation          1        0        0          0",
        "mention                  5        0        0          0",
        "event                    1        0        0          0",
        "event_participant        2        0        0          0",
        "evidence                 5        0        0          0",
        "total                   21        0        0          0",
    ]
    assert skipped[1:] == ["seeds unchanged since the last load: nothing to do"]


async def test_a_deleted_shipped_file_takes_its_rows_with_it(
    session: AsyncSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds_dir = tmp_path / "seeds"
    data_dir = seeds_dir / "data"
    data_dir.mkdir(parents=True)
    for module in (seed_files, seed_loader):
        monkeypatch.setattr(module, "SEEDS_DIR", seeds_dir)
        monkeypatch.setattr(module, "DATA_DIR", data_dir)
    story = write(data_dir, STORY)
    extra = write(
        data_dir, "entities:\n  - {slug: delta, kind: person, name: Delta}\n", "extra.yaml"
    )
    await load_seeds(session, [story, extra])

    extra.unlink()
    report = await load_seeds(session, [story])

    assert report.removed_files == ["data/extra.yaml"]
    assert changes(report) == {"entity": (0, 0, 1)}
    assert (await session.scalars(select(SeedFile.key))).all() == ["data/story.yaml"]
    assert await session.scalar(select(Entity.id).where(Entity.slug == "delta")) is None
