"""The gazetteer mention detector: the pure matcher's exact offsets, then detection in the
database (replacing gazetteer mentions, keeping curated ones, the automaton cache)."""

import uuid
from collections.abc import Iterable
from decimal import Decimal

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import EntityKind, MentionMethod
from db.gazetteer import (
    Gazetteer,
    Match,
    clear_gazetteer_cache,
    current_gazetteer,
    detect_mentions,
    load_gazetteer,
)
from db.models import Article, Entity, EntityAlias, Mention
from seeds.files import default_seed_paths
from seeds.loader import load_seeds
from tests.support.factories import add_alias, make_article, make_entity, make_source, mention_all

JAPAN = uuid.UUID(int=1)
RUSSIA = uuid.UUID(int=2)
PUTIN = uuid.UUID(int=3)
KURILS = uuid.UUID(int=4)
TOKYO = uuid.UUID(int=5)
OTHER = uuid.UUID(int=6)


def found(names: Iterable[tuple[uuid.UUID, str]], body: str) -> list[tuple[uuid.UUID, int, int]]:
    """(entity, start, end) of every match, after checking each surface against the body."""
    matches = Gazetteer(names).find(body)
    for match in matches:
        assert match.surface == body[match.start : match.end]
    return [(match.entity_id, match.start, match.end) for match in matches]


# The matcher


def test_matches_carry_exact_offsets_and_surface() -> None:
    body = "Prime Minister Kishida spoke with Vladimir Putin."
    matches = Gazetteer([(JAPAN, "Kishida"), (PUTIN, "Vladimir Putin")]).find(body)
    assert matches == [
        Match(entity_id=JAPAN, start=15, end=22, surface="Kishida"),
        Match(entity_id=PUTIN, start=34, end=48, surface="Vladimir Putin"),
    ]


def test_a_name_inside_a_longer_word_is_not_a_match() -> None:
    names = [(JAPAN, "Japan"), (RUSSIA, "Russia")]
    assert found(names, "Japanese and Russian officials; Nonjapan, Japan2, 2Russia") == []


def test_punctuation_hyphens_and_possessives_are_boundaries() -> None:
    names = [(JAPAN, "Japan"), (RUSSIA, "Russia")]
    body = "Japan-Russia ties, Japan's view, (Russia), Russia\u2019s reply, Japan."
    assert found(names, body) == [
        (JAPAN, 0, 5),
        (RUSSIA, 6, 12),
        (JAPAN, 19, 24),
        (RUSSIA, 34, 40),
        (RUSSIA, 43, 49),
        (JAPAN, 59, 64),
    ]


def test_the_longest_name_at_a_place_wins() -> None:
    names = [(PUTIN, "Putin"), (PUTIN, "Vladimir Putin"), (KURILS, "Kurils")]
    names.append((KURILS, "Southern Kurils"))
    body = "Vladimir Putin on the Southern Kurils; Putin on the Kurils."
    assert found(names, body) == [
        (PUTIN, 0, 14),
        (KURILS, 22, 37),
        (PUTIN, 39, 44),
        (KURILS, 52, 58),
    ]


def test_a_longer_name_failing_its_boundary_does_not_hide_a_shorter_one() -> None:
    names = [(JAPAN, "Japan"), (OTHER, "Japan Air"), (OTHER, "Japanes")]
    assert found(names, "Japan Airlines") == [(JAPAN, 0, 5)]
    assert found(names, "Japanese Japan Air.") == [(OTHER, 9, 18)]


def test_the_leftmost_of_two_overlapping_names_wins() -> None:
    names = [(KURILS, "Southern Kuril"), (OTHER, "Kuril Islands")]
    assert found(names, "the Southern Kuril Islands") == [(KURILS, 4, 18)]
    assert found(names, "the Kuril Islands") == [(OTHER, 4, 17)]


def test_case_and_accents_in_the_body_are_folded() -> None:
    names = [(KURILS, "Étorofu"), (PUTIN, "Kishida")]
    body = "ETOROFU, Etorofu, E\u0301torofu and KISHIDA"  # the third with a combining accent
    assert found(names, body) == [
        (KURILS, 0, 7),
        (KURILS, 9, 16),
        (KURILS, 18, 26),
        (PUTIN, 31, 38),
    ]


