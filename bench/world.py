"""The corpus's fixed cast, built before any article is written: sources, entities with their
popularity ranks, and the disputes (parties, territories) that articles will report on.
"""

import random
from dataclasses import dataclass, field
from itertools import accumulate

from bench.names import (
    EntitySpec,
    SlugRegistry,
    SourceSpec,
    make_entity,
    make_sources,
    slugify,
)
from db.enums import DisputeKind, DisputePartyRole, DisputeStatus, EntityKind

SOURCES = 24
ZIPF_EXPONENT = 1.1
MIN_ENTITIES = 20

# Share of entities per kind, in the order they are written (countries first, so that the
# `used_by` of a territory's alias always names an entity defined earlier in the file).
KIND_SHARES: tuple[tuple[EntityKind, float, int], ...] = (
    (EntityKind.COUNTRY, 0.02, 4),
    (EntityKind.ORGANIZATION, 0.20, 3),
    (EntityKind.TERRITORY, 0.04, 2),
    (EntityKind.PLACE, 0.14, 2),
    (EntityKind.OTHER, 0.05, 1),
    (EntityKind.PERSON, 0.0, 0),  # the rest
)
# Lower is more popular: news is mostly about countries and big organizations.
_POPULARITY_BIAS = {
    EntityKind.COUNTRY: 0.001,
    EntityKind.ORGANIZATION: 0.3,
    EntityKind.TERRITORY: 0.8,
}
_TERRITORIAL = (DisputeKind.TERRITORIAL, DisputeKind.MARITIME)


