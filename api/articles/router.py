from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.articles import links
from api.articles import service as article_service
from api.articles.schemas import ArticlePage, ArticleRead, ArticleSummary, MentionRead
from api.deps import SessionDep
from api.errors import problem_responses
from api.http_cache import json_with_etag
from api.lookup import get_by_key, ids_for_filter
from api.pagination import DEFAULT_LIMIT, keyset_for, page_response
from api.params import Cursor, Limit
from db.models import Article, Dispute, Entity, Event, Source

router = APIRouter(prefix="/articles", tags=["articles"])


class ArticleInclude(StrEnum):
    MENTIONS = "mentions"
    EVENTS = "events"
    STATEMENTS = "statements"


@router.get(
    "",
    response_model=ArticlePage,
    summary="List articles",
    responses=problem_responses(400),
)
async def list_articles(
    request: Request,
    session: SessionDep,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=500, description="Full-text search; ranks by relevance."),
    ] = None,
    source: Annotated[str | None, Query(description="Source id or slug.")] = None,
    entity: Annotated[
        list[str] | None,
        Query(max_length=20, description="Entity id or slug; repeat to require all of them."),
    ] = None,
    event: Annotated[
        str | None, Query(description="Event id or slug: articles reporting it.")
    ] = None,
    dispute: Annotated[
        str | None, Query(description="Dispute id or slug: articles about it.")
    ] = None,
    language: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", description="BCP 47.")
    ] = None,
    published_after: Annotated[datetime | None, Query(description="Inclusive, RFC 3339.")] = None,
    published_before: Annotated[datetime | None, Query(description="Exclusive, RFC 3339.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Articles, newest first; with `q`, the best full-text matches first (headline weighs
    more than summary, summary more than body)."""
    keyset = keyset_for(request, article_service.ordering(q))
    after = keyset.start(cursor)
    source_ids = await ids_for_filter(session, Source, [source], "source") if source else []
    entity_ids = await ids_for_filter(session, Entity, entity or [], "entity")
    event_ids = await ids_for_filter(session, Event, [event], "event") if event else []
    dispute_ids = await ids_for_filter(session, Dispute, [dispute], "dispute") if dispute else []
    articles, next_key = await article_service.list_articles(
        session,
        keyset=keyset,
        after=after,
        limit=limit,
        q=q,
        source_id=source_ids[0] if source_ids else None,
        entity_ids=entity_ids,
        event_id=event_ids[0] if event_ids else None,
        dispute_id=dispute_ids[0] if dispute_ids else None,
        language=language,
        published_after=published_after,
        published_before=published_before,
    )
    items = [ArticleSummary.model_validate(a) for a in articles]
    return page_response(request, ArticlePage, items, keyset, next_key)


@router.get(
    "/{article}",
    response_model=ArticleRead,
    summary="Get an article",
    responses=problem_responses(400, 404),
)
async def get_article(
    request: Request,
    session: SessionDep,
    article: str,
    include: Annotated[
        list[ArticleInclude] | None, Query(description="Related data to embed.")
    ] = None,
) -> Response:
    """One article with its body, by id or slug. `include` (repeatable) embeds `mentions` (the
    entities it names, with character offsets), `events` (those it reports) and `statements`
    (those it quotes or paraphrases)."""
    row = await get_by_key(session, Article, article, "article")
    row.source = await article_service.get_source(session, source_id=row.source_id)
    read = ArticleRead.model_validate(row)
    if include and ArticleInclude.MENTIONS in include:
        mentions = await article_service.get_mentions(session, article_id=row.id)
        read.mentions = [MentionRead.model_validate(m) for m in mentions]
    if include and ArticleInclude.EVENTS in include:
        read.events = await links.events_of_article(session, article_id=row.id)
    if include and ArticleInclude.STATEMENTS in include:
        read.statements = await links.statements_of_article(session, article_id=row.id)
    return json_with_etag(request, read, exclude_unset=True, version=row.version)
