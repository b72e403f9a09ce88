"""`newsgraph import`: a synthetic corpus (bench.corpus) into fresh databases."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from api.cli import import_corpus
from bench.corpus import generate
from db.bulk import ImportReport, import_ndjson
from db.bulk.console import summary
from db.bulk.importer import TRIGGER_WRITTEN
from db.bulk.records import time_span
from db.checks import InvalidEDTF, parse_time
from tests.support.bulk import expected_rows, table_counts
from tests.support.database import connect, migrated_database


def read_corpus(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as stream:
        return [json.loads(line) for line in stream]


def write_corpus(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "corpus.ndjson"
    generate(path, articles=300, seed=7)
    return path


@pytest.fixture(scope="module")
def corpus_size(corpus: Path) -> int:
    return corpus.stat().st_size


Progress = list[tuple[int, int, int, float]]


@pytest.fixture(scope="module")
async def imported(corpus: Path) -> tuple[str, ImportReport, Progress]:
    """The corpus imported once, in batches small enough that lines refer across batches."""
    url = await migrated_database("bulk")
    connection = await connect(url)
    progress: Progress = []
    try:
        report = await import_ndjson(
            connection,
            corpus,
            batch_lines=100,
            progress=lambda *values: progress.append(values),
        )
    finally:
        await connection.close()
    return url, report, progress


async def test_import_loads_every_row_of_the_corpus(
    corpus: Path, corpus_size: int, imported: tuple[str, ImportReport, Progress]
) -> None:
    url, report, progress = imported
    expected = expected_rows(read_corpus(corpus))
    assert expected["article"] == 300
    assert (report.lines, report.imported_lines, report.rejected) == (535, 535, 0)
    assert report.rejections == []
    assert (report.batches, report.failed_batches) == (6, 0)
    assert [lines for lines, *_ in progress] == [100, 200, 300, 400, 500, 535]
    assert progress[-1][1] == progress[-1][2] == corpus_size
    assert dict(report.rows) == expected
    connection = await connect(url)
    try:
        assert await table_counts(connection) == expected
        span_mismatches = await connection.fetchval(
            "SELECT count(*) FROM mention m JOIN article a ON a.id = m.article_id"
            " WHERE substr(a.body, m.start_offset + 1, m.end_offset - m.start_offset)"
            " <> m.surface OR m.method <> 'curated' OR m.confidence <> 1"
        )
        quote_mismatches = await connection.fetchval(
            "SELECT count(*) FROM evidence e JOIN article a ON a.id = e.article_id"
            " WHERE substr(a.body, e.start_offset + 1, e.end_offset - e.start_offset)"
            " <> e.quote OR e.event_id IS NULL"
        )
        assert (span_mismatches, quote_mismatches) == (0, 0)
        event = await connection.fetchrow(
            "SELECT time_edtf, time_earliest, time_latest, time_precision FROM event"
            " WHERE time_edtf ~ '^\\d{4}-\\d{2}$' ORDER BY slug LIMIT 1"
        )
        assert event is not None
        expected_span = parse_time(event["time_edtf"])
        assert (event["time_earliest"], event["time_latest"], event["time_precision"]) == (
            expected_span.earliest,
            expected_span.latest,
            expected_span.precision,
        )
    finally:
        await connection.close()


def test_the_corpus_is_in_the_format_before_statements_and_evidence_everywhere(
    corpus: Path,
) -> None:
    """bench.corpus writes files without the keys the export has since written (mention
    method and confidence; event duration, location and parent; evidence `editorial`, `note`
    and `field`; evidence of parts): the import tests above show such files still import."""
    records = read_corpus(corpus)
    assert {record["type"] for record in records} == {
        "source",
        "entity",
        "article",
        "event",
        "dispute",
    }
    articles = [record for record in records if record["type"] == "article"]
    events = [record for record in records if record["type"] == "event"]
    assert all(
        set(mention) == {"entity", "start", "end", "surface"}
        for a in articles
        for mention in a["mentions"]
    )
    assert not any({"duration", "location", "parent"} & set(event) for event in events)
    assert all(
        set(item) == {"article", "start", "end", "quote"} for e in events for item in e["evidence"]
    )
    assert all(set(part) == {"entity", "role"} for e in events for part in e["participants"])


async def test_import_leaves_the_tables_it_loaded_vacuumed_and_analyzed(
    corpus: Path, imported: tuple[str, ImportReport, Progress]
) -> None:
    """A bulk load ends with VACUUM (ANALYZE): the planner knows the row counts at once
    (reltuples is -1 for a table never analyzed), so the first queries do not get plans for
    empty tables; and every page holding rows is marked all-visible (only VACUUM does that, as
    it merges the GIN indexes' pending lists), so index-only scans need not visit the heap.
    Pages, not relpages: PostgreSQL 16 and later extend a table by several pages at once while
    COPY loads it, and VACUUM neither marks a page never written all-visible nor truncates one
    or two of them at the end (PostgreSQL 15 extends a page at a time)."""
    url, _, _ = imported
    expected = expected_rows(read_corpus(corpus))
    tables = ["article", "mention", "entity", "event"]
    connection = await connect(url)
    try:
        # What the triggers wrote as the rows went in: vacuumed and analyzed too.
        for table in TRIGGER_WRITTEN:
            expected[table] = await connection.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608 (names from the importer)
            assert expected[table] > 0, table
        tables += TRIGGER_WRITTEN
        rows = await connection.fetch(
            "SELECT relname, reltuples, relpages, relallvisible FROM pg_class"
            " WHERE relname = ANY($1::text[])",
            tables,
        )
        holding_rows = {
            table: await connection.fetchval(
                f"SELECT count(DISTINCT (ctid::text::point)[0]) FROM {table}"  # noqa: S608 (the four names above)
            )
            for table in tables
        }
    finally:
        await connection.close()
    assert {row["relname"]: row["reltuples"] for row in rows} == {
        table: float(expected[table]) for table in tables
    }
    assert all(row["relpages"] > 0 for row in rows)
    for row in rows:
        # A page never written is only ever at the end, after the pages holding rows.
        assert holding_rows[row["relname"]] <= row["relallvisible"] <= row["relpages"], row


async def test_reimport_rejects_every_line_and_changes_nothing(
    corpus: Path, imported: tuple[str, ImportReport, Progress]
) -> None:
    url, first, _ = imported
    connection = await connect(url)
    try:
        before = await table_counts(connection)
        report = await import_ndjson(connection, corpus, batch_lines=250)
        after = await table_counts(connection)
    finally:
        await connection.close()
    assert after == before == dict(first.rows)
    assert (report.lines, report.imported_lines, report.rejected) == (535, 0, 535)
    assert [rejection.line for rejection in report.rejections] == list(range(1, 536))
    records = read_corpus(corpus)
    assert report.rejections[0].reason == (
        f"source {records[0]['slug']!r} already exists in the database"
    )
    assert report.rejections[-1].reason == (
        f"dispute {records[-1]['slug']!r} already exists in the database"
    )
    assert report.failed_batches == 0
    assert "and 515 more" in summary(report)


async def test_cli_exit_codes(corpus: Path, imported: tuple[str, ImportReport, Progress]) -> None:
    url, _, _ = imported
    with pytest.raises(SystemExit) as rejected:
        await asyncio.to_thread(import_corpus, url, corpus)
    with pytest.raises(SystemExit) as missing:
        await asyncio.to_thread(import_corpus, url, corpus.with_name("missing.ndjson"))
    assert (rejected.value.code, missing.value.code) == (2, 1)


async def test_bad_lines_are_reported_by_number_and_the_rest_is_imported(
    corpus: Path, tmp_path: Path
) -> None:
    records = read_corpus(corpus)
    cited = {span["article"] for r in records if r["type"] == "event" for span in r["evidence"]}
    in_timelines = {e["event"] for r in records if r["type"] == "dispute" for e in r["timeline"]}
    uncited = [
        i for i, r in enumerate(records) if r["type"] == "article" and r["slug"] not in cited
    ]
    unlisted = [
        i for i, r in enumerate(records) if r["type"] == "event" and r["slug"] not in in_timelines
    ]
    unknown_entity, span_mismatch, bad_edtf = uncited[0], uncited[1], unlisted[0]
    records[unknown_entity]["mentions"][0]["entity"] = "no-such-entity"
    records[span_mismatch]["mentions"][1]["start"] += 1
    records[bad_edtf]["time"] = "2021-02-30"
    dropped = [records[unknown_entity], records[span_mismatch], records[bad_edtf]]
    lines = [json.dumps(record, ensure_ascii=False) for record in records]
    # Bad lines of their own, inserted so that each ends up at a known line number.
    extra = {
        30: ('{"type": "source", "slug": ', "not valid JSON"),
        60: ('{"type": "podcast", "slug": "p"}', "unknown record type 'podcast'"),
        90: (
            '{"type": "entity", "slug": "mars", "kind": "planet", "name": "Mars"}',
            "kind: Input should be",
        ),
    }
    for number in sorted(extra):
        lines.insert(number - 1, extra[number][0])
    path = tmp_path / "bad.ndjson"
    write_corpus(path, lines)
    # The line numbers of the three broken records, found by their slugs in the file.
    numbers = {
        json.loads(line)["slug"]: number
        for number, line in enumerate(lines, start=1)
        if number not in extra
    }
    expected_lines = {
        **{number: reason for number, (_, reason) in extra.items()},
        numbers[records[unknown_entity]["slug"]]: "mentions[0]: unknown entity 'no-such-entity'",
        numbers[records[span_mismatch]["slug"]]: "mentions[1]: span [",
        numbers[records[bad_edtf]["slug"]]: "time: not a valid EDTF date or interval: '2021-02-30'",
    }

    url = await migrated_database("bulk_bad")
    connection = await connect(url)
    try:
        report = await import_ndjson(connection, path, batch_lines=64)
        counts = await table_counts(connection)
    finally:
        await connection.close()

    assert [rejection.line for rejection in report.rejections] == sorted(expected_lines)
    for rejection in report.rejections:
        assert rejection.reason.startswith(expected_lines[rejection.line]), rejection
    assert (report.lines, report.rejected, report.imported_lines) == (538, 6, 532)
    expected = expected_rows(records)
    for table, count in expected_rows(dropped).items():
        expected[table] -= count
    assert counts == dict(report.rows) == expected


async def test_a_batch_the_database_refuses_leaves_none_of_its_rows(
    corpus: Path, tmp_path: Path
) -> None:
    records = read_corpus(corpus)[:84]  # the 24 sources and 60 entities
    assert [r["type"] for r in records[23:25]] == ["source", "entity"]
    path = tmp_path / "registry.ndjson"
    write_corpus(path, [json.dumps(record, ensure_ascii=False) for record in records])
    refused = records[29]["slug"]  # line 30, in the second batch (lines 21-40)
    url = await migrated_database("bulk_refused")
    connection = await connect(url)
    try:
        # A rule the importer does not know about, so that only the database can refuse.
        await connection.execute(
            f"ALTER TABLE entity ADD CONSTRAINT refuse_one CHECK (slug <> '{refused}')"
        )
        report = await import_ndjson(connection, path, batch_lines=20)
        second_batch = [record["slug"] for record in records[20:40]]
        leftovers = await connection.fetchval(
            "SELECT (SELECT count(*) FROM source WHERE slug = ANY($1::text[]))"
            " + (SELECT count(*) FROM entity WHERE slug = ANY($1::text[]))"
            " + (SELECT count(*) FROM entity_alias a JOIN entity e ON e.id = a.entity_id"
            "    WHERE e.slug = ANY($1::text[]))",
            second_batch,
        )
        counts = await table_counts(connection)
    finally:
        await connection.close()

    assert leftovers == 0
    assert report.failed_batches == 1
    refused_lines = [r for r in report.rejections if "refused the batch" in r.reason]
    assert [r.line for r in refused_lines] == list(range(21, 41))
    assert all("lines 21-40" in r.reason and "refuse_one" in r.reason for r in refused_lines), (
        refused_lines[0]
    )
    # Later entities whose aliases name a refused entity cannot be imported either.
    later = [r for r in report.rejections if r.line > 40]
    assert all("unknown entity" in r.reason for r in later)
    imported = [
        records[n - 1] for n in range(1, 85) if n not in {r.line for r in report.rejections}
    ]
    assert counts == dict(report.rows) == expected_rows(imported)
    assert counts["source"] == 20


@pytest.mark.parametrize(
    "text", ["2021-11-26", "2021-11", "2021-12", "2020-02", "2021", "2000-02-29", "1968/.."]
)
def test_time_span_agrees_with_the_edtf_parser(text: str) -> None:
    assert time_span(text) == parse_time(text)


@pytest.mark.parametrize("text", ["2021-02-30", "2021-13", "21-01-01", "2021/2019"])
def test_time_span_rejects_what_the_edtf_parser_rejects(text: str) -> None:
    with pytest.raises(InvalidEDTF):
        time_span(text)
