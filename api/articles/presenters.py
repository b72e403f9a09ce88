"""Articles as the API shows them: an article read with what `include` embeds (mentions,
events, statements), from the row a write left or the fields a read fetched."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from api.articles import links
from api.articles import service as article_service
from api.articles.schemas import ArticleInclude, ArticleRead, ArticleSummary, MentionRead
from api.shared.candidates import candidates_of_article
from api.shared.evidence import evidence_for, evidence_values, parse_array
from api.shared.pagination import PlainItems
from db.models import Article


def article_summaries(articles: Sequence[dict[str, Any]]) -> list[ArticleSummary]:
    """List items for the rows of `list_articles` (the source came in the same statement)."""
    return [ArticleSummary.model_validate(article) for article in articles]


def article_summary_items(articles: Sequence[dict[str, Any]]) -> PlainItems:
    """The same list items as plain JSON values, for a page (`page_response`): the bytes of
    `article_summaries`' models without building them (tests/shared/test_plain_json.py)."""
    return PlainItems.of(articles, _summary_value, article_summaries)


def _summary_value(article: dict[str, Any]) -> dict[str, Any]:
    """One row of `list_articles` as `ArticleSummary` writes it, field for field."""
    source = article["source"]
    return {
        "id": article["id"],
        "slug": article["slug"],
        "source": {"id": source["id"], "slug": source["slug"], "name": source["name"]},
        "headline": article["headline"],
        "byline": article["byline"],
        "url": article["url"],
        "language": article["language"],
        "published_at": article["published_at"],
        "published_precision": article["published_precision"],
        "summary": article["summary"],
        "version": article["version"],
        "created_at": article["created_at"],
        "updated_at": article["updated_at"],
    }


def article_read_value(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields `get_article` read as `ArticleRead` writes them when nothing is included,
    field for field: the bytes of `article_read_model`'s `model_dump_json(exclude_unset=True)`
    without building it (tests/shared/test_plain_json.py)."""
    value = _summary_value(fields)
    value["body"] = fields["body"]
    value["content_hash"] = fields["content_hash"]
    value["evidence"] = evidence_values(fields["evidence"])
    return value


def article_read_model(fields: dict[str, Any]) -> ArticleRead:
    """The same fields as the model, for a read that embeds (`with_includes`)."""
    return ArticleRead.model_validate({**fields, "evidence": parse_array(fields["evidence"])})


async def article_read(
    session: AsyncSession, row: Article, include: Sequence[ArticleInclude]
) -> ArticleRead:
    """The response to a write, from the row it wrote."""
    if "source" in inspect(row).unloaded:
        # Set as loaded state, not as a change: a read must leave nothing for commit to flush.
        source = await article_service.get_source(session, source_id=row.source_id)
        set_committed_value(row, "source", source)
    evidence = await evidence_for(session, "subject_article_id", [row.id])
    read = ArticleRead(
        **ArticleSummary.model_validate(row).model_dump(),
        body=row.body,
        content_hash=row.content_hash,
        evidence=evidence[row.id],
    )
    return await with_includes(session, read, include)


async def with_includes(
    session: AsyncSession, read: ArticleRead, include: Sequence[ArticleInclude]
) -> ArticleRead:
    """`read` with what `include` asks for embedded, one query for each."""
    if ArticleInclude.MENTIONS in include:
        mentions, more = await article_service.get_mentions(session, article_id=read.id)
        read.mentions = [MentionRead.model_validate(m) for m in mentions]
        read.mentions_truncated = more
    if ArticleInclude.CANDIDATES in include:
        read.candidates = await candidates_of_article(session, article_id=read.id)
    if ArticleInclude.EVENTS in include:
        read.events = await links.events_of_article(session, article_id=read.id)
    if ArticleInclude.STATEMENTS in include:
        read.statements = await links.statements_of_article(session, article_id=read.id)
    return read
