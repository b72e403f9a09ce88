"""The articles list counted: by publication time (api/shared/histogram.py) and by field value
(api/shared/facets.py), over the list's own conditions."""

from dataclasses import replace
from datetime import UTC, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession

from api.articles import links
from api.articles.service import ArticleFilters, ListShape, count_articles, listed
from api.shared.facets import Facet, facet_of_array, ranked, ranked_array, ranked_keys
from api.shared.histogram import Histogram, Interval, fetch_histogram, histogram_statement
from api.shared.rows import fetch_rows
from db.enums import TimePrecision
from db.models import Article, Dispute, Entity, EntityArticleRollup, Event, Mention, Source


class ArticleFacetField(StrEnum):
    SOURCE = "source"
    LANGUAGE = "language"
    ENTITY = "entity"
    EVENT = "event"
    DISPUTE = "dispute"


ENTITY_FACETS = {ArticleFacetField.ENTITY.value}
_INSTANT = timedelta(microseconds=1)

# An article's publication day in UTC, and the last day its precision leaves open: a
# `month` article dated 2021-10-01 may be from any day of October. A `range` keeps only its
# start (api/seeds' published interval), so its end is unknown: open.
_PUBLISHED = cast(func.timezone("UTC", Article.published_at), Date)
_SPANS = {
    TimePrecision.DAY: None,
    TimePrecision.MONTH: "1 month",
    TimePrecision.SEASON: "3 months",
    TimePrecision.YEAR: "1 year",
    TimePrecision.DECADE: "10 years",
    TimePrecision.CENTURY: "100 years",
}
_LAST_DAY = case(
    *(
        (
            Article.published_precision == precision,
            _PUBLISHED
            if span is None
            else cast(_PUBLISHED + literal_column(f"interval '{span} -1 day'"), Date),
        )
        for precision, span in _SPANS.items()
    ),
    else_=None,
)


@lru_cache(maxsize=256)
def _histogram_statement(shape: ListShape, interval: Interval) -> Select[Any]:
    items = select(
        Article.published_at.is_not(None).label("dated"),
        _PUBLISHED.label("earliest"),
        _LAST_DAY.label("latest"),
    ).where(*listed(shape))
    return histogram_statement(items, interval)


# One entity's articles counted ahead (db/models/rollup.py), per entity, field and key.
_ROLLUP = EntityArticleRollup.__table__
_ROLLED_UP_ENTITY = bindparam("rolled_up_entity", type_=UUID(as_uuid=True))


def _rolled_up(filters: ArticleFilters) -> bool:
    """Whether the rollup answers for `filters`: one entity's articles, no other filter."""
    return len(filters.entity_ids) == 1 and replace(filters, entity_ids=()) == ArticleFilters()


def _rollup_of(field: str) -> Select[Any]:
    """The rolled-up entity's nonzero counts of `field`: (key, articles)."""
    return select(_ROLLUP.c.key, _ROLLUP.c.articles).where(
        _ROLLUP.c.entity_id == _ROLLED_UP_ENTITY,
        _ROLLUP.c.field == field,
        _ROLLUP.c.articles > 0,
    )


@lru_cache(maxsize=8)
def _rolled_up_histogram_statement(interval: Interval) -> Select[Any]:
    """`_histogram_statement`'s for one entity, from its articles' publication bounds as the
    rollup holds them (`earliest/latest`, '' undated), each with how many articles have them."""
    published = _rollup_of("published").subquery("published")
    items = select(
        (published.c.key != "").label("dated"),
        cast(func.nullif(func.split_part(published.c.key, "/", 1), ""), Date).label("earliest"),
        cast(func.nullif(func.split_part(published.c.key, "/", 2), ""), Date).label("latest"),
        published.c.articles.label("n"),
    )
    return histogram_statement(items, interval)


