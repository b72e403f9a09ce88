"""One ranked list across entities, events, disputes and articles.

Entities match by name and alias (prefix, accents and typos forgiven, as /v1/entities?q=);
the rest by full text. Scores are put on one scale: a full-text rank is squashed into
[0, 1) by rank / (rank + 1), and a name match counts as 1 + its trigram similarity for a
prefix, its similarity alone otherwise, so an exact name outranks a passing mention.
"""

import html
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, cast, func, literal, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from api.entities.service import WORD_SIMILARITY_THRESHOLD, name_matches
from api.pagination import Keyset, SortKey, fetch_page
from api.search.schemas import HitType
from db.models import Article, Dispute, Entity, Event

# Control characters cannot occur in stored text, so they mark matches unambiguously until the
# snippet is escaped and they become <mark> tags.
_START, _STOP = "\x02", "\x03"
_HEADLINE_OPTIONS = f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12, MaxFragments=1"


def _squash(rank: Any) -> Any:
    return cast(rank / (rank + 1), Float)


def _headline(document: Any, query: Any) -> Any:
    return func.ts_headline("english", document, query, _HEADLINE_OPTIONS)


def hits(q: str, types: Sequence[HitType]) -> Any:
    query = func.websearch_to_tsquery("english", q)
    parts = []
    if HitType.ENTITY in types:
        matches = name_matches(q)
        parts.append(
            select(
                literal(HitType.ENTITY.value).label("type"),
                Entity.id,
                Entity.slug,
                Entity.name.label("title"),
                cast(matches.c.score, Float).label("score"),
                func.coalesce(Entity.description, Entity.name).label("snippet"),
            ).join(matches, matches.c.entity_id == Entity.id)
        )
    for hit_type, model, title, document in (
        (HitType.EVENT, Event, Event.title, Event.title + " " + func.coalesce(Event.summary, "")),
        (
            HitType.DISPUTE,
            Dispute,
            Dispute.title,
            Dispute.title + " " + func.coalesce(Dispute.summary, ""),
        ),
    ):
        if hit_type in types:
            vector = func.to_tsvector("english", document)
            parts.append(
                select(
                    literal(hit_type.value).label("type"),
                    model.id,
                    model.slug,
                    title.label("title"),
                    _squash(func.ts_rank_cd(vector, query)).label("score"),
                    _headline(document, query).label("snippet"),
                ).where(vector.op("@@")(query))
            )
    if HitType.ARTICLE in types:
        parts.append(
            select(
                literal(HitType.ARTICLE.value).label("type"),
                Article.id,
                Article.slug,
                func.coalesce(Article.headline, Article.slug).label("title"),
                _squash(func.ts_rank_cd(Article.search_vector, query)).label("score"),
                _headline(Article.body, query).label("snippet"),
            ).where(Article.search_vector.op("@@")(query))
        )
    return union_all(*parts).subquery("hits")


def ordering(hits: Any) -> tuple[SortKey, ...]:
    return (
        SortKey(hits.c.score, "float", True),
        SortKey(hits.c.type, "str"),
        SortKey(hits.c.id, "uuid"),
    )


async def search(
    session: AsyncSession,
    *,
    hits: Any,
    keyset: Keyset,
    after: Sequence[Any] | None,
    limit: int,
) -> tuple[list[Any], list[Any] | None]:
    await session.execute(
        text(f"SET LOCAL pg_trgm.word_similarity_threshold = {WORD_SIMILARITY_THRESHOLD}")
    )
    query = select(hits.c.type, hits.c.id, hits.c.slug, hits.c.title, hits.c.score, hits.c.snippet)
    rows, next_key = await fetch_page(
        session, query, keyset=keyset, after=after, limit=limit, whole_rows=True
    )
    return rows, next_key


def mark(snippet: str) -> str:
    """Escape stored text for HTML, then turn the match markers into <mark> tags."""
    return html.escape(snippet).replace(_START, "<mark>").replace(_STOP, "</mark>")