@dataclass(frozen=True, slots=True)
class Scale:
    articles: int
    entities: int
    events: int
    disputes: int

    @classmethod
    def for_articles(cls, articles: int) -> "Scale":
        if articles < 1:
            raise ValueError("articles must be at least 1")
        return cls(
            articles=articles,
            entities=max(articles // 5, MIN_ENTITIES),
            events=max(articles // 2, 1),
            disputes=max(articles // 200, 1),
        )


@dataclass(slots=True)
class DisputePlan:
    slug: str
    title: str
    kind: DisputeKind
    status: DisputeStatus
    summary: str
    start_year: int
    # (entity index, role, position)
    parties: list[tuple[int, DisputePartyRole, str]]
    # (territory, administered_by, claimed_by)
    territories: list[tuple[int, int, int]]
    # (EDTF time, event slug), appended while articles are written
    timeline: list[tuple[str, str]] = field(default_factory=list)

    def featured(self) -> list[int]:
        """The entities an article about this dispute names: its two main sides and a territory."""
        return [self.parties[0][0], self.parties[1][0], *(t[0] for t in self.territories[:1])]


@dataclass(frozen=True, slots=True)
class World:
    sources: list[SourceSpec]
    entities: list[EntitySpec]
    # Entity indices from most to least popular, and their cumulative Zipf weights.
    by_rank: list[int]
    cum_weights: list[float]
    disputes: list[DisputePlan]


def _kind_counts(total: int) -> list[tuple[EntityKind, int]]:
    counts = [(kind, max(int(total * share), minimum)) for kind, share, minimum in KIND_SHARES]
    assigned = sum(count for _, count in counts)
    return [(kind, count or total - assigned) for kind, count in counts]


def _make_entities(rng: random.Random, total: int) -> list[EntitySpec]:
    slugs = SlugRegistry()
    countries: list[str] = []
    capitals: list[str] = []
    entities: list[EntitySpec] = []
    for kind, count in _kind_counts(total):
        for _ in range(count):
            index = len(entities)
            # 2 and 3 aliases alternately: 2.5 per entity on average.
            alias_count = 3 if index % 2 == 0 else 2
            entities.append(
                make_entity(
                    rng,
                    index=index,
                    kind=kind,
                    alias_count=alias_count,
                    slugs=slugs,
                    countries=countries,
                    capitals=capitals,
                )
            )
    return entities


def _rank(rng: random.Random, entities: list[EntitySpec]) -> tuple[list[int], list[float]]:
    keys = [rng.random() * _POPULARITY_BIAS.get(entity.kind, 1.0) for entity in entities]
    by_rank = sorted(range(len(entities)), key=lambda index: (keys[index], index))
    weights = [1.0 / (rank**ZIPF_EXPONENT) for rank in range(1, len(entities) + 1)]
    return by_rank, list(accumulate(weights))


def _positions(
    kind: DisputeKind, claimant: EntitySpec, other: EntitySpec, subject: str
) -> tuple[str, str]:
    if kind in _TERRITORIAL:
        return (
            f"The {subject} are an inseparable part of {claimant.name}; the occupation is illegal.",
            f"{other.name} exercises lawful sovereignty over the {subject}.",
        )
    return (
        f"{other.name} must take responsibility for the {subject}.",
        f"{other.name} has acted within its rights on the {subject}.",
    )


def _plan_disputes(rng: random.Random, entities: list[EntitySpec], count: int) -> list[DisputePlan]:
    countries = [e.index for e in entities if e.kind is EntityKind.COUNTRY]
    mediators = [e.index for e in entities if e.kind is EntityKind.ORGANIZATION]
    territories = [e.index for e in entities if e.kind is EntityKind.TERRITORY]
    rng.shuffle(territories)
    slugs = SlugRegistry()
    statuses = list(DisputeStatus)
    plans = []
    for number in range(count):
        kind = rng.choice(list(DisputeKind))
        status = rng.choices(statuses, weights=(6, 2, 2))[0]
        claimant, other = (entities[i] for i in rng.sample(countries, 2))
        held: list[int] = []
        if kind in _TERRITORIAL:
            held = [
                territories[(number * 2 + i) % len(territories)] for i in range(rng.randint(1, 2))
            ]
            held = sorted(set(held), key=held.index)
        if held:
            subject = entities[held[0]].name
            title = f"{subject} dispute"
            second_role = DisputePartyRole.ADMINISTERING_PARTY
        else:
            subject = f"{rng.choice(('border', 'trade', 'water', 'fishing', 'debt'))} question"
            title = f"{claimant.name}\N{EN DASH}{other.name} {kind.value} dispute"
            second_role = DisputePartyRole.RESPONSIBLE_PARTY
        first_position, second_position = _positions(kind, claimant, other, subject)
        parties = [
            (claimant.index, DisputePartyRole.CLAIMANT, first_position),
            (other.index, second_role, second_position),
        ]
        if rng.random() < 0.5:
            parties.append(
                (
                    rng.choice(mediators),
                    DisputePartyRole.MEDIATOR,
                    "Both sides should return to negotiations without preconditions.",
                )
            )
        for territory in held:
            for alias in entities[territory].aliases:
                # A territory shared by two disputes keeps the names of its first one.
                if alias.side == "claimant" and alias.used_by is None:
                    alias.used_by = claimant.index
                elif alias.side == "administrator" and alias.used_by is None:
                    alias.used_by = other.index
        plans.append(
            DisputePlan(
                slug=slugs.claim(slugify(title)),
                title=title,
                kind=kind,
                status=status,
                summary=(
                    f"{claimant.name} and {other.name} are in a {kind.value} dispute over the "
                    f"{subject}. (Synthetic benchmark data.)"
                ),
                start_year=rng.randint(1945, 1999),
                parties=parties,
                territories=[(t, other.index, claimant.index) for t in held],
            )
        )
    return plans


def build_world(rng: random.Random, scale: Scale) -> World:
    sources = make_sources(rng, SOURCES)
    entities = _make_entities(rng, scale.entities)
    by_rank, cum_weights = _rank(rng, entities)
    disputes = _plan_disputes(rng, entities, scale.disputes)
    return World(sources, entities, by_rank, cum_weights, disputes)
