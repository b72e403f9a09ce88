from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from api.articles import service as article_service
from api.articles import writes as article_writes
from api.articles.presenters import article_read, with_includes
from api.articles.schemas import (
    CREATE_EXAMPLES,
    UPDATE_EXAMPLES,
    ArticleCreate,
    ArticleInclude,
    ArticlePage,
    ArticleRead,
    ArticleSummary,
    ArticleUpdate,
    MentionPage,
    MentionRead,
)
from api.shared import idempotency
from api.shared.auth import WriteKey
from api.shared.batch import refuse_other_parameters
from api.shared.concurrency import IF_MATCH, OPTIONAL_IF_MATCH, claim, require_if_match
from api.shared.deps import SessionDep
from api.shared.errors import problem_responses
from api.shared.http_cache import json_with_etag
from api.shared.idempotency import IDEMPOTENCY_KEY
from api.shared.lookup import get_by_key, id_for_filter, ids_for_filter
from api.shared.openapi_links import created_links, updated_links
from api.shared.pagination import DEFAULT_LIMIT, keyset_for, lookup_response, page_response
from api.shared.params import Cursor, FullText, Limit, counted, list_parameters, lookup_keys
from api.shared.routing import ApiRoute
from api.shared.schemas import Timestamp
from db.models import Article, Dispute, Entity, Event, Source

router = APIRouter(prefix="/articles", tags=["articles"], route_class=ApiRoute)


async def _article_in_path(session: SessionDep, article: str) -> Article:
    return await get_by_key(session, Article, article, "article")


# For handlers with nothing else to check: api.shared.lookup says why.
ArticleInPath = Annotated[Article, Depends(_article_in_path)]


