"""Relations, statements, event parents and evidence on every kind of subject, through import and
export, whole and filtered by article (tests/support/fact_corpus.py)."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.bulk import canonical_dump, export_bytes, import_bytes
from tests.support.database import migrated_database
from tests.support.fact_corpus import NORTH, fact_corpus


def encode(records: list[dict[str, Any]]) -> bytes:
    return "".join(
        json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n" for record in records
    ).encode()


def key(record: dict[str, Any]) -> tuple[str, ...]:
    if record["type"] == "relation":
        return ("relation", record["subject"], record["kind"], record["object"])
    if record["type"] == "evidence":
        subject = record.get("entity") or record["article"]
        return ("evidence", record["of"], subject, *([record["name"]] if "name" in record else []))
    return (record["type"], record["slug"])


@pytest.fixture(scope="module")
async def fact_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = await migrated_database("export_facts")
    path = tmp_path_factory.mktemp("facts") / "facts.ndjson"
    await import_bytes(url, path, encode(fact_corpus()))
    return url


async def test_the_export_writes_every_fact_as_the_corpus_has_it(
    fact_url: str, tmp_path: Path
) -> None:
    data, report = await export_bytes(fact_url)
    assert data == encode(fact_corpus())
    assert dict(report.records) == {
        "source": 2,
        "entity": 6,
        "article": 2,
        "evidence": 6,
        "relation": 3,
        "event": 3,
        "statement": 2,
    }
    copy_url = await migrated_database("export_facts_copy")
    await import_bytes(copy_url, tmp_path / "copy.ndjson", data)
    assert await canonical_dump(copy_url) == await canonical_dump(fact_url)


def _north_only(record: dict[str, Any]) -> dict[str, Any]:
    """The record with only the evidence items of the north article, at every level."""

    def kept(value: Any) -> Any:
        if isinstance(value, list):
            return [
                kept(item)
                for item in value
                if not (isinstance(item, dict) and "quote" in item and item["article"] != NORTH)
            ]
        if isinstance(value, dict):
            return {name: kept(part) for name, part in value.items()}
        return value

    return kept(record)  # type: ignore[no-any-return]


async def test_a_filtered_export_holds_the_facts_of_its_articles_and_what_they_refer_to(
    fact_url: str, tmp_path: Path
) -> None:
    data, report = await export_bytes(fact_url, source="north-herald")
    lines = [json.loads(line) for line in data.splitlines()]
    assert [key(line) for line in lines] == [
        ("source", "north-herald"),
        # Mentioned in the article; nordland as the object of its relations and the messenger
        # of its statement; rome as the location of an event its statement and its event's
        # parent need. cara-holm is named only in the other article.
        ("entity", "ana-lind"),
        ("entity", "bo-berg"),
        ("entity", "nordland"),
        ("entity", "oslo"),
        ("entity", "rome"),
        ("article", NORTH),
        # bo-berg's and its alias's evidence, and the south article's, cite only the south
        # article.
        ("evidence", "entity", "ana-lind"),
        ("evidence", "alias", "ana-lind", "Lind"),
        ("evidence", "article", NORTH),
        # The mayor's office is evidenced only by the south article.
        ("relation", "bo-berg", "member_of", "nordland"),
        ("relation", "oslo", "part_of", "nordland"),
        # The statement's event and the meeting's parent come along, without the evidence of
        # the other article.
        ("event", "berg-visits-rome"),
        ("event", "fishing-accord-talks"),
        ("event", "lind-berg-meeting"),
        ("statement", "lind-says-they-agreed"),
    ]
    # Each is the record of the whole corpus without the evidence of the other article.
    corpus = {key(record): record for record in fact_corpus()}
    assert lines == [_north_only(corpus[key(line)]) for line in lines]
    assert report.lines == len(lines)
    # It imports cleanly into an empty database and exports again the same.
    copy_url = await migrated_database("export_facts_north")
    await import_bytes(copy_url, tmp_path / "north.ndjson", data)
    assert (await export_bytes(copy_url))[0] == data
