"""Creating, changing and deleting articles: duplicate detection, slugs and mentions."""

import re
import unicodedata
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.articles import service as article_service
from api.articles.schemas import ArticleCreate, ArticleUpdate
from api.shared.errors import FieldError, ProblemError
from api.shared.lookup import ids_for_filter
from api.shared.problems import ProblemCode
from api.shared.writes import flush_or_conflict, refuse_if_referenced
from db.checks import article_content_hash
from db.enums import MentionMethod, TimePrecision
from db.gazetteer import detect_mentions
from db.models import Article, Entity, EntityCandidate, Evidence, Mention, Source

REQUIRED_FIELDS = {"slug", "language", "body"}


def _slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _default_slug(source: Source, data: ArticleCreate, content_hash: str) -> str:
    day = data.published_at.date().isoformat() if data.published_at else None
    words = "-".join(_slugify(data.headline or data.body).split("-")[:8])
    # The hash prefix keeps two stories with the same headline on the same day apart.
    parts = [source.slug, day, words, content_hash[:6]]
    return "-".join(part for part in parts if part)[:120].strip("-")


async def _refuse_duplicate(
    session: AsyncSession, *, url: str | None, content_hash: str, exclude: Article | None = None
) -> None:
    clauses = [Article.content_hash == content_hash]
    if url is not None:
        clauses.append(Article.url == url)
    query = select(Article).where(or_(*clauses))
    if exclude is not None:
        query = query.where(Article.id != exclude.id)
    existing = await session.scalar(query.limit(1))
    if existing is not None:
        same = "URL" if url is not None and existing.url == url else "text"
        raise ProblemError(
            ProblemCode.DUPLICATE_ARTICLE,
            f"An article with the same {same} exists: {existing.slug!r}.",
            existing=f"/v1/articles/{existing.id}",
        )


async def create_article(session: AsyncSession, *, data: ArticleCreate) -> Article:
    [source_id] = await ids_for_filter(session, Source, [data.source], "source", location="body")
    source = await session.get(Source, source_id)
    assert source is not None
    content_hash = article_content_hash(data.body)
    await _refuse_duplicate(session, url=data.url, content_hash=content_hash)
    precision = data.published_precision or (TimePrecision.DAY if data.published_at else None)
    article = Article(
        slug=data.slug or _default_slug(source, data, content_hash),
        source_id=source.id,
        headline=data.headline,
        byline=data.byline,
        url=data.url,
        language=data.language,
        published_at=data.published_at,
        published_precision=precision,
        summary=data.summary,
        body=data.body,
        content_hash=content_hash,
    )
    session.add(article)
    # Unique slug/url/hash: a concurrent twin that won the race is a 409 too.
    await flush_or_conflict(session, resource="article")
    if data.detect_mentions:
        await detect_mentions(session, article=article)
    return article


async def _body_is_cited(session: AsyncSession, article: Article) -> dict[str, int]:
    evidence = await session.scalar(
        select(func.count()).select_from(Evidence).where(Evidence.article_id == article.id)
    )
    curated = await session.scalar(
        select(func.count())
        .select_from(Mention)
        .where(Mention.article_id == article.id, Mention.method == MentionMethod.CURATED)
    )
    return {"evidence items": evidence or 0, "curated mentions": curated or 0}


def _keep_precision_with_time(article: Article, changes: dict[str, Any]) -> None:
    """A published time and its precision come and go together (a check constraint holds
    them to it): fill in or clear the precision a change leaves out, refuse one without a time."""
    if "published_at" not in changes and "published_precision" not in changes:
        return
    published_at = changes.get("published_at", article.published_at)
    precision = changes.get("published_precision", article.published_precision)
    if published_at is None and changes.get("published_precision") is not None:
        raise ProblemError(
            ProblemCode.VALIDATION_ERROR,
            "Invalid request: published_precision.",
            status=422,
            errors=[
                FieldError(
                    location="body",
                    field="published_precision",
                    message="needs `published_at`: it is the precision of that time",
                    type="value_error",
                )
            ],
        )
    if published_at is None:
        changes["published_precision"] = None
    elif precision is None:
        changes["published_precision"] = TimePrecision.DAY


async def update_article(
    session: AsyncSession, *, article: Article, data: ArticleUpdate
) -> Article:
    changes = data.model_dump(exclude_unset=True)
    nulled = sorted(
        field for field in REQUIRED_FIELDS if field in changes and changes[field] is None
    )
    if nulled:
        raise ProblemError(
            ProblemCode.VALIDATION_ERROR,
            "Required fields cannot be null.",
            status=422,
            errors=[
                FieldError(location="body", field=f, message="cannot be null", type="null")
                for f in nulled
            ],
        )
    _keep_precision_with_time(article, changes)
    body_changes = "body" in changes and changes["body"] != article.body
    if body_changes:
        cited = await _body_is_cited(session, article)
        if any(cited.values()):
            listed = ", ".join(f"{n} {what}" for what, n in cited.items() if n)
            raise ProblemError(
                ProblemCode.BODY_IS_CITED,
                f"The body cannot change while {listed} point into it by character offsets.",
            )
        changes["content_hash"] = article_content_hash(changes["body"])
    if body_changes or "url" in changes:
        await _refuse_duplicate(
            session,
            url=changes.get("url", article.url),
            content_hash=changes.get("content_hash", article.content_hash),
            exclude=article,
        )
    for field, value in changes.items():
        setattr(article, field, value)
    await flush_or_conflict(session, resource="article")
    if body_changes:
        # Their offsets were into the old body: every candidate goes, rejected ones too.
        await session.execute(
            delete(EntityCandidate).where(EntityCandidate.article_id == article.id)
        )
        await detect_mentions(session, article=article)
    return article


async def redetect_mentions(session: AsyncSession, *, article: Article) -> Article:
    await detect_mentions(session, article=article)
    # The mentions are part of the article's representation: a new version, a new ETag.
    article.updated_at = func.now()
    await session.flush()
    return article


async def resolve_mention(
    session: AsyncSession, *, article: Article, mention: Mention, entity_key: str
) -> Mention:
    """Set the entity `mention` names (a curated mention now) and bump the article's version."""
    [entity_id] = await ids_for_filter(session, Entity, [entity_key], "entity", location="body")
    mention.entity_id = entity_id
    mention.possible_entity_ids = None
    mention.method = MentionMethod.CURATED
    mention.confidence = Decimal("1.000")
    # The same entity named at the same span already: a 409, not two mentions.
    await flush_or_conflict(session, resource="mention")
    article.updated_at = func.now()
    await session.flush()
    await session.refresh(article, ["version"])
    return await article_service.mention_with_entities(session, mention)


async def delete_article(session: AsyncSession, *, article: Article, cascade: bool) -> None:
    evidence = await session.scalar(
        select(func.count()).select_from(Evidence).where(Evidence.article_id == article.id)
    )
    if not cascade:
        refuse_if_referenced("article", {"evidence items citing it": evidence or 0})
    # Mentions and evidence go with it (ON DELETE CASCADE).
    await session.delete(article)
    await session.flush()
