"""Small builders for rows the API tests need; each flushes and returns the ORM object."""

import hashlib
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import EntityKind, MentionMethod, SourceKind, TimePrecision
from db.models import Article, Entity, Mention, Source


async def make_source(session: AsyncSession, slug: str = "kyodo", name: str = "Kyodo") -> Source:
    source = Source(slug=slug, name=name, kind=SourceKind.NEWS_AGENCY)
    session.add(source)
    await session.flush()
    return source


async def make_article(
    session: AsyncSession,
    source: Source,
    slug: str,
    body: str,
    *,
    headline: str | None = None,
    published_at: datetime | None = None,
    language: str = "en",
) -> Article:
    article = Article(
        slug=slug,
        source_id=source.id,
        headline=headline,
        body=body,
        language=language,
        published_at=published_at,
        published_precision=TimePrecision.DAY if published_at else None,
        content_hash=hashlib.sha256(body.encode()).hexdigest(),
    )
    session.add(article)
    await session.flush()
    return article


async def make_entity(
    session: AsyncSession, slug: str, name: str, kind: EntityKind = EntityKind.COUNTRY
) -> Entity:
    entity = Entity(slug=slug, name=name, kind=kind)
    session.add(entity)
    await session.flush()
    return entity


async def mention_all(session: AsyncSession, article: Article, entity: Entity) -> list[Mention]:
    """Mention `entity` at every occurrence of its name in the article body."""
    mentions = []
    start = article.body.find(entity.name)
    while start != -1:
        end = start + len(entity.name)
        mentions.append(
            Mention(
                article_id=article.id,
                entity_id=entity.id,
                start_offset=start,
                end_offset=end,
                surface=article.body[start:end],
                method=MentionMethod.CURATED,
            )
        )
        start = article.body.find(entity.name, end)
    session.add_all(mentions)
    await session.flush()
    return mentions