@router.get(
    "",
    response_model=ArticlePage,
    summary="List articles",
    responses=problem_responses(400),
    openapi_extra=list_parameters(lookup=True, csv=True),
)
async def list_articles(
    request: Request,
    session: SessionDep,
    q: Annotated[
        FullText | None,
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
    published_after: Annotated[Timestamp | None, Query(description="Inclusive, RFC 3339.")] = None,
    published_before: Annotated[Timestamp | None, Query(description="Exclusive, RFC 3339.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Articles, newest first; with `q`, the best full-text matches first (headline weighs
    more than summary, summary more than body), ranked among the 1,000 newest articles that
    match every filter: a word found in most of the archive still answers in milliseconds
    (and `total` is at most 1,000). With `id`, exactly the articles named."""
    ids = lookup_keys(request)
    count = counted(request)
    if ids is not None:
        refuse_other_parameters(request)
        found, missing = await article_service.articles_by_keys(session, ids)
        items = [ArticleSummary.model_validate(a) for a in found]
        return lookup_response(request, ArticlePage, items, missing, count=count, csv=True)
    keyset = keyset_for(request, article_service.ordering(q))
    after = keyset.start(cursor)
    source_id = await id_for_filter(session, Source, source, "source")
    entity_ids = await ids_for_filter(session, Entity, entity or [], "entity")
    event_id = await id_for_filter(session, Event, event, "event")
    dispute_id = await id_for_filter(session, Dispute, dispute, "dispute")
    articles, next_key, total = await article_service.list_articles(
        session,
        after=after,
        limit=limit,
        count=count,
        q=q,
        source_id=source_id,
        entity_ids=entity_ids,
        event_id=event_id,
        dispute_id=dispute_id,
        language=language,
        published_after=published_after,
        published_before=published_before,
    )
    items = [ArticleSummary.model_validate(a) for a in articles]
    return page_response(request, ArticlePage, items, keyset, next_key, total=total, csv=True)


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
    fields = await article_service.get_article(session, article)
    read = await with_includes(session, ArticleRead.model_validate(fields), include or [])
    return json_with_etag(request, read, exclude_unset=True, version=read.version)


@router.get(
    "/{article}/mentions",
    response_model=MentionPage,
    summary="Mentions in an article",
    responses=problem_responses(400, 404),
    openapi_extra=list_parameters(),
)
async def list_article_mentions(
    request: Request,
    row: ArticleInPath,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Every entity the article names, in body order (start, then end offset), a page at a
    time: all of them, where `include=mentions` embeds the first 1,000."""
    count = counted(request)
    keyset = keyset_for(request, article_service.IN_BODY_ORDER)
    mentions, next_key, total = await article_service.list_mentions(
        session,
        article_id=row.id,
        keyset=keyset,
        after=keyset.start(cursor),
        limit=limit,
        count=count,
    )
    items = [MentionRead.model_validate(m) for m in mentions]
    return page_response(request, MentionPage, items, keyset, next_key, total=total)


WRITE_ERRORS = problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 428)


@router.post(
    "",
    response_model=ArticleRead,
    status_code=201,
    dependencies=[IDEMPOTENCY_KEY],
    summary="Add an article",
    responses={
        **problem_responses(400, 401, 403, 409, 413, 422),
        **created_links(
            "article",
            reads=["get_article", "detect_article_mentions"],
            writes=["update_article", "delete_article"],
        ),
    },
)
async def create_article(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    article: Annotated[ArticleCreate, Body(openapi_examples=CREATE_EXAMPLES)],
) -> Response:
    """Store an article and, unless `detect_mentions` is false, every known entity name and
    alias found in its body (word boundaries respected, longest match first, case and
    accents ignored), returned as `mentions` with offsets and `method: gazetteer`. The same
    URL or the same normalized text as a stored article is a 409 naming it in `existing`.
    Send `Idempotency-Key` to make retries safe."""
    claim = await idempotency.begin(session, request, api_key, article)
    if isinstance(claim, Response):
        return claim
    row = await article_writes.create_article(session, data=article)
    read = await article_read(session, row, [ArticleInclude.MENTIONS])
    return await idempotency.created(
        session,
        request,
        claim,
        read,
        version=row.version,
        location=f"/v1/articles/{row.id}",
        exclude_unset=True,
    )


@router.patch(
    "/{article}",
    response_model=ArticleRead,
    dependencies=[IF_MATCH],
    summary="Update an article",
    responses={
        **WRITE_ERRORS,
        **updated_links(
            "article", reads=["get_article"], writes=["update_article", "delete_article"]
        ),
    },
)
async def update_article(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    article: str,
    changes: Annotated[ArticleUpdate, Body(openapi_examples=UPDATE_EXAMPLES)],
) -> Response:
    """Change the fields sent; `If-Match` is required. A new body re-runs mention detection,
    and is refused (409 `body_is_cited`) while evidence or curated mentions point into the
    old one."""
    row = await get_by_key(session, Article, article, "article")
    await claim(request, session, api_key, row, resource="article")
    row = await article_writes.update_article(session, article=row, data=changes)
    read = await article_read(session, row, [ArticleInclude.MENTIONS])
    return json_with_etag(request, read, exclude_unset=True, version=row.version)


@router.post(
    "/{article}/mentions/detect",
    response_model=ArticleRead,
    dependencies=[OPTIONAL_IF_MATCH],
    summary="Detect mentions again",
    responses=problem_responses(400, 401, 403, 404, 412),
)
async def detect_article_mentions(
    request: Request, session: SessionDep, api_key: WriteKey, row: ArticleInPath
) -> Response:
    """Scan the body again for every entity name and alias known now (after entities or
    aliases were added) and replace the article's gazetteer mentions; curated ones stay."""
    if request.headers.get("if-match") is not None:
        require_if_match(request, resource="article", version=row.version)
    row = await article_writes.redetect_mentions(session, article=row)
    read = await article_read(session, row, [ArticleInclude.MENTIONS])
    return json_with_etag(request, read, exclude_unset=True, version=row.version)


@router.delete(
    "/{article}",
    status_code=204,
    dependencies=[IF_MATCH],
    summary="Delete an article",
    responses=WRITE_ERRORS,
)
async def delete_article(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    article: str,
    cascade: Annotated[
        bool, Query(description="Also delete the evidence that cites the article.")
    ] = False,
) -> Response:
    """Delete an article with its mentions; `If-Match` is required. Refused (409) while
    evidence for events, statements or other facts cites it, unless `cascade=true`."""
    row = await get_by_key(session, Article, article, "article")
    await claim(request, session, api_key, row, resource="article", cascade=cascade)
    await article_writes.delete_article(session, article=row, cascade=cascade)
    return Response(status_code=204)