def test_case_and_accents_in_names_are_folded() -> None:
    names = [(KURILS, "ETOROFU"), (JAPAN, "Hokkaidō"), (OTHER, "Straße")]
    assert found(names, "Étorofu near Hokkaido, STRASSE") == [
        (KURILS, 0, 7),
        (JAPAN, 13, 21),
        (OTHER, 23, 30),
    ]


def test_a_match_never_ends_inside_a_character_that_folds_to_several() -> None:
    assert found([(OTHER, "Stras")], "Straß") == []
    assert found([(OTHER, "Strass")], "Straß") == [(OTHER, 0, 5)]


def test_a_capitalized_name_is_not_found_in_lowercase_text() -> None:
    names = [(OTHER, "the North"), (RUSSIA, "Russia"), (JAPAN, "tokyo")]
    body = "the north of the North, THE NORTH; russia, RUSSIA; tokyo, Tokyo"
    assert found(names, body) == [
        (OTHER, 13, 22),
        (OTHER, 24, 33),
        (RUSSIA, 43, 49),
        (JAPAN, 51, 56),
        (JAPAN, 58, 63),
    ]


def test_any_whitespace_run_matches_the_space_in_a_name() -> None:
    names = [(PUTIN, "Vladimir  Putin ")]
    body = "Vladimir\u00a0Putin, Vladimir\n  Putin, Vladimir Putin"
    assert found(names, body) == [(PUTIN, 0, 14), (PUTIN, 16, 32), (PUTIN, 34, 48)]


def test_an_ambiguous_name_matches_every_entity_on_the_same_span() -> None:
    names = [(TOKYO, "Tokyo"), (JAPAN, "Japan"), (JAPAN, "Tokyo")]
    assert found(names, "Tokyo's surrender") == [(TOKYO, 0, 5), (JAPAN, 0, 5)]


def test_names_of_one_entity_that_fold_alike_match_once() -> None:
    names = [(KURILS, "Etorofu"), (KURILS, "Étorofu"), (KURILS, "ETOROFU")]
    assert found(names, "Etorofu") == [(KURILS, 0, 7)]
    assert len(Gazetteer(names)) == 1


def test_names_with_pattern_special_characters_are_literal() -> None:
    names = [(OTHER, "A.B."), (JAPAN, "C++"), (RUSSIA, "50%_off"), (PUTIN, "(P)")]
    body = "A.B. uses C++ at 50%_off (P); AxBx, C, 50%xoff, A.B.C"
    assert found(names, body) == [(OTHER, 0, 4), (JAPAN, 10, 13), (RUSSIA, 17, 24), (PUTIN, 25, 28)]


def test_offsets_are_python_string_indices() -> None:
    body = "\U0001f1ef\U0001f1f5 Japan and 日本"  # a flag: two code points
    assert found([(JAPAN, "Japan"), (JAPAN, "日本")], body) == [(JAPAN, 3, 8), (JAPAN, 13, 15)]


def test_scripts_without_spaces_have_no_word_boundaries() -> None:
    names = [(JAPAN, "日本"), (PUTIN, "岸田文雄")]
    assert found(names, "岸田文雄首相は日本人") == [(PUTIN, 0, 4), (JAPAN, 7, 9)]


@pytest.mark.parametrize("name", ["", "   ", "J", " J\n"])
def test_blank_and_one_character_names_are_ignored(name: str) -> None:
    gazetteer = Gazetteer([(JAPAN, name)])
    assert len(gazetteer) == 0
    assert gazetteer.find("J, Japan") == []


def test_an_empty_body_or_gazetteer_finds_nothing() -> None:
    assert Gazetteer([(JAPAN, "Japan")]).find("") == []
    assert Gazetteer([]).find("Japan") == []


# In the database


