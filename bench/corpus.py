"""Deterministic synthetic NDJSON corpus for load benchmarks (format: bench/README.md).

    python -m bench.corpus --out corpus.ndjson [--articles 100000] [--seed 7]

Lines come in dependency order (sources, entities, articles, events, disputes). Events are
decided while their article is written, because they cite its sentences; they are spooled to
a temporary file and copied after the last article, so memory stays bounded by the entity
list, not by the corpus.
"""

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

from bench.names import EntitySpec, SourceSpec, word
from bench.prose import (
    EVENT_PHRASES,
    BodyBuilder,
    TemplatePool,
    event_template,
    extra_roles,
    fill,
    make_pool,
    month_name,
    render,
)
from bench.world import DisputePlan, Scale, World, build_world
from db.enums import DisputeEventRole, DisputeStatus, EventType, Modality, ParticipantRole

RECORD_TYPES = ("source", "entity", "article", "event", "dispute")
FIRST_DAY = date(2000, 1, 1)
DAYS = 25 * 365
MIN_WORDS, MAX_WORDS = 150, 800
WORDS_PER_MENTION = 46
DISPUTE_ARTICLE_SHARE = 0.1
CANONICAL_SURFACE_SHARE = 0.6
_CONTEXTS = ("diplomatic", "territory", "economic", "military", "humanitarian", "legal")
_MODALITIES = list(Modality)
_MODALITY_WEIGHTS = (85, 5, 5, 5)  # asserted, intended, hypothetical, negated
_EVENT_TYPES = list(EventType)
_MIDDLE_ROLES = (
    DisputeEventRole.NEGOTIATION,
    DisputeEventRole.ESCALATION,
    DisputeEventRole.DE_ESCALATION,
    DisputeEventRole.STATEMENT,
    DisputeEventRole.AGREEMENT,
    DisputeEventRole.BACKGROUND,
)
_SIGNIFICANCE = {
    DisputeEventRole.ORIGIN: "The earliest reported event of the dispute.",
    DisputeEventRole.NEGOTIATION: "Brought the parties to the table.",
    DisputeEventRole.ESCALATION: "Raised tensions between the parties.",
    DisputeEventRole.DE_ESCALATION: "Eased tensions between the parties.",
    DisputeEventRole.STATEMENT: "Restated a party's position.",
    DisputeEventRole.AGREEMENT: "Settled part of the dispute.",
    DisputeEventRole.BACKGROUND: "Context for later developments.",
    DisputeEventRole.RESOLUTION: "Ended the dispute.",
}
_HEADLINE_TAILS = (
    "officials weigh next steps on {noun}",
    "questions remain over {noun}",
    "{noun} back on the agenda",
    "new doubts over {noun}",
)


@dataclass(slots=True)
class CorpusSummary:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RECORD_TYPES, 0))
    aliases: int = 0
    mentions: int = 0
    participants: int = 0
    timeline_entries: int = 0
    min_words: int = MAX_WORDS
    max_words: int = 0
    # (entity slug, number of articles that mention it), most mentioned first
    top_entities: list[tuple[str, int]] = field(default_factory=list)
    median_entity_articles: int = 0
    bytes: int = 0
    seconds: float = 0.0


class _Writer:
    def __init__(self, stream: IO[str], summary: CorpusSummary) -> None:
        self._stream = stream
        self._summary = summary
        self._encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def line(self, record: dict[str, Any]) -> None:
        self._stream.write(self._encode(record))
        self._stream.write("\n")
        self._summary.counts[record["type"]] += 1


def _source_record(source: SourceSpec) -> dict[str, Any]:
    return {
        "type": "source",
        "slug": source.slug,
        "name": source.name,
        "kind": source.kind.value,
        "homepage_url": source.homepage_url,
    }


