"""The database itself refuses dishonest data, whatever code writes it."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

SOURCE = "INSERT INTO source (slug, name, kind) VALUES (:slug, 'Kyodo', :kind)"
ENTITY = "INSERT INTO entity (slug, kind, name) VALUES (:slug, :kind, :name) RETURNING id"
ARTICLE = """
INSERT INTO article (slug, source_id, language, body, content_hash)
VALUES ('a-1', (SELECT id FROM source WHERE slug = 'kyodo'), 'en', 'Kishida spoke.',
        repeat('a', 64)) RETURNING id
"""


async def _violation(session: AsyncSession, sql: str, **params: object) -> str:
    """Run `sql` expecting a constraint violation; return the violated constraint's name."""
    with pytest.raises(IntegrityError) as caught:
        async with session.begin_nested():
            await session.execute(text(sql), params)
    cause = caught.value.orig.__cause__  # type: ignore[union-attr]
    return str(cause.constraint_name)  # type: ignore[union-attr]


async def test_duplicate_slug_is_rejected(session: AsyncSession) -> None:
    await session.execute(text(ENTITY), {"slug": "japan", "kind": "country", "name": "Japan"})

    constraint = await _violation(session, ENTITY, slug="japan", kind="country", name="Nippon")

    assert constraint == "uq_entity_slug"


async def test_malformed_slug_is_rejected(session: AsyncSession) -> None:
    constraint = await _violation(session, ENTITY, slug="Not A Slug", kind="country", name="X")

    assert constraint == "ck_entity_slug_format"


async def test_unknown_enumeration_value_is_rejected(session: AsyncSession) -> None:
    constraint = await _violation(session, ENTITY, slug="x", kind="spaceship", name="X")

    assert constraint == "ck_entity_kind"


async def test_unknown_plover_event_type_is_rejected(session: AsyncSession) -> None:
    constraint = await _violation(
        session, "INSERT INTO event (slug, title, event_type) VALUES ('e', 'Call', 'CHAT')"
    )

    assert constraint == "ck_event_event_type"


@pytest.mark.parametrize(("start", "end"), [(5, 5), (6, 2), (-1, 3)])
async def test_mention_span_must_be_non_empty_and_forward(
    session: AsyncSession, start: int, end: int
) -> None:
    await session.execute(text(SOURCE), {"slug": "kyodo", "kind": "news_agency"})
    article_id = (await session.execute(text(ARTICLE))).scalar_one()
    entity_id = (
        await session.execute(text(ENTITY), {"slug": "k", "kind": "person", "name": "Kishida"})
    ).scalar_one()

    constraint = await _violation(
        session,
        "INSERT INTO mention (article_id, entity_id, start_offset, end_offset, surface, method)"
        " VALUES (:article, :entity, :start, :end, 'Kishida', 'curated')",
        article=article_id,
        entity=entity_id,
        start=start,
        end=end,
    )

    assert constraint in {"ck_mention_span", "ck_mention_surface_length"}


async def test_evidence_needs_exactly_one_subject(session: AsyncSession) -> None:
    await session.execute(text(SOURCE), {"slug": "kyodo", "kind": "news_agency"})
    article_id = (await session.execute(text(ARTICLE))).scalar_one()

    constraint = await _violation(
        session,
        "INSERT INTO evidence (article_id, start_offset, end_offset, quote)"
        " VALUES (:article, 0, 7, 'Kishida')",
        article=article_id,
    )

    assert constraint == "ck_evidence_exactly_one_subject"


async def test_editorial_evidence_needs_a_note(session: AsyncSession) -> None:
    await session.execute(text(SOURCE), {"slug": "kyodo", "kind": "news_agency"})
    article_id = (await session.execute(text(ARTICLE))).scalar_one()

    constraint = await _violation(
        session,
        "INSERT INTO evidence (article_id, editorial, subject_article_id)"
        " VALUES (:article, true, :article)",
        article=article_id,
    )

    assert constraint == "ck_evidence_editorial_note"


async def test_time_bounds_must_be_ordered(session: AsyncSession) -> None:
    constraint = await _violation(
        session,
        "INSERT INTO event (slug, title, event_type, time_edtf, time_earliest, time_latest)"
        " VALUES ('e', 'Call', 'CONSULT', '2021', '2021-12-31', '2021-01-01')",
    )

    assert constraint == "ck_event_time_bounds_ordered"


async def test_article_url_is_unique(session: AsyncSession) -> None:
    await session.execute(text(SOURCE), {"slug": "kyodo", "kind": "news_agency"})
    insert = """
    INSERT INTO article (slug, source_id, language, body, content_hash, url)
    VALUES (:slug, (SELECT id FROM source WHERE slug = 'kyodo'), 'en', 'Body.', :hash,
            'https://example.com/a')
    """
    await session.execute(text(insert), {"slug": "a-1", "hash": "a" * 64})

    constraint = await _violation(session, insert, slug="a-2", hash="b" * 64)

    assert constraint == "uq_article_url"


async def test_foreign_keys_are_enforced(session: AsyncSession) -> None:
    constraint = await _violation(
        session,
        "INSERT INTO event_participant (event_id, entity_id, role)"
        " VALUES (gen_random_uuid(), gen_random_uuid(), 'actor')",
    )

    assert constraint.startswith("fk_event_participant_")
