"""The evaluation of mention detection and candidate recognition (`make eval`): precision and
recall on the hand-annotated articles of tests/eval/ (README.md there says how they were made).

The gazetteer is what a deployment starts with: the seed entities (seeds/data/entities.yaml)
and the reference data `newsgraph gazetteer load` adds, merged as the load merges them (an
entity of the same slug and kind adopts the reference one's names). No database: detection
(db/gazetteer.py `detect`) is pure CPU work.

Known-entity mentions are scored by (start, end, entity). An ambiguous mention names no entity
until an editor resolves it, so it is neither right nor wrong: it counts against recall only,
and is reported apart (`flagged`: those whose possible entities hold the right one).
Candidates are scored by name; `kinds` is the share of found candidates with the right kind.
"""

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

from db.gazetteer import Gazetteer, detect
from db.reference_gazetteer import reference_entities

HERE = Path(__file__).parent
SEED_ENTITIES = HERE.parent.parent / "seeds" / "data" / "entities.yaml"


def _entity_id(slug: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"newsgraph:{slug}")


def starting_gazetteer() -> Gazetteer:
    names: list[tuple[uuid.UUID, str]] = []
    kinds: dict[str, str] = {}
    for entity in yaml.safe_load(SEED_ENTITIES.read_text(encoding="utf-8"))["entities"]:
        kinds[entity["slug"]] = entity["kind"]
        names.append((_entity_id(entity["slug"]), entity["name"]))
        names += [
            (_entity_id(entity["slug"]), alias["name"]) for alias in entity.get("aliases", [])
        ]
    for reference in reference_entities():
        slug = reference.slug
        if slug in kinds and kinds[slug] != reference.kind.value:
            slug = f"{slug}-{reference.country.lower()}"
        kinds.setdefault(slug, reference.kind.value)
        names.append((_entity_id(slug), reference.name))
        names += [(_entity_id(slug), alias) for alias, _ in reference.aliases]
    return Gazetteer(names)


@dataclass
class Score:
    expected: int = 0
    found: int = 0
    right: int = 0

    @property
    def precision(self) -> float:
        return self.right / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.expected if self.expected else 1.0

    def add(self, other: "Score") -> None:
        self.expected += other.expected
        self.found += other.found
        self.right += other.right

    def __str__(self) -> str:
        return (
            f"precision {self.precision:.3f} ({self.right}/{self.found}), "
            f"recall {self.recall:.3f} ({self.right}/{self.expected})"
        )


@dataclass
class ArticleResult:
    name: str
    mentions: Score
    candidates: Score
    flagged: int  # ambiguous mentions whose possible entities hold the right one
    right_kinds: int
    missed_mentions: list[str]
    wrong_mentions: list[str]
    missed_candidates: list[str]
    wrong_candidates: list[str]


def _whole_words(surface: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(surface)}(?!\w)")


def _spans(body: str, annotated: list[list[str]], names: list[str]) -> list[tuple[int, int, str]]:
    """Each annotated [surface, slug] at the next whole-word occurrence of its surface that is
    not inside one of the candidate `names` ("China" in "East China Sea")."""
    inside = [
        (match.start(), match.end())
        for name in names
        for match in _whole_words(name).finditer(body)
    ]
    spans = []
    position = 0
    for surface, slug in annotated:
        for match in _whole_words(surface).finditer(body, position):
            if not any(s <= match.start() and match.end() <= e for s, e in inside):
                break
        else:
            raise AssertionError(f"{surface!r} not found after offset {position}")
        spans.append((match.start(), match.end(), slug))
        position = match.end()
    return spans


def evaluate_article(
    gazetteer: Gazetteer, name: str, body: str, annotation: dict[str, list[list[str]]]
) -> ArticleResult:
    detection = detect(gazetteer, body)
    names = [name for name, _ in annotation["candidates"]]
    expected = {
        (start, end, _entity_id(slug))
        for start, end, slug in _spans(body, annotation["mentions"], names)
    }
    slugs = {_entity_id(slug): slug for _, slug in annotation["mentions"]}
    found = {
        (start, end, entities[0])
        for (start, end), entities in detection.entities_by_span.items()
        if len(entities) == 1
    }
    flagged = sum(
        1
        for (start, end), entities in detection.entities_by_span.items()
        if len(entities) > 1 and any((start, end, e) in expected for e in entities)
    )
    mentions = Score(len(expected), len(found), len(expected & found))

    wanted = dict(annotation["candidates"])
    got = {candidate.name: candidate.kind.value for candidate in detection.candidates}
    candidates = Score(len(wanted), len(got), len(wanted.keys() & got.keys()))
    return ArticleResult(
        name=name,
        mentions=mentions,
        candidates=candidates,
        flagged=flagged,
        right_kinds=sum(1 for n in wanted.keys() & got.keys() if wanted[n] == got[n]),
        missed_mentions=[
            f"{body[s:e]}@{s} ({slugs.get(i, '?')})" for s, e, i in sorted(expected - found)
        ],
        wrong_mentions=[f"{body[s:e]}@{s}" for s, e, _ in sorted(found - expected)],
        missed_candidates=sorted(wanted.keys() - got.keys()),
        wrong_candidates=sorted(got.keys() - wanted.keys()),
    )


@dataclass
class Report:
    articles: list[ArticleResult]
    mentions: Score
    candidates: Score
    flagged: int
    right_kinds: int


def evaluate() -> Report:
    gazetteer = starting_gazetteer()
    annotations = yaml.safe_load((HERE / "annotations.yaml").read_text(encoding="utf-8"))
    results = [
        evaluate_article(
            gazetteer, name, (HERE / "articles" / name).read_text(encoding="utf-8"), annotation
        )
        for name, annotation in annotations["articles"].items()
    ]
    mentions, candidates = Score(), Score()
    for result in results:
        mentions.add(result.mentions)
        candidates.add(result.candidates)
    return Report(
        articles=results,
        mentions=mentions,
        candidates=candidates,
        flagged=sum(result.flagged for result in results),
        right_kinds=sum(result.right_kinds for result in results),
    )


def main() -> None:
    report = evaluate()
    for result in report.articles:
        print(f"{result.name}")
        print(f"  known-entity mentions: {result.mentions}; ambiguous, flagged: {result.flagged}")
        print(f"  candidates:            {result.candidates}")
        for label, items in (
            ("missed mentions", result.missed_mentions),
            ("wrong mentions", result.wrong_mentions),
            ("missed candidates", result.missed_candidates),
            ("wrong candidates", result.wrong_candidates),
        ):
            if items:
                print(f"    {label}: {', '.join(items)}")
    print()
    print(f"known-entity mentions: {report.mentions}; ambiguous, flagged: {report.flagged}")
    print(f"candidates:            {report.candidates}")
    print(f"candidate kinds right: {report.right_kinds}/{report.candidates.right}")


if __name__ == "__main__":
    main()