async def kishida_putin_article(session: AsyncSession) -> tuple[Article, Entity, Entity]:
    kishida = await make_entity(session, "fumio-kishida", "Fumio Kishida", EntityKind.PERSON)
    putin = await make_entity(session, "vladimir-putin", "Vladimir Putin", EntityKind.PERSON)
    await add_alias(session, putin, "Putin", used_by=None)
    source = await make_source(session)
    article = await make_article(
        session,
        source,
        "kishida-putin-call",
        "Prime Minister Fumio Kishida spoke with Vladimir Putin. Kishida said Putin agreed.",
    )
    return article, kishida, putin


async def stored(session: AsyncSession, article: Article) -> list[tuple[str, int, int, str, str]]:
    """The article's mentions as (entity slug, start, end, surface, method), in body order."""
    rows = await session.execute(
        select(
            Entity.slug, Mention.start_offset, Mention.end_offset, Mention.surface, Mention.method
        )
        .join(Entity, Entity.id == Mention.entity_id)
        .where(Mention.article_id == article.id)
        .order_by(Mention.start_offset, Entity.slug)
    )
    return [(slug, start, end, surface, method) for slug, start, end, surface, method in rows]


async def test_detection_stores_and_returns_gazetteer_mentions(session: AsyncSession) -> None:
    article, kishida, putin = await kishida_putin_article(session)

    mentions = await detect_mentions(session, article=article)

    expected = [
        (kishida.id, 15, 28, "Fumio Kishida"),
        (putin.id, 40, 54, "Vladimir Putin"),
        (putin.id, 69, 74, "Putin"),
    ]
    assert [(m.entity_id, m.start_offset, m.end_offset, m.surface) for m in mentions] == expected
    assert {(m.method, m.confidence) for m in mentions} == {(MentionMethod.GAZETTEER, Decimal(1))}
    assert await stored(session, article) == [
        ("fumio-kishida", 15, 28, "Fumio Kishida", "gazetteer"),
        ("vladimir-putin", 40, 54, "Vladimir Putin", "gazetteer"),
        ("vladimir-putin", 69, 74, "Putin", "gazetteer"),
    ]


async def test_rerunning_after_a_new_alias_replaces_without_duplicates(
    session: AsyncSession,
) -> None:
    article, kishida, _ = await kishida_putin_article(session)
    await detect_mentions(session, article=article)
    await add_alias(session, kishida, "Kishida", used_by=None)

    mentions = await detect_mentions(session, article=article)

    assert [(m.start_offset, m.end_offset) for m in mentions] == [
        (15, 28),
        (40, 54),
        (56, 63),
        (69, 74),
    ]
    assert await stored(session, article) == [
        ("fumio-kishida", 15, 28, "Fumio Kishida", "gazetteer"),
        ("vladimir-putin", 40, 54, "Vladimir Putin", "gazetteer"),
        ("fumio-kishida", 56, 63, "Kishida", "gazetteer"),
        ("vladimir-putin", 69, 74, "Putin", "gazetteer"),
    ]


async def test_curated_mentions_are_kept_and_not_duplicated(session: AsyncSession) -> None:
    article, kishida, _ = await kishida_putin_article(session)
    curated = await mention_all(session, article, kishida)  # "Fumio Kishida" at 15
    curated_ids = {mention.id for mention in curated}
    await add_alias(session, kishida, "Kishida", used_by=None)

    mentions = await detect_mentions(session, article=article)
    mentions = await detect_mentions(session, article=article)

    assert [(m.start_offset, m.end_offset) for m in mentions] == [(40, 54), (56, 63), (69, 74)]
    assert await stored(session, article) == [
        ("fumio-kishida", 15, 28, "Fumio Kishida", "curated"),
        ("vladimir-putin", 40, 54, "Vladimir Putin", "gazetteer"),
        ("fumio-kishida", 56, 63, "Kishida", "gazetteer"),
        ("vladimir-putin", 69, 74, "Putin", "gazetteer"),
    ]
    kept = await session.scalars(select(Mention.id).where(Mention.method == MentionMethod.CURATED))
    assert set(kept) == curated_ids


