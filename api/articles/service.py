import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import DateTime, Integer, Select, Text, bindparam, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.articles import links
from api.articles.schemas import SourceRef
from api.shared.batch import rows_by_keys
from api.shared.errors import NotFound
from api.shared.evidence import evidence_array
from api.shared.lookup import by_keys
from api.shared.pagination import (
    Keyset,
    SortKey,
    count_rows,
    count_statement,
    fetch_count,
    fetch_page,
    fetch_prepared_page,
    page_statement,
)
from api.shared.rows import by_key, columns, fetch, key_statement, nested
from db.models import Article, Entity, Mention, Source
from db.models.article import UNDATED_SQL

# A constant in the SQL text, not a parameter, so that the expression is the one
# ix_article_newest indexes whatever plan the statement gets.
UNDATED = literal_column(UNDATED_SQL, DateTime(timezone=True))
NEWEST_FIRST = (
    SortKey(func.coalesce(Article.published_at, UNDATED), "datetime", True),
    SortKey(Article.id, "uuid", True),
)


# How many of the newest matching articles a full-text query ranks: ranking reads each
# candidate's vector (a word in 83,077 of 100,000 articles: 1,793 ms ranking all, 37 ms
# ranking the newest 1,000).
RANKED_ARTICLES = 1000

# Full-text matching and ranking with the search text as the parameter `q`.
_SEARCH_QUERY = func.websearch_to_tsquery("english", bindparam("q", type_=Text))
BY_RANK = (
    SortKey(func.ts_rank_cd(Article.search_vector, _SEARCH_QUERY), "float", True),
    SortKey(Article.id, "uuid", True),
)


def newest_matches(conditions: Sequence[Any], selected: Sequence[Any], limit: Any) -> Select[Any]:
    """The newest `limit` articles (RANKED_ARTICLES, or a parameter) meeting `conditions`:
    what full-text ranking covers, since ranking reads each candidate's vector. Read newest
    first through ix_article_newest or, for a rare word, found through the GIN index and
    sorted."""
    return (
        select(*selected)
        .where(*conditions)
        .order_by(*(key.order_by() for key in NEWEST_FIRST))
        .limit(limit)
    )


def ordering(q: str | None) -> tuple[SortKey, ...]:
    """The order of a list: best match first with `q`, newest first without."""
    return BY_RANK if q else NEWEST_FIRST


_ARTICLE = Article.__table__
_SOURCE = Source.__table__
# An article as the API shows it (no stored search vector), with its source as `source`.
# Its own evidence comes in the same statement, as a JSON array.
_WITH_SOURCE_REF = select(
    *columns(_ARTICLE, omit=("search_vector", "source_id")),
    *nested("source", _SOURCE, SourceRef),
    evidence_array("subject_article_id", _ARTICLE.c.id),
).join(_SOURCE, _SOURCE.c.id == _ARTICLE.c.source_id)
_BY_KEY = by_key(_WITH_SOURCE_REF, _ARTICLE)
# Lists leave the body out too: a page of 20 would otherwise read and ship 20 bodies.
SUMMARY_COLUMNS = (
    *columns(_ARTICLE, omit=("search_vector", "source_id", "body", "content_hash")),
    *nested("source", _SOURCE, SourceRef),
)


async def get_article(session: AsyncSession, key: str) -> dict[str, Any]:
    """The article `key` (id or slug) names, with its source, as the API's fields; its
    `evidence` still the statement's JSON text (`parse_array` or `evidence_values` reads it)."""
    statement, parameters = key_statement(_BY_KEY, key)
    rows = await fetch(session, statement, parameters)
    if not rows:
        raise NotFound("article", key)
    return rows[0]


@dataclass(frozen=True, slots=True)
class _Shape:
    """Which filters a list request uses: the statement for each shape is built once."""

    q: bool
    source: bool
    entities: int
    event: bool
    dispute: bool
    language: bool
    published_after: bool
    published_before: bool
    cursor: bool


def _conditions(shape: _Shape) -> list[Any]:
    """What the articles of a shape of request meet, every value a parameter."""
    conditions: list[Any] = []
    if shape.q:
        conditions.append(Article.search_vector.op("@@")(_SEARCH_QUERY))
    if shape.source:
        conditions.append(Article.source_id == bindparam("source_id"))
    for position in range(shape.entities):
        # Every named entity must be mentioned: one EXISTS each, served by the
        # (entity_id, article_id) index.
        conditions.append(
            select(Mention.article_id)
            .where(
                Mention.article_id == Article.id,
                Mention.entity_id == bindparam(f"entity_{position}"),
            )
            .exists()
        )
    if shape.event:
        conditions.append(Article.id.in_(links.articles_reporting_event(bindparam("event_id"))))
    if shape.dispute:
        conditions.append(Article.id.in_(links.articles_about_dispute(bindparam("dispute_id"))))
    if shape.language:
        conditions.append(func.lower(Article.language) == bindparam("language"))
    if shape.published_after:
        conditions.append(Article.published_at >= bindparam("published_after"))
    if shape.published_before:
        conditions.append(Article.published_at < bindparam("published_before"))
    return conditions


