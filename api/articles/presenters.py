"""Articles as the API shows them: an article read with what `include` embeds (mentions,
events, statements), from the row a write left or the fields a read fetched."""

from collections.abc import Sequence

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from api.articles import links
from api.articles import service as article_service
from api.articles.schemas import ArticleInclude, ArticleRead, ArticleSummary, MentionRead
from api.shared.candidates import candidates_of_article
from api.shared.evidence import evidence_for
from db.models import Article


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