async def test_an_ambiguous_name_is_one_mention_of_no_entity_listing_those_it_may_be(
    session: AsyncSession,
) -> None:
    japan = await make_entity(session, "japan", "Japan")
    tokyo = await make_entity(session, "tokyo", "Tokyo", EntityKind.PLACE)
    await add_alias(session, japan, "Tokyo", used_by=None)
    article = await make_article(session, await make_source(session), "a", "Tokyo and Japan.")

    mentions = await detect_mentions(session, article=article)
    await detect_mentions(session, article=article)  # again: still one per span

    assert [
        (m.start_offset, m.end_offset, m.entity_id, m.possible_entity_ids, m.confidence)
        for m in mentions
    ] == [
        (0, 5, None, sorted([japan.id, tokyo.id]), Decimal("0.5")),
        (10, 15, japan.id, None, Decimal(1)),
    ]
    stored = await session.scalars(select(Mention).where(Mention.article_id == article.id))
    assert sorted((m.start_offset, m.entity_id is None) for m in stored) == [
        (0, True),
        (10, False),
    ]


async def test_load_gazetteer_reads_names_and_aliases(session: AsyncSession) -> None:
    kurils = await make_entity(session, "kurils", "Southern Kuril Islands", EntityKind.TERRITORY)
    await add_alias(session, kurils, "Northern Territories", used_by=None)

    gazetteer = await load_gazetteer(session)

    body = "the Northern Territories, or Southern Kuril Islands"
    assert [(m.entity_id, m.start, m.end) for m in gazetteer.find(body)] == [
        (kurils.id, 4, 24),
        (kurils.id, 29, 51),
    ]


async def test_the_automaton_is_reused_until_names_change(session: AsyncSession) -> None:
    clear_gazetteer_cache()
    japan = await make_entity(session, "japan", "Japan")
    first = await current_gazetteer(session)
    assert await current_gazetteer(session) is first

    alias = await add_alias(session, japan, "Nippon", used_by=None)
    second = await current_gazetteer(session)
    assert second is not first
    assert [m.surface for m in second.find("Nippon")] == ["Nippon"]

    await session.execute(delete(EntityAlias).where(EntityAlias.id == alias.id))
    third = await current_gazetteer(session)
    assert third is not second
    assert third.find("Nippon") == []


async def test_detection_in_the_seed_article(session: AsyncSession) -> None:
    await load_seeds(session, default_seed_paths(), force=True)
    article = await session.scalar(
        select(Article).where(Article.slug == "kyodo-2021-10-07-kishida-putin-phone-call")
    )
    assert article is not None
    slugs = dict((await session.execute(select(Entity.id, Entity.slug))).all())

    matches = (await current_gazetteer(session)).find(article.body)
    found_here = [(slugs[m.entity_id], m.start, m.end, m.surface) for m in matches]

    assert found_here[:2] == [
        ("fumio-kishida", 15, 28, "Fumio Kishida"),
        ("vladimir-putin", 75, 89, "Vladimir Putin"),
    ]
    assert [f for f in found_here if f[0] == "hokkaido"] == [
        ("hokkaido", 487, 495, "Hokkaido"),
        ("hokkaido", 645, 653, "Hokkaido"),
    ]
    assert [f for f in found_here if f[0] == "disputed-kuril-islands"] == [
        ("disputed-kuril-islands", 759, 779, "Northern Territories"),
        ("disputed-kuril-islands", 933, 948, "Southern Kurils"),
    ]
    assert [f for f in found_here if f[1] == 703] == [
        ("tokyo", 703, 708, "Tokyo"),
        ("japan", 703, 708, "Tokyo"),
    ]
    assert ("habomai-islands", 1195, 1214, "Habomai islet group") in found_here
    assert ("north-korea", 1807, 1816, "the North") in found_here
    # "Japanese" and "Russian" are mentions the curators made, not names the gazetteer knows.
    assert not [f for f in found_here if f[3] in {"Japanese", "Russian"}]
    assert len(found_here) == 33

    # The curators marked every one of these, so detection adds nothing and removes nothing.
    curated_before = await stored(session, article)
    assert await detect_mentions(session, article=article) == []
    assert await stored(session, article) == curated_before
    assert {method for *_, method in curated_before} == {"curated"}
    curated_spans = {(slug, start, end) for slug, start, end, _, _ in curated_before}
    assert {(slug, start, end) for slug, start, end, _ in found_here} <= curated_spans