def _ranked(conditions: Sequence[Any]) -> Select[Any]:
    """The ids of the articles a search ranks: the newest RANKED_ARTICLES (`ranked`)."""
    return newest_matches(conditions, [Article.id], bindparam("ranked", type_=Integer))


@lru_cache(maxsize=1024)
def _list_statement(shape: _Shape) -> Select[Any]:
    """The page statement for one shape of request, every value a parameter. Building a
    statement and deriving its cache key cost about as much CPU as running it (0.6 ms of
    1.4 ms per page measured in process), so each shape is built once."""
    conditions = _conditions(shape)
    query: Select[Any] = select(*SUMMARY_COLUMNS).join(
        _SOURCE, _SOURCE.c.id == _ARTICLE.c.source_id
    )
    if not shape.q:
        return page_statement(query.where(*conditions), NEWEST_FIRST, cursor=shape.cursor)
    return page_statement(
        query.where(Article.id.in_(_ranked(conditions))), BY_RANK, cursor=shape.cursor
    )


@lru_cache(maxsize=512)
def _count_statement(shape: _Shape) -> Select[Any]:
    """How many articles a shape of request lists (`count=exact`): the articles alone, not
    joined to their sources as a page is; with `q`, at most RANKED_ARTICLES, the matches
    it ranks. Built once per shape, cursor or not."""
    conditions = _conditions(shape)
    if not shape.q:
        return count_statement(select(Article.id).where(*conditions))
    return count_statement(_ranked(conditions))


@dataclass(frozen=True, slots=True)
class ArticleFilters:
    """The filters of the articles list, ids resolved: what its histogram and facets take too."""

    q: str | None = None
    source_id: uuid.UUID | None = None
    entity_ids: tuple[uuid.UUID, ...] = ()
    event_id: uuid.UUID | None = None
    dispute_id: uuid.UUID | None = None
    language: str | None = None
    published_after: datetime | None = None
    published_before: datetime | None = None

    def shape(self, *, cursor: bool = False) -> _Shape:
        return _Shape(
            q=bool(self.q),
            source=self.source_id is not None,
            entities=len(self.entity_ids),
            event=self.event_id is not None,
            dispute=self.dispute_id is not None,
            language=self.language is not None,
            published_after=self.published_after is not None,
            published_before=self.published_before is not None,
            cursor=cursor,
        )

    def parameters(self) -> dict[str, Any]:
        """The values of the shape's statement parameters."""
        values = {
            "q": self.q or None,
            "ranked": RANKED_ARTICLES if self.q else None,
            "source_id": self.source_id,
            "event_id": self.event_id,
            "dispute_id": self.dispute_id,
            "language": self.language.lower() if self.language is not None else None,
            "published_after": self.published_after,
            "published_before": self.published_before,
            **{f"entity_{n}": entity_id for n, entity_id in enumerate(self.entity_ids)},
        }
        return {name: value for name, value in values.items() if value is not None}


# Which filters a request uses, without their values: what statements are cached by.
ListShape = _Shape


def listed(shape: ListShape) -> list[Any]:
    """What the articles of the list meet for a shape of request (its parameters are
    `ArticleFilters.parameters()`): with `q`, being among the RANKED_ARTICLES newest matches,
    as the list's `total` counts. What histograms and facets count."""
    conditions = _conditions(shape)
    return [Article.id.in_(_ranked(conditions))] if shape.q else conditions


async def list_articles(
    session: AsyncSession,
    *,
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
    count: bool = False,
) -> tuple[list[dict[str, Any]], list[Any] | None, int | None]:
    """One page of articles in `ordering(q)` (as the API's fields), the sort key of its last
    row when more follow, and with `count` how many articles the list holds."""
    filters = ArticleFilters(
        q=q,
        source_id=source_id,
        entity_ids=tuple(entity_ids),
        event_id=event_id,
        dispute_id=dispute_id,
        language=language,
        published_after=published_after,
        published_before=published_before,
    )
    shape = filters.shape(cursor=after is not None)
    parameters = filters.parameters()
    page, next_key = await fetch_prepared_page(
        session, _list_statement(shape), parameters, after=after, limit=limit
    )
    if not count:
        return page, next_key, None
    total = await count_articles(session, filters)
    return page, next_key, total


