"""One ranked list across entities, events, disputes and articles.

Entities match by name and alias (prefix, accents and typos forgiven, as /v1/entities?q=);
the rest by full text. Scores are put on one scale: a full-text rank is squashed into
[0, 1) by rank / (rank + 1), and a name match counts as 1 + its trigram similarity for a
prefix, its similarity alone otherwise, so an exact name outranks a passing mention.
"""

import functools
import html
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Select,
    String,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from api.articles import service as article_service
from api.entities.service import name_matches, name_parameters
from api.search.schemas import HitType
from api.shared.pagination import SortKey, fetch_count, fetch_prepared_page, page_statement
from db.models import Article, Dispute, Entity, Event

# Control characters cannot occur in stored text, so they mark matches unambiguously until the
# snippet is escaped and they become <mark> tags.
_START, _STOP = "\x02", "\x03"
_HEADLINE_OPTIONS = f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12, MaxFragments=1"


def _squash(rank: Any) -> Any:
    return cast(rank / (rank + 1), Float)


def _ranked(query: Select[Any], name: str) -> Any:
    """`query` (which selects a `rank`) as a subquery PostgreSQL keeps apart: merged into its
    parent, the rank expression would be copied into each place the score uses it, and
    ts_rank_cd ran twice per match (rank / (rank + 1)). OFFSET 0 is the fence."""
    return query.offset(literal_column("0")).subquery(name)


def _headline(document: Any, query: Any) -> Any:
    return func.ts_headline("english", document, query, _HEADLINE_OPTIONS)


# The search text, the parameter `q` of every statement here (and of `name_matches`).
_QUERY = func.websearch_to_tsquery("english", bindparam("q", type_=String))


def _kinds(types: Sequence[HitType]) -> tuple[HitType, ...]:
    """The kinds of hit asked for, in one order: one statement per set of kinds."""
    return tuple(sorted(set(types or HitType), key=list(HitType).index))


@functools.lru_cache(maxsize=32)
def hits(types: tuple[HitType, ...]) -> Any:
    """Every match with its score; snippets are made for the page only (`snippet`). Built once
    per set of kinds: the search text is a parameter."""
    query = _QUERY
    parts = []
    if HitType.ENTITY in types:
        matches = name_matches()
        parts.append(
            select(
                literal(HitType.ENTITY.value).label("type"),
                Entity.id,
                Entity.slug,
                Entity.name.label("title"),
                cast(matches.c.score, Float).label("score"),
            ).join(matches, matches.c.entity_id == Entity.id)
        )
    for hit_type, model in ((HitType.EVENT, Event), (HitType.DISPUTE, Dispute)):
        if hit_type in types:
            ranked = _ranked(
                select(
                    model.id,
                    model.slug,
                    model.title,
                    func.ts_rank_cd(model.search_vector, query).label("rank"),
                ).where(model.search_vector.op("@@")(query)),
                f"ranked_{hit_type.value}s",
            )
            parts.append(
                select(
                    literal(hit_type.value).label("type"),
                    ranked.c.id,
                    ranked.c.slug,
                    ranked.c.title.label("title"),
                    _squash(ranked.c.rank).label("score"),
                )
            )
    if HitType.ARTICLE in types:
        recent = article_service.newest_matches(
            [Article.search_vector.op("@@")(query)],
            [Article.id, Article.slug, Article.headline, Article.search_vector],
            bindparam("ranked", type_=Integer),
        ).subquery("recent_matches")
        # Ranked above the limit: only the newest RANKED_ARTICLES matches are ranked.
        ranked = _ranked(
            select(
                recent.c.id,
                recent.c.slug,
                recent.c.headline,
                func.ts_rank_cd(recent.c.search_vector, query).label("rank"),
            ),
            "ranked_articles",
        )
        parts.append(
            select(
                literal(HitType.ARTICLE.value).label("type"),
                ranked.c.id,
                ranked.c.slug,
                func.coalesce(ranked.c.headline, ranked.c.slug).label("title"),
                _squash(ranked.c.rank).label("score"),
            )
        )
    return union_all(*parts).subquery("hits")


def snippet(hits: Any) -> Any:
    """The hit's highlighted snippet. It sits in the outer select list, which PostgreSQL
    evaluates after the sort and limit: ts_headline runs for the page's rows, not for every
    match (thousands of article bodies for a common word)."""
    query = _QUERY

    def of(model: Any, text: Any) -> Any:
        return select(text).where(model.id == hits.c.id).scalar_subquery()

    def title_and_summary(model: Any) -> Any:
        return model.title + " " + func.coalesce(model.summary, "")

    return case(
        (
            hits.c.type == HitType.ENTITY.value,
            of(Entity, func.coalesce(Entity.description, Entity.name)),
        ),
        (
            hits.c.type == HitType.EVENT.value,
            of(Event, _headline(title_and_summary(Event), query)),
        ),
        (
            hits.c.type == HitType.DISPUTE.value,
            of(Dispute, _headline(title_and_summary(Dispute), query)),
        ),
        else_=of(Article, _headline(Article.body, query)),
    ).label("snippet")


def ordering(types: Sequence[HitType]) -> tuple[SortKey, ...]:
    found = hits(_kinds(types))
    return (
        SortKey(found.c.score, "float", True),
        SortKey(found.c.type, "str"),
        SortKey(found.c.id, "uuid"),
    )


@functools.lru_cache(maxsize=64)
def _page_statement(types: tuple[HitType, ...], cursor: bool) -> Select[Any]:
    found = hits(types)
    query = select(
        found.c.type, found.c.id, found.c.slug, found.c.title, found.c.score, snippet(found)
    )
    return page_statement(query, ordering(types), cursor=cursor)


@functools.lru_cache(maxsize=32)
def _count_statement(types: tuple[HitType, ...]) -> Select[Any]:
    return select(func.count().label("total")).select_from(hits(types))


async def search(
    session: AsyncSession,
    *,
    q: str,
    types: Sequence[HitType],
    after: Sequence[Any] | None,
    limit: int,
    count: bool = False,
) -> tuple[list[dict[str, Any]], list[Any] | None, int | None]:
    """One page of hits in `ordering(types)`: type, id, slug, title, score and snippet; and
    with `count`, how many hits there are (articles: at most the RANKED_ARTICLES ranked)."""
    kinds = _kinds(types)
    parameters: dict[str, Any] = name_parameters(q)
    if HitType.ARTICLE in kinds:
        parameters["ranked"] = article_service.RANKED_ARTICLES
    page, next_key = await fetch_prepared_page(
        session, _page_statement(kinds, after is not None), parameters, after=after, limit=limit
    )
    total = await fetch_count(session, _count_statement(kinds), parameters) if count else None
    return page, next_key, total


def mark(snippet: str) -> str:
    """Escape stored text for HTML, then turn the match markers into <mark> tags."""
    return html.escape(snippet).replace(_START, "<mark>").replace(_STOP, "</mark>")