async def article_histogram(
    session: AsyncSession, filters: ArticleFilters, interval: Interval
) -> Histogram:
    last = filters.published_before
    if _rolled_up(filters):
        statement = _rolled_up_histogram_statement(interval)
        parameters: dict[str, Any] = {"rolled_up_entity": filters.entity_ids[0]}
    else:
        statement = _histogram_statement(filters.shape(), interval)
        parameters = filters.parameters()
    return await fetch_histogram(
        session,
        statement,
        parameters,
        interval=interval,
        axis_from=filters.published_after.astimezone(UTC).date()
        if filters.published_after
        else None,
        # `published_before` is exclusive: the axis ends with the bucket of the instant before.
        axis_to=(last - _INSTANT).astimezone(UTC).date() if last is not None else None,
    )


def _without_own(filters: ArticleFilters, field: ArticleFacetField) -> ArticleFilters:
    """The filters a facet counts under: all but its own, unless its own values must all hold
    (`entity`: api/shared/facets.py)."""
    if field is ArticleFacetField.SOURCE:
        return replace(filters, source_id=None)
    if field is ArticleFacetField.LANGUAGE:
        return replace(filters, language=None)
    if field is ArticleFacetField.EVENT:
        return replace(filters, event_id=None)
    if field is ArticleFacetField.DISPUTE:
        return replace(filters, dispute_id=None)
    return filters


def _facet_of(found: Any, reported: Any, field: ArticleFacetField) -> Select[Any]:
    """The facet statement of `field` over `found` (the counted articles' `id`, `source_id`
    and `language`; a CTE, as it is read more than once) and `reported` (the events they
    report, `links.article_events(found)`, as a CTE the event and dispute facets share)."""
    if field is ArticleFacetField.SOURCE:
        source = Source.__table__
        return ranked(
            found.join(source, source.c.id == found.c.source_id),
            source.c.id,
            source.c.slug,
            source.c.name,
            func.count(),
        )
    if field is ArticleFacetField.LANGUAGE:
        # As the `language` filter compares it: case aside.
        value = func.lower(found.c.language)
        return ranked(found, value, value, value, func.count())
    counts = f"counts_{field.value}"
    if field is ArticleFacetField.ENTITY:
        # Each article's entities once, whatever the times it names one: a distinct scan of
        # the article's (article_id, entity_id, ...) index entries, per counted article, then
        # counted per entity; entities are read for the top counts only (`ranked_keys`).
        mention = Mention.__table__
        entity = Entity.__table__
        pairs = (
            select(mention.c.entity_id)
            # An ambiguous mention (no entity yet) names no value.
            .where(mention.c.article_id == found.c.id, mention.c.entity_id.is_not(None))
            .distinct()
            .lateral("pairs")
        )
        pairs_of = (
            select(pairs.c.entity_id).select_from(found).join(pairs, true()).subquery("named")
        )
        return ranked_keys(
            select(pairs_of.c.entity_id.label("key"), func.count().label("n")).group_by(
                pairs_of.c.entity_id
            ),
            entity,
            entity.c.slug,
            entity.c.name,
            cte=counts,
        )
    # The evidence of the counted articles only (not every article's links, then joined), as
    # distinct (article, event) or (article, dispute) pairs: the union's own.
    if field is ArticleFacetField.EVENT:
        event = Event.__table__
        return ranked_keys(
            select(reported.c.event_id.label("key"), func.count().label("n")).group_by(
                reported.c.event_id
            ),
            event,
            event.c.slug,
            event.c.title,
            cte=counts,
        )
    about = links.article_disputes(found, reported)
    dispute = Dispute.__table__
    return ranked_keys(
        select(about.c.dispute_id.label("key"), func.count().label("n")).group_by(
            about.c.dispute_id
        ),
        dispute,
        dispute.c.slug,
        dispute.c.title,
        cte=counts,
    )