async def count_articles(session: AsyncSession, filters: ArticleFilters) -> int:
    """How many articles the list holds under `filters` (its `count=exact` total)."""
    return await fetch_count(session, _count_statement(filters.shape()), filters.parameters())


# Articles as lists show them, by ids and slugs (a batch lookup).
_BY_KEYS = (
    select(*SUMMARY_COLUMNS)
    .join(_SOURCE, _SOURCE.c.id == _ARTICLE.c.source_id)
    .where(by_keys(_ARTICLE))
)


async def articles_by_keys(
    session: AsyncSession, keys: Sequence[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The articles `keys` name, as list items in the order asked, and the keys naming none."""
    return await rows_by_keys(session, _BY_KEYS, keys)


# How many mentions `include=mentions` embeds; `GET /v1/articles/{id}/mentions` pages them all.
# Detection stores at most 1,000 per article, but curated ones (seed, import) are not capped.
EMBEDDED_MENTIONS = 1000
IN_BODY_ORDER = (
    SortKey(Mention.start_offset, "int"),
    SortKey(Mention.end_offset, "int"),
    SortKey(Mention.id, "uuid"),
)


async def _with_entities(session: AsyncSession, rows: Sequence[Any]) -> list[Mention]:
    """The mentions with `entity` (None while ambiguous), `ambiguous` and `possible_entities`
    set for MentionRead: one more query for the possible entities of the ambiguous ones."""
    possible_ids = {
        entity_id for mention, _ in rows for entity_id in mention.possible_entity_ids or ()
    }
    possible: dict[uuid.UUID, Entity] = {}
    if possible_ids:
        found = await session.scalars(select(Entity).where(Entity.id.in_(possible_ids)))
        possible = {entity.id: entity for entity in found}
    mentions: list[Mention] = []
    for mention, entity in rows:
        mention.entity = entity
        mention.ambiguous = mention.entity_id is None
        # An entity deleted since detection is left out.
        mention.possible_entities = sorted(
            (possible[i] for i in mention.possible_entity_ids or () if i in possible),
            key=lambda entity: entity.slug,
        )
        mentions.append(mention)
    return mentions


_MENTIONS = select(Mention, Entity).outerjoin(Entity, Entity.id == Mention.entity_id)


async def get_mentions(
    session: AsyncSession, *, article_id: uuid.UUID, limit: int = EMBEDDED_MENTIONS
) -> tuple[list[Mention], bool]:
    """The first `limit` mentions of the article in body order, and whether more follow."""
    rows = await session.execute(
        _MENTIONS.where(Mention.article_id == article_id)
        .order_by(*(key.order_by() for key in IN_BODY_ORDER))
        .limit(limit + 1)
    )
    found = rows.all()
    return await _with_entities(session, found[:limit]), len(found) > limit


async def list_mentions(
    session: AsyncSession,
    *,
    article_id: uuid.UUID,
    keyset: Keyset,
    after: Sequence[Any] | None,
    limit: int,
    count: bool = False,
) -> tuple[list[Mention], list[Any] | None, int | None]:
    """One page of the article's mentions in body order (`keyset` of IN_BODY_ORDER), and with
    `count` how many it has."""
    query = _MENTIONS.where(Mention.article_id == article_id)
    found, next_key = await fetch_page(
        session, query, keyset=keyset, after=after, limit=limit, whole_rows=True
    )
    total = await count_rows(session, query) if count else None
    return await _with_entities(session, found), next_key, total


async def get_mention(
    session: AsyncSession, *, article_id: uuid.UUID, mention_id: uuid.UUID
) -> Mention:
    """The article's mention `mention_id`, locked for the update that follows, or 404."""
    mention = await session.scalar(
        select(Mention)
        .where(Mention.article_id == article_id, Mention.id == mention_id)
        .with_for_update()
    )
    if mention is None:
        raise NotFound("mention", str(mention_id))
    return mention


async def mention_with_entities(session: AsyncSession, mention: Mention) -> Mention:
    entity = await session.get(Entity, mention.entity_id) if mention.entity_id else None
    [read] = await _with_entities(session, [(mention, entity)])
    return read


async def get_source(session: AsyncSession, *, source_id: uuid.UUID) -> Source:
    source = await session.get(Source, source_id)
    assert source is not None  # article.source_id is a NOT NULL foreign key
    return source