def _entity_record(entity: EntitySpec, entities: list[EntitySpec]) -> dict[str, Any]:
    return {
        "type": "entity",
        "slug": entity.slug,
        "kind": entity.kind.value,
        "name": entity.name,
        "description": entity.description,
        "external_ids": {"synthetic": f"E{entity.index + 1:06d}"},
        "aliases": [
            {
                "name": alias.name,
                "language": alias.language,
                "kind": alias.kind.value,
                "used_by": None if alias.used_by is None else entities[alias.used_by].slug,
            }
            for alias in entity.aliases
        ],
    }


class _ArticleWriter:
    """Writes articles (and spools the events they report) one at a time."""

    def __init__(
        self, rng: random.Random, world: World, scale: Scale, summary: CorpusSummary
    ) -> None:
        self.rng = rng
        self.world = world
        self.scale = scale
        self.summary = summary
        self.pool: TemplatePool = make_pool(rng)
        self.entity_articles = [0] * len(world.entities)
        self.events_written = 0

    def _surface(self, entity: int) -> str:
        surfaces = self.world.entities[entity].surfaces
        if self.rng.random() < CANONICAL_SURFACE_SHARE:
            return surfaces[0]
        return self.rng.choice(surfaces[1:])

    def _choose_entities(self, forced: list[int], count: int) -> list[int]:
        chosen = list(forced)
        seen = set(chosen)
        count = min(count, len(self.world.entities))
        while len(chosen) < count:
            for entity in self.rng.choices(
                self.world.by_rank, cum_weights=self.world.cum_weights, k=count - len(chosen)
            ):
                if entity not in seen:
                    seen.add(entity)
                    chosen.append(entity)
        return chosen

    def write(self, number: int, out: _Writer, events: _Writer) -> None:
        rng = self.rng
        source = rng.choice(self.world.sources)
        published = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        dispute: DisputePlan | None = None
        if rng.random() < DISPUTE_ARTICLE_SHARE:
            dispute = rng.choice(self.world.disputes)
        reports_event = (
            number + 1
        ) * self.scale.events // self.scale.articles > self.events_written
        participants = rng.choice((2, 3, 4)) if reports_event else 0
        # The last sentences may overshoot the target: keep a margin below MAX_WORDS.
        target_words = rng.randint(MIN_WORDS, MAX_WORDS - 40)
        wanted = max(participants, 2 + target_words // 120 + rng.randint(0, 2))
        chosen = self._choose_entities(dispute.featured() if dispute else [], wanted)
        for entity in chosen:
            self.entity_articles[entity] += 1

        builder = BodyBuilder()
        builder.text(f"{month_name(published.month)} {published.day} ({source.name}) — ")
        names = [self.world.entities[e].name for e in chosen]
        event_type = rng.choice(_EVENT_TYPES)
        phrase = EVENT_PHRASES[event_type]
        modality = rng.choices(_MODALITIES, weights=_MODALITY_WEIGHTS)[0]
        pattern = ""
        if participants:
            template, pattern = event_template(rng, phrase, modality.value, participants)
            lede = builder.sentence(
                template, chosen, [self._surface(e) for e in chosen[:participants]]
            )
            headline = f"{names[0]} {phrase.headline} {names[1]}"
        else:
            template = rng.choice(self.pool.one_entity)
            lede = builder.sentence(template, chosen, [self._surface(chosen[0])])
            headline = f"{names[0]}: " + fill(rng, rng.choice(_HEADLINE_TAILS))
        self._write_rest(builder, chosen, target_words)
        body = builder.body()
        summary_text = body[lede[0] : lede[1]]

        slug = f"{source.slug}-{published.isoformat()}-{number + 1}"
        entities = self.world.entities
        out.line(
            {
                "type": "article",
                "slug": slug,
                "source": source.slug,
                "headline": headline,
                "byline": f"By {word(rng, 2)} {word(rng, 2)}" if rng.random() < 0.8 else None,
                "url": f"{source.homepage_url}/{published:%Y/%m/%d}/{slug}",
                "language": "en",
                "published_at": (
                    f"{published.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z"
                ),
                "published_precision": "day",
                "summary": summary_text,
                "body": body,
                "mentions": [
                    {"entity": entities[e].slug, "start": start, "end": end, "surface": surface}
                    for e, start, end, surface in builder.mentions
                ],
            }
        )
        self.summary.mentions += len(builder.mentions)
        words = len(body.split())
        self.summary.min_words = min(self.summary.min_words, words)
        self.summary.max_words = max(self.summary.max_words, words)
        if participants:
            roles = [ParticipantRole.ACTOR, phrase.other_role, *extra_roles(participants)]
            self._write_event(
                events,
                event_type=event_type,
                modality=modality,
                published=published,
                participants=list(zip(chosen[:participants], roles, strict=True)),
                title=f"{names[0]} {phrase.headline} {names[1]}",
                summary=render(pattern, names),
                evidence={"article": slug, "start": lede[0], "end": lede[1], "quote": summary_text},
                dispute=dispute,
            )

    def _write_rest(self, builder: BodyBuilder, chosen: list[int], target_words: int) -> None:
        rng = self.rng
        mentioned = {entity for entity, _, _, _ in builder.mentions}
        queue = [entity for entity in chosen if entity not in mentioned]
        leading = chosen[: max(2, (len(chosen) + 1) // 2)]
        wanted = max(len(chosen), round(target_words / WORDS_PER_MENTION))
        queue += [rng.choice(leading) for _ in range(wanted - len(builder.mentions) - len(queue))]
        rng.shuffle(queue)
        paragraph_left = rng.randint(2, 5) - 1
        while True:
            words_left = target_words - builder.words
            if not queue and words_left <= 0:
                return
            if paragraph_left == 0:
                builder.text("\n\n")
                paragraph_left = rng.randint(2, 5)
            else:
                builder.text(" ")
            paragraph_left -= 1
            if queue and (words_left <= 0 or rng.random() * max(1.0, words_left / 15) < len(queue)):
                if len(queue) >= 2 and queue[-1] != queue[-2] and rng.random() < 0.4:
                    pair = [queue.pop(), queue.pop()]
                    template = rng.choice(self.pool.two_entities)
                    builder.sentence(template, pair, [self._surface(e) for e in pair])
                else:
                    single = [queue.pop()]
                    template = rng.choice(self.pool.one_entity)
                    builder.sentence(template, single, [self._surface(single[0])])
            else:
                builder.sentence(rng.choice(self.pool.filler), (), ())

    def _write_event(
        self,
        events: _Writer,
        *,
        event_type: EventType,
        modality: Modality,
        published: date,
        participants: list[tuple[int, ParticipantRole]],
        title: str,
        summary: str,
        evidence: dict[str, Any],
        dispute: DisputePlan | None,
    ) -> None:
        rng = self.rng
        occurred = published - timedelta(days=rng.randint(0, 3))
        precision = rng.random()
        if precision < 0.75:
            when = occurred.isoformat()
        elif precision < 0.9:
            when = f"{occurred:%Y-%m}"
        else:
            when = f"{occurred:%Y}"
        self.events_written += 1
        slug = f"{event_type.value.lower()}-{occurred.isoformat()}-{self.events_written}"
        phrase = EVENT_PHRASES[event_type]
        contexts = rng.sample(_CONTEXTS, rng.randint(1, 2))
        events.line(
            {
                "type": "event",
                "slug": slug,
                "title": title,
                "summary": summary,
                "event_type": event_type.value,
                "mode": rng.choice(phrase.modes),
                "contexts": contexts,
                "modality": modality.value,
                "time": when,
                "participants": [
                    {"entity": self.world.entities[e].slug, "role": role.value}
                    for e, role in participants
                ],
                "evidence": [evidence],
            }
        )
        self.summary.participants += len(participants)
        if dispute is not None:
            dispute.timeline.append((when, slug))


def _dispute_record(
    rng: random.Random, dispute: DisputePlan, entities: list[EntitySpec]
) -> dict[str, Any]:
    timeline = sorted(dispute.timeline)
    roles = [
        rng.choice(_MIDDLE_ROLES) if position else DisputeEventRole.ORIGIN
        for position in range(len(timeline))
    ]
    end = ".."
    if dispute.status is DisputeStatus.RESOLVED:
        if len(timeline) >= 2:
            roles[-1] = DisputeEventRole.RESOLUTION
        last_year = int(timeline[-1][0][:4]) if timeline else dispute.start_year + 10
        end = str(max(dispute.start_year, last_year))
    return {
        "type": "dispute",
        "slug": dispute.slug,
        "title": dispute.title,
        "kind": dispute.kind.value,
        "status": dispute.status.value,
        "summary": dispute.summary,
        "time": f"{dispute.start_year}/{end}",
        "parties": [
            {"entity": entities[e].slug, "role": role.value, "position": position}
            for e, role, position in dispute.parties
        ],
        "territories": [
            {
                "entity": entities[t].slug,
                "administered_by": entities[administrator].slug,
                "claimed_by": entities[claimant].slug,
            }
            for t, administrator, claimant in dispute.territories
        ],
        "timeline": [
            {"event": slug, "role": role.value, "significance": _SIGNIFICANCE[role]}
            for (_, slug), role in zip(timeline, roles, strict=True)
        ],
    }


def generate(
    out: Path,
    *,
    articles: int = 100_000,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
) -> CorpusSummary:
    """Write the corpus for `articles` and `seed` to `out`; same arguments, same bytes."""
    started = time.monotonic()
    scale = Scale.for_articles(articles)
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    world = build_world(rng, scale)
    summary = CorpusSummary()
    summary.aliases = sum(len(entity.aliases) for entity in world.entities)
    with (
        out.open("w", encoding="utf-8", newline="\n", buffering=1 << 20) as stream,
        tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n") as spool,
    ):
        writer = _Writer(stream, summary)
        for source in world.sources:
            writer.line(_source_record(source))
        for entity in world.entities:
            writer.line(_entity_record(entity, world.entities))
        articles_writer = _ArticleWriter(rng, world, scale, summary)
        events = _Writer(spool, summary)
        step = max(1, articles // 10)
        for number in range(articles):
            articles_writer.write(number, writer, events)
            if progress and (number + 1) % step == 0:
                elapsed = time.monotonic() - started
                progress(f"articles {number + 1:,}/{articles:,} ({elapsed:.1f}s)")
        spool.seek(0)
        shutil.copyfileobj(spool, stream, 1 << 20)
        for dispute in world.disputes:
            writer.line(_dispute_record(rng, dispute, world.entities))
            summary.timeline_entries += len(dispute.timeline)

    counts = articles_writer.entity_articles
    ranked = sorted(range(len(counts)), key=lambda e: (-counts[e], e))
    summary.top_entities = [(world.entities[e].slug, counts[e]) for e in ranked[:5]]
    summary.median_entity_articles = sorted(counts)[len(counts) // 2]
    summary.bytes = out.stat().st_size
    summary.seconds = time.monotonic() - started
    return summary


def describe(summary: CorpusSummary) -> str:
    counts = ", ".join(f"{kind} {count:,}" for kind, count in summary.counts.items())
    top = ", ".join(f"{slug} {count:,}" for slug, count in summary.top_entities)
    return "\n".join(
        (
            f"records: {counts}",
            f"aliases {summary.aliases:,}, mentions {summary.mentions:,}, "
            f"participants {summary.participants:,}, timeline entries {summary.timeline_entries:,}",
            f"words per article: {summary.min_words}-{summary.max_words}",
            f"top-5 entities by articles: {top}; median entity: {summary.median_entity_articles}",
            f"{summary.bytes / 1e6:,.1f} MB in {summary.seconds:.1f}s",
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.corpus", description="Write a synthetic NDJSON news corpus."
    )
    parser.add_argument("--out", type=Path, required=True, help="NDJSON file to write")
    parser.add_argument("--articles", type=int, default=100_000, help="scale (default 100000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    args = parser.parse_args(argv)
    if args.articles < 1:
        parser.error("--articles must be at least 1")

    def report(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    summary = generate(args.out, articles=args.articles, seed=args.seed, progress=report)
    report(describe(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