@lru_cache(maxsize=512)
def _facets_statement(shape: ListShape, fields: tuple[ArticleFacetField, ...]) -> Select[Any]:
    """One row: each of `fields` as a JSON array column named after it (`ranked_array`), and
    `total`, how many articles the shape's conditions hold. The articles are found once (a
    MATERIALIZED CTE) for every facet of the statement, not once per facet."""
    found = (
        select(Article.id, Article.source_id, Article.language)
        .where(*listed(shape))
        .cte("found")
        .prefix_with("MATERIALIZED")
    )
    # Read by the event facet and by the dispute facet (through the disputes' events).
    reported = links.article_events(found).element.cte("reported").prefix_with("MATERIALIZED")
    columns: list[Any] = [
        *(ranked_array(_facet_of(found, reported, field)).label(field.value) for field in fields),
        select(func.count()).select_from(found).scalar_subquery().label("total"),
    ]
    return select(*columns)


# What a rolled-up key names, for the facets whose values are rows of a table.
_KEYED = {
    ArticleFacetField.SOURCE: (Source.__table__, "slug", "name"),
    ArticleFacetField.ENTITY: (Entity.__table__, "slug", "name"),
    ArticleFacetField.EVENT: (Event.__table__, "slug", "title"),
    ArticleFacetField.DISPUTE: (Dispute.__table__, "slug", "title"),
}


def _rolled_up_facet(field: ArticleFacetField) -> Select[Any]:
    """The facet statement of `field` (as `_facet_of`'s) for one entity, from the rollup."""
    rolled = _rollup_of(field.value).subquery(f"rolled_{field.value}")
    if field is ArticleFacetField.LANGUAGE:
        return ranked(rolled, rolled.c.key, rolled.c.key, rolled.c.key, func.sum(rolled.c.articles))
    table, slug, name = _KEYED[field]
    # Keys as the rollup's text: its index is in (count, key) order, and a uuid's text sorts
    # as the uuid does.
    return ranked_keys(
        select(rolled.c.key, rolled.c.articles.label("n")),
        table,
        table.c[slug],
        table.c[name],
        cte=f"counts_{field.value}",
    )


@lru_cache(maxsize=64)
def _rolled_up_facets_statement(fields: tuple[ArticleFacetField, ...]) -> Select[Any]:
    """`_facets_statement`'s row for one entity's articles, from the rollup: every field is
    counted under the same filter (the entity's own is kept), and `total` is how many of its
    articles there are, each counted once under `published`."""
    published = _rollup_of("published").subquery("published")
    total = select(cast(func.coalesce(func.sum(published.c.articles), 0), Integer))
    columns: list[Any] = [
        *(ranked_array(_rolled_up_facet(field)).label(field.value) for field in fields),
        total.scalar_subquery().label("total"),
    ]
    return select(*columns)


async def article_facets(
    session: AsyncSession, filters: ArticleFilters, fields: list[ArticleFacetField], limit: int
) -> tuple[list[Facet], int]:
    """The facets `fields` under `filters` (each without its own, as `_without_own` says), and
    how many articles the list holds under all of them. The facets counted under the same
    filters (all of them, when no filter of a field's own is used) come from one statement;
    one entity's facets, from its rollup."""
    if _rolled_up(filters):
        together = tuple(field for field in ArticleFacetField if field in fields)
        rows = await fetch_rows(
            session,
            _rolled_up_facets_statement(together),
            {"rolled_up_entity": filters.entity_ids[0], "facet_limit": limit},
            built_once=True,
        )
        found = {
            field: facet_of_array(rows[0][field.value], field=field.value, limit=limit)
            for field in together
        }
        return [found[field] for field in fields], rows[0]["total"]
    groups: dict[ArticleFilters, list[ArticleFacetField]] = {}
    for field in fields:
        groups.setdefault(_without_own(filters, field), []).append(field)
    found = {}
    total: int | None = None
    for counted_under, group in groups.items():
        # One statement per set of fields, whatever order they were asked in.
        together = tuple(field for field in ArticleFacetField if field in group)
        rows = await fetch_rows(
            session,
            _facets_statement(counted_under.shape(), together),
            {**counted_under.parameters(), "facet_limit": limit},
            built_once=True,
        )
        for field in together:
            found[field] = facet_of_array(rows[0][field.value], field=field.value, limit=limit)
        if counted_under == filters:
            total = rows[0]["total"]
    if total is None:
        total = await count_articles(session, filters)
    return [found[field] for field in fields], total
