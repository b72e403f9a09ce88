"""Pronounceable made-up names for the corpus: sources, entities and their aliases.

Every name is built from syllables drawn from the caller's seeded `random.Random`, so the same
seed always names the same world. Canonical names are ASCII; some aliases carry accents so that
importers meet non-ASCII text (offsets are Python `str` indices, not bytes).
"""

import random
import re
from dataclasses import dataclass, field

from db.enums import AliasKind, EntityKind, SourceKind

_ONSETS = (
    "b", "c", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s",
    "t", "v", "z", "br", "dr", "kr", "st", "tr", "sh", "th", "gr", "pl",
)  # fmt: skip
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "io", "ou")
_CODAS = ("", "", "", "n", "r", "l", "s", "th", "rk", "nd")
_ACCENTS = {"a": "á", "e": "é", "o": "ó", "u": "ü", "i": "í"}

_COUNTRY_SUFFIXES = ("ia", "land", "stan", "a", "ar", "ovia")
_STATE_FORMS = ("Republic", "Kingdom", "Federation", "Commonwealth", "Union")
_ORG_NOUNS = (
    "Council", "Alliance", "Bank", "Institute", "Agency", "Party", "Front", "Union",
    "Commission", "Energy Group", "Shipping Line", "Relief Fund", "Trade Bloc",
)  # fmt: skip
_PLACE_FORMS = ("Port {}", "{} City", "New {}", "Fort {}", "{}ville", "{}burg", "San {}")
_TERRITORY_FORMS = ("{} Islands", "{} Strait", "{} Valley", "{} Heights", "{} Reef", "{} Basin")
_OTHER_FORMS = ("Operation {}", "{} Accord", "{} Pipeline", "{} Dam", "{} Protocol")
_PERSON_ROLES = (
    "President", "Prime Minister", "Foreign Minister", "Defence Minister", "opposition leader",
    "government spokesperson", "ambassador", "central bank governor", "trade envoy",
)  # fmt: skip
_SOURCE_FORMS = (
    ("{} Herald", SourceKind.NEWSPAPER),
    ("{} Times", SourceKind.NEWSPAPER),
    ("{} Press Agency", SourceKind.NEWS_AGENCY),
    ("{} News Service", SourceKind.NEWS_AGENCY),
    ("{} Broadcasting", SourceKind.BROADCASTER),
    ("{} Review", SourceKind.MAGAZINE),
    ("{} Daily Online", SourceKind.ONLINE),
    ("{} Ministry Bulletin", SourceKind.GOVERNMENT),
)


@dataclass(slots=True)
class AliasSpec:
    name: str
    language: str
    kind: AliasKind
    # The side of a dispute whose name this is ("claimant" or "administrator"); the corpus
    # planner turns it into `used_by` once it knows which countries dispute the territory.
    side: str | None = None
    used_by: int | None = None


@dataclass(slots=True)
class EntitySpec:
    index: int
    slug: str
    kind: EntityKind
    name: str
    description: str
    root: str
    aliases: list[AliasSpec] = field(default_factory=list)
    # The canonical name first, then the aliases: every way an article may name the entity.
    surfaces: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SourceSpec:
    slug: str
    name: str
    kind: SourceKind
    homepage_url: str


def word(rng: random.Random, syllables: int) -> str:
    parts = [rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables)]
    return ("".join(parts) + rng.choice(_CODAS)).capitalize()


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def accented(text: str) -> str:
    """The text with the last plain vowel of its first word accented, as another language
    might spell it."""
    first_word_end = text.find(" ") if " " in text else len(text)
    for position in range(first_word_end - 1, -1, -1):
        replacement = _ACCENTS.get(text[position])
        if replacement is not None:
            return text[:position] + replacement + text[position + 1 :]
    return text + "é"


def initials(text: str) -> str:
    return "".join(part[0] for part in text.split() if part[0].isalpha()).upper()


