"""The synthetic benchmark corpus (bench/corpus.py), checked at a small scale: deterministic,
complete, in dependency order, with exact spans and a skewed entity popularity."""

import json
import re
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench.corpus import RECORD_TYPES, CorpusSummary, generate
from db.enums import (
    AliasKind,
    DisputeEventRole,
    DisputeKind,
    DisputePartyRole,
    DisputeStatus,
    EntityKind,
    EventType,
    Modality,
    ParticipantRole,
    SourceKind,
    TimePrecision,
)

ARTICLES = 400
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
EDTF_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
EDTF_INTERVAL = re.compile(r"^\d{4}/(\d{4}|\.\.)$")

Record = dict[str, Any]


@pytest.fixture(scope="module")
def corpus_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus") / "corpus.ndjson"


@pytest.fixture(scope="module")
def summary(corpus_path: Path) -> CorpusSummary:
    return generate(corpus_path, articles=ARTICLES, seed=7)


@pytest.fixture(scope="module")
def records(corpus_path: Path, summary: CorpusSummary) -> list[Record]:
    with corpus_path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def of_type(records: list[Record], kind: str) -> list[Record]:
    return [record for record in records if record["type"] == kind]


def test_same_seed_writes_the_same_bytes_and_another_seed_does_not(
    corpus_path: Path, summary: CorpusSummary, tmp_path: Path
) -> None:
    again, other = tmp_path / "again.ndjson", tmp_path / "other.ndjson"
    generate(again, articles=ARTICLES, seed=7)
    generate(other, articles=ARTICLES, seed=8)

    assert again.read_bytes() == corpus_path.read_bytes()
    assert other.read_bytes() != corpus_path.read_bytes()


def test_counts_follow_the_documented_scale(records: list[Record], summary: CorpusSummary) -> None:
    counts = Counter(record["type"] for record in records)

    expected = {"source": 24, "entity": 80, "article": 400, "event": 200, "dispute": 2}
    assert dict(counts) == expected
    assert summary.counts == expected
    assert sum(len(entity["aliases"]) for entity in of_type(records, "entity")) == 200
    participants = [len(event["participants"]) for event in of_type(records, "event")]
    assert set(participants) == {2, 3, 4}
    assert summary.participants == sum(participants)
    mentions = sum(len(article["mentions"]) for article in of_type(records, "article"))
    assert summary.mentions == mentions
    # About ten mentions per article (a million at full scale).
    assert 8 * ARTICLES <= mentions <= 12 * ARTICLES


def test_lines_come_in_dependency_order_with_unique_slugs(records: list[Record]) -> None:
    order = [RECORD_TYPES.index(record["type"]) for record in records]
    assert order == sorted(order)
    for kind in RECORD_TYPES:
        slugs = [record["slug"] for record in of_type(records, kind)]
        assert len(slugs) == len(set(slugs)), kind
        assert all(SLUG.match(slug) and len(slug) <= 120 for slug in slugs), kind


def test_every_reference_names_something_defined_earlier(records: list[Record]) -> None:
    defined: dict[str, set[str]] = {kind: set() for kind in RECORD_TYPES}

    def known(kind: str, slug: str | None) -> bool:
        return slug is None or slug in defined[kind]

    for record in records:
        kind = record["type"]
        if kind == "entity":
            assert all(known("entity", alias["used_by"]) for alias in record["aliases"])
        elif kind == "article":
            assert known("source", record["source"])
            assert all(known("entity", mention["entity"]) for mention in record["mentions"])
        elif kind == "event":
            assert all(known("entity", p["entity"]) for p in record["participants"])
            assert all(known("article", e["article"]) for e in record["evidence"])
        elif kind == "dispute":
            assert all(known("entity", party["entity"]) for party in record["parties"])
            for territory in record["territories"]:
                assert known("entity", territory["entity"])
                assert known("entity", territory["administered_by"])
                assert known("entity", territory["claimed_by"])
                assert territory["administered_by"] != territory["claimed_by"]
            assert all(known("event", step["event"]) for step in record["timeline"])
        defined[kind].add(record["slug"])


def test_mention_and_evidence_spans_match_the_article_bodies(records: list[Record]) -> None:
    articles = {article["slug"]: article for article in of_type(records, "article")}
    for article in articles.values():
        body = article["body"]
        assert article["mentions"], article["slug"]
        for mention in article["mentions"]:
            assert body[mention["start"] : mention["end"]] == mention["surface"]
        assert 150 <= len(body.split()) <= 800
        assert article["summary"] in body
    assert len({article["body"] for article in articles.values()}) == len(articles)

    for event in of_type(records, "event"):
        (evidence,) = event["evidence"]
        article = articles[evidence["article"]]
        assert article["body"][evidence["start"] : evidence["end"]] == evidence["quote"]
        # Every participant is named inside the cited sentence.
        named = {
            mention["entity"]
            for mention in article["mentions"]
            if evidence["start"] <= mention["start"] and mention["end"] <= evidence["end"]
        }
        assert {p["entity"] for p in event["participants"]} <= named


def test_surfaces_are_names_or_aliases_of_their_entity(records: list[Record]) -> None:
    names = {
        entity["slug"]: {entity["name"]} | {alias["name"] for alias in entity["aliases"]}
        for entity in of_type(records, "entity")
    }
    for article in of_type(records, "article"):
        for mention in article["mentions"]:
            assert mention["surface"] in names[mention["entity"]]


def test_enum_values_and_time_formats_match_the_model(records: list[Record]) -> None:
    def members(enum: type[Any]) -> set[str]:
        return {member.value for member in enum}

    for source in of_type(records, "source"):
        assert source["kind"] in members(SourceKind)
    for entity in of_type(records, "entity"):
        assert entity["kind"] in members(EntityKind)
        assert all(alias["kind"] in members(AliasKind) for alias in entity["aliases"])
        keys = [(alias["name"], alias["language"]) for alias in entity["aliases"]]
        assert len(keys) == len(set(keys))
    for article in of_type(records, "article"):
        assert RFC3339_UTC.match(article["published_at"])
        assert article["published_precision"] in members(TimePrecision)
    for event in of_type(records, "event"):
        assert event["event_type"] in members(EventType)
        assert event["modality"] in members(Modality)
        assert EDTF_DATE.match(event["time"])
        roles = [(p["entity"], p["role"]) for p in event["participants"]]
        assert all(role in members(ParticipantRole) for _, role in roles)
        assert len({entity for entity, _ in roles}) == len(roles)
    for dispute in of_type(records, "dispute"):
        assert dispute["kind"] in members(DisputeKind)
        assert dispute["status"] in members(DisputeStatus)
        assert EDTF_INTERVAL.match(dispute["time"])
        assert all(party["role"] in members(DisputePartyRole) for party in dispute["parties"])
        assert len({party["entity"] for party in dispute["parties"]}) == len(dispute["parties"])
        assert all(step["role"] in members(DisputeEventRole) for step in dispute["timeline"])
        assert len({step["event"] for step in dispute["timeline"]}) == len(dispute["timeline"])


def test_entity_popularity_is_skewed(records: list[Record], summary: CorpusSummary) -> None:
    articles_per_entity = Counter(
        slug
        for article in of_type(records, "article")
        for slug in {mention["entity"] for mention in article["mentions"]}
    )
    counts = [articles_per_entity[entity["slug"]] for entity in of_type(records, "entity")]

    top_slug, top_count = articles_per_entity.most_common(1)[0]
    assert summary.top_entities[0] == (top_slug, top_count)
    assert top_count >= 10 * statistics.median(counts)
    assert top_count >= ARTICLES // 4
