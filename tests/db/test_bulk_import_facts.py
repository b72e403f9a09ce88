"""`newsgraph import` of relations, statements, evidence lines and evidence on every part
(tests/support/fact_corpus.py): the checks, by line, whether what a line refers to was written
by its own batch or an earlier one."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from db.bulk import import_ndjson
from tests.support.bulk import expected_rows, table_counts
from tests.support.database import connect, migrated_database
from tests.support.fact_corpus import NORTH, fact_corpus, note


def write_corpus(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text(
        "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records),
        encoding="utf-8",
    )


def _find(records: list[dict[str, Any]], **wanted: Any) -> dict[str, Any]:
    return next(r for r in records if all(r.get(k) == v for k, v in wanted.items()))


def _broken_corpus() -> tuple[list[dict[str, Any]], dict[int, str]]:
    """The fact corpus with bad lines, and the reason expected for each bad line's number."""
    records = fact_corpus()
    # Statements outside any event, so that a refused event refuses nothing else.
    for record in records:
        if record["type"] == "statement":
            record["event"] = None
    statement = _find(records, slug="lind-says-they-agreed")
    statement["text"] = "We agreed to meet twice."
    relation = _find(records, type="relation", kind="holds_office")
    relation["evidence"][0]["start"] += 1
    meeting = _find(records, slug="lind-berg-meeting")
    meeting["evidence"][1]["note"] = "  "
    accord = _find(records, slug="fishing-accord-talks")
    accord["parent"] = "nowhere"
    visit = _find(records, slug="berg-visits-rome")
    visit["participants"][0]["evidence"].append(note("no-such-article", "Nowhere."))
    alias_line = _find(records, type="evidence", of="alias", entity="bo-berg")
    alias_line["name"] = "Bergie"
    article_line = _find(records, type="evidence", of="article", article=NORTH)
    del article_line["items"][1]["quote"]
    twice = copy.deepcopy(_find(records, type="evidence", of="entity", entity="ana-lind"))
    records.insert(records.index(article_line), twice)
    relation_twice = copy.deepcopy(_find(records, type="relation", kind="part_of"))
    records.append(relation_twice)
    reasons = {
        id(statement): (
            "text: a direct quote must appear word for word in an article its evidence cites"
        ),
        id(relation): "evidence[0]: span [",
        id(meeting): "evidence.1: editorial evidence needs a non-blank note",
        id(accord): "parent: unknown event 'nowhere'",
        id(visit): "participants[0].evidence[1]: unknown article 'no-such-article'",
        id(alias_line): "unknown alias 'Bergie' (en) of entity 'bo-berg'",
        id(article_line): "items.1: a cited span needs start, end and quote",
        id(twice): "the entity's evidence is listed twice",
        id(relation_twice): "the relation is defined twice",
    }
    expected = {
        number: reasons[id(record)]
        for number, record in enumerate(records, start=1)
        if id(record) in reasons
    }
    return records, expected


@pytest.mark.parametrize("batch_lines", [1, 1000], ids=["a-line-a-batch", "one-batch"])
async def test_bad_facts_are_rejected_by_line_and_the_rest_is_imported(
    tmp_path: Path, batch_lines: int
) -> None:
    records, expected = _broken_corpus()
    if batch_lines == 1:
        # The first of two lines is committed by a batch of its own before the second's.
        for number, reason in expected.items():
            if reason.endswith("twice"):
                what = reason.removesuffix(" is listed twice").removesuffix(" is defined twice")
                expected[number] = f"{what} already exists in the database"
    path = tmp_path / "facts.ndjson"
    write_corpus(path, records)
    url = await migrated_database(f"bulk_facts_{batch_lines}")
    connection = await connect(url)
    try:
        report = await import_ndjson(connection, path, batch_lines=batch_lines)
        counts = await table_counts(connection)
    finally:
        await connection.close()
    assert {r.line: r.reason for r in report.rejections}.keys() == expected.keys()
    for rejection in report.rejections:
        assert rejection.reason.startswith(expected[rejection.line]), rejection
    assert report.failed_batches == 0
    # What was imported: everything else, evidence and all.
    assert counts == dict(report.rows)
    assert (counts["entity_relation"], counts["statement"], counts["event"]) == (2, 1, 0)


async def test_the_facts_import_a_line_a_batch_and_a_reimport_changes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "facts.ndjson"
    records = fact_corpus()
    write_corpus(path, records)
    url = await migrated_database("bulk_facts_again")
    connection = await connect(url)
    try:
        # A line a batch: every reference, span and direct quote is checked in the database.
        first = await import_ndjson(connection, path, batch_lines=1)
        before = await table_counts(connection)
        again = await import_ndjson(connection, path, batch_lines=5)
        after = await table_counts(connection)
    finally:
        await connection.close()
    assert first.rejected == 0
    assert after == before
    assert before == expected_rows(records)
    assert [rejection.line for rejection in again.rejections] == list(range(1, len(records) + 1))
    reasons = {
        (record["type"], r.reason) for record, r in zip(records, again.rejections, strict=True)
    }
    assert {reason for kind, reason in reasons if kind in {"evidence", "relation"}} == {
        "the entity's evidence already exists in the database",
        "the alias's evidence already exists in the database",
        "the article's evidence already exists in the database",
        "the relation already exists in the database",
    }
    assert all(reason.endswith("already exists in the database") for _, reason in reasons)


async def test_a_batch_the_database_refuses_leaves_none_of_its_facts(tmp_path: Path) -> None:
    records = fact_corpus()
    first_fact = next(n for n, r in enumerate(records) if r["type"] == "evidence")
    base, facts = tmp_path / "base.ndjson", tmp_path / "facts.ndjson"
    write_corpus(base, records[:first_fact])
    write_corpus(facts, records[first_fact:])
    url = await migrated_database("bulk_facts_refused")
    connection = await connect(url)
    try:
        # A rule the importer does not know about, so that only the database can refuse the
        # batch of the evidence lines, relations, events and statements.
        await connection.execute(
            "ALTER TABLE statement ADD CONSTRAINT refuse_one"
            " CHECK (slug <> 'berg-says-talks-went-well')"
        )
        assert (await import_ndjson(connection, base)).rejected == 0
        before = await table_counts(connection)
        report = await import_ndjson(connection, facts)
        after = await table_counts(connection)
    finally:
        await connection.close()
    assert report.failed_batches == 1
    assert [r.line for r in report.rejections] == list(range(1, len(records) - first_fact + 1))
    assert all("refuse_one" in r.reason for r in report.rejections)
    assert after == before
    assert (before["article"], before["entity"], before["evidence"]) == (2, 6, 0)