class SlugRegistry:
    """Hands out unique slugs: a repeated base gets `-2`, `-3`, ... in order of request."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def claim(self, base: str) -> str:
        slug = base or "x"
        suffix = 1
        while slug in self._taken:
            suffix += 1
            slug = f"{base}-{suffix}"
        self._taken.add(slug)
        return slug


def make_sources(rng: random.Random, count: int) -> list[SourceSpec]:
    slugs = SlugRegistry()
    sources = []
    for index in range(count):
        form, kind = _SOURCE_FORMS[index % len(_SOURCE_FORMS)]
        name = form.format(word(rng, 2))
        slug = slugs.claim(slugify(name))
        sources.append(SourceSpec(slug, name, kind, f"https://{slug}.example"))
    return sources


def _aliases_for(
    rng: random.Random, kind: EntityKind, name: str, root: str, capitals: list[str]
) -> list[AliasSpec]:
    """Candidate aliases for an entity, most useful first (callers keep the first 2 or 3)."""
    en = "en"
    if kind is EntityKind.PERSON:
        given, family = name.split(" ", 1)
        return [
            AliasSpec(family, en, AliasKind.SHORT),
            AliasSpec(f"{given[0]}. {family}", en, AliasKind.COMMON),
            AliasSpec(accented(name), rng.choice(("fr", "es", "de")), AliasKind.OFFICIAL),
        ]
    if kind is EntityKind.COUNTRY:
        state = f"{rng.choice(_STATE_FORMS)} of {name}"
        return [
            AliasSpec(state, en, AliasKind.OFFICIAL),
            AliasSpec(capitals[-1], en, AliasKind.METONYM),
            AliasSpec(initials(state), en, AliasKind.ABBREVIATION),
            AliasSpec(f"{root}ovian Republic", en, AliasKind.FORMER),
        ]
    if kind is EntityKind.ORGANIZATION:
        return [
            AliasSpec(initials(name), en, AliasKind.ABBREVIATION),
            AliasSpec(accented(name), rng.choice(("fr", "es")), AliasKind.OFFICIAL),
            AliasSpec(f"{root} Board", en, AliasKind.FORMER),
        ]
    if kind is EntityKind.TERRITORY:
        return [
            AliasSpec(f"Northern {name}", en, AliasKind.COMMON, side="claimant"),
            AliasSpec(
                accented(name), rng.choice(("ru", "es")), AliasKind.OFFICIAL, "administrator"
            ),
            AliasSpec(root, en, AliasKind.SHORT),
        ]
    if kind is EntityKind.PLACE:
        return [
            AliasSpec(accented(name), rng.choice(("fr", "de", "es")), AliasKind.OFFICIAL),
            AliasSpec(root, en, AliasKind.SHORT),
            AliasSpec(f"Old {root}", en, AliasKind.FORMER),
        ]
    return [
        AliasSpec(root, en, AliasKind.SHORT),
        AliasSpec(accented(name), rng.choice(("fr", "es")), AliasKind.OFFICIAL),
        AliasSpec(initials(name) + "-" + str(rng.randint(1, 99)), en, AliasKind.ABBREVIATION),
    ]


def _name_for(rng: random.Random, kind: EntityKind, countries: list[str]) -> tuple[str, str, str]:
    """(canonical name, root word, description) for a new entity of `kind`."""
    root = word(rng, rng.choice((2, 2, 3)))
    home = rng.choice(countries) if countries else "an unnamed country"
    if kind is EntityKind.PERSON:
        name = f"{word(rng, 2)} {root}"
        return name, root, f"{rng.choice(_PERSON_ROLES)} of {home} (synthetic)."
    if kind is EntityKind.COUNTRY:
        name = root + rng.choice(_COUNTRY_SUFFIXES)
        return name, root, "A sovereign state (synthetic)."
    if kind is EntityKind.ORGANIZATION:
        name = f"{root} {rng.choice(_ORG_NOUNS)}"
        return name, root, f"An organization based in {home} (synthetic)."
    if kind is EntityKind.TERRITORY:
        name = rng.choice(_TERRITORY_FORMS).format(root)
        return name, root, "A territory whose sovereignty is contested (synthetic)."
    if kind is EntityKind.PLACE:
        name = rng.choice(_PLACE_FORMS).format(root)
        return name, root, f"A city in {home} (synthetic)."
    name = rng.choice(_OTHER_FORMS).format(root)
    return name, root, f"A named project or operation involving {home} (synthetic)."


def make_entity(
    rng: random.Random,
    *,
    index: int,
    kind: EntityKind,
    alias_count: int,
    slugs: SlugRegistry,
    countries: list[str],
    capitals: list[str],
) -> EntitySpec:
    name, root, description = _name_for(rng, kind, countries)
    if kind is EntityKind.COUNTRY:
        capitals.append(rng.choice(_PLACE_FORMS).format(word(rng, 2)))
        countries.append(name)
    aliases: list[AliasSpec] = []
    seen = {name}
    for alias in _aliases_for(rng, kind, name, root, capitals):
        if alias.name not in seen and len(aliases) < alias_count:
            seen.add(alias.name)
            aliases.append(alias)
    while len(aliases) < alias_count:
        filler = f"{name} {len(aliases) + 1}"
        seen.add(filler)
        aliases.append(AliasSpec(filler, "en", AliasKind.COMMON))
    spec = EntitySpec(index, slugs.claim(slugify(name)), kind, name, description, root, aliases)
    spec.surfaces = (name, *(alias.name for alias in aliases))
    return spec
