"""Bad seed files are rejected with file, path and reason, and the database stays as it was."""

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import StatementKind
from db.models import Entity, Event, Evidence, SeedFile, Statement
from seeds import write as seed_write
from seeds.loader import SeedError, load_seeds
from tests.support.seed_files import STORY, write


async def rows(session: AsyncSession) -> tuple[int, int, int, int]:
    """Entities, events, evidence and seed-file records: all zero when nothing was written."""
    counts = []
    for model in (Entity, Event, Evidence, SeedFile):
        counts.append(int(await session.scalar(select(func.count()).select_from(model)) or 0))
    return counts[0], counts[1], counts[2], counts[3]


async def rejected(session: AsyncSession, paths: list[Path]) -> list[tuple[str, str, str]]:
    with pytest.raises(SeedError) as raised:
        await load_seeds(session, paths)
    return [(Path(p.file).name, p.path, p.message) for p in raised.value.problems]


BAD_FILES = {
    "unknown entity slug": (
        ("{entity: beta, role: actor, evidence", "{entity: delta, role: actor, evidence"),
        ("events[0].participants[1].entity", "unknown entity slug 'delta'"),
    ),
    "span mismatch": (
        ("- quote: Alpha met Beta in Gamma on Monday",
         "- {quote: Alpha met Gamma, start: 0, end: 15}"),
        ("events[0].evidence[0].quote",
         "in article 'test-wire-story': span [0, 15) covers 'Alpha met Beta ', "
         "not 'Alpha met Gamma'"),
    ),
    "quote not found": (
        ("- quote: Alpha met Beta in Gamma on Monday", "- quote: Alpha met Delta"),
        ("events[0].evidence[0].quote",
         "in article 'test-wire-story': 'Alpha met Delta' does not occur in the article body"),
    ),
    "ambiguous quote": (
        ("- quote: Alpha met Beta in Gamma on Monday", "- quote: Alpha"),
        ("events[0].evidence[0].quote",
         "in article 'test-wire-story': 'Alpha' occurs 2 times (at offsets 0, 36); add "
         "`occurrence:` or `start`/`end`"),
    ),
    "offsets out of range": (
        ("{entity: gamma, surface: Gamma}", "{entity: gamma, surface: Gamma, start: 500}"),
        ("articles[0].mentions[4].start",
         "span [500, 505) is outside the body (length 72) or empty"),
    ),
    "bad EDTF": (
        ('time: "2021-10-04"', 'time: "2021-13-45"'),
        ("events[0].time", "not a valid EDTF date or interval: '2021-13-45'"),
    ),
    "unknown PLOVER type": (
        ("type: CONSULT", "type: MEET"),
        ("events[0].type",
         "unknown PLOVER event type 'MEET'; expected one of AGREE, CONSULT, SUPPORT, CONCEDE, "
         "COOPERATE, AID, RETREAT, REQUEST, ACCUSE, REJECT, THREATEN, PROTEST, SANCTION, "
         "MOBILIZE, COERCE, ASSAULT"),
    ),
    "duplicate slug": (
        ("  - {slug: gamma, kind: organization, name: Gamma}",
         "  - {slug: gamma, kind: organization, name: Gamma}\n"
         "  - {slug: beta, kind: person, name: B}"),
        ("entities[3]", "duplicate entity slug 'beta': already defined at {file}: entities[1]"),
    ),
    "unknown enum value": (
        ("{entity: alpha, role: actor,", "{entity: alpha, role: speaker,"),
        ("events[0].participants[0].role",
         "Input should be 'actor', 'recipient', 'mediator', 'target', 'beneficiary' or "
         "'subject' (got 'speaker')"),
    ),
    "misspelt key": (
        ("    title: Alpha meets Beta", "    title: Alpha meets Beta\n    sumary: A meeting."),
        ("events[0]", "unknown key 'sumary'"),
    ),
    "editorial evidence without a note": (
        ("{field: time, editorial: true, note: The Monday of the week of the story.}",
         "{field: time, editorial: true}"),
        ("events[0].evidence[1]", "editorial evidence needs a `note` saying how it was derived"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
async def test_a_bad_file_is_rejected_with_its_path_and_reason(
    session: AsyncSession, tmp_path: Path, case: str
) -> None:
    (old, new), (path_in_file, message) = BAD_FILES[case]
    assert old in STORY
    path = write(tmp_path, STORY.replace(old, new))

    problems = await rejected(session, [path])

    assert problems == [("story.yaml", path_in_file, message.format(file=path))]
    assert await rows(session) == (0, 0, 0, 0)


async def test_every_problem_of_every_file_is_reported_at_once(
    session: AsyncSession, tmp_path: Path
) -> None:
    first = write(
        tmp_path,
        STORY.replace("type: CONSULT", "type: MEET").replace('time: "2021-10-04"', "time: soon"),
        "first.yaml",
    )
    second = write(
        tmp_path,
        "entities:\n  - {slug: Delta, kind: person, name: Delta}\n  - {slug: epsilon, kind: x}\n",
        "second.yaml",
    )

    with pytest.raises(SeedError) as raised:
        await load_seeds(session, [first, second])

    problems = [(Path(p.file).name, p.path) for p in raised.value.problems]
    assert problems == [
        ("first.yaml", "events[0].type"),
        ("first.yaml", "events[0].time"),
        ("second.yaml", "entities[0].slug"),
        ("second.yaml", "entities[1].kind"),
        ("second.yaml", "entities[1]"),
    ]
    lines = str(raised.value).splitlines()
    assert lines[0] == "seed data rejected: 5 problems"
    assert lines[1] == f"  {first}: events[0].type: unknown PLOVER event type 'MEET'; " + (
        "expected one of AGREE, CONSULT, SUPPORT, CONCEDE, COOPERATE, AID, RETREAT, REQUEST, "
        "ACCUSE, REJECT, THREATEN, PROTEST, SANCTION, MOBILIZE, COERCE, ASSAULT"
    )
    assert lines[5] == f"  {second}: entities[1]: missing required key 'name'"
    assert await rows(session) == (0, 0, 0, 0)


async def test_duplicate_slugs_across_files_and_parent_loops(
    session: AsyncSession, tmp_path: Path
) -> None:
    story = write(tmp_path, STORY.replace('    time: "2021-10-04"\n', "    parent: later\n"))
    other = write(
        tmp_path,
        """\
cites: test-wire-story
entities:
  - {slug: gamma, kind: place, name: Gamma}
events:
  - slug: later
    title: Later
    type: AGREE
    parent: alpha-meets-beta
    evidence: [{quote: agreed to meet again}]
""",
        "other.yaml",
    )

    problems = await rejected(session, [story, other])

    assert problems == [
        ("other.yaml", "entities[0]",
         f"duplicate entity slug 'gamma': already defined at {story}: entities[2]"),
        ("story.yaml", "events[0].parent",
         "event parents form a loop: alpha-meets-beta -> later -> alpha-meets-beta"),
    ]  # fmt: skip


async def test_yaml_errors_and_unreadable_files(session: AsyncSession, tmp_path: Path) -> None:
    duplicate_key = write(tmp_path, "entities: []\nentities: []\n", "twice.yaml")
    missing = tmp_path / "missing.yaml"

    problems = await rejected(session, [duplicate_key, missing])

    # Unreadable files first, then what is wrong inside the readable ones.
    assert [(name, path) for name, path, _ in problems] == [
        ("missing.yaml", ""),
        ("twice.yaml", ""),
    ]
    assert problems[0][2] == "cannot read the file: No such file or directory"
    assert "duplicate key 'entities'" in problems[1][2]


async def test_a_database_failure_while_writing_rolls_the_whole_run_back(
    session: AsyncSession, tmp_path: Path
) -> None:
    path = write(tmp_path, STORY)
    await load_seeds(session, [path])
    record_hash = await session.scalar(select(SeedFile.content_hash))
    # A statement added through the API keeps beta alive: it may not be deleted.
    beta_id = await session.scalar(select(Entity.id).where(Entity.slug == "beta"))
    session.add(
        Statement(
            slug="beta-speaks", speaker_id=beta_id, text="Hello.", kind=StatementKind.PARAPHRASE
        )
    )
    await session.flush()

    edited = (
        STORY.replace("description: A person.", "description: A diplomat.")
        .replace("  - {slug: beta, kind: person, name: Beta}\n", "")
        .replace("      - {entity: beta, surface: Beta, occurrence: 1}\n", "")
        .replace("      - {entity: beta, surface: Beta, occurrence: 2}\n", "")
        .replace("      - {entity: beta, role: actor, evidence: [{quote: Alpha met Beta}]}\n", "")
        .replace("  - {slug: gamma, kind: organization, name: Gamma}\n",
                 "  - {slug: gamma, kind: organization, name: Gamma}\n"
                 "  - {slug: delta, kind: person, name: Delta}\n")
    )  # fmt: skip
    write(tmp_path, edited)

    with pytest.raises(SeedError) as raised:
        await load_seeds(session, [path])

    [problem] = raised.value.problems
    assert (problem.file, problem.path) == ("(database)", "")
    assert problem.message.startswith("the database rejected the seed data: ")
    # PostgreSQL 18 says "violates RESTRICT setting of foreign key constraint", 15 does not.
    assert 'foreign key constraint "fk_statement_speaker_id_entity"' in problem.message
    # Writes made before the failure are gone too: the new entity, the new description.
    alpha = (await session.scalars(select(Entity).where(Entity.slug == "alpha"))).one()
    slugs = (await session.scalars(select(Entity.slug).order_by(Entity.slug))).all()
    assert (alpha.description, alpha.version) == ("A person.", 1)
    assert slugs == ["alpha", "beta", "gamma"]
    assert await session.scalar(select(SeedFile.content_hash)) == record_hash


async def test_an_error_in_the_middle_of_writing_leaves_nothing_behind(
    session: AsyncSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, STORY)
    original = seed_write._Writer._write_events

    async def failing(writer: seed_write._Writer) -> None:
        await original(writer)
        raise RuntimeError("disk full")

    monkeypatch.setattr(seed_write._Writer, "_write_events", failing)

    with pytest.raises(RuntimeError, match="disk full"):
        await load_seeds(session, [path])

    # Sources, articles and entities were already flushed when the failure came.
    assert await rows(session) == (0, 0, 0, 0)
