import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Select, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.articles import links
from api.errors import NotFound
from api.pagination import Keyset, SortKey, fetch_page
from api.rows import by_key, columns, fetch, key_statement, nested, unflatten
from db.models import Article, Entity, Mention, Source
from db.models.article import UNDATED_SQL

# A constant in the SQL text, not a parameter, so that the expression is the one
# ix_article_newest indexes whatever plan the statement gets.
UNDATED = literal_column(UNDATED_SQL, DateTime(timezone=True))
NEWEST_FIRST = (
    SortKey(func.coalesce(Article.published_at, UNDATED), "datetime", True),
    SortKey(Article.id, "uuid", True),
)


def search_rank(q: str) -> Any:
    return func.ts_rank_cd(Article.search_vector, func.websearch_to_tsquery("english", q))


def ordering(q: str | None) -> tuple[SortKey, ...]:
    if q:
        return (SortKey(search_rank(q), "float", True), SortKey(Article.id, "uuid", True))
    return NEWEST_FIRST


_ARTICLE = Article.__table__
_SOURCE = Source.__table__
# An article as the API shows it (no stored search vector), with its source as `source`.
_WITH_SOURCE_REF = select(
    *columns(_ARTICLE, omit=("search_vector", "source_id")),
    *nested("source", _SOURCE, ("id", "slug", "name")),
).join(_SOURCE, _SOURCE.c.id == _ARTICLE.c.source_id)
_BY_KEY = by_key(_WITH_SOURCE_REF, _ARTICLE)
# Lists leave the body out too: a page of 20 would otherwise read and ship 20 bodies.
SUMMARY_COLUMNS = (
    *columns(_ARTICLE, omit=("search_vector", "source_id", "body", "content_hash")),
    *nested("source", _SOURCE, ("id", "slug", "name")),
)


async def get_article(session: AsyncSession, key: str) -> dict[str, Any]:
    """The article `key` (id or slug) names, with its source, as the API's fields."""
    statement, parameters = key_statement(_BY_KEY, key)
    rows = await fetch(session, statement, parameters)
    if not rows:
        raise NotFound("article", key)
    return unflatten(rows[0])


async def list_articles(
    session: AsyncSession,
    *,
    keyset: Keyset,
    after: Sequence[Any] | None,
    limit: int,
    q: str | None = None,
    source_id: uuid.UUID | None = None,
    entity_ids: Sequence[uuid.UUID] = (),
    event_id: uuid.UUID | None = None,
    dispute_id: uuid.UUID | None = None,
    language: str | None = None,
    published_after: datetime | None = None,
    published_before: datetime | None = None,
) -> tuple[list[dict[str, Any]], list[Any] | None]:
    """One page of articles (as the API's fields) and the sort key of its last row when more
    follow."""
    query: Select[Any] = select(*SUMMARY_COLUMNS).join(
        _SOURCE, _SOURCE.c.id == _ARTICLE.c.source_id
    )
    if q:
        query = query.where(Article.search_vector.op("@@")(func.websearch_to_tsquery("english", q)))
    if source_id is not None:
        query = query.where(Article.source_id == source_id)
    for entity_id in entity_ids:
        # Every named entity must be mentioned: one EXISTS each, served by the
        # (entity_id, article_id) index.
        query = query.where(
            select(Mention.article_id)
            .where(Mention.article_id == Article.id, Mention.entity_id == entity_id)
            .exists()
        )
    if event_id is not None:
        query = query.where(Article.id.in_(links.articles_reporting_event(event_id)))
    if dispute_id is not None:
        query = query.where(Article.id.in_(links.articles_about_dispute(dispute_id)))
    if language is not None:
        query = query.where(func.lower(Article.language) == language.lower())
    if published_after is not None:
        query = query.where(Article.published_at >= published_after)
    if published_before is not None:
        query = query.where(Article.published_at < published_before)
    return await fetch_page(session, query, keyset=keyset, after=after, limit=limit, mappings=True)


async def get_mentions(session: AsyncSession, *, article_id: uuid.UUID) -> list[Mention]:
    rows = await session.execute(
        select(Mention, Entity)
        .join(Entity, Entity.id == Mention.entity_id)
        .where(Mention.article_id == article_id)
        .order_by(Mention.start_offset, Mention.end_offset)
    )
    mentions = []
    for mention, entity in rows:
        mention.entity = entity  # type: ignore[attr-defined]
        mentions.append(mention)
    return mentions


async def get_source(session: AsyncSession, *, source_id: uuid.UUID) -> Source:
    source = await session.get(Source, source_id)
    assert source is not None  # article.source_id is a NOT NULL foreign key
    return source
